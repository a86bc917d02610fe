"""Calibration: thresholds picked from labelled clips for a target precision or recall.

labels.csv (UTF-8, a header row, one labelled clip per row):

    path,start,end,nudity,drugs
    footage/clip1.mp4,0,10,0,1
    footage/clip2.mp4,,,1,

- ``path``: the media file, relative to the CSV's folder or absolute (required column);
- ``start``, ``end``: the clip in seconds; blank (or no such column) means the file's start
  or end, so a row without them labels the whole file;
- every other column is a category of the policy; a cell is 1/0 (also yes/no, true/false,
  y/n), or blank when the clip is not labelled for that category.

Each labelled clip is scanned as it is (its own window) with every signal that can run. Then,
for each category and each of its scored signals, considering the clips labelled for that
category (a clip is predicted positive when its score >= t; a clip with no score for the signal,
e.g. no frames for a frame signal, is never predicted positive), with candidate thresholds the
distinct scores seen (clips with equal scores are always on the same side, so ties need no rule):

- target precision p: the LOWEST candidate t with precision(t) >= p. Recall only falls as t
  rises, so this is the feasible threshold with the best recall;
- target recall r: the HIGHEST candidate t with recall(t) >= r. False positives only fall as t
  rises, so this is the feasible threshold with the fewest false alarms.

When no candidate reaches the target (or no clip is labelled positive), the signal keeps its
threshold and the result says why, with the best value reachable. Word-list signals are not
calibrated (any listed word fires them). The category's combined precision and recall (by its
rule: ``agree`` signals or one ``strong``) at the resulting thresholds are reported too.

Classifier signals are also measured on the shipped corpus: precision and recall of the head's
held-out scores (5-fold cross-validation, kept with the heads) at the signal's threshold and at
its strong score, per category. Corpus sentences come from templates, so these numbers are
optimistic; the labelled clips (and benchmarks/moderation.py) are the honest measure.
"""

from __future__ import annotations

import csv
import datetime
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from mmretrieval.config import Profile
from mmretrieval.errors import ConfigError, MediaError
from mmretrieval.moderation.heads import Heads, read_corpus
from mmretrieval.moderation.policy import ClassifierSignal, Policy, load_policy
from mmretrieval.moderation.scan import ClipScores, fired_signals, scanning
from mmretrieval.spans import Span, Timed

TRUE = {"1", "yes", "y", "true"}
FALSE = {"0", "no", "n", "false"}
SPAN_COLUMNS = ("path", "start", "end")
TOLERANCE = 1e-12  # 9/10 >= 0.9 must hold whatever the float rounding


@dataclass(frozen=True)
class LabelledClip(Timed):
    path: Path
    start: float
    end: float  # math.inf: the end of the file
    labels: dict[str, bool]  # category -> is it there; categories left blank are absent


@dataclass(frozen=True)
class Threshold:
    """A picked threshold and how it does on the labelled clips, or why none was picked."""

    threshold: float | None
    precision: float | None
    recall: float | None
    tp: int
    fp: int
    fn: int
    message: str | None = None  # why no threshold was picked


@dataclass(frozen=True)
class SignalCalibration:
    category: str
    signal: str
    kind: str
    before: float
    result: Threshold | None  # None: not calibrated (see note)
    note: str | None = None

    @property
    def after(self) -> float:
        picked = self.result.threshold if self.result is not None else None
        return self.before if picked is None else picked


@dataclass
class Calibration:
    metric: str  # precision | recall
    target: float
    clips: int
    signals: list[SignalCalibration]
    categories: dict[str, Threshold] = field(default_factory=dict)  # combined, at `after`
    policy: Policy | None = None  # the policy with the picked thresholds
    # category/signal -> held-out rates on the shipped corpus at its threshold and strong score
    corpus: dict[str, list[Threshold]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "metric": self.metric,
            "target": self.target,
            "clips": self.clips,
            "signals": [
                {
                    "category": s.category,
                    "signal": s.signal,
                    "kind": s.kind,
                    "before": s.before,
                    "after": s.after,
                    **(_threshold_dict(s.result) if s.result else {}),
                    "note": s.note or (s.result.message if s.result else None),
                }
                for s in self.signals
            ],
            "categories": {c: _threshold_dict(t) for c, t in self.categories.items()},
            "corpus": {
                name: [{"threshold": t.threshold, **_threshold_dict(t)} for t in rows]
                for name, rows in self.corpus.items()
            },
        }


