"""``FaissStore``: the ``VectorStore`` protocol on FAISS, embedded; index files under
``<index>/vectors``, one per channel, and ``store.json`` naming the catalog generation they match
and the index type (another type than the profile asks: every channel is rebuilt). Which type a
channel is built as: ``store.policy``.

When ``auto`` compresses a channel to IVF-PQ its scores are approximate: alone they recall about
half of the true top 10 (1M x 512-d clustered), but the true top 10 lie within PQ's first 100 for
~98% of them. So when the store is given ``exact`` (a way to read the exact vectors: the library
passes the catalog's), each search re-scores its first ``max(k, REFINE_CANDIDATES)`` PQ
candidates with the exact vectors and returns exact scores; ``vectors`` reads them there too.
That costs no memory, the catalog being on disk anyway. A type that needs training (a factory
string such as ``IVF4096,PQ64x8``) starts as exact Flat and is built once the channel holds
enough vectors to train it (39 per k-means centroid, FAISS's own minimum; at least 10k).
Building holds the channel's vectors in memory once (read from the catalog or the index), and
logs a memory estimate first (``store.memory``).

Ids are catalog clip ids: IVF types hold them natively (with a hash map from id to vector for
``vectors``), every other type sits inside ``IndexIDMap2``. Flat-like and IVF types remove in
place; a type that cannot (HNSW, or anything whose inner ids FAISS would renumber) is rebuilt from
its own remaining vectors on ``remove``, which is correct but costs a full build per call: use
those types for append-mostly corpora.

``search(..., ids=...)`` searches only among those clip ids (a search filter). Up to
``EXACT_SUBSET`` of them that the channel holds are scored exactly from their stored vectors;
more go through a FAISS id selector, with IVF's ``nprobe`` (HNSW's ``efSearch``) divided by the
share of the channel they make up, so as many allowed vectors are examined as an unrestricted
search examines vectors (a filter allowing 10% of a channel probes 10x the lists, at most all).

Memory-mapped loading (``mmap``): ``True`` loads every saved index with FAISS's
``IO_FLAG_MMAP_IFC``, which maps the vectors or codes of Flat, IVF (its inverted lists), PQ, SQ
and HNSW (its storage; the graph is read into memory) types from the file instead of reading
them, so an index larger than RAM can be searched through the page cache; ``auto`` (default)
does it for index files larger than half the memory available when the store opens. A mapped
index is read-only (FAISS aborts the process on a write), so the first change to a mapped channel
reads it into memory first.

GPU: with ``gpu`` ``auto`` (default) and a FAISS built with CUDA (the ``[gpu]`` extra) seeing a
GPU, unrestricted searches run on a GPU copy of each channel, made on the first search after a
change; types FAISS cannot move (HNSW, for one) stay on the CPU, and so do restricted searches
(FAISS's GPU indexes take no id selector). ``gpu: true`` refuses to start without a GPU.

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
from typing import Literal

import faiss
import numpy as np

from mmretrieval.config import StoreConfig
from mmretrieval.errors import ConfigError
from mmretrieval.store import policy
from mmretrieval.store.memory import available_memory, estimate_bytes, gib
from mmretrieval.store.policy import AUTO, EXACT_LIMIT, MEMORY_BUDGET
from mmretrieval.store.protocol import ExactVectors, VectorStore

log = logging.getLogger(__name__)

STATE_FILE = "store.json"
REFINE_CANDIDATES = 100  # lossy channels: PQ candidates re-scored exactly per search, at least
TRAIN_SAMPLE = 100_000  # vectors k-means trains on (more when nlist needs 39 per centroid)
MIN_TRAIN = 10_000  # the fewest vectors a type that needs training is built from
EXACT_SUBSET = 8_192  # a search among at most this many ids scores them exactly
BITMAP_DENSITY = 256  # ids 1 in 256 dense or more: a bitmap selects them (else a hash set)
MMAP_SHARE = 0.5  # mmap auto: map index files larger than this share of available memory
GPU_MAX_K = 2048  # FAISS GPU indexes return at most this many neighbours


class FaissStore(VectorStore):
    """FAISS indexes under ``folder``; ``index_spec`` is ``auto`` or a FAISS factory string,
    either optionally followed by ``|`` and search parameters; ``exact`` reads exact vectors
    for channels with lossy codes (see the module docstring for all of it)."""

    def __init__(
        self,
        folder: Path,
        index_spec: str = AUTO,
        exact_limit: int = EXACT_LIMIT,
        memory_budget: int = MEMORY_BUDGET,
        mmap: bool | Literal["auto"] = "auto",
        gpu: bool | Literal["auto"] = "auto",
        exact: ExactVectors | None = None,
    ):
        self.folder = folder
        self.index_spec = index_spec
        self.factory, self.search_params = policy.split_spec(index_spec)
        self.exact_limit = exact_limit
        self.memory_budget = memory_budget
        self.mmap = mmap
        self.exact = exact
        self.gpu = _gpu_wanted(gpu)
        self.indexes: dict[str, faiss.Index] = {}
        self._sorted_ids: dict[str, np.ndarray] = {}  # per channel, rebuilt after a change
        self._held: dict[str, np.ndarray] = {}  # per channel, by id: whether it holds it (same)
        self._mapped: set[str] = set()  # channels memory-mapped from their (read-only) files
        self._dirty: set[str] = set()  # channels changed since loaded or saved
        self._gpu_indexes: dict[str, faiss.Index | None] = {}  # None: this type stays on CPU
        self._gpu_resources = None
        self.generation = -1
        state_path = folder / STATE_FILE
        if state_path.exists():
            state = json.loads(state_path.read_text())
            saved = policy.split_spec(state.get("index", AUTO))[0]
            if saved != self.factory:
                # another index type: a stale generation makes the owner rebuild every channel
                # from the catalog, so the files are not read (this type's search parameters
                # would not even fit them)
                log.info("store index %r is now %r: channels need a rebuild", saved, self.factory)
                return
            self.generation = state["generation"]
            files = state.get("files", {})
            consistent = True
            for channel in state["channels"]:
                path = self.folder / f"{channel}.faiss"
                before = _file_key(path)
                self.indexes[channel] = self._load(channel)
                consistent &= before == _file_key(path) == files.get(channel, before)
            if not consistent:  # a writer saved while we read: files and state may differ
                log.info("index files changed while loading: treating them as stale")
                self.generation = -1

    @classmethod
    def from_config(
        cls, folder: Path, config: StoreConfig, exact: ExactVectors | None = None
    ) -> FaissStore:
        return cls(
            folder,
            config.index,
            memory_budget=config.memory_budget,
            mmap=config.mmap,
            gpu=config.gpu,
            exact=exact,
        )

    def channels(self) -> list[str]:
        return sorted(self.indexes)

    def count(self, channel: str) -> int:
        index = self.indexes.get(channel)
        return index.ntotal if index is not None else 0

    def describe(self, channel: str) -> str:
        """The channel's index type, e.g. ``Flat``, ``IVF2048,Flat`` or ``IVF4096,PQ64x8``
        (empty when none)."""
        index = self.indexes.get(channel)
        if index is None:
            return ""
        inner = _inner(index)
        if isinstance(inner, faiss.IndexIVFFlat):
            return f"IVF{inner.nlist},Flat"
        if isinstance(inner, faiss.IndexIVFPQ):
            return f"IVF{inner.nlist},PQ{inner.pq.M}x{inner.pq.nbits}"
        return "Flat" if isinstance(inner, faiss.IndexFlat) else type(inner).__name__

    def mapped(self, channel: str) -> bool:
        """Whether the channel is searched memory-mapped from its file."""
        return channel in self._mapped

    def add(self, channel: str, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        ids = np.asarray(ids, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        index = self._writable(channel)
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
            self.indexes[channel] = self._build(channel, wanted, ids, vectors)
        self._changed(channel)

    def remove(self, ids: np.ndarray) -> None:
        if len(ids) == 0:
            return
        ids = np.asarray(ids, dtype=np.int64)
        for channel in list(self.indexes):
            if channel in self._mapped and not np.isin(ids, self._ids(channel)).any():
                continue  # nothing to remove: no need to read a mapped index into memory
            index = self._writable(channel)
            if isinstance(index, faiss.IndexIVF):  # a hash direct map removes by id array only
                removed = index.remove_ids(faiss.IDSelectorArray(ids))
            elif _removes_in_place(index):
                removed = index.remove_ids(faiss.IDSelectorBatch(ids))
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
                removed = int((~keep).sum())
            else:
                removed = 0
            if removed:
                self._changed(channel)

    def search(
        self, channel: str, query: np.ndarray, k: int, ids: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """The ``k`` nearest clip ids by inner product (cosine, vectors being normalised), only
        among ``ids`` when given."""
        index = self.indexes.get(channel)
        if index is None or index.ntotal == 0:
            return []
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        refine = self.exact is not None and _lossy(index)
        wanted = max(k, REFINE_CANDIDATES) if refine else k
        if ids is not None:
            # only the ids this channel holds: others would dilute the share IVF probes for
            ids = self._present(channel, np.unique(np.asarray(ids, dtype=np.int64)))
            if len(ids) == 0:
                return []
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            if ids is not None and (len(ids) <= EXACT_SUBSET or not _selects(index)):
                found, scores = self._scan(channel, query[0], wanted, ids)
            elif ids is not None:
                found, scores = _search_selected(index, query, min(wanted, len(ids)), ids)
            else:
                searcher = self._searcher(channel, wanted)
                scores, found = searcher.search(query, min(wanted, index.ntotal))
                found, scores = found[0], scores[0]
        finally:
            faiss.omp_set_num_threads(threads)
        keep = found >= 0
        found, scores = found[keep], scores[keep]
        if refine and len(found):
            found, exact = self.exact(channel, found)
            scores = exact @ query[0] if len(found) else np.zeros(0, dtype=np.float32)
            order = np.argsort(-scores, kind="stable")
            found, scores = found[order], scores[order]
        return list(zip(found[:k].tolist(), scores[:k].tolist(), strict=True))

    def vectors(self, channel: str, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The stored vectors of those ``ids`` that this channel holds: (found ids, matrix).
        Exact ones from ``exact`` where the index keeps lossy codes."""
        index = self.indexes.get(channel)
        if index is None or self.exact is None or not _lossy(index):
            return self._stored(channel, ids)
        found = self._present(channel, np.asarray(ids, dtype=np.int64))
        if len(found) == 0:
            return found, np.zeros((0, index.d), dtype=np.float32)
        return self.exact(channel, found)

    def drop(self, channel: str) -> None:
        self.indexes.pop(channel, None)
        self._sorted_ids.pop(channel, None)
        self._held.pop(channel, None)
        self._mapped.discard(channel)
        self._dirty.discard(channel)
        self._gpu_indexes.pop(channel, None)

    def close(self) -> None:
        """Nothing to release: the indexes (and their file maps) go with the object."""

    def save(self, generation: int) -> None:
        """Write every index changed since loaded or saved, then the state file naming the
        catalog generation they match."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for channel in sorted(self._dirty & self.indexes.keys()):  # not those emptied since
            _replace_atomically(
                self.folder / f"{channel}.faiss",
                lambda tmp, i=self.indexes[channel]: faiss.write_index(i, tmp),
            )
        self._dirty.clear()
        state = {
            "generation": generation,
            "channels": self.channels(),
            "index": self.index_spec,
            # which files these are: a reader that loads a file saved after the state it read
            # sees a different one, and rebuilds rather than mix two generations
            "files": {c: _file_key(self.folder / f"{c}.faiss") for c in self.channels()},
        }
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
            target = self._auto(dim, n)
            if index is None:
                return target
            if flat:
                return target if policy.outgrown(0, n, self.exact_limit) else None
            inner = _inner(index)
            if isinstance(inner, faiss.IndexIVFFlat):
                # rebuilt when grown, or as another type: over the memory budget (IVF-PQ) or,
                # after removals, back under the exact limit (Flat)
                grown = policy.outgrown(inner.nlist, n, self.exact_limit)
                return target if grown or not target.endswith(",Flat") else None
            return None  # lossy codes are not rebuilt from themselves (store.policy)
        need = _min_train(dim, self.factory)
        target = self.factory if n >= need else "Flat"
        if index is None:
            return target
        staging = flat and need > 0  # a Flat standing in until there is enough to train on
        return target if staging and target != "Flat" else None

    def _auto(self, dim: int, n: int) -> str:
        """The type ``auto`` gives a channel of ``n`` vectors of ``dim`` dimensions."""
        return policy.auto_factory(dim, n, self.exact_limit, self.memory_budget)

    def _build(
        self, channel: str, factory: str, ids: np.ndarray, vectors: np.ndarray
    ) -> faiss.Index:
        n, dim = vectors.shape
        estimate = estimate_bytes(factory, dim, n)
        available = available_memory()
        log.log(
            logging.WARNING if estimate > available else logging.INFO,
            "channel %s: building %s over %d x %d-d vectors, about %s in memory (%s available)",
            channel,
            factory,
            n,
            dim,
            gib(estimate),
            gib(available),
        )
        index = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
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
            ivf.nprobe = policy.nprobe_for(ivf.nlist)
        inner = _inner(index)
        if isinstance(inner, faiss.IndexHNSW):
            inner.hnsw.efSearch = policy.HNSW_EF_SEARCH
        if self.search_params and not isinstance(inner, faiss.IndexFlat):  # Flat: a stand-in
            faiss.ParameterSpace().set_index_parameters(index, self.search_params)

    # -- loading, mapping, GPU copies -----------------------------------------------------------

    def _load(self, channel: str) -> faiss.Index:
        path = self.folder / f"{channel}.faiss"
        size = path.stat().st_size
        mapped = self.mmap is True or (
            self.mmap == "auto" and size > MMAP_SHARE * available_memory()
        )
        index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC if mapped else 0)
        if mapped:
            self._mapped.add(channel)
            log.info("channel %s: %s memory-mapped from %s", channel, gib(size), path)
        self._set_search_params(index)
        return index

    def _writable(self, channel: str) -> faiss.Index | None:
        """The channel's index, read into memory first if it is mapped (mapped ones are
        read-only, and FAISS aborts on a write to one)."""
        index = self.indexes.get(channel)
        if channel in self._mapped:
            log.info("channel %s is memory-mapped: reading it into memory to change it", channel)
            index = faiss.deserialize_index(faiss.serialize_index(index))
            self._set_search_params(index)
            self.indexes[channel] = index
            self._mapped.discard(channel)
        return index

    def _changed(self, channel: str) -> None:
        self._sorted_ids.pop(channel, None)
        self._held.pop(channel, None)
        self._gpu_indexes.pop(channel, None)
        self._dirty.add(channel)

    def _searcher(self, channel: str, k: int) -> faiss.Index:
        """The index an unrestricted search of ``k`` runs on: a GPU copy where there is one."""
        index = self.indexes[channel]
        if not self.gpu or k > GPU_MAX_K:
            return index
        if channel not in self._gpu_indexes:
            self._gpu_indexes[channel] = self._to_gpu(channel, index)
        return self._gpu_indexes[channel] or index

    def _to_gpu(self, channel: str, index: faiss.Index) -> faiss.Index | None:
        try:
            if self._gpu_resources is None:
                self._gpu_resources = faiss.StandardGpuResources()
            copy = faiss.index_cpu_to_gpu(self._gpu_resources, 0, index)
            ivf = faiss.try_extract_index_ivf(index)
            if ivf is not None:
                faiss.GpuParameterSpace().set_index_parameter(copy, "nprobe", ivf.nprobe)
        except (AttributeError, RuntimeError) as exc:  # a type FAISS has no GPU version of
            log.info("channel %s: %s stays on the CPU (%s)", channel, self.describe(channel), exc)
            return None
        log.info("channel %s: searched on the GPU", channel)
        return copy

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

    def _present(self, channel: str, ids: np.ndarray) -> np.ndarray:
        """Those of ``ids`` the channel holds, in their order. Clip ids are dense (the catalog
        numbers clips in turn), so they are looked up in a table by id: a binary search of a
        query's ~400 candidates in a million sorted ids took ~0.4 ms (cache misses). Ids
        spread wider (over 8 per id held: other numbering) are searched for."""
        known = self._ids(channel)
        if len(known) == 0:
            return ids[:0]
        if channel not in self._held:  # an empty table: ids too spread out for one
            dense = known[-1] < 8 * len(known)
            table = np.zeros(int(known[-1]) + 1 if dense else 0, bool)
            if dense:
                table[known] = True
            self._held[channel] = table
        held = self._held[channel]
        if not len(held):
            positions = np.minimum(np.searchsorted(known, ids), len(known) - 1)
            return ids[known[positions] == ids]
        inside = ids[(ids >= 0) & (ids < len(held))]
        return inside[held[inside]]

    def _stored(self, channel: str, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(found ids, vectors) as the index itself holds them (approximations of lossy codes)."""
        index = self.indexes.get(channel)
        if index is None or len(ids) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        found = self._present(channel, np.asarray(ids, dtype=np.int64))
        if len(found) == 0:
            return found, np.zeros((0, index.d), dtype=np.float32)
        return found, index.reconstruct_batch(found)

    def _scan(
        self, channel: str, query: np.ndarray, k: int, ids: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The best ``k`` of ``ids`` by their stored vectors: (ids, scores), best first."""
        found, stored = self._stored(channel, ids)
        if len(found) == 0:
            return found, np.zeros(0, dtype=np.float32)
        scores = stored @ query
        order = np.argsort(-scores, kind="stable")[:k]
        return found[order], scores[order]

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


def _search_selected(
    index: faiss.Index, query: np.ndarray, k: int, ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """FAISS's own search restricted to ``ids`` (sorted, unique, all in the index): (ids,
    scores). IVF's ``nprobe`` and HNSW's ``efSearch`` grow by the inverse of the share of the
    index the ids make up, so as many allowed vectors are examined as unrestricted. The selector
    is a bitmap over ids up to the largest one when that is no bigger than a hash set of them
    (ids at least one in ``BITMAP_DENSITY`` dense, as catalog clip ids are), else the set."""
    top = int(ids[-1])
    if top < BITMAP_DENSITY * len(ids):
        bitmap = np.zeros(top // 8 + 1, dtype=np.uint8)
        np.bitwise_or.at(bitmap, ids // 8, (1 << (ids % 8)).astype(np.uint8))
        selector = faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap))
    else:
        selector = faiss.IDSelectorBatch(ids)
    inner = _inner(index)
    share = min(1.0, len(ids) / index.ntotal)
    if isinstance(index, faiss.IndexIVF):
        nprobe = min(index.nlist, math.ceil(index.nprobe / share))
        params = faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)
    elif isinstance(inner, faiss.IndexHNSW):
        ef = min(index.ntotal, math.ceil(inner.hnsw.efSearch / share))
        params = faiss.SearchParametersHNSW(sel=selector, efSearch=ef)
    else:
        params = faiss.SearchParameters(sel=selector)
    scores, found = index.search(query, k, params=params)
    return found[0], scores[0]


def _inner(index: faiss.Index) -> faiss.Index:
    return faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap2) else index


def _removes_in_place(index: faiss.Index) -> bool:
    # IndexIDMap2 renumbers its id map as if the inner index compacted, which only flat codes do
    return isinstance(index, faiss.IndexIDMap2) and isinstance(_inner(index), faiss.IndexFlatCodes)


def _selects(index: faiss.Index) -> bool:
    """Whether FAISS can restrict a search of ``index`` to given ids (``_search_selected``)."""
    inner = _inner(index)
    return isinstance(index, faiss.IndexIVF) or isinstance(
        inner, faiss.IndexFlatCodes | faiss.IndexHNSW
    )


def _lossy(index: faiss.Index) -> bool:
    """Whether the index keeps approximations of its vectors rather than the vectors."""
    inner = _inner(index)
    if isinstance(inner, faiss.IndexRefine):  # its candidates come back re-scored by its own
        inner = faiss.downcast_index(inner.refine_index)  # refine index (``...,RFlat``: exact)
    if isinstance(inner, faiss.IndexIVF):
        return not isinstance(inner, faiss.IndexIVFFlat)
    if isinstance(inner, faiss.IndexHNSW):
        inner = faiss.downcast_index(inner.storage)
    return not isinstance(inner, faiss.IndexFlat)


@functools.cache
def _min_train(dim: int, factory: str) -> int:
    """How many vectors a ``factory`` index needs to be trained on (0: none)."""
    probe = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
    if probe.is_trained:
        return 0
    ivf = faiss.try_extract_index_ivf(probe)
    return max(MIN_TRAIN, 39 * ivf.nlist) if ivf is not None else MIN_TRAIN


def _gpu_wanted(gpu: bool | Literal["auto"]) -> bool:
    """Whether to search on a GPU; ``True`` without one is a configuration error."""
    count = faiss.get_num_gpus() if hasattr(faiss, "get_num_gpus") else 0
    if gpu is True and count == 0:
        raise ConfigError(
            "store.gpu is true but FAISS sees no GPU: install mmretrieval[gpu] (faiss-gpu-cu12 "
            "in place of faiss-cpu) on a machine with CUDA, or set store.gpu to auto"
        )
    return gpu is not False and count > 0


def _file_key(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_ino, stat.st_size, stat.st_mtime_ns]


def _replace_atomically(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(str(tmp))
    os.replace(tmp, path)
