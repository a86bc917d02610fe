"""The one span type: a time window [start, end) of a file, and the overlap logic, once.

Everything that covers time (a clip window, a catalogued clip, a search hit, a transcript line,
a moderation finding, an evaluation item) either *is* a ``Span`` or carries ``start``/``end``
and inherits ``Timed``, so "do these overlap", "how much" and "join them" are answered here and
nowhere else. lhotse's ``Cut`` is the model: small, immutable, passed around by value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Protocol

EPSILON = 1e-3  # span times are kept to the millisecond


class HasTime(Protocol):
    start: float
    end: float


class Timed:
    """Mixin for records with ``start`` and ``end`` seconds: overlap, intersection, IoU."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def middle(self) -> float:
        return (self.start + self.end) / 2

    def overlaps(self, other: HasTime) -> bool:
        """True when the two half-open windows share some time (touching ends do not)."""
        return self.start < other.end and other.start < self.end

    def overlap(self, other: HasTime) -> float:
        """Seconds the two windows share."""
        return max(0.0, min(self.end, other.end) - max(self.start, other.start))

    def iou(self, other: HasTime) -> float:
        """Temporal intersection over union, 0 for disjoint windows."""
        shared = self.overlap(other)
        union = max(self.end, other.end) - min(self.start, other.start)
        return shared / union if union > 0 else 0.0

    def contains(self, seconds: float) -> bool:
        return self.start <= seconds < self.end


@dataclass(frozen=True)
class Span(Timed):
    """[start, end) seconds of one file; ``file_id`` is None until the file is catalogued."""

    start: float
    end: float
    file_id: int | None = None

    def __post_init__(self) -> None:
        if not self.end >= self.start:
            raise ValueError(f"a span must have start <= end, got {self.start}-{self.end}")

    @classmethod
    def of(cls, item: HasTime, file_id: int | None = None) -> Span:
        """The span of any record with start and end."""
        return cls(item.start, item.end, file_id)

    def same_file_overlaps(self, other: Span) -> bool:
        """Overlap within one file: spans of two different catalogued files never overlap."""
        if None not in (self.file_id, other.file_id) and self.file_id != other.file_id:
            return False
        return self.overlaps(other)

    def union(self, other: HasTime) -> Span:
        """The smallest span covering both (they need not overlap)."""
        return replace(self, start=min(self.start, other.start), end=max(self.end, other.end))

    def shifted(self, seconds: float) -> Span:
        return replace(self, start=self.start + seconds, end=self.end + seconds)

    def rounded(self, digits: int = 3) -> Span:
        return replace(self, start=round(self.start, digits), end=round(self.end, digits))


def merge(spans: Iterable[HasTime], gap: float = 0.0) -> list[Span]:
    """Join spans that overlap or lie within ``gap`` seconds of each other, per file, in time
    order. Inputs may be any records with start and end (and optionally file_id)."""
    ordered = sorted(
        (Span(s.start, s.end, getattr(s, "file_id", None)) for s in spans),
        key=lambda s: (s.file_id is not None, s.file_id or 0, s.start, s.end),
    )
    merged: list[Span] = []
    for span in ordered:
        last = merged[-1] if merged else None
        if last is not None and last.file_id == span.file_id and span.start <= last.end + gap:
            merged[-1] = last.union(span)
        else:
            merged.append(span)
    return merged
