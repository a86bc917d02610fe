"""Benchmark reused-footage detection (``mmr copies``, mmretrieval/copies.py) against a
perceptual-hash baseline, on footage with real structure and what broadcast does to it.

Archive: for each source shot (panned photographs and drawn scenes of
``mmretrieval.testing.footage``, 2-6 s) and each transformation (low-bitrate re-encode of the
whole file, scale + pillarbox, picture-in-picture at half size, crop 20%, mirror, colour and
brightness, logo + ticker overlay, blur + noise), one programme: the station's intro, black,
(every other one) colour bars, a filler shot of its own, the transformed source, another filler.
Plus distractor programmes sharing only the intro, black and bars. Queries: each source as it
was shot; every other one with the intro and black in front (what everything shares must not
match). A reported stretch is correct when it lies in a programme that reuses the query's
source with temporal IoU >= 0.3 against where it was put; recall counts the reused stretches
found so. Targets (issue 14 section 3): precision >= 0.95, recall >= 0.90 for stretches of 2 s
or more, median temporal IoU >= 0.7.

Baseline: a 64-bit pHash (``imagehash``) of every frame at the same rate, query and archive,
aligned with the same diagonal search (``copies.align``), with no frame filtering, no mirror
and no centring. Install with the ``bench`` extra.

``--all-cost HOURS`` measures instead what ``mmr copies --all`` costs on an archive of that
many hours: its stored frames are made as the offline profile stores them (one every 4 s of
each shot, the first of each shot) from generated shots of 20 s (drawn scenes, each its own
seed, panned; files of 100 s), a share of the shots shown again in another file under one of the
broadcast transformations, and described by the real encoder. The matching stages that grow
with the archive (``copies.Archive.from_frames``: centring and common pictures;
``copies.shared_frames``: candidate pairs) are timed on the whole set and on its first quarter
and half; the alignment pass (decoding and describing each candidate window) is counted in
windows and priced by the encoder's measured seconds a frame. No video is written.

Usage: python benchmarks/reuse.py [--frame-rate 1.0] [--no-regions] [--dev] [--out PATH]
       python benchmarks/reuse.py --all-cost 10 [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from machine import describe

from mmretrieval import copies
from mmretrieval.config import AdaptersConfig, load_profile
from mmretrieval.library import Library
from mmretrieval.media.decode import iter_frames
from mmretrieval.spans import Span, merge
from mmretrieval.testing import footage

SOURCES = {2: 2.0, 12: 3.0, 17: 4.0, 40: 6.0}  # footage.shot key -> seconds
# --dev: other photographs' bands, another drawn scene and other fillers, for choosing settings
DEV_SOURCES = {5: 2.0, 11: 3.0, 20: 4.0, 45: 6.0}
FILLER, DEV_FILLER = 100, 300  # footage.shot keys of the programmes' own shots
DISTRACTORS = 4
MIN_IOU = 0.3
PHASH_BITS = 12  # Hamming distance at which the baseline's frames match (copies.MATCH)


def build(
    root: Path, sources: dict[int, float] = SOURCES, filler: int = FILLER
) -> tuple[dict[int, Path], dict[int, list[tuple[str, Span, str]]]]:
    """Write the archive and queries; the queries' paths and, per source, where it was put."""
    opening = footage.intro() + footage.flat(1)
    truth: dict[int, list[tuple[str, Span, str]]] = {key: [] for key in sources}
    for n, (key, seconds) in enumerate(sources.items()):
        source = footage.shot(key, seconds)
        for m, (name, change) in enumerate(footage.TRANSFORMS.items()):
            head = opening + (footage.colour_bars(1) if (n + m) % 2 else []) + footage.shot(
                filler, 3
            )
            body = [change(f) for f in source]
            path = root / "archive" / f"s{key}_{name}.mp4"
            frames = head + body + footage.shot(filler + 1, 3)
            footage.write(path, frames, bitrate=60_000 if name == "reencode" else None)
            start = len(head) / footage.FPS
            truth[key].append((str(path), Span(start, start + seconds), name))
            filler += 2
    for d in range(DISTRACTORS):
        frames = opening + footage.colour_bars(1) + footage.shot(filler, 4) + footage.shot(
            filler + 1, 4
        )
        footage.write(root / "archive" / f"distractor{d}.mp4", frames)
        filler += 2
    queries = {}
    for n, (key, seconds) in enumerate(sources.items()):
        queries[key] = root / f"query{key}.mp4"
        prefix = opening if n % 2 else []
        footage.write(queries[key], prefix + footage.shot(key, seconds))
    return queries, truth


