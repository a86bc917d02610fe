"""Benchmark indexing speed: realtime factor overall and per stage, peak memory, OCR frames read.

Footage is synthetic news (``mmretrieval.testing.synth``): continuous spoken sentences from
templates, captions on about half the scenes, 640x360, files of about a minute. It is cached
under the temp folder keyed by its length, so reruns skip generation (which is never timed).

``--tiny-models`` runs the default profile's pipeline (frames through CLIP, sound through CLAP,
the pooled hub vector) with tiny random CLIP and CLAP models built offline, beside the offline
profile's speech, OCR and text models: it measures what those stages cost apart from the
models themselves (decoding, resizing, windowing, pooling, the bridge), not real CLIP or CLAP
inference.

With one worker the process analyses two files at once (``ingest.InProcess``), so stage seconds
are summed over both files' threads as well as over speech beside pictures.

``--workers 1 2 4`` measures parallel ingest at each worker count in turn (a fresh index each
time) and writes the scaling curve to ``ingest_workers.json``. With more than one worker: stage
seconds are summed over the workers (worker-seconds); OCR frames are not counted; peak RSS is
this process's peak so far, beside the largest worker's as sampled after each file; workers skip
the warm-up file (their first file runs cold); their start-up is reported as model load, and the
CPU seconds include their model loading. ``--executor local ray`` measures each worker count
with worker processes, then with as many Ray actors on a local Ray (``ingest_ray.json``); the
actors' CPU seconds and memory are not counted (they are not this process's children). Usage:

    python benchmarks/ingest.py [--minutes N] [--profile offline | --tiny-models]
                                [--workers N [N ...]] [--executor local|ray ...] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import psutil
from machine import describe

from mmretrieval.library import Library
from mmretrieval.testing.synth import Scene, make_video

TARGET_REALTIME = 20.0  # offline profile on 2 cores (issue 12; 10 before)
FILE_SECONDS = 60.0
SIZE = (640, 360)
WORDS_PER_SECOND = 2.1  # espeak-ng at 140-170 wpm, measured with the pause around each scene
FOOTAGE_FORMAT = 2  # bump when generation changes, so cached footage is made anew
# The order stages are shown in; the report's stage_seconds decides which appear (a stage this
# list lacks is shown after them), and "other" is only what no stage was charged with.
STAGE_ORDER = (
    "decode",
    "shots",
    "asr",
    "ocr",
    "visual",
    "embed",
    "frames",
    "audio",
    "hub",
    "voice",
    "faces",
    "store",
)
RESULTS = Path(__file__).parent / "results"
BACKGROUNDS = ((40, 60, 90), (90, 40, 40), (30, 80, 50), (70, 70, 70), (120, 100, 60))

PEOPLE = (
    "Mayor Jane Okafor",
    "Senator Paul Whitfield",
    "Doctor Priya Raman",
    "Chief Tom Wexley",
    "Minister Ana Costa",
    "Coach Lena Brandt",
    "Governor Sam Holloway",
    "Judge Maria Lindqvist",
)
PLACES = (
    "Riverside",
    "the northern valley",
    "Port Ellis",
    "the capital",
    "Greenfield",
    "the coast",
    "Madrid",
    "Lake Harmon",
    "the city centre",
    "Westbrook",
)
GROUPS = (
    "the city council",
    "the transport union",
    "the health ministry",
    "local farmers",
    "the school board",
    "emergency crews",
    "the central bank",
    "residents",
)
TOPICS = (
    "the new budget",
    "flood defences",
    "the rail strike",
    "housing prices",
    "the water supply",
    "the election results",
    "hospital waiting times",
    "the heat wave",
    "fuel prices",
)
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "the weekend", "next week")
TEMPLATES = (
    "{person} told reporters in {place} that {topic} will be decided by {day}.",
    "Good evening, our top story tonight: {group} in {place} are reacting to {topic}.",
    "Officials say {number} people were affected after heavy rain hit {place} on {day}.",
    "{group} voted {number} to {small} in favour of a plan to address {topic}.",
    "Police closed the main road into {place} for {number} minutes this afternoon.",
    "In sports, the home team won {small} to {tiny} in front of {number} fans in {place}.",
    "Forecasters expect temperatures of {small} degrees in {place} through {day}.",
    "{person} said the decision on {topic} was the hardest of the year.",
    "Markets closed lower on {day} as investors worried about {topic}.",
    "Volunteers from {group} handed out {number} meals in {place} over {day}.",
    "Coming up after the break, we speak to {person} about {topic}.",
    "A spokesperson for {group} declined to comment on {topic} before {day}.",
    "Traffic is backed up for {small} miles on the highway south of {place}.",
    "The inquiry into {topic} heard evidence from {person} for {small} hours.",
)
CAPTIONS = (
    "BREAKING NEWS: {place_up}",
    "LIVE FROM {place_up}",
    "{person}",
    "{topic_up}",
    "WEATHER ALERT: {small} DEGREES",
    "MARKETS CLOSE LOWER",
    "{group_up} VOTE {small}-{tiny}",
    "TRAFFIC UPDATE: {place_up}",
    "ELECTION NIGHT SPECIAL",
    "COMING UP: {topic_up}",
)


def sentence(rng: random.Random, template: str) -> str:
    """Fill one template with names, places and numbers so no two scenes say the same thing."""
    place, topic, group = rng.choice(PLACES), rng.choice(TOPICS), rng.choice(GROUPS)
    return template.format(
        person=rng.choice(PEOPLE),
        place=place,
        place_up=place.removeprefix("the ").upper(),
        group=group,
        group_up=group.removeprefix("the ").upper(),
        topic=topic,
        topic_up=topic.removeprefix("the ").upper(),
        day=rng.choice(DAYS),
        number=rng.randrange(20, 5000),
        small=rng.randrange(5, 40),
        tiny=rng.randrange(0, 5),
    )


def news_scenes(rng: random.Random, seconds: float) -> list[Scene]:
    """Scenes of one or two sentences each until the estimated speech fills ``seconds``."""
    scenes: list[Scene] = []
    spoken = 0.0
    while spoken < seconds:
        text = " ".join(sentence(rng, rng.choice(TEMPLATES)) for _ in range(rng.choice((1, 2))))
        caption = sentence(rng, rng.choice(CAPTIONS)) if rng.random() < 0.5 else None
        scenes.append(
            Scene(
                speech=text,
                caption=caption,
                background=rng.choice(BACKGROUNDS),
                speed=rng.randrange(140, 171),
            )
        )
        spoken += len(text.split()) / WORDS_PER_SECOND
    return scenes


def generate(folder: Path, minutes: float, seed: int = 0) -> None:
    """``minutes`` of footage as files of about a minute, and a short warm-up file beside it."""
    rng = random.Random(seed)
    corpus = folder / "corpus"
    files = max(1, round(minutes * 60 / FILE_SECONDS))
    for number in range(files):
        seconds = minutes * 60 / files
        make_video(corpus / f"news_{number:03d}.mp4", news_scenes(rng, seconds), size=SIZE)
    make_video(folder / "warmup" / "warmup.mp4", news_scenes(rng, 8.0), size=SIZE)
    (folder / "complete").write_text("ok\n")


def cached_footage(minutes: float) -> Path:
    """The footage folder for ``minutes``, generated in a child process if not cached yet.

    A child process keeps generation out of this process's peak RSS.
    """
    folder = Path(tempfile.gettempdir()) / f"mmr-bench-ingest-{minutes:g}min-v{FOOTAGE_FORMAT}"
    if not (folder / "complete").exists():
        print(f"generating {minutes:g} min of footage in {folder} (not timed)...", flush=True)
        started = time.perf_counter()
        child = multiprocessing.get_context("spawn").Process(
            target=generate, args=(folder, minutes)
        )
        child.start()
        child.join()
        if child.exitcode != 0:
            raise SystemExit(f"footage generation failed (exit code {child.exitcode})")
        print(f"generated in {time.perf_counter() - started:.1f} s", flush=True)
    return folder


def count_frames(reader: object) -> Callable[[], int]:
    """Wrap the OCR adapter's ``read_frames`` to count the frames sampled and handed to it."""
    counted = [0]
    original = reader.read_frames

    def read_frames(frames: Iterable, duration: float):
        def counting() -> Iterator:
            for item in frames:
                counted[0] += 1
                yield item

        return original(counting(), duration)

    reader.read_frames = read_frames
    return lambda: counted[0]


