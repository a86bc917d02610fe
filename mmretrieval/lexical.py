"""Keyword search over transcripts and on-screen text: BM25 candidates with near-miss spellings.

Exact names, numbers and "quoted phrases" are what dense vectors miss, and speech recognition
misspells rare words ("Kowalczyk" -> "Kowalchik"). So each query word is also matched against
indexed words within an edit-distance ratio that start with the same letter, and against
indexed words that sound the same (``phonetic.sound_key``: a spoken query recognised as
"Kovalchick" finds a transcript's "Kowalchik"), and on-screen text
is also searched by substring (OCR drops spaces: "VISITSREADING"). A clip's lexical score is the
share of the query's information (IDF-weighted words, quoted phrases) that it contains: 1.0
means every word is there; a near-miss counts ``FUZZY_CREDIT`` times its similarity. Quoted
phrases are required.

Words keep their language's letters, with accents folded as FTS5 folds them (é -> e, ü -> u).
German and Scandinavian names are also written with the letter spelled out ("Mueller",
"Strasse", "Soeren"), so those spellings count as the word itself: the query's words are
matched at query time against indexed words of the same ``spelling_key`` (``Müller``,
``Mueller`` and ``Muller`` share one), which needs no change to an index.

Words in order count too: "i was never so" is four common words that many clips hold somewhere,
but the clip that says them in that order, next to each other, is the one meant. So
``PHRASE_SHARE`` of a multi-word query's score is its proximity: 1 for the exact phrase (in the
speech, or in the screen text, also run together as OCR reads bold captions), less for the words
in order within a short window, less again for the longest adjacent run of them, and nothing for
a bag of scattered words. Clips with the exact phrase are reported, so the evidence can say so.

Recognisers mishear words inside a phrase ("not the first time" said, "at the first time"
written). So a transcript that holds the query's words at their places in the phrase, with
other words in the remaining places, counts those places as the query's words misheard, by
how unsure the recogniser was of the word it wrote there (1 - its probability, stored with
each word) or how nearly that word is spelled like the query's ("wasn" for "was"): a near
phrase. It needs half the query's words (rounded up) in place, two at least (``MIN_ANCHORS``):
with fewer, a pair of common words ("the sea") and a few doubted words would do. It scores between
the words in place alone and the exact phrase, and its misheard words count in the coverage
as near misses do. Transcripts indexed without word probabilities use the spelling alone.

A recogniser also splits, joins and drops words ("they re already up" for "there is already
a"), which moves the query's words out of their places. So a stretch of the speech a word
longer or shorter than the query that is spelled, letter by letter, nearly like it
(``MISHEARD_PHRASE``), where the query words it lacks are spelled like the other words it holds
("thereisa", "theyreup"), is a misheard phrase too: ``misheard_phrase``.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import repeat

import numpy as np
from rapidfuzz import fuzz, process

from mmretrieval.filters import ClipFilter
from mmretrieval.media.timeline import TRANSCRIPT_SOURCES
from mmretrieval.numerals import number_forms
from mmretrieval.phonetic import sound_key
from mmretrieval.store.catalog import Catalog, ClipRow
from mmretrieval.store.postings import BREAK, Postings, SavedPostings, split_joined, tokenize

log = logging.getLogger(__name__)

MIN_FUZZY_LENGTH = 5  # shorter words have too many near neighbours to fuzz usefully
MIN_SUBSTRING_LENGTH = 4  # shortest query word looked for inside run-together screen text
FUZZY_VARIANTS = 3
FUZZY_CREDIT = 0.8  # a near-miss spelling is weaker evidence than the word itself
SOUND_CREDIT = 0.7  # a sound-alike spelling: weaker still
SOUND_MIN_SIMILARITY = 60  # rapidfuzz ratio a sound-alike must still reach (keys are coarse)
MIN_SOUND_KEY = 3  # shorter keys ("NT") are shared by too many words
PHRASE_SHARE = 0.3  # of a multi-word query's score that rewards its words in order, adjacent
WINDOW_SLACK = 2  # words an ordered window may hold beyond the query's own
WINDOW_CREDIT = 0.6  # the query's words in order within a window: short of the exact phrase
RUN_CREDIT = 0.5  # the longest adjacent run of query words, by its share of the query
MAX_SEQUENCE = 32  # query words looked at for order (a spoken query can be long)
MIN_ANCHORS = 2  # query words a near phrase must hold in place (and half of them, rounded up)
SLOT_SIMILARITY = 60  # rapidfuzz ratio at which the word in a query word's place is a misspelling
MISHEARD_PHRASE = 75  # rapidfuzz ratio at which a stretch of speech is the query's words misheard
PHRASE_SLACK = 1  # words a misheard phrase may hold more or fewer than the query
MISHEARD_STRETCHES = 3  # most alike stretches of a clip whose differences are compared
SAVE_AFTER = 10_000  # clips read into the postings since they were saved: saved again
# clips BM25 ranks for the keyword candidates (work grows with them); past it the commonest
# query words propose none, though they still count in every score
POSTINGS_BUDGET = 20_000
PHRASE = "phrase"  # evidence key: the clip holds the query's words as an exact phrase
_QUOTED = re.compile(r'"([^"]+)"')


# Letters FTS5 keeps (no accent to remove) and their spelled-out forms; then ae/oe/ue, the
# spelled-out umlauts, become the plain vowel the tokenizer leaves of ä/ö/ü.
_SPELLED_OUT = str.maketrans({"ß": "ss", "ø": "oe", "æ": "ae", "œ": "oe"})
_UMLAUT_DIGRAPH = re.compile(r"([aou])e")


def spelling_key(word: str) -> str:
    """One key for a token's umlaut spellings: ä/ae/a, ö/oe/o, ü/ue/u, ø/oe/o, æ/ae/a,
    ß/ss (``muller``, ``mueller`` -> ``muller``; ``straße``, ``strasse`` -> ``strasse``)."""
    return _UMLAUT_DIGRAPH.sub(r"\1", word.translate(_SPELLED_OUT))


@dataclass(frozen=True)
class LexicalQuery:
    terms: tuple[str, ...]
    phrases: tuple[tuple[str, ...], ...]
    sequence: tuple[str, ...] = ()  # every query word in order, for proximity

    @classmethod
    def parse(cls, text: str) -> LexicalQuery:
        phrases = tuple(
            tuple(words) for match in _QUOTED.findall(text) if len(words := tokenize(match)) > 0
        )
        single = [p[0] for p in phrases if len(p) == 1]
        phrases = tuple(p for p in phrases if len(p) > 1)
        terms = tuple(dict.fromkeys([*tokenize(_QUOTED.sub(" ", text)), *single]))
        return cls(terms, phrases, tuple(tokenize(text.replace('"', " ")))[:MAX_SEQUENCE])


@dataclass(frozen=True)
class InOrder:
    """The query's words in order, each with the indexed words that count as it, and the
    other way round (token -> its places in the query): built once a query, read per clip."""

    accepted: tuple[set[str], ...]
    where: dict[str, tuple[int, ...]]

    @classmethod
    def of(cls, sequence: Sequence[str], variants: dict[str, dict[str, float]]) -> InOrder:
        accepted = tuple({word, *variants.get(word, {})} for word in sequence)
        where: dict[str, list[int]] = {}
        for i, words in enumerate(accepted):
            for word in words:
                where.setdefault(word, []).append(i)
        return cls(accepted, {token: tuple(places) for token, places in where.items()})


@dataclass(frozen=True)
class Coverage:
    """The query's words, each with its IDF weight, whether it is looked for inside screen
    text too, and the indexed words that count as it: built once a query, read per clip."""

    terms: tuple[tuple[str, float, bool, tuple[tuple[str, float], ...]], ...]
    phrases: tuple[tuple[str, ...], ...]
    phrase_weights: tuple[float, ...]
    total: float

    @classmethod
    def of(
        cls,
        query: LexicalQuery,
        variants: dict[str, dict[str, float]],
        idf: Callable[[str], float],
    ) -> Coverage:
        terms = tuple(
            (term, idf(term), len(term) >= MIN_SUBSTRING_LENGTH, tuple(variants[term].items()))
            for term in query.terms
        )
        phrase_weights = tuple(sum(idf(word) for word in phrase) for phrase in query.phrases)
        total = sum((*(t[1] for t in terms), *phrase_weights))  # in ``share``'s order
        return cls(terms, query.phrases, phrase_weights, total)

    def shares(self, batch: Candidates, misheard: list[dict[str, float]]) -> np.ndarray:
        """Per candidate, the share of the query's IDF-weighted words it holds; ``misheard``:
        per candidate, query words a near phrase heard in place of others, with their credit."""
        matched = np.zeros(len(batch.ids))
        present = batch.present()
        for term, weight, inside, counted in self.terms:
            best = np.zeros(len(batch.ids))
            for word, similarity in counted:
                best = np.maximum(best, np.where(present[:, batch.code[word]], similarity, 0.0))
            for n, heard in enumerate(misheard):
                if term in heard:
                    best[n] = max(best[n], FUZZY_CREDIT * heard[term])
            on_screen = [inside and term in screen for screen in batch.screens]
            matched = matched + np.where(on_screen, weight, weight * best)
        for weight in self.phrase_weights:
            matched = matched + weight
        shares = matched / self.total if self.total else np.zeros(len(batch.ids))
        for n in range(len(batch.ids) if self.phrases else 0):  # quoted: required
            tokens = batch.speech_tokens(n) + batch.screen_tokens(n)
            if not all(_contains_sequence(tokens, phrase) for phrase in self.phrases):
                shares[n] = 0.0
        return shares


@dataclass(frozen=True)
class Candidates:
    """One query's candidate clips, their speech and screen tokens one after another, as
    words and as numbers (``code``: 0 for a word that is none of the query's words or
    variants, -1 for the ``BREAK`` before each clip's tokens), so each score is computed for
    every candidate at once, and each clip's words are split once a query."""

    ids: list[int]  # the candidates' clip ids
    code: dict[str, int]
    speech_words: list[str]  # every candidate's speech tokens, each clip's after a break
    screen_words: list[str]  # the same of their screen text
    speech: np.ndarray  # codes of ``speech_words``
    screen: np.ndarray
    speech_starts: np.ndarray  # where each clip's break is in ``speech``
    screen_starts: np.ndarray
    screens: list[str]  # each clip's screen text run together ("VISITSREADING")

    @classmethod
    def of(cls, texts: dict[int, tuple[str, str]], words: Sequence[str]) -> Candidates:
        """``texts``: clip id -> (speech, screen text) of each candidate."""
        code = {word: n for n, word in enumerate(dict.fromkeys(words), start=1)}
        numbered = {**code, BREAK: -1}  # tokens are letters and digits: never the break

        def coded(texts: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
            flat = split_joined(texts)
            codes = np.fromiter(map(numbered.get, flat, repeat(0)), np.int32, len(flat))
            return flat, codes, np.flatnonzero(codes == -1)

        speech_words, speech, speech_starts = coded([speech for speech, _ in texts.values()])
        screen_words, screen, screen_starts = coded([screen for _, screen in texts.values()])
        screens = ["".join(_clip_words(screen_words, screen_starts, n)) for n in range(len(texts))]
        return cls(
            list(texts),
            code,
            speech_words,
            screen_words,
            speech,
            screen,
            speech_starts,
            screen_starts,
            screens,
        )

    def speech_tokens(self, n: int) -> list[str]:
        """Candidate ``n``'s speech, as ``tokenize`` splits it."""
        return _clip_words(self.speech_words, self.speech_starts, n)

    def screen_tokens(self, n: int) -> list[str]:
        """Candidate ``n``'s screen text, as ``tokenize`` splits it."""
        return _clip_words(self.screen_words, self.screen_starts, n)

    def owners(self, starts: np.ndarray, size: int) -> np.ndarray:
        """The candidate each position of a coded text belongs to."""
        return np.repeat(np.arange(len(starts)), np.diff(np.append(starts, size)))

    def present(self) -> np.ndarray:
        """Candidates x codes: whether the clip's speech or screen text holds the word."""
        found = np.zeros((len(self.ids), len(self.code) + 2), bool)  # column -1: the breaks
        for codes, starts in ((self.speech, self.speech_starts), (self.screen, self.screen_starts)):
            found[self.owners(starts, len(codes)), codes] = True
        found[:, 0] = found[:, -1] = False
        return found

    def accepts(self, codes: np.ndarray, in_order: InOrder) -> list[np.ndarray]:
        """Per query place, whether each position holds a word that counts as its word."""
        places = []
        for words in in_order.accepted:
            table = np.zeros(len(self.code) + 2, bool)
            table[[self.code[w] for w in words if w in self.code]] = True
            places.append(table[codes])
        return places


class LexicalScores(dict[int, float]):
    """Clip id -> lexical score, and which clips hold the query as an exact phrase."""

    def __init__(self, scores: dict[int, float], exact: set[int]):
        super().__init__(scores)
        self.exact = exact


@dataclass(frozen=True)
class NearPhrase:
    """A near phrase's order score, and the query words it heard misheard, with credit."""

    order: float = 0.0
    misheard: dict[str, float] = field(default_factory=dict)

    def best(self, other: NearPhrase) -> NearPhrase:
        """Both near phrases' evidence: the higher order, each query word's higher credit."""
        misheard = dict(self.misheard)
        for word, credit in other.misheard.items():
            misheard[word] = max(misheard.get(word, 0.0), credit)
        return NearPhrase(max(self.order, other.order), misheard)


class LexicalSearch:
    """BM25 candidates (``Postings``; FTS5 for quoted phrases), rescored by IDF-weighted
    query coverage. The coverage and word-order scores of a query's ~300 candidates are
    computed together over their tokens as numbers (``Candidates``); only the clips where a
    near phrase can be are read word by word (``near_phrase``)."""

    def __init__(self, catalog: Catalog, min_similarity: float, saved: SavedPostings | None = None):
        """``saved``: where the index keeps the postings between opens (None: built anew)."""
        self.catalog = catalog
        self.min_similarity = min_similarity
        self.saved = saved
        self.postings = Postings()
        self._unsaved = 0  # clips read into the postings since they were saved
        self._refreshing = threading.Lock()
        self._vocabulary: dict[str, int] = {}
        self._sounds: dict[str, list[str]] | None = None  # sound key -> indexed words
        self._spellings: dict[str, list[str]] | None = None  # spelling key -> indexed words
        self._idf: dict[str, float] = {}  # remembered: coverage weighs each word once a clip
        self._documents = 1
        self._vocabulary_generation = -1

    def search(self, text: str, limit: int, clip_filter: ClipFilter | None = None) -> LexicalScores:
        """Clip id -> score in (0, 1] for up to ``limit`` clips matching ``text``, of files
        that pass ``clip_filter``; and the clips that hold it as an exact phrase."""
        query = LexicalQuery.parse(text)
        if not query.terms and not query.phrases:
            return LexicalScores({}, set())
        self.refresh()
        variants = self.variants(query.terms)
        for word, forms in number_forms(query.sequence).items():  # "sixty" finds "60"
            if word in variants:
                indexed = [form for form in forms if form in self._vocabulary]
                variants[word] = {**dict.fromkeys(indexed, 1.0), **variants[word]}
        allowed = self.catalog.clip_ids(clip_filter) if clip_filter else None
        if query.phrases:  # all required
            expression = " AND ".join(_quote(" ".join(p)) for p in query.phrases)
            found = self.catalog.match(expression, limit, clip_filter)
        else:
            words = _proposing(variants, self._vocabulary, self.idf)
            found = self.postings.rank(words, limit, allowed)
        candidates = dict.fromkeys(found)
        long_terms = [t for t in query.terms if len(t) >= MIN_SUBSTRING_LENGTH]
        if long_terms:
            candidates.update(dict.fromkeys(self.postings.screen(long_terms, limit, allowed)))
        # their texts only: the searcher reads the rows of the few that can become hits
        found = self.catalog.clip_texts(np.fromiter(candidates, np.int64, len(candidates)))
        texts = {clip_id: (speech, screen) for clip_id, speech, screen in found}
        in_order = InOrder.of(query.sequence, variants)
        coverage = Coverage.of(query, variants, self.idf)
        ids = [clip_id for clip_id in candidates if clip_id in texts]
        words = [w for accepted in in_order.accepted for w in accepted]
        words += [w for _, _, _, counted in coverage.terms for w, _ in counted]
        batch = Candidates.of({clip_id: texts[clip_id] for clip_id in ids}, words)
        orders = proximities(query, batch, in_order)
        nears = self._nears(query, variants, batch, in_order, orders)
        shares = coverage.shares(
            batch, [nears.get(n, NearPhrase()).misheard for n in range(len(ids))]
        )
        scores, exact = {}, set()
        for clip_id, share, order in zip(ids, shares.tolist(), orders.tolist(), strict=True):
            if share <= 0:
                continue
            scores[clip_id] = share * (1.0 - PHRASE_SHARE * (1.0 - order))
            if order == 1.0 and len(query.sequence) > 1:
                exact.add(clip_id)
        return LexicalScores(scores, exact)

    def _nears(
        self,
        query: LexicalQuery,
        variants: dict[str, dict[str, float]],
        batch: Candidates,
        in_order: InOrder,
        orders: np.ndarray,
    ) -> dict[int, NearPhrase]:
        """Per candidate with one, its best near or misheard phrase (``near_phrase``,
        ``misheard_phrase``); ``orders`` is raised to their order where it is higher. Only the
        candidates short of the exact phrase whose speech is near the query's letters can hold
        a misheard phrase (``_near_letters``, for all of them at once)."""
        if len(query.sequence) < 3:
            return {}
        nears = {}
        near = _near_candidates(batch, in_order)
        rows = self.catalog.clips([batch.ids[n] for n in near]) if near else {}
        for n in near:
            row = rows[batch.ids[n]]
            nears[n] = self.near_phrase(query, variants, row, batch.speech_tokens(n), in_order)
            orders[n] = max(float(orders[n]), nears[n].order)
        unsure = np.flatnonzero(orders < 1.0).tolist()
        speeches = [batch.speech_tokens(n) for n in unsure]
        near_letters = _near_letters(query.sequence, speeches)
        for n, tokens, letters_near in zip(unsure, speeches, near_letters, strict=True):
            if letters_near:  # checked here for all at once: not again one by one
                heard = _misheard_stretch(query, tokens, in_order)
                nears[n] = nears.get(n, NearPhrase()).best(heard)
                orders[n] = max(float(orders[n]), nears[n].order)
        return nears

    def variants(self, terms: Sequence[str]) -> dict[str, dict[str, float]]:
        """For each query word, the indexed words that count as it, with their similarity:
        itself and its umlaut spellings fully, near misses and sound-alikes less."""
        vocabulary = self._vocabulary
        result = {}
        for term in terms:
            found = {term: 1.0} if term in vocabulary else {}
            found.update(dict.fromkeys(self._spelled_alike(term), 1.0))
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
                for word in self._sound_alikes(term):
                    if fuzz.ratio(term, word) >= SOUND_MIN_SIMILARITY:
                        found.setdefault(word, SOUND_CREDIT)
            result[term] = found
        return result

    def refresh(self) -> None:
        """Bring the postings, the indexed words and their clip counts in step with the
        catalog when it changed (the first time: all of it)."""
        generation = self.catalog.generation
        if generation == self._vocabulary_generation:
            return
        with self._refreshing:  # searches on several threads (the server) refresh once
            if generation == self._vocabulary_generation:
                return
            if self._vocabulary_generation == -1 and self.saved is not None:
                self.postings = Postings.load(self.saved, generation) or self.postings
            self._unsaved += self.postings.refresh(self.catalog)
            if self.saved is not None and self._unsaved >= SAVE_AFTER:
                self._save(generation)
            self._vocabulary = self.postings.document_counts()
            self._documents = max(1, self.postings.clip_count())
            self._sounds = self._spellings = None
            self._idf = {}
            self._vocabulary_generation = generation

    def _save(self, generation: int) -> None:
        """Keep the postings for the next open; an index that cannot be written to (read
        only) builds them at each open instead."""
        try:
            self.postings.save(self.saved, generation)
        except OSError as exc:
            log.info("keyword postings not saved to %s: %s", self.saved.path, exc)
            return
        self._unsaved = 0

    def _spelled_alike(self, term: str) -> list[str]:
        """Indexed words with ``term``'s spelling key, other than it. One of the two must be
        ``MIN_FUZZY_LENGTH`` long: among short words the key joins unrelated ones ("to" and
        "toe", "poet" and "pot")."""
        if self._spellings is None:
            spellings: dict[str, list[str]] = {}
            for word in self._vocabulary:
                spellings.setdefault(spelling_key(word), []).append(word)
            self._spellings = spellings
        return [
            word
            for word in self._spellings.get(spelling_key(term), [])
            if word != term and max(len(word), len(term)) >= MIN_FUZZY_LENGTH
        ]

    def _sound_alikes(self, term: str) -> list[str]:
        """Indexed words with the same sound key as ``term`` (keys built at first need)."""
        if len(key := sound_key(term)) < MIN_SOUND_KEY:
            return []
        if self._sounds is None:
            sounds: dict[str, list[str]] = {}
            for word in self._vocabulary:
                if len(word) >= MIN_FUZZY_LENGTH and not word.isdigit():
                    sounds.setdefault(sound_key(word), []).append(word)
            self._sounds = sounds
        return self._sounds.get(key, [])

    def near_phrase(
        self,
        query: LexicalQuery,
        variants: dict[str, dict[str, float]],
        row: ClipRow,
        tokens: Sequence[str],
        in_order: InOrder | None = None,
    ) -> NearPhrase:
        """The clip's best near phrase: the query's words in place in its speech (``tokens``),
        the other places filled by words the recogniser may have misheard (see the module's
        notes)."""
        sequence = query.sequence
        n = len(sequence)
        if n < 3:
            return NearPhrase()
        needed = max(MIN_ANCHORS, (n + 1) // 2)
        in_order = in_order or InOrder.of(sequence, variants)
        accepted = in_order.accepted
        if not _places(in_order, tokens, needed):
            return NearPhrase()  # no stretch with enough words in place: no need to read words
        heard = self._heard(row)
        tokens = [token for token, _ in heard]
        best = NearPhrase()
        for start in _places(in_order, tokens, needed):
            window = heard[start : start + n]
            in_place = [token in accepted[i] for i, (token, _) in enumerate(window)]
            misheard: dict[str, float] = {}
            credits = []
            for i, ((token, doubt), found) in enumerate(zip(window, in_place, strict=True)):
                if not found:
                    credits.append(max(doubt, _spelled_like(sequence[i], token)))
                    misheard[sequence[i]] = max(misheard.get(sequence[i], 0.0), credits[-1])
            base = RUN_CREDIT * (sum(in_place) - 1) / (n - 1)
            order = base + (1.0 - base) * sum(credits) / len(credits)
            if order > best.order:
                best = NearPhrase(order, misheard)
        return best

    def _heard(self, row: ClipRow) -> list[tuple[str, float]]:
        """The clip's spoken tokens in order, each with the recogniser's doubt about its word
        (1 - probability; 0 where none was stored)."""
        heard = []
        for line in self.catalog.texts(row.file_id, row.start, row.end):
            if line.source not in TRANSCRIPT_SOURCES:
                continue
            if not line.words:
                if row.contains(line.middle):
                    heard.extend((token, 0.0) for token in tokenize(line.text))
                continue
            for word in line.words:
                if row.contains(word.middle):
                    doubt = 0.0 if word.probability is None else 1.0 - word.probability
                    plain = word.text.lower()
                    tokens = [plain] if plain.isalnum() and plain.isascii() else tokenize(plain)
                    heard.extend((token, doubt) for token in tokens)
        return heard

    def idf(self, term: str) -> float:
        if (known := self._idf.get(term)) is None:
            count = self._vocabulary.get(term, 0)
            documents = self._documents
            known = self._idf[term] = math.log(1.0 + (documents - count + 0.5) / (count + 0.5))
        return known


def proximities(query: LexicalQuery, batch: Candidates, in_order: InOrder) -> np.ndarray:
    """Per candidate, how closely its speech or screen text holds the query's words in order:
    1 exact phrase, ``WINDOW_CREDIT`` in order within a short window, up to ``RUN_CREDIT`` for
    the longest adjacent run, 0 for scattered words. 1 for a one-word query (no order)."""
    sequence = query.sequence
    n = len(sequence)
    if n < 2:
        return np.ones(len(batch.ids))
    best = np.maximum(
        _order_scores(batch, batch.speech, batch.speech_starts, in_order, batch.speech_words),
        _order_scores(batch, batch.screen, batch.screen_starts, in_order, batch.screen_words),
    )
    if len(joined := "".join(sequence)) >= 2 * MIN_SUBSTRING_LENGTH:
        run_together = [joined in screen for screen in batch.screens]  # "IWASNEVERSO"
        best[run_together] = 1.0
    return best


def _order_scores(
    batch: Candidates,
    codes: np.ndarray,
    starts: np.ndarray,
    in_order: InOrder,
    words: list[str],
) -> np.ndarray:
    """``proximity`` of one text of every candidate. The longest adjacent run of the query's
    words in order: a position holding the query's word ``i`` ends a run one longer than the
    run ending just before it with word ``i - 1`` (the -1 before each clip ends every run)."""
    n = len(in_order.accepted)
    accepts = batch.accepts(codes, in_order)
    run = np.zeros(len(codes), np.int64)
    longest = np.zeros(len(codes), np.int64)
    said = np.zeros(len(codes), bool)  # a position holding any of the query's words
    for place in accepts:
        before = np.concatenate([[0], run[:-1]])
        run = np.where(place, before + 1, 0)
        longest = np.maximum(longest, run)
        said |= place
    longest = np.maximum.reduceat(longest, starts) if len(starts) else longest[:0]
    said_count = np.add.reduceat(said.astype(np.int64), starts) if len(starts) else longest
    scores = np.where(longest > 1, RUN_CREDIT * (longest - 1) / (n - 1), 0.0)
    for c in np.flatnonzero((said_count >= n) & (longest < n)).tolist():
        tokens = _clip_words(words, starts, c)
        if _in_window(in_order.accepted, tokens, n + WINDOW_SLACK):
            scores[c] = WINDOW_CREDIT
    scores[longest == n] = 1.0
    return scores


def _near_candidates(batch: Candidates, in_order: InOrder) -> list[int]:
    """The candidates whose speech has a stretch holding at least ``MIN_ANCHORS`` of the
    query's words (half of them, rounded up) each in its place, but not all of them: those a
    near phrase can be found in (``_places`` of each)."""
    n = len(in_order.accepted)
    needed = max(MIN_ANCHORS, (n + 1) // 2)
    codes, starts = batch.speech, batch.speech_starts
    owner = batch.owners(starts, len(codes))
    offset = np.arange(len(codes)) - starts[owner] - 1  # the token's place in its clip
    length = np.diff(np.append(starts, len(codes))) - 1
    found = []
    for i, place in enumerate(batch.accepts(codes, in_order)):
        at = np.flatnonzero(place)
        start = offset[at] - i
        keep = (start >= 0) & (start <= length[owner[at]] - n)
        found.append(owner[at][keep] * (np.int64(len(codes)) + 1) + start[keep])
    if not found:
        return []
    stretches, counts = np.unique(np.concatenate(found), return_counts=True)
    near = stretches[(counts >= needed) & (counts < n)] // (len(codes) + 1)
    return np.unique(near).tolist()


def misheard_phrase(
    query: LexicalQuery, tokens: Sequence[str], in_order: InOrder | None = None
) -> NearPhrase:
    """A stretch of a clip's speech (``tokens``) that is the query's words with some split, joined,
    dropped or misspelled by the recogniser ("they re already" for "there is already a").

    Stretches of the query's length (``PHRASE_SLACK`` words more or fewer) around each query
    word said are compared letter by letter with the query; from ``MISHEARD_PHRASE`` on, the
    best few count if what differs is spelled alike too (the query words the stretch lacks
    against its other words, run together: "thereisa" and "theyre", ``SLOT_SIMILARITY``), so
    a sure "at" in the place of "not" is no mishearing. Its order rises from 0 at
    ``MISHEARD_PHRASE`` to 1 at the exact phrase; the words it lacks count as misheard, by how
    alike what differs is spelled."""
    sequence = query.sequence
    n = len(sequence)
    if n < 3:
        return NearPhrase()
    if not _near_letters(sequence, [tokens])[0]:
        return NearPhrase()
    return _misheard_stretch(query, tokens, in_order or InOrder.of(sequence, {}))


def _misheard_stretch(query: LexicalQuery, tokens: Sequence[str], in_order: InOrder) -> NearPhrase:
    """``misheard_phrase`` of speech that ``_near_letters`` has passed."""
    sequence = query.sequence
    n = len(sequence)
    spans = set()
    for position, token in enumerate(tokens):
        for i in in_order.where.get(token, ()):
            for start in range(position - i - PHRASE_SLACK, position - i + PHRASE_SLACK + 1):
                for length in range(n - PHRASE_SLACK, n + PHRASE_SLACK + 1):
                    spans.add((max(0, start), max(0, start) + length))
    stretches = [tokens[start:end] for start, end in spans]
    best = NearPhrase()
    for _, similarity, index in _alike_stretches(sequence, stretches):
        said = set(stretches[index])
        accepted = zip(sequence, in_order.accepted, strict=True)
        lacking = [word for word, words in accepted if not words & said]
        heard = [t for t in stretches[index] if t not in in_order.where]
        alike = _spelled_like("".join(lacking), "".join(heard))
        order = (similarity - MISHEARD_PHRASE) / (100.0 - MISHEARD_PHRASE)
        if alike and order > best.order:
            best = NearPhrase(order, dict.fromkeys(lacking, alike))
    return best


def _near_letters(sequence: Sequence[str], speeches: Sequence[Sequence[str]]) -> list[bool]:
    """Whether each clip's speech (its tokens) may hold the query's words misheard: one pass
    over the letters (most clips have no stretch near), with a little slack, since it compares
    stretches of the phrase's length only, and ``misheard_phrase`` a word more or less."""
    if not speeches:
        return []
    scores = process.cdist(
        [" ".join(sequence)],
        [" ".join(tokens) for tokens in speeches],
        scorer=fuzz.partial_ratio,
        score_cutoff=MISHEARD_PHRASE - 5,
        workers=1,
    )
    return (scores[0] > 0).tolist()


def _alike_stretches(
    sequence: Sequence[str], stretches: Sequence[Sequence[str]]
) -> list[tuple[str, float, int]]:
    """The stretches most alike the query, by letters and by sound (``sound_key`` of each
    word: "may detect" sounds nearer "made it back" than it is spelled), each scored by the
    nearer of the two from ``MISHEARD_PHRASE`` on."""
    found = {}
    for spell in (" ".join, _sounded):
        for text, similarity, index in process.extract(
            spell(sequence),
            [spell(stretch) for stretch in stretches],
            scorer=fuzz.ratio,
            score_cutoff=MISHEARD_PHRASE,
            limit=MISHEARD_STRETCHES,
        ):
            if similarity > found.get(index, ("", 0.0))[1]:
                found[index] = (text, similarity, index)
    return sorted(found.values(), key=lambda item: -item[1])


def _sounded(tokens: Sequence[str]) -> str:
    """The words' sound keys, a word itself where it has none (digits)."""
    return " ".join(_sound(token) or token for token in tokens)


@lru_cache(maxsize=65536)
def _sound(token: str) -> str:
    return sound_key(token)


def _clip_words(words: list[str], starts: np.ndarray, n: int) -> list[str]:
    """Clip ``n``'s words of ``words`` (every clip's, each clip's after a break at ``starts``)."""
    end = int(starts[n + 1]) if n + 1 < len(starts) else len(words)
    return words[int(starts[n]) + 1 : end]


def _in_window(accepted: Sequence[set[str]], tokens: Sequence[str], window: int) -> bool:
    """Whether the query's words occur in order within ``window`` consecutive tokens."""
    for start, token in enumerate(tokens):
        if token not in accepted[0]:
            continue
        i, position = 1, start + 1
        while i < len(accepted) and position < min(len(tokens), start + window):
            if tokens[position] in accepted[i]:
                i += 1
            position += 1
        if i == len(accepted):
            return True
    return False


def _proposing(
    variants: dict[str, dict[str, float]], counts: dict[str, int], idf: Callable[[str], float]
) -> list[str]:
    """The words (query words and their variants) whose clips are ranked for candidates: those
    worth most to a score (IDF times credit) first, while they are in at most
    ``POSTINGS_BUDGET`` clips together (one at least): bounded work for "the news today" over
    a million clips."""
    credit: dict[str, float] = {}
    for found in variants.values():
        for word, similarity in found.items():
            credit[word] = max(credit.get(word, 0.0), similarity)
    words = list(credit)
    kept, clips = set(), 0
    for word in sorted(words, key=lambda w: -credit[w] * idf(w)):
        clips += counts.get(word, 0)
        if kept and clips > POSTINGS_BUDGET:
            break
        kept.add(word)
    return [word for word in words if word in kept]


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _places(in_order: InOrder, tokens: Sequence[str], needed: int) -> list[int]:
    """Where a stretch of ``tokens`` holds at least ``needed`` of the query's words, each in
    its place, but not all of them (that is the exact phrase)."""
    n, where = len(in_order.accepted), in_order.where
    in_place: dict[int, int] = {}  # start -> query words in their place from there
    for position, token in enumerate(tokens):
        for i in where.get(token, ()):
            if 0 <= (start := position - i) <= len(tokens) - n:
                in_place[start] = in_place.get(start, 0) + 1
    return sorted(start for start, count in in_place.items() if needed <= count < n)


def _spelled_like(word: str, token: str) -> float:
    """How nearly ``token`` is spelled like ``word`` (0-1), 0 below ``SLOT_SIMILARITY``."""
    similarity = fuzz.ratio(word, token)
    return similarity / 100.0 if similarity >= SLOT_SIMILARITY else 0.0


def _contains_sequence(tokens: Sequence[str], phrase: Sequence[str]) -> bool:
    n = len(phrase)
    return any(tuple(tokens[i : i + n]) == tuple(phrase) for i in range(len(tokens) - n + 1))
