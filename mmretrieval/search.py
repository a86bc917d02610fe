"""Search: encode the query into every space it reaches, search each channel, fuse, merge spans.

Per-space scores are comparable numbers in [0, 1]: cosine similarity (clamped at 0) for vector
spaces (the visual labels' inner product, capped at 1: ``imagenet``), IDF-weighted query
coverage for the lexical pseudo-space. ``weighted`` fusion is their
weighted mean over the spaces the query reached, so a clip's score reads the same whatever
else is in the index; ``rrf`` (reciprocal-rank fusion) uses ranks only.

A ``ClipFilter`` (file conditions and the clip's spoken language) is evaluated in the catalog
first; every index, vector and lexical, then searches only among the clips it allows, so a
filter never empties a result list that matching clips could have filled.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from itertools import chain
from typing import Annotated

import numpy as np
from pydantic import Field, PlainSerializer, TypeAdapter
from pydantic.dataclasses import dataclass as pydantic_dataclass

from mmretrieval import channels
from mmretrieval.config import SearchConfig
from mmretrieval.errors import ConfigError
from mmretrieval.filters import ClipFilter
from mmretrieval.imagenet import labels_score
from mmretrieval.lexical import PHRASE, LexicalQuery, LexicalScores, LexicalSearch, tokenize
from mmretrieval.people.archive import ArchivePeople
from mmretrieval.spans import Timed
from mmretrieval.store.catalog import Catalog, ClipRow, TimedText
from mmretrieval.store.postings import SavedPostings
from mmretrieval.store.protocol import VectorStore

SNIPPET_CHARS = 240


Seconds = Annotated[float, PlainSerializer(lambda value: round(value, 3))]
Score = Annotated[float, PlainSerializer(lambda value: round(value, 4))]


@pydantic_dataclass
class Hit(Timed):
    """One result: a time span of one file, its fused score and the per-space evidence.

    Its fields are also the hit's JSON (``mmr search --json``, the HTTP API's response model,
    exports' metadata), with times to the millisecond and scores to 4 decimals; ``clip_ids``
    stays internal and empty optional fields are left out. A new field goes here only."""

    path: str
    start: Seconds
    end: Seconds
    score: Score
    evidence: dict[str, Score]
    text: str
    clip_id: int
    file_id: int
    clip_ids: list[int] = Field(default_factory=list, exclude=True)  # the clips merged into it
    frame_time: Seconds | None = None  # when the best-matching frame of the span appeared
    text_time: Seconds | None = None  # when the snippet's line starts (said or shown)
    notes: list[str] | None = None  # what the evidence should be read with (a query cut short)
    language: str | None = None  # ISO 639-1 of the speech in its best clip (None: unknown)
    speaker: str | None = None  # who speaks most in its best clip: voice:N (people profile)
    on_screen: str | None = None  # whose face shows most in its best clip: face:N (people)
    index: str | None = None  # the index folder it is from, in a search over several (Archive)

    def to_dict(self) -> dict:
        return _HIT_JSON.dump_python(self, exclude_none=True)


_HIT_JSON = TypeAdapter(Hit)


@dataclass(frozen=True)
class EncodedQuery:
    """A query as vectors per space, plus the text used for keyword search (if any). A channel
    that takes a query vector of its own (``channels.OWN_QUERY``: a text's visual labels) is
    keyed by its channel's name."""

    vectors: dict[str, np.ndarray]
    text: str | None = None
    notes: tuple[str, ...] = ()  # said on every hit: e.g. the query was cut for a model


@dataclass(frozen=True)
class UnencodedText:
    """A text query the models have yet to encode (``encode``): its keyword side needs no
    vector, so ``Searcher.search`` looks its words up while the models encode it."""

    text: str
    encode: Callable[[], EncodedQuery]


@dataclass(frozen=True)
class Evidence:
    """The candidates' scores per channel: clip ids in the order the channels proposed them
    (equal fused scores keep it) and a column of scores per channel, NaN where a channel has
    none for a clip. Fusion reads the columns whole; a clip's scores are made a dict (its
    evidence) only for the clips that become hits."""

    ids: np.ndarray
    channels: tuple[str, ...]
    scores: np.ndarray  # (clips, channels)
    exact: set[int]  # clips holding the query as an exact phrase (``PHRASE``)

    @classmethod
    def of(cls, per_channel: dict[str, dict[int, float]], exact: set[int]) -> Evidence:
        ids = list(dict.fromkeys(chain.from_iterable(per_channel.values())))
        row = {clip_id: n for n, clip_id in enumerate(ids)}
        scores = np.full((len(ids), len(per_channel)), np.nan)
        for column, found in enumerate(per_channel.values()):
            at = np.fromiter(map(row.__getitem__, found), np.intp, len(found))
            scores[at, column] = np.fromiter(found.values(), np.float64, len(found))
        return cls(np.asarray(ids, np.int64), tuple(per_channel), scores, exact)

    def space_scores(self) -> dict[str, np.ndarray]:
        """Per space, each clip's best score among the space's channels (0: none)."""
        best: dict[str, np.ndarray] = {}
        for column, channel in enumerate(self.channels):
            space = channels.CHANNEL_SPACE.get(channel, channel)
            found = np.nan_to_num(self.scores[:, column], nan=0.0)
            best[space] = np.maximum(best[space], found) if space in best else found
        return best

    def of_rows(self, rows: Sequence[int]) -> dict[int, dict[str, float]]:
        """Clip id -> channel -> score of the clips at these rows, with ``PHRASE`` for exact
        phrases."""
        result = {}
        ids, scores = self.ids[rows].tolist(), self.scores[rows].tolist()
        for clip_id, values in zip(ids, scores, strict=True):
            found = {c: v for c, v in zip(self.channels, values, strict=True) if v == v}
            if clip_id in self.exact:  # not a space: fusion ignores it, the user sees it
                found[PHRASE] = 1.0
            result[clip_id] = found
        return result


class Searcher:
    def __init__(
        self,
        catalog: Catalog,
        store: VectorStore,
        config: SearchConfig,
        same_person: dict[str, float] | None = None,
        saved: SavedPostings | None = None,
    ):
        """``same_person``: per biometric channel (voice, face), the cosine above which two
        clips show one person; hits of an index with those channels say who is in them.
        ``saved``: where the index keeps its keyword postings between opens."""
        self.catalog = catalog
        self.store = store
        self.config = config
        self.lexical = LexicalSearch(catalog, config.fuzzy_min_similarity, saved)
        self.people = ArchivePeople(catalog, same_person or {})

    def search(
        self,
        query: EncodedQuery | UnencodedText,
        k: int = 10,
        spaces: Sequence[str] | None = None,
        weights: dict[str, float] | None = None,
        clip_filter: ClipFilter | None = None,
        candidates: int | None = None,
    ) -> list[Hit]:
        """Best ``k`` spans; each channel proposes ``candidates`` clips before fusion (default
        the profile's ``search.candidates``): clips no channel proposes are not ranked. The
        keyword side runs on a thread of its own beside the vector channels (SQLite, numpy and
        FAISS let go of the GIL; at a million clips each side takes ~12 CPU ms), and beside the
        models when ``query`` is text still to encode."""
        with ThreadPoolExecutor(1, thread_name_prefix="mmr-keywords") as beside:
            text = query.text
            keywords = self._keywords(beside, text, spaces, clip_filter, candidates)
            if isinstance(query, UnencodedText):
                query = query.encode()
                if query.text != text:  # not the text looked up: _search looks its own up
                    keywords = None
            return self._search(
                query, k, spaces, weights, clip_filter, candidates, keywords, beside
            )

    def _keywords(
        self,
        beside: ThreadPoolExecutor,
        text: str | None,
        spaces: Sequence[str] | None,
        clip_filter: ClipFilter | None,
        candidates: int | None,
    ) -> Future[LexicalScores] | None:
        """The keyword side of ``text``, looked up on the ``beside`` thread (None: no text, or
        the lexical space is not searched)."""
        if not text or (spaces and channels.LEXICAL not in spaces):
            return None
        limit = candidates or self.config.candidates
        return beside.submit(self.lexical.search, text, limit, clip_filter)

    def _search(
        self,
        query: EncodedQuery,
        k: int,
        spaces: Sequence[str] | None,
        weights: dict[str, float] | None,
        clip_filter: ClipFilter | None,
        candidates: int | None,
        keywords: Future[LexicalScores] | None,
        beside: ThreadPoolExecutor,
    ) -> list[Hit]:
        """``search``, with ``keywords`` (the keyword side of ``query.text``) already started
        on ``beside`` (None: looked up here, after the vector channels)."""
        candidates = candidates or self.config.candidates
        known = {*channels.CHANNEL_SPACE.values(), channels.LEXICAL}
        unknown = (set(spaces or ()) | set(weights or ())) - known
        if unknown:
            raise ConfigError(
                f"unknown space(s) {', '.join(sorted(unknown))}: "
                f"expected {', '.join(sorted(known))}"
            )
        weights = {**self.config.weights, **(weights or {})}
        if clip_filter and keywords is not None:
            # a filter's path globs are a Python function SQLite calls back holding the
            # connection: this thread must not wait for the connection meanwhile (a deadlock)
            wait([keywords])
        allowed = self.catalog.clip_ids(clip_filter) if clip_filter else None
        if allowed is not None and len(allowed) == 0:
            return []
        evidence, reached = self._evidence(
            query, spaces, clip_filter, allowed, candidates, keywords, beside
        )
        if not len(evidence.ids):
            return []
        fused = self._fuse(evidence, {s: weights.get(s, 1.0) for s in reached})
        best = np.argsort(-fused, kind="stable")[:candidates]
        hits = self._spans(evidence, fused[best], best, k)
        tokens = set(LexicalQuery.parse(query.text).terms) if query.text else set()
        picture = query.vectors.get(channels.CLIP_SPACE)
        lines = self.catalog.spans_texts([(h.file_id, h.start, h.end) for h in hits])
        for hit, hit_lines in zip(hits, lines, strict=True):
            hit.text, hit.text_time = _snippet(hit, hit_lines, tokens)
            hit.notes = list(query.notes) or None
            if picture is not None:
                hit.frame_time = self._best_frame(hit, picture)
            if (face := query.vectors.get(channels.FACE_SPACE)) is not None:
                hit.frame_time = self._best_face(hit, face)
            elif hit.frame_time is None:
                hit.frame_time = self._best_visual_frame(hit, query)
            hit.speaker = self.people.label(channels.VOICE, hit.clip_id)
            hit.on_screen = self.people.label(channels.FACE, hit.clip_id)
        return hits

    def _spans(self, evidence: Evidence, fused: np.ndarray, best: np.ndarray, k: int) -> list[Hit]:
        """The best ``k`` spans of the candidates at ``best`` (rows of ``evidence``, by fused
        score, best first). Spans are made from the first ``2 * k`` candidates' rows, then from
        twice as many until ``k`` are found (reading all 200 candidates' rows cost ~1.5 CPU ms
        a query at 1M), each time through every candidate scored as the last one read: equal
        scores rank by file and time, which only the rows hold, so the candidates read always
        rank as the first of all the candidates would."""
        ids = evidence.ids[best].tolist()
        scores = dict(zip(ids, fused.tolist(), strict=True))
        row = dict(zip(ids, best.tolist(), strict=True))
        rows: dict[int, ClipRow] = {}
        read = 0
        while True:
            end = min(len(ids), 2 * max(read, k))
            while 0 < end < len(ids) and fused[end] == fused[end - 1]:
                end += 1
            rows.update(self.catalog.clips(ids[read:end]))
            read = end
            # equal scores by file and time: an order whichever index (or shards) holds them
            ranked = sorted(rows, key=lambda c: (-scores[c], rows[c].path, rows[c].start))
            hits = _merge_spans(ranked, rows, scores, evidence.of_rows([row[c] for c in ranked]), k)
            if len(hits) == k or read == len(ids):
                return hits

    def _best_visual_frame(self, hit: Hit, query: EncodedQuery) -> float | None:
        """When the hit's best frame through the visual CNN appeared: by descriptor for a
        picture query, by labels for a text query (None: no visual frames, or no such query)."""
        descriptor = query.vectors.get(channels.VISUAL_SPACE)
        labels = query.vectors.get(channels.VISUAL_LABELS)
        if descriptor is None and (labels is None or not hit.evidence.get(channels.VISUAL_LABELS)):
            return None
        times, vectors, frame_labels = self.catalog.visual_frames(hit.clip_ids)
        if len(times) == 0:
            return None
        if descriptor is not None:
            scores = vectors @ descriptor
        else:
            scores = np.array([labels_score(labels, found) for found in frame_labels])
        return float(times[int(np.argmax(scores))])

    def _best_frame(self, hit: Hit, query: np.ndarray) -> float | None:
        times, vectors = self.catalog.frames(hit.clip_ids)
        if len(times) == 0:
            return None
        return float(times[int(np.argmax(vectors @ query))])

    def _best_face(self, hit: Hit, query: np.ndarray) -> float | None:
        """When the face most like the query's is seen sharpest in the hit (people profile)."""
        times, vectors = self.catalog.faces(hit.clip_ids)
        if len(times) == 0:
            return None
        return float(times[int(np.argmax(vectors @ query))])

    def _evidence(
        self,
        query: EncodedQuery,
        spaces: Sequence[str] | None,
        clip_filter: ClipFilter | None,
        allowed: np.ndarray | None,
        candidates: int,
        keywords: Future[LexicalScores] | None,
        beside: ThreadPoolExecutor,
    ) -> tuple[Evidence, set[str]]:
        """Every candidate's scores in [0, 1] per channel (among ``allowed`` clips, those of
        the files passing ``clip_filter``; None: all), and the spaces searched.

        The vector channels are searched here, largest first; all but the largest are also
        queued on ``beside`` (its one thread, after the keyword side): one its thread has
        started by the time this thread comes to it is left to it, others are searched here.
        So the keyword thread takes a channel only once it is free: three busy threads on two
        cores slowed the keyword side (1M, load ~1: p95 30 -> 36 ms with a third thread)."""
        wanted = set(spaces) if spaces else None
        per_channel: dict[str, dict[int, float]] = {}
        reached = set()
        exact: set[int] = set()  # clips holding the query as an exact phrase
        vectors = {}  # the vector channels to search, with the query's vector for each
        for channel in self.store.channels():
            space = channels.CHANNEL_SPACE.get(channel)
            key = channels.query_key(channel) if space else None
            if key in query.vectors and (wanted is None or space in wanted):
                vectors[channel] = query.vectors[key]
                reached.add(space)
        largest = sorted(vectors, key=self.store.count, reverse=True)
        queued = {
            c: beside.submit(self.store.search, c, vectors[c], candidates, ids=allowed)
            for c in largest[1:]
        }
        found_by = {}
        for channel in largest:
            later = queued.get(channel)
            if later is None or later.cancel():  # not started beside: searched here
                found_by[channel] = self.store.search(
                    channel, vectors[channel], candidates, ids=allowed
                )
            else:
                found_by[channel] = later.result()
        for channel in vectors:  # in the store's order: equal fused scores keep it
            hits = found_by[channel]
            found = [i for i, _ in hits]
            scores = np.clip([s for _, s in hits], 0.0, 1.0).tolist()
            per_channel[channel] = dict(zip(found, scores, strict=True))
        if query.text and (wanted is None or channels.LEXICAL in wanted):
            if keywords is None:
                lexical = self.lexical.search(query.text, candidates, clip_filter)
            else:
                lexical = keywords.result()
            per_channel[channels.LEXICAL] = lexical
            exact = lexical.exact
            reached.add(channels.LEXICAL)
        proposed = list({i for scores in per_channel.values() for i in scores})
        for channel, vector in vectors.items():  # score candidates another channel found
            scored = per_channel[channel]  # a dict's lookups: np.isin took ~0.3 CPU ms a query
            missing = np.array([i for i in proposed if i not in scored], np.int64)
            found, stored = self.store.vectors(channel, missing)
            if len(found):
                scores = stored @ vector.reshape(-1)
                per_channel[channel].update(
                    zip(found.tolist(), np.clip(scores, 0.0, 1.0).tolist(), strict=True)
                )
        return Evidence.of(per_channel, exact), reached

    def _fuse(self, evidence: Evidence, weights: dict[str, float]) -> np.ndarray:
        """Each candidate's fused score, in ``evidence.ids``' order."""
        per_space = evidence.space_scores()
        if self.config.fusion == "weighted":
            fused = np.zeros(len(evidence.ids))
            for space, weight in weights.items():  # summed in this order, as floats add
                if space in per_space:
                    fused = fused + weight * per_space[space]
            return fused / (sum(weights.values()) or 1.0)
        fused = np.zeros(len(evidence.ids))
        for space, weight in weights.items():
            scores = per_space.get(space)
            if scores is None:
                continue
            scored = np.flatnonzero(scores > 0)
            ranked = scored[np.argsort(-scores[scored], kind="stable")]  # equal: as proposed
            fused[ranked] += weight / (self.config.rrf_k + np.arange(1, len(ranked) + 1))
        return fused


def _snippet(hit: Hit, lines: list[TimedText], query_tokens: set[str]) -> tuple[str, float | None]:
    """The transcript or on-screen line of ``lines`` (the span's) that shares most words with
    the query, and when it starts."""
    if not lines:
        return "", None
    prefer_screen = hit.evidence.get(channels.OCR, 0) > hit.evidence.get(channels.SPEECH, 0)

    def rank(line) -> tuple[int, bool]:
        return len(query_tokens & set(tokenize(line.text))), (
            line.source == "ocr"
        ) == prefer_screen

    best = max(lines, key=rank)
    text = best.text
    if best.source == "ocr":  # the whole caption block on screen with it, not one line
        block: dict[str, str] = {}  # a run-together line and its recovered words: show one
        for line in lines:
            if line.source == "ocr" and line.overlaps(best):
                key = "".join(line.text.split()).lower()
                if len(line.text.split()) > len(block.get(key, "").split()):
                    block[key] = line.text
        text = " ".join(block.values())
    text = text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…"
    return text, max(best.start, hit.start)


def _merge_spans(
    ranked: Sequence[int],
    rows: dict[int, ClipRow],
    fused: dict[int, float],
    evidence: dict[int, dict[str, float]],
    k: int,
) -> list[Hit]:
    """Best clips first; a clip overlapping a hit of the same file widens that hit instead."""
    hits: list[Hit] = []
    by_file: dict[int, list[Hit]] = defaultdict(list)
    for clip_id in ranked:
        if len(hits) == k:
            break
        row = rows.get(clip_id)
        if row is None:
            continue
        joined = next((h for h in by_file[row.file_id] if h.overlaps(row)), None)
        if joined is not None:
            joined.start, joined.end = min(joined.start, row.start), max(joined.end, row.end)
            joined.clip_ids.append(clip_id)
            for channel, score in evidence[clip_id].items():
                joined.evidence[channel] = max(joined.evidence.get(channel, 0.0), score)
            continue
        hit = Hit(
            path=row.path,
            start=row.start,
            end=row.end,
            score=fused[clip_id],
            evidence=dict(evidence[clip_id]),
            text="",
            clip_id=clip_id,
            file_id=row.file_id,
            clip_ids=[clip_id],
            language=row.language,
        )
        hits.append(hit)
        by_file[row.file_id].append(hit)
    return hits
