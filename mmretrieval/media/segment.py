"""Cutting a file's timeline into overlapping clip windows that do not split sentences."""

from __future__ import annotations

from collections.abc import Sequence

from mmretrieval.config import SegmentConfig
from mmretrieval.media.timeline import TimedText

EPSILON = 1e-3  # clip times are kept to the millisecond


def clip_windows(
    duration: float, speech: Sequence[TimedText], config: SegmentConfig
) -> list[tuple[float, float]]:
    """Fixed windows of ``config.window`` seconds overlapping by ``config.overlap``.

    With ``align_to_speech``, a window that would end inside a speech segment stretches to the
    segment's end (up to ``max_window``) or shrinks to its start, and the next window starts at
    the beginning of the sentence it would have cut, so every sentence lies whole in some clip.
    """
    spans = sorted((s.start, s.end) for s in speech) if config.align_to_speech else []
    min_tail = config.window / 4
    windows: list[tuple[float, float]] = []
    start = 0.0
    while not windows or duration - start > EPSILON:
        end = min(start + config.window, duration)
        if duration - end < min_tail and duration - start <= config.max_window:
            end = duration
        elif (span := _containing(spans, end)) is not None:
            span_start, span_end = span
            if span_end - start <= config.max_window:
                end = min(span_end, duration)
            elif span_start - start >= config.window / 2:
                end = span_start
        windows.append((round(start, 3), round(end, 3)))
        if end >= duration:
            break
        next_start = end - config.overlap
        span = _containing(spans, next_start)
        if span is not None and span[0] > start + EPSILON and span[1] > end + EPSILON:
            next_start = span[0]  # the window cut this sentence: the next one starts with it
        next_start = round(next_start, 3)
        start = next_start if next_start > start + EPSILON else round(end, 3)
    return windows


def _containing(spans: Sequence[tuple[float, float]], t: float) -> tuple[float, float] | None:
    for span_start, span_end in spans:
        if span_start < t < span_end:
            return span_start, span_end
    return None
