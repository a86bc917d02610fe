"""Keyword postings of the catalog's clip texts in memory, ranked by BM25 as SQLite's FTS5 ranks.

FTS5's ``bm25()`` reads each matching clip's length from its docsize table: at a million clips
that was 16 ms of a 24 ms keyword lookup, and the trigram table's substring lookup 6-8 ms more.
The same rankings over numpy arrays take well under a millisecond, so keyword candidates are
ranked here: a word's postings (clips and how often it occurs in each) and each clip's length,
per segment of clips, with FTS5's formula, constants and order (k1 1.2, b 0.75, IDF floored at
1e-6, equal scores by clip id), so the candidates are the clips FTS5 gave. Screen text is
searched by substring (OCR runs words together: "VISITSREADING") over the distinct runs of
letters and digits in it, with FTS5's trigram counts for the lengths.

The catalog stays the source of truth: the postings are built from its clips on first use
(5 CPU s for 250k clips on a busy machine, ~13 at a million) and follow its changes
(``refresh``): clip ids are never reused, so new clips are read and tokenized alone, into a
segment of their own, removed ones are masked out, and past ``MAX_SEGMENTS`` the segments are
merged without them. Quoted phrases, which need word positions, still go to FTS5.

An index keeps them between opens in one file (``save``, ``load``: plain numpy arrays, read
in well under a second at a million clips) with the id of the catalog they were read from and
its generation. A file that lags behind its catalog is brought in step by ``refresh`` like the
postings in memory; one of another catalog, or of a later generation than the catalog's (a
catalog put back from a copy), is not read.
"""

from __future__ import annotations

import bisect
import json
import logging
import math
import os
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Protocol

import numpy as np
from scipy import sparse

K1, B = 1.2, 0.75  # FTS5's bm25() constants
MIN_IDF = 1e-6  # FTS5 floors the IDF of a word in more than half of the clips here
MAX_SEGMENTS = 8  # segments of added clips kept apart before they are merged into one
_RUNS = re.compile(r"[^\W_]+")  # letters and digits: FTS5 unicode61's token characters
BREAK = "\x00"  # between texts tokenized together
# UTF-8 bytes of ASCII characters other than letters, digits and the break -> space (the
# bytes of other letters stay): then ``split`` finds the words, as the expression would
_SPACES = bytes(c if c >= 128 or chr(c).isalnum() or chr(c) == BREAK else 32 for c in range(256))
CHUNK = 20_000  # texts tokenized together
SAVED_FORMAT = 1  # of the saved file: bump when ``save`` writes something else

log = logging.getLogger(__name__)


def tokenize(text: str) -> list[str]:
    """Words as FTS5's ``unicode61 remove_diacritics`` tokenizer sees them."""
    if text.isascii():  # the common case, ten times faster than decomposing
        return _RUNS.findall(text.lower())
    decomposed = unicodedata.normalize("NFKD", text.lower())
    # lowered again: a compatibility form can decompose to a capital ("ℌ" -> "H")
    return _RUNS.findall("".join(c for c in decomposed if not unicodedata.combining(c)).lower())


class ClipTexts(Protocol):
    """What the postings read from a catalog (``Catalog`` and ``ShardCatalog``)."""

    def all_clip_ids(self) -> np.ndarray: ...

    def clip_texts(self, ids: np.ndarray | None = None) -> Iterable[tuple[int, str, str]]: ...


