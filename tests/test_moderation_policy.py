"""Moderation policies and word lists: the bundled policy loads, every invalid policy fails with
an error naming the place and the problem, word lists match whole words at the time they were
said, and zero-shot scores follow their formula."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from mmretrieval.errors import ConfigError, ModelMissingError
from mmretrieval.media.timeline import TimedText, Word
from mmretrieval.moderation.detectors import zero_shot
from mmretrieval.moderation.policy import (
    DEFAULT_POLICY,
    KNOWN_CATEGORIES,
    TRANSCRIPT_SCALE,
    WordListSignal,
    ZeroShotSignal,
    load_policy,
)
from mmretrieval.moderation.scan import (
    ClipScores,
    Evidence,
    FileScan,
    findings,
    fired_signals,
    scanning,
    texts_to_score,
)
from mmretrieval.moderation.wordlist import WordMatcher, parse_entries, read_word_list
from mmretrieval.spans import Span

NUDENET = {"type": "nudenet", "threshold": 0.5}


def _policy(tmp_path: Path, categories: dict, name: str = "policy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"categories": categories}))
    return path


def _error(tmp_path: Path, categories: dict, kind=ConfigError) -> str:
    with pytest.raises(kind) as caught:
        load_policy(_policy(tmp_path, categories))
    return str(caught.value)


def test_bundled_policy_loads_with_its_word_lists():
    policy = load_policy()
    assert policy.name == DEFAULT_POLICY.stem
    assert set(policy.categories) <= set(KNOWN_CATEGORIES)
    types = {signal.type for _, signal in policy.signals()}
    assert types == {
        "nudenet",
        "open_nsfw",
        "clip",
        "clap",
        "transcript",
        "wordlist",
        "classifier",
        "profanity_check",
    }
    for _, signal in policy.signals():
        if isinstance(signal, WordListSignal):
            assert signal.files and all(f.startswith("bundled:") for f in signal.files)


def test_unknown_category_is_named_with_the_known_ones(tmp_path):
    message = _error(tmp_path, {"nudityy": {"signals": [NUDENET]}})
    assert "unknown category nudityy" in message
    assert "nudity" in message and "custom: true" in message


def test_category_that_is_not_a_mapping_is_named(tmp_path):
    message = _error(tmp_path, {"nudity": [NUDENET]})
    assert message.startswith("policy ") and "categories.nudity: " in message


def test_custom_category_is_allowed_when_marked(tmp_path):
    path = _policy(tmp_path, {"gambling": {"custom": True, "signals": [NUDENET]}})
    assert list(load_policy(path).categories) == ["gambling"]


@pytest.mark.parametrize("threshold", [1.5, -0.1])
def test_bad_threshold_names_the_signal_and_the_value(tmp_path, threshold):
    message = _error(tmp_path, {"nudity": {"signals": [{**NUDENET, "threshold": threshold}]}})
    assert "categories.nudity.signals[0].nudenet.threshold" in message
    assert str(threshold) in message


def test_wordlist_threshold_counts_hits_from_one(tmp_path):
    signal = {"type": "wordlist", "words": ["heroin"], "threshold": 0}
    message = _error(tmp_path, {"drugs": {"signals": [signal]}})
    assert "signals[0].wordlist.threshold" in message and "greater than or equal to 1" in message


def test_missing_threshold_and_unknown_type_are_named(tmp_path):
    message = _error(tmp_path, {"nudity": {"signals": [{"type": "nudenet"}]}})
    assert "signals[0].nudenet.threshold: Field required" in message
    message = _error(tmp_path, {"nudity": {"signals": [{"type": "nudenett", "threshold": 0.5}]}})
    assert "'nudenett'" in message and "'nudenet'" in message


def test_zero_shot_signal_needs_negative_prompts(tmp_path):
    signal = {"type": "clip", "positive": ["a photo of a gun"], "threshold": 0.9}
    message = _error(tmp_path, {"weapons": {"signals": [signal]}})
    assert "signals[0].clip.negative: Field required" in message


def test_unknown_nudenet_class_lists_the_real_ones(tmp_path):
    signal = {**NUDENET, "classes": ["FEMALE_BREAST_EXPOSED", "TOES_EXPOSED"]}
    message = _error(tmp_path, {"nudity": {"signals": [signal]}})
    assert "unknown NudeNet class TOES_EXPOSED" in message and "FEET_EXPOSED" in message


def test_two_signals_of_a_type_need_distinct_names(tmp_path):
    message = _error(tmp_path, {"nudity": {"signals": [NUDENET, NUDENET]}})
    assert "two signals are named nudenet" in message
    named = [NUDENET, {**NUDENET, "name": "nudenet_strict", "threshold": 0.8}]
    policy = load_policy(_policy(tmp_path, {"nudity": {"signals": named}}, "ok.yaml"))
    assert [s.key for _, s in policy.signals()] == ["nudenet", "nudenet_strict"]


def test_missing_word_list_file_is_named(tmp_path):
    signal = {"type": "wordlist", "files": ["lists/slurs.txt"]}
    message = _error(tmp_path, {"hate_speech": {"signals": [signal]}})
    assert f"word list file {tmp_path / 'lists' / 'slurs.txt'} does not exist" in message
    signal = {"type": "wordlist", "files": ["bundled:klingon"]}
    message = _error(tmp_path, {"profanity": {"signals": [signal]}})
    assert "no bundled word list 'klingon'" in message and "bundled:profanity_en" in message


def test_word_list_path_is_relative_to_the_policy(tmp_path):
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "mine.txt").write_text("contraband\n")
    signal = {"type": "wordlist", "files": ["lists/mine.txt"]}
    policy = load_policy(_policy(tmp_path, {"drugs": {"signals": [signal]}}))
    assert policy.signal("drugs", "wordlist").files == [str(tmp_path / "lists" / "mine.txt")]


def test_missing_detector_model_is_a_missing_model_error(tmp_path):
    signal = {**NUDENET, "model": "models/640m.onnx"}
    message = _error(tmp_path, {"nudity": {"signals": [signal]}}, kind=ModelMissingError)
    assert str(tmp_path / "models" / "640m.onnx") in message and "does not exist" in message


def test_required_signal_without_its_model_fails_instead_of_skipping(tmp_path):
    clip = {
        "type": "clip",
        "positive": ["a photo of a gun"],
        "negative": ["a landscape"],
        "threshold": 0.9,
    }
    skipped = load_policy(_policy(tmp_path, {"weapons": {"signals": [clip]}}, "a.yaml"))
    with scanning(skipped, profile="offline") as scanner:
        assert scanner.status == {"weapons/clip": "skipped: no CLIP model in profile offline"}
    required = load_policy(
        _policy(tmp_path, {"weapons": {"signals": [{**clip, "required": True}]}}, "b.yaml")
    )
    with pytest.raises(ModelMissingError, match="weapons/clip is required but no CLIP model"):
        with scanning(required, profile="offline"):
            pass


# -- word lists -------------------------------------------------------------------------------


def test_word_list_format(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("# a comment\n\nHeroin  # trailing comment\nmagic mushrooms\nswear*\n")
    entries = read_word_list(path)
    assert [(e.text, e.words, e.prefix) for e in entries] == [
        ("Heroin", ("heroin",), False),
        ("magic mushrooms", ("magic", "mushrooms"), False),
        ("swear*", ("swear",), True),
    ]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("sw*ear", "'*' may only end an entry"),
        ("*", "'*' may only end"),
        ("!!!", "holds no word"),
        ("swear *", "'*' must follow a letter or digit directly"),
    ],
)
def test_malformed_word_list_entry_names_its_line(line, problem):
    with pytest.raises(ValueError, match=rf"list line 2: .*{problem}"):
        parse_entries(["ok", line], where="list")


def _said(*words: tuple[float, str]) -> TimedText:
    timed = tuple(Word(t, t + 0.4, w) for t, w in words)
    return TimedText(timed[0].start, timed[-1].end, " ".join(w for _, w in words), "speech", timed)


def test_words_match_whole_case_insensitive_with_their_times():
    matcher = WordMatcher(parse_entries(["heroin", "magic mushrooms", "swear*", "ass"]))
    transcript = [
        _said((1.0, "Heroine"), (1.5, "class"), (2.0, "passes."), (2.5, "HEROIN,")),
        _said((7.0, "they"), (7.5, "picked"), (8.0, "Magic"), (8.5, "mushrooms!")),
        _said((12.0, "Swearing"), (12.5, "sweat")),
    ]
    hits = matcher.find(transcript)
    assert [(h.start, h.end, h.entry, h.said) for h in hits] == [
        (2.5, 2.9, "heroin", "heroin"),
        (8.0, 8.9, "magic mushrooms", "magic mushrooms"),
        (12.0, 12.4, "swear*", "swearing"),
    ]
    assert hits[1].line is transcript[1]


def test_subtitle_cue_without_word_times_gives_the_cue_span():
    cue = TimedText(4.0, 7.5, "They sold well-known brands of Heroin.", "subtitle")
    matcher = WordMatcher(parse_entries(["heroin", "well-known"]))
    assert [(h.start, h.end, h.said) for h in matcher.find([cue])] == [
        (4.0, 7.5, "well known"),
        (4.0, 7.5, "heroin"),
    ]


def test_zero_shot_is_the_softmax_share_of_the_positive_prompts():
    item = np.array([[1.0, 0.0]])
    prompts = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])  # cosines 1.0, 0.6, 0.0
    expected = (math.exp(10) + math.exp(6)) / (math.exp(10) + math.exp(6) + math.exp(0))
    assert zero_shot(item, prompts, positives=2, scale=10)[0] == pytest.approx(expected)
    assert zero_shot(item, prompts, positives=1, scale=1)[0] == pytest.approx(
        math.e / (math.e + math.exp(0.6) + 1)
    )
    assert zero_shot(np.zeros((0, 2)), prompts, 1, 1.0).shape == (0,)


def test_softmax_scale_is_the_policys_else_the_models_learnt_one():
    """CLIP and CLAP signals read the scale from their encoder (``logit_scale``, read from the
    checkpoint: tests/test_clip.py and tests/test_clap.py check it against transformers' own
    logits); transcripts use the text encoder's training scale; a policy may set its own."""
    prompts = {"positive": ["a fight"], "negative": ["a landscape"], "threshold": 0.5}
    transcript = ZeroShotSignal(type="transcript", **prompts)
    assert transcript.softmax_scale(None) == TRANSCRIPT_SCALE == 20.0
    assert ZeroShotSignal(type="clip", scale=50, **prompts).softmax_scale(None) == 50
    assert ZeroShotSignal(type="transcript", scale=7.5, **prompts).softmax_scale(None) == 7.5


