"""Shot boundaries: where the picture cuts from one camera shot to the next.

The rule is PySceneDetect's adaptive content detector (``AdaptiveDetector`` with its defaults),
written out here with the same arithmetic: the mean HSV change between frames, compared with
the change around it, so a pan or a flash is not a cut. Its own class builds timecode objects,
splits channels and widens every plane to int32 for each frame, which cost more than the
decoding; here one absolute difference of the two HSV frames is summed per channel, with the
same cuts. It must see every frame, so the frames are made cheap: PyAV decodes them without
the H.264 loop filter (a deblocking pass that only smooths block edges: the colours a cut
changes stay), and the detector gets each frame about 160 px wide, taken straight from the
decoded YUV planes (every 4th luma pixel of 360p) instead of a full-size BGR conversion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import av
import cv2
import numpy as np

from mmretrieval.config import SegmentConfig
from mmretrieval.errors import MediaError
from mmretrieval.media.decode import every_frame
from mmretrieval.media.probe import open_container
from mmretrieval.media.timeline import TimedText
from mmretrieval.spans import Span

# A programme logo or a scoreboard that flashes must not split a shot: cuts are at least this
# far apart.
MIN_SHOT_SECONDS = 0.6
DETECT_WIDTH = 160  # about the width of the frames the detector compares (at least half size)
# PySceneDetect's AdaptiveDetector defaults: a cut's change is compared with the mean change of
# this many frames on each side, and must be at least MIN_CHANGE (0-255 per HSV channel).
WINDOW_FRAMES = 2
MIN_CHANGE = 15.0


def detect_shots(path: Path, duration: float, config: SegmentConfig) -> list[Span]:
    """The file's shots, back to back from 0 to ``duration``: one shot when nothing cuts."""
    with open_container(path) as container:
        if not container.streams.video:
            raise MediaError(f"shot detection found no video stream in {path.name}")
        stream = container.streams.video[0]
        rate = float(stream.average_rate or stream.guessed_rate or 0)
    if not rate:
        raise MediaError(f"shot detection needs a frame rate; {path.name} states none")
    detector = ShotDetector(rate, config)
    for _t, frame in every_frame(path):
        detector.add(frame)
    return detector.shots(duration)


class ShotDetector:
    """The shots of a video at ``rate`` frames per second from every one of its frames,
    pushed in order (``add``): so the decoding that feeds OCR can feed it too."""

    def __init__(self, rate: float, config: SegmentConfig):
        self.rate = rate
        self.finder = CutFinder(config.shot_threshold, round(MIN_SHOT_SECONDS * rate))

    def add(self, frame: av.VideoFrame) -> None:
        self.finder.add(_small_bgr(frame))

    def shots(self, duration: float) -> list[Span]:
        """Back to back from 0 to ``duration``: one shot when nothing cut."""
        found = (round(number / self.rate, 3) for number in self.finder.cuts)
        cuts = sorted({cut for cut in found if 0 < cut < duration})
        bounds = [0.0, *cuts, duration]
        return [Span(a, b).rounded() for a, b in pairwise(bounds) if b > a]


class CutFinder:
    """Frame numbers where a cut comes, from the frames (BGR) pushed one by one: a frame whose
    change from the one before is at least ``threshold`` times the mean change of the
    ``WINDOW_FRAMES`` frames on each side (and at least ``MIN_CHANGE``), ``min_frames`` or more
    after the last cut (the first frame counts as one). The first frame's change is 0."""

    def __init__(self, threshold: float, min_frames: int):
        self.threshold = threshold
        self.min_frames = min_frames
        self.cuts: list[int] = []
        self._last_cut = 0
        self._previous: np.ndarray | None = None
        self._changes: list[float] = []  # the latest 2 * WINDOW_FRAMES + 1 frames' changes
        self._count = 0

    def add(self, bgr: np.ndarray) -> None:
        hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
        self._changes = [*self._changes[-2 * WINDOW_FRAMES :], self._change(hsv)]
        self._previous = hsv
        self._count += 1
        if len(self._changes) <= 2 * WINDOW_FRAMES:
            return
        target = self._count - 1 - WINDOW_FRAMES
        change = self._changes[WINDOW_FRAMES]
        around = (sum(self._changes) - change) / (2.0 * WINDOW_FRAMES)
        if abs(around) < 0.00001:
            ratio = 255.0 if change >= MIN_CHANGE else 0.0
        else:
            ratio = min(change / around, 255.0)
        if ratio >= self.threshold and change >= MIN_CHANGE:
            if target - self._last_cut >= self.min_frames:
                self._last_cut = target
                self.cuts.append(target)

    def _change(self, hsv: np.ndarray) -> float:
        """The mean of the three channels' mean absolute change (0 for the first frame)."""
        if self._previous is None:
            return 0.0
        pixels = float(hsv.shape[0] * hsv.shape[1])
        sums = cv2.sumElems(cv2.absdiff(hsv, self._previous))[:3]
        return sum(total / pixels for total in sums) / 3.0


def at_cuts(lines: Sequence[TimedText], cuts: Sequence[float], step: float) -> list[TimedText]:
    """Sampled lines (first seen at ``start``, first missed at ``end``, frames ``step`` s apart)
    with each uncertain edge moved to a cut inside it: a line that was not there ``step`` s
    before its start appeared at the last cut in (start - step, start]; one last seen ``step``
    s before its end went at the first cut in (end - step, end]."""
    moved = []
    for line in lines:
        came = [c for c in cuts if line.start - step < c <= line.start]
        went = [c for c in cuts if line.end - step < c <= line.end]
        start = max(came, default=line.start)
        end = min(went, default=line.end)
        moved.append(replace(line, start=start, end=end) if end > start else line)
    return moved


def _small_bgr(frame: av.VideoFrame) -> np.ndarray:
    """The frame about ``DETECT_WIDTH`` px wide (half size at most), as BGR for the detector:
    every ``step``-th pixel of the luma plane and every ``step / 2``-th of the two chroma
    planes (4:2:0, half the luma's size), without converting the full-size frame."""
    if frame.format.name != "yuv420p":
        frame = frame.reformat(format="yuv420p")
    step = max(2, 2 * (frame.width // (2 * DETECT_WIDTH)))
    planes = [
        _plane(plane)[:: step // factor, :: step // factor]
        for plane, factor in zip(frame.planes, (1, 2, 2), strict=True)
    ]
    return cv2.cvtColor(cv2.merge(planes), cv2.COLOR_YUV2BGR)


def _plane(plane: av.video.plane.VideoPlane) -> np.ndarray:
    rows = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
    return rows[:, : plane.width]
