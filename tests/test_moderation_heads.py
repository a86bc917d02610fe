"""The supervised moderation heads and the profanity model: the shipped corpus is what its
generator writes, with a few hundred sentences per category and per hard-negative group; the
heads are trained once per corpus and encoder and then read from the cache; training is
deterministic and
round-trips through its text file; and on sentences outside the corpus (the literary quotes
issue 16 reports as flagged, plain threats) the real models score on the right side of the
default policy's strong scores. The heard corpus (a dev set) is corpus sentences as tiny.en
transcribed them, split back from one recording by timestamps, and no benchmark sentence is
in either file."""

from __future__ import annotations

import dataclasses
import importlib.util
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from mmretrieval.adapters.base import AdapterSet
from mmretrieval.config import load_profile
from mmretrieval.media.timeline import TimedText
from mmretrieval.moderation.calibrate import corpus_rates
from mmretrieval.moderation.detectors import ProfanityModel
from mmretrieval.moderation.heads import (
    CORPUS,
    HEAD_CATEGORIES,
    STRONG_FLOOR,
    Sentence,
    cache_path,
    calibrated_strong,
    corpus_digest,
    heads_for,
    read_corpus,
    strong_score,
    train,
    write_heads,
)
from mmretrieval.moderation.policy import ClassifierSignal, load_policy
from mmretrieval.moderation.scan import word_matcher

QUOTES = [  # issue 16: 4 of 5 such clips were flagged by prompt similarity alone
    "Your eyes were dead and wonderful, but you spend too much time reading this sort of trash.",
    "I shall fall like a bright exhalation in the evening.",
    "You will be attacked by a beast who has the body of a wolf.",
    "They killed it tonight, what a show.",
    "Cut the onions and fry them gently until soft.",
]
THREATS = {
    "violence": "I am going to find him tonight and beat him until he stops breathing.",
    "drugs": "I can sell you a bag of cocaine tonight, meet me behind the pub.",
    "self_harm": "I want to end my life, I can't go on anymore.",
}


BENCHMARKS = Path(__file__).parents[1] / "benchmarks"
BENCHMARK_SENTENCES = BENCHMARKS / "moderation_corpus.py"
HEARD_GENERATOR = BENCHMARKS / "moderation_heard.py"  # a dev set of what tiny.en hears
HEARD = HEARD_GENERATOR.with_suffix(".txt")
# hand-written dev lines and what tiny.en heard of them
DEV_LINES = [BENCHMARKS / f"moderation_{name}{heard}.txt"
             for name in ("profanity", "ordinary") for heard in ("", "_heard")]


@pytest.fixture(scope="module")
def encoder():
    return AdapterSet(load_profile("offline")).get("text")


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shipped_corpus_is_what_its_generator_writes():
    generator = _load(CORPUS.with_suffix(".py"))
    written = [line.split("\t") for line in CORPUS.read_text().splitlines() if "\t" in line]
    assert [tuple(row) for row in written] == generator.generate()


def test_corpus_has_hundreds_per_category_and_per_hard_negative_group():
    corpus = read_corpus()
    per_category = Counter(c for s in corpus for c in s.categories)
    assert set(per_category) == set(HEAD_CATEGORIES)
    assert min(per_category.values()) >= 300
    negatives = Counter(s.group for s in read_corpus([CORPUS]) if not s.categories)  # written
    expected = {"figurative", "fiction", "news", "sport", "medicine", "cooking", "history"}
    assert expected <= set(negatives) and min(negatives.values()) >= 100
    assert sum(negatives.values()) >= 1500
    assert len({s.text for s in corpus}) == len(corpus)  # no sentence twice


def test_heard_corpus_is_corpus_sentences_as_recognition_heard_them():
    written = {s.text: s for s in read_corpus([CORPUS])}
    heard = read_corpus([HEARD])
    for sentence in heard:
        source = written[sentence.source]  # every heard line comes from a corpus sentence
        assert sentence.categories == source.categories
        assert sentence.group == f"heard-{source.group}"
        assert sentence.text != sentence.source
    per_category = Counter(c for s in heard for c in s.categories)
    assert set(per_category) == set(HEAD_CATEGORIES) and min(per_category.values()) >= 100
    assert sum(not s.categories for s in heard) >= 200  # ordinary speech is heard too