class WorkerMemory:
    """The largest RSS of any worker process, sampled each time a file is committed.

    ``RUSAGE_CHILDREN`` cannot tell: a child forked from this process counts this process's
    pages as its own until it execs, so its peak is at least ours.
    """

    def __init__(self) -> None:
        self.peak_mb = 0.0

    def __call__(self, outcome: object) -> None:
        for child in psutil.Process().children():
            try:
                self.peak_mb = max(self.peak_mb, child.memory_info().rss / 2**20)
            except psutil.NoSuchProcess:
                continue


def tiny_default_profile(folder: Path) -> Path:
    """A profile shaped like the bundled ``default`` one, with tiny random CLIP and CLAP models.

    Speech, OCR and text use the offline profile's bundled models (the default profile's
    ``small`` and multilingual encoder need the hub); CLIP and CLAP are the test suite's tiny
    random checkpoints, saved and loaded like real ones. The bridge file lives in ``folder``.
    """
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from tiny_models import make_tiny_clap, make_tiny_clip

    clip, clap = make_tiny_clip(folder / "clip"), make_tiny_clap(folder / "clap")
    profile = folder / "tiny-default.yaml"
    profile.write_text(
        f"""
adapters:
  speech: {{model: "bundled:tiny.en"}}
  ocr: {{rate: 0.5, max_side: 960, min_confidence: 0.6}}
  text: {{model: "bundled:all-MiniLM-L6-v2"}}
  clip: {{model: "{clip}", device: cpu, frame_rate: 1.0, max_frames: 16}}
  clap: {{model: "{clap}", device: cpu}}
bridge: {{path: "{folder / "bridge.npz"}"}}
hub:
  weights: {{frames: 1.0, audio: 0.5, speech: 0.5}}
search:
  fusion: rrf
  weights: {{text: 1.0, lexical: 0.7, clip: 1.0, clap: 0.7}}
"""
    )
    return profile


