"""Benchmark search latency against index size: p50/p95/mean of ``Library.search`` per size.

Each index is a real catalog (FTS5 over clip texts drawn Zipf-like from ~21k English words)
and a real FAISS store (the profile's ``auto`` index choice) for the ``speech`` and ``ocr``
channels, so lexical search, dense search, fusion, span merging and snippets all do their real
work. A clip's vector is derived from its text: the mean of the text model's vectors of its
words, made unit length (encoding a million texts would take hours; the build reports how
close this comes to the text's own vector). Queries are encoded with the profile's real text
model, so the recall of the dense candidates against exact search means something: random
vectors, which the first versions stored, have no clusters for IVF to use.
Indexes are cached under the temp folder keyed by size (``--rebuild`` makes them anew), so a
run at 1M clips builds once (8 min) and later runs reuse it. Beside wall times it reports CPU
seconds per query (``time.process_time``: readable on a busy machine), the search without the
encoding and the keyword side alone (wall and CPU), and the recall of the dense candidates
against exact search (the same vectors scanned in full). ``--index SPEC`` measures another
store index (a cached index is migrated to it once).
Usage:

    python benchmarks/query.py [--sizes 1000,10000,100000] [--queries 200] [--index SPEC]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
from machine import describe

from mmretrieval import channels
from mmretrieval.adapters.text import SentenceEncoder
from mmretrieval.config import load_profile
from mmretrieval.library import Library
from mmretrieval.media.timeline import TimedText
from mmretrieval.models import resolve
from mmretrieval.query import Query
from mmretrieval.store import policy
from mmretrieval.store.backends import FAISS_DIR, INDEX_ID
from mmretrieval.store.catalog import Catalog, ClipText, IndexedFile
from mmretrieval.store.faiss import FaissStore
from mmretrieval.store.folder import CATALOG_FILE

TARGET_P50_MS = 50.0  # at 100k clips
TARGET_SIZE = 100_000
DIM = 384
CLIP_SECONDS, CLIP_STRIDE = 10.0, 8.0
SPEECH_WORDS = 25  # ~150 words a minute over a 10 s clip
OCR_SHARE = 0.5  # share of clips with on-screen text
BUILD_FORMAT = 3  # bump when the synthetic index changes, so cached ones are rebuilt
STAND_INS_FILE = "stand_ins.json"  # how the clip vectors compare with real text vectors
QUESTION_TEMPLATES = (
    "what did the {a} say about {b}",
    "{a} {b} news report",
    "when was the {a} mentioned",
    "interview about {a} and {b}",
    "footage of the {a}",
)


def vocabulary(profile_name: str) -> list[str]:
    """Whole English words from the text model's WordPiece vocabulary, roughly by frequency."""
    folder = resolve(load_profile(profile_name).adapters.text.model)
    words = (folder / "vocab.txt").read_text(encoding="utf-8").split()
    return [w for w in words if re.fullmatch(r"[a-z]{3,}", w)]


def zipf_weights(n: int) -> np.ndarray:
    weights = 1.0 / (np.arange(n) + 10.0)
    return weights / weights.sum()


def word_meanings(encoder: SentenceEncoder, words: list[str], cache: Path) -> np.ndarray:
    """Each word's vector (kept in ``cache``: 21k words take minutes on a busy CPU)."""
    if cache.exists():
        meanings = np.load(cache)
        if len(meanings) == len(words):
            return meanings
    meanings = encoder.embed_text(words)
    np.save(cache, meanings)
    return meanings


def text_vector(meanings: np.ndarray, drawn: np.ndarray, common: np.ndarray) -> np.ndarray:
    """A clip text's stand-in vector: the mean of its words' vectors less ``common``, unit
    length."""
    mean = meanings[drawn].mean(axis=0) - common
    return mean / np.linalg.norm(mean)


