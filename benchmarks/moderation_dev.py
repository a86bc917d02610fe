"""A dev set for the moderation heads, apart from the benchmark (issue 16): held-out recall of
each head on speech as recognition heard it.

The dev data are the heard corpus sentences (benchmarks/moderation_heard.txt) of each
held-out fold (``folds``: a sentence and what was heard of it share a fold). Each
variant trains its heads on the other folds and scores the held-out rows; its ``strong``
score per category is calibrated as the default policy's is (``heads.calibrated_strong``), on
the held-out ordinary sentences, written and heard, so every variant flags the same share of
ordinary speech. Variants: heads trained on the written corpus alone (before) or on the
written and heard corpus (at the C of each in ``CS``).

    python benchmarks/moderation_dev.py      # results/moderation_dev.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from machine import describe
from moderation_heard import HEARD

from mmretrieval.adapters.base import AdapterSet
from mmretrieval.config import load_profile
from mmretrieval.moderation.heads import (
    CORPUS,
    FOLDS,
    HEAD_CATEGORIES,
    C,
    Heads,
    calibrated_strong,
    read_corpus,
)

RESULTS = Path(__file__).parent / "results"
CS = (C,)  # regularisation strengths compared


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


def held_out(x: np.ndarray, corpus: list, fit_on: np.ndarray, c: float) -> np.ndarray:
    """(n, k) out-of-fold scores of every row, each fold's heads fitted on its ``fit_on`` rows."""
    from sklearn.linear_model import LogisticRegression

    scores = np.zeros((len(corpus), len(HEAD_CATEGORIES)))
    for train_rows, test_rows in folds(corpus):
        rows = train_rows[fit_on[train_rows]]
        for k, category in enumerate(HEAD_CATEGORIES):
            y = np.array([category in corpus[i].categories for i in rows])
            model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
            scores[test_rows, k] = model.fit(x[rows], y).predict_proba(x[test_rows])[:, 1]
    return scores.round(3)


def measure(scores: np.ndarray, corpus: list) -> dict:
    heads = Heads("dev", "", HEAD_CATEGORIES, np.zeros((1, 1)), np.zeros(1), scores)
    strong = calibrated_strong(heads, corpus)
    heard = np.array([s.group.startswith("heard-") for s in corpus])
    out = {}
    for k, category in enumerate(HEAD_CATEGORIES):
        positive = np.array([category in s.categories for s in corpus])
        ordinary = np.array([not s.categories for s in corpus])
        fired = scores[:, k] >= strong[category]
        out[category] = {
            "strong": strong[category],
            "recall_heard": round(float(fired[positive & heard].mean()), 3),
            "recall_written": round(float(fired[positive & ~heard].mean()), 3),
            "ordinary_heard_flagged": round(float(fired[ordinary & heard].mean()), 4),
        }
    return out


def main() -> int:
    corpus = read_corpus([CORPUS, HEARD])
    encoder = AdapterSet(load_profile("offline")).get("text")
    x = np.asarray(encoder.embed_text([s.text for s in corpus]), np.float64)
    heard = np.array([s.group.startswith("heard-") for s in corpus])
    result = {"sentences": len(corpus), "heard": int(heard.sum()), "variants": {}}
    for name, fit_on in (("written", ~heard), ("written+heard", np.ones(len(corpus), bool))):
        for c in CS:
            rows = measure(held_out(x, corpus, fit_on, c), corpus)
            result["variants"][f"{name} C={c:g}"] = rows
            print(f"{name:<14} C={c:<3g}", "  ".join(
                f"{k[:8]} {r['recall_heard']:.2f}/{r['recall_written']:.2f}@{r['strong']:.2f}"
                for k, r in rows.items()), flush=True)
    result["machine"] = describe(("scikit-learn", "sentence-transformers"))
    out = RESULTS / "moderation_dev.json"
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"recall on held-out heard/written positives @ strong; wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