# -- the rule: agreeing signals or one strong score --------------------------------------------

RULED = {
    "violence": {
        "agree": 2,
        "signals": [
            {"type": "classifier", "threshold": 0.5, "strong": 0.8},
            {
                "type": "transcript",
                "positive": ["a threat"],
                "negative": ["small talk"],
                "threshold": 0.8,
            },
            {"type": "wordlist", "words": ["kill"]},
        ],
    }
}


def _scores(**scores: float) -> dict:
    return {("violence", key): Evidence(score) for key, score in scores.items()}


def test_one_signal_under_its_strong_score_flags_nothing_when_two_must_agree(tmp_path):
    policy = load_policy(_policy(tmp_path, RULED))
    alone = _scores(classifier=0.7, transcript=0.5, wordlist=0)
    assert fired_signals(alone, "violence", policy) == {}
    agreeing = _scores(classifier=0.7, transcript=0.85, wordlist=0)
    assert set(fired_signals(agreeing, "violence", policy)) == {"classifier", "transcript"}
    strong = _scores(classifier=0.8, transcript=0.1, wordlist=0)
    assert set(fired_signals(strong, "violence", policy)) == {"classifier"}
    word_and_prompt = _scores(classifier=0.1, transcript=0.9, wordlist=1)
    assert set(fired_signals(word_and_prompt, "violence", policy)) == {"transcript", "wordlist"}


