"""FaissStore: exact and approximate channels keep the VectorStore contract."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from mmretrieval.store.vectors import FaissStore

DIM = 64


def clustered(n: int, seed: int = 0, clusters: int = 200) -> np.ndarray:
    """Unit vectors from a Gaussian mixture (uniform random ones have no neighbourhoods)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, DIM)).astype(np.float32)
    x = centres[rng.integers(0, clusters, n)] + rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def clip_ids(n: int) -> np.ndarray:
    return 1_000 + 7 * np.arange(n, dtype=np.int64)  # sparse, like catalog ids after removals


def recall_at_10(
    store: FaissStore, channel: str, data: np.ndarray, ids: np.ndarray, queries: np.ndarray
) -> float:
    exact = ids[np.argsort(-(queries @ data.T), axis=1)[:, :10]]
    found = [{i for i, _ in store.search(channel, q, 10)} for q in queries]
    return float(np.mean([len(f & set(e)) / 10 for f, e in zip(found, exact, strict=True)]))


# (index_spec, exact_limit, the type the channel ends up as)
KINDS = {
    "flat": ("auto", 100_000, "Flat"),
    "ivf": ("auto", 1_000, "IVF256,Flat"),
    "hnsw": ("HNSW16,Flat", 100_000, "IndexHNSWFlat"),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_round_trip(tmp_path, kind):
    spec, limit, described = KINDS[kind]
    data, queries = np.split(clustered(20_100), [20_000])  # queries: unseen, same mixture
    ids = clip_ids(20_000)
    store = FaissStore(tmp_path, spec, exact_limit=limit)
    store.add("speech", ids, data)
    assert store.describe("speech") == described
    assert store.count("speech") == len(ids)

    # search returns clip ids; a stored vector finds itself first
    hits = store.search("speech", data[123], 5)
    assert hits[0][0] == ids[123] and hits[0][1] == pytest.approx(1.0, abs=1e-4)
    assert recall_at_10(store, "speech", data, ids, queries) >= 0.9

    # vectors: known ids only, exact values
    asked = np.array([ids[5], 3, ids[17], 10**9])
    found, stored = store.vectors("speech", asked)
    assert found.tolist() == [ids[5], ids[17]]
    np.testing.assert_allclose(stored, data[[5, 17]], atol=1e-6)

    # removed ids never come back, whatever k
    removed = ids[:500]
    store.remove(np.concatenate([removed, [10**9]]))
    assert store.count("speech") == len(ids) - 500
    for q in data[:20]:
        assert not {i for i, _ in store.search("speech", q, 50)} & set(removed.tolist())
    assert len(store.vectors("speech", removed)[0]) == 0
    assert store.search("speech", data[600], 1)[0][0] == ids[600]

    # save and load: same contents, same answers
    store.save(generation=3)
    loaded = FaissStore(tmp_path, spec, exact_limit=limit)
    assert loaded.generation == 3 and loaded.channels() == ["speech"]
    assert loaded.describe("speech") == described
    assert loaded.count("speech") == len(ids) - 500
    assert loaded.search("speech", data[700], 10) == store.search("speech", data[700], 10)
    assert len(loaded.vectors("speech", removed)[0]) == 0
    loaded.add("speech", removed[:10], data[:10])  # a loaded index keeps growing
    assert loaded.search("speech", data[3], 1)[0][0] == removed[3]


def test_crossing_the_threshold_keeps_every_id(tmp_path):
    store = FaissStore(tmp_path, exact_limit=1_000)
    data, ids = clustered(6_000, seed=1), clip_ids(6_000)
    kinds = []
    for start in range(0, len(ids), 300):
        store.add("ocr", ids[start : start + 300], data[start : start + 300])
        kinds.append(store.describe("ocr"))
    # Flat up to the limit, IVF above it, retrained with twice the lists after ~4x growth
    assert kinds[0] == "Flat" and kinds[3] == "IVF64,Flat" and kinds[-1] == "IVF128,Flat"
    assert store.count("ocr") == len(ids)
    assert np.array_equal(store.vectors("ocr", ids)[0], ids)
    for i in range(0, len(ids), 97):
        assert store.search("ocr", data[i], 1)[0][0] == ids[i]
    # removals keep it approximate; a rebuild from the catalog picks the type for the size
    store.remove(ids[:5_500])
    assert store.describe("ocr") == "IVF128,Flat" and store.count("ocr") == 500
    store.rebuild("ocr", ids[5_500:], data[5_500:])
    assert store.describe("ocr") == "Flat"
    assert store.search("ocr", data[5_800], 1)[0][0] == ids[5_800]


def test_trained_factory_waits_for_enough_vectors(tmp_path):
    store = FaissStore(tmp_path, "IVF64,Flat")
    data, ids = clustered(12_000, seed=2), clip_ids(12_000)
    store.add("speech", ids[:30], data[:30])  # one small file: too few to train on
    assert store.describe("speech") == "Flat"
    store.add("speech", ids[30:], data[30:])
    assert store.describe("speech") == "IVF64,Flat"
    assert store.search("speech", data[10], 1)[0][0] == ids[10]


def test_search_parameters(tmp_path):
    data, ids = clustered(5_000, seed=3), clip_ids(5_000)
    store = FaissStore(tmp_path, exact_limit=1_000)
    store.add("speech", ids, data)
    assert faiss.extract_index_ivf(store.indexes["speech"]).nprobe == 128 // 64
    store.save(1)
    tuned = FaissStore(tmp_path, "auto|nprobe=32", exact_limit=1_000)
    assert tuned.generation == 1  # parameters alone need no rebuild
    assert faiss.extract_index_ivf(tuned.indexes["speech"]).nprobe == 32
    hnsw = FaissStore(tmp_path / "h", "HNSW16,Flat|efSearch=40")
    hnsw.add("speech", ids, data)
    assert faiss.downcast_index(hnsw.indexes["speech"].index).hnsw.efSearch == 40


def test_another_index_type_asks_for_a_rebuild(tmp_path):
    store = FaissStore(tmp_path)
    store.add("speech", clip_ids(10), clustered(10))
    store.save(5)
    assert FaissStore(tmp_path).generation == 5
    assert FaissStore(tmp_path, "HNSW16,Flat").generation == -1


def test_search_restores_the_thread_count(tmp_path):
    store = FaissStore(tmp_path)
    store.add("speech", clip_ids(100), clustered(100))
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(2)
    try:
        store.search("speech", clustered(1, seed=5)[0], 3)
        assert faiss.omp_get_max_threads() == 2
    finally:
        faiss.omp_set_num_threads(before)
