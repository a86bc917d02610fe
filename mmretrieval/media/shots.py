"""Shot boundaries: where the picture cuts from one camera shot to the next.

PySceneDetect's adaptive content detector does the work (HSV change between frames, compared
with the change around it, so a pan or a flash is not a cut). It must see every frame, so the
frames are made cheap: PyAV decodes them without the H.264 loop filter (a deblocking pass that
only smooths block edges: the colours a cut changes stay), and the detector gets each frame
about 160 px wide, taken straight from the decoded YUV planes (every 4th luma pixel of 360p)
instead of a full-size BGR conversion. That halves the cost of PySceneDetect's own OpenCV
reader at its default downscale, with the same cuts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import av
import cv2
import numpy as np
from scenedetect import AdaptiveDetector
from scenedetect.common import FrameTimecode

from mmretrieval.config import SegmentConfig
from mmretrieval.errors import MediaError
from mmretrieval.media.probe import open_container
from mmretrieval.media.timeline import TimedText
from mmretrieval.spans import Span

# A programme logo or a scoreboard that flashes must not split a shot: cuts are at least this
# far apart.
MIN_SHOT_SECONDS = 0.6
DETECT_WIDTH = 160  # about the width of the frames the detector compares (at least half size)


def detect_shots(path: Path, duration: float, config: SegmentConfig) -> list[Span]:
    """The file's shots, back to back from 0 to ``duration``: one shot when nothing cuts."""
    detector = AdaptiveDetector(
        adaptive_threshold=config.shot_threshold, min_scene_len=f"{MIN_SHOT_SECONDS}s"
    )
    found: list[FrameTimecode] = []
    with open_container(path) as container:
        if not container.streams.video:
            raise MediaError(f"shot detection found no video stream in {path.name}")
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        if not rate:
            raise MediaError(f"shot detection needs a frame rate; {path.name} states none")
        stream.codec_context.options = {"skip_loop_filter": "all"}
        timecode = None
        try:
            for number, frame in enumerate(container.decode(stream)):
                timecode = FrameTimecode(number, fps=float(rate))
                found += detector.process_frame(timecode, _small_bgr(frame))
        except av.FFmpegError as exc:
            raise MediaError(f"shot detection could not decode the video: {exc}") from exc
        if timecode is not None:
            found += detector.post_process(timecode)
    cuts = sorted({_seconds(cut) for cut in found if 0 < _seconds(cut) < duration})
    bounds = [0.0, *cuts, duration]
    return [Span(a, b).rounded() for a, b in pairwise(bounds) if b > a]


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
    y, u, v = (
        _plane(plane)[:: step // factor, :: step // factor]
        for plane, factor in zip(frame.planes, (1, 2, 2), strict=True)
    )
    return cv2.cvtColor(np.dstack([y, u, v]), cv2.COLOR_YUV2BGR)


def _plane(plane: av.video.plane.VideoPlane) -> np.ndarray:
    rows = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
    return rows[:, : plane.width]


def _seconds(timecode: FrameTimecode) -> float:
    return round(float(timecode.seconds), 3)
