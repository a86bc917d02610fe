"""Benchmark frame sampling: PyAV ``iter_frames`` against the optional decord backend.

Footage is synthetic news (``mmretrieval.synth``, about a minute per file, 5 s scenes, with a
silent audio track): 640x360 and 1280x720 as synth encodes them (H.264, a keyframe every 2 s
plus x264's scene-cut keyframes, so samples at 0.5 fps land on keyframes), and two re-encodes of
the 1280x720 file that synth cannot make itself (it has no GOP option): a long GOP (a keyframe
every 10 s) and a 1.48 s GOP whose keyframes do not line up with the sample times. For each
file, rate and ``max_side`` both decoders sample the whole file, taking turns, and the median
wall time counts (the minimum is in the JSON too). Both must give the same sample times; pixels
are compared as the mean absolute difference per channel (0-255). Usage:

    python benchmarks/decode.py [--seconds 60] [--repeats 3] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import numpy as np
from machine import describe

from mmretrieval.media.decode import iter_frames
from mmretrieval.media.decord_frames import available, iter_frames_decord
from mmretrieval.synth import Scene, make_video

RATES = (0.5, 1.0, 2.0)
# Full size, the OCR reader's default (with rate 0.5) and the CLIP frame reader's (with rate 1).
MAX_SIDES = (None, 960, 448)
SCENE_SECONDS = 5.0
CAPTIONS = ("BREAKING NEWS", None, "Storm warning for coastal towns until Friday", None)
BACKGROUNDS = ((40, 60, 90), (90, 40, 40), (30, 80, 50), (70, 70, 70), (120, 100, 60))
# name -> (synth size, re-encode keyframe interval in frames at 25 fps or None for synth's own)
FILES = {
    "360p gop2s": ((640, 360), None),
    "720p gop2s": ((1280, 720), None),
    "720p gop10s": ((1280, 720), 250),
    "720p gop1.48s": ((1280, 720), 37),
}

Sampler = Callable[..., Iterator[tuple[float, np.ndarray]]]


def footage(seconds: float, workdir: Path) -> dict[str, Path]:
    """Generate each benchmark file once (never timed)."""
    scenes = [
        Scene(
            caption=CAPTIONS[i % len(CAPTIONS)],
            duration=SCENE_SECONDS,
            background=BACKGROUNDS[i % len(BACKGROUNDS)],
        )
        for i in range(max(1, round(seconds / SCENE_SECONDS)))
    ]
    made: dict[tuple[int, int], Path] = {}
    paths = {}
    for name, (size, gop) in FILES.items():
        if size not in made:
            made[size] = workdir / f"news_{size[0]}x{size[1]}.mp4"
            make_video(made[size], scenes, size=size)
        paths[name] = made[size] if gop is None else reencode(made[size], gop, workdir)
    return paths


def reencode(source: Path, gop: int, workdir: Path) -> Path:
    """The same pictures as H.264 with a fixed keyframe interval (no scene-cut keyframes)."""
    target = workdir / f"{source.stem}_gop{gop}.mp4"
    with av.open(str(source)) as src, av.open(str(target), mode="w") as dst:
        vin, ain = src.streams.video[0], src.streams.audio[0]
        vout = dst.add_stream("libx264", rate=vin.average_rate)
        vout.width, vout.height, vout.pix_fmt = vin.width, vin.height, "yuv420p"
        vout.options = {"crf": "28", "preset": "fast", "g": str(gop), "x264-params": "scenecut=0"}
        aout = dst.add_stream_from_template(ain)
        for packet in src.demux(vin, ain):
            if packet.stream is ain:
                if packet.dts is not None:
                    packet.stream = aout
                    dst.mux(packet)
                continue
            for frame in packet.decode():
                frame.pict_type = av.video.frame.PictureType.NONE
                dst.mux(vout.encode(frame))
        dst.mux(vout.encode(None))
    return target


def keyframe_times(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [
            float(p.pts * p.time_base) for p in container.demux(stream) if p.is_keyframe and p.size
        ]


def timed(sampler: Sampler, path: Path, rate: float, max_side: int | None) -> tuple[float, list]:
    started = time.perf_counter()
    frames = list(sampler(path, rate, max_side=max_side))
    return time.perf_counter() - started, frames


def compare(path: Path, rate: float, max_side: int | None, repeats: int, duration: float) -> dict:
    """Both decoders on one file and setting, taking turns so machine load hits both alike."""
    samplers: dict[str, Sampler] = {"pyav": iter_frames, "decord": iter_frames_decord}
    seconds: dict[str, list[float]] = {name: [] for name in samplers}
    frames: dict[str, list] = {}
    for repeat in range(repeats):
        order = list(samplers) if repeat % 2 == 0 else list(reversed(samplers))
        for name in order:
            wall, frames[name] = timed(samplers[name], path, rate, max_side)
            seconds[name].append(wall)
    ref, got = frames["pyav"], frames["decord"]
    same_times = [t for t, _ in ref] == [t for t, _ in got]
    pairs = [(a, b) for (_, a), (_, b) in zip(ref, got, strict=True)] if same_times else []
    same_shapes = same_times and all(a.shape == b.shape for a, b in pairs)
    diffs = [mean_abs_diff(a, b) for a, b in pairs] if same_shapes else []
    row: dict[str, object] = {
        "rate": rate,
        "max_side": max_side,
        "frames": len(ref),
        "frame_shape": list(ref[0][1].shape) if ref else None,
        "same_times": same_times,
        "same_shapes": same_shapes,
        "mean_abs_diff": float(np.mean(diffs)) if diffs else None,
        "max_frame_abs_diff": max(diffs) if diffs else None,
    }
    medians = {name: statistics.median(walls) for name, walls in seconds.items()}
    for name, walls in seconds.items():
        median = medians[name]
        count = len(frames[name])
        row[name] = {
            "seconds": median,
            "min_seconds": min(walls),
            "all_seconds": walls,
            "seconds_per_frame": median / count if count else None,
            "frames_per_second": count / median if median else None,
            "x_realtime": duration / median if median else None,
        }
    row["decord_speedup"] = medians["pyav"] / medians["decord"]
    return row


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def decord_status() -> str:
    """'ok', or why decord cannot be benchmarked here."""
    if available():
        return "ok"
    try:
        import decord  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - report whatever the import raised
        return f"{type(exc).__name__}: {exc}"
    return "unavailable"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each file")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per decoder")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "decode.json"
    )
    args = parser.parse_args()
    report: dict[str, object] = {
        "machine": describe(("av", "decord", "numpy")),
        "decord": decord_status(),
        "files": [],
    }
    if report["decord"] != "ok":
        print(f"decord is unavailable here ({report['decord']}): nothing to compare")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            for name, path in footage(args.seconds, Path(tmp)).items():
                with av.open(str(path)) as container:
                    duration = container.duration / av.time_base
                    video = container.streams.video[0]
                    longest = max(video.width, video.height)
                keys = keyframe_times(path)
                rows = [
                    compare(path, rate, max_side, args.repeats, duration)
                    for max_side in MAX_SIDES
                    if max_side is None or max_side < longest  # else the same as full size
                    for rate in RATES
                ]
                report["files"].append(
                    {
                        "name": name,
                        "duration": duration,
                        "keyframes": len(keys),
                        "mean_gop_seconds": duration / max(len(keys), 1),
                        "rows": rows,
                    }
                )
        print_table(report["files"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")


def print_table(files: list[dict]) -> None:
    header = (
        "file            rate  max_side  frames  pyav ms/f  decord ms/f  pyav f/s  decord f/s"
        "  speedup  same t  mean|d|"
    )
    print(header, "-" * len(header), sep="\n")
    for entry in files:
        for r in entry["rows"]:
            pyav, dec = r["pyav"], r["decord"]
            diff = "-" if r["mean_abs_diff"] is None else f"{r['mean_abs_diff']:.3f}"
            print(
                f"{entry['name']:<14}{r['rate']:>6}{r['max_side'] or 'full':>10}{r['frames']:>8}"
                f"{pyav['seconds_per_frame'] * 1000:>11.1f}{dec['seconds_per_frame'] * 1000:>13.1f}"
                f"{pyav['frames_per_second']:>10.1f}{dec['frames_per_second']:>12.1f}"
                f"{r['decord_speedup']:>9.2f}{'yes' if r['same_times'] else 'NO':>8}{diff:>9}"
            )


if __name__ == "__main__":
    main()
