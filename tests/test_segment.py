"""Cutting a timeline into clip windows: full cover, the configured overlap, bounded length,
sentences kept whole, and progress whatever the speech looks like."""

from __future__ import annotations

import math
import random

import pytest

from mmretrieval.config import SegmentConfig
from mmretrieval.media.segment import clip_windows
from mmretrieval.media.timeline import TimedText
from mmretrieval.spans import Span

DEFAULT = SegmentConfig()
EPS = 1e-3  # windows are rounded to milliseconds


def _speech(*spans: tuple[float, float]) -> list[TimedText]:
    return [TimedText(a, b, f"sentence {n}", "speech") for n, (a, b) in enumerate(spans)]


def _assert_sound(windows, duration, config, speech=()):
    """Cover [0, duration] with no gap, move forward every time, stay within max_window."""
    assert windows, "no windows"
    assert all(isinstance(w, Span) for w in windows)
    assert windows[0].start == 0.0
    assert windows[-1].end == pytest.approx(duration, abs=EPS)
    for (a, b), (c, d) in _pairs(windows):
        assert c <= b + EPS, f"gap between {(a, b)} and {(c, d)}"
        assert c > a, f"{(c, d)} does not start after {(a, b)}"
        assert d >= b, f"{(c, d)} ends before {(a, b)}"
    for a, b in _bounds(windows):
        assert b > a, f"empty window {(a, b)}"
        assert b - a <= config.max_window + EPS, f"{(a, b)} longer than {config.max_window}"
    # Every step moves by at least a few ms, so the count is bounded by the timeline.
    step = config.window - config.overlap
    assert len(windows) <= 2 * math.ceil(duration / step) + 2 * len(speech) + 2


def _bounds(windows: list[Span]) -> list[tuple[float, float]]:
    return [(w.start, w.end) for w in windows]


def _pairs(windows: list[Span]):
    """Each window's (start, end) with the next one's."""
    bounds = _bounds(windows)
    return zip(bounds, bounds[1:], strict=False)


def _inside(span: tuple[float, float], windows) -> bool:
    return any(a <= span[0] + EPS and span[1] <= b + EPS for a, b in _bounds(windows))


@pytest.mark.parametrize("duration", [9.0, 10.0, 25.0, 60.0, 61.7, 123.4])
def test_without_speech_windows_cover_everything_and_overlap_as_configured(duration):
    windows = clip_windows(duration, [], DEFAULT)
    _assert_sound(windows, duration, DEFAULT)
    for (a, b), (c, _d) in _pairs(windows):
        assert b - c == pytest.approx(DEFAULT.overlap, abs=EPS)
        assert b - a == pytest.approx(DEFAULT.window, abs=EPS)


@pytest.mark.parametrize(
    ("window", "overlap", "max_window"), [(10, 2, 16), (5, 0, 5), (30, 10, 40), (4, 3, 6)]
)
def test_overlap_follows_the_config(window, overlap, max_window):
    config = SegmentConfig(window=window, overlap=overlap, max_window=max_window)
    duration = 7.3 * window
    windows = clip_windows(duration, [], config)
    _assert_sound(windows, duration, config)
    shared = [b - c for (_a, b), (c, _d) in _pairs(windows)]
    assert shared == pytest.approx([overlap] * len(shared), abs=EPS)


@pytest.mark.parametrize("tail", [0.1, 1.0, 2.0])
def test_short_tail_is_absorbed_into_the_last_window(tail):
    # Windows start every 8 s: 0, 8, 16, ... so a file of 8k + 2 + tail leaves a short tail.
    duration = 8 * 3 + DEFAULT.overlap + tail
    windows = clip_windows(duration, [], DEFAULT)
    _assert_sound(windows, duration, DEFAULT)
    assert all(b - a >= DEFAULT.window - EPS for a, b in _bounds(windows)), windows


@pytest.mark.parametrize(
    "sentence", [(8.5, 12.5), (9.9, 10.1), (6.0, 15.0), (17.0, 21.0), (7.0, 11.0), (9.0, 19.0)]
)
def test_sentence_across_a_boundary_lies_whole_in_a_window(sentence):
    duration = 40.0
    speech = _speech(sentence)
    windows = clip_windows(duration, speech, DEFAULT)
    _assert_sound(windows, duration, DEFAULT, speech)
    assert _inside(sentence, windows), windows


def test_consecutive_sentences_across_boundaries_each_lie_whole_in_a_window():
    spans = [(0.4, 3.9), (4.2, 9.1), (9.3, 13.8), (14.0, 17.5), (17.9, 24.2), (24.5, 30.0)]
    speech = _speech(*spans)
    windows = clip_windows(31.0, speech, DEFAULT)
    _assert_sound(windows, 31.0, DEFAULT, speech)
    for span in spans:
        assert _inside(span, windows), (span, windows)


