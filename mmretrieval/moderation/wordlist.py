"""Word lists: listed words and phrases found in a timed transcript, with the time each was said.

Word-list file format (UTF-8 text, one entry per line):

- an entry is a word, or a phrase of words separated by spaces;
- entries match whole words, case-insensitively; a phrase matches those words said in a row;
- a ``*`` at the end of an entry matches any ending of its last word (``swear*`` matches
  swear, swears, swearing), and is allowed nowhere else;
- ``#`` starts a comment, on its own line or after an entry; blank lines are ignored.

Words are runs of letters and digits, with inner apostrophes kept (``don't``); other punctuation
separates words, in entries and transcripts alike, so ``well-known`` is the phrase "well known".
With ASR word timestamps a hit has the word's own time; a subtitle cue has none, so a hit in
it has the cue's span.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mmretrieval.media.timeline import TimedText

BUNDLED_PREFIX = "bundled:"
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
_WORD = re.compile(r"\w+(?:['’]\w+)*")


@dataclass(frozen=True)
class Entry:
    text: str  # as written in the list
    words: tuple[str, ...]  # case-folded
    prefix: bool  # the last word matches any word starting with it


@dataclass(frozen=True)
class WordHit:
    start: float
    end: float
    entry: str  # the list entry that matched
    said: str  # the transcript's words that matched it
    line: TimedText  # the transcript segment holding the first matched word


def word_list_path(spec: str) -> Path:
    """``bundled:NAME`` (``mmretrieval/data/wordlist_NAME.txt``) or a path."""
    if spec.startswith(BUNDLED_PREFIX):
        name = spec.removeprefix(BUNDLED_PREFIX)
        path = DATA_DIR / f"wordlist_{name}.txt"
        if not path.is_file():
            shipped = sorted(p.stem.removeprefix("wordlist_") for p in DATA_DIR.glob("wordlist_*"))
            raise ValueError(
                f"no bundled word list {name!r}: expected one of "
                f"{', '.join(BUNDLED_PREFIX + n for n in shipped)}, or a path to a file"
            )
        return path
    return Path(spec)


def read_word_list(path: Path) -> list[Entry]:
    """The entries of a word-list file; raises ValueError naming the file and line."""
    if not path.is_file():
        raise ValueError(f"word list file {path} does not exist")
    lines = path.read_text(encoding="utf-8").splitlines()
    return parse_entries(lines, where=str(path))


def parse_entries(lines: Iterable[str], where: str = "words") -> list[Entry]:
    entries = []
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        prefix = text.endswith("*")
        body = text.removesuffix("*")
        if "*" in body or (prefix and not body.strip()):
            raise ValueError(
                f"{where} line {number}: {text!r}: '*' may only end an entry, after a word"
            )
        words = tuple(w.casefold() for w in _WORD.findall(body))
        if not words:
            raise ValueError(f"{where} line {number}: {text!r} holds no word")
        if prefix and not _WORD.match(body[-1]):  # "swear *" is refused, not read as swear*
            raise ValueError(
                f"{where} line {number}: {text!r}: '*' must follow a letter or digit directly"
            )
        entries.append(Entry(text, words, prefix))
    return entries


class WordMatcher:
    """Finds the entries of a word list in a transcript."""

    def __init__(self, entries: Sequence[Entry]):
        self.entries = list(entries)

    def find(self, transcript: Sequence[TimedText]) -> list[WordHit]:
        """Every occurrence of an entry, in time order (overlapping occurrences all count)."""
        tokens = list(_tokens(transcript))
        hits = []
        for i in range(len(tokens)):
            for entry in self.entries:
                n = len(entry.words)
                if i + n <= len(tokens) and _matches(entry, [t[0] for t in tokens[i : i + n]]):
                    said = " ".join(t[0] for t in tokens[i : i + n])
                    start, end = tokens[i][1], tokens[i + n - 1][2]
                    hits.append(WordHit(start, end, entry.text, said, tokens[i][3]))
        return hits


def _matches(entry: Entry, words: list[str]) -> bool:
    *whole, last = entry.words
    if words[: len(whole)] != whole:
        return False
    return words[-1].startswith(last) if entry.prefix else words[-1] == last


def _tokens(transcript: Sequence[TimedText]) -> Iterable[tuple[str, float, float, TimedText]]:
    """(case-folded word, start, end, segment) for every word said, in order."""
    for item in transcript:
        if item.words:
            for word in item.words:
                for token in _WORD.findall(word.text):
                    yield token.casefold(), word.start, word.end, item
        else:
            for token in _WORD.findall(item.text):
                yield token.casefold(), item.start, item.end, item
