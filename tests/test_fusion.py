"""Fusion of the per-channel scores, on a real catalog and FAISS store: the weighted mean of
each space's best channel, reciprocal ranks, and evidence only where a channel scored a clip."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from mmretrieval import channels
from mmretrieval.config import SearchConfig, StoreConfig
from mmretrieval.search import EncodedQuery, Searcher
from mmretrieval.store.backends import open_store
from mmretrieval.store.catalog import Catalog, ClipText, IndexedFile

# (speech, on-screen text): clips 0 and 2 show text, so only they have an ocr vector
CLIPS = [
    ("the harbour ferry was cancelled", "FERRY CANCELLED"),
    ("snow closed the mountain roads", ""),
    ("the council debated the ferry budget", "COUNCIL"),
    ("a quiet day at the library", ""),
]
DIM = 8


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    vectors = rng.normal(size=(n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture
def searchable(tmp_path):
    """A catalog of one file of ``CLIPS`` with speech and ocr vectors, and its FAISS store."""
    rng = np.random.default_rng(3)
    catalog = Catalog(tmp_path / "catalog.sqlite", create=True)
    shown = [i for i, (_, ocr) in enumerate(CLIPS) if ocr]
    _, added = catalog.put_file(
        IndexedFile(
            path="/media/news.mp4", size=1, mtime_ns=1, hash="news", duration=40.0,
            has_video=True, has_audio=True, texts=[],
            clips=[ClipText(10.0 * i, 10.0 * i + 10, s, o) for i, (s, o) in enumerate(CLIPS)],
            vectors={
                channels.SPEECH: (list(range(len(CLIPS))), unit(rng, len(CLIPS))),
                channels.OCR: (shown, unit(rng, len(shown))),
            },
        )
    )  # fmt: skip
    store = open_store(StoreConfig(), tmp_path / "index")
    for channel, (ids, vectors) in added.items():
        store.add(channel, np.asarray(ids, np.int64), vectors)
    return catalog, store, unit(rng, 1)[0]


def test_weighted_fusion_is_the_mean_of_each_spaces_best_channel(searchable):
    catalog, store, vector = searchable
    config = SearchConfig(candidates=10)
    hits = Searcher(catalog, store, config).search(
        EncodedQuery({channels.TEXT_SPACE: vector}, "ferry cancelled"), k=10
    )
    assert len(hits) == len(CLIPS)  # each clip its own hit: the clips do not overlap
    weights = config.weights
    for hit in hits:
        evidence = hit.evidence
        assert (channels.OCR in evidence) == bool(CLIPS[int(hit.start // 10)][1])
        text = max(evidence[channels.SPEECH], evidence.get(channels.OCR, 0.0))
        lexical = evidence.get(channels.LEXICAL, 0.0)
        expected = (weights["text"] * text + weights["lexical"] * lexical) / sum(
            weights.values()
        )
        assert hit.score == pytest.approx(expected)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_reciprocal_rank_fusion_adds_each_spaces_ranks(searchable):
    catalog, store, vector = searchable
    config = SearchConfig(candidates=10, fusion="rrf")
    hits = Searcher(catalog, store, config).search(
        EncodedQuery({channels.TEXT_SPACE: vector}, "ferry cancelled"), k=10
    )
    by_space = {"text": {}, "lexical": {}}
    for hit in hits:
        text = max(hit.evidence[channels.SPEECH], hit.evidence.get(channels.OCR, 0.0))
        by_space["text"][hit.clip_id] = text
        by_space["lexical"][hit.clip_id] = hit.evidence.get(channels.LEXICAL, 0.0)
    expected = dict.fromkeys(by_space["text"], 0.0)
    for space, scores in by_space.items():
        ranked = sorted((c for c in scores if scores[c] > 0), key=scores.get, reverse=True)
        for rank, clip_id in enumerate(ranked, start=1):
            expected[clip_id] += config.weights[space] / (config.rrf_k + rank)
    assert {h.clip_id: h.score for h in hits} == pytest.approx(expected)
    lexical = sorted(s for s in by_space["lexical"].values() if s > 0)
    assert len(lexical) == 2 and lexical[0] < lexical[1]  # ferry; ferry cancelled


class ReadCounting(Catalog):
    """The real catalog, keeping which clips' rows were read."""

    read: list[int]

    def clips(self, ids):
        ids = list(ids)
        self.read = getattr(self, "read", []) + ids
        return super().clips(ids)


def test_search_reads_each_candidates_row_once(searchable):
    catalog, store, vector = searchable
    counting = ReadCounting(catalog.path)
    hits = Searcher(counting, store, SearchConfig(candidates=10)).search(
        EncodedQuery({channels.TEXT_SPACE: vector}, "the ferry"), k=10
    )
    assert len(hits) == len(CLIPS)
    assert sorted(counting.read) == sorted({h.clip_id for h in hits})  # all, none twice


