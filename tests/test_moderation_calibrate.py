"""Calibration maths against hand-computed thresholds, and the labels.csv format's errors."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from mmretrieval.errors import ConfigError
from mmretrieval.moderation.calibrate import Threshold, pick_threshold, read_labels
from mmretrieval.moderation.policy import load_policy

# Six labelled clips: scores of one signal and whether the category is really there. The last
# positive has no score (e.g. no frames), so it can never be caught.
SCORES = [0.9, 0.8, 0.7, 0.6, 0.5, None]
LABELS = [True, True, False, True, False, True]
# By hand, predicted positive when score >= t (4 positives in all):
#   t    tp fp fn  precision  recall
#   0.5   3  2  1  0.6        0.75
#   0.6   3  1  1  0.75       0.75
#   0.7   2  1  2  0.667      0.5
#   0.8   2  0  2  1.0        0.5
#   0.9   1  0  3  1.0        0.25


@pytest.mark.parametrize(
    ("metric", "target", "expected"),
    [
        ("precision", 0.75, Threshold(0.6, 0.75, 0.75, 3, 1, 1)),
        # precision is not monotone (0.7 gives 0.667): the lowest feasible threshold is 0.6
        ("precision", 0.7, Threshold(0.6, 0.75, 0.75, 3, 1, 1)),
        ("precision", 0.9, Threshold(0.8, 1.0, 0.5, 2, 0, 2)),
        ("precision", 0.5, Threshold(0.5, 0.6, 0.75, 3, 2, 1)),
        ("recall", 0.75, Threshold(0.6, 0.75, 0.75, 3, 1, 1)),
        ("recall", 0.5, Threshold(0.8, 1.0, 0.5, 2, 0, 2)),
        ("recall", 0.25, Threshold(0.9, 1.0, 0.25, 1, 0, 3)),
    ],
)
def test_threshold_matches_hand_computation(metric, target, expected):
    assert pick_threshold(SCORES, LABELS, target, metric) == expected


def test_unreachable_recall_keeps_the_threshold_and_says_why():
    result = pick_threshold(SCORES, LABELS, 1.0, "recall")
    assert result.threshold is None
    assert "no threshold reaches recall 1" in result.message
    assert "best is precision 0.600, recall 0.750 at threshold 0.5" in result.message


def test_unreachable_precision_reports_the_best_reachable():
    result = pick_threshold([0.9, 0.1], [False, True], 0.9, "precision")
    assert result.threshold is None
    assert result.message.startswith("no threshold reaches precision 0.9: the best is ")
    assert "precision 0.500, recall 1.000 at threshold 0.1" in result.message


def test_tied_scores_fall_on_the_same_side():
    result = pick_threshold([0.5, 0.5, 0.5, 0.2], [True, True, False, False], 0.6, "precision")
    assert result == Threshold(0.5, 2 / 3, 1.0, 2, 1, 0)


def test_no_positive_or_no_score_is_reported():
    assert pick_threshold([0.3, 0.4], [False, False], 0.9, "precision").message == (
        "no clip is labelled positive"
    )
    assert pick_threshold([None, None], [True, False], 0.9, "precision").message == (
        "no labelled clip has a score"
    )
    with pytest.raises(ValueError, match="precision or recall"):
        pick_threshold([0.3], [True], 0.9, "f1")


# -- labels.csv ---------------------------------------------------------------------------------


def _labels(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "labels.csv"
    path.write_text(text)
    return path


def test_labels_format(tmp_path):
    path = _labels(
        tmp_path,
        "path,start,end,nudity,drugs\n"
        "clips/a.mp4,0,10,0,yes\n"
        "/abs/b.mp4,,,1,\n"
        "c.mp4,4.5,,False,N\n",
    )
    clips = read_labels(path, load_policy())
    assert [(c.path, c.start, c.end, c.labels) for c in clips] == [
        (tmp_path / "clips" / "a.mp4", 0.0, 10.0, {"nudity": False, "drugs": True}),
        (Path("/abs/b.mp4"), 0.0, math.inf, {"nudity": True}),
        (tmp_path / "c.mp4", 4.5, math.inf, {"nudity": False, "drugs": False}),
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("file,nudity\na.mp4,1\n", "needs a header row with a `path` column"),
        ("path,nudityy\na.mp4,1\n", "column nudityy is not a category of policy moderation"),
        ("path,start,end\na.mp4,0,1\n", "column (none) is not a category"),
        ("path,nudity\na.mp4,maybe\n", "line 2: nudity is 'maybe': expected 1 or 0"),
        ("path,start,end,nudity\na.mp4,5,2,1\n", "line 2: expected 0 <= start < end"),
        ("path,start,nudity\na.mp4,soon,1\n", "line 2: start and end must be seconds"),
        ("path,nudity\n", "holds no labelled clips"),
        ("path,nudity\na.mp4,1\nb, c.mp4,0\n", "line 3: 3 cells, but the header names 2"),
    ],
)
def test_labels_errors_are_specific(tmp_path, text, problem):
    with pytest.raises(ConfigError, match="labels.csv") as caught:
        read_labels(_labels(tmp_path, text), load_policy())
    assert problem in str(caught.value)


def test_labels_that_are_not_utf8_are_named(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_bytes("path,nudity\ncafé.mp4,1\n".encode("cp1252"))
    with pytest.raises(ConfigError, match="labels.csv is not UTF-8 text"):
        read_labels(path, load_policy())
