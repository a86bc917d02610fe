"""End to end through the real models: ingest generated footage, then find it by what was said
or shown, at the right time."""

from __future__ import annotations

import pytest

from mmretrieval import Library
from mmretrieval.testing.synth import Scene, make_audio


def _top(library, **query):
    hits = library.search(k=5, **query)
    assert hits, f"no hits for {query}"
    return hits[0]


def test_ingest_reports_every_media_file_and_ignores_other_files(indexed, corpus):
    _library, report = indexed
    assert report.count("indexed") == len(corpus)
    assert report.count("failed") == 0
    assert {o.path for o in report.outcomes} == {str(m.path) for m in corpus.values()}
    assert report.footage_seconds == pytest.approx(
        sum(m.spans[-1].end for m in corpus.values()), abs=0.5
    )


@pytest.mark.parametrize(
    ("query", "name", "phrase"),
    [
        ("budget for public libraries", "council", "public libraries"),
        ("ferries cancelled by the wind", "harbour", "ferry crossings"),
        ("snow blocks roads in the mountains", "mountain", "Heavy snow"),
        ("vaccinating small kids", "podcast", "vaccination"),
    ],
)
def test_spoken_phrase_finds_its_file_and_time(indexed, corpus, query, name, phrase):
    library, _ = indexed
    hit = _top(library, text=query)
    span = corpus[name].span_of(phrase)
    assert hit.path == str(corpus[name].path)
    assert hit.start <= span.start + 0.5 and hit.end >= span.end - 0.5
    assert hit.evidence["speech"] > 0.3


def test_caption_only_scene_is_found_by_its_screen_text(indexed, corpus):
    library, _ = indexed
    hit = _top(library, text="storm warning gales")
    span = corpus["harbour"].span_of("STORM WARNING")
    assert hit.path == str(corpus["harbour"].path)
    assert hit.start < span.end and hit.end > span.start
    assert hit.evidence["ocr"] > hit.evidence.get("speech", 0.0)
    assert "STORM" in hit.text


def test_exact_number_and_quoted_phrase_are_found_lexically(indexed, corpus):
    library, _ = indexed
    hit = _top(library, text='"force 9"')
    assert hit.path == str(corpus["harbour"].path)
    assert hit.evidence["lexical"] == pytest.approx(1.0)
    assert not library.search(text='"force 10 gales"', spaces=["lexical"])


def test_near_miss_spelling_still_matches_lexically(indexed, corpus):
    library, _ = indexed
    hit = _top(library, text="vacination", spaces=["lexical"])
    assert hit.path == str(corpus["podcast"].path)
    assert 0 < hit.evidence["lexical"] < 1


def test_overlapping_windows_of_a_file_merge_into_one_hit(indexed, tmp_path):
    """A recording longer than a clip window (sound has no shots, so its windows overlap)
    indexed beside the corpus gives one hit for the file, covering all of its clips."""
    library, _ = indexed
    talk = tmp_path / "harbour_talk.wav"
    make_audio(
        talk,
        [
            Scene(speech="All ferry crossings from the harbour were cancelled this morning."),
            Scene(speech="Fishermen have moved their boats into the inner basin for shelter."),
            Scene(speech="The harbour master expects the ferries to sail again tomorrow."),
        ],
    )
    with Library(tmp_path / "idx", profile="offline") as own:
        own.add([talk])
        hits = own.search(text="harbour ferry boats shelter", k=10)
        clips = own.catalog.file_clips(hits[0].file_id)
    assert len(hits) == 1 and hits[0].path == str(talk)
    assert len(clips) >= 2 and clips[0].end > clips[1].start  # the windows overlap
    assert sorted(hits[0].clip_ids) == sorted(c.id for c in clips)
    assert (hits[0].start, hits[0].end) == (clips[0].start, clips[-1].end)
    spans_by_file = {}  # and in the corpus index no two hits of one file overlap
    for hit in library.search(text="harbour ferry boats shelter", k=10):
        for other in spans_by_file.get(hit.path, []):
            assert hit.start >= other.end or hit.end <= other.start
        spans_by_file.setdefault(hit.path, []).append(hit)


def test_hits_are_ranked_and_scores_bounded(indexed, corpus):
    library, _ = indexed
    hits = library.search(text="city council budget", k=10)
    assert len(hits) >= 2 and hits[0].path == str(corpus["council"].path)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1]
    assert all(0 <= s <= 1 for s in scores)
    assert all(0 <= v <= 1 for h in hits for v in h.evidence.values())


def test_audio_query_is_searched_by_its_speech(indexed, corpus, tmp_path):
    library, _ = indexed
    query = tmp_path / "question.wav"
    make_audio(query, [Scene(speech="Which roads were closed by heavy snow?", voice="en-gb")])
    hit = _top(library, audio=query)
    assert hit.path == str(corpus["mountain"].path)


def test_spaces_restrict_and_weights_reweight(indexed):
    library, _ = indexed
    dense_only = library.search(text="public libraries budget", spaces=["text"])
    assert dense_only and all("lexical" not in h.evidence for h in dense_only)
    lexical_heavy = library.search(text="public libraries budget", weights={"text": 0.0})
    assert lexical_heavy[0].score == pytest.approx(lexical_heavy[0].evidence["lexical"], abs=1e-3)