def test_recording_is_split_back_into_its_sentences_by_timestamps():
    """Three sentences in one recording: each comes back with its own words, none of the
    others' (real espeak-ng speech, the offline profile's tiny.en)."""
    heard_module = _load(HEARD_GENERATOR)
    transcriber = AdapterSet(load_profile("offline")).get("speech")
    texts = [
        "The train to Glasgow leaves from platform four.",
        "Add the butter and stir until the sauce thickens.",
        "My grandmother grew tomatoes in the greenhouse.",
    ]
    heard = heard_module.hear(texts, random.Random(0), transcriber)
    keys = [{"glasgow", "platform"}, {"butter", "sauce"}, {"grandmother", "tomatoes"}]
    for n, text in enumerate(heard):
        words = set(text.lower().replace(",", " ").replace(".", " ").split())
        assert words & keys[n], (texts[n], text)
        others = set().union(*(k for m, k in enumerate(keys) if m != n))
        assert not words & others, (texts[n], text)


def test_no_benchmark_sentence_is_a_training_sentence(tmp_path):
    benchmark = _load(BENCHMARK_SENTENCES)
    benchmark.check_unseen([CORPUS, HEARD, *DEV_LINES])  # SystemExit naming any shared sentence
    leaked = tmp_path / "corpus.txt"  # and it does look: a benchmark sentence, recased, is caught
    sentence = benchmark.harmful_clips()[0][1]
    leaked.write_text(f"violence\theard-threats\t{sentence.upper()}\tsomething else\n")
    with pytest.raises(SystemExit, match="also in the training corpus"):
        benchmark.check_unseen([CORPUS, leaked])


def test_heads_are_trained_once_for_the_corpus_and_the_encoder_then_read_back(encoder):
    heads = heads_for(encoder)  # trained now (and cached), or read from the cache
    path = cache_path(encoder.model_id, corpus_digest())
    assert path.is_file()
    assert (heads.encoder, heads.digest) == (encoder.model_id, corpus_digest())
    assert heads.categories == HEAD_CATEGORIES
    assert heads.coef.shape == (len(HEAD_CATEGORIES), encoder.dim)
    assert heads.held_out.shape == (len(read_corpus()), len(HEAD_CATEGORIES))
    modified = path.stat().st_mtime_ns
    again = heads_for(encoder)  # from the cache: nothing is trained or written
    assert path.stat().st_mtime_ns == modified
    np.testing.assert_array_equal(again.coef, heads.coef)
    np.testing.assert_array_equal(again.intercept, heads.intercept)


def test_training_is_deterministic_and_round_trips(encoder, tmp_path):
    corpus = read_corpus()[::16]  # every group, a couple of hundred sentences: fast
    texts = [s.text for s in corpus]
    vectors = encoder.embed_text(texts)
    first = train(vectors, corpus, "test-encoder", "abc")
    again = train(vectors, corpus, "test-encoder", "abc")
    np.testing.assert_array_equal(first.coef, again.coef)
    np.testing.assert_array_equal(first.word_coef, again.word_coef)
    back = write_heads(first, tmp_path / "heads.txt")
    assert (back.encoder, back.digest, back.categories) == ("test-encoder", "abc", HEAD_CATEGORIES)
    np.testing.assert_allclose(back.score(vectors, texts), first.score(vectors, texts), atol=1e-4)
    np.testing.assert_array_equal(back.held_out, first.held_out)
    np.testing.assert_array_equal(back.words.columns, first.words.columns)


def test_word_heads_alone_keep_quotes_under_and_threats_over_one_half(encoder):
    """The word heads are a classifier of their own, not noise added to the embedding heads:
    alone, they keep issue 16's quotes under 0.5 in every category and put each threat over it
    in its own."""
    heads = dataclasses.replace(heads_for(encoder), word_weight=1.0)
    quotes = heads.score(encoder.embed_text(QUOTES), QUOTES)
    assert quotes.max() < 0.5, quotes
    said = list(THREATS.values())
    threats = heads.score(encoder.embed_text(said), said)
    for row, category in zip(threats, THREATS, strict=True):
        assert row[heads.column(category)] >= 0.5, (category, row)


