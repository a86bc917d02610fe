"""Shots: cuts found where the footage cuts, clip windows that end there, and shot lists (CSV,
HTML, EDL) built from the index, through the real command."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scenedetect import AdaptiveDetector
from scenedetect.common import FrameTimecode

from mmretrieval import load_profile
from mmretrieval.errors import IndexDirError
from mmretrieval.media.decode import at_rate, every_frame, iter_frames
from mmretrieval.media.probe import probe
from mmretrieval.media.shots import CutFinder, ShotDetector, at_cuts, detect_shots
from mmretrieval.media.timeline import TimedText
from mmretrieval.testing.synth import Scene, make_video

_BESIDE_PYTHON = Path(sys.executable).with_name("mmr")
MMR = str(_BESIDE_PYTHON) if _BESIDE_PYTHON.exists() else shutil.which("mmr")
FRAME = 1 / 25  # the synthetic footage's frame time


def test_cuts_are_found_to_the_frame_and_a_single_shot_has_none(tmp_path):
    scenes = [
        Scene(caption="ONE", duration=3.0, background=(40, 60, 90)),
        Scene(caption="TWO", duration=2.5, background=(200, 120, 40)),
        Scene(duration=4.0, background=(30, 160, 60)),
    ]
    spans = make_video(tmp_path / "cuts.mp4", scenes, size=(320, 180), audio=False)
    config = load_profile("offline").segment
    shots = detect_shots(tmp_path / "cuts.mp4", spans[-1].end, config)
    assert len(shots) == len(spans)
    for shot, span in zip(shots, spans, strict=True):
        assert shot.start == pytest.approx(span.start, abs=FRAME)
        assert shot.end == pytest.approx(span.end, abs=FRAME)
    one = make_video(tmp_path / "one.mp4", scenes[:1], size=(320, 180), audio=False)
    assert [(s.start, s.end) for s in detect_shots(tmp_path / "one.mp4", 3.0, config)] == [
        (0.0, one[0].end)
    ]


def test_one_decode_gives_the_shots_and_the_frames_sampled_apart(tmp_path):
    """Ingest decodes a file once: the shot detector sees every frame and OCR gets the ones
    that sampling by seeking would give, at the same times, looking the same (decoded without
    the loop filter, they differ by a fraction of a grey level)."""
    scenes = [
        Scene(caption="ONE", duration=3.0, background=(40, 60, 90)),
        Scene(caption="TWO", duration=4.5, background=(200, 120, 40)),
        Scene(duration=3.0, background=(30, 160, 60)),
    ]
    path = tmp_path / "cuts.mp4"
    spans = make_video(path, scenes, size=(320, 180), audio=False)
    info = probe(path)
    config = load_profile("offline").segment
    detector = ShotDetector(info.fps, config)

    def shown(frames):
        for t, frame in frames:
            detector.add(frame)
            yield t, frame

    together = list(at_rate(shown(every_frame(path)), 0.5, info.fps, max_side=960))
    apart = list(iter_frames(path, 0.5, max_side=960))
    assert [t for t, _ in together] == pytest.approx([t for t, _ in apart])
    assert len(apart) == 6
    for (_, a), (_, b) in zip(together, apart, strict=True):
        assert a.shape == b.shape
        assert np.abs(a.astype(int) - b).mean() < 1.0
    assert detector.shots(spans[-1].end) == detect_shots(path, spans[-1].end, config)
    assert len(detector.shots(spans[-1].end)) == 3


def _restless_frames(seed: int, count: int) -> list[np.ndarray]:
    """Small BGR frames of 16 coloured blocks, still or drifting, with a random number of blocks
    recoloured every 5-40 frames (changes from far below to far above the least a cut needs,
    some just before or after the shortest shot) and one-frame flashes."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, (4, 4, 3))
    frames, next_cut, drift = [], 0, 0
    for i in range(count):
        if i == next_cut:
            recolour = rng.random((4, 4)) < rng.random()
            blocks = np.where(recolour[..., None], rng.integers(0, 256, blocks.shape), blocks)
            next_cut = i + int(rng.integers(5, 40))
            drift = 3 * (rng.random() < 0.5)
        blocks = np.clip(blocks + rng.integers(-drift, drift + 1, blocks.shape), 0, 255)
        frame = np.kron(blocks, np.ones((23, 40, 1))).astype(np.uint8)[:90]
        frames.append(frame if rng.random() > 0.03 else 255 - frame)  # a flash
    return frames


