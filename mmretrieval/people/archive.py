"""The people of a whole archive: every clip's voice and face vectors grouped into persons,
so a hit says who speaks (``voice:3``) and who is on screen (``face:2``) in it.

The groups are recomputed from the catalog when it changes (one pass of leader clustering in
clip id order) and kept until the next change.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from mmretrieval import channels
from mmretrieval.people.clusters import leader
from mmretrieval.spans import merge
from mmretrieval.store.catalog import Catalog

PERSON_CHANNELS = (channels.VOICE, channels.FACE)


@dataclass(frozen=True)
class Person:
    """One voice or face of the archive: its label, how many clips hold it, the seconds of
    footage those clips cover (overlaps counted once), and one clip to look at."""

    label: str
    clips: int
    seconds: float
    sample_path: str
    sample_start: float


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
        return self._labels_of(channel).get(clip_id)

    def persons(self) -> list[Person]:
        """Every voice and face of the archive, most clips first."""
        found = []
        for channel in PERSON_CHANNELS:
            members: dict[str, list[int]] = defaultdict(list)
            for clip_id, label in self._labels_of(channel).items():
                members[label].append(clip_id)
            for label, ids in members.items():
                rows = sorted(self.catalog.clips(ids).values(), key=lambda r: (r.path, r.start))
                by_file: dict[int, list] = defaultdict(list)
                for row in rows:
                    by_file[row.file_id].append(row)
                seconds = sum(s.duration for spans in by_file.values() for s in merge(spans))
                found.append(Person(label, len(rows), seconds, rows[0].path, rows[0].start))
        return sorted(found, key=lambda p: (-p.clips, p.label))

    def _labels_of(self, channel: str) -> dict[int, str]:
        """Clip id -> label, clustered again when the catalog has changed since."""
        if self.catalog.generation != self._generation:
            self._labels, self._generation = {}, self.catalog.generation
        if channel not in self._labels:
            self._labels[channel] = self._cluster(channel)
        return self._labels[channel]

    def _cluster(self, channel: str) -> dict[int, str]:
        if channel not in self.same:
            return {}
        ids, vectors = self.catalog.channel_vectors(channel)
        if len(ids) == 0:
            return {}
        labels = leader(vectors, self.same[channel])
        return {int(i): f"{channel}:{n + 1}" for i, n in zip(ids, labels, strict=True)}