def pick_threshold(
    scores: Sequence[float | None], labels: Sequence[bool], target: float, metric: str
) -> Threshold:
    """The threshold for ``target`` precision or recall (the module docstring has the rule)."""
    if metric not in ("precision", "recall"):
        raise ValueError(f"metric must be precision or recall, got {metric!r}")
    positives = sum(labels)
    candidates = sorted({s for s in scores if s is not None})
    if positives == 0:
        return Threshold(None, None, None, 0, 0, 0, "no clip is labelled positive")
    if not candidates:
        return Threshold(None, None, None, 0, 0, positives, "no labelled clip has a score")
    table = [_counts(scores, labels, t) for t in candidates]
    if metric == "precision":
        feasible = [row for row in table if row.precision >= target - TOLERANCE]
        if feasible:
            return feasible[0]
        best = max(table, key=lambda row: (row.precision, -row.threshold))
        return _unpicked(best, f"no threshold reaches precision {target:g}")
    feasible = [row for row in table if row.recall >= target - TOLERANCE]
    if feasible:
        return feasible[-1]
    return _unpicked(
        table[0],
        f"no threshold reaches recall {target:g} (positives without a score never fire)",
    )


def read_labels(path: Path, policy: Policy) -> list[LabelledClip]:
    """The labelled clips of a labels.csv (format in the module docstring)."""
    if not path.is_file():
        raise ConfigError(f"labels file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 text ({exc}): save it as CSV UTF-8") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = [c.strip() for c in reader.fieldnames or []]
    if "path" not in columns:
        raise ConfigError(
            f"{path} needs a header row with a `path` column, then start, end and category "
            f"columns; found {', '.join(columns) or 'no header'}"
        )
    categories = [c for c in columns if c not in SPAN_COLUMNS]
    unknown = [c for c in categories if c not in policy.categories]
    if unknown or not categories:
        raise ConfigError(
            f"{path}: column {', '.join(unknown) or '(none)'} is not a category of policy "
            f"{policy.name}: expected path, start, end and some of "
            f"{', '.join(policy.categories)}"
        )
    clips = []
    for row in reader:
        where = f"{path} line {reader.line_num}"
        if None in row:  # DictReader keeps the cells past the header under None
            raise ConfigError(
                f"{where}: {len(columns) + len(row[None])} cells, but the header names "
                f"{len(columns)} columns: quote cells that hold a comma"
            )
        row = {k.strip(): (v or "").strip() for k, v in row.items()}
        clips.append(_labelled(row, categories, path.parent, where))
    if not clips:
        raise ConfigError(f"{path} holds no labelled clips")
    return clips


def calibrate(
    labels: str | Path,
    policy: Policy | str | Path | None = None,
    precision: float | None = None,
    recall: float | None = None,
    index: str | Path | None = None,
    profile: str | Path | Profile | None = None,
) -> Calibration:
    """Pick each calibratable signal's threshold for a target ``precision`` or ``recall``."""
    if (precision is None) == (recall is None):
        raise ConfigError("give exactly one target: precision or recall")
    metric, target = ("precision", precision) if precision is not None else ("recall", recall)
    if not 0 < target <= 1:
        raise ConfigError(f"target {metric} must be in (0, 1], got {target}")
    policy = policy if isinstance(policy, Policy) else load_policy(policy)
    clips = read_labels(Path(labels), policy)
    with scanning(policy, index, profile) as scanner:
        scores = _scores(scanner, clips)
        status = dict(scanner.status)
        heads = scanner.heads
    results = []
    for category, signal in policy.signals():
        name = f"{category}/{signal.key}"
        note = None if status[name] == "ran" else status[name]
        if note is None and signal.type == "wordlist":
            note = "not calibrated: a word list fires on any listed word"
        if note is None and not any(category in clip.labels for clip in clips):
            note = f"not calibrated: no clip is labelled for {category}"
        result = None
        if note is None:
            labelled = [
                (clip, s) for clip, s in zip(clips, scores, strict=True) if category in clip.labels
            ]
            result = pick_threshold(
                [_score(s, category, signal.key) for _, s in labelled],
                [clip.labels[category] for clip, _ in labelled],
                target,
                metric,
            )
        results.append(
            SignalCalibration(category, signal.key, signal.type, signal.threshold, result, note)
        )
    calibrated = _with_thresholds(policy, results)
    combined = {
        category: _combined(calibrated, category, clips, scores)
        for category in policy.categories
        if any(category in clip.labels for clip in clips)
    }
    corpus = corpus_rates(calibrated, heads) if heads is not None else {}
    return Calibration(metric, target, len(clips), results, combined, calibrated, corpus)


def corpus_rates(policy: Policy, heads: Heads) -> dict[str, list[Threshold]]:
    """Held-out precision and recall of each classifier signal on the shipped corpus, at its
    threshold and (when set) its strong score."""
    corpus = read_corpus()
    if len(corpus) != len(heads.held_out):
        raise ConfigError(
            f"the heads of {heads.encoder} hold {len(heads.held_out)} held-out scores but the "
            f"corpus has {len(corpus)} sentences: retrain them (python -m "
            f"mmretrieval.moderation.heads, or delete the cached heads)"
        )
    rates = {}
    for category, signal in policy.signals():
        if not isinstance(signal, ClassifierSignal):
            continue
        head = signal.head or category
        scores = heads.held_out[:, heads.column(head)]
        labels = [head in s.categories for s in corpus]
        limits = [signal.threshold] + ([signal.strong] if signal.strong is not None else [])
        rates[f"{category}/{signal.key}"] = [_counts(list(scores), labels, t) for t in limits]
    return rates


