"""Both stores, FAISS and Milvus (embedded Milvus Lite in a temp .db, and a real Milvus server:
``server``, marked ``milvus_server``), through the same tests; FAISS/Milvus parity; the store
section of profiles; migrating a Library's index between them."""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest
from milvus_server import free_port, running_server
from test_store_vectors import clip_ids, clustered, recall_at_10
from typer.testing import CliRunner

from mmretrieval.cli import app
from mmretrieval.config import StoreConfig, load_profile
from mmretrieval.errors import ConfigError, IndexDirError
from mmretrieval.library import LOCK_FILE, Library
from mmretrieval.store.backends import open_store
from mmretrieval.store.faiss import FaissStore
from mmretrieval.store.folder import CATALOG_FILE
from mmretrieval.store.milvus import GENERATION, TIMEOUT_ENV, MilvusStore
from mmretrieval.store.policy import EXACT_LIMIT
from mmretrieval.store.protocol import VectorStore

SERVER = pytest.param("server", marks=pytest.mark.milvus_server)  # the session's Milvus server
BACKENDS = ["faiss", "milvus", SERVER]

# kind -> backend -> (index spec, exact_limit, what describe() says the channel became)
KINDS = {
    "flat": {"faiss": ("auto", EXACT_LIMIT, "Flat"), "milvus": ("auto", EXACT_LIMIT, "FLAT")},
    "ivf": {
        "faiss": ("auto", 1_000, "IVF128,Flat"),
        "milvus": ("auto", 1_000, "IVF_FLAT(nlist=128)"),
    },
    "hnsw": {
        "faiss": ("HNSW16,Flat", EXACT_LIMIT, "IndexHNSWFlat"),
        "milvus": ("HNSW|M=16", EXACT_LIMIT, "HNSW(M=16)"),
    },
}
for _kinds in KINDS.values():
    _kinds["server"] = _kinds["milvus"]


def make_store(backend: str, folder, spec: str = "auto", exact_limit: int = EXACT_LIMIT):
    """A store in ``folder``; opening the same folder again reopens the same store."""
    if backend == "faiss":
        return FaissStore(folder / "vectors", spec, exact_limit=exact_limit)
    return MilvusStore(str(folder / "milvus.db"), spec, exact_limit=exact_limit)


def folder_prefix(folder) -> str:
    """A collection prefix of the folder's own on the shared server."""
    return "t" + hashlib.sha1(str(folder).encode()).hexdigest()[:12]


@pytest.fixture
def make(request):
    """``make_store``, and for backend ``server`` a store on the session's Milvus server under
    the folder's own prefix (its collections dropped after the test)."""
    made: list[tuple[str, str]] = []  # (server uri, prefix)

    def make(backend: str, folder, spec: str = "auto", exact_limit: int = EXACT_LIMIT):
        if backend != "server":
            return make_store(backend, folder, spec, exact_limit)
        uri = request.getfixturevalue("milvus_server")
        made.append((uri, folder_prefix(folder)))
        return MilvusStore(uri, spec, folder_prefix(folder), exact_limit=exact_limit)

    yield make
    for uri, prefix in set(made):
        cleanup = MilvusStore(uri, prefix=prefix)
        for channel in cleanup.channels():
            cleanup.drop(channel)
        cleanup.close()


def described(backend: str, flat: bool, nlist: int = 0) -> str:
    if flat:
        return "Flat" if backend == "faiss" else "FLAT"
    return f"IVF{nlist},Flat" if backend == "faiss" else f"IVF_FLAT(nlist={nlist})"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", list(KINDS))
