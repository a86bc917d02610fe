"""Spaces back into run-together screen text: "MINISTER VISITSREADING" -> "MINISTER VISITS READING".

PP-OCR reads a bold lower third drawn at the font's own word spacing as one run of capitals.
Search needs the words: keyword search matches whole words and phrases, and the sentence
encoder embeds a run as nonsense. wordninja splits a run into its most probable sequence of
English words (unigram costs from Wikipedia word frequencies, by Zipf's law) in about a
millisecond a line. Only long runs are split, and a split is kept only when its pieces look
like words: a name missing from the word list falls apart into stray letters
("KOWALCZYK" -> "KOWAL C ZYK") and is left whole. The reader indexes the raw line as well, so
a wrong split loses nothing.
"""

from __future__ import annotations

import functools
import re

MIN_RUN = 7  # characters; shorter runs are nearly always one word or a name
SINGLE_LETTER_WORDS = frozenset("ai")
_RUN = re.compile(r"[A-Za-z0-9']+")


def recover_spaces(line: str) -> str:
    """``line`` with spaces put back into its run-together words (the same line when none)."""
    return _RUN.sub(lambda match: " ".join(split_run(match.group())), line)


def split_run(run: str) -> list[str]:
    """The words of one run of letters and digits, in their original case; ``[run]`` when it
    is short, is itself a word, or splits only into stray letters."""
    if len(run) < MIN_RUN:
        return [run]
    pieces = _split(run)
    if len(pieces) < 2 or any(_stray(piece) for piece in pieces):
        return [run]
    return pieces


def _stray(piece: str) -> bool:
    return len(piece) == 1 and piece.isalpha() and piece.lower() not in SINGLE_LETTER_WORDS


@functools.lru_cache(maxsize=4096)
def _split(run: str) -> list[str]:
    import wordninja  # loads its word list (0.3 s) on first use, not on import of the reader

    return wordninja.split(run)