@pytest.mark.parametrize("threshold", [1.5, 3.0, 6.0])
def test_the_cut_rule_finds_the_frames_pyscenedetects_adaptive_detector_finds(threshold):
    frames = _restless_frames(seed=int(threshold * 10), count=1000)
    finder = CutFinder(threshold, min_frames=15)
    detector = AdaptiveDetector(adaptive_threshold=threshold, min_scene_len=15)
    expected = []
    for number, frame in enumerate(frames):
        finder.add(frame)
        expected += detector.process_frame(FrameTimecode(number, fps=25.0), frame)
    assert len(expected) >= 5
    assert finder.cuts == [cut.frame_num for cut in expected]


def test_a_sampled_line_comes_and_goes_at_the_cuts_between_its_samples():
    lines = [
        TimedText(6.0, 10.0, "STORM WARNING", "ocr"),  # first seen at 6, first missed at 10
        TimedText(0.0, 4.0, "NO CUT NEAR", "ocr"),
    ]
    moved = at_cuts(lines, cuts=[3.0, 5.48, 9.48, 11.0], step=2.0)
    assert [(m.start, m.end, m.text) for m in moved] == [
        (5.48, 9.48, "STORM WARNING"),
        (0.0, 3.0, "NO CUT NEAR"),  # last seen at 2, gone by 4: the cut at 3
    ]


def test_an_indexed_video_keeps_its_shots_and_its_clips_end_at_a_cut(indexed, corpus):
    library, _ = indexed
    harbour = corpus["harbour"]
    shots = library.shot_list([harbour.path])
    assert len(shots) == len(harbour.spans)
    for shot, scene in zip(shots, harbour.spans, strict=True):
        assert shot.start == pytest.approx(scene.start, abs=FRAME)
    assert "ferry" in shots[0].speech.lower() or "fairy" in shots[0].speech.lower()
    assert "STORM WARNING" in shots[1].screen
    assert "FERRY" not in shots[1].screen  # the first shot's caption went at the cut
    assert shots[1].speech == ""  # a caption-only scene
    assert "boats" in shots[2].speech
    assert (shots[0].start_tc, shots[1].start_tc) == ("00:00:00:00", "00:00:05:12")
    # The first clip would end at 10 s, inside nothing said: it ends at the cut before it.
    catalog = library.catalog
    file_id = catalog.file(str(harbour.path)).id
    clips = catalog.db.execute(
        "SELECT start, end FROM clips WHERE file_id = ? ORDER BY start", (file_id,)
    ).fetchall()
    assert clips[0][1] == shots[2].start and clips[1][0] == shots[2].start


def test_audio_and_unindexed_files_have_no_shot_list_and_say_why(indexed, corpus, tmp_path):
    library, _ = indexed
    with pytest.raises(IndexDirError, match="has no pictures"):
        library.shot_list([corpus["podcast"].path])
    with pytest.raises(IndexDirError, match="not in the index: run `mmr index`"):
        library.shot_list([tmp_path / "elsewhere.mp4"])


def _shotlist(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [MMR, "shotlist", *map(str, args)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=240,
    )


def test_the_command_writes_csv_html_and_edl(indexed, corpus, tmp_path):
    library, _ = indexed
    files = [corpus["council"].path, corpus["harbour"].path]
    index = library.index_dir
    table = _shotlist(*files, "--index", index, "--format", "csv")
    assert table.returncode == 0, table.stderr
    rows = list(csv.DictReader(io.StringIO(table.stdout)))
    assert [(Path(r["path"]).name, r["shot"]) for r in rows] == [
        ("council.mp4", "1"), ("council.mp4", "2"),
        ("harbour.mkv", "1"), ("harbour.mkv", "2"), ("harbour.mkv", "3"),
    ]  # fmt: skip
    assert "BUDGET APPROVED" in rows[1]["screen"]

    page = tmp_path / "shots.html"
    written = _shotlist(files[1], "--index", index, "-o", page)
    assert written.returncode == 0, written.stderr
    assert "3 shots written" in written.stderr
    assert page.read_text().count('src="data:image/jpeg;base64,') == 3

    edl = _shotlist(files[1], "--index", index, "--format", "edl")
    assert edl.returncode == 0, edl.stderr
    events = [line for line in edl.stdout.splitlines() if line[:3].isdigit()]
    assert [line.split()[4:6] for line in events] == [
        ["00:00:00:00", "00:00:05:12"],
        ["00:00:05:12", "00:00:09:12"],
        ["00:00:09:12", "00:00:14:08"],
    ]
    second = next(line for line in edl.stdout.splitlines() if "COMMENT: shot 2 |" in line)
    assert "said:" not in second and "STORM WARNING" in second

    refused = _shotlist(files[1], "--index", index, "--format", "pdf")
    assert refused.returncode == 2 and "--format must be one of csv, html, edl" in refused.stderr
    missing = _shotlist(tmp_path / "gone.mp4", "--index", index)
    assert missing.returncode == 2 and "is not in the index" in missing.stderr
