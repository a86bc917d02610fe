"""Vector indexes, one per channel (e.g. ``speech`` and ``ocr`` in the ``text`` space).

``VectorStore`` is what the rest of the code uses; ``FaissStore`` is the embedded default. The
indexes are derived data: the catalog holds every vector, so a store whose saved generation
differs from the catalog's is rebuilt from it (after a crash, or an index type change).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Protocol

import faiss
import numpy as np

log = logging.getLogger(__name__)

STATE_FILE = "store.json"


class VectorStore(Protocol):
    generation: int

    def channels(self) -> list[str]: ...

    def add(self, channel: str, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    def remove(self, ids: np.ndarray) -> None: ...

    def search(self, channel: str, query: np.ndarray, k: int) -> list[tuple[int, float]]: ...

    def vectors(self, channel: str, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def rebuild(self, channel: str, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    def save(self, generation: int) -> None: ...


class FaissStore:
    """FAISS indexes under ``folder``; ``index_spec`` is ``auto`` or a FAISS factory string."""

    def __init__(self, folder: Path, index_spec: str = "auto"):
        self.folder = folder
        self.index_spec = index_spec
        self.indexes: dict[str, faiss.Index] = {}
        self._sorted_ids: dict[str, np.ndarray] = {}  # per channel, rebuilt after a change
        self.generation = -1
        state_path = folder / STATE_FILE
        if state_path.exists():
            state = json.loads(state_path.read_text())
            self.generation = state["generation"]
            for channel in state["channels"]:
                self.indexes[channel] = faiss.read_index(str(folder / f"{channel}.faiss"))

    def channels(self) -> list[str]:
        return sorted(self.indexes)

    def count(self, channel: str) -> int:
        index = self.indexes.get(channel)
        return index.ntotal if index is not None else 0

    def add(self, channel: str, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if channel not in self.indexes:
            self.indexes[channel] = self._new_index(vectors.shape[1], vectors)
        self.indexes[channel].add_with_ids(vectors, np.asarray(ids, dtype=np.int64))
        self._sorted_ids.pop(channel, None)

    def remove(self, ids: np.ndarray) -> None:
        if len(ids) == 0:
            return
        selector = faiss.IDSelectorBatch(np.asarray(ids, dtype=np.int64))
        for index in self.indexes.values():
            index.remove_ids(selector)
        self._sorted_ids.clear()

    def search(self, channel: str, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest clip ids by inner product (cosine, vectors being normalised)."""
        index = self.indexes.get(channel)
        if index is None or index.ntotal == 0:
            return []
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        scores, ids = index.search(query, min(k, index.ntotal))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def vectors(self, channel: str, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The stored vectors of those ``ids`` that this channel holds: (found ids, matrix)."""
        index = self.indexes.get(channel)
        if index is None or len(ids) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        if channel not in self._sorted_ids:
            self._sorted_ids[channel] = np.sort(faiss.vector_to_array(index.id_map))
        known = self._sorted_ids[channel]
        ids = np.asarray(ids, dtype=np.int64)
        positions = np.minimum(np.searchsorted(known, ids), max(len(known) - 1, 0))
        found = ids[known[positions] == ids] if len(known) else ids[:0]
        return found, index.reconstruct_batch(found)

    def rebuild(self, channel: str, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Replace one channel's index with one built from scratch over ``vectors``."""
        self.drop(channel)
        if len(ids):
            self.add(channel, ids, vectors)

    def drop(self, channel: str) -> None:
        self.indexes.pop(channel, None)
        self._sorted_ids.pop(channel, None)

    def save(self, generation: int) -> None:
        """Write every index, then the state file naming the catalog generation they match."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for channel, index in self.indexes.items():
            _replace_atomically(
                self.folder / f"{channel}.faiss", lambda tmp, i=index: faiss.write_index(i, tmp)
            )
        state = {"generation": generation, "channels": self.channels(), "index": self.index_spec}
        _replace_atomically(
            self.folder / STATE_FILE, lambda tmp: Path(tmp).write_text(json.dumps(state, indent=1))
        )
        self.generation = generation

    def _new_index(self, dim: int, sample: np.ndarray) -> faiss.Index:
        spec = "Flat" if self.index_spec == "auto" else self.index_spec
        index = faiss.index_factory(dim, spec, faiss.METRIC_INNER_PRODUCT)
        if not index.is_trained:
            index.train(sample)
        return faiss.IndexIDMap2(index)


def _replace_atomically(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(str(tmp))
    os.replace(tmp, path)