def test_round_trip(make, tmp_path, backend, kind):
    spec, limit, kind_described = KINDS[kind][backend]
    # queries: unseen, same mixture (Milvus Lite's search costs ~1 ms per 1k vectors in Python,
    # so this suite is smaller than test_store_vectors.py's)
    data, queries = np.split(clustered(5_050), [5_000])
    ids = clip_ids(5_000)
    store = make(backend, tmp_path, spec, limit)
    store.add("speech", ids, data)
    assert store.describe("speech") == kind_described
    assert store.count("speech") == len(ids)

    # search returns clip ids; a stored vector finds itself first
    hits = store.search("speech", data[123], 5)
    assert hits[0][0] == ids[123] and hits[0][1] == pytest.approx(1.0, abs=1e-4)
    assert recall_at_10(store, "speech", data, ids, queries) >= 0.9

    # vectors: known ids only, in the order asked, exact values
    asked = np.array([ids[17], 3, ids[5], 10**9])
    found, stored = store.vectors("speech", asked)
    assert found.tolist() == [ids[17], ids[5]]
    np.testing.assert_allclose(stored, data[[17, 5]], atol=1e-6)

    # removed ids never come back, whatever k
    removed = ids[:500]
    store.remove(np.concatenate([removed, [10**9]]))
    assert store.count("speech") == len(ids) - 500
    for q in data[:10]:
        assert not {i for i, _ in store.search("speech", q, 50)} & set(removed.tolist())
    assert len(store.vectors("speech", removed)[0]) == 0
    assert store.search("speech", data[600], 1)[0][0] == ids[600]

    # save and load: same contents, same answers
    store.save(generation=3)
    loaded = make(backend, tmp_path, spec, limit)
    assert loaded.generation == 3 and loaded.channels() == ["speech"]
    assert loaded.describe("speech") == kind_described
    assert loaded.count("speech") == len(ids) - 500
    assert recall_at_10(loaded, "speech", data[500:], ids[500:], queries) >= 0.9
    assert len(loaded.vectors("speech", removed)[0]) == 0
    loaded.add("speech", removed[:10], data[:10])  # a loaded index keeps growing
    assert loaded.search("speech", data[3], 1)[0][0] == removed[3]


@pytest.mark.parametrize("backend", BACKENDS)
def test_crossing_the_threshold_keeps_every_id(make, tmp_path, backend):
    store = make(backend, tmp_path, exact_limit=1_000)
    data, ids = clustered(6_000, seed=1), clip_ids(6_000)
    kinds = []
    for start in range(0, len(ids), 300):
        store.add("ocr", ids[start : start + 300], data[start : start + 300])
        kinds.append(store.describe("ocr"))
    # exact up to the limit, IVF above it, re-indexed with twice the lists after ~4x growth
    assert kinds[0] == described(backend, flat=True)
    assert kinds[3] == described(backend, flat=False, nlist=64)
    assert kinds[-1] == described(backend, flat=False, nlist=128)
    assert store.count("ocr") == len(ids)
    assert np.array_equal(store.vectors("ocr", ids)[0], ids)
    for i in range(0, len(ids), 97):
        assert store.search("ocr", data[i], 1)[0][0] == ids[i]
    # removals keep it approximate; a rebuild from the catalog picks the type for the size
    store.remove(ids[:5_500])
    assert store.describe("ocr") == described(backend, flat=False, nlist=128)
    assert store.count("ocr") == 500
    store.rebuild("ocr", ids[5_500:], data[5_500:])
    assert store.describe("ocr") == described(backend, flat=True)
    assert store.search("ocr", data[5_800], 1)[0][0] == ids[5_800]


@pytest.mark.parametrize("backend", BACKENDS)
def test_search_among_given_ids_only(make, tmp_path, backend):
    data, ids = clustered(3_000, seed=4), clip_ids(3_000)
    store = make(backend, tmp_path)
    store.add("speech", ids, data)
    allowed = ids[1::3]
    query = data[0]  # its own id is not allowed
    hits = store.search("speech", query, 10, ids=allowed)
    assert [i for i, _ in hits] == [int(i) for i in best(query, data[1::3], allowed, 10)]
    assert [i for i, _ in store.search("speech", query, 10, ids=allowed[:4])] == [
        int(i) for i in best(query, data[1::3][:4], allowed[:4], 4)
    ]
    assert store.search("speech", query, 10, ids=np.array([], dtype=np.int64)) == []
    assert store.search("speech", query, 10, ids=np.array([10**9])) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_another_index_type_asks_for_a_rebuild(make, tmp_path, backend):
    other = "HNSW16,Flat" if backend == "faiss" else "HNSW"
    store = make(backend, tmp_path)
    store.add("speech", clip_ids(10), clustered(10))
    store.save(5)
    assert make(backend, tmp_path).generation == 5
    assert make(backend, tmp_path, other).generation == -1