def test_rule_errors_are_named(tmp_path):
    too_many = {"violence": {**RULED["violence"], "agree": 4}}
    assert "agree is 4 but the category has 3 signals" in _error(tmp_path, too_many)
    weak = {"violence": {"signals": [{"type": "classifier", "threshold": 0.6, "strong": 0.5}]}}
    assert "strong 0.5 is below threshold 0.6" in _error(tmp_path, weak)
    headless = {"profanity": {"signals": [{"type": "classifier", "threshold": 0.5}]}}
    message = _error(tmp_path, headless)
    assert "categories.profanity: a classifier signal needs a head" in message
    assert "violence" in message
    unknown = {"profanity": {"signals": [{"type": "classifier", "head": "x", "threshold": 0.5}]}}
    assert "no head 'x'" in _error(tmp_path, unknown)
    head = {"type": "classifier", "head": "violence", "threshold": 0.5}
    borrowed = {"extremism": {"custom": False, "signals": [head]}}
    assert load_policy(_policy(tmp_path, borrowed, "ok.yaml")).signal("extremism", "classifier")


def test_finding_covers_the_seconds_that_scored_and_names_its_rule(tmp_path):
    policy = load_policy(_policy(tmp_path, RULED))
    line = Evidence(0.9, 12.0, "a line", {"source": "speech"}, Span(12.0, 14.5))
    frames = Evidence(0.95, 14.0, span=Span(14.0, 17.0))
    apart = Evidence(0.7, 31.0, "another line", {"source": "speech"}, Span(31.0, 33.0))
    elsewhere = Evidence(0.9, 36.0, "a third line", {"source": "speech"}, Span(36.0, 38.0))
    def scored(classifier: Evidence, transcript: Evidence) -> dict:
        return {("violence", "classifier"): classifier, ("violence", "transcript"): transcript}

    clips = [
        ClipScores(10.0, 20.0, scored(line, frames)),
        ClipScores(30.0, 40.0, scored(apart, elsewhere)),  # two fire, on different lines
        ClipScores(50.0, 60.0, _scores(classifier=0.6)),  # one signal, under its strong score
        ClipScores(70.0, 80.0, _scores(classifier=0.7, transcript=0.9)),
    ]
    found = findings(FileScan("a.mp4", 80.0, "media", "asr", clips), policy)
    assert [(f.start, f.end) for f in found] == [(12.0, 17.0), (70.0, 80.0)]  # no span: the clip
    assert found[0].rule == "strong: classifier 0.9 >= 0.8"
    assert [(h.signal, h.strong) for h in found[0].signals] == [
        ("classifier", 0.8),
        ("transcript", None),
    ]
    assert found[1].rule == "2 signals agree (2 needed): classifier, transcript"


def test_consecutive_lines_of_one_source_are_also_scored_together():
    """A sentence recognition cut in two is scored whole: each line, then each two consecutive
    lines of one source (speech with speech, screen with screen) no more than 1.5 s apart,
    over both their seconds."""
    said = [
        TimedText(0.0, 2.0, "wait for him outside", "speech", (Word(0.0, 2.0, "wait"),)),
        TimedText(2.5, 4.0, "and beat him", "speech", (Word(2.5, 4.0, "beat"),)),
        TimedText(9.0, 10.0, "much later", "speech"),
    ]
    shown = [TimedText(2.0, 6.0, "BREAKING", "ocr"), TimedText(2.0, 6.0, "NEWS", "ocr")]
    texts = texts_to_score([*said, *shown])
    assert texts[:5] == [*said, *shown]
    pairs = [(t.text, t.start, t.end, t.source) for t in texts[5:]]
    assert pairs == [
        ("wait for him outside and beat him", 0.0, 4.0, "speech"),
        ("BREAKING NEWS", 2.0, 6.0, "ocr"),
    ]
    assert [w.text for w in texts[5].words] == ["wait", "beat"]
    assert texts_to_score(said[2:]) == said[2:]
