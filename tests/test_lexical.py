"""Keyword search: phrases and word order, on a real SQLite catalog (FTS5) with known texts."""

from __future__ import annotations

import numpy as np
import pytest

from mmretrieval import lexical
from mmretrieval.config import SearchConfig, StoreConfig
from mmretrieval.lexical import PHRASE, LexicalQuery, LexicalSearch
from mmretrieval.media.timeline import TimedText, Word
from mmretrieval.phonetic import sound_key
from mmretrieval.search import EncodedQuery, Searcher
from mmretrieval.store.backends import open_store
from mmretrieval.store.catalog import Catalog, ClipText, IndexedFile
from mmretrieval.store.postings import tokenize

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
        put_clip(catalog, number, name, speech, ocr)
    return catalog


def put_clip(
    catalog: Catalog, number: int, name: str, speech: str, ocr: str, texts: list | None = None
) -> None:
    """One file of one 10 s clip that says ``speech`` and shows ``ocr``."""
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
            texts=texts or [],
            vectors={},
        )
    )


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


def test_common_words_propose_no_candidates_past_the_postings_budget(catalog, monkeypatch):
    # "was" is in six clips, "kowalczyk" in one: with room for one clip, only the name
    # proposes, and the common word still counts in its score
    full = LexicalSearch(catalog, 80.0).search("was kowalczyk", 100)
    monkeypatch.setattr(lexical, "POSTINGS_BUDGET", 1)
    bounded = LexicalSearch(catalog, 80.0).search("was kowalczyk", 100)
    (name,) = [c for c, row in catalog.clips(full).items() if row.path.endswith("/name.mp4")]
    assert len(full) >= 5
    assert list(bounded) == [name]
    assert bounded[name] == pytest.approx(full[name])


def test_a_query_no_clip_holds_finds_nothing(catalog):
    assert LexicalSearch(catalog, 80.0).search("zebra crossings", 100) == {}


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


# Near phrases: the recogniser wrote "at" where "not" was said, and said so by its probability.
HEARD = "it is at the first time and it will not be the last"


def _heard_words(unsure: float) -> tuple[Word, ...]:
    """HEARD's words one every 0.4 s, "at" with probability ``unsure``, the others sure."""
    return tuple(
        Word(0.4 * i, 0.4 * i + 0.3, word, unsure if word == "at" else 0.97)
        for i, word in enumerate(HEARD.split())
    )


@pytest.fixture
def heard_catalog(tmp_path) -> Catalog:
    """Clips whose speech says HEARD (unsure of "at", or sure of it), and one whose caption
    holds the query's words out of order; each one file of one clip."""
    catalog = Catalog(tmp_path / "catalog.sqlite", create=True)
    clips = {
        "unsure": (HEARD, "", _heard_words(0.4)),
        "sure": (HEARD, "", _heard_words(0.99)),
        "caption": ("the weather stays dry tomorrow", "THE FIRST TIME IS NOT THE LAST", ()),
        "spelled": (HEARD.replace(" at ", " nut "), "", ()),
        "filler": ("the council met on tuesday to discuss the budget", "", ()),
    }
    for number, (name, (speech, ocr, words)) in enumerate(clips.items()):
        texts = [TimedText(0.0, 6.0, speech, "speech", words)]  # no words: no probabilities
        if ocr:
            texts.append(TimedText(0.0, 6.0, ocr, "ocr"))
        put_clip(catalog, number, name, speech, ocr, texts)
    return catalog


def _scores(catalog: Catalog, text: str) -> dict[str, float]:
    return _named(catalog, text)[0]


def _named(catalog: Catalog, text: str) -> tuple[dict[str, float], set[str]]:
    """Keyword scores by clip name, and the names of the clips holding the exact phrase."""
    scores = LexicalSearch(catalog, 80.0).search(text, 100)
    rows = catalog.clips(scores)
    name = {c: rows[c].path.rsplit("/", 1)[1][:-4] for c in scores}
    return {name[c]: s for c, s in scores.items()}, {name[c] for c in scores.exact}


def test_word_probabilities_are_kept_in_the_catalog(heard_catalog):
    row = next(r for r in heard_catalog.clips(range(1, 6)).values() if "unsure" in r.path)
    (line,) = heard_catalog.texts(row.file_id, row.start, row.end)
    assert [w.probability for w in line.words][:3] == [0.97, 0.97, 0.4]


def test_a_word_the_recogniser_was_unsure_of_counts_as_the_misheard_query_word(heard_catalog):
    # "unsure" and "caption" both hold every word and "the first time" adjacent; only in
    # "unsure" does the remaining place hold a word the recogniser doubted
    scores = _scores(heard_catalog, "not the first time")
    assert scores["unsure"] > scores["caption"] + 0.05
    assert scores["unsure"] > scores["sure"] + 0.05
    assert scores["sure"] == pytest.approx(scores["caption"], abs=0.01)  # sure: no mishearing
    assert scores["unsure"] < 1.0  # a near phrase is not the exact phrase
    assert scores["unsure"] > scores.get("filler", 0.0)


def test_near_phrase_credits_a_word_it_heard_only_misheard(heard_catalog):
    # "nothing" is said nowhere; in "unsure" its place holds the doubted "at"
    search = LexicalSearch(heard_catalog, 80.0)
    scores = _scores(heard_catalog, "nothing the first time")
    assert scores["unsure"] > scores["sure"]
    row = next(r for r in heard_catalog.clips(range(1, 6)).values() if "unsure" in r.path)
    near = search.near_phrase(
        LexicalQuery.parse("nothing the first time"),
        search.variants(["nothing", "the", "first", "time"]),
        row,
        tokenize(row.speech),
    )
    assert near.misheard == {"nothing": pytest.approx(0.6)}


