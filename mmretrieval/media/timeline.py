"""Timed text, the small immutable records speech recognition, subtitles and OCR produce."""

from __future__ import annotations

from dataclasses import dataclass, field

from mmretrieval.spans import Timed


@dataclass(frozen=True)
class Word(Timed):
    start: float
    end: float
    text: str
    probability: float | None = None  # the recogniser's confidence in it (None: not given)


TRANSCRIPT_SOURCES = ("speech", "subtitle")  # what was said; the catalog's texts also hold "ocr"


@dataclass(frozen=True)
class TimedText(Timed):
    """What was said (``speech``, ``subtitle``) or shown (``ocr``) during [start, end)."""

    start: float
    end: float
    text: str
    source: str
    words: tuple[Word, ...] = field(default=())
    language: str | None = None  # ISO 639-1 (None: unknown)

    def shifted(self, seconds: float) -> TimedText:
        """The same text ``seconds`` later: a transcript of audio that started at ``seconds``,
        in the file's own times."""
        if not seconds:
            return self
        words = tuple(
            Word(w.start + seconds, w.end + seconds, w.text, w.probability) for w in self.words
        )
        return TimedText(
            self.start + seconds, self.end + seconds, self.text, self.source, words, self.language
        )
