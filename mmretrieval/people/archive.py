"""The people of a whole archive: every clip's voice and face vectors grouped into persons,
so a hit says who speaks (``voice:3``, or the name given to that voice) and who is on screen
(``face:2``) in it.

The groups are recomputed from the catalog when it changes (one pass of leader clustering in
clip id order) and kept until the next change. A name is kept as the person's mean vector, not
as a group number, so it outlives re-indexing: a group takes the name whose vector it matches.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from mmretrieval import channels
from mmretrieval.embed import mean_direction
from mmretrieval.errors import ConfigError
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

    def refresh(self) -> None:
        """Cluster again on next use (after a name was given)."""
        self._labels, self._generation = {}, None

    def members(self, label: str) -> tuple[str, list[int], np.ndarray]:
        """The channel, clip ids and mean vector of the person ``label`` (``voice:3``, a name)."""
        found = [
            (channel, clip_id)
            for channel in PERSON_CHANNELS
            for clip_id, given in self._labels_of(channel).items()
            if given == label
        ]
        if not found:
            known = ", ".join(p.label for p in self.persons()) or "none (people profile?)"
            raise ConfigError(f"no voice or face {label!r} in this index; it has {known}")
        channel = found[0][0]
        ids = [clip_id for c, clip_id in found if c == channel]
        _, vectors = self.catalog.vector_matrix(channel, np.asarray(ids, dtype=np.int64))
        return channel, ids, mean_direction(vectors)

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
        if channel not in self.same:  # not clustered: no labels (and no catalog read)
            return {}
        if self.catalog.generation != self._generation:
            self._labels, self._generation = {}, self.catalog.generation
        if channel not in self._labels:
            self._labels[channel] = self._cluster(channel)
        return self._labels[channel]

    def _cluster(self, channel: str) -> dict[int, str]:
        ids, vectors = self.catalog.channel_vectors(channel)
        if len(ids) == 0:
            return {}
        groups = leader(vectors, self.same[channel])
        names = self.catalog.person_names(channel)
        label = {}
        for n in range(int(groups.max()) + 1):
            centre = mean_direction(vectors[groups == n])
            scores = {name: float(v @ centre) for name, v in names.items()}
            best = max(scores, key=scores.get, default=None)
            named = best is not None and scores[best] >= self.same[channel]
            label[n] = best if named else f"{channel}:{n + 1}"
        return {int(i): label[int(n)] for i, n in zip(ids, groups, strict=True)}
