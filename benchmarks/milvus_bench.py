"""Benchmark a real Milvus server against Milvus Lite, and a sharded search against one index.

Starts the ``milvus`` package's standalone server (``tests/milvus_server.py``) and
reports how long it took to start; then, for each size, builds ``MilvusStore`` (``auto``) on
Milvus Lite (a temporary .db) and on the server, and times single queries through
``MilvusStore.search`` (p50/p95) with recall@10 against exact search. Last, the cost of
searching shards as one (``archive.ShardStore``): two FAISS stores of half the vectors each
against one FAISS store of them all, single queries, same answers. Usage:

    python benchmarks/milvus_bench.py [--sizes 100000] [--dim 512] [--queries 200] [--no-lite]
        [--out PATH]

``--no-lite`` leaves Milvus Lite out (at 1M it builds for minutes and answers in ~0.4 s:
``index_bench.py --milvus`` has measured it there).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from index_bench import K, latencies, make_data, recall, summary
from machine import describe

from mmretrieval.archive import ShardStore
from mmretrieval.store.faiss import FaissStore
from mmretrieval.store.milvus import MilvusStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from milvus_server import running_server  # noqa: E402  (the tests' server helper)

CHANNEL = "bench"


def milvus_row(uri: str, engine: str, base, ids, queries, truth) -> dict:
    started = time.perf_counter()
    store = MilvusStore(uri, "auto", prefix="mmr_bench")
    store.drop(CHANNEL)
    store.add(CHANNEL, ids, base)
    store.save(0)
    build_s = time.perf_counter() - started
    store = MilvusStore(uri, "auto", prefix="mmr_bench")  # opened as a search would open it
    found, ms = [], []
    for q in queries:
        start = time.perf_counter()
        hits = store.search(CHANNEL, q, K)
        ms.append((time.perf_counter() - start) * 1e3)
        found.append([i for i, _ in hits])
    found, ms = np.array(found), np.array(ms)
    row = {"engine": engine, "index": store.describe(CHANNEL), "build_s": build_s}
    row |= {"recall": recall(found, truth), **summary(ms)}
    store.drop(CHANNEL)
    store.close()
    return row


def shard_rows(folder: Path, base, ids, queries) -> list[dict]:
    """One FAISS store against two holding half the vectors each, searched as one."""
    one = FaissStore(folder / "one", "auto")
    one.add(CHANNEL, ids, base)
    half = len(ids) // 2
    shards = [FaissStore(folder / f"shard{s}", "auto") for s in range(2)]
    shards[0].add(CHANNEL, ids[:half], base[:half])
    shards[1].add(CHANNEL, ids[half:], base[half:])
    sharded = ShardStore(shards)
    for q in queries:  # the same answers (a shard's ids come back as local * 2 + shard)
        assert [i for i, _ in one.search(CHANNEL, q, K)] == [
            i // 2 for i, _ in sharded.search(CHANNEL, q, K)
        ]
    rows = []
    for name, store in (("one index", one), ("2 shards", sharded)):
        ms = latencies(lambda q, store=store: store.search(CHANNEL, q, K), queries)
        rows.append({"engine": f"faiss {name}", "index": one.describe(CHANNEL), **summary(ms)})
    return rows


def main() -> None:
    here = Path(__file__).parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--no-lite", action="store_true", help="leave Milvus Lite out")
    parser.add_argument("--out", type=Path, default=here / "results" / "milvus_bench.json")
    args = parser.parse_args()
    report = {"machine": describe(["pymilvus", "milvus-lite", "milvus", "faiss-cpu"]), "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        with running_server(Path(tmp) / "server") as (uri, start_s):
            report["server_start_s"] = start_s
            print(f"Milvus server up in {start_s:.1f} s at {uri}", flush=True)
            for n in (int(s) for s in args.sizes.split(",")):
                base, queries = make_data("clustered", n, args.queries, args.dim)
                ids = np.arange(n, dtype=np.int64) + 1
                truth = np.argsort(-(queries @ base.T), axis=1)[:, :K] + 1
                lite = str(Path(tmp) / f"lite{n}.db")
                engines = [] if args.no_lite else [(lite, "milvus lite")]
                rows = [
                    *(milvus_row(*engine, base, ids, queries, truth) for engine in engines),
                    milvus_row(uri, "milvus server", base, ids, queries, truth),
                    *shard_rows(Path(tmp) / f"faiss{n}", base, ids, queries),
                ]
                for row in rows:
                    print(f"{n:>9,} {row}", flush=True)
                report["runs"].append({"size": n, "dim": args.dim, "rows": rows})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