@pytest.mark.parametrize("backend", BACKENDS)
def test_unknown_and_dropped_channels_are_empty(make, tmp_path, backend):
    store = make(backend, tmp_path)
    assert store.search("ocr", clustered(1)[0], 5) == []
    assert len(store.vectors("ocr", clip_ids(3))[0]) == 0
    store.add("ocr", clip_ids(20), clustered(20))
    store.add("frames", clip_ids(20), clustered(20, seed=1))
    store.drop("ocr")
    assert store.channels() == ["frames"] and store.search("ocr", clustered(1)[0], 5) == []
    store.save(2)
    assert make(backend, tmp_path).channels() == ["frames"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_both_stores_implement_the_whole_protocol(make, tmp_path, backend):
    store = make(backend, tmp_path)
    assert isinstance(store, VectorStore)
    members = {name for name in vars(VectorStore) if not name.startswith("_")}
    members |= set(VectorStore.__annotations__)
    contract = {"channels", "count", "describe", "add", "remove", "search", "vectors"}
    contract |= {"rebuild", "drop", "save", "close", "generation"}
    assert members == contract
    for name in members:
        assert hasattr(store, name), name
    for name in VectorStore.__abstractmethods__:  # written by the backend, not the stub
        assert getattr(type(store), name) is not getattr(VectorStore, name), name
    assert isinstance(store.generation, int)
    store.close()


def best(query: np.ndarray, data: np.ndarray, ids: np.ndarray, k: int) -> np.ndarray:
    return ids[np.argsort(-(data @ query))[:k]]


@pytest.mark.parametrize("milvus", ["milvus", SERVER])
def test_faiss_and_milvus_return_the_same_top_k(make, tmp_path, milvus):
    """Exact index types on both: the same ids in the same order, the same cosines."""
    data, queries = np.split(clustered(5_050, seed=7), [5_000])
    ids = clip_ids(5_000)
    faiss_store, milvus_store = (make(b, tmp_path / b) for b in ("faiss", milvus))
    for store in (faiss_store, milvus_store):
        store.add("frames", ids[:3_000], data[:3_000])
        store.add("frames", ids[3_000:], data[3_000:])  # in two parts, like two files
        store.remove(ids[::10])
    milvus_store.save(1)  # Milvus Lite searches sealed segments and its memtable alike: both
    some = ids[::7]
    for q in queries:
        for restrict in (None, some):
            expected = faiss_store.search("frames", q, 10, ids=restrict)
            got = milvus_store.search("frames", q, 10, ids=restrict)
            assert [i for i, _ in got] == [i for i, _ in expected]
            np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], atol=1e-5)


def test_milvus_collections_record_owner_and_generation(tmp_path):
    uri = str(tmp_path / "shared.db")
    mine = MilvusStore(uri, owner="index-a")
    mine.add("speech", clip_ids(5), clustered(5))
    mine.add("ocr", clip_ids(5), clustered(5, seed=1))
    mine.save(4)
    assert MilvusStore(uri, owner="index-a").generation == 4
    with pytest.raises(IndexDirError, match="collection_prefix"):
        MilvusStore(uri, owner="index-b")  # never rebuilt over by another index
    other = MilvusStore(uri, prefix="mmr_b", owner="index-b")  # a prefix of its own shares it
    other.add("speech", clip_ids(3), clustered(3, seed=2))  # as mmr_b_speech, not mmr's channel
    assert MilvusStore(uri, owner="index-a").channels() == ["ocr", "speech"]
    assert other.count("speech") == 3 and MilvusStore(uri, owner="index-a").count("speech") == 5
    # a channel created after the last save leaves the store behind the catalog
    mine.add("frames", clip_ids(5), clustered(5, seed=3))
    assert MilvusStore(uri, owner="index-a").generation == -1
    mine.save(6)
    assert MilvusStore(uri, owner="index-a").generation == 6


