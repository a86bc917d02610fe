"""A dev set for the moderation heads, apart from the benchmark (issue 16): held-out recall of
each head on speech as recognition heard it.

The dev data are the heard corpus sentences (benchmarks/moderation_heard.txt) of each
held-out fold (``folds``: a sentence and what was heard of it share a fold). Each fold's heads
are fitted on its written sentences (as the shipped heads are: heads trained on heard lines as
well flagged more ordinary speech) and score the held-out rows. A variant is the word heads'
share of the averaged probability (``heads.NGRAM_WEIGHT``; 0: the embedding heads alone); its
``strong`` score per category is calibrated as the default policy's is
(``heads.calibrated_strong`` on the held-out written ordinary sentences), and it reports the
recall of heard harmful lines and how many heard ordinary lines any head flags at them.

With ``--written`` the corpus's hand-written groups (``written_*``, other wordings than the
templates make) and what was heard of them are left out of training as well, and their recall
is reported as written and as heard: how the heads do on sentences unlike any they were trained
on, as the benchmark's are.

The default policy's text rule is measured here too (``policy_on_lines``): each dev line
alone through the policy's classifier, transcript prompt, word-list and profanity signals
(held-out head scores at the shipped word weight) and its ``agree``/``strong`` rule, so a
signal that flags ordinary lines and keeps no harmful one shows (``policy`` in the JSON).

The default policy's strong scores are chosen here (``chosen_strong``, printed for the shipped
word weight): per category, of the steps at or above the corpus calibration of the shipped
heads, those at which that head alone flags at most ``HEARD_ORDINARY`` heard ordinary line, the
highest that keeps the most heard harmful lines.

Profanity has its own dev lines, since the corpus has no profanity label: swearing and clean
hard negatives written by hand (``moderation_profanity.txt``) and what tiny.en heard of each
(``moderation_profanity_heard.txt``, by ``moderation_heard.py --profanity``). On them the
profanity model's strong score and threshold are chosen (``chosen_profanity``) and the default
policy's whole text rule is measured (``policy_profanity``; shipped heads, since no head saw
these lines).

Precision has its own dev lines too, since the corpus's heard ordinary lines are few (264) and
the default policy flags almost none of them: ~300 ordinary archive lines written by hand in the
benchmark's genres (``moderation_ordinary.txt``; news about violence, drugs and weapons, "they
killed it tonight", knives in kitchens) and what tiny.en heard of each
(``moderation_ordinary_heard.txt``, by ``moderation_heard.py --ordinary``). The default
policy's whole text rule runs on them (``policy_ordinary``: the lines it flags, as written and
as heard, per category; shipped heads). ``check_ordinary`` fails when one of them is a
benchmark, corpus or other dev sentence, or near one.

    python benchmarks/moderation_dev.py [--written]    # results/moderation_dev[_written].json
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import moderation_corpus
import numpy as np
from machine import describe
from moderation_heard import DEV_LINES, HEARD
from rapidfuzz import fuzz, process

from mmretrieval.adapters.base import AdapterSet
from mmretrieval.config import load_profile
from mmretrieval.media.timeline import TimedText
from mmretrieval.moderation.detectors import ProfanityModel, zero_shot
from mmretrieval.moderation.heads import (
    CORPUS,
    FOLDS,
    HEAD_CATEGORIES,
    NGRAM_WEIGHT,
    Heads,
    Sentence,
    Words,
    calibrated_strong,
    fit,
    heads_for,
    read_corpus,
    strong_score,
)
from mmretrieval.moderation.policy import (
    ClassifierSignal,
    Policy,
    ProfanitySignal,
    WordListSignal,
    ZeroShotSignal,
    load_policy,
)
from mmretrieval.moderation.scan import Evidence, fired_signals, word_matcher

RESULTS = Path(__file__).parent / "results"
WEIGHTS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)  # the word heads' shares compared
HEARD_ORDINARY = 1  # heard ordinary lines (of 264) one head may flag alone at its strong score
PROFANITY_STEPS = np.arange(20, 100, 5) / 100  # the profanity model thresholds compared
PROFANITY_TOP = 0.99  # its highest strong score compared (its scores crowd near 1)
NEAR = 85  # rapidfuzz ratio over which an ordinary dev line counts as the sentence it is near


def folds(corpus: list) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train rows, test rows) of stratified ``FOLDS``-fold cross-validation over the spoken
    sentences (every group in every fold); what was heard of a sentence goes with it, so a
    held-out score never comes from a head that saw its twin."""
    from sklearn.model_selection import StratifiedKFold

    sources = [s.source for s in corpus]
    _, first, row_source = np.unique(sources, return_index=True, return_inverse=True)
    groups = np.array([s.group for s in corpus])[first]
    fold_of = np.zeros(len(first), int)
    split = StratifiedKFold(FOLDS, shuffle=True, random_state=0).split(first, groups)
    for n, (_, test) in enumerate(split):
        fold_of[test] = n
    row_fold = fold_of[row_source]
    return [(np.flatnonzero(row_fold != n), np.flatnonzero(row_fold == n)) for n in range(FOLDS)]


