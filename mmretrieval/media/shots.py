"""Shot boundaries: where the picture cuts from one camera shot to the next.

PySceneDetect's adaptive content detector does the work (HSV and edge change between frames,
compared with the change around it, so a pan or a flash is not a cut); it decodes the video at
its full frame rate with OpenCV, downscaled, which costs about a second per minute of 360p
footage on one core: a small fraction of speech recognition's time.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from scenedetect import AdaptiveDetector, VideoOpenFailure, detect
from scenedetect.common import FrameTimecode

from mmretrieval.config import SegmentConfig
from mmretrieval.errors import MediaError
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


def _seconds(timecode: FrameTimecode) -> float:
    return round(float(timecode.seconds), 3)
