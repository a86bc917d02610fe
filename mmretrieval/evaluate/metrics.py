"""Ranking metrics: R@1, R@5, R@10, median and mean rank, and mAP, from ranked relevance lists.

R@K and mAP are percentages; MedR and MeanR are 1-based ranks. Ties are broken pessimistically
(a relevant target goes after every irrelevant one with the same score), and targets a query
did not score (-inf) rank last.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

RECALL_AT = (1, 5, 10)


def rank_metrics(ranks: Sequence[int]) -> dict[str, float]:
    """R@1, R@5, R@10 (percent of queries whose target ranks within K), MedR and MeanR."""
    values = np.asarray(ranks, dtype=np.float64)
    if values.size == 0:
        raise ValueError("rank_metrics needs at least one rank")
    metrics = {f"R@{k}": float(100.0 * np.mean(values <= k)) for k in RECALL_AT}
    metrics["MedR"] = float(np.median(values))
    metrics["MeanR"] = float(np.mean(values))
    return metrics


def average_precision(ranked_relevance: Sequence[bool], n_relevant: int | None = None) -> float:
    """AP of one ranked list: mean of precision@i over the positions i of relevant targets.

    ``n_relevant`` counts relevant targets the list misses (default: those in the list).
    """
    relevant = np.asarray(ranked_relevance, dtype=bool)
    total = int(relevant.sum()) if n_relevant is None else n_relevant
    if total == 0:
        return 0.0
    positions = np.flatnonzero(relevant) + 1
    return float(np.sum(np.arange(1, len(positions) + 1) / positions) / total)


def mean_average_precision(lists: Iterable[Sequence[bool]]) -> float:
    """mAP in percent over ranked relevance lists."""
    values = [average_precision(r) for r in lists]
    return float(100.0 * np.mean(values)) if values else 0.0


def ranked_relevance(scores: Sequence[float], relevant: Sequence[bool]) -> np.ndarray:
    """Relevance in ranked order: best score first, ties broken pessimistically (irrelevant
    targets before relevant ones), unscored (-inf) targets last."""
    scores = np.asarray(scores, dtype=np.float64)
    relevant = np.asarray(relevant, dtype=bool)
    order = np.lexsort((relevant, -scores))
    return relevant[order]


def first_rank(ranked: np.ndarray) -> int:
    """1-based position of the first relevant target."""
    hits = np.flatnonzero(ranked)
    if hits.size == 0:
        raise ValueError("no relevant target in the ranked list")
    return int(hits[0]) + 1


def matrix_metrics(scores: np.ndarray, owners: Sequence[int]) -> tuple[dict, dict]:
    """(text -> media, media -> text) metrics from S[caption, item] and each caption's item.

    Items without captions are targets for text queries but ask no media query.
    """
    scores = np.asarray(scores, dtype=np.float64)
    owners = np.asarray(owners, dtype=np.int64)
    n_captions, n_items = scores.shape
    forward = [
        ranked_relevance(scores[q], np.arange(n_items) == owners[q]) for q in range(n_captions)
    ]
    backward = [
        ranked_relevance(scores[:, j], owners == j) for j in range(n_items) if (owners == j).any()
    ]

    def summary(lists: list[np.ndarray], targets: int) -> dict:
        return {
            **rank_metrics([first_rank(r) for r in lists]),
            "mAP": mean_average_precision(lists),
            "queries": len(lists),
            "targets": targets,
        }

    return summary(forward, n_items), summary(backward, n_captions)
