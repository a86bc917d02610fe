"""Retrieval quality on dataset manifests: R@1, R@5, R@10, median and mean rank, and mAP.

``manifests`` reads the datasets (which media each caption describes), ``metrics`` turns
ranked relevance into numbers, ``run`` indexes, searches and scores each direction.
"""

from mmretrieval.evaluate.manifests import FORMATS, EvalItem, Manifest, detect_format, read_manifest
from mmretrieval.evaluate.metrics import (
    RECALL_AT,
    average_precision,
    first_rank,
    matrix_metrics,
    mean_average_precision,
    rank_metrics,
    ranked_relevance,
)
from mmretrieval.evaluate.run import (
    DIRECTIONS,
    PICTURE_SPACES,
    SOUND_SPACES,
    EvalReport,
    Progress,
    evaluate,
    parse_directions,
    run_eval,
)

__all__ = [
    "DIRECTIONS",
    "FORMATS",
    "PICTURE_SPACES",
    "RECALL_AT",
    "SOUND_SPACES",
    "EvalItem",
    "EvalReport",
    "Manifest",
    "Progress",
    "average_precision",
    "detect_format",
    "evaluate",
    "first_rank",
    "matrix_metrics",
    "mean_average_precision",
    "parse_directions",
    "rank_metrics",
    "ranked_relevance",
    "read_manifest",
    "run_eval",
]
