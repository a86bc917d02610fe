"""Cutting a file's timeline into overlapping clip windows that do not split sentences."""

from __future__ import annotations

from collections.abc import Sequence

from mmretrieval.config import SegmentConfig
from mmretrieval.spans import EPSILON, HasTime, Span


def clip_windows(
    duration: float,
    speech: Sequence[HasTime],
    config: SegmentConfig,
    cuts: Sequence[float] = (),
) -> list[Span]:
    """Fixed windows of ``config.window`` seconds overlapping by ``config.overlap``.

    With ``align_to_speech``, a window that would end inside a speech segment stretches to the
    segment's end (up to ``max_window``) or shrinks to its start, and the next window starts at
    the beginning of the sentence it would have cut, so every sentence lies whole in some clip.
    Before that, a shot cut (``cuts``, seconds) within a quarter window of where a window would
    end and inside no sentence ends it, and the next window starts at the cut: a clip then
    shows one stretch of footage, not the tail of the shot before.
    """
    spans: list[Span] = []
    if config.align_to_speech:  # a backwards cue (a malformed sidecar) contains no time: skipped
        spans = [Span.of(s) for s in speech if s.end >= s.start]
        spans.sort(key=lambda s: (s.start, s.end))
    min_tail = config.window / 4
    windows: list[Span] = []
    start = 0.0
    while not windows or duration - start > EPSILON:
        end = min(start + config.window, duration)
        cut = None
        if duration - end < min_tail and duration - start <= config.max_window:
            end = duration
        elif (cut := _cut_near(cuts, spans, start, end, config)) is not None:
            end = cut
        elif (span := _containing(spans, end)) is not None:
            if span.end - start <= config.max_window:
                end = min(span.end, duration)
            elif span.start - start >= config.window / 2:
                end = span.start
        windows.append(Span(start, end).rounded())
        if end >= duration:
            break
        if cut is not None:
            start = round(cut, 3)
            continue
        next_start = end - config.overlap
        span = _containing(spans, next_start)
        if span is not None and span.start > start + EPSILON and span.end > end + EPSILON:
            next_start = span.start  # the window cut this sentence: the next one starts with it
        next_start = round(next_start, 3)
        start = next_start if next_start > start + EPSILON else round(end, 3)
    return windows


def _cut_near(
    cuts: Sequence[float], spans: Sequence[Span], start: float, end: float, config: SegmentConfig
) -> float | None:
    """The cut nearest ``end`` that can end the window from ``start``: within a quarter window
    of ``end``, leaving the window at least half its length and at most ``max_window``, and
    inside no sentence."""
    reach = config.window / 4
    fits = [
        c
        for c in cuts
        if abs(c - end) <= reach
        and c - start >= config.window / 2
        and c - start <= config.max_window
        and _containing(spans, c) is None
    ]
    return min(fits, key=lambda c: abs(c - end), default=None)


def _containing(spans: Sequence[Span], t: float) -> Span | None:
    """The first speech span with ``t`` strictly inside it (not at either end)."""
    return next((s for s in spans if s.start < t < s.end), None)