def write_policy(calibration: Calibration, out: Path, labels: Path) -> Path:
    """Write the calibrated policy as YAML, with a header saying how it was calibrated."""
    if calibration.policy is None:
        raise ConfigError("this calibration holds no policy to write")
    data = calibration.policy.model_dump(mode="json", exclude_none=True, exclude={"name"})
    for category in data["categories"].values():  # each signal reads best type first
        category["signals"] = [{"type": s.pop("type"), **s} for s in category["signals"]]
    header = (
        f"# Calibrated by `mmr moderate calibrate` on {datetime.date.today()} from {labels}\n"
        f"# ({calibration.clips} labelled clips, target {calibration.metric} "
        f"{calibration.target:g}), from policy {calibration.policy.name}.\n"
        "# The format is documented in configs/moderation.yaml.\n"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    load_policy(out)  # what was written reads back as a valid policy
    return out


def _labelled(row: dict, categories: list[str], folder: Path, where: str) -> LabelledClip:
    if not row.get("path"):
        raise ConfigError(f"{where}: the path is empty")
    media = Path(row["path"]).expanduser()
    media = media if media.is_absolute() else folder / media
    try:
        start = float(row.get("start") or 0.0)
        end = float(row["end"]) if row.get("end") else None
    except ValueError as exc:
        raise ConfigError(f"{where}: start and end must be seconds or blank: {exc}") from exc
    if start < 0 or (end is not None and end <= start):
        raise ConfigError(f"{where}: expected 0 <= start < end, found start {start}, end {end}")
    labels = {}
    for category in categories:
        value = row.get(category, "").lower()
        if value in TRUE or value in FALSE:
            labels[category] = value in TRUE
        elif value:
            raise ConfigError(
                f"{where}: {category} is {row[category]!r}: expected 1 or 0 (yes/no, true/false) "
                f"or blank for not labelled"
            )
    return LabelledClip(media, start, math.inf if end is None else end, labels)


def _scores(scanner, clips: list[LabelledClip]) -> list[ClipScores]:
    """Each labelled clip scored as its own window, one scan per file."""
    by_file: dict[Path, list[int]] = {}
    for i, clip in enumerate(clips):
        by_file.setdefault(clip.path, []).append(i)
    scores: list[ClipScores | None] = [None] * len(clips)
    for media, positions in by_file.items():
        try:
            scan = scanner.scan_file(media, [Span.of(clips[i]) for i in positions])
        except MediaError as exc:
            raise MediaError(f"labelled file {media} cannot be scanned: {exc}") from exc
        for i, clip_scores in zip(positions, scan.clips, strict=True):
            scores[i] = clip_scores
    return scores


def _score(scores: ClipScores, category: str, key: str) -> float | None:
    evidence = scores.scores.get((category, key))
    return None if evidence is None else evidence.score


def _counts(scores: Sequence[float | None], labels: Sequence[bool], t: float) -> Threshold:
    return _rates([s is not None and s >= t for s in scores], labels, t)


def _rates(predicted: Sequence[bool], labels: Sequence[bool], t: float | None) -> Threshold:
    tp = sum(p and y for p, y in zip(predicted, labels, strict=True))
    fp = sum(p and not y for p, y in zip(predicted, labels, strict=True))
    fn = sum(labels) - tp
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    return Threshold(t, precision, recall, tp, fp, fn)


def _unpicked(best: Threshold, reason: str) -> Threshold:
    return Threshold(
        None,
        best.precision,
        best.recall,
        best.tp,
        best.fp,
        best.fn,
        f"{reason}: the best is precision {best.precision:.3f}, recall {best.recall:.3f} at "
        f"threshold {best.threshold:g}; the threshold is left as it was",
    )


def _with_thresholds(policy: Policy, results: list[SignalCalibration]) -> Policy:
    data = policy.model_dump(mode="json", exclude_none=True)
    for result in results:
        signals = data["categories"][result.category]["signals"]
        position = [s.key for s in policy.categories[result.category].signals].index(result.signal)
        signals[position]["threshold"] = result.after
    return Policy.model_validate(data)


def _combined(
    policy: Policy, category: str, clips: list[LabelledClip], scores: list[ClipScores]
) -> Threshold:
    """Precision and recall of the category (flagged by its rule) at the policy's thresholds."""
    labelled = [(clip, s) for clip, s in zip(clips, scores, strict=True) if category in clip.labels]
    fired = [bool(fired_signals(s.scores, category, policy)) for _, s in labelled]
    return _rates(fired, [clip.labels[category] for clip, _ in labelled], None)


def _threshold_dict(result: Threshold) -> dict:
    return {
        "precision": result.precision,
        "recall": result.recall,
        "tp": result.tp,
        "fp": result.fp,
        "fn": result.fn,
    }