def common_direction(
    encoder: SentenceEncoder, words: np.ndarray, weights: np.ndarray, meanings: np.ndarray
) -> tuple[np.ndarray, dict[str, float]]:
    """What to take out of every word mean: single words' vectors share a direction that
    sentences' do not, so plain word means all lie within a narrow cone (mean cosine 0.9
    between texts, 0.17 between the texts' own vectors). A share of the average word vector
    is taken out, the share chosen (by bisection) so that 200 generated texts' stand-ins are
    as spread out as their own vectors. Also returns how the two then compare."""
    drawn = np.random.default_rng(99).choice(len(words), size=(200, SPEECH_WORDS), p=weights)
    own = encoder.embed_text([" ".join(words[row]).capitalize() + "." for row in drawn])
    off_diagonal = ~np.eye(len(drawn), dtype=bool)
    average = weights @ meanings

    def stand_ins(share: float) -> np.ndarray:
        return np.stack([text_vector(meanings, row, share * average) for row in drawn])

    def spread(vectors: np.ndarray) -> float:
        return float(np.mean((vectors @ vectors.T)[off_diagonal]))

    low, high = 0.0, 1.0
    for _ in range(20):
        middle = (low + high) / 2
        low, high = (middle, high) if spread(stand_ins(middle)) > spread(own) else (low, middle)
    made = stand_ins(low)
    return low * average, {
        "share_taken_out": low,
        "own_vs_stand_in": float(np.mean(np.sum(own * made, axis=1))),
        "between_own": spread(own),
        "between_stand_ins": spread(made),
    }


def synthetic_file(
    number: int,
    clips: int,
    words: np.ndarray,
    weights: np.ndarray,
    meanings: np.ndarray,
    common: np.ndarray,
    rng: np.random.Generator,
) -> IndexedFile:
    """One file of ``clips`` overlapping clips with speech on each, screen text on about half;
    the clips' vectors are made from their words' ``meanings`` (``text_vector``)."""
    drawn = rng.choice(len(words), size=(clips, SPEECH_WORDS), p=weights)
    rows, texts, ocr_vectors = [], [], []
    for i in range(clips):
        start, end = i * CLIP_STRIDE, i * CLIP_STRIDE + CLIP_SECONDS
        speech = " ".join(words[drawn[i]]).capitalize() + "."
        ocr = ""
        if rng.random() < OCR_SHARE:
            shown = rng.choice(len(words), size=rng.integers(2, 7), p=weights)
            ocr = " ".join(words[shown]).upper()
            ocr_vectors.append(text_vector(meanings, shown, common))
            texts.append(TimedText(start, end, ocr, "ocr"))
        texts.append(TimedText(start, start + CLIP_STRIDE, speech, "speech"))
        rows.append(ClipText(start, end, speech, ocr))
    with_ocr = [i for i, row in enumerate(rows) if row.ocr]
    speech_vectors = [text_vector(meanings, row, common) for row in drawn]
    return IndexedFile(
        path=f"/media/synthetic/file_{number:06d}.mp4",
        size=1,
        mtime_ns=0,
        hash=f"{number:040x}",
        duration=(clips - 1) * CLIP_STRIDE + CLIP_SECONDS,
        has_video=True,
        has_audio=True,
        clips=rows,
        texts=texts,
        vectors={
            channels.SPEECH: (list(range(clips)), np.stack(speech_vectors)),
            channels.OCR: (with_ocr, np.asarray(ocr_vectors, np.float32).reshape(-1, DIM)),
        },
    )


def build_index(
    folder: Path, size: int, per_file: int, words: list[str], profile: str, seed: int = 0
) -> float:
    """Write a catalog and FAISS store of ``size`` clips the way ``Library.add`` would."""
    started = time.perf_counter()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    vocab, weights = np.asarray(words), zipf_weights(len(words))
    encoder = SentenceEncoder(load_profile(profile).adapters.text)
    meanings = word_meanings(encoder, words, folder.parent / f"mmr-bench-query-words-{profile}.npy")
    common, checked = common_direction(encoder, vocab, weights, meanings)
    (folder / STAND_INS_FILE).write_text(json.dumps(checked) + "\n")
    catalog = Catalog(folder / CATALOG_FILE, create=True)
    catalog.set_meta("profile", load_profile(profile).model_dump_json())
    catalog.set_meta(INDEX_ID, uuid.uuid4().hex)  # as ``Library`` names a new index
    store = FaissStore(folder / FAISS_DIR, load_profile(profile).store.index)
    for number, first in enumerate(range(0, size, per_file)):
        clips = min(per_file, size - first)
        record = synthetic_file(number, clips, vocab, weights, meanings, common, rng)
        _removed, added = catalog.put_file(record)
        for channel, (ids, vectors) in added.items():
            store.add(channel, np.asarray(ids, dtype=np.int64), vectors)
    store.save(catalog.generation)
    catalog.close()
    (folder / "complete").write_text(f"{BUILD_FORMAT}\n")
    return time.perf_counter() - started