@dataclass
class _Field:
    """Terms x the segment's clips, how often each term occurs in each clip (CSR: a term's
    postings are its row); and each clip's length in tokens (FTS5's docsize)."""

    matrix: sparse.csr_matrix
    lengths: np.ndarray

    def postings(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        """(clip positions, ascending; occurrences) of one term."""
        matrix = self.matrix
        if term >= matrix.shape[0]:
            return matrix.indices[:0], matrix.data[:0]
        start, end = matrix.indptr[term], matrix.indptr[term + 1]
        return matrix.indices[start:end], matrix.data[start:end]

    @classmethod
    def merged(cls, parts: Sequence[_Field], kept: Sequence[np.ndarray], terms: int) -> _Field:
        """Segments' fields as one, the ``kept`` clips of each one after another."""
        for part in parts:
            part.matrix.resize((terms, part.matrix.shape[1]))
        matrices = [p.matrix[:, keep] for p, keep in zip(parts, kept, strict=True)]
        matrix = sparse.hstack(matrices, format="csr", dtype=np.int32)
        lengths = [p.lengths[keep] for p, keep in zip(parts, kept, strict=True)]
        return cls(matrix, np.concatenate(lengths))


@dataclass(frozen=True)
class SavedPostings:
    """Where an index keeps its postings between opens, and whose they are: the id of the
    catalog (``index_id``), given to every index when it is made."""

    path: Path
    owner: str


@dataclass
class _Segment:
    ids: np.ndarray  # clip ids, ascending
    alive: np.ndarray  # False: removed from the catalog since
    words: _Field  # words of speech and screen text (FTS5 ``clip_text``)
    screen: _Field  # runs of letters and digits of the screen text, lower case; lengths in
    # trigrams (FTS5 ``clip_screen``)


class Postings:
    """Every clip's words and screen-text runs, ranked by BM25; ``refresh`` keeps it in step."""

    def __init__(self) -> None:
        self.words: dict[str, int] = {}
        self.runs: dict[str, int] = {}
        self.segments: list[_Segment] = []
        self._counts: dict[str, int] | None = None
        self._stats: dict[str, tuple[int, float]] = {}
        self._run_text: tuple[str, list[int]] | None = None  # all runs, "\n"-joined; starts

    def refresh(self, catalog: ClipTexts) -> int:
        """Take in the catalog's clips added since, and mask out those it no longer has;
        returns how many clips were read."""
        ids = catalog.all_clip_ids()
        known = np.concatenate([s.ids for s in self.segments]) if self.segments else ids[:0]
        removed = np.setdiff1d(known, ids, assume_unique=True)
        added = np.setdiff1d(ids, known, assume_unique=True)
        for segment in self.segments:
            if len(removed):
                segment.alive &= ~np.isin(segment.ids, removed, assume_unique=True)
        if len(added):
            rows = catalog.clip_texts(added if len(known) else None)
            self.segments.append(self._segment(rows))
            self._run_text = None
        if len(self.segments) > MAX_SEGMENTS:
            self._merge()
        if len(removed) or len(added):
            self._counts, self._stats = None, {}
        return len(added)

    def save(self, saved: SavedPostings, generation: int) -> None:
        """Write the postings (merged, without the clips removed) to ``saved.path`` at once
        (another name, then renamed), as read from catalog ``saved.owner`` at ``generation``."""
        if len(self.segments) > 1 or (self.segments and not self.segments[0].alive.all()):
            self._merge()
        if not self.segments:
            return
        [segment] = self.segments
        meta = {"format": SAVED_FORMAT, "owner": saved.owner, "generation": generation}
        arrays = {
            "meta": _text(json.dumps(meta)),
            "ids": segment.ids,
            "words": _text("\n".join(self.words)),  # in id order, as dicts keep them
            "runs": _text("\n".join(self.runs)),
        }
        for name in ("words", "screen"):
            field = getattr(segment, name)
            arrays |= {
                f"{name}_indptr": field.matrix.indptr,
                f"{name}_indices": field.matrix.indices,
                f"{name}_data": field.matrix.data,
                f"{name}_lengths": field.lengths,
            }
        # another process (or searcher) may save the same postings at once: a name of its own
        temporary = saved.path.with_name(f".{saved.path.name}.{os.getpid()}-{id(self)}.tmp")
        try:
            with temporary.open("wb") as out:
                np.savez(out, **arrays)
            os.replace(temporary, saved.path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, saved: SavedPostings, generation: int) -> Postings | None:
        """The postings at ``saved.path`` if they are catalog ``saved.owner``'s, read at
        ``generation`` or before (``refresh`` brings them in step); None otherwise."""
        if not saved.path.exists():
            return None
        try:
            with np.load(saved.path, allow_pickle=False) as arrays:
                meta = json.loads(_string(arrays["meta"]))
                if meta.get("format") != SAVED_FORMAT or meta.get("owner") != saved.owner:
                    return None
                if meta["generation"] > generation:
                    log.info("keyword postings %s are newer than the catalog: rebuilt", saved.path)
                    return None
                postings = cls()
                for name in ("words", "runs"):
                    terms = _string(arrays[name])
                    vocabulary = terms.split("\n") if terms else []
                    setattr(postings, name, {t: n for n, t in enumerate(vocabulary)})
                ids = arrays["ids"]
                fields = {}
                for name in ("words", "screen"):
                    indptr = arrays[f"{name}_indptr"]
                    matrix = sparse.csr_matrix(
                        (arrays[f"{name}_data"], arrays[f"{name}_indices"], indptr),
                        shape=(len(indptr) - 1, len(ids)),
                    )
                    fields[name] = _Field(matrix, arrays[f"{name}_lengths"])
        except (OSError, ValueError, KeyError) as exc:  # damaged or cut short: rebuilt
            log.warning("keyword postings %s not read (%s): rebuilt", saved.path, exc)
            return None
        postings.segments = [_Segment(ids, np.ones(len(ids), bool), **fields)]
        return postings

    def _segment(self, rows: Iterable[tuple[int, str, str]]) -> _Segment:
        ids, words, runs, screen_lengths = [], [], [], []
        for clip_id, speech, ocr in rows:
            ids.append(clip_id)
            words.append(f"{speech} {ocr}" if ocr else speech)
            runs.append(ocr.lower())
            screen_lengths.append(max(0, len(ocr) - 2))  # the trigrams of the text
        order = np.argsort(ids, kind="stable")
        ids_ = np.asarray(ids, np.int64)[order]
        words = [words[i] for i in order]
        runs = [runs[i] for i in order]
        word_matrix, word_lengths = _count(words, self.words, tokenize)
        run_matrix, _ = _count(runs, self.runs, _RUNS.findall)
        screen = np.asarray(screen_lengths, np.int32)[order]
        return _Segment(
            ids_,
            np.ones(len(ids_), bool),
            _Field(word_matrix, word_lengths),
            _Field(run_matrix, screen),
        )

    def _merge(self) -> None:
        """The segments as one, without the clips removed since."""
        segments, kept = self.segments, [s.alive for s in self.segments]
        ids = np.concatenate([s.ids[s.alive] for s in segments])
        self.segments = [
            _Segment(
                ids,
                np.ones(len(ids), bool),
                _Field.merged([s.words for s in segments], kept, len(self.words)),
                _Field.merged([s.screen for s in segments], kept, len(self.runs)),
            )
        ]

    def document_counts(self) -> dict[str, int]:
        """Every indexed word with the number of clips holding it, in FTS5's order (the
        spelling's): near-miss spellings equally near are taken in that order."""
        if self._counts is None:
            counts = np.zeros(len(self.words), np.int64)
            for segment in self.segments:
                matrix = segment.words.matrix
                alive_before = np.concatenate([[0], np.cumsum(segment.alive[matrix.indices])])
                counts[: matrix.shape[0]] += np.diff(alive_before[matrix.indptr])
            indexed = sorted((w, i) for w, i in self.words.items() if counts[i])
            # the words made anew, one after another: near-miss lookups read every word, 4x
            # faster when they lie together in memory than among the tokens they came from
            words = "\n".join(w for w, _ in indexed).split("\n") if indexed else []
            self._counts = dict(zip(words, counts[[i for _, i in indexed]].tolist(), strict=True))
        return self._counts

    def clip_count(self) -> int:
        return self._totals("words")[0]

    def _totals(self, field: str) -> tuple[int, float]:
        """(live clips, their mean length) of ``words`` or ``screen``: BM25's N and avgdl."""
        if field not in self._stats:
            documents = sum(int(s.alive.sum()) for s in self.segments)
            tokens = sum(int(getattr(s, field).lengths[s.alive].sum()) for s in self.segments)
            self._stats[field] = documents, tokens / documents if documents else 1.0
        return self._stats[field]

    def rank(
        self, words: Sequence[str], limit: int, allowed: np.ndarray | None = None
    ) -> list[int]:
        """Ids of the best ``limit`` clips holding any of ``words``, by BM25 over the words and
        screen text (FTS5's ``"a" OR "b"`` ordered by ``bm25(clip_text)``); of ``allowed``
        clips (sorted ids) only when given."""
        terms = [self.words[w] for w in words if w in self.words]
        return self._best([[(t, 1)] for t in terms], "words", limit, allowed)

    def screen(
        self, substrings: Sequence[str], limit: int, allowed: np.ndarray | None = None
    ) -> list[int]:
        """Ids of the best ``limit`` clips whose screen text holds any of ``substrings``
        (3 or more letters and digits, lower case), anywhere in a word: FTS5's trigram
        ``MATCH``, ordered by ``bm25(clip_screen)``."""
        runs, starts = self._runs_joined()
        phrases = []
        for substring in substrings:
            holding: dict[int, int] = {}  # run id -> occurrences of the substring in it
            at = runs.find(substring)
            while at >= 0:
                run = bisect.bisect_right(starts, at) - 1
                holding[run] = holding.get(run, 0) + 1
                at = runs.find(substring, at + 1)
            if holding:
                phrases.append(list(holding.items()))
        return self._best(phrases, "screen", limit, allowed)

    def _runs_joined(self) -> tuple[str, list[int]]:
        if self._run_text is None:
            starts, at = [], 0
            for run in self.runs:  # dicts keep insertion order: the run ids
                starts.append(at)
                at += len(run) + 1
            self._run_text = ("\n".join(self.runs), starts)
        return self._run_text

    def _best(
        self,
        phrases: list[list[tuple[int, int]]],
        field: str,
        limit: int,
        allowed: np.ndarray | None,
    ) -> list[int]:
        """BM25 over every segment of ``phrases``, each a list of (term id, occurrences of
        the phrase per occurrence of the term) whose postings add up to the phrase's."""
        if not phrases or not self.segments:
            return []
        documents, average = self._totals(field)
        fields = [getattr(s, field) for s in self.segments]
        per_segment = [
            [_phrase_postings(found, phrase, segment.alive) for phrase in phrases]
            for segment, found in zip(self.segments, fields, strict=True)
        ]
        holding = [sum(len(m[i][0]) for m in per_segment) for i in range(len(phrases))]
        idf = [max(MIN_IDF, math.log((documents - n + 0.5) / (n + 0.5))) for n in holding]
        ids, scores = [], []
        for segment, found, matched in zip(self.segments, fields, per_segment, strict=True):
            clips = _distinct([m[0] for m in matched])
            if allowed is not None:
                clips = clips[np.isin(segment.ids[clips], allowed)]
            if not len(clips):
                continue
            score = np.zeros(len(clips))
            length = found.lengths[clips].astype(np.float64)
            norm = K1 * (1 - B + B * length / average)
            for weight, (where, counts) in zip(idf, matched, strict=True):
                frequency = np.zeros(len(clips))
                inside = np.searchsorted(clips, where)
                keep = (inside < len(clips)) & (clips[np.minimum(inside, len(clips) - 1)] == where)
                frequency[inside[keep]] = counts[keep]
                score += weight * ((frequency * (K1 + 1.0)) / (frequency + norm))
            ids.append(segment.ids[clips])
            scores.append(score)
        if not ids:
            return []
        return _top(np.concatenate(ids), np.concatenate(scores), limit)


def split_joined(texts: Sequence[str], split: Callable[[str], list[str]] = tokenize) -> list[str]:
    """The lower-case words of ``texts`` one after another, each text's after a ``BREAK``: one
    ``translate`` and ``split`` over all of them finds the words ``tokenize`` finds in each,
    in a fraction of its time. A text with other characters than ASCII (accents) is split by
    ``split`` first, which must give lower-case words."""
    pieces = [t.lower() if t.isascii() and BREAK not in t else " ".join(split(t)) for t in texts]
    joined = f" {BREAK} ".join(["", *pieces])
    return joined.encode().translate(_SPACES).decode().split()


def _count(
    texts: list[str], vocabulary: dict[str, int], split: Callable[[str], list[str]]
) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Terms x texts, how often each term occurs in each text, and each text's count of terms;
    new terms join ``vocabulary``. The texts are split together in chunks (``split_joined``)."""
    number = defaultdict(count(len(vocabulary)).__next__, vocabulary)
    number[BREAK] = -1
    terms, lengths = [], []
    for first in range(0, len(texts), CHUNK):
        found = split_joined(texts[first : first + CHUNK], split)
        ids = np.fromiter(map(number.__getitem__, found), np.int32, len(found))
        breaks = np.flatnonzero(ids == -1)
        lengths.append(np.diff(np.append(breaks, len(ids))) - 1)
        terms.append(ids[ids >= 0])
    del number[BREAK]
    vocabulary.update(number)
    lengths_ = np.concatenate(lengths).astype(np.int32) if lengths else np.zeros(0, np.int32)
    terms_ = np.concatenate(terms) if terms else np.zeros(0, np.int32)
    texts_of = np.repeat(np.arange(len(texts), dtype=np.int32), lengths_)
    matrix = sparse.csr_matrix(
        (np.ones(len(terms_), np.int32), (terms_, texts_of)),
        shape=(len(vocabulary), len(texts)),
    )
    matrix.sum_duplicates()
    return matrix, lengths_


def _text(text: str) -> np.ndarray:
    return np.frombuffer(text.encode(), np.uint8)


def _string(array: np.ndarray) -> str:
    return array.tobytes().decode()


def _distinct(positions: list[np.ndarray]) -> np.ndarray:
    """The distinct values of ``positions`` joined, ascending: ``np.unique`` of them, by a
    sort (numpy 2's ``np.unique`` hashes, ~20x slower on a query's 20k clip positions)."""
    joined = np.sort(np.concatenate(positions))
    keep = np.ones(len(joined), bool)
    keep[1:] = joined[1:] != joined[:-1]
    return joined[keep]


def _phrase_postings(
    field: _Field, phrase: list[tuple[int, int]], alive: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(clip positions, occurrences) of a phrase in one segment, live clips only, ascending."""
    clips, counts = [], []
    for term, times in phrase:
        where, how_often = field.postings(term)
        clips.append(where)
        counts.append(how_often * times)
    if len(phrase) == 1:
        where, how_often = clips[0], counts[0]
    else:
        where, inverse = np.unique(np.concatenate(clips), return_inverse=True)
        how_often = np.bincount(inverse, weights=np.concatenate(counts)).astype(np.int64)
    live = alive[where]
    return where[live], how_often[live]


def _top(ids: np.ndarray, scores: np.ndarray, limit: int) -> list[int]:
    """The ``limit`` best ids by score, equal scores by id (FTS5's order by rowid)."""
    if len(scores) > limit:
        kth = np.partition(scores, len(scores) - limit)[len(scores) - limit]
        keep = scores >= kth
        ids, scores = ids[keep], scores[keep]
    order = np.lexsort((ids, -scores))[:limit]
    return ids[order].tolist()
