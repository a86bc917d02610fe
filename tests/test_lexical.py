"""Keyword search: phrases and word order, on a real SQLite catalog (FTS5) with known texts."""

from __future__ import annotations

import numpy as np
import pytest

from mmretrieval.config import SearchConfig, StoreConfig
from mmretrieval.lexical import PHRASE, LexicalQuery, LexicalSearch
from mmretrieval.phonetic import sound_key
from mmretrieval.search import EncodedQuery, Searcher
from mmretrieval.store.backends import open_store
from mmretrieval.store.catalog import Catalog, ClipText, IndexedFile

# clip texts: (speech, on-screen text); each becomes one file of one clip
TEXTS = {
    "exact": ("and then she said i was never so happy in all my life", ""),
    "scattered": ("so i was told that he never came back, which was a shame", ""),
    "window": ("i was never really so sure about it", ""),
    "partial": ("i am sure it was never so cold in the village", ""),
    "screen": ("the weather stays dry tomorrow", "YOURMOTIVESFORDOINGWHATEVERGOOD"),
    "screen words": ("your good motives are whatever you are doing", "WEATHER"),
    "filler": ("the council met on tuesday to discuss the budget", "COUNCIL MEETING"),
    "name": ("coach daniel kowalczyk said it was not the first time", ""),
    "other name": ("coach daniel kovacs was writing a letter", ""),
}


@pytest.fixture
def catalog(tmp_path) -> Catalog:
    catalog = Catalog(tmp_path / "catalog.sqlite", create=True)
    for number, (name, (speech, ocr)) in enumerate(TEXTS.items()):
        catalog.put_file(
            IndexedFile(
                path=f"/media/{name}.mp4",
                size=1,
                mtime_ns=number,
                hash=str(number),
                duration=10.0,
                has_video=True,
                has_audio=True,
                clips=[ClipText(0.0, 10.0, speech, ocr)],
                texts=[],
                vectors={},
            )
        )
    return catalog


def ranked(catalog: Catalog, text: str) -> list[str]:
    scores = LexicalSearch(catalog, 80.0).search(text, 100)
    rows = catalog.clips(scores)
    names = {clip_id: rows[clip_id].path.rsplit("/", 1)[1][:-4] for clip_id in scores}
    return [names[c] for c in sorted(scores, key=scores.get, reverse=True)]


def test_query_keeps_its_words_in_order():
    query = LexicalQuery.parse('out of "some of" them')
    assert query.sequence == ("out", "of", "some", "of", "them")
    assert query.terms == ("out", "of", "them")
    assert query.phrases == (("some", "of"),)


def test_exact_phrase_outranks_ordered_window_outranks_scattered_words(catalog):
    order = ranked(catalog, "i was never so")
    assert order.index("exact") < order.index("window") < order.index("scattered")
    assert order[0] == "exact"
    scores = LexicalSearch(catalog, 80.0).search("i was never so", 100)
    assert scores.exact == {c for c, s in scores.items() if s == max(scores.values())}
    assert len(scores.exact) == 1


def test_longest_adjacent_run_beats_a_bag(catalog):
    # both hold all four words; "partial" says three of them adjacent ("was never so"),
    # "scattered" only two ("so i was ... never")
    order = ranked(catalog, "i was never so")
    assert order.index("partial") < order.index("scattered")


def test_one_word_query_scores_as_before(catalog):
    scores = LexicalSearch(catalog, 80.0).search("never", 100)
    assert set(scores.values()) == {1.0}
    assert scores.exact == set()  # a single word is no phrase


def test_run_together_caption_is_an_exact_phrase(catalog):
    order = ranked(catalog, "motives for doing whatever good")
    # the caption says it in one run; the other clip only says the words, scattered
    assert order[0] == "screen"
    assert order.index("screen") < order.index("screen words")


def test_search_evidence_says_when_a_phrase_matched_exactly(catalog, tmp_path):
    store = open_store(StoreConfig(), tmp_path / "index")
    searcher = Searcher(catalog, store, SearchConfig())
    hits = searcher.search(EncodedQuery({}, "i was never so"), k=10)
    assert hits[0].path.endswith("exact.mp4")
    assert hits[0].evidence[PHRASE] == 1.0
    assert all(PHRASE not in hit.evidence for hit in hits[1:])
    assert hits[0].score > hits[1].score
    assert isinstance(hits[0].to_dict()["evidence"][PHRASE], float)
    assert np.isfinite(hits[0].score)


def test_sound_keys_join_spellings_of_one_name():
    assert sound_key("Kowalczyk") == sound_key("kowalchik") == sound_key("Kovalchick")
    assert sound_key("youssef") == sound_key("Yusuf")
    assert sound_key("dougherty") == sound_key("Doherty")
    assert sound_key("writing") != sound_key("reading")
    assert sound_key("kovacs") != sound_key("kowalczyk")
    assert sound_key("1984") == ""


def test_a_name_spelled_another_way_is_found_by_its_sound(catalog):
    # edit distance alone rejects it (ratio 63 < 80); the sound key finds it
    search = LexicalSearch(catalog, 80.0)
    scores = search.search("coach kovalchick", 100)
    assert search.variants(["kovalchick"])["kovalchick"] == {"kowalczyk": 0.7}
    assert ranked(catalog, "coach kovalchick")[0] == "name"
    rows = catalog.clips(scores)
    by_name = {rows[c].path.rsplit("/", 1)[1][:-4]: s for c, s in scores.items()}
    assert by_name["name"] > by_name["other name"]