def test_store_section_of_a_profile(tmp_path):
    store = open_store(StoreConfig(backend="milvus"), tmp_path)
    assert isinstance(store, MilvusStore) and store.uri == str(tmp_path / "milvus.db")
    assert isinstance(open_store(StoreConfig(), tmp_path), FaissStore)
    bad = {
        "backend: milvus\n  index: IVF256,Flat": "FAISS factory strings are for backend faiss",
        "backend: faiss\n  uri: x.db": "uri is for backend milvus",
        "backend: milvus\n  uri: localhost:19530": "neither a Milvus Lite file",
        "backend: milvus\n  collection_prefix: 2nd-index": "collection_prefix",
        "backend: qdrant": "backend",
    }
    for section, message in bad.items():
        path = tmp_path / "p.yaml"
        path.write_text(f"store:\n  {section}\n")
        with pytest.raises(ConfigError, match=message):
            load_profile(path)
    ok = tmp_path / "ok.yaml"
    ok.write_text("store:\n  backend: milvus\n  index: HNSW|M=16,ef=64\n  uri: http://mv:19530\n")
    assert load_profile(ok).store.uri == "http://mv:19530"


# -- Library: one index, moved between the stores ---------------------------------------------

QUERIES = ["council budget for public libraries", "ferry crossings cancelled", "vaccination"]


def hits_of(library: Library) -> list[list[tuple]]:
    return [
        [(h.path, h.start, h.end, h.clip_id, h.score) for h in library.search(text=q, k=5)]
        for q in QUERIES
    ]


def assert_same_hits(got: list[list[tuple]], expected: list[list[tuple]]) -> None:
    assert [[h[:4] for h in hits] for hits in got] == [[h[:4] for h in e] for e in expected]
    for hits, e in zip(got, expected, strict=True):
        np.testing.assert_allclose([h[4] for h in hits], [h[4] for h in e], atol=1e-5)


@pytest.fixture
def faiss_index(indexed, tmp_path):
    """A copy of the session's offline-profile index (FAISS), and its hits."""
    library, _ = indexed
    copy = tmp_path / "idx"
    shutil.copytree(library.index_dir, copy, ignore=shutil.ignore_patterns(LOCK_FILE))
    return copy, hits_of(library)


def _channels(index: Path) -> list[str]:
    """The channels the index's catalog holds vectors of: what a full store holds."""
    with closing(sqlite3.connect(index / CATALOG_FILE)) as db:
        return [c for (c,) in db.execute("SELECT DISTINCT channel FROM vectors ORDER BY channel")]


