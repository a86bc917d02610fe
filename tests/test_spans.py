"""The one span type: half-open overlap, IoU, merging per file, and records that inherit Timed."""

from __future__ import annotations

import math

import pytest

from mmretrieval.media.timeline import TimedText
from mmretrieval.spans import Span, merge
from mmretrieval.store.catalog import ClipText


def test_half_open_windows_overlap_only_when_they_share_time():
    a = Span(0.0, 10.0)
    assert a.overlaps(Span(9.999, 20.0)) and Span(9.999, 20.0).overlaps(a)
    assert not a.overlaps(Span(10.0, 20.0))  # touching ends share no time
    assert a.overlaps(Span(2.0, 3.0)) and Span(2.0, 3.0).overlaps(a)  # nested, both ways
    assert not a.overlaps(Span(10.5, 12.0))
    assert a.overlap(Span(8.0, 12.0)) == pytest.approx(2.0)
    assert a.overlap(Span(11.0, 12.0)) == 0.0


def test_iou_of_equal_partial_and_disjoint_windows():
    a = Span(0.0, 10.0)
    assert a.iou(Span(0.0, 10.0)) == 1.0
    assert a.iou(Span(5.0, 15.0)) == pytest.approx(5 / 15)
    assert a.iou(Span(20.0, 30.0)) == 0.0
    assert Span(3.0, 3.0).iou(Span(3.0, 3.0)) == 0.0  # empty spans: no division by zero


def test_contains_is_half_open_and_middle_duration_follow_the_bounds():
    a = Span(2.0, 6.0)
    assert a.contains(2.0) and a.contains(5.999) and not a.contains(6.0)
    assert (a.duration, a.middle) == (4.0, 4.0)


def test_a_backwards_span_is_refused():
    with pytest.raises(ValueError, match="start <= end"):
        Span(5.0, 4.0)
    assert Span(1.0, math.inf).overlaps(Span(1e9, 1e9 + 1))  # open-ended: to the end of a file


def test_merge_joins_overlapping_and_near_spans_in_time_order():
    spans = [Span(20.0, 25.0), Span(0.0, 5.0), Span(4.0, 8.0), Span(8.5, 9.0)]
    assert merge(spans) == [Span(0.0, 8.0), Span(8.5, 9.0), Span(20.0, 25.0)]
    assert merge(spans, gap=0.5) == [Span(0.0, 9.0), Span(20.0, 25.0)]
    assert merge([Span(0.0, 5.0), Span(5.0, 6.0)]) == [Span(0.0, 6.0)]  # touching ones join
    assert merge([]) == []


def test_merge_never_joins_spans_of_different_files():
    spans = [Span(0.0, 10.0, file_id=2), Span(5.0, 15.0, file_id=1), Span(8.0, 12.0, file_id=2)]
    assert merge(spans) == [Span(5.0, 15.0, file_id=1), Span(0.0, 12.0, file_id=2)]
    assert not Span(0.0, 10.0, 1).same_file_overlaps(Span(0.0, 10.0, 2))
    assert Span(0.0, 10.0, 1).same_file_overlaps(Span(5.0, 6.0, 1))
    assert Span(0.0, 10.0, 1).same_file_overlaps(Span(5.0, 6.0))  # not catalogued yet


def test_records_with_times_share_the_span_logic():
    line = TimedText(3.0, 7.0, "hello", "speech")
    clip = ClipText(6.0, 16.0, "hello", "")
    assert line.overlaps(clip) and clip.overlaps(line)
    assert line.overlap(clip) == pytest.approx(1.0)
    assert Span.of(clip, file_id=4) == Span(6.0, 16.0, 4)
    assert merge([line, clip]) == [Span(3.0, 16.0)]
    assert line.shifted(10.0) == TimedText(13.0, 17.0, "hello", "speech")