VERSIONS = (
    "torch",
    "faiss-cpu",
    "faster-whisper",
    "ctranslate2",
    "onnxruntime",
    "rapidocr-onnxruntime",
    "sentence-transformers",
    "transformers",
)


def measure(
    footage: Path, profile: str | Path, name: str, workers: int, tiny: bool, executor: str
) -> dict:
    """Index the footage once with ``workers`` processes, after a warm-up file; the result."""
    with tempfile.TemporaryDirectory(prefix="mmr-bench-index-") as work:
        work = Path(work)
        load_start = os.getloadavg()
        started = time.perf_counter()
        library = Library(work / "index", profile=profile)
        bridge_seconds = None
        if tiny:
            bridge_started = time.perf_counter()
            library.fit_bridge()
            bridge_seconds = time.perf_counter() - bridge_started
        reader = warm = None
        if workers == 1 and executor == "local":  # load and warm the models here; count OCR
            warm = library.add([footage / "warmup"])
            reader = library.adapters.get("ocr")
        sampled = count_frames(reader) if reader is not None else None
        read_before = getattr(reader, "frames_read", 0)
        regions_before = getattr(reader, "regions_read", 0), getattr(reader, "regions_kept", 0)

        cpu_before = _cpu_seconds()
        run_started = time.perf_counter()
        memory = WorkerMemory()
        report = library.add(
            [footage / "corpus"], workers=workers, on_file=memory, executor=executor
        )
        cpu_seconds = _cpu_seconds() - cpu_before
        if warm is not None:
            load_seconds = run_started - started - warm.wall_seconds - (bridge_seconds or 0)
        else:  # the workers start (and load their models) inside ``add``, before its clock
            load_seconds = time.perf_counter() - run_started - report.wall_seconds
        library.close()

    if report.failures:
        print("failures:", *(f"  {f.path}: {f.error}" for f in report.failures), sep="\n")
    seconds, wall = report.footage_seconds, report.wall_seconds
    # Stage seconds are summed over the workers: shares are of the workers' time together.
    capacity = wall * workers
    spent = dict(report.stage_seconds)
    stages = {
        stage: {
            "seconds": spent.get(stage, 0.0),
            "realtime": seconds / s if (s := spent.get(stage, 0.0)) else None,
            "share": spent.get(stage, 0.0) / capacity,
        }
        for stage in sorted(spent, key=_stage_rank)
    }
    # Speech recognition runs beside the picture stages, so the stages can add up to more
    # than the wall time: then nothing is left over for "other".
    other = max(0.0, capacity - sum(v["seconds"] for v in stages.values()))
    stages["other"] = {
        "seconds": other,
        "realtime": seconds / other if other > 0 else None,
        "share": other / capacity,
    }
    ocr = None
    if reader is not None:
        ocr = {
            "frames_sampled": sampled(),
            "frames_read": reader.frames_read - read_before,
            "regions_read": getattr(reader, "regions_read", 0) - regions_before[0],
            "regions_kept": getattr(reader, "regions_kept", 0) - regions_before[1],
        }
    realtime = seconds / wall
    return {
        "machine": describe(VERSIONS),
        "profile": name,
        "tiny_models": tiny,
        "workers": workers,
        "executor": executor,
        "files": report.count("indexed"),
        "failed": report.count("failed"),
        "clips": sum(o.clips for o in report.outcomes),
        "footage_seconds": seconds,
        "wall_seconds": wall,
        "model_load_seconds": load_seconds,
        "bridge_fit_seconds": bridge_seconds,
        "warmup_wall_seconds": None if warm is None else warm.wall_seconds,
        "realtime": realtime,
        "cpu_seconds": cpu_seconds,
        "load_average_start": load_start,
        "stages": stages,
        "ocr": ocr,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "worker_peak_rss_mb": memory.peak_mb if workers > 1 and executor == "local" else None,
        "rss_end_mb": psutil.Process().memory_info().rss / 2**20,
        "target_realtime": None if tiny else TARGET_REALTIME,
        "target_met": None if tiny else realtime >= TARGET_REALTIME,
    }