def score(found: dict[int, list[copies.Copy]], truth) -> dict:
    """Segment-level precision and recall, temporal IoU of the found stretches."""
    reported = correct = 0
    ious, recalled = [], {}
    for key, places in truth.items():
        hits = found[key]
        reported += len(hits)
        correct += sum(
            any(h.path == p and h.iou(span) >= MIN_IOU for p, span, _ in places) for h in hits
        )
        for path, span, name in places:
            best = max((h.iou(span) for h in hits if h.path == path), default=0.0)
            recalled.setdefault(name, []).append(best >= MIN_IOU)
            if best >= MIN_IOU:
                ious.append(best)
    flags = [f for v in recalled.values() for f in v]
    return {
        "reported": reported,
        "precision": round(correct / reported, 3) if reported else None,
        "recall": round(sum(flags) / len(flags), 3),
        "median_iou": round(statistics.median(ious), 3) if ious else None,
        "recall_per_transform": {n: round(sum(v) / len(v), 3) for n, v in recalled.items()},
    }


def phash_frames(path: Path) -> tuple[np.ndarray, np.ndarray]:
    import imagehash
    from PIL import Image

    times, bits = [], []
    for t, frame in iter_frames(path, copies.DENSE_RATE):
        times.append(t)
        bits.append(imagehash.phash(Image.fromarray(frame)).hash.flatten())
    return np.asarray(times), np.asarray(bits, dtype=np.int32)


def baseline(queries: dict[int, Path], archive: list[Path]) -> dict[int, list[copies.Copy]]:
    """pHash frames aligned by the same diagonal search."""
    hashed = {path: phash_frames(path) for path in archive}
    found = {}
    for key, query in queries.items():
        q_times, q_bits = phash_frames(query)
        found[key] = []
        for path, (t_times, t_bits) in hashed.items():
            distance = (q_bits[:, None, :] != t_bits[None, :, :]).sum(axis=2)
            sims = 1.0 - distance * (1.0 - copies.MATCH) / PHASH_BITS
            for run in copies.align(sims, copies.MIN_MATCHES):
                start = float(t_times[run.first + run.offset])
                end = float(t_times[run.last + run.offset]) + 1 / copies.DENSE_RATE
                found[key].append(
                    copies.Copy(
                        str(path), start, end, float(q_times[run.first]),
                        float(q_times[run.last]), run.score, None, 0,
                    )
                )
    return found


SHOT_SECONDS = 20.0
FILE_SECONDS = 100.0
REUSED_SHARE = 0.05  # of the shots, shown again (transformed) in another file


