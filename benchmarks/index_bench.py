"""Benchmark vector index types: FaissStore (auto, Flat) against raw FAISS and hnswlib, and
MilvusStore (auto) with ``--milvus``.

For each data kind and size: build time, index bytes (``faiss.serialize_index``; hnswlib's own
file size), RSS delta, batched QPS, single-query p50/p95 latency and recall@10 against exact
search, plus recall/latency sweeps over nprobe (IVF) and efSearch/ef (HNSW), the store's latency
over raw FAISS on the same index (interleaved queries) and single-query latency on 1 vs 2
threads. Writes JSON and a recall-vs-QPS plot (PNG beside the JSON). Usage:

    python benchmarks/index_bench.py [--sizes 100000,1000000] [--dim 512] [--queries 1000]
        [--data clustered,uniform] [--milvus [--milvus-uri URI]] [--pq] [--out PATH]

Data, seeded: ``clustered`` is a two-level Gaussian mixture (100 topics, one sub-topic per 50
vectors, noise giving nearest-neighbour cosines of ~0.4, like text embeddings), the realistic
case; ``uniform`` is isotropic unit vectors, the worst case for any approximate index (no
neighbourhoods: the 1st and 10th neighbour are almost as far as a random vector). Queries are
unseen vectors from the same distribution. hnswlib and matplotlib are benchmark-only
dependencies (``pip install hnswlib matplotlib``); either missing skips its part.

To keep a 1M run near 15 minutes on 2 cores: exact scans time 100-200 single queries (not all),
HNSW is built for uniform data only up to ``--hnsw-uniform-max`` (100k) and hnswlib only up to
``--hnswlib-max`` (100k); FAISS HNSW takes ~3.5 min to build at 1M, hnswlib ~2.5 min.
Single-query timings of the store are on one thread (as it searches); the store's overhead is
its p50 over FAISS's on the same index object, both on one thread, queries interleaved.

``--milvus`` adds a ``MilvusStore`` row per run: the store's ``auto`` index (FLAT to 100k vectors,
IVF_FLAT above, as FaissStore) in embedded Milvus Lite (a temporary .db) or, with
``--milvus-uri http://host:19530``, on a Milvus server. Build time covers inserting, flushing and
indexing; recall and batched QPS come from all queries in one request, single-query latency from
the first ``MILVUS_LATENCY_QUERIES`` through ``MilvusStore.search``. Milvus Lite is a pure-Python
engine: its search walks every row in Python (~0.3 s a query at 100k vectors, ~0.4 s at 1M), so
its latency says what the embedded engine costs, not what a Milvus server would.

``--pq`` adds, for sizes above 100k, ``auto`` past its memory budget (IVF-PQ): with its first
candidates re-scored from exact vectors (as the library does from the catalog), with PQ's own
scores, and restricted to a random 10% of the ids (a search filter); each row also gives the
store's memory estimate (``estimate_bytes``) beside the serialized size.
"""

from __future__ import annotations

import argparse
import gc
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np
import psutil
from machine import describe

from mmretrieval.store.faiss import TRAIN_SAMPLE, FaissStore
from mmretrieval.store.memory import estimate_bytes
from mmretrieval.store.policy import EXACT_LIMIT, nlist_for, nprobe_for

try:
    from mmretrieval.store.milvus import MilvusStore
except ImportError:  # pragma: no cover - optional
    MilvusStore = None

try:
    import hnswlib
except ImportError:  # pragma: no cover - optional
    hnswlib = None