def _stage_rank(stage: str) -> tuple[int, str]:
    return (STAGE_ORDER.index(stage) if stage in STAGE_ORDER else len(STAGE_ORDER), stage)


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the workers, once joined)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def show(result: dict) -> None:
    seconds, wall, realtime = result["footage_seconds"], result["wall_seconds"], result["realtime"]
    workers = result["workers"]
    print(
        f"profile {result['profile']}, {os.cpu_count()} CPUs, {workers} worker(s) "
        f"({result['executor']}), {result['files']} files, {result['clips']} clips"
    )
    print(
        f"footage {seconds:.1f} s, wall {wall:.1f} s "
        f"(model load {result['model_load_seconds']:.1f} s apart)"
    )
    if result["bridge_fit_seconds"] is not None:
        print(f"bridge fitted (CLIP, CLAP loaded) in {result['bridge_fit_seconds']:.1f} s")
    if workers > 1:
        print(f"stage seconds are summed over {workers} workers ({wall * workers:.1f} s in all)")
    print("speech recognition runs beside the picture stages: shares can add up past 100%")
    header = f"{'stage':<8}{'seconds':>9}{'x realtime':>12}{'share':>8}"
    print(header, "-" * len(header), sep="\n")
    for stage, row in result["stages"].items():
        factor = f"{row['realtime']:.1f}" if row["realtime"] else "-"
        print(f"{stage:<8}{row['seconds']:>9.2f}{factor:>12}{row['share']:>8.1%}")
    print(f"{'total':<8}{wall:>9.2f}{realtime:>12.1f}{1:>8.0%}")
    if result["ocr"]:
        ocr = result["ocr"]
        print(f"OCR frames read {ocr['frames_read']} of {ocr['frames_sampled']} sampled")
        if ocr["regions_read"] or ocr["regions_kept"]:
            print(
                f"OCR text regions recognised {ocr['regions_read']}, kept unchanged "
                f"(not re-read) {ocr['regions_kept']}"
            )
    rss = f"peak RSS {result['peak_rss_mb']:.0f} MB"
    if result["worker_peak_rss_mb"] is not None:
        rss += f" (largest worker {result['worker_peak_rss_mb']:.0f} MB)"
    print(f"{rss}, CPU {result['cpu_seconds']:.1f} s in {wall:.1f} s wall")
    if result["load_average_start"][0] > 0.5:
        load = result["load_average_start"][0]
        print(f"note: load average {load:.2f} at start: other work shared the CPUs")
    if result["tiny_models"]:
        print("tiny random CLIP and CLAP: frames/audio/hub show pipeline overhead, not model cost")
    else:
        verdict = "met" if result["target_met"] else "NOT met"
        print(f"target >= {TARGET_REALTIME:g}x realtime: {verdict} ({realtime:.1f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="minutes of footage")
    parser.add_argument("--profile", default="offline", help="profile name or YAML path")
    parser.add_argument(
        "--tiny-models",
        action="store_true",
        help="the default profile's stages with tiny random CLIP and CLAP (overhead, not models)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1],
        help="worker process counts to measure in turn, e.g. 1 2 4 (a scaling curve)",
    )
    parser.add_argument(
        "--executor",
        nargs="+",
        choices=("local", "ray"),
        default=["local"],
        help="where files are analysed, each measured in turn: worker processes, Ray actors",
    )
    parser.add_argument("--out", type=Path, default=None, help="JSON file to write")
    args = parser.parse_args()
    if args.tiny_models and args.profile != "offline":
        parser.error("--tiny-models builds its own profile: leave --profile out")
    if min(args.workers) < 1:
        parser.error("--workers counts must be at least 1")
    stem = "ingest_tiny_default" if args.tiny_models else "ingest"
    curve = args.workers != [1] or args.executor != ["local"]
    suffix = "_ray" if "ray" in args.executor else "_workers"
    out = args.out or RESULTS / (f"{stem}{suffix}.json" if curve else f"{stem}.json")

    footage = cached_footage(args.minutes)
    with tempfile.TemporaryDirectory(prefix="mmr-bench-models-") as models:
        profile, name = args.profile, args.profile
        if args.tiny_models:
            print("building tiny random CLIP and CLAP models (not timed)...", flush=True)
            profile, name = tiny_default_profile(Path(models)), "tiny-default"
        results = []
        for executor in args.executor:
            for workers in args.workers:
                results.append(measure(footage, profile, name, workers, args.tiny_models, executor))
                show(results[-1])
                print()
    out.parent.mkdir(parents=True, exist_ok=True)
    if curve:
        base = next((r["realtime"] for r in results if r["workers"] == 1), None)
        points = [
            {
                "workers": r["workers"],
                "executor": r["executor"],
                "realtime": r["realtime"],
                "speedup": r["realtime"] / base if base else None,
                "cpu_seconds": r["cpu_seconds"],
                "load_average_start": r["load_average_start"],
            }
            for r in results
        ]
        print(f"{'executor':>8}{'workers':>8}{'x realtime':>12}{'speedup':>9}")
        for point in points:
            speedup = f"{point['speedup']:.2f}" if point["speedup"] else "-"
            print(
                f"{point['executor']:>8}{point['workers']:>8}{point['realtime']:>12.1f}"
                f"{speedup:>9}"
            )
        out.write_text(json.dumps({"curve": points, "runs": results}, indent=2) + "\n")
    else:
        out.write_text(json.dumps(results[0], indent=2) + "\n", encoding="utf-8")
        plot_stages(results[0]["stages"], results[0]["wall_seconds"], out.with_suffix(".png"))
    print(f"wrote {out}")


def plot_stages(stages: dict[str, dict], wall: float, path: Path) -> None:
    """Seconds per stage as a bar chart next to the JSON (skipped without matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install '.[bench]'): no plot")
        return
    names = list(stages)
    figure, axes = plt.subplots(figsize=(7, 3.5))
    axes.barh(names, [stages[n]["seconds"] for n in names], color="#4a7bb7")
    axes.invert_yaxis()
    axes.set_xlabel(f"seconds (wall {wall:.1f} s)")
    axes.set_title("ingest time per stage")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
