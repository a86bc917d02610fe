"""Grouping unit vectors of one person: within a file (speaker turns, face tracks) and across
the archive (the ``voice:N`` / ``face:N`` labels hits carry)."""

from __future__ import annotations

import numpy as np


def agglomerate(vectors: np.ndarray, same: float) -> np.ndarray:
    """Labels 0..k-1 (in order of first appearance) from average-linkage clustering, cut
    where the mean cosine similarity between two groups falls below ``same``. For the few
    dozen vectors of one file; every pair is compared."""
    from scipy.cluster.hierarchy import fcluster, linkage  # ~0.4 s: not at every `mmr` start

    if len(vectors) < 2:
        return np.zeros(len(vectors), dtype=np.int64)
    tree = linkage(vectors, method="average", metric="cosine")
    return _first_seen(fcluster(tree, t=1.0 - same, criterion="distance"))


def leader(vectors: np.ndarray, same: float) -> np.ndarray:
    """Labels by online leader clustering: each vector joins the most similar group whose
    running mean direction it matches above ``same``, else starts a group. One pass, linear in
    the number of groups: it scales to a whole archive, in a fixed (clip id) order."""
    labels = np.empty(len(vectors), dtype=np.int64)
    sums: list[np.ndarray] = []
    for i, vector in enumerate(vectors):
        if sums:
            centres = np.stack(sums)
            centres /= np.linalg.norm(centres, axis=1, keepdims=True)
            scores = centres @ vector
            best = int(np.argmax(scores))
            if scores[best] >= same:
                labels[i] = best
                sums[best] = sums[best] + vector
                continue
        labels[i] = len(sums)
        sums.append(vector.astype(np.float64))
    return labels


def _first_seen(labels: np.ndarray) -> np.ndarray:
    order = {label: n for n, label in enumerate(dict.fromkeys(labels.tolist()))}
    return np.array([order[label] for label in labels.tolist()], dtype=np.int64)
