"""Benchmark on-screen-text OCR engines on synthetic news captions: accuracy and seconds per frame.

The captions are drawn by ``mmretrieval.testing.synth`` and go through a real H.264 encode and
decode, so the engines see the same compression artefacts that indexing sees.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from machine import describe
from rapidfuzz.distance import Levenshtein
from rapidocr_onnxruntime import RapidOCR

from mmretrieval.media.decode import iter_frames
from mmretrieval.testing.synth import Scene, make_video

SIZES = ((640, 360), (1280, 720))
SCENE_SECONDS = 2.0
CAPTIONS = (
    "BREAKING NEWS: Flood waters rise in the valley",
    "TURNOUT 62%",
    "LIVE AT 10PM",
    "Mayor Jane Okafor speaks to reporters",
    "ELECTION NIGHT SPECIAL",
    "Storm warning issued for coastal towns until Friday morning",
    "DOW JONES UP 1.2%",
    "Interview: Dr. Priya Raman, climate scientist",
    "SPORTS TONIGHT",
    "Temperatures reach 38 degrees in Madrid",
    "EXCLUSIVE REPORT",
    "Council approves new budget of 4.5 million",
    "WEATHER ALERT: HEAVY SNOW EXPECTED OVERNIGHT IN THE NORTHERN HIGHLANDS",
    "Fans celebrate championship win downtown",
    "MARKETS CLOSE LOWER",
    "Chief Inspector Tom Wexley",
    "Polls open at 7AM across 312 districts",
    "TRAFFIC ON HIGHWAY 101 BACKED UP FOR 5 MILES",
    "Rail strike enters its third day",
    "Coming up next: The week in review",
)
BACKGROUNDS = ((40, 60, 90), (90, 40, 40), (30, 80, 50), (70, 70, 70), (120, 100, 60))

Engine = Callable[[np.ndarray], str]


def caption_frames(captions: list[str], size: tuple[int, int], workdir: Path) -> list[np.ndarray]:
    """Encode the captions as scenes and decode the frame in the middle of each scene."""
    scenes = [
        Scene(caption=c, duration=SCENE_SECONDS, background=BACKGROUNDS[i % len(BACKGROUNDS)])
        for i, c in enumerate(captions)
    ]
    path = workdir / f"captions_{size[0]}x{size[1]}.mp4"
    make_video(path, scenes, size=size, audio=False)
    # One sample per scene, at each scene's midpoint.
    frames = [f for _t, f in iter_frames(path, 1 / SCENE_SECONDS, start=SCENE_SECONDS / 2)]
    if len(frames) != len(scenes):
        raise RuntimeError(f"expected {len(scenes)} frames from {path}, decoded {len(frames)}")
    return frames


def rapidocr_engine(engine: RapidOCR, **call_kwargs: bool) -> Engine:
    """Wrap a RapidOCR instance: RGB in (it wants BGR), the recognised lines joined by spaces."""

    def read(frame: np.ndarray) -> str:
        result, _elapsed = engine(np.ascontiguousarray(frame[:, :, ::-1]), **call_kwargs)
        return " ".join(text for _box, text, _score in result or [])

    return read


def tesseract_engine(psm: int) -> Engine:
    """Tesseract through its CLI, so the benchmark needs no pytesseract; PNG goes over stdin.

    Its time includes the process start and model load on every frame, as any CLI use pays.
    """

    def read(frame: np.ndarray) -> str:
        ok, png = cv2.imencode(".png", frame[:, :, ::-1])
        if not ok:
            raise RuntimeError("cv2.imencode failed to encode the frame as PNG")
        proc = subprocess.run(
            ["tesseract", "stdin", "stdout", "-l", "eng", "--psm", str(psm)],
            input=png.tobytes(),
            capture_output=True,
            check=True,
        )
        return proc.stdout.decode("utf-8", "replace")

    return read


def engines() -> dict[str, Engine]:
    """RapidOCR as shipped, RapidOCR as mmretrieval configures it, and Tesseract's two layouts."""
    return {
        "rapidocr-default": rapidocr_engine(RapidOCR()),
        "rapidocr-max960-nocls": rapidocr_engine(
            RapidOCR(det_limit_side_len=960, det_limit_type="max"), use_cls=False
        ),
        "tesseract-psm11": tesseract_engine(11),
        "tesseract-psm6": tesseract_engine(6),
    }


def words(text: str) -> list[str]:
    """Lower-case words with punctuation removed ("62%" -> "62", "Dr." -> "dr")."""
    return re.sub(r"[^\w\s]", "", text.lower()).split()


def score(truths: list[str], reads: list[str]) -> dict[str, object]:
    """Word recall, recall of words as substrings of the space-free read, CER, missed words."""
    total = found = joined_found = edits = chars = 0
    missed: list[str] = []
    for truth, read in zip(truths, reads, strict=True):
        truth_words, read_words = words(truth), words(read)
        read_set, read_joined = set(read_words), "".join(read_words)
        total += len(truth_words)
        found += sum(w in read_set for w in truth_words)
        missed += [w for w in truth_words if w not in read_set]
        joined_found += sum(w in read_joined for w in truth_words)
        truth_joined = "".join(truth_words)
        edits += Levenshtein.distance(truth_joined, read_joined)
        chars += len(truth_joined)
    return {
        "word_recall": found / total,
        "joined_recall": joined_found / total,
        "cer": edits / chars,
        "missed": missed,
    }


def read_all(readers: dict[str, Engine], frames: list[np.ndarray]) -> dict[str, dict]:
    """Every engine on every frame, after one untimed warm-up call each.

    Engines take turns frame by frame, so a burst of load from elsewhere on the machine slows
    them all alike instead of whichever engine happened to be running.
    """
    for engine in readers.values():
        engine(frames[0])
    out: dict[str, dict] = {name: {"reads": [], "seconds": []} for name in readers}
    for frame in frames:
        for name, engine in readers.items():
            start = time.perf_counter()
            out[name]["reads"].append(engine(frame))
            out[name]["seconds"].append(time.perf_counter() - start)
    return out


def machine() -> dict[str, object]:
    """What the timings depend on, load average included: a busy machine inflates them."""
    tesseract = subprocess.run(["tesseract", "--version"], capture_output=True, text=True)
    info = describe(("rapidocr-onnxruntime", "onnxruntime"))
    info["versions"]["tesseract"] = (tesseract.stdout or tesseract.stderr).splitlines()[0]
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=len(CAPTIONS), help="captions per size")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "ocr_engines.json"
    )
    args = parser.parse_args()
    captions = [CAPTIONS[i % len(CAPTIONS)] for i in range(args.scenes)]

    readers, results = engines(), []
    with tempfile.TemporaryDirectory() as tmp:
        for size in SIZES:
            frames = caption_frames(captions, size, Path(tmp))
            for name, run in read_all(readers, frames).items():
                results.append(
                    {
                        "engine": name,
                        "size": f"{size[0]}x{size[1]}",
                        "frames": len(frames),
                        "seconds_per_frame": float(np.mean(run["seconds"])),
                        "median_seconds": float(np.median(run["seconds"])),
                        **score(captions, run["reads"]),
                    }
                )

    header = "engine                       size  word rec  joined    CER  mean s  median s"
    print(header, "-" * len(header), sep="\n")
    for r in results:
        print(
            f"{r['engine']:<22}{r['size']:>10}{r['word_recall']:>10.3f}{r['joined_recall']:>8.3f}"
            f"{r['cer']:>7.3f}{r['seconds_per_frame']:>8.3f}{r['median_seconds']:>10.3f}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {"machine": machine(), "scenes": args.scenes, "results": results}
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