def queries(n: int, words: list[str], folder: Path, seed: int = 1) -> list[str]:
    """Varied queries: keywords, single words, questions, quoted phrases, misspelled names."""
    rng = np.random.default_rng(seed)
    common = words[200:5000]
    catalog = Catalog(folder / CATALOG_FILE)
    speech = [row[0] for row in catalog.db.execute("SELECT speech FROM clips LIMIT 2000")]
    catalog.close()
    result = []
    for i in range(n):
        kind = i % 10
        pick = [str(w) for w in rng.choice(common, size=4)]
        if kind in (0, 1, 2, 3):
            result.append(" ".join(pick[: rng.integers(2, 5)]))
        elif kind in (4, 5):
            result.append(pick[0])
        elif kind == 6:
            template = QUESTION_TEMPLATES[i % len(QUESTION_TEMPLATES)]
            result.append(template.format(a=pick[0], b=pick[1]))
        elif kind == 7:
            spoken = speech[int(rng.integers(len(speech)))].rstrip(".").lower().split()
            at = int(rng.integers(len(spoken) - 2))
            result.append('"' + " ".join(spoken[at : at + 2]) + '" ' + pick[0])
        else:
            long = [w for w in pick if len(w) >= 6] or [pick[0] + "ing"]
            word = long[0]
            at = int(rng.integers(1, len(word) - 1))
            result.append(word[:at] + word[at + 1] + word[at] + word[at + 2 :])
    return result


