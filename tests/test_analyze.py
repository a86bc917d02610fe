"""MediaAnalyzer: the one analysis behind ingest, queries and moderation."""

from __future__ import annotations

import numpy as np

from mmretrieval import Library
from mmretrieval.analyze import speech_text
from mmretrieval.media.timeline import TimedText, Word
from mmretrieval.query import Query
from mmretrieval.spans import Span


def test_query_of_an_indexed_span_has_the_vectors_ingest_stored_for_it(
    tiny_profile, subtitled_video, tmp_path
):
    """Ingest and query encoding both go through MediaAnalyzer, so a video span given as a
    query is described exactly as the clip indexed for that span."""
    library = Library(tmp_path / "idx", profile=tiny_profile)
    library.fit_bridge()  # the profile names a bridge file of its own
    report = library.add([subtitled_video.path])
    assert report.count("indexed") == 1 and not report.failures
    catalog = library.catalog
    [clip] = catalog.file_clips(catalog.file(str(subtitled_video.path)).id)
    stored = {
        channel: catalog.vectors(channel, [clip.id])[clip.id]
        for channel in ("speech", "audio", "hub")
    }
    encoded = library.encode_query(
        Query(video=subtitled_video.path, start=clip.start, end=clip.end)
    )
    assert clip.ocr == "" and encoded.text == clip.speech  # the subtitle cue, no screen text
    assert set(encoded.vectors) == {"text", "clap", "clip"}
    np.testing.assert_allclose(encoded.vectors["text"], stored["speech"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(encoded.vectors["clap"], stored["audio"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(encoded.vectors["clip"], stored["hub"], rtol=0, atol=1e-6)
    library.close()


def test_speech_text_gives_each_word_to_the_window_holding_its_middle():
    words = (Word(0.0, 0.4, "one"), Word(9.8, 10.4, "two"), Word(10.6, 11.0, "three"))
    transcript = [TimedText(0.0, 11.0, "one two three", "speech", words)]
    assert speech_text(transcript, Span(0.0, 10.0)) == "one"
    assert speech_text(transcript, Span(10.0, 20.0)) == "two three"  # two's middle is 10.1
    cue = [TimedText(4.0, 7.0, "a cue without words", "subtitle")]  # by the cue's middle
    assert speech_text(cue, Span(0.0, 5.0)) == ""
    assert speech_text(cue, Span(5.0, 10.0)) == "a cue without words"