def test_align_to_speech_off_ignores_sentences():
    config = SegmentConfig(align_to_speech=False)
    speech = _speech((8.5, 12.5))
    assert clip_windows(40.0, speech, config) == clip_windows(40.0, [], config)


def test_a_window_ends_at_a_shot_cut_near_its_end_and_the_next_starts_there():
    windows = clip_windows(30.0, [], DEFAULT, cuts=[1.0, 8.6, 25.0])
    assert _bounds(windows)[:2] == [(0.0, 8.6), (8.6, 18.6)]  # 1.0 is too early to end one
    assert windows[2].start == pytest.approx(16.6)  # no cut near 18.6: the usual overlap
    assert windows[2].end == 25.0


def test_a_cut_inside_a_sentence_does_not_end_a_window():
    speech = _speech((7.5, 11.0))
    windows = clip_windows(30.0, speech, DEFAULT, cuts=[9.5])
    assert windows[0].end == 11.0
    assert _inside((7.5, 11.0), windows)


@pytest.mark.parametrize(
    ("duration", "spans"),
    [
        (0.5, []),
        (0.5, [(0.0, 100.0)]),
        (0.001, []),
        (100.0, [(0.0, 100.0)]),  # one sentence longer than max_window
        (100.0, [(0.5, 99.0)]),
        (50.0, [(1.0, 45.0), (2.0, 44.0), (3.0, 46.0), (9.0, 30.0)]),  # overlapping, nested
        (50.0, [(9.99, 10.01)] * 5),  # duplicated
        (30.0, [(12.0, 80.0)]),  # runs past the end of the file
        (40.0, [(0.5, 9.5), (9.6, 40.0)]),  # a long sentence right after a short one
    ],
)
def test_always_makes_progress(duration, spans):
    speech = _speech(*spans)
    windows = clip_windows(duration, speech, DEFAULT)
    _assert_sound(windows, duration, DEFAULT, speech)


def test_no_window_repeats_or_lies_inside_its_predecessor():
    # A sentence too long to stretch to follows a short one: the window ends where the long one
    # starts, and the next window must not go back to re-cover the short one it already holds.
    speech = _speech((0.5, 9.5), (9.6, 40.0))
    windows = clip_windows(40.0, speech, DEFAULT)
    for (a, b), (c, d) in _pairs(windows):
        assert d > b, f"{(c, d)} adds nothing to {(a, b)}: {windows}"


def test_float_error_does_not_repeat_a_window():
    # A window starts at 23.74 (where it cut a sentence); 23.74 + 10 is 33.739999... in binary,
    # just short of the sentence starting at 33.74, which then looks as if it starts later.
    config = SegmentConfig(window=10, overlap=0, max_window=10)
    speech = _speech((14.14, 23.73), (23.74, 24.99), (33.74, 47.62))
    windows = clip_windows(56.0, speech, config)
    assert len(set(windows)) == len(windows), windows
    _assert_sound(windows, 56.0, config, speech)


def _random_case(rng: random.Random):
    window = rng.choice([2.0, 5.0, 10.0, 30.0, round(rng.uniform(1, 40), 2)])
    overlap = round(rng.choice([0.0, 0.2, 0.5, rng.uniform(0, 0.9)]) * window, 2)
    max_window = round(window * rng.choice([1.25, 1.6, 2.0, rng.uniform(1.25, 3)]), 2)
    config = SegmentConfig(window=window, overlap=overlap, max_window=max_window)
    duration = round(rng.choice([rng.uniform(0.05, window), rng.uniform(0, 20 * window)]), 2)
    spans, t = [], round(rng.uniform(0, 2), 2)
    while t < duration + 2 and len(spans) < 60:  # sentences one after the other, like ASR
        length = round(rng.uniform(0.3, rng.choice([window, 1.5 * max_window])), 2)
        spans.append((t, round(t + length, 2)))
        t = round(t + length + rng.choice([0.0, 0.01, rng.uniform(0, 3)]), 2)
    cuts = sorted(round(rng.uniform(0, duration), 2) for _ in range(rng.randint(0, 30)))
    return config, duration, spans, cuts


@pytest.mark.parametrize("seed", range(300))
def test_random_timelines_are_covered_with_progress_and_bounded_windows(seed):
    config, duration, spans, cuts = _random_case(random.Random(seed))
    speech = _speech(*spans)
    windows = clip_windows(duration, speech, config, cuts)
    _assert_sound(windows, duration, config, speech)
    # Sentences that fit in a window with room for the overlap are never cut.
    for start, end in spans:
        end = min(end, duration)
        if start < duration and end - start <= config.window - config.overlap:
            assert _inside((start, end), windows), ((start, end), windows)
