"""Vector indexes, one per channel (e.g. ``speech`` and ``ocr`` in the ``text`` space).

``VectorStore`` is what the rest of the code uses; ``FaissStore`` is the embedded default. The
indexes are derived data: the catalog holds every vector, so a store whose saved generation
differs from the catalog's is rebuilt from it (after a crash, or an index type change).

Index choice (``index_spec``, the profile's ``store.index``):

- ``auto`` (default): a channel of up to ``exact_limit`` (100k) vectors is an exact ``Flat`` scan.
  Above that it is ``IVF{nlist},Flat`` with ``nlist`` the power of two nearest ``2 * sqrt(n)``
  (2048 at 1M), k-means trained on a sample of up to 100k of its vectors, searched with
  ``nprobe = nlist / 64``. Measured on 1M x 512-d clustered vectors (``benchmarks/index_bench.py``):
  recall@10 1.0 against exact search at about 3 ms per query on 2 cores, where HNSW
  (``HNSW32,Flat``) takes minutes to build, recalls less at equal latency and cannot remove
  vectors. Uniform random vectors, which have no clusters for IVF to use, recall only 0.07 at
  that nprobe; embeddings of real media are clustered, but a corpus that is not needs a larger
  ``nprobe`` (``auto|nprobe=...``) or exact ``Flat``.
- Growth: when an ``add`` takes an ``auto`` channel over ``exact_limit``, the channel is rebuilt
  right away from its own vectors (read back from the index) as IVF, and again whenever it holds
  more than ``nlist ** 2`` vectors (4x the size its ``nlist`` suits: at 262k, 1.05M, 4.2M...), so
  lists stay short. Removals never turn a channel back into Flat; ``rebuild`` (from the catalog)
  picks the type for the size it is given.
- Any FAISS factory string, e.g. ``HNSW32,Flat`` or ``IVF4096,PQ64x8,RFlat``. A type that needs
  training starts as exact Flat and is built once the channel holds enough vectors to train it
  (39 per k-means centroid, FAISS's own minimum; at least 10k).
- Search-time parameters: append ``|`` and a FAISS ``ParameterSpace`` string, e.g.
  ``auto|nprobe=64`` or ``HNSW32,Flat|efSearch=256``. Unset, IVF types search ``nlist / 64``
  lists and HNSW types use ``efSearch=128``. Changing them needs no rebuild.

Ids are catalog clip ids: IVF types hold them natively (with a hash map from id to vector for
``vectors``), every other type sits inside ``IndexIDMap2``. Flat-like and IVF types remove in
place; a type that cannot (HNSW, or anything whose inner ids FAISS would renumber) is rebuilt from
its own remaining vectors on ``remove``, which is correct but costs a full build per call: use
those types for append-mostly corpora.

``search`` takes one query and runs it on one OpenMP thread, restoring the caller's setting after
(the setting is per calling thread, so concurrent searches do not race): on the 2-core machine an
exact scan of one query was ~14% faster on one thread than on two (FAISS splits work over queries,
and the idle second thread only competes for the cores), IVF the same either way.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
from pathlib import Path
from typing import Protocol

import faiss
import numpy as np

log = logging.getLogger(__name__)

STATE_FILE = "store.json"
AUTO = "auto"
EXACT_LIMIT = 100_000  # auto: exact Flat up to this many vectors per channel
TRAIN_SAMPLE = 100_000  # vectors k-means trains on (more when nlist needs 39 per centroid)
MIN_TRAIN = 10_000  # the fewest vectors a type that needs training is built from
NPROBE_FRACTION = 64  # IVF searches nlist / 64 lists unless told otherwise
HNSW_EF_SEARCH = 128


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
    """FAISS indexes under ``folder``; ``index_spec`` is ``auto`` or a FAISS factory string,
    either optionally followed by ``|`` and search parameters (see the module docstring)."""

    def __init__(self, folder: Path, index_spec: str = AUTO, exact_limit: int = EXACT_LIMIT):
        self.folder = folder
        self.index_spec = index_spec
        self.factory, self.search_params = _parse_spec(index_spec)
        self.exact_limit = exact_limit
        self.indexes: dict[str, faiss.Index] = {}
        self._sorted_ids: dict[str, np.ndarray] = {}  # per channel, rebuilt after a change
        self.generation = -1
        state_path = folder / STATE_FILE
        if state_path.exists():
            state = json.loads(state_path.read_text())
            saved = _parse_spec(state.get("index", AUTO))[0]
            # another index type: report a stale generation so the owner rebuilds every channel
            self.generation = state["generation"] if saved == self.factory else -1
            if saved != self.factory:
                log.info("store index %r is now %r: channels need a rebuild", saved, self.factory)
            for channel in state["channels"]:
                index = faiss.read_index(str(folder / f"{channel}.faiss"))
                self._set_search_params(index)
                self.indexes[channel] = index

    def channels(self) -> list[str]:
        return sorted(self.indexes)

    def count(self, channel: str) -> int:
        index = self.indexes.get(channel)
        return index.ntotal if index is not None else 0

    def describe(self, channel: str) -> str:
        """The channel's index type, e.g. ``Flat`` or ``IVF2048,Flat`` (empty when none)."""
        index = self.indexes.get(channel)
        if index is None:
            return ""
        inner = _inner(index)
        if isinstance(inner, faiss.IndexIVFFlat):
            return f"IVF{inner.nlist},Flat"
        return "Flat" if isinstance(inner, faiss.IndexFlat) else type(inner).__name__

    def add(self, channel: str, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        ids = np.asarray(ids, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        index = self.indexes.get(channel)
        wanted = self._wanted(vectors.shape[1], self.count(channel) + len(ids), index)
        if wanted is None:
            index.add_with_ids(vectors, ids)
        else:
            if index is not None:
                log.info(
                    "channel %s: %s -> %s at %d vectors",
                    channel,
                    self.describe(channel),
                    wanted,
                    index.ntotal + len(ids),
                )
                old_ids, old_vectors = self._contents(channel)
                ids = np.concatenate([old_ids, ids])
                vectors = np.concatenate([old_vectors, vectors])
            self.indexes[channel] = self._build(wanted, ids, vectors)
        self._sorted_ids.pop(channel, None)

    def remove(self, ids: np.ndarray) -> None:
        if len(ids) == 0:
            return
        ids = np.asarray(ids, dtype=np.int64)
        for channel, index in list(self.indexes.items()):
            if isinstance(index, faiss.IndexIVF):  # a hash direct map removes by id array only
                index.remove_ids(faiss.IDSelectorArray(ids))
            elif _removes_in_place(index):
                index.remove_ids(faiss.IDSelectorBatch(ids))
            elif np.isin(ids, self._ids(channel)).any():
                old_ids, old_vectors = self._contents(channel)
                keep = ~np.isin(old_ids, ids)
                log.info(
                    "channel %s: rebuilding %s without %d removed vectors",
                    channel,
                    self.describe(channel),
                    int((~keep).sum()),
                )
                self.drop(channel)
                self.add(channel, old_ids[keep], old_vectors[keep])
        self._sorted_ids.clear()

    def search(self, channel: str, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest clip ids by inner product (cosine, vectors being normalised)."""
        index = self.indexes.get(channel)
        if index is None or index.ntotal == 0:
            return []
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            scores, ids = index.search(query, min(k, index.ntotal))
        finally:
            faiss.omp_set_num_threads(threads)
        pairs = zip(ids[0].tolist(), scores[0].tolist(), strict=True)
        return [(i, s) for i, s in pairs if i >= 0]

    def vectors(self, channel: str, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The stored vectors of those ``ids`` that this channel holds: (found ids, matrix)."""
        index = self.indexes.get(channel)
        if index is None or len(ids) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        known = self._ids(channel)
        ids = np.asarray(ids, dtype=np.int64)
        positions = np.minimum(np.searchsorted(known, ids), max(len(known) - 1, 0))
        found = ids[known[positions] == ids] if len(known) else ids[:0]
        if len(found) == 0:
            return found, np.zeros((0, index.d), dtype=np.float32)
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

    # -- index types ----------------------------------------------------------------------------

    def _wanted(self, dim: int, n: int, index: faiss.Index | None) -> str | None:
        """The factory string a channel about to hold ``n`` vectors is to be (re)built as, or
        None to add to ``index`` as it is."""
        flat = index is not None and isinstance(_inner(index), faiss.IndexFlat)
        if self.factory == AUTO:
            approximate = f"IVF{nlist_for(n)},Flat"
            if index is None:
                return "Flat" if n <= self.exact_limit else approximate
            if flat:
                return None if n <= self.exact_limit else approximate
            ivf = faiss.try_extract_index_ivf(index)
            grown = ivf is not None and n > ivf.nlist**2  # 4x what 2 * sqrt(n) lists suit
            return approximate if grown else None
        need = _min_train(dim, self.factory)
        target = self.factory if n >= need else "Flat"
        if index is None:
            return target
        staging = flat and need > 0  # a Flat standing in until there is enough to train on
        return target if staging and target != "Flat" else None

    def _build(self, factory: str, ids: np.ndarray, vectors: np.ndarray) -> faiss.Index:
        index = faiss.index_factory(vectors.shape[1], factory, faiss.METRIC_INNER_PRODUCT)
        if not index.is_trained:
            ivf = faiss.try_extract_index_ivf(index)
            size = max(TRAIN_SAMPLE, 39 * ivf.nlist) if ivf is not None else TRAIN_SAMPLE
            sample = vectors
            if len(vectors) > size:
                rng = np.random.default_rng(0)
                sample = vectors[np.sort(rng.choice(len(vectors), size, replace=False))]
            index.train(sample)
        if isinstance(index, faiss.IndexIVF):
            index.set_direct_map_type(faiss.DirectMap.Hashtable)
        else:
            index = faiss.IndexIDMap2(index)
        self._set_search_params(index)
        index.add_with_ids(vectors, ids)
        return index

    def _set_search_params(self, index: faiss.Index) -> None:
        ivf = faiss.try_extract_index_ivf(index)
        if ivf is not None:
            ivf.nprobe = max(1, ivf.nlist // NPROBE_FRACTION)
        inner = _inner(index)
        if isinstance(inner, faiss.IndexHNSW):
            inner.hnsw.efSearch = HNSW_EF_SEARCH
        if self.search_params:
            faiss.ParameterSpace().set_index_parameters(index, self.search_params)

    # -- contents -------------------------------------------------------------------------------

    def _ids(self, channel: str) -> np.ndarray:
        """The sorted ids a channel holds (cached until it changes)."""
        if channel not in self._sorted_ids:
            index = self.indexes[channel]
            if isinstance(index, faiss.IndexIVF):
                lists = index.invlists
                parts = [
                    faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
                    for i in range(index.nlist)
                    if lists.list_size(i)
                ]
                found = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
            else:
                found = faiss.vector_to_array(index.id_map)
            self._sorted_ids[channel] = np.sort(found)
        return self._sorted_ids[channel]

    def _contents(self, channel: str) -> tuple[np.ndarray, np.ndarray]:
        """Every (id, vector) of a channel, read back from its index."""
        index = self.indexes[channel]
        if isinstance(index, faiss.IndexIVF):
            ids = self._ids(channel)
            if len(ids) == 0:
                return ids, np.zeros((0, index.d), dtype=np.float32)
            return ids, index.reconstruct_batch(ids)
        inner = _inner(index)
        return faiss.vector_to_array(index.id_map), inner.reconstruct_n(0, inner.ntotal)


def _parse_spec(spec: str) -> tuple[str, str]:
    factory, _, params = spec.partition("|")
    return factory.strip() or AUTO, params.strip()


def _inner(index: faiss.Index) -> faiss.Index:
    return faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap2) else index


def _removes_in_place(index: faiss.Index) -> bool:
    # IndexIDMap2 renumbers its id map as if the inner index compacted, which only flat codes do
    return isinstance(index, faiss.IndexIDMap2) and isinstance(_inner(index), faiss.IndexFlatCodes)


def nlist_for(n: int) -> int:
    """The IVF list count ``auto`` builds a channel of ``n`` vectors with."""
    return 2 ** round(math.log2(2 * math.sqrt(n)))


@functools.cache
def _min_train(dim: int, factory: str) -> int:
    """How many vectors a ``factory`` index needs to be trained on (0: none)."""
    probe = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
    if probe.is_trained:
        return 0
    ivf = faiss.try_extract_index_ivf(probe)
    return max(MIN_TRAIN, 39 * ivf.nlist) if ivf is not None else MIN_TRAIN


def _replace_atomically(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(str(tmp))
    os.replace(tmp, path)
