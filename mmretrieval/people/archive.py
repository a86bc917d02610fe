"""The people of a whole archive: every clip's voice and face vectors grouped into persons,
so a hit says who speaks (``voice:3``) and who is on screen (``face:2``) in it.

The groups are recomputed from the catalog when it changes (one pass of leader clustering in
clip id order) and kept until the next change.
"""

from __future__ import annotations

from mmretrieval import channels
from mmretrieval.people.clusters import leader
from mmretrieval.store.catalog import Catalog

PERSON_CHANNELS = (channels.VOICE, channels.FACE)


class ArchivePeople:
    """Clip id -> person label per biometric channel; ``same`` is the cosine above which two
    clips' vectors are one person, per channel (channels without one are not labelled)."""

    def __init__(self, catalog: Catalog, same: dict[str, float]):
        self.catalog = catalog
        self.same = same
        self._labels: dict[str, dict[int, str]] = {}
        self._generation: int | None = None

    def label(self, channel: str, clip_id: int) -> str | None:
        """``voice:N`` / ``face:N`` of the clip (N counts from 1), None if it has no vector."""
        if self.catalog.generation != self._generation:
            self._labels, self._generation = {}, self.catalog.generation
        if channel not in self._labels:
            self._labels[channel] = self._cluster(channel)
        return self._labels[channel].get(clip_id)

    def _cluster(self, channel: str) -> dict[int, str]:
        if channel not in self.same:
            return {}
        ids, vectors = self.catalog.channel_vectors(channel)
        if len(ids) == 0:
            return {}
        labels = leader(vectors, self.same[channel])
        return {int(i): f"{channel}:{n + 1}" for i, n in zip(ids, labels, strict=True)}
