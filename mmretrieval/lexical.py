"""Keyword search over transcripts and on-screen text: SQLite FTS5 with near-miss spellings.

Exact names, numbers and "quoted phrases" are what dense vectors miss, and speech recognition
misspells rare words ("Kowalczyk" -> "Kowalchik"). So each query word is also matched against
indexed words within an edit-distance ratio that start with the same letter, and on-screen text
is also searched by substring (OCR drops spaces: "VISITSREADING"). A clip's lexical score is the
share of the query's information (IDF-weighted words, quoted phrases) that it contains: 1.0
means every word is there; a near-miss counts ``FUZZY_CREDIT`` times its similarity. Quoted
phrases are required.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from mmretrieval.filters import ClipFilter
from mmretrieval.store.catalog import Catalog, ClipRow

MIN_FUZZY_LENGTH = 5  # shorter words have too many near neighbours to fuzz usefully
MIN_SUBSTRING_LENGTH = 4  # shortest query word looked for inside run-together screen text
FUZZY_VARIANTS = 3
FUZZY_CREDIT = 0.8  # a near-miss spelling is weaker evidence than the word itself
_QUOTED = re.compile(r'"([^"]+)"')


def tokenize(text: str) -> list[str]:
    """Words as FTS5's ``unicode61 remove_diacritics`` tokenizer sees them."""
    if text.isascii():  # the common case, ten times faster than decomposing
        return re.findall(r"[^\W_]+", text.lower())
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.findall(r"[^\W_]+", plain)


@dataclass(frozen=True)
class LexicalQuery:
    terms: tuple[str, ...]
    phrases: tuple[tuple[str, ...], ...]

    @classmethod
    def parse(cls, text: str) -> LexicalQuery:
        phrases = tuple(
            tuple(words) for match in _QUOTED.findall(text) if len(words := tokenize(match)) > 0
        )
        single = [p[0] for p in phrases if len(p) == 1]
        phrases = tuple(p for p in phrases if len(p) > 1)
        terms = tuple(dict.fromkeys([*tokenize(_QUOTED.sub(" ", text)), *single]))
        return cls(terms, phrases)


class LexicalSearch:
    """BM25 candidates from FTS5, rescored by IDF-weighted query coverage."""

    def __init__(self, catalog: Catalog, min_similarity: float):
        self.catalog = catalog
        self.min_similarity = min_similarity
        self._vocabulary: dict[str, int] = {}
        self._documents = 1
        self._vocabulary_generation = -1

    def search(
        self, text: str, limit: int, clip_filter: ClipFilter | None = None
    ) -> dict[int, float]:
        """Clip id -> coverage in (0, 1] for up to ``limit`` clips matching ``text``, of files
        that pass ``clip_filter``."""
        query = LexicalQuery.parse(text)
        if not query.terms and not query.phrases:
            return {}
        self._refresh_vocabulary()
        variants = self.variants(query.terms)
        expression = _fts_expression(query, variants)
        candidates = dict.fromkeys(
            self.catalog.match(expression, limit, clip_filter=clip_filter) if expression else []
        )
        long_terms = [t for t in query.terms if len(t) >= MIN_SUBSTRING_LENGTH]
        if long_terms:
            expression = " OR ".join(_quote(t) for t in long_terms)
            screen = self.catalog.match(expression, limit, "clip_screen", clip_filter)
            candidates.update(dict.fromkeys(screen))
        rows = self.catalog.clips(candidates)
        scores = {}
        for clip_id in candidates:
            row = rows.get(clip_id)
            if row is not None and (score := self.coverage(query, variants, row)) > 0:
                scores[clip_id] = score
        return scores

    def variants(self, terms: Sequence[str]) -> dict[str, dict[str, float]]:
        """For each query word, the indexed words that count as it, with their similarity."""
        vocabulary = self._vocabulary
        result = {}
        for term in terms:
            found = {term: 1.0} if term in vocabulary else {}
            if len(term) >= MIN_FUZZY_LENGTH:
                for word, similarity, _ in process.extract(
                    term,
                    vocabulary.keys(),
                    scorer=fuzz.ratio,
                    score_cutoff=self.min_similarity,
                    limit=FUZZY_VARIANTS + 1,
                ):
                    if word[0] == term[0]:
                        found.setdefault(word, FUZZY_CREDIT * similarity / 100.0)
            result[term] = found
        return result

    def _refresh_vocabulary(self) -> None:
        """Reload indexed words and their clip counts when the catalog changed."""
        generation = self.catalog.generation
        if generation != self._vocabulary_generation:
            self._vocabulary = self.catalog.term_document_counts()
            self._documents = max(1, self.catalog.clip_count())
            self._vocabulary_generation = generation

    def coverage(
        self, query: LexicalQuery, variants: dict[str, dict[str, float]], row: ClipRow
    ) -> float:
        tokens = tokenize(f"{row.speech}\n{row.ocr}")
        present = set(tokens)
        screen = "".join(tokenize(row.ocr))
        for phrase in query.phrases:
            if not _contains_sequence(tokens, phrase):
                return 0.0
        total = matched = 0.0
        for term in query.terms:
            weight = self.idf(term)
            total += weight
            if len(term) >= MIN_SUBSTRING_LENGTH and term in screen:
                matched += weight
                continue
            matched += weight * max(
                (s for word, s in variants.get(term, {}).items() if word in present), default=0.0
            )
        for phrase in query.phrases:
            weight = sum(self.idf(word) for word in phrase)
            total += weight
            matched += weight
        return matched / total if total else 0.0

    def idf(self, term: str) -> float:
        count = self._vocabulary.get(term, 0)
        return math.log(1.0 + (self._documents - count + 0.5) / (count + 0.5))


def _fts_expression(query: LexicalQuery, variants: dict[str, dict[str, float]]) -> str:
    phrases = [_quote(" ".join(p)) for p in query.phrases]
    if phrases:
        return " AND ".join(phrases)
    words = dict.fromkeys(word for found in variants.values() for word in found)
    return " OR ".join(_quote(word) for word in words)


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _contains_sequence(tokens: Sequence[str], phrase: Sequence[str]) -> bool:
    n = len(phrase)
    return any(tuple(tokens[i : i + n]) == tuple(phrase) for i in range(len(tokens) - n + 1))
