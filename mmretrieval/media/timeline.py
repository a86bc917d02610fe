"""The small immutable records passed between stages: a clip of a file, and timed text."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Clip:
    """A time window of one catalogued file; the unit that gets indexed and returned."""

    file_id: int
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class TimedText:
    """What was said (``speech``, ``subtitle``) or shown (``ocr``) during [start, end)."""

    start: float
    end: float
    text: str
    source: str
    words: tuple[Word, ...] = field(default=())

    def overlaps(self, start: float, end: float) -> bool:
        return self.start < end and self.end > start