def test_a_near_spelling_in_place_counts_when_no_probability_was_stored(heard_catalog):
    # "spelled" was indexed without word probabilities (subtitles, older indexes): "nut" in
    # the place of "not" counts by its spelling; "sure" holds "at", spelled unlike "not"
    scores = _scores(heard_catalog, "not the first time")
    assert scores["spelled"] > scores["caption"] + 0.05
    assert scores["spelled"] > scores["sure"] + 0.05


# Misheard phrases: the recogniser joined "there is" into "they re" and dropped "a"; another
# clip holds "is" and "these" (spelled like "there"), scattered; a third says the phrase exactly.
MISHEARD = {
    "joined": "the dogs open up to seven and they re already up late around the block",
    "scattered": "is it true that the old clock in the tower is working again after these years",
    "exact": "we hear there is already a plan for the new road to the port",
    "filler": "the council met on tuesday to discuss the budget",
}


@pytest.fixture
def misheard_catalog(tmp_path) -> Catalog:
    catalog = Catalog(tmp_path / "catalog.sqlite", create=True)
    for number, (name, speech) in enumerate(MISHEARD.items()):
        put_clip(catalog, number, name, speech, "")
    return catalog


def test_a_phrase_heard_with_words_joined_and_dropped_beats_scattered_words(misheard_catalog):
    scores = _scores(misheard_catalog, "there is already a")
    assert scores["joined"] > scores["scattered"] + 0.05
    assert scores["exact"] > scores["joined"]  # the exact phrase still comes first
    assert scores["joined"] < 1.0


def test_misheard_phrase_credits_the_words_its_stretch_lacks(misheard_catalog):
    rows = misheard_catalog.clips(range(1, 5))
    by_name = {row.path.rsplit("/", 1)[1][:-4]: row for row in rows.values()}
    query = LexicalQuery.parse("there is already a")
    near = lexical.misheard_phrase(query, tokenize(by_name["joined"].speech))
    assert 0.0 < near.order < 1.0
    assert set(near.misheard) == {"there", "is", "a"}  # "already" was said
    assert all(0.6 <= credit < 1.0 for credit in near.misheard.values())  # "theyre" ~ "thereisa"
    scattered = tokenize(by_name["scattered"].speech)
    assert lexical.misheard_phrase(query, scattered) == lexical.NearPhrase()


def test_a_stretch_that_sounds_like_the_query_is_a_misheard_phrase(tmp_path):
    # "made it back just in" heard as "may detect just in": spelled too far apart (ratio 74),
    # but their words' sound keys are near ("MD AT BK JST AN" / "M DTKT JST AN", 79)
    catalog = Catalog(tmp_path / "catalog.sqlite", create=True)
    put_clip(catalog, 0, "sounded", "we may detect just in time before the storm hit", "")
    put_clip(catalog, 1, "scattered", "she said it was just in case they came back", "")
    by_name = {r.path.rsplit("/", 1)[1][:-4]: r for r in catalog.clips(range(1, 3)).values()}
    query = LexicalQuery.parse("made it back just in")
    near = lexical.misheard_phrase(query, tokenize(by_name["sounded"].speech))
    assert 0.0 < near.order < 1.0
    assert set(near.misheard) == {"made", "it", "back"}
    scattered = tokenize(by_name["scattered"].speech)
    assert lexical.misheard_phrase(query, scattered) == lexical.NearPhrase()


def test_typed_number_words_find_the_digits_the_recogniser_wrote(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite", create=True)
    put_clip(catalog, 0, "digits", "you can hear more than 60 of them at night", "")
    put_clip(catalog, 1, "words", "more than a few of them came at night", "")
    scores, exact = _named(catalog, "more than sixty of them")
    assert exact == {"digits"}
    assert scores["digits"] == 1.0 > scores["words"]


def test_runs_of_query_words_do_not_cross_from_one_candidate_into_the_next(tmp_path):
    # the candidates are scored together, one clip's words after another's: "i was" ending
    # one clip and "never so" opening the next are two runs of two, not the phrase
    catalog = Catalog(tmp_path / "catalog.sqlite", create=True)
    for number, speech in enumerate(("we knew i was", "never so glad", "the cat saw the dog")):
        put_clip(catalog, number, f"clip{number}", speech, "")
    scores = LexicalSearch(catalog, 80.0).search("i was never so", 100)
    assert len(scores) == 2
    assert scores.exact == set()
    assert len(set(scores.values())) == 1  # alike: half the words, in a run of two each
    # a word the query says twice ("the") is in its place wherever it stands
    repeated = LexicalSearch(catalog, 80.0).search("the cat saw the dog", 100)
    assert set(repeated.values()) == {1.0}
    assert len(repeated.exact) == 1


def test_a_compatibility_capital_counts_as_its_lower_case_letter(tmp_path):
    # subtitles may style letters ("ℌ", black-letter H, decomposes to a capital "H"): the
    # postings propose such a clip for "hudson", and its rescoring must read the same word
    catalog = Catalog(tmp_path / "catalog.sqlite", create=True)
    put_clip(catalog, 0, "styled", "the ℌudson river floods again", "")
    put_clip(catalog, 1, "plain", "a river floods the town", "")
    scores, exact = _named(catalog, "hudson river")
    assert tokenize("ℌudson") == ["hudson"]
    assert exact == {"styled"}
    assert scores["styled"] == 1.0 > scores["plain"]