def stored_frames(hours: float, encoder) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """File ids, times and raw descriptors of ``hours`` of generated footage as the offline
    profile stores them, and the encoder's CPU seconds a frame."""
    every = 1.0 / load_profile("offline").adapters.visual.frame_rate
    shots = round(hours * 3600 / SHOT_SECONDS)
    per_file = round(FILE_SECONDS / SHOT_SECONDS)
    rng = np.random.default_rng(14)
    transforms = list(footage.TRANSFORMS.values())
    file_ids, times, vectors = [], [], []
    cpu = 0.0
    for number in range(shots):
        seed = 50_000 + number
        if number >= per_file and rng.random() < REUSED_SHARE:
            seed = 50_000 + int(rng.integers(0, number - number % per_file))  # an earlier file's
        frames = footage.drawn_shot(seed, SHOT_SECONDS)
        change = transforms[number % len(transforms)] if seed != 50_000 + number else None
        offsets = np.arange(0.0, SHOT_SECONDS, every)
        picked = [frames[round(o * footage.FPS)] for o in offsets]
        if change is not None:
            picked = [change(f) for f in picked]
        clock = time.process_time()
        vectors.append(encoder.embed_images(picked))
        cpu += time.process_time() - clock
        file_ids += [number // per_file] * len(picked)
        times += list((number % per_file) * SHOT_SECONDS + offsets)
    frames_total = len(times)
    return np.asarray(file_ids), np.asarray(times), np.concatenate(vectors), cpu / frames_total


def timed(function, *args):
    """(result, wall seconds, CPU seconds, peak traced memory in MiB)."""
    tracemalloc.start()
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return result, wall, cpu, peak


def all_cost(hours: float) -> dict:
    """``copies --all``'s growing stages on ``hours`` of stored frames (module docstring)."""
    from mmretrieval.adapters.visual import VisualEncoder

    encoder = VisualEncoder(load_profile("offline").adapters.visual)
    clock = time.perf_counter()
    file_ids, times, raw, cpu_per_frame = stored_frames(hours, encoder)
    made = time.perf_counter() - clock
    stages = []
    for share in (0.25, 0.5, 1.0):
        n = round(len(times) * share)
        archive, a_wall, a_cpu, a_peak = timed(
            copies.Archive.from_frames, file_ids[:n], times[:n], raw[:n], lambda _: []
        )
        pairs, p_wall, p_cpu, p_peak = timed(copies.shared_frames, archive)
        margin = 4.0  # CopyFinder's default
        windows = sum(
            len(merge(Span(max(ta - 2 * margin, 0.0), ta + 2 * margin)
                             for ta, _ in near))
            for near in pairs.values()
        )
        stages.append({
            "hours": round(hours * share, 2), "stored_frames": n,
            "archive_wall_s": round(a_wall, 2), "archive_cpu_s": round(a_cpu, 2),
            "archive_peak_mib": round(a_peak, 1),
            "pairs_wall_s": round(p_wall, 2), "pairs_cpu_s": round(p_cpu, 2),
            "pairs_peak_mib": round(p_peak, 1),
            "file_pairs": len(pairs), "candidate_windows": windows,
            "common_frames": int(archive.common.sum()),
        })
        print(stages[-1])
    whole = stages[-1]
    # each candidate window: the query side (16 s at DENSE_RATE, with its mirror) and a target
    # of up to 32 s, every frame through the encoder
    frames_per_window = 16 * copies.DENSE_RATE * 2 + 32 * copies.DENSE_RATE
    align_cpu = whole["candidate_windows"] * frames_per_window * cpu_per_frame
    growth = (10_000 / hours) ** 2
    return {
        "machine": describe(("torch", "numpy")),
        "setup": {"shot_seconds": SHOT_SECONDS, "file_seconds": FILE_SECONDS,
                  "reused_share": REUSED_SHARE, "stored_every_s": 4.0,
                  "descriptors_made_s": round(made, 1)},
        "stages": stages,
        "encoder_cpu_s_per_frame": round(cpu_per_frame, 4),
        "alignment_cpu_s_estimate": round(align_cpu, 1),
        "descriptor_mib": round(raw.nbytes / 2**20, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "extrapolated_10000h": {
            "stored_frames": round(whole["stored_frames"] * 10_000 / hours),
            "descriptor_gib": round(raw.nbytes * 10_000 / hours / 2**30, 1),
            "pairs_cpu_days": round(whole["pairs_cpu_s"] * growth / 86_400, 1),
            "archive_cpu_days": round(whole["archive_cpu_s"] * growth / 86_400, 1),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frame-rate", type=float, default=1.0,
                        help="visual frames stored a second within a shot at index time")
    parser.add_argument("--no-regions", action="store_true",
                        help="match whole frames only, not their feature-map squares "
                        "(copies.REGIONS off)")
    parser.add_argument("--all-cost", type=float, metavar="HOURS",
                        help="measure copies --all on this many hours of stored frames instead")
    parser.add_argument("--dev", action="store_true",
                        help="the dev split (other sources and fillers), to choose settings on")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.all_cost:
        result = all_cost(args.all_cost)
        print(json.dumps(result, indent=2))
        out = args.out or Path(__file__).parent / "results" / "reuse_all_cost.json"
        out.write_text(json.dumps(result, indent=2) + "\n")
        return
    copies.REGIONS = not args.no_regions
    args.out = args.out or Path(__file__).parent / "results" / "reuse.json"
    base = load_profile("offline")
    visual = base.adapters.visual.model_copy(update={"frame_rate": args.frame_rate})
    profile = base.model_copy(
        update={"name": "visual-only", "adapters": AdaptersConfig(visual=visual)}
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        queries, truth = build(root, DEV_SOURCES, DEV_FILLER) if args.dev else build(root)
        archive = sorted((root / "archive").glob("*.mp4"))
        footage_seconds = sum(len(list(iter_frames(p, 1.0))) for p in archive)
        with Library(root / "idx", profile=profile) as library:
            clock = time.perf_counter()
            library.add([root / "archive"])
            index_seconds = time.perf_counter() - clock
            found, query_seconds = {}, []
            for key, query in queries.items():
                clock = time.perf_counter()
                found[key] = library.copies(query)
                query_seconds.append(time.perf_counter() - clock)
        clock = time.perf_counter()
        phash = baseline(queries, archive)
        phash_seconds = time.perf_counter() - clock
    result = {
        "machine": describe(("torch", "numpy")),
        "archive": {"files": len(archive), "seconds": footage_seconds,
                    "stored_frame_rate": args.frame_rate, "dense_rate": copies.DENSE_RATE,
                    "regions": copies.REGIONS, "dev_split": args.dev},
        "copies": {**score(found, truth), "index_seconds": round(index_seconds, 1),
                   "query_seconds": [round(s, 1) for s in query_seconds]},
        "phash_baseline": {**score(phash, truth), "seconds": round(phash_seconds, 1)},
        "targets": {"precision": 0.95, "recall": 0.90, "median_iou": 0.7},
    }
    print(json.dumps(result, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
