"""Benchmark sharded search: ``Archive.search`` over 2 and 4 shards vs ``Library.search`` over
one index of the same clips (p50/p95 of each, the overhead, and whether the hits are the same).

The clips are ``query.py``'s synthetic ones (a real catalog with FTS5 over Zipf-drawn English
words, real FAISS stores of random unit vectors for ``speech`` and ``ocr``): the files are drawn
once and written both to one index and, file by file in turn, to the shards, so every layout
holds exactly the same clips. The query set is ``query.py``'s. Each query runs on every layout
back to back (same load), after a warm-up. Indexes are cached in the temp folder (``--rebuild``
makes them anew). Usage:

    python benchmarks/shards.py [--clips 50000] [--shards 2,4] [--queries 200] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from query import (
    BUILD_FORMAT,
    machine,
    queries,
    summary,
    synthetic_file,
    timed_ms,
    vocabulary,
    zipf_weights,
)

from mmretrieval.archive import Archive
from mmretrieval.config import load_profile
from mmretrieval.library import Library
from mmretrieval.store.backends import FAISS_DIR
from mmretrieval.store.catalog import Catalog
from mmretrieval.store.faiss import FaissStore
from mmretrieval.store.folder import CATALOG_FILE


def build_layouts(
    root: Path, clips: int, per_file: int, shard_counts: list[int], words: list[str], profile: str
) -> float:
    """One index of ``clips`` clips (``root/one``) and the same files dealt in turn into ``n``
    shards (``root/n/shardK``) for each ``n``."""
    started = time.perf_counter()
    shutil.rmtree(root, ignore_errors=True)
    folders = [[root / "one"]]
    folders += [[root / str(n) / f"shard{k}" for k in range(n)] for n in shard_counts]
    profile_json = load_profile(profile).model_dump_json()
    index_spec = load_profile(profile).store.index
    opened = []
    for layout in folders:
        stores = []
        for folder in layout:
            folder.mkdir(parents=True)
            catalog = Catalog(folder / CATALOG_FILE, create=True)
            catalog.set_meta("profile", profile_json)
            stores.append((catalog, FaissStore(folder / FAISS_DIR, index_spec)))
        opened.append(stores)
    rng = np.random.default_rng(0)
    vocab, weights = np.asarray(words), zipf_weights(len(words))
    for number, first in enumerate(range(0, clips, per_file)):
        record = synthetic_file(number, min(per_file, clips - first), vocab, weights, rng)
        for stores in opened:
            catalog, store = stores[number % len(stores)]
            _removed, added = catalog.put_file(record)
            for channel, (ids, vectors) in added.items():
                store.add(channel, np.asarray(ids, dtype=np.int64), vectors)
    for stores in opened:
        for catalog, store in stores:
            store.save(catalog.generation)
            catalog.close()
    (root / "complete").write_text(f"{BUILD_FORMAT}\n")
    return time.perf_counter() - started


def same_hits(got, expected) -> bool:
    """The same spans in the same order with the same scores (to float noise)."""
    return len(got) == len(expected) and all(
        (g.path, g.start, g.end) == (e.path, e.start, e.end) and abs(g.score - e.score) < 1e-5
        for g, e in zip(got, expected, strict=True)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=50_000, help="clips over all the shards")
    parser.add_argument("--shards", default="2,4", help="shard counts to compare, commas")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--clips-per-file", type=int, default=100)
    parser.add_argument("--profile", default="offline", help="profile written into the indexes")
    parser.add_argument("--rebuild", action="store_true", help="ignore cached indexes")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "shards.json"
    )
    args = parser.parse_args()
    counts = [int(n) for n in args.shards.split(",")]
    words = vocabulary(args.profile)
    load_start = os.getloadavg()
    root = Path(tempfile.gettempdir()) / (
        f"mmr-bench-shards-{args.clips}-{args.clips_per_file}-{'_'.join(map(str, counts))}"
    )
    marker = root / "complete"
    build_s = None
    if args.rebuild or not marker.exists() or marker.read_text().strip() != str(BUILD_FORMAT):
        print(f"building {args.clips} clips as one index and as {args.shards} shards...")
        build_s = build_layouts(root, args.clips, args.clips_per_file, counts, words, args.profile)
        print(f"built in {build_s:.1f} s", flush=True)
    texts = queries(args.queries, words, root / "one")

    layouts = {"one index": Library(root / "one")}
    for n in counts:
        layouts[f"{n} shards"] = Archive(sorted((root / str(n)).iterdir()))
    for searcher in layouts.values():
        for text in texts[:5]:
            searcher.search(text=text, k=10)
    ms: dict[str, list[float]] = {name: [] for name in layouts}
    same = {name: 0 for name in layouts}
    for text in texts:
        expected = None
        for name, searcher in layouts.items():
            took, hits = timed_ms(lambda s=searcher, t=text: s.search(text=t, k=10))
            ms[name].append(took)
            expected = hits if expected is None else expected
            same[name] += same_hits(hits, expected)
    for searcher in layouts.values():
        searcher.close()

    one = summary(ms["one index"])
    results = []
    print(f"{args.clips} clips, {args.queries} queries, k=10, latency in ms")
    print(f"{'layout':>10}{'p50':>8}{'p95':>8}{'mean':>8}{'+p50':>8}{'+p95':>8}{'same':>7}")
    for name, times in ms.items():
        row = summary(times)
        overhead = {"p50": row["p50"] - one["p50"], "p95": row["p95"] - one["p95"]}
        share = same[name] / len(texts)
        results.append(
            {"layout": name, "total_ms": row, "overhead_ms": overhead, "same_hits": share}
        )
        print(
            f"{name:>10}{row['p50']:>8.1f}{row['p95']:>8.1f}{row['mean']:>8.1f}"
            f"{overhead['p50']:>+8.1f}{overhead['p95']:>+8.1f}{share:>7.0%}"
        )
    if load_start[0] > 0.5:
        print(f"note: load average {load_start[0]:.2f} at start: other work shared the CPUs")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "machine": machine(),
        "clips": args.clips,
        "clips_per_file": args.clips_per_file,
        "queries": args.queries,
        "build_seconds": build_s,
        "load_average_start": load_start,
        "load_average_end": os.getloadavg(),
        "results": results,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
