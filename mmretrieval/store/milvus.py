"""``MilvusStore``: the ``VectorStore`` contract on Milvus: a server, or an embedded Milvus Lite.

Layout: one collection per channel, named ``<prefix>_<channel>`` (``mmr_speech``, ``mmr_ocr``...).
A channel is what one index searches, and channels differ in dimension (MiniLM 384, CLIP 512), so
they cannot share a collection. Fields: ``id``, the INT64 primary key, which is the catalog clip id,
and ``vector`` (FLOAT_VECTOR, metric IP: vectors are L2-normalised, so scores are cosines, exactly
as FAISS gives them). A search restricted to some clips (``ids``) is a filter expression on the
primary key, ``id in [...]``, applied by Milvus before ranking.

Consistency: a Strong search on a Milvus server waits for the next time tick, ~200 ms, whatever
the query. So searches are Session-consistent (a store sees its own writes at once, ~10 ms a
search). A query node serves at a time that only moves forward, so one Strong read makes every
write acknowledged before it visible to all later reads: opening a store counts each collection
that way (it then sees another process's ingest, a migration), and so does the first read of a
collection after a removal (Session reads do not wait for deletes, only for inserts).

Collection properties hold what the store must remember with the data it describes:
``mmr.generation`` (the catalog generation the store was saved at: the lowest over the collections
is the store's), ``mmr.owner`` (the index the collection belongs to: indexes sharing a server must
use different prefixes, and one never overwrites another's collections), ``mmr.prefix`` (so prefix
``a`` never takes ``a_b``'s collections for its own) and ``mmr.index`` (the index type built, with
its parameters). Collections without these are not the store's and are left alone.

Index choice (the profile's ``store.index``): ``store.policy``. ``auto`` is FLAT, then IVF_FLAT,
re-indexed from the vectors Milvus stores (nothing is sent again). Otherwise a Milvus index type,
optionally with ``|`` and parameters: ``HNSW|M=16,efConstruction=200,ef=128`` or
``IVF_FLAT|nlist=1024,nprobe=32``. ``nprobe`` and ``ef`` are search parameters (``ef`` is raised
to ``k`` when smaller), the others build parameters. Milvus Lite 3.x builds FLAT, IVF_FLAT,
IVF_SQ8, HNSW, HNSW_SQ and AUTOINDEX (HNSW there), no PQ; a Milvus server adds DISKANN, IVF_PQ,
SCANN and others. Milvus removes by tombstones in any index type, so, unlike FAISS HNSW, removal
never forces a rebuild.

A store whose collections were built as another type than the profile asks (or that lacks a
channel's collection) reports generation -1, so its owner rebuilds it from the catalog.

Milvus Lite (``uri`` a ``.db`` path) runs the engine in this process, one process per database
file at a time; it is a pure-Python engine meant for development and small indexes (a query
costs ~0.3 s at 100k vectors and ~0.4 s at 1M, whatever the index: README, "Milvus").
``http://host:19530`` talks to Milvus standalone or a cluster with the same code; a token, if the
server needs one, is read from ``MMR_MILVUS_TOKEN`` so it never lands in the index's recorded
profile.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
from pymilvus import DataType, MilvusClient, MilvusException

from mmretrieval.errors import IndexDirError, StoreUnavailableError
from mmretrieval.store import policy
from mmretrieval.store.policy import AUTO, EXACT_LIMIT
from mmretrieval.store.protocol import VectorStore

log = logging.getLogger(__name__)

GENERATION = "mmr.generation"
OWNER = "mmr.owner"
PREFIX = "mmr.prefix"
INDEX = "mmr.index"
TOKEN_ENV = "MMR_MILVUS_TOKEN"
TIMEOUT_ENV = "MMR_MILVUS_TIMEOUT"  # seconds a read or write retries an unanswering server
TIMEOUT_S = 60.0
ID, VECTOR = "id", "vector"
SEARCH_KEYS = ("nprobe", "ef")  # parameters of a search, not of the index build
MAX_TOPK = 16_384  # the most hits Milvus returns for one query
BATCH_BYTES = 16 << 20  # one insert request (Milvus takes up to 64 MB)
IDS_PER_REQUEST = 4_096  # ids in one query or delete expression
SESSION = "Session"  # searches and queries, but a few (see the module docstring)
NOT_LOADED = 101  # Milvus's ErrCollectionNotLoaded: a restarted server may not load them again
# build parameters a Milvus server requires (Milvus Lite has defaults): HNSW's, as FAISS builds
HNSW_DEFAULTS = {"M": 32, "efConstruction": 200}


T = TypeVar("T")


def _reported(method: Callable[..., T]) -> Callable[..., T]:
    """A failed Milvus request as a ``StoreUnavailableError`` that says what happens next (the
    HTTP server answers 503). The client reconnects by itself once the server is back; a
    server restarted since may not have loaded the collections again (reads are refused): they
    are loaded and the request made once more."""

    @functools.wraps(method)
    def call(self: MilvusStore, *args, **kwargs) -> T:
        try:
            try:
                return method(self, *args, **kwargs)
            except MilvusException as exc:
                if exc.code != NOT_LOADED:
                    raise
                log.info("Milvus at %s has not loaded the collections: loading them", self.uri)
                for name in self._names.values():
                    self.client.load_collection(name, timeout=self.timeout)
                return method(self, *args, **kwargs)
        except MilvusException as exc:
            raise StoreUnavailableError(
                f"Milvus at {self.uri} failed: {exc.message}. If the server stopped, run the "
                f"command again once it is back: what was committed stays in the catalog, and "
                f"the store catches up from it (no file is lost or indexed twice)"
            ) from exc

    return call


class MilvusStore(VectorStore):
    """Channels as collections at ``uri``: a ``.db`` path (embedded Milvus Lite) or a server
    address. ``index_spec`` is ``auto`` or a Milvus index type (see the module docstring)."""

    def __init__(
        self,
        uri: str,
        index_spec: str = AUTO,
        prefix: str = "mmr",
        owner: str | None = None,
        exact_limit: int = EXACT_LIMIT,
    ):
        self.uri = uri
        self.prefix = prefix
        self.owner = owner
        self.exact_limit = exact_limit
        self.index_type, params = policy.split_spec(index_spec)
        self.build_params, self.search_params = {}, {}
        for key, value in policy.parse_params(params).items():
            (self.search_params if key in SEARCH_KEYS else self.build_params)[key] = value
        self.client = _connect(uri)
        self.timeout = float(os.environ.get(TIMEOUT_ENV, TIMEOUT_S))
        self._names: dict[str, str] = {}  # channel -> collection
        self._built: dict[str, dict] = {}  # channel -> {"type": ..., "params": {...}}
        self._dims: dict[str, int] = {}
        self._counts: dict[str, int] = {}  # known counts; dropped when a removal makes them stale
        self._deleted: set[str] = set()  # collections with deletes that no read has waited for
        try:
            self.generation = self._open_collections(index_spec)
        except BaseException:
            self.client.close()  # a refused store must not keep Milvus Lite's file open
            raise

    @_reported
    def _open_collections(self, index_spec: str) -> int:
        """Take this store's collections for its channels; the generation they were saved at
        (-1: none, or built as another type than ``index_spec`` asks)."""
        prefix, owner, uri = self.prefix, self.owner, self.uri
        generations = []
        for name in self.client.list_collections():
            if not name.startswith(f"{prefix}_"):
                continue
            info = self.client.describe_collection(name)
            properties = info.get("properties", {})
            if properties.get(PREFIX) != prefix:  # another prefix that starts like this one
                continue
            channel = name[len(prefix) + 1 :]
            if owner is not None and properties.get(OWNER, owner) != owner:
                raise IndexDirError(
                    f"collection {name} at {uri} belongs to another index "
                    f"({properties[OWNER]}): give this index its own store.collection_prefix"
                )
            self._names[channel] = name
            self._built[channel] = json.loads(properties.get(INDEX, "{}"))
            self._dims[channel] = next(
                f["params"]["dim"] for f in info["fields"] if f["name"] == VECTOR
            )
            generations.append(int(properties.get(GENERATION, -1)))
            self.client.load_collection(name)
            # see every write made so far; a server just (re)started may take a while to serve
            self._counts[channel] = self._count(name, "Strong", timeout=None)
        fits = all(self._fits(built) for built in self._built.values())
        if not fits:
            log.info("store index type is now %s: channels need a rebuild", index_spec)
        return min(generations) if generations and fits else -1

    def channels(self) -> list[str]:
        return sorted(self._names)

    @_reported
    def count(self, channel: str) -> int:
        if channel not in self._names:
            return 0
        if channel not in self._counts:
            name = self._names[channel]
            self._counts[channel] = self._count(name, self._consistency(name), self.timeout)
        return self._counts[channel]

    def _consistency(self, name: str) -> str:
        """Strong for the first read after a removal, Session otherwise."""
        if name in self._deleted:
            self._deleted.discard(name)
            return "Strong"
        return SESSION

    def _count(self, name: str, consistency: str, timeout: float | None) -> int:
        rows = self.client.query(
            name,
            filter="",
            output_fields=["count(*)"],
            consistency_level=consistency,
            timeout=timeout,
        )
        return int(rows[0]["count(*)"])

    def describe(self, channel: str) -> str:
        """The channel's index type, e.g. ``FLAT`` or ``IVF_FLAT(nlist=2048)`` (empty when none)."""
        built = self._built.get(channel)
        if built is None:
            return ""
        params = ",".join(f"{k}={v}" for k, v in sorted(built["params"].items()))
        return f"{built['type']}({params})" if params else built["type"]

    @_reported
    def add(self, channel: str, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        ids = np.asarray(ids, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        total = self.count(channel) + len(ids)
        if channel not in self._names:
            self._create(channel, vectors.shape[1], self._index_for(total))
        rows = max(1, BATCH_BYTES // (4 * vectors.shape[1]))
        name = self._names[channel]
        for start in range(0, len(ids), rows):
            batch = zip(
                ids[start : start + rows].tolist(), vectors[start : start + rows], strict=True
            )
            self.client.insert(
                name, [{ID: i, VECTOR: v} for i, v in batch], timeout=self.timeout
            )
        self._counts[channel] = total
        if self.index_type == AUTO and self._outgrown(self._built[channel], total):
            wanted = self._index_for(total)
            log.info(
                "channel %s: %s -> %s at %d vectors", channel, self.describe(channel), wanted, total
            )
            self._reindex(channel, wanted)

    @_reported
    def remove(self, ids: np.ndarray) -> None:
        if len(ids) == 0:
            return
        ids = np.asarray(ids, dtype=np.int64).tolist()
        for channel, name in self._names.items():
            for start in range(0, len(ids), IDS_PER_REQUEST):
                self.client.delete(
                    name, ids=ids[start : start + IDS_PER_REQUEST], timeout=self.timeout
                )
            self._counts.pop(channel, None)
            self._deleted.add(name)

    @_reported
    def search(
        self, channel: str, query: np.ndarray, k: int, ids: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """The ``k`` nearest clip ids by inner product (cosine, vectors being normalised), only
        among ``ids`` when given."""
        name = self._names.get(channel)
        if name is None or k < 1:
            return []
        expression = ""
        if ids is not None:
            ids = np.unique(np.asarray(ids, dtype=np.int64))
            if len(ids) == 0:
                return []
            expression = _id_filter(ids)
            k = min(k, len(ids))
        k = min(k, MAX_TOPK)
        found = self.client.search(
            name,
            data=[np.asarray(query, dtype=np.float32).reshape(-1)],
            anns_field=VECTOR,
            filter=expression,
            limit=k,
            output_fields=[ID],
            search_params={"metric_type": "IP", "params": self._search_params(channel, k)},
            consistency_level=self._consistency(name),
            timeout=self.timeout,
        )
        return [(int(hit["id"]), float(hit["distance"])) for hit in found[0]]

    @_reported
    def vectors(self, channel: str, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The stored vectors of those ``ids`` that this channel holds: (found ids, matrix)."""
        name = self._names.get(channel)
        if name is None or len(ids) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        ids = np.asarray(ids, dtype=np.int64)
        stored: dict[int, list[float]] = {}
        for start in range(0, len(ids), IDS_PER_REQUEST):
            chunk = np.unique(ids[start : start + IDS_PER_REQUEST])
            rows = self.client.query(
                name,
                filter=_id_filter(chunk),
                output_fields=[VECTOR],
                consistency_level=self._consistency(name),
                timeout=self.timeout,
            )
            stored.update((int(row[ID]), row[VECTOR]) for row in rows)
        found = np.array([i for i in ids.tolist() if i in stored], dtype=np.int64)
        matrix = np.array([stored[i] for i in found.tolist()], dtype=np.float32)
        return found, matrix.reshape(len(found), self._dims[channel])

    @_reported
    def drop(self, channel: str) -> None:
        name = self._names.pop(channel, None)
        if name is not None:
            self.client.drop_collection(name)
        for known in (self._built, self._dims, self._counts):
            known.pop(channel, None)

    @_reported
    def save(self, generation: int) -> None:
        """Flush every collection (seals its segments, which Milvus then indexes), then record
        the catalog generation they match."""
        for name in self._names.values():
            self.client.flush(name)
            self.client.alter_collection_properties(name, {GENERATION: str(generation)})
        self.generation = generation

    def close(self) -> None:
        self.client.close()

    # -- index types ----------------------------------------------------------------------------

    def _index_for(self, n: int) -> dict:
        """The index a collection of ``n`` vectors is built as."""
        if self.index_type != AUTO:
            return {"type": self.index_type, "params": self.build_params}
        nlist = policy.auto_lists(n, self.exact_limit)
        if not nlist:
            return {"type": "FLAT", "params": {}}
        return {"type": "IVF_FLAT", "params": {"nlist": nlist}}

    def _outgrown(self, built: dict, n: int) -> bool:
        """``auto``: whether a collection built as ``built`` is re-indexed at ``n`` vectors."""
        nlist = 0 if built["type"] == "FLAT" else built["params"]["nlist"]
        return policy.outgrown(nlist, n, self.exact_limit)

    def _fits(self, built: dict) -> bool:
        if self.index_type == AUTO:
            return built.get("type") in ("FLAT", "IVF_FLAT")
        return built == {"type": self.index_type, "params": self.build_params}

    def _search_params(self, channel: str, k: int) -> dict:
        built = self._built[channel]
        params = dict(self.search_params)
        if built["type"].startswith("IVF"):
            params.setdefault("nprobe", policy.nprobe_for(built["params"]["nlist"]))
        if built["type"].startswith("HNSW") or built["type"] == "AUTOINDEX":
            params["ef"] = max(k, params.get("ef", policy.HNSW_EF_SEARCH))
        return params

    def _create(self, channel: str, dim: int, index: dict) -> None:
        name = f"{self.prefix}_{channel}"
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field(ID, DataType.INT64, is_primary=True)
        schema.add_field(VECTOR, DataType.FLOAT_VECTOR, dim=dim)
        properties = {INDEX: json.dumps(index), GENERATION: "-1", PREFIX: self.prefix}
        if self.owner is not None:
            properties[OWNER] = self.owner
        self.client.create_collection(
            name, schema=schema, consistency_level=SESSION, properties=properties
        )
        try:
            self._build_index(name, index)
        except BaseException:  # a collection without an index cannot even be loaded
            self.client.drop_collection(name)
            raise
        self._names[channel], self._built[channel], self._dims[channel] = name, index, dim
        self._counts[channel] = 0

    def _reindex(self, channel: str, index: dict) -> None:
        name = self._names[channel]
        self.client.release_collection(name)
        self.client.drop_index(name, VECTOR)
        self._build_index(name, index)
        self.client.alter_collection_properties(name, {INDEX: json.dumps(index)})
        self._built[channel] = index

    def _build_index(self, name: str, index: dict) -> None:
        build = dict(index["params"])
        if index["type"].startswith("HNSW"):
            build = {**HNSW_DEFAULTS, **build}
        params = self.client.prepare_index_params()
        params.add_index(VECTOR, index_type=index["type"], metric_type="IP", params=build)
        # Milvus Lite builds it within the call, and lacks the RPC pymilvus would poll it with
        self.client.create_index(name, params, sync=not self.uri.endswith(".db"))
        self.client.load_collection(name)


def _id_filter(ids: np.ndarray) -> str:
    return f"{ID} in [{','.join(map(str, ids.tolist()))}]"


def _connect(uri: str) -> MilvusClient:
    """A client for ``uri``; a ``.db`` path starts Milvus Lite in this process."""
    local = uri.endswith(".db")
    if local:
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    try:
        return MilvusClient(uri=uri, token=os.environ.get(TOKEN_ENV, ""))
    except MilvusException as exc:
        if local:
            raise IndexDirError(
                f"cannot open the Milvus Lite database {uri}: another process may be using it "
                f"(Milvus Lite allows one at a time; an `mmr index` still running?). Wait for "
                f"it, or serve the file (`milvus-lite server`) and set store.uri to its address"
            ) from exc
        raise StoreUnavailableError(
            f"cannot reach Milvus at {uri}: {exc.message}. Start the server (README, Milvus) "
            f"or fix store.uri; set {TOKEN_ENV} if it needs a token"
        ) from exc
