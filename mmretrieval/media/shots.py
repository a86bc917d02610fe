"""Shot boundaries: where the picture cuts from one camera shot to the next.

PySceneDetect's adaptive content detector does the work (HSV and edge change between frames,
compared with the change around it, so a pan or a flash is not a cut); it decodes the video at
its full frame rate with OpenCV, downscaled, which costs about a second per minute of 360p
footage on one core: a small fraction of speech recognition's time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

from scenedetect import AdaptiveDetector, VideoOpenFailure, detect
from scenedetect.common import FrameTimecode

from mmretrieval.config import SegmentConfig
from mmretrieval.errors import MediaError
from mmretrieval.media.timeline import TimedText
from mmretrieval.spans import Span

# A programme logo or a scoreboard that flashes must not split a shot: cuts are at least this
# far apart.
MIN_SHOT_SECONDS = 0.6


def detect_shots(path: Path, duration: float, config: SegmentConfig) -> list[Span]:
    """The file's shots, back to back from 0 to ``duration``: one shot when nothing cuts."""
    detector = AdaptiveDetector(
        adaptive_threshold=config.shot_threshold, min_scene_len=f"{MIN_SHOT_SECONDS}s"
    )
    try:
        found = detect(str(path), detector, backend="opencv")
    except VideoOpenFailure as exc:
        raise MediaError(f"shot detection could not read the video: {exc}") from exc
    cuts = sorted({_seconds(start) for start, _ in found if 0 < _seconds(start) < duration})
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


def _seconds(timecode: FrameTimecode) -> float:
    return round(float(timecode.seconds), 3)