def timed_ms(call: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    value = call()
    return (time.perf_counter() - started) * 1000.0, value


def cpu_ms(call: Callable[[], object]) -> tuple[float, float, object]:
    """(wall ms, CPU ms of this process, value) of one call."""
    cpu = time.process_time()
    wall, value = timed_ms(call)
    return wall, (time.process_time() - cpu) * 1000.0, value


def dense_recall(
    folder: Path, library: Library, encoded: list, candidates: int
) -> dict[str, dict[str, float]]:
    """Per vector channel: the share of the exact top ``candidates`` (and top 10) by inner
    product, over every stored vector, that the store's index proposes for the same queries."""
    catalog = Catalog(folder / CATALOG_FILE)
    store = library.store
    result = {}
    for channel in store.channels():
        ids, matrix = catalog.channel_vectors(channel)
        key = channels.query_key(channel)
        queries = [e.vectors[key] for e in encoded if key in e.vectors]
        if not queries:
            continue
        scores = matrix @ np.stack(queries).T  # (n, queries)
        at_k, at_10 = [], []
        for q, query in enumerate(queries):
            exact = ids[np.argpartition(-scores[:, q], candidates)[:candidates]]
            top10 = ids[np.argsort(-scores[:, q])[:10]]
            found = [i for i, _ in store.search(channel, query, candidates)]
            at_k.append(len(set(found) & set(exact.tolist())) / candidates)
            at_10.append(len(set(found[:10]) & set(top10.tolist())) / 10)
        result[channel] = {
            "index": store.describe(channel),
            f"recall_at_{candidates}": statistics.fmean(at_k),
            "recall_at_10": statistics.fmean(at_10),
        }
        del matrix, scores
    catalog.close()
    return result


def index_recall(
    size: int,
    words: list[str],
    profile: str,
    texts: list[str],
    specs: list[str],
    seed: int,
) -> list[dict[str, object]]:
    """Recall of the dense candidates against exact search per store index spec (``auto``,
    ``auto|nprobe=64``, ``IVF1024,PQ96x4fs,RFlat|nprobe=128,k_factor_rf=8``...) on ``size``
    text-derived speech vectors alone (no catalog: minutes, where a whole 1M index takes a
    quarter of an hour), with each index's build CPU seconds and file size; specs of one index
    type with other search parameters (``HNSW32,Flat|efSearch=1000;HNSW32,Flat|efSearch=2000``)
    reopen the index built first. Choose on a dev set (``--dev``: other seeds for clips and
    queries)."""
    rng = np.random.default_rng(seed)
    encoder = SentenceEncoder(load_profile(profile).adapters.text)
    cache = Path(tempfile.gettempdir()) / f"mmr-bench-query-words-{profile}.npy"
    meanings = word_meanings(encoder, words, cache)
    weights = zipf_weights(len(words))
    common, checked = common_direction(encoder, np.asarray(words), weights, meanings)
    print(f"clip vectors from word means, cosines: {checked}", flush=True)
    matrix = np.empty((size, DIM), np.float32)
    for first in range(0, size, 100):
        drawn = rng.choice(len(words), size=(min(100, size - first), SPEECH_WORDS), p=weights)
        chunk = meanings[drawn].mean(axis=1) - common
        matrix[first : first + len(chunk)] = chunk / np.linalg.norm(chunk, axis=1, keepdims=True)
    candidates = load_profile(profile).search.candidates
    queries = np.concatenate([encoder.embed_text([text]) for text in texts])
    scores = matrix @ queries.T
    exact = [set(np.argpartition(-c, candidates)[:candidates].tolist()) for c in scores.T]
    top10 = [set(np.argpartition(-c, 10)[:10].tolist()) for c in scores.T]
    del scores
    rows, built = [], {}  # index type -> (folder, build CPU s): other parameters reopen it
    for spec in specs:
        factory = policy.split_spec(spec)[0]
        if factory in built:
            folder, build_cpu_s = built[factory]
            store = FaissStore(folder, spec)
        else:
            folder = Path(tempfile.mkdtemp(prefix="mmr-bench-query-vectors-"))
            store = FaissStore(folder, spec)
            cpu = time.process_time()
            store.add(channels.SPEECH, np.arange(size, dtype=np.int64), matrix)
            build_cpu_s = time.process_time() - cpu
            store.save(1)
            built[factory] = folder, build_cpu_s
        found_all, cpu_ms = [], []
        for q in queries:
            cpu = time.process_time()
            found_all.append([i for i, _ in store.search(channels.SPEECH, q, candidates)])
            cpu_ms.append((time.process_time() - cpu) * 1000)
        rows.append({
            "spec": spec,
            "index": store.describe(channels.SPEECH),
            "build_cpu_s": build_cpu_s,
            "file_mb": (folder / f"{channels.SPEECH}.faiss").stat().st_size / 1e6,
            f"recall_at_{candidates}": statistics.fmean(
                len(exact[q] & set(f)) / candidates for q, f in enumerate(found_all)
            ),
            "recall_at_10": statistics.fmean(
                len(top10[q] & set(f[:10])) / 10 for q, f in enumerate(found_all)
            ),
            "cpu_ms": summary(cpu_ms),
        })
        print(rows[-1], flush=True)
        store.close()
    for folder, _ in built.values():
        shutil.rmtree(folder)
    return rows


def summary(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {
        "p50": statistics.median(ordered),
        "p95": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
        "mean": statistics.fmean(ordered),
        "max": ordered[-1],
    }


def read_calls() -> int | None:
    """The read system calls this process made so far (Linux: ``/proc/self/io``; else None):
    how often a search asked the OS for file pages instead of finding them cached."""
    try:
        with open("/proc/self/io", encoding="ascii") as counters:
            return next(int(line.split()[1]) for line in counters if line.startswith("syscr"))
    except OSError:
        return None


def measure(
    folder: Path,
    texts: list[str],
    warmup: list[str],
    profile_top: int,
    recall: bool,
    candidates: int | None,
) -> dict[str, object]:
    """Open the index, warm it up on other queries, then time full searches (the query seen
    for the first time), encoding alone (its vector forgotten first), search alone and the
    keyword side alone; ``candidates`` per channel (None: the profile's)."""
    open_ms, library = timed_ms(lambda: Library(folder))
    first_ms, _ = timed_ms(lambda: library.search(text=warmup[0], k=10))
    for text in warmup[1:]:
        library.search(text=text, k=10)
    searcher = library._get_searcher()
    text_encoder = library.adapters.get("text")
    candidates = candidates or searcher.config.candidates
    total, total_cpu, encode, search, hits, encoded_all = [], [], [], [], [], []
    lexical, lexical_cpu, search_cpu, reads = [], [], [], []
    for text in texts:
        before = read_calls()
        ms, cpu, found = cpu_ms(
            lambda t=text: library.search(text=t, k=10, candidates=candidates)
        )
        if before is not None:
            reads.append(read_calls() - before)
        total.append(ms)
        total_cpu.append(cpu)
        hits.append(len(found))
        text_encoder._remembered.cache_clear()  # time the model, not the query cache
        ms, encoded = timed_ms(lambda t=text: library.encode_query(Query(text=t)))
        encode.append(ms)
        encoded_all.append(encoded)
        ms, cpu, _ = cpu_ms(
            lambda e=encoded: searcher.search(e, k=10, candidates=candidates)
        )
        search.append(ms)
        search_cpu.append(cpu)
        ms, cpu, _ = cpu_ms(lambda t=text: searcher.lexical.search(t, candidates))
        lexical.append(ms)
        lexical_cpu.append(cpu)
    hotspots = None
    if profile_top:
        profiler = cProfile.Profile()
        profiler.enable()
        for encoded in encoded_all:
            searcher.search(encoded, k=10, candidates=candidates)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(profile_top)
        hotspots = out.getvalue()
    stats = library.stats()
    recalls = dense_recall(folder, library, encoded_all, candidates) if recall else None
    library.close()
    return {
        "clips": stats["clips"],
        "vectors": stats["vectors"],
        "open_ms": open_ms,
        "first_query_ms": first_ms,
        "total_ms": summary(total),
        "total_cpu_ms": summary(total_cpu),
        "encode_ms": summary(encode),
        "search_ms": summary(search),
        "search_cpu_ms": summary(search_cpu),
        "lexical_ms": summary(lexical),
        "lexical_cpu_ms": summary(lexical_cpu),
        "dense_recall": recalls,
        "candidates": candidates,
        "os_reads_per_query": statistics.fmean(reads) if reads else None,
        "mean_hits": statistics.fmean(hits),
        "hotspots": hotspots,
    }


def machine() -> dict[str, object]:
    info = describe(("torch", "faiss-cpu", "faster-whisper", "sentence-transformers"))
    info["sqlite"] = __import__("sqlite3").sqlite_version
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="clips per index, commas")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--clips-per-file", type=int, default=100)
    parser.add_argument("--profile", default="offline", help="profile written into the index")
    parser.add_argument("--rebuild", action="store_true", help="ignore cached indexes")
    parser.add_argument(
        "--cprofile", type=int, default=0, metavar="N", help="print the top N search hotspots"
    )
    parser.add_argument(
        "--no-recall", action="store_true", help="skip the dense recall against exact search"
    )
    parser.add_argument(
        "--index-recall",
        default="",
        metavar="SPEC;SPEC...",
        help="instead: dense recall, build cost and size per store index spec on text-derived "
        "vectors of the largest size",
    )
    parser.add_argument(
        "--dev", action="store_true", help="with --index-recall: the dev set's seeds"
    )
    parser.add_argument(
        "--index",
        default="",
        metavar="SPEC",
        help="the store index to measure (default: the cached index's); a cached index on "
        "another is migrated to it first (``Library.migrate``) and keeps it (``--index auto``: "
        "back)",
    )
    parser.add_argument(
        "--candidates",
        type=int,
        default=None,
        metavar="N",
        help="clips each channel proposes before fusion (default: the profile's)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "query.json"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    words = vocabulary(args.profile)
    load_start = os.getloadavg()
    if args.index_recall:
        folder = Path(tempfile.gettempdir()) / f"mmr-bench-query-{sizes[0]}-{args.clips_per_file}"
        clip_seed, query_seed = (5, 3) if args.dev else (0, 1)  # (0, 1): the benchmark's
        texts = queries(args.queries, words, folder, seed=query_seed)
        specs = args.index_recall.split(";")
        rows = index_recall(max(sizes), words, args.profile, texts, specs, clip_seed)
        report = {"dev": args.dev, "index_recall": rows, "load_average_start": load_start}
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        return

    results = []
    for size in sizes:
        folder = Path(tempfile.gettempdir()) / f"mmr-bench-query-{size}-{args.clips_per_file}"
        marker = folder / "complete"
        build_s = None
        if args.rebuild or not marker.exists() or marker.read_text().strip() != str(BUILD_FORMAT):
            print(f"building {size} clips in {folder}...", flush=True)
            build_s = build_index(folder, size, args.clips_per_file, words, args.profile)
            print(f"built in {build_s:.1f} s", flush=True)
        migrate_s = None
        with Library(folder) as library:
            if args.index and library.profile.store.index != args.index:
                print(f"moving the vectors of {size} clips to {args.index}...", flush=True)
                migrate_s = library.migrate("faiss", index=args.index)["seconds"]
            index = library.profile.store.index
        texts = queries(args.queries, words, folder)
        warmup = queries(6, words, folder, seed=2)
        measured = measure(
            folder, texts, warmup, args.cprofile, not args.no_recall, args.candidates
        )
        stand_ins = json.loads((folder / STAND_INS_FILE).read_text())
        row = {
            "size": size,
            "build_seconds": build_s,
            "store_index": index,
            "migrate_seconds": migrate_s,
            "stand_ins": stand_ins,
            **measured,
        }
        results.append(row)
        if row["hotspots"]:
            print(f"\n-- search hotspots at {size} clips (tottime) --\n{row['hotspots']}")

    print(f"{os.cpu_count()} CPUs, {args.queries} queries, k=10, latency in ms")
    header = (
        f"{'clips':>8}{'p50':>8}{'p95':>8}{'mean':>8}{'cpu p50':>9}{'enc p50':>9}"
        f"{'srch p50':>10}{'srch p95':>10}{'lex p50':>9}{'lex cpu':>9}{'first':>8}{'build s':>9}"
    )
    print(header, "-" * len(header), sep="\n")
    for r in results:
        build = f"{r['build_seconds']:.1f}" if r["build_seconds"] is not None else "cached"
        print(
            f"{r['size']:>8}{r['total_ms']['p50']:>8.1f}{r['total_ms']['p95']:>8.1f}"
            f"{r['total_ms']['mean']:>8.1f}{r['total_cpu_ms']['p50']:>9.1f}"
            f"{r['encode_ms']['p50']:>9.1f}{r['search_ms']['p50']:>10.1f}"
            f"{r['search_ms']['p95']:>10.1f}{r['lexical_ms']['p50']:>9.1f}"
            f"{r['lexical_cpu_ms']['p50']:>9.1f}"
            f"{r['first_query_ms']:>8.0f}{build:>9}"
        )
        print(f"{'':>8}store index: {r['store_index']} (a cached index keeps its own: --index)")
        reads = r["os_reads_per_query"]
        print(
            f"{'':>8}candidates per channel: {r['candidates']}; OS read calls a query: "
            + (f"{reads:.0f}" if reads is not None else "not counted here")
        )
        print(f"{'':>8}clip vectors from word means, cosines: {r['stand_ins']}")
        for channel, found in (r["dense_recall"] or {}).items():
            print(f"{'':>8}dense recall {channel} ({found['index']}): {found}")
    if load_start[0] > 0.5:
        print(f"note: load average {load_start[0]:.2f} at start: other work shared the CPUs")
    at_target = next((r for r in results if r["size"] == TARGET_SIZE), None)
    verdict = None
    if at_target is not None:
        verdict = at_target["total_ms"]["p50"] <= TARGET_P50_MS
        state = "met" if verdict else "NOT met"
        print(f"target p50 <= {TARGET_P50_MS:g} ms at {TARGET_SIZE} clips: {state}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "machine": machine(),
        "profile": args.profile,
        "queries": args.queries,
        "clips_per_file": args.clips_per_file,
        "target_p50_ms": TARGET_P50_MS,
        "target_met": verdict,
        "load_average_start": load_start,
        "results": results,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