K = 10
THREADS = 2
CHANNEL = "bench"
ID_OFFSET = 1  # store ids are clip ids: position + 1, so a position is never mistaken for one
EXACT_LATENCY_QUERIES = (200, 100)  # single queries timed on exact scans: <= 100k, above
MILVUS_LATENCY_QUERIES = (50, 20)  # single queries timed on Milvus Lite: <= 100k, above
HNSW_SPEC, HNSW_M, HNSW_EF_CONSTRUCTION = "HNSW32,Flat", 32, 40  # FAISS defaults, both libraries
EF_SWEEP = (16, 32, 64, 128, 256)
NPROBE_FRACTIONS = (256, 128, 64, 32, 16)  # nprobe = nlist / f
TARGET_RECALL, TARGET_P50_MS, TARGET_OVERHEAD = 0.95, 10.0, 1.10


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def make_data(kind: str, n: int, queries: int, dim: int, seed: int = 0):
    """(base, queries) float32 unit vectors, generated in chunks to bound temporary memory."""
    rng = np.random.default_rng(seed)
    total = n + queries
    out = np.empty((total, dim), dtype=np.float32)
    if kind == "clustered":
        topics = unit(rng.standard_normal((100, dim), dtype=np.float32))
        n_sub = max(total // 50, 1)
        noise = rng.standard_normal((n_sub, dim), dtype=np.float32) / np.sqrt(dim)
        subs = unit(topics[rng.integers(0, 100, n_sub)] + noise)
    for start in range(0, total, 100_000):
        m = min(100_000, total - start)
        x = rng.standard_normal((m, dim), dtype=np.float32)
        if kind == "clustered":
            x = subs[rng.integers(0, n_sub, m)] + x * (1.5 / np.sqrt(dim))
        out[start : start + m] = unit(x)
    return out[:n], out[n:]


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    hits = sum(len(set(f.tolist()) & set(t.tolist())) for f, t in zip(found, truth, strict=True))
    return hits / truth.size


def latencies(search_one: Callable[[np.ndarray], object], queries: np.ndarray) -> np.ndarray:
    out = np.empty(len(queries))
    for i, q in enumerate(queries):
        start = time.perf_counter()
        search_one(q)
        out[i] = time.perf_counter() - start
    return out * 1e3


def interleaved(fns: list[Callable], queries: np.ndarray) -> list[np.ndarray]:
    """Per-query ms of each of ``fns``, rotating which goes first (load drifts equally)."""
    times = np.empty((len(fns), len(queries)))
    for i, q in enumerate(queries):
        for j in range(len(fns)):
            which = (i + j) % len(fns)
            start = time.perf_counter()
            fns[which](q)
            times[which, i] = time.perf_counter() - start
    return list(times * 1e3)


def rss() -> int:
    gc.collect()
    return psutil.Process().memory_info().rss


def timed_build(build: Callable[[], object]) -> tuple[object, float, int]:
    before = rss()
    start = time.perf_counter()
    built = build()
    seconds = time.perf_counter() - start
    return built, seconds, rss() - before


def summary(ms: np.ndarray) -> dict[str, float]:
    return {
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "qps_single": float(1e3 / ms.mean()),
    }


def batched(search: Callable[[np.ndarray], np.ndarray], queries: np.ndarray):
    start = time.perf_counter()
    found = search(queries)
    return found, len(queries) / (time.perf_counter() - start)


class Run:
    """One (data kind, size): builds each index in turn, freeing it before the next."""

    def __init__(self, kind: str, n: int, args: argparse.Namespace):
        self.kind, self.n, self.args = kind, n, args
        self.rows: list[dict] = []
        self.base, self.queries = make_data(kind, n, args.queries, args.dim)
        self.ids = np.arange(n, dtype=np.int64) + ID_OFFSET
        self.single = self.queries[: EXACT_LATENCY_QUERIES[n > 100_000]]  # exact scans: slow

    def row(self, config: str, **values) -> dict:
        row = {"data": self.kind, "size": self.n, "config": config, **values}
        self.rows.append(row)
        shown = {k: round(v, 4) if isinstance(v, float) else v for k, v in values.items()}
        print(f"  {config:<22} {shown}", flush=True)
        return row

    def run(self) -> dict:
        n, queries = self.n, self.queries
        print(f"{self.kind} {n:,} x {self.args.dim}", flush=True)
        # raw exact search, also the ground truth
        flat, build_s, rss_delta = timed_build(lambda: self._raw_flat())
        (_, truth), qps = batched(lambda q: flat.search(q, K), queries)
        truth = truth + ID_OFFSET
        ms = latencies(lambda q: flat.search(q[None], K), self.single)
        self.row(
            "raw Flat",
            build_s=build_s,
            index_bytes=_bytes(flat),
            rss_delta=rss_delta,
            qps_batch=qps,
            recall=1.0,
            **summary(ms),
        )

        overhead = {}
        with tempfile.TemporaryDirectory() as tmp:
            store, build_s, rss_delta = timed_build(lambda: self._store(Path(tmp) / "f", "Flat"))
            overhead["Flat"] = self._store_rows(
                "store Flat", store, flat, truth, build_s, rss_delta
            )
            threads = {"Flat": self._threads(store.indexes[CHANNEL])}
            store = None  # free before the next build
            auto, build_s, rss_delta = timed_build(lambda: self._store(Path(tmp) / "a", "auto"))
            chosen = auto.describe(CHANNEL)
            if chosen == "Flat":
                raw = flat
            else:
                raw, raw_s, raw_rss = timed_build(lambda: self._raw_ivf(chosen))
            overhead["auto"] = self._store_rows(
                f"store auto ({chosen})", auto, raw, truth, build_s, rss_delta
            )
            if chosen != "Flat":  # the same index as above otherwise
                threads["auto"] = self._threads(auto.indexes[CHANNEL])
            auto = None
        flat = None
        if chosen == "Flat":
            raw = None  # it was the exact index; build an IVF to sweep below
        gc.collect()

        if chosen == "Flat":
            raw, raw_s, raw_rss = timed_build(lambda: self._raw_ivf(f"IVF{nlist_for(n)},Flat"))
        self._sweep_ivf(raw, truth, raw_s, raw_rss)
        raw = None
        gc.collect()
        if self.kind == "clustered" or n <= self.args.hnsw_uniform_max:
            self._faiss_hnsw(truth)
            if hnswlib is not None and n <= self.args.hnswlib_max:
                self._hnswlib(truth)
        if self.args.milvus:
            self._milvus(truth)
        if self.args.pq and n > EXACT_LIMIT:
            self._pq(truth)
        return {"overhead": overhead, "threads": threads, "auto_index": chosen}

    # -- indexes --------------------------------------------------------------------------------

    def _raw_flat(self) -> faiss.Index:
        index = faiss.IndexFlatIP(self.args.dim)
        index.add(self.base)
        return index

    def _store(self, folder: Path, spec: str) -> FaissStore:
        store = FaissStore(folder, spec)
        store.add(CHANNEL, self.ids, self.base)
        return store

    def _raw_ivf(self, factory: str) -> faiss.Index:
        """The same IVF the store builds (same sample, same nprobe), with positions as ids."""
        index = faiss.index_factory(self.args.dim, factory, faiss.METRIC_INNER_PRODUCT)
        size = max(TRAIN_SAMPLE, 39 * index.nlist)
        rng = np.random.default_rng(0)
        if self.n > size:
            index.train(self.base[np.sort(rng.choice(self.n, size, replace=False))])
        else:
            index.train(self.base)
        index.add(self.base)
        index.nprobe = nprobe_for(index.nlist)
        return index

    def _store_rows(self, config, store, raw, truth, build_s, rss_delta) -> dict:
        """The store's row, and its single-query latency over FAISS called directly: on the very
        same index (the wrapper's cost) and on a separately built one (adds where each index's
        memory happens to lie: huge pages or not, +-15% on exact scans)."""
        index = store.indexes[CHANNEL]
        (_, found), qps = batched(lambda q: index.search(q, K), self.queries)
        single = self.queries if store.describe(CHANNEL) != "Flat" else self.single
        faiss.omp_set_num_threads(1)  # as the store searches
        store_ms, same_ms, raw_ms = interleaved(
            [
                lambda q: store.search(CHANNEL, q, K),
                lambda q: index.search(q[None], K),
                lambda q: raw.search(q[None], K),
            ],
            single,
        )
        faiss.omp_set_num_threads(THREADS)
        self.row(
            config,
            build_s=build_s,
            index_bytes=_bytes(index),
            rss_delta=rss_delta,
            qps_batch=qps,
            recall=recall(found, truth),
            **summary(store_ms),
        )
        out = {
            "store_p50_ms": float(np.median(store_ms)),
            "same_index_p50_ms": float(np.median(same_ms)),
            "separate_index_p50_ms": float(np.median(raw_ms)),
            "ratio_same_index": float(np.median(store_ms) / np.median(same_ms)),
            "ratio_separate_index": float(np.median(store_ms) / np.median(raw_ms)),
        }
        print(
            f"    store / FAISS p50: same index {out['ratio_same_index']:.3f}, "
            f"separately built {out['ratio_separate_index']:.3f}",
            flush=True,
        )
        return out

    def _threads(self, index: faiss.Index) -> dict:
        """Raw single-query latency on 1 and 2 OpenMP threads, interleaved query by query (the
        store searches on one thread because of this)."""
        single = self.single if isinstance(index, faiss.IndexIDMap2) else self.queries

        def on(threads: int) -> Callable[[np.ndarray], object]:
            def search(q: np.ndarray) -> object:
                faiss.omp_set_num_threads(threads)
                return index.search(q[None], K)

            return search

        one, two = interleaved([on(1), on(2)], single)
        faiss.omp_set_num_threads(THREADS)
        out = {"p50_ms_1_thread": float(np.median(one)), "p50_ms_2_threads": float(np.median(two))}
        print(f"    single query, 1 vs 2 threads: {out}", flush=True)
        return out

    def _sweep_ivf(self, index, truth, build_s, rss_delta) -> None:
        for nprobe in sorted({max(1, index.nlist // f) for f in NPROBE_FRACTIONS}):
            index.nprobe = nprobe
            (_, found), qps = batched(lambda q: index.search(q, K), self.queries)
            ms = latencies(lambda q: index.search(q[None], K), self.queries)
            self.row(
                f"raw IVF{index.nlist},Flat",
                params=f"nprobe={index.nprobe}",
                build_s=build_s,
                index_bytes=_bytes(index),
                rss_delta=rss_delta,
                qps_batch=qps,
                recall=recall(found + ID_OFFSET, truth),
                **summary(ms),
            )

    def _faiss_hnsw(self, truth) -> None:
        def build():
            index = faiss.index_factory(self.args.dim, HNSW_SPEC, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.add(self.base)
            return index

        index, build_s, rss_delta = timed_build(build)
        size = _bytes(index)
        for ef in EF_SWEEP:
            index.hnsw.efSearch = ef
            (_, found), qps = batched(lambda q: index.search(q, K), self.queries)
            ms = latencies(lambda q: index.search(q[None], K), self.queries)
            self.row(
                f"raw {HNSW_SPEC}",
                params=f"efSearch={ef}",
                build_s=build_s,
                index_bytes=size,
                rss_delta=rss_delta,
                qps_batch=qps,
                recall=recall(found + ID_OFFSET, truth),
                **summary(ms),
            )
        index = None
        gc.collect()

    def _hnswlib(self, truth) -> None:
        def build():
            index = hnswlib.Index("ip", self.args.dim)
            index.init_index(self.n, M=HNSW_M, ef_construction=HNSW_EF_CONSTRUCTION, random_seed=0)
            index.set_num_threads(THREADS)
            index.add_items(self.base, np.arange(self.n))
            return index

        index, build_s, rss_delta = timed_build(build)
        for ef in EF_SWEEP:
            index.set_ef(max(ef, K))
            start = time.perf_counter()
            found, _ = index.knn_query(self.queries, K, num_threads=THREADS)
            qps = len(self.queries) / (time.perf_counter() - start)
            ms = latencies(lambda q: index.knn_query(q[None], K, num_threads=1), self.queries)
            self.row(
                f"hnswlib M={HNSW_M}",
                params=f"ef={ef}",
                build_s=build_s,
                index_bytes=int(index.index_file_size()),
                rss_delta=rss_delta,
                qps_batch=qps,
                recall=recall(found + ID_OFFSET, truth),
                **summary(ms),
            )
        index = None
        gc.collect()

    def _pq(self, truth) -> None:
        """``auto`` past its memory budget (IVF-PQ): re-scored with exact vectors (as the
        library does, from the catalog; here from memory), PQ's own scores, and a search
        restricted to a random 10% of the ids (a filter), each against exact search."""
        ids = self.ids

        def exact(_channel: str, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return wanted, self.base[wanted - ID_OFFSET]

        with tempfile.TemporaryDirectory() as tmp:

            def build() -> FaissStore:
                store = FaissStore(Path(tmp), memory_budget=1, exact=exact)
                store.add(CHANNEL, ids, self.base)
                return store

            store, build_s, rss_delta = timed_build(build)
            index = store.indexes[CHANNEL]
            name = f"store auto over budget ({store.describe(CHANNEL)})"
            estimate = estimate_bytes(store.describe(CHANNEL), self.args.dim, self.n)
            allowed = np.sort(np.random.default_rng(1).choice(ids, self.n // 10, replace=False))
            allowed_truth = self._truth_among(allowed)
            for config, rescore, among, expected in (
                (f"{name} re-scored", True, None, truth),
                (f"{name} PQ scores", False, None, truth),
                (f"{name} re-scored, 10% filter", True, allowed, allowed_truth),
            ):
                store.exact = exact if rescore else None
                faiss.omp_set_num_threads(1)  # as the store searches
                found = np.array(
                    [[i for i, _ in store.search(CHANNEL, q, K, ids=among)] for q in self.queries]
                )
                ms = latencies(lambda q, a=among: store.search(CHANNEL, q, K, ids=a), self.queries)
                faiss.omp_set_num_threads(THREADS)
                self.row(
                    config,
                    build_s=build_s,
                    index_bytes=_bytes(index),
                    estimate_bytes=estimate,
                    rss_delta=rss_delta,
                    recall=recall(found, expected),
                    **summary(ms),
                )
        gc.collect()

    def _truth_among(self, allowed: np.ndarray) -> np.ndarray:
        """Exact top ``K`` ids among ``allowed`` for every query."""
        index = faiss.IndexFlatIP(self.args.dim)
        index.add(self.base[allowed - ID_OFFSET])
        _, positions = index.search(self.queries, K)
        return allowed[positions]

    def _milvus(self, truth) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            uri = self.args.milvus_uri or str(Path(tmp) / "bench.db")

            def build() -> MilvusStore:
                store = MilvusStore(uri, "auto", prefix="mmr_bench")
                store.drop(CHANNEL)  # a server may hold one from an interrupted run
                store.add(CHANNEL, self.ids, self.base)
                store.save(0)
                return store

            store, build_s, rss_delta = timed_build(build)
            name = f"{store.prefix}_{CHANNEL}"
            params = store._search_params(CHANNEL, K)  # the store's own, for all queries at once
            start = time.perf_counter()
            found = store.client.search(
                name,
                data=list(self.queries),
                limit=K,
                output_fields=["id"],
                search_params={"metric_type": "IP", "params": params},
            )
            qps = len(self.queries) / (time.perf_counter() - start)
            found = np.array([[hit["id"] for hit in hits] for hits in found])
            single = self.queries[: MILVUS_LATENCY_QUERIES[self.n > 100_000]]
            ms = latencies(lambda q: store.search(CHANNEL, q, K), single)
            size = sum(f.stat().st_size for f in Path(uri).rglob("*")) if uri.endswith(".db") else 0
            self.row(
                f"milvus auto ({store.describe(CHANNEL)})",
                params=",".join(f"{k}={v}" for k, v in params.items()),
                build_s=build_s,
                index_bytes=size,
                rss_delta=rss_delta,
                qps_batch=qps,
                recall=recall(found, truth),
                **summary(ms),
            )
            store.drop(CHANNEL)
            store.close()
            if uri.endswith(".db"):
                from milvus_lite.server_manager import server_manager_instance

                server_manager_instance.release_server(uri)  # frees the engine's memory
        gc.collect()


def _bytes(index: faiss.Index) -> int:
    return int(faiss.serialize_index(index).size)


def plot(rows: list[dict], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    kinds = list(dict.fromkeys(r["data"] for r in rows))
    sizes = sorted({r["size"] for r in rows})
    fig, axes = plt.subplots(
        len(kinds), len(sizes), figsize=(6 * len(sizes), 4.5 * len(kinds)), squeeze=False
    )
    for ax, (kind, size) in zip(axes.flat, [(k, n) for k in kinds for n in sizes], strict=True):
        mine = [r for r in rows if r["data"] == kind and r["size"] == size]
        for config in dict.fromkeys(r["config"] for r in mine):
            pts = [r for r in mine if r["config"] == config]
            style = "o-" if len(pts) > 1 else "s"
            ax.plot([r["recall"] for r in pts], [r["qps_single"] for r in pts], style, label=config)
        ax.set(
            title=f"{kind}, {size:,} vectors",
            xlabel="recall@10",
            yscale="log",
            ylabel="single-query QPS (1 / mean latency)",
        )
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def main() -> None:
    here = Path(__file__).parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--data", default="clustered,uniform")
    parser.add_argument(
        "--hnsw-uniform-max",
        type=int,
        default=100_000,
        help="largest uniform size HNSW is built for (minutes at 1M on 2 cores)",
    )
    parser.add_argument(
        "--hnswlib-max",
        type=int,
        default=100_000,
        help="largest size hnswlib is built for (2.5 min at 1M on 2 cores)",
    )
    parser.add_argument("--milvus", action="store_true", help="add MilvusStore (auto) rows")
    parser.add_argument(
        "--milvus-uri", help="a Milvus server, http://host:19530; default: a temporary Milvus Lite"
    )
    parser.add_argument(
        "--pq",
        action="store_true",
        help="add rows for auto past its memory budget (IVF-PQ), sizes above 100k only",
    )
    parser.add_argument("--out", type=Path, default=here / "results" / "index_bench.json")
    args = parser.parse_args()
    if args.milvus and MilvusStore is None:
        parser.error("--milvus needs pymilvus and milvus-lite: pip install 'mmretrieval[milvus]'")
    faiss.omp_set_num_threads(THREADS)
    report = {
        "machine": describe(["faiss-cpu", "hnswlib", "numpy", "pymilvus", "milvus-lite"]),
        "args": {k: str(v) for k, v in vars(args).items()},
        "threads": THREADS,
        "runs": [],
        "rows": [],
    }
    start = time.perf_counter()
    for kind in args.data.split(","):
        for n in (int(s) for s in args.sizes.split(",")):
            run = Run(kind, n, args)
            report["runs"].append({"data": kind, "size": n, **run.run()})
            report["rows"] += run.rows
            del run
            gc.collect()
    report["seconds"] = time.perf_counter() - start
    largest = max(int(s) for s in args.sizes.split(","))
    auto = [r for r in report["rows"] if r["config"].startswith("store auto")]
    report["targets"] = {
        "store_overhead_max": {
            stat: max(r["overhead"][c][stat] for r in report["runs"] for c in ("Flat", "auto"))
            for stat in ("ratio_same_index", "ratio_separate_index")
        },
        "auto_at_largest": {
            r["data"]: {
                "recall": r["recall"],
                "p50_ms": r["p50_ms"],
                "met": r["recall"] >= TARGET_RECALL and r["p50_ms"] <= TARGET_P50_MS,
            }
            for r in auto
            if r["size"] == largest
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    png = args.out.with_name(args.out.stem + "_recall_qps.png")
    plotted = plot(report["rows"], png)
    print(json.dumps(report["targets"], indent=1))
    print(f"{report['seconds']:.0f} s; wrote {args.out}" + (f" and {png}" if plotted else ""))


if __name__ == "__main__":
    main()