def test_heads_keep_quotes_under_and_threats_over_the_strong_scores(encoder):
    policy = load_policy()
    heads = heads_for(encoder)
    strong = {
        c: s.strong for c, s in policy.signals() if isinstance(s, ClassifierSignal) and s.strong
    }
    assert set(strong) == set(HEAD_CATEGORIES)
    quotes = heads.score(encoder.embed_text(QUOTES), QUOTES)
    for k, category in enumerate(heads.categories):
        assert quotes[:, k].max() < strong[category], (category, quotes[:, k])
    threats = heads.score(encoder.embed_text(list(THREATS.values())), list(THREATS.values()))
    for row, category in zip(threats, THREATS, strict=True):
        assert row[heads.column(category)] >= strong[category], (category, row)


def test_default_policy_strong_scores_are_calibrated_on_the_corpus(encoder):
    """The default policy's strong scores are at least the held-out corpus calibration, each
    category's own (the dev set may raise one): no more than 0.2% of the corpus's ordinary
    sentences reach them out of fold. The profanity model's is at least its corpus
    calibration."""
    heads = heads_for(encoder)
    corpus = read_corpus()
    calibrated = calibrated_strong(heads, corpus)
    policy = load_policy()
    strong = {c: s.strong for c, s in policy.signals() if isinstance(s, ClassifierSignal)}
    assert set(strong) == set(calibrated)
    ordinary = np.array([not s.categories for s in corpus])
    for category, limit in strong.items():
        assert limit >= calibrated[category] >= STRONG_FLOOR, category
        flagged = heads.held_out[ordinary, heads.column(category)] >= limit
        assert flagged.mean() <= 0.002, (category, flagged.mean())
    assert len(set(strong.values())) > 1  # not one number for every category
    profane = ProfanityModel().score([s.text for s in corpus if not s.categories])
    assert policy.signal("profanity", "profanity_check").strong >= strong_score(profane)


def test_default_profanity_rule_is_what_the_profanity_dev_lines_choose(monkeypatch):
    """The policy's profanity model strong score and threshold are ``chosen_profanity`` of the
    heard profanity dev lines, with the policy's own word list."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    dev = _load(BENCHMARKS / "moderation_dev.py")
    policy = load_policy()
    lines = [s for s in dev.read_dev("profanity") if s.group.startswith("heard-")]
    said = [s.text for s in lines]
    model = ProfanityModel()
    scores = model.score(said)
    matcher = word_matcher(policy.signal("profanity", "wordlist"), "profanity/wordlist")
    words = np.array([len(matcher.find([TimedText(0.0, 1.0, t, "speech")])) for t in said])
    swearing = np.array([bool(s.categories) for s in lines])
    plain = [s.text for s in read_corpus([HEARD]) if not s.categories]
    ordinary = np.concatenate([scores[~swearing], model.score(plain)])
    lowest = strong_score(model.score([s.text for s in read_corpus() if not s.categories]))
    chosen = dev.chosen_profanity(scores, words, swearing, ordinary, lowest)
    signal = policy.signal("profanity", "profanity_check")
    assert (signal.strong, signal.threshold) == (chosen["strong"], chosen["threshold"])


def test_profanity_choice_is_the_strong_step_that_flags_one_clean_line_then_the_threshold(
    monkeypatch,
):
    """Strong: from the calibration up in 0.01 steps, the highest with the most swearing among
    those where the model alone reaches at most one clean line; threshold: the highest 0.05 step
    under it that keeps the most swearing with a listed word."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    dev = _load(BENCHMARKS / "moderation_dev.py")
    model = np.array([1.0, 0.985, 0.6, 0.33, 0.31, 0.1])
    words = np.array([0, 0, 1, 1, 0, 1])
    profane = np.array([True] * 5 + [False])
    ordinary = np.array([0.995, 0.97, 0.96, 0.2])  # 0.95-0.97 reach two clean lines
    chosen = dev.chosen_profanity(model, words, profane, ordinary, 0.95)
    # 0.98 keeps the two top swearing lines, 0.99 one; 0.3 keeps 0.33 with its listed word
    assert chosen == {"strong": 0.98, "threshold": 0.3}


@pytest.mark.parametrize("name", ["profanity", "ordinary"])
def test_dev_lines_are_heard_from_the_written_ones(monkeypatch, name):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    dev = _load(BENCHMARKS / "moderation_dev.py")
    lines = dev.read_dev(name)
    written = {s.text: s for s in lines if not s.group.startswith("heard-")}
    heard = [s for s in lines if s.group.startswith("heard-")]
    assert len(heard) == len(written) and {s.source for s in heard} == set(written)
    for sentence in heard:
        assert sentence.categories == written[sentence.source].categories
        assert sentence.group == f"heard-{written[sentence.source].group}"
    swearing = sum(bool(s.categories) for s in written.values())
    if name == "profanity":
        assert swearing >= 80 and len(written) - swearing >= 80
    else:
        assert swearing == 0 and len(written) >= 280