def held_out(
    x: np.ndarray, corpus: list, unseen: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(n, k) out-of-fold probabilities of every row from the embedding heads and from the word
    heads, each fold's heads fitted on its rows that are not ``unseen``."""
    embedded, worded = np.zeros((2, len(corpus), len(HEAD_CATEGORIES)))
    texts = [s.text for s in corpus]
    for train_rows, test_rows in folds(corpus):
        heads = fit(x, corpus, train_rows[~unseen[train_rows]])
        said = [texts[i] for i in test_rows]
        for out, weight in ((embedded, 0.0), (worded, 1.0)):
            out[test_rows] = replace(heads, word_weight=weight).score(x[test_rows], said)
    return embedded, worded


def measure(scores: np.ndarray, corpus: list, heard: np.ndarray, unseen: np.ndarray) -> dict:
    """Recall at each category's calibrated strong score; ``unseen``: the hand-written rows
    held out of training (``--written``), whose recall is reported apart."""
    written = [s for s, h in zip(corpus, heard, strict=True) if not h]
    heads = replace(_EMPTY, held_out=scores[~heard])
    strong = calibrated_strong(heads, written)
    ordinary = np.array([not s.categories for s in corpus])
    limits = np.array([strong[c] for c in HEAD_CATEGORIES])
    out: dict = {"heard_ordinary_flagged": int((scores >= limits).any(1)[ordinary & heard].sum())}
    for k, category in enumerate(HEAD_CATEGORIES):
        positive = np.array([category in s.categories for s in corpus])
        fired = scores[:, k] >= strong[category]
        out[category] = {
            "strong": strong[category],
            "recall_heard": round(float(fired[positive & heard].mean()), 3),
            "ordinary_heard_flagged": int(fired[ordinary & heard].sum()),
        }
        if unseen.any():
            out[category]["recall_written"] = round(float(fired[positive & unseen & ~heard]
                                                          .mean()), 3)
            out[category]["recall_written_heard"] = round(float(fired[positive & unseen & heard]
                                                                .mean()), 3)
    return out


def chosen_strong(
    scores: np.ndarray, corpus: list, heard: np.ndarray, lowest: dict[str, float]
) -> dict[str, float]:
    """Per category, of the 0.05 steps from ``lowest`` (the shipped heads' corpus calibration)
    up, those at which the category's held-out ``scores`` flag at most ``HEARD_ORDINARY`` heard
    ordinary lines; of them, the highest with the best recall of heard harmful lines."""
    ordinary = np.array([not s.categories for s in corpus]) & heard
    out = {}
    for k, category in enumerate(HEAD_CATEGORIES):
        positive = np.array([category in s.categories for s in corpus]) & heard
        steps = np.arange(round(lowest[category] * 20), 20) / 20
        out[category] = strongest(scores[positive, k], scores[ordinary, k], steps)
    return out


def strongest(harmful: np.ndarray, ordinary: np.ndarray, steps: np.ndarray) -> float:
    """Of the ``steps`` at which at most ``HEARD_ORDINARY`` of the ``ordinary`` scores reach,
    the highest that keeps the most ``harmful`` scores."""
    kept = [(int((harmful >= t).sum()), float(t)) for t in steps
            if (ordinary >= t).sum() <= HEARD_ORDINARY]
    return max(kept)[1]


def chosen_profanity(
    model: np.ndarray, words: np.ndarray, profane: np.ndarray, ordinary: np.ndarray,
    lowest: float,
) -> dict[str, float]:
    """The profanity model's strong score and threshold from heard dev lines: ``model`` its
    scores and ``words`` the word list's hits on each heard profanity dev line, ``profane``
    which of them swear, ``ordinary`` its scores on heard clean lines (the profanity dev
    lines' and the corpus's). Strong: ``strongest`` of the 0.01 steps from ``lowest`` (its
    corpus calibration) to ``PROFANITY_TOP``, the model alone. Threshold: of
    ``PROFANITY_STEPS`` under it, the highest that keeps the most swearing lines by the rule
    (strong, or the threshold with a listed word)."""
    top = strongest(model[profane], ordinary, np.arange(round(lowest * 100), 100) / 100)
    kept = [(int(((model >= top) | ((model >= t) & (words > 0)))[profane].sum()), float(t))
            for t in PROFANITY_STEPS if t < top]
    return {"strong": round(top, 2), "threshold": max(kept)[1]}


def read_dev(name: str) -> list[Sentence]:
    """The ``name`` dev lines (``DEV_LINES``) as written, then as heard (group ``heard-*``);
    the profanity lines carry a category no head has."""
    return read_corpus(DEV_LINES[name], known=(*HEAD_CATEGORIES, "profanity"))


def policy_on_lines(
    policy: Policy, corpus: list, scores: np.ndarray, x: np.ndarray, encoder, heard: np.ndarray
) -> dict:
    """Per category, the recall of heard harmful lines and the ordinary lines (heard, written)
    that ``policy``'s rule flags, each line scored alone by its text signals (``scores``: the
    held-out head scores; ``x``: the lines' vectors); signals that read pictures or sound are
    left out, as they have nothing to read here. Also the text of each flagged ordinary line."""
    texts = [s.text for s in corpus]
    profane = None
    columns: dict[tuple[str, str], np.ndarray] = {}
    for category, signal in policy.signals():
        key = (category, signal.key)
        if isinstance(signal, ClassifierSignal):
            columns[key] = scores[:, HEAD_CATEGORIES.index(signal.head or category)]
        elif isinstance(signal, ZeroShotSignal) and signal.type == "transcript":
            prompts = encoder.embed_text([*signal.positive, *signal.negative])
            scale = signal.softmax_scale(encoder)
            columns[key] = zero_shot(x, prompts, len(signal.positive), scale)
        elif isinstance(signal, WordListSignal):
            matcher = word_matcher(signal, f"{category}/{signal.key}")
            lines = ([TimedText(0.0, 1.0, t, "speech")] for t in texts)
            columns[key] = np.array([len(matcher.find(line)) for line in lines])
        elif isinstance(signal, ProfanitySignal):
            profane = ProfanityModel().score(texts) if profane is None else profane
            columns[key] = profane
    ordinary = np.array([not s.categories for s in corpus])
    flagged = np.zeros((len(corpus), len(policy.categories)), bool)
    for i in range(len(corpus)):
        evidence = {key: Evidence(float(v[i])) for key, v in columns.items()}
        flagged[i] = [bool(fired_signals(evidence, c, policy)) for c in policy.categories]
    out: dict = {}
    for k, category in enumerate(policy.categories):
        labelled = np.array([category in s.categories for s in corpus])
        positive = labelled & heard
        if not (labelled.any() or flagged[ordinary, k].any()):
            continue
        out[category] = {
            "recall_heard": round(float(flagged[positive, k].mean()), 3) if positive.any()
            else None,
            "recall_written": round(float(flagged[labelled & ~heard, k].mean()), 3)
            if (labelled & ~heard).any() else None,
            "ordinary_heard_flagged": int(flagged[ordinary & heard, k].sum()),
            "ordinary_written_flagged": int(flagged[ordinary & ~heard, k].sum()),
        }
    out["ordinary flagged (any category), heard / written"] = [
        int(flagged[ordinary & heard].any(1).sum()), int(flagged[ordinary & ~heard].any(1).sum())
    ]
    out["ordinary lines flagged"] = {  # to read on dev, never on the benchmark
        category: [f"(heard) {s.text}" if on_air else s.text
                   for s, on_air, hit in zip(corpus, heard, flagged[:, k] & ordinary, strict=True)
                   if hit]
        for k, category in enumerate(policy.categories) if flagged[ordinary, k].any()
    }
    return out


def check_ordinary() -> None:
    """Fail when an ordinary dev line is, or is near (rapidfuzz ratio over ``NEAR``, without
    case and punctuation), another of them or a sentence of the benchmark, the training corpus,
    its heard lines or the profanity dev lines."""
    def sentences(path: Path) -> list[str]:  # the sentence (and in heard files its source)
        return [moderation_corpus.plain(text)
                for line in path.read_text(encoding="utf-8").splitlines()
                if line and not line.startswith("#") for text in line.split("\t")[2:]]

    ours = sentences(DEV_LINES["ordinary"][0])
    theirs = [moderation_corpus.plain(s) for texts in (*moderation_corpus.BENIGN.values(),
                                                      *moderation_corpus.HARMFUL.values())
              for s in texts]
    for path in (CORPUS, HEARD, *DEV_LINES["profanity"]):
        theirs += sentences(path)
    theirs = sorted(set(theirs))
    near = []
    for i, line in enumerate(ours):
        for other in (ours[:i], theirs):
            match = process.extractOne(line, other, scorer=fuzz.ratio, score_cutoff=NEAR + 1e-9)
            if match:
                near.append(f"{line!r} ~ {match[0]!r} ({match[1]:.0f})")
    if near:
        raise SystemExit("ordinary dev lines that are (near) another sentence; rewrite them:\n"
                         + "\n".join(near))


def policy_on_dev(policy: Policy, encoder, lines: list[Sentence]) -> dict:
    """``policy_on_lines`` of ``policy`` on hand-written dev ``lines`` (written and heard),
    scored by the shipped heads: no head saw these lines."""
    said = [s.text for s in lines]
    on_air = np.array([s.group.startswith("heard-") for s in lines])
    x = np.asarray(encoder.embed_text(said), np.float64)
    heads = heads_for(encoder)
    return policy_on_lines(policy, lines, heads.score(x, said).round(3), x, encoder, on_air)


def profanity_dev(policy: Policy, encoder, corpus: list, heard: np.ndarray) -> dict:
    """On the profanity dev lines: ``chosen_profanity`` (its clean lines heard and the corpus's
    heard ordinary ones are the ordinary scores) and ``policy_on_dev`` of ``policy``."""
    lines = read_dev("profanity")
    said = [s.text for s in lines]
    on_air = np.array([s.group.startswith("heard-") for s in lines])
    swearing = np.array([bool(s.categories) for s in lines])
    model = ProfanityModel()
    scores = model.score(said)
    matcher = word_matcher(policy.signal("profanity", "wordlist"), "profanity/wordlist")
    words = np.array([len(matcher.find([TimedText(0.0, 1.0, t, "speech")])) for t in said])
    plain = [s.text for s, h in zip(corpus, heard, strict=True) if h and not s.categories]
    ordinary = np.concatenate([scores[on_air & ~swearing], model.score(plain)])
    lowest = strong_score(model.score([s.text for s in read_corpus() if not s.categories]))
    chosen = chosen_profanity(scores[on_air], words[on_air], swearing[on_air], ordinary, lowest)
    return {"chosen_profanity": chosen | {"corpus_calibration": lowest},
            "policy_profanity": policy_on_dev(policy, encoder, lines)}


_EMPTY = Heads("dev", "", HEAD_CATEGORIES, *[np.zeros(1)] * 3, Words(*[np.zeros(1)] * 2, 0.0),
               *[np.zeros(1)] * 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--written", action="store_true",
                        help="hold the hand-written groups out of training too")
    args = parser.parse_args(argv)
    check_ordinary()
    corpus = read_corpus([CORPUS, HEARD])
    encoder = AdapterSet(load_profile("offline")).get("text")
    x = np.asarray(encoder.embed_text([s.text for s in corpus]), np.float64)
    heard = np.array([s.group.startswith("heard-") for s in corpus])
    written = np.array([s.group.removeprefix("heard-").startswith("written_") and args.written
                        for s in corpus])
    embedded, worded = held_out(x, corpus, heard | written)
    result = {"sentences": len(corpus), "heard": int(heard.sum()), "variants": {}}
    for w in WEIGHTS:
        rows = measure(((1 - w) * embedded + w * worded).round(3), corpus, heard, written)
        result["variants"][f"word weight {w:g}"] = rows
        print(f"word weight {w:<4g}", "  ".join(
            f"{k[:8]} {r['recall_heard']:.2f}@{r['strong']:.2f}"
            + (f" written {r['recall_written']:.2f}/{r['recall_written_heard']:.2f}"
               if args.written else "")
            for k, r in rows.items() if k in HEAD_CATEGORIES),
            f"  heard ordinary flagged {rows['heard_ordinary_flagged']}", flush=True)
    shipped = (1 - NGRAM_WEIGHT) * embedded + NGRAM_WEIGHT * worded
    lowest = calibrated_strong(heads_for(encoder), read_corpus())
    result["chosen_strong"] = chosen_strong(shipped.round(3), corpus, heard, lowest)
    print(f"strong scores for the default policy: {result['chosen_strong']}")
    policy = load_policy()
    result["policy"] = policy_on_lines(policy, corpus, shipped.round(3), x, encoder, heard)
    result |= profanity_dev(policy, encoder, corpus, heard)
    result["policy_ordinary"] = policy_on_dev(policy, encoder, read_dev("ordinary"))
    print(f"profanity model for the default policy: {result['chosen_profanity']}")
    for name, rows in (("dev", "policy"), ("profanity dev", "policy_profanity"),
                       ("ordinary dev", "policy_ordinary")):
        print(f"default policy on the {name} lines (recall of heard harmful lines; ordinary "
              "lines flagged, heard / written):")
        for category, row in result[rows].items():
            print(f"  {category}: {row}")
    result["machine"] = describe(("scikit-learn", "sentence-transformers"))
    out = RESULTS / f"moderation_dev{'_written' if args.written else ''}.json"
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"recall on held-out heard positives @ strong; wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