def test_migrate_to_milvus_and_back(faiss_index):
    index, expected = faiss_index
    with Library(index) as library:
        report = library.migrate("milvus", source="faiss")
    assert report["uri"] == str(index / "milvus.db") and report["vectors"]["speech"] > 0
    assert not (index / "vectors").exists() and (index / "milvus.db").exists()

    with Library(index) as library:  # the index now remembers Milvus as its store
        assert library.stats()["store"] == f"milvus: {index / 'milvus.db'} (mmr_*)"
        assert_same_hits(hits_of(library), expected)
    with pytest.raises(IndexDirError, match="mmr migrate --index .* --from milvus --to faiss"):
        Library(index, profile="offline")
    with pytest.raises(IndexDirError, match="keeps its vectors in milvus, not faiss"):
        with Library(index) as library:
            library.migrate("faiss", source="faiss")

    result = CliRunner().invoke(
        app, ["migrate", "--index", str(index), "--from", "milvus", "--to", "faiss", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["to"] == "faiss"
    assert (index / "vectors").exists() and not (index / "milvus.db").exists()
    with Library(index, profile="offline") as library:
        assert_same_hits(hits_of(library), expected)


def test_a_lagging_milvus_store_is_rebuilt_unless_an_ingest_holds_it(faiss_index):
    index, expected = faiss_index
    with Library(index) as library:
        library.migrate("milvus")
        generation = library.catalog.generation
    lagging = MilvusStore(str(index / "milvus.db"))
    lagging.drop("ocr")  # as if killed after the catalog got ahead
    lagging.client.alter_collection_properties("mmr_speech", {GENERATION: "0"})
    assert MilvusStore(str(index / "milvus.db")).generation == 0 != generation

    with open(index / LOCK_FILE, "w") as lock:  # an ingest in another process is writing
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with Library(index) as library:
            library.search(text=QUERIES[0])  # searched as it is: a reader never rebuilds it
        assert "ocr" not in MilvusStore(str(index / "milvus.db")).channels()

    with Library(index) as library:  # no writer: the reader rebuilds it and records that
        assert_same_hits(hits_of(library), expected)
    reopened = MilvusStore(str(index / "milvus.db"))
    assert reopened.generation == generation and reopened.channels() == _channels(index)


def test_an_index_made_on_milvus_takes_new_files(corpus, tmp_path):
    profile = load_profile("offline").model_copy(update={"store": StoreConfig(backend="milvus")})
    with Library(tmp_path / "idx", profile=profile) as library:
        report = library.add([corpus["podcast"].path])
        assert report.count("indexed") == 1
        hit = library.search(text="vaccination programme for young children", k=1)[0]
        assert hit.path == str(corpus["podcast"].path)
        generation = library.catalog.generation
    store = MilvusStore(str(tmp_path / "idx" / "milvus.db"))
    assert store.generation == generation and store.count("speech") > 0


# -- a real Milvus server ---------------------------------------------------------------------


@pytest.mark.milvus_server
def test_migrate_to_a_milvus_server_and_back(faiss_index, milvus_server):
    index, expected = faiss_index
    prefix = folder_prefix(index)
    result = CliRunner().invoke(
        app,
        ["migrate", "--index", str(index), "--from", "faiss", "--to", "milvus"]
        + ["--uri", milvus_server, "--collection-prefix", prefix, "--json"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["uri"] == milvus_server and report["vectors"]["speech"] > 0
    assert not (index / "vectors").exists() and not (index / "milvus.db").exists()
    with Library(index) as library:
        assert library.stats()["store"] == f"milvus: {milvus_server} ({prefix}_*)"
        assert_same_hits(hits_of(library), expected)
    server = MilvusStore(milvus_server, prefix=prefix)
    assert server.channels() == _channels(index) and server.generation > 0
    server.close()

    with Library(index) as library:  # back: the server's collections are dropped
        library.migrate("faiss", source="milvus")
        assert_same_hits(hits_of(library), expected)
    assert MilvusStore(milvus_server, prefix=prefix).channels() == []


@pytest.mark.milvus_server
def test_an_index_on_a_milvus_server_takes_new_files(corpus, tmp_path, milvus_server):
    store = StoreConfig(backend="milvus", uri=milvus_server, collection_prefix="e2e")
    profile = load_profile("offline").model_copy(update={"store": store})
    with Library(tmp_path / "idx", profile=profile) as library:
        assert library.add([corpus["podcast"].path]).count("indexed") == 1
        hit = library.search(text="vaccination programme for young children", k=1)[0]
        assert hit.path == str(corpus["podcast"].path)
        generation = library.catalog.generation
    with Library(tmp_path / "idx") as library:  # opened again, later: the same answer
        assert library.search(text="vaccination programme for young children", k=1)[0] == hit
    server = MilvusStore(milvus_server, prefix="e2e")
    assert server.generation == generation and server.count("speech") > 0
    for channel in server.channels():
        server.drop(channel)


@pytest.mark.milvus_server
def test_an_ingest_that_loses_its_milvus_server_resumes_once_it_is_back(
    corpus, tmp_path, monkeypatch
):
    """A server of its own, stopped between two files: a clear error, and once it is back the
    next run has every file, each once, in the catalog and in Milvus."""
    monkeypatch.setenv(TIMEOUT_ENV, "5")  # give up on the stopped server after 5 s, not 60
    folder, port = tmp_path / "server", free_port()
    store = StoreConfig(backend="milvus", uri=f"http://127.0.0.1:{port}", collection_prefix="f")
    profile = load_profile("offline").model_copy(update={"store": store})
    index, podcast, mountain = tmp_path / "idx", corpus["podcast"].path, corpus["mountain"].path
    with Library(index, profile=profile) as library:
        with running_server(folder, port):
            assert library.add([podcast]).count("indexed") == 1
        with pytest.raises(IndexDirError, match="run the command again once it is back"):
            library.add([mountain])
    with running_server(folder, port), Library(index) as library:
        report = library.add([podcast, mountain])
        assert [o.status for o in report.outcomes] == ["unchanged", "unchanged"]
        for channel, n in library.catalog.stats()["vectors"].items():
            assert library.store.count(channel) == n  # none lost, none twice
        assert library.search(text="snow closes highland roads", k=1)[0].path == str(mountain)
        assert library.search(text="vaccination programme", k=1)[0].path == str(podcast)