def test_the_keyword_side_is_looked_up_beside_the_vector_channels(searchable, monkeypatch):
    catalog, store, vector = searchable
    searcher = Searcher(catalog, store, SearchConfig(candidates=10))
    started = threading.Event()
    waited = []
    look_up, search = searcher.lexical.search, store.search

    def keywords(*args):
        started.set()
        return look_up(*args)

    def vectors(*args, **kwargs):  # one after the other, it would wait in vain
        waited.append(started.wait(timeout=60))
        return search(*args, **kwargs)

    monkeypatch.setattr(searcher.lexical, "search", keywords)
    monkeypatch.setattr(store, "search", vectors)
    hits = searcher.search(EncodedQuery({channels.TEXT_SPACE: vector}, "ferry cancelled"), k=10)
    assert waited == [True, True]  # speech and ocr, each while the keywords were looked up
    assert len(hits) == len(CLIPS)


def test_a_free_keyword_thread_takes_a_smaller_vector_channel(searchable, monkeypatch):
    catalog, store, vector = searchable
    searcher = Searcher(catalog, store, SearchConfig(candidates=10))
    ocr_started = threading.Event()
    threads, waited = {}, []
    search = store.search

    def vectors(channel, *args, **kwargs):
        threads[channel] = threading.get_ident()
        if channel == channels.OCR:
            ocr_started.set()
        else:  # speech, the largest, searched first here: one after the other, in vain
            waited.append(ocr_started.wait(timeout=60))
        return search(channel, *args, **kwargs)

    monkeypatch.setattr(store, "search", vectors)
    hits = searcher.search(EncodedQuery({channels.TEXT_SPACE: vector}), k=10)  # no keywords
    assert waited == [True]
    assert threads[channels.OCR] != threads[channels.SPEECH] == threading.get_ident()
    assert len(hits) == len(CLIPS)


def test_a_busy_keyword_thread_leaves_every_vector_channel_to_the_searching_thread(
    searchable, monkeypatch
):
    catalog, store, vector = searchable
    searcher = Searcher(catalog, store, SearchConfig(candidates=10))
    searched = threading.Event()
    threads = {}
    look_up, search = searcher.lexical.search, store.search

    def keywords(*args):  # busy until both vector channels are searched
        searched.wait(timeout=60)
        return look_up(*args)

    def vectors(channel, *args, **kwargs):
        threads[channel] = threading.get_ident()
        if len(threads) == 2:
            searched.set()
        return search(channel, *args, **kwargs)

    monkeypatch.setattr(searcher.lexical, "search", keywords)
    monkeypatch.setattr(store, "search", vectors)
    hits = searcher.search(EncodedQuery({channels.TEXT_SPACE: vector}, "ferry"), k=10)
    assert set(threads.values()) == {threading.get_ident()}
    assert len(hits) == len(CLIPS)


def put_files(tmp_path, vectors_of) -> tuple[Catalog, object]:
    """Files b.mp4 then a.mp4 (so b's clips have the lower ids), six clips each, side by side
    (no two overlap), their speech vectors ``vectors_of(n)``; the catalog and its FAISS store."""
    catalog = Catalog(tmp_path / "catalog.sqlite", create=True)
    store = open_store(StoreConfig(), tmp_path / "index")
    for name in ("b", "a"):
        _, added = catalog.put_file(
            IndexedFile(
                path=f"/media/{name}.mp4", size=1, mtime_ns=1, hash=name, duration=60.0,
                has_video=True, has_audio=True, texts=[],
                clips=[ClipText(10.0 * i, 10.0 * i + 10, f"clip {i}", "") for i in range(6)],
                vectors={channels.SPEECH: (list(range(6)), vectors_of(6))},
            )
        )  # fmt: skip
        for channel, (ids, vectors) in added.items():
            store.add(channel, np.asarray(ids, np.int64), vectors)
    return catalog, store


def test_spans_read_the_rows_of_the_first_candidates_only(tmp_path):
    rng = np.random.default_rng(5)
    catalog, store = put_files(tmp_path, lambda n: unit(rng, n))
    query = EncodedQuery({channels.TEXT_SPACE: unit(rng, 1)[0]})
    counting = ReadCounting(catalog.path)
    searcher = Searcher(counting, store, SearchConfig(candidates=12))
    every = searcher.search(query, k=12)
    counting.read = []
    first = searcher.search(query, k=2)
    assert len(every) == 12
    assert first == every[:2]
    assert len(counting.read) == 4  # 2 * k: each clip is a span of its own


def test_equal_scores_rank_by_file_and_time_whichever_rows_are_read_first(tmp_path):
    same = unit(np.random.default_rng(6), 1)
    catalog, store = put_files(tmp_path, lambda n: np.repeat(same, n, axis=0))
    hits = Searcher(catalog, store, SearchConfig(candidates=12)).search(
        EncodedQuery({channels.TEXT_SPACE: same[0]}), k=2
    )
    assert [(h.path, h.start) for h in hits] == [("/media/a.mp4", 0.0), ("/media/a.mp4", 10.0)]