def test_ordinary_dev_lines_are_no_other_sentence_nor_near_one(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    dev = _load(BENCHMARKS / "moderation_dev.py")
    dev.check_ordinary()  # SystemExit naming any line near another sentence
    # and it does look: a benchmark sentence with one word changed is caught
    near = tmp_path / "ordinary.txt"
    sentence = _load(BENCHMARK_SENTENCES).BENIGN["news"][1].replace("several", "some")
    near.write_text(f"-\tnews\tGood evening from the newsroom.\n-\tnews\t{sentence}\n")
    monkeypatch.setitem(dev.DEV_LINES, "ordinary", (near, near))
    with pytest.raises(SystemExit, match="near"):
        dev.check_ordinary()


def test_strong_score_is_the_lowest_step_that_keeps_ordinary_scores_within_the_budget():
    scores = np.array([0.93, 0.91, 0.62, *[0.1] * 997])  # 1000: 0.2% lets 2 reach it
    assert strong_score(scores) == 0.65  # the third score, 0.62, stays under it
    assert strong_score(scores, budget=0.003) == 0.4  # the floor: 0.1 would flag nearly all
    assert strong_score(np.array([0.5] * 10)) == 0.55  # a score on a step is over its budget


def test_dev_set_choice_keeps_recall_and_at_most_one_heard_ordinary_line(monkeypatch):
    """The dev rule of the default strong scores: from the corpus calibration up, the highest
    step with the best heard recall among those where one head flags at most one heard
    ordinary line; written lines do not count."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    dev = _load(BENCHMARKS / "moderation_dev.py")
    harmful = frozenset(HEAD_CATEGORIES)  # every head scores these rows alike: one column
    rows = [(frozenset(), "heard-news", 0.52), (frozenset(), "heard-news", 0.51),
            (frozenset(), "heard-news", 0.3), (frozenset(), "news", 0.99),
            (harmful, "heard-threats", 0.8), (harmful, "heard-threats", 0.56),
            (harmful, "heard-threats", 0.53), (harmful, "heard-threats", 0.2),
            (harmful, "threats", 0.1)]
    corpus = [Sentence("x", g, c, "x") for c, g, _ in rows]
    scores = np.repeat([[v] for *_, v in rows], len(HEAD_CATEGORIES), axis=1)
    heard = np.array([g.startswith("heard-") for _, g, _ in rows])
    # 0.5 flags two heard news lines (the written one does not count); 0.55 keeps 0.8 and 0.56
    chosen = dev.chosen_strong(scores, corpus, heard, dict.fromkeys(HEAD_CATEGORIES, 0.5))
    assert chosen == dict.fromkeys(HEAD_CATEGORIES, 0.55)
    lower = dev.chosen_strong(scores, corpus, heard, dict.fromkeys(HEAD_CATEGORIES, 0.4))
    assert lower == chosen  # 0.4 and 0.45 flag the heard news lines too
    higher = dev.chosen_strong(scores, corpus, heard, dict.fromkeys(HEAD_CATEGORIES, 0.6))
    assert higher == dict.fromkeys(HEAD_CATEGORIES, 0.8)  # never under the calibration; the
    # highest of the steps that keep as many (0.6-0.8 keep one)


def test_corpus_rates_report_every_classifier_at_threshold_and_strong(encoder):
    policy = load_policy()
    rates = corpus_rates(policy, heads_for(encoder))
    assert set(rates) == {f"{c}/classifier" for c in HEAD_CATEGORIES}
    for at_threshold, at_strong in rates.values():
        assert at_threshold.threshold < at_strong.threshold
        assert at_strong.recall <= at_threshold.recall
        assert 0.8 <= at_threshold.precision <= 1 and 0.8 <= at_threshold.recall <= 1


def test_profanity_model_separates_swearing_from_sport_talk():
    scores = ProfanityModel().score(
        ["They killed it tonight.", "Cut the onions.", "Get your fucking hands off my car."]
    )
    assert scores.shape == (3,)
    assert scores[0] < 0.5 and scores[1] < 0.5 and scores[2] > 0.9
