"""In-memory keyword postings against FTS5's own ranking on a real catalog, as it changes."""

from __future__ import annotations

import numpy as np
import pytest

from mmretrieval import lexical
from mmretrieval.lexical import LexicalSearch
from mmretrieval.store import postings
from mmretrieval.store.catalog import Catalog, ClipText, IndexedFile
from mmretrieval.store.postings import Postings, SavedPostings

# words of differing frequency, repeated words, accents (folded like FTS5's) and screen text
# run together as OCR reads bold captions
SPEECH = (
    "the council met on tuesday to discuss the budget",
    "the mayor said the budget the council passed was fair",
    "rain rain and more rain over the valley on tuesday",
    "Müller said the café in Malmö opens on Tuesday",
    "the budget",
    "a storm over the valley",
)
SCREEN = ("COUNCIL MEETING", "", "STORMWARNING VALLEY", "CAFÉ MÜLLER", "BUDGETVOTE", "")


def put(catalog: Catalog, name: str, clips: list[tuple[str, str]]) -> None:
    catalog.put_file(
        IndexedFile(
            path=f"/media/{name}.mp4", size=1, mtime_ns=1, hash=name, duration=10.0 * len(clips),
            has_video=True, has_audio=True, texts=[], vectors={},
            clips=[ClipText(10.0 * i, 10.0 * i + 10, s, o) for i, (s, o) in enumerate(clips)],
        )
    )  # fmt: skip


def fts(catalog: Catalog, table: str, words: list[str], limit: int) -> list[int]:
    expression = " OR ".join(f'"{w}"' for w in words)
    rows = catalog.db.execute(
        f"SELECT rowid FROM {table} WHERE {table} MATCH ? ORDER BY bm25({table}) LIMIT ?",
        (expression, limit),
    )
    return [r[0] for r in rows]


def screen_fts(catalog: Catalog, substrings: list[str], limit: int) -> list[int]:
    """FTS5's own substring ranking of the clips' screen text: its trigram tokenizer over a
    table made for the test (the catalog keeps none)."""
    catalog.db.execute("DROP TABLE IF EXISTS temp.screen")
    catalog.db.execute("CREATE VIRTUAL TABLE temp.screen USING fts5(ocr, tokenize='trigram')")
    catalog.db.execute("INSERT INTO temp.screen(rowid, ocr) SELECT id, ocr FROM clips")
    return fts(catalog, "screen", substrings, limit)


def assert_as_fts5(catalog: Catalog, keywords: Postings) -> None:
    for words in (["the"], ["budget"], ["tuesday", "rain"], ["valley", "storm", "mayor"]):
        for limit in (2, 5, 100):  # ties at the limit go by clip id, as FTS5's do
            assert keywords.rank(words, limit) == fts(catalog, "clip_text", words, limit)
    for words in (["muller"], ["cafe"], ["mul"], ["council"]):
        assert keywords.rank(words, 100) == fts(catalog, "clip_text", words, 100)
    for substrings in (["warning"], ["vote", "meeting"], ["valley"], ["café"], ["ller"]):
        for limit in (1, 100):
            found = screen_fts(catalog, substrings, limit)
            assert keywords.screen(substrings, limit) == found
    terms = dict(catalog.db.execute("SELECT term, doc FROM clip_terms"))
    assert keywords.document_counts() == terms
    assert list(keywords.document_counts()) == list(terms)  # near misses are taken in this order
    assert keywords.clip_count() == catalog.clip_count()


@pytest.mark.parametrize("segments", [1, postings.MAX_SEGMENTS])
def test_rankings_are_fts5s_and_follow_the_catalog(tmp_path, monkeypatch, segments):
    monkeypatch.setattr(postings, "MAX_SEGMENTS", segments)  # 1: merged at every change
    catalog = Catalog(tmp_path / "catalog.sqlite", create=True)
    for n in range(3):
        put(catalog, f"file{n}", list(zip(SPEECH, SCREEN, strict=True))[n::3] * (n + 1))
    keywords = Postings()
    keywords.refresh(catalog)
    assert_as_fts5(catalog, keywords)

    put(catalog, "file1", [(SPEECH[0], "COUNCILVOTE")])  # indexed again: old clips go
    put(catalog, "file9", [("budget budget valley", "VALLEYVIEW")])
    catalog.remove_file("/media/file2.mp4")
    keywords.refresh(catalog)
    assert len(keywords.segments) == min(2, segments)
    assert_as_fts5(catalog, keywords)
    put(catalog, "file2", [("the storm passed", "STORM OVER")])
    keywords.refresh(catalog)
    assert_as_fts5(catalog, keywords)


def test_filtered_ranking_keeps_the_whole_archives_word_weights(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite", create=True)
    put(catalog, "a", [(s, o) for s, o in zip(SPEECH, SCREEN, strict=True)])
    keywords = Postings()
    keywords.refresh(catalog)
    allowed = np.array([1, 3, 5], np.int64)
    ranked = keywords.rank(["the", "budget"], 100, allowed)
    assert ranked == [i for i in fts(catalog, "clip_text", ["the", "budget"], 100) if i in allowed]


def test_saved_postings_are_read_back_and_brought_in_step(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite", create=True)
    for n in range(3):
        put(catalog, f"file{n}", list(zip(SPEECH, SCREEN, strict=True))[n::2])
    catalog.remove_file("/media/file1.mp4")  # saved without its clips
    built = Postings()
    built.refresh(catalog)
    saved = SavedPostings(tmp_path / "keywords.npz", owner="this index")
    built.save(saved, catalog.generation)
    assert Postings.load(SavedPostings(saved.path, "another index"), catalog.generation) is None
    assert Postings.load(saved, catalog.generation - 1) is None  # a catalog put back from a copy

    put(catalog, "file0", [("the storm passed", "STORMWARNING")])  # indexed again
    put(catalog, "file9", [("budget budget valley", "VALLEYVIEW")])
    loaded = Postings.load(saved, catalog.generation)
    read = loaded.refresh(catalog)
    assert read == 2  # only the clips added since it was saved
    assert_as_fts5(catalog, loaded)


def counting_reads(monkeypatch) -> list[int]:
    """The clips the postings read from the catalog, a count per read (the keyword search
    reads its candidates' texts too: those are not counted)."""
    read: list[int] = []
    segment = Postings._segment

    def counted(self, rows):
        rows = list(rows)
        read.append(len(rows))
        return segment(self, rows)

    monkeypatch.setattr(Postings, "_segment", counted)
    return read


def test_an_index_keeps_its_postings_between_opens(tmp_path, monkeypatch):
    monkeypatch.setattr(lexical, "SAVE_AFTER", 1)
    path = tmp_path / "catalog.sqlite"
    catalog = Catalog(path, create=True)
    for n in range(3):
        put(catalog, f"file{n}", list(zip(SPEECH, SCREEN, strict=True))[n::2])
    saved = SavedPostings(tmp_path / "keywords.npz", owner="this index")
    query = "council budget tuesday"
    first = LexicalSearch(catalog, 80.0, saved).search(query, 100)

    read = counting_reads(monkeypatch)
    assert LexicalSearch(Catalog(path), 80.0, saved).search(query, 100) == first
    assert sum(read) == 0

    catalog.remove_file("/media/file1.mp4")
    put(catalog, "file9", [("the budget vote on tuesday", "BUDGETVOTE")])
    found = LexicalSearch(Catalog(path), 80.0, saved).search(query, 100)
    assert sum(read) == 1  # the added clip alone
    assert found == LexicalSearch(catalog, 80.0).search(query, 100)  # as if built anew
