"""Benchmark sharded search: an ``Archive`` of 2 and 4 shards vs one index of the same clips
(p50/p95 of each, the overhead, and whether the hits are the same).

The clips are ``query.py``'s synthetic ones (a real catalog with FTS5 over Zipf-drawn English
words, real FAISS stores of random unit vectors for ``speech`` and ``ocr``): the files are drawn
once and written both to one index and, file by file in turn, to the shards, so every layout
holds exactly the same clips. The query set is ``query.py``'s. Each query is encoded once (the
text model's time is the same whatever the layout) and searched on every layout back to back
(same load), after a warm-up: candidates per channel and shard, merging, keyword rescoring,
fusion, spans. Indexes are cached in the temp folder (``--rebuild`` makes them anew). Usage:

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
from mmretrieval.query import Query
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


def no_worse(got, expected) -> bool:
    """Every rank's score at least the one index's (an archive whose shards proposed more
    keyword candidates than one index's cut lets through can only find better-scoring ones)."""
    return len(got) >= len(expected) and all(
        g.score >= e.score - 1e-5 for g, e in zip(got, expected, strict=False)
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

    one_index = Library(root / "one")
    opened = {"one index": one_index}
    for n in counts:
        opened[f"{n} shards"] = Archive(sorted((root / str(n)).iterdir()))
    for layout in opened.values():
        for text in texts[:5]:
            layout.search(text=text, k=10)
    searchers = {name: layout._get_searcher() for name, layout in opened.items()}
    encode_ms, ms = [], {name: [] for name in opened}
    same, better = {name: 0 for name in opened}, {name: 0 for name in opened}
    for text in texts:
        took, encoded = timed_ms(lambda t=text: one_index.encode_query(Query(text=t)))
        encode_ms.append(took)
        expected = None
        for name, searcher in searchers.items():
            took, hits = timed_ms(lambda s=searcher, e=encoded: s.search(e, k=10))
            ms[name].append(took)
            expected = hits if expected is None else expected
            same[name] += same_hits(hits, expected)
            better[name] += no_worse(hits, expected)
    for layout in opened.values():
        layout.close()

    one = summary(ms["one index"])
    results = []
    encode = summary(encode_ms)
    print(f"{args.clips} clips, {args.queries} queries, k=10, search latency in ms (query ")
    print(f"encoding apart: p50 {encode['p50']:.1f}, p95 {encode['p95']:.1f} ms, every layout)")
    header = f"{'layout':>10}{'p50':>8}{'p95':>8}{'mean':>8}{'+p50':>8}{'+p95':>8}{'same':>7}"
    print(header + f"{'no worse':>10}")
    for name, times in ms.items():
        row = summary(times)
        overhead = {"p50": row["p50"] - one["p50"], "p95": row["p95"] - one["p95"]}
        share, kept = same[name] / len(texts), better[name] / len(texts)
        results.append(
            {
                "layout": name,
                "search_ms": row,
                "overhead_ms": overhead,
                "same_hits": share,
                "no_worse": kept,
            }
        )
        print(
            f"{name:>10}{row['p50']:>8.1f}{row['p95']:>8.1f}{row['mean']:>8.1f}"
            f"{overhead['p50']:>+8.1f}{overhead['p95']:>+8.1f}{share:>7.0%}{kept:>10.0%}"
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
        "encode_ms": encode,
        "load_average_start": load_start,
        "load_average_end": os.getloadavg(),
        "results": results,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
