"""Retrieval quality on dataset manifests: R@1, R@5, R@10, median and mean rank, and mAP.

Manifests (``read_manifest``; the format is detected from the file name and its columns):

- ``msrvtt``: ``MSRVTT_JSFUSION_test.csv`` (key,vid_key,video_id,sentence), the 1k-A test split
  as distributed: one caption per video.
- ``msrvtt-json``: ``MSRVTT_data.json`` ({"videos": [...], "sentences": [{"video_id",
  "caption"}]}), restricted to the videos present under the media root (so the full file can
  evaluate whichever split was downloaded); its 20 captions per video are all queries.
- ``audiocaps``: csv audiocap_id,youtube_id,start_time,caption; the rows of one youtube_id are
  one item. Media: ``<youtube_id>.<any supported suffix>`` (or ``Y<youtube_id>.*``) under the
  root. Assumption: a file of at most 10.5 s *is* the 10-second AudioCaps clip (no span); a
  longer file is the full source video and the item is [start_time, start_time + 10).
- ``clotho``: captions csv file_name,caption_1..caption_5; media by file name under the root.
- ``vatex``: json list of {"videoID", "enCap": [...]}. A videoID ``<youtube id>_<start>_<end>``
  names a clip file (no span) or, when only ``<youtube id>.*`` exists, that span of the source.
- ``jsonl``: one ``{"media": path, "captions": [...], "start": s, "end": e, "id": ..}`` a line;
  start, end and id optional, a relative media path is under the root.

Protocols (``evaluate``). Every item is ranked (hits are asked for as many spans as the index
holds; items the search does not return rank after every returned one) and ties are broken
pessimistically (the correct target goes after every other target with the same score). A hit
counts for an item when it is on the item's file (matched by resolved path) and, for an item
with a span, overlaps [start, end). An item's score for a query is its best hit's fused score.

- t2v, t2a (text -> media): every caption is a query; its rank is the position of its own item
  among the items with a video stream (t2v, searching every space) or with an audio track (t2a,
  searching the spaces sound reaches: clap, and speech through text and lexical). One relevant
  target, so AP = 1 / rank.
- v2t, a2t (media -> text): as CLIP4Clip and the CLAP/AudioCaps/Clotho evaluations do, from the
  same text -> media similarity matrix transposed (S[caption, item] = fused score of the item
  for the caption): each item ranks all captions of the pool; its rank is that of its first
  correct caption; AP counts every caption of the item as a relevant target.
- a2v, v2a ("same-clip" protocol, items with both audio and video): the query is the item's own
  audio track (``Library.search(audio=media, start, end)``, a2v) or its own video
  (``Library.search(video=...)``, which pools frames, sound, speech and screen text, v2a); the
  target is the item itself among the items with video (a2v) or with audio (v2a). a2v searches
  the spaces pictures live in plus speech (clip, text, lexical; not clap, so the track cannot
  simply find its own stored sound vector); v2a searches clap, text and lexical. The query
  shares its speech (and, for v2a, its soundtrack) with the target, so these numbers check
  the index's cross-modal consistency; they are not comparable with published audio-visual
  retrieval results.

R@K and mAP are percentages; MedR and MeanR are 1-based ranks. A direction the items or the
profile cannot serve (no item with a video stream; no model linking words or pictures to sound)
is reported as ``{"skipped": reason}``; with the offline profile (no CLAP, no CLIP) sound
directions run through speech recognition.
"""

from __future__ import annotations

import csv
import json
import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mmretrieval import channels
from mmretrieval.config import Profile
from mmretrieval.errors import ConfigError, MediaError, MMRError
from mmretrieval.library import Library
from mmretrieval.media.probe import AUDIO_SUFFIXES, MEDIA_SUFFIXES, VIDEO_SUFFIXES, probe
from mmretrieval.search import Hit

log = logging.getLogger(__name__)

DIRECTIONS = ("t2v", "v2t", "t2a", "a2t", "a2v", "v2a")
FORMATS = ("msrvtt", "msrvtt-json", "audiocaps", "clotho", "vatex", "jsonl")
AUDIOCAPS_CLIP_SECONDS = 10.0
AUDIOCAPS_CLIP_TOLERANCE = 0.5  # a file this much longer than a clip is the full source video
RECALL_AT = (1, 5, 10)

SOUND_SPACES = (channels.CLAP_SPACE, channels.TEXT_SPACE, channels.LEXICAL)
PICTURE_SPACES = (channels.CLIP_SPACE, channels.TEXT_SPACE, channels.LEXICAL)

Progress = Callable[[str, int, int], None]  # (stage: "index" or a direction, done, total)


# -- items and manifests -------------------------------------------------------------------------


@dataclass(frozen=True)
class EvalItem:
    """One retrieval target: a media file (or [start, end) of it) and its reference captions."""

    id: str
    media: Path
    captions: tuple[str, ...]
    start: float | None = None
    end: float | None = None

    def overlaps(self, start: float, end: float) -> bool:
        """Whether a hit over [start, end) of this item's file lands on the item."""
        lo = 0.0 if self.start is None else self.start
        hi = float("inf") if self.end is None else self.end
        return start < hi and end > lo


@dataclass(frozen=True)
class Manifest(Sequence[EvalItem]):
    """The items of a manifest whose media exist, and the ids of those whose media do not."""

    items: tuple[EvalItem, ...]
    missing: tuple[str, ...] = ()
    format: str = ""

    def __getitem__(self, index):
        return self.items[index]

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[EvalItem]:
        return iter(self.items)


def read_manifest(path: str | Path, media_root: str | Path, format: str = "auto") -> Manifest:
    """The items of a dataset manifest (see the module docstring for the formats).

    Items whose media cannot be found under ``media_root`` are listed in ``Manifest.missing``;
    it is an error only when none can be found.
    """
    path, root = Path(path), Path(media_root)
    if not path.is_file():
        raise ConfigError(f"manifest {path} does not exist")
    if not root.is_dir():
        raise ConfigError(f"media root {root} is not a folder")
    name = detect_format(path) if format == "auto" else format
    if name not in _READERS:
        raise ConfigError(
            f"unknown manifest format {name!r}: expected auto or {', '.join(FORMATS)}"
        )
    items, missing = _READERS[name](path, _MediaFinder(root))
    if not items:
        raise ConfigError(
            f"none of the {len(missing)} items of {path} ({name}) has its media under {root}"
            + (f" (e.g. {missing[0]!r})" if missing else "")
            + ": check --media-root"
        )
    if missing:
        log.info(
            "%d of %d items have no media under %s", len(missing), len(items) + len(missing), root
        )
    return Manifest(tuple(items), tuple(missing), name)


def detect_format(path: str | Path) -> str:
    """The manifest format, from the suffix and the csv columns or json keys."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return "jsonl"
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            columns = {c.strip() for c in next(csv.reader(handle), [])}
        for format, needed in _CSV_COLUMNS.items():
            if needed <= columns:
                return format
        expected = "; ".join(f"{f}: {', '.join(sorted(c))}" for f, c in _CSV_COLUMNS.items())
        raise ConfigError(
            f"cannot tell the format of {path} from its columns {', '.join(sorted(columns))}: "
            f"expected {expected}, or pass the format"
        )
    if suffix == ".json":
        data = _load_json(path)
        if isinstance(data, dict) and {"videos", "sentences"} <= set(data):
            return "msrvtt-json"
        if isinstance(data, list) and data and isinstance(data[0], dict) and "videoID" in data[0]:
            return "vatex"
        raise ConfigError(
            f"cannot tell the format of {path}: expected MSR-VTT's {{'videos', 'sentences'}} or "
            "a VATEX list of {'videoID', 'enCap'}, or pass the format"
        )
    raise ConfigError(
        f"cannot tell the format of {path} from its suffix {suffix or '(none)'}: expected "
        ".csv, .json or .jsonl, or pass the format"
    )


_CSV_COLUMNS = {
    "msrvtt": {"video_id", "sentence"},
    "audiocaps": {"youtube_id", "caption"},
    "clotho": {"file_name", "caption_1"},
}


class _MediaFinder:
    """Media files under a root, found by relative path, file name or stem (any suffix)."""

    def __init__(self, root: Path):
        self.root = root.absolute()
        self.by_name: dict[str, Path] = {}
        self.by_stem: dict[str, list[Path]] = defaultdict(list)
        for path in sorted(self.root.rglob("*")):
            if path.suffix.lower() in MEDIA_SUFFIXES and path.is_file():
                self.by_name.setdefault(path.name, path)
                self.by_stem[path.stem].append(path)

    def stem(self, *stems: str, prefer: frozenset[str] = VIDEO_SUFFIXES) -> Path | None:
        for stem in stems:
            found = self.by_stem.get(stem)
            if found:
                return min(found, key=lambda p: p.suffix.lower() not in prefer)
        return None

    def file(self, name: str) -> Path | None:
        candidate = Path(name)
        if candidate.is_absolute():
            return candidate if candidate.is_file() else None
        if (self.root / candidate).is_file():
            return self.root / candidate
        return self.by_name.get(candidate.name) or self.stem(candidate.stem, prefer=AUDIO_SUFFIXES)


def _captions(values: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c.strip() for c in values if c and c.strip()))


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [{k.strip(): v for k, v in row.items() if k} for row in csv.DictReader(handle)]


def _load_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"manifest {path} is not valid JSON: {exc}") from exc


def _read_msrvtt(path: Path, finder: _MediaFinder) -> tuple[list[EvalItem], list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for row in _csv_rows(path):
        grouped[row["video_id"].strip()].append(row["sentence"])
    return _by_stem(grouped, finder, VIDEO_SUFFIXES)


def _read_msrvtt_json(path: Path, finder: _MediaFinder) -> tuple[list[EvalItem], list[str]]:
    data = _load_json(path)
    grouped: dict[str, list[str]] = {str(v["video_id"]): [] for v in data["videos"]}
    for sentence in data["sentences"]:
        grouped.setdefault(str(sentence["video_id"]), []).append(sentence["caption"])
    present = {i: c for i, c in grouped.items() if finder.stem(i) is not None}
    log.info("MSR-VTT json: %d of %d videos are under the media root", len(present), len(grouped))
    return _by_stem(present, finder, VIDEO_SUFFIXES)[0], []


def _by_stem(
    grouped: dict[str, list[str]], finder: _MediaFinder, prefer: frozenset[str]
) -> tuple[list[EvalItem], list[str]]:
    items, missing = [], []
    for item_id, captions in grouped.items():
        media = finder.stem(item_id, prefer=prefer)
        if media is None:
            missing.append(item_id)
        else:
            items.append(EvalItem(item_id, media, _captions(captions)))
    return items, missing


def _read_audiocaps(path: Path, finder: _MediaFinder) -> tuple[list[EvalItem], list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    starts: dict[str, float] = {}
    for row in _csv_rows(path):
        youtube_id = row["youtube_id"].strip()
        grouped[youtube_id].append(row["caption"])
        starts.setdefault(youtube_id, float(row.get("start_time") or 0.0))
    items, missing = [], []
    for youtube_id, captions in grouped.items():
        start = starts[youtube_id]
        media = finder.stem(
            youtube_id, f"Y{youtube_id}", f"{youtube_id}_{start:g}", prefer=AUDIO_SUFFIXES
        )
        if media is None:
            missing.append(youtube_id)
            continue
        span: tuple[float | None, float | None] = (None, None)
        if _duration(media) > AUDIOCAPS_CLIP_SECONDS + AUDIOCAPS_CLIP_TOLERANCE:
            span = (start, start + AUDIOCAPS_CLIP_SECONDS)  # the full source video
        items.append(EvalItem(youtube_id, media, _captions(captions), *span))
    return items, missing


def _duration(media: Path) -> float:
    try:
        return probe(media).duration
    except MediaError:
        return 0.0  # unreadable: indexing reports why; take it for the clip itself


def _read_clotho(path: Path, finder: _MediaFinder) -> tuple[list[EvalItem], list[str]]:
    items, missing = [], []
    for row in _csv_rows(path):
        name = row["file_name"].strip()
        captions = _captions(v for k, v in sorted(row.items()) if k.startswith("caption"))
        media = finder.file(name)
        if media is None:
            missing.append(name)
        else:
            items.append(EvalItem(name, media, captions))
    return items, missing


_VATEX_ID = re.compile(r"^(?P<youtube>.+)_(?P<start>\d+)_(?P<end>\d+)$")


def _read_vatex(path: Path, finder: _MediaFinder) -> tuple[list[EvalItem], list[str]]:
    data = _load_json(path)
    if not isinstance(data, list):
        raise ConfigError(f"a VATEX manifest is a list of {{'videoID', 'enCap'}}; {path} is not")
    items, missing = [], []
    for entry in data:
        video_id = str(entry["videoID"])
        captions = _captions(entry.get("enCap") or [])
        if (media := finder.stem(video_id)) is not None:
            items.append(EvalItem(video_id, media, captions))
        elif (parsed := _VATEX_ID.match(video_id)) and (
            media := finder.stem(parsed["youtube"])
        ) is not None:
            start, end = float(parsed["start"]), float(parsed["end"])
            items.append(EvalItem(video_id, media, captions, start, end))
        else:
            missing.append(video_id)
    return items, missing


def _read_jsonl(path: Path, finder: _MediaFinder) -> tuple[list[EvalItem], list[str]]:
    items, missing = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            name = str(entry["media"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ConfigError(
                f'{path} line {number}: expected {{"media": path, "captions": [...]}}, '
                f"got {line[:80]!r}"
            ) from exc
        start, end = entry.get("start"), entry.get("end")
        item_id = str(entry.get("id") or (name if start is None else f"{name}#{start}-{end}"))
        media = finder.file(name)
        if media is None:
            missing.append(item_id)
            continue
        span = (None if start is None else float(start), None if end is None else float(end))
        items.append(EvalItem(item_id, media, _captions(entry.get("captions") or []), *span))
    return items, missing


_READERS = {
    "msrvtt": _read_msrvtt,
    "msrvtt-json": _read_msrvtt_json,
    "audiocaps": _read_audiocaps,
    "clotho": _read_clotho,
    "vatex": _read_vatex,
    "jsonl": _read_jsonl,
}


# -- metrics -------------------------------------------------------------------------------------


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


# -- evaluation ----------------------------------------------------------------------------------


def parse_directions(directions: str | Iterable[str] | None) -> tuple[str, ...]:
    """Directions from "t2v,v2t" or a list; None means all of them."""
    if directions is None:
        return DIRECTIONS
    names = directions.split(",") if isinstance(directions, str) else list(directions)
    names = [n.strip().lower() for n in names if n.strip()]
    unknown = [n for n in names if n not in DIRECTIONS]
    if unknown or not names:
        raise ConfigError(
            f"unknown direction(s) {', '.join(unknown) or '(none given)'}: expected some of "
            f"{','.join(DIRECTIONS)}"
        )
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class _Streams:
    video: bool
    audio: bool


class _Matcher:
    """Maps hits to the items of a pool: same file (resolved path) and overlapping span."""

    def __init__(self, pool: Sequence[EvalItem]):
        self.size = len(pool)
        self.by_file: dict[Path, list[tuple[int, EvalItem]]] = defaultdict(list)
        for index, item in enumerate(pool):
            self.by_file[item.media.resolve()].append((index, item))
        self._resolved: dict[str, Path] = {}

    def scores(self, hits: Sequence[Hit]) -> np.ndarray:
        """Each pool item's best hit score, -inf where no hit landed on it."""
        best = np.full(self.size, -np.inf)
        for hit in hits:
            path = self._resolved.get(hit.path)
            if path is None:
                path = self._resolved[hit.path] = Path(hit.path).resolve()
            for index, item in self.by_file.get(path, ()):
                if item.overlaps(hit.start, hit.end):
                    best[index] = max(best[index], hit.score)
        return best


def evaluate(
    library: Library,
    items: Sequence[EvalItem],
    directions: str | Iterable[str] | None = None,
    progress: Progress | None = None,
) -> dict[str, dict]:
    """Index the items' media that the library lacks, then score each direction.

    Returns direction -> metrics (R@1, R@5, R@10, MedR, MeanR, mAP, queries, targets) or
    ``{"skipped": reason}``. Items whose media cannot be indexed are left out (logged).
    """
    wanted = parse_directions(directions)
    items = [_absolute(item) for item in items]
    if not items:
        raise ConfigError("nothing to evaluate: the manifest gave no items")
    files = list(dict.fromkeys(item.media for item in items))
    report = library.add([], files=files)
    failed = {Path(o.path) for o in report.failures}
    streams: dict[Path, _Streams] = {}
    for path in files:
        if path in failed:
            continue
        try:
            info = probe(path)
        except MediaError:
            continue
        streams[path] = _Streams(info.has_video, info.has_audio)
    usable = [item for item in items if item.media in streams]
    if len(usable) < len(items):
        log.warning("%d items left out: their media could not be indexed", len(items) - len(usable))
    if not usable:
        raise MMRError("no item's media could be indexed: see `mmr info` for the reasons")

    k = max(1, library.stats()["clips"])
    if library.profile.search.candidates < k:
        log.warning(
            "search.candidates (%d) is below the index's %d clips: items the search does not "
            "return rank last (run_eval raises it for the evaluation)",
            library.profile.search.candidates,
            k,
        )
    video = [i for i in usable if streams[i.media].video]
    audio = [i for i in usable if streams[i.media].audio]
    both = [i for i in video if streams[i.media].audio]
    adapters = library.profile.adapters
    speech, clip, clap = (getattr(adapters, n) is not None for n in ("speech", "clip", "clap"))
    profile = library.profile.name

    results: dict[str, dict] = {}
    for forward, backward, pool, spaces, kind in (
        ("t2v", "v2t", video, None, "a video stream"),
        ("t2a", "a2t", audio, SOUND_SPACES, "an audio track"),
    ):
        if forward not in wanted and backward not in wanted:
            continue
        reason = None
        if not pool:
            reason = f"no item has {kind}"
        elif not any(i.captions for i in pool):
            reason = "no item has a caption"
        elif forward == "t2a" and not (speech or clap):
            reason = f"profile {profile} has neither a clap model nor speech recognition"
        if reason is not None:
            results.update({d: {"skipped": reason} for d in (forward, backward) if d in wanted})
            continue
        label = forward if forward in wanted else backward
        scores, owners = _text_scores(library, pool, spaces, k, label, progress)
        t2m, m2t = matrix_metrics(scores, owners)
        results.update({d: m for d, m in ((forward, t2m), (backward, m2t)) if d in wanted})

    for direction, kind, targets, spaces, able in (
        ("a2v", "audio", video, PICTURE_SPACES, speech or (clip and clap)),
        ("v2a", "video", audio, SOUND_SPACES, speech or clap),
    ):
        if direction not in wanted:
            continue
        if not both:
            results[direction] = {"skipped": "no item has both an audio track and a video stream"}
        elif not able:
            results[direction] = {
                "skipped": f"profile {profile} has no speech recognition and no model linking "
                + (
                    "sound to pictures (clap with clip)"
                    if kind == "audio"
                    else "pictures to sound (clap)"
                )
            }
        else:
            results[direction] = _same_clip(
                library, both, targets, kind, spaces, k, direction, progress
            )
    return {d: results[d] for d in wanted if d in results}


def _absolute(item: EvalItem) -> EvalItem:
    if item.media.is_absolute():
        return item
    return EvalItem(item.id, item.media.absolute(), item.captions, item.start, item.end)


def _text_scores(
    library: Library,
    pool: Sequence[EvalItem],
    spaces: Sequence[str] | None,
    k: int,
    label: str,
    progress: Progress | None,
) -> tuple[np.ndarray, np.ndarray]:
    """S[caption, item]: every pool caption searched, every pool item scored."""
    matcher = _Matcher(pool)
    queries = [(j, caption) for j, item in enumerate(pool) for caption in item.captions]
    scores = np.full((len(queries), len(pool)), -np.inf)
    for q, (_j, caption) in enumerate(queries):
        hits = library.search(text=caption, k=k, spaces=spaces)
        scores[q] = matcher.scores(hits)
        if progress:
            progress(label, q + 1, len(queries))
    return scores, np.asarray([j for j, _c in queries], dtype=np.int64)


def _same_clip(
    library: Library,
    queries: Sequence[EvalItem],
    targets: Sequence[EvalItem],
    kind: str,
    spaces: Sequence[str],
    k: int,
    label: str,
    progress: Progress | None,
) -> dict:
    """Each item's own audio (or video) as the query, the item itself as the one target."""
    matcher = _Matcher(targets)
    position = {id(item): index for index, item in enumerate(targets)}
    ranked, unanswered = [], 0
    for done, item in enumerate(queries, start=1):
        try:
            hits = library.search(
                **{kind: item.media},
                start=item.start or 0.0,
                end=item.end,
                k=k,
                spaces=spaces,
            )
        except MMRError as exc:  # e.g. nothing recognisable in the query: it finds nothing
            log.info("%s query %s found nothing: %s", label, item.id, exc)
            hits, unanswered = [], unanswered + 1
        relevant = np.arange(len(targets)) == position[id(item)]
        ranked.append(ranked_relevance(matcher.scores(hits), relevant))
        if progress:
            progress(label, done, len(queries))
    return {
        **rank_metrics([first_rank(r) for r in ranked]),
        "mAP": mean_average_precision(ranked),
        "queries": len(queries),
        "targets": len(targets),
        "unanswered": unanswered,
    }


# -- end to end ----------------------------------------------------------------------------------


@dataclass
class EvalReport:
    manifest: str
    format: str
    index: str
    profile: str
    items: int
    missing: list[str] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)
    results: dict[str, dict] = field(default_factory=dict)
    wall_seconds: float = 0.0

    def to_dict(self) -> dict:
        return {
            "manifest": self.manifest,
            "format": self.format,
            "index": self.index,
            "profile": self.profile,
            "items": self.items,
            "missing": self.missing,
            "failures": self.failures,
            "results": {d: _rounded(m) for d, m in self.results.items()},
            "wall_seconds": round(self.wall_seconds, 3),
        }


def run_eval(
    manifest: str | Path,
    media_root: str | Path,
    index_dir: str | Path,
    profile: str | Path | Profile | None = None,
    directions: str | Iterable[str] | None = None,
    format: str = "auto",
    progress: Progress | None = None,
) -> EvalReport:
    """Read a manifest, index its media into ``index_dir`` (reusing what is there), evaluate.

    The evaluation searches with ``search.candidates`` raised to the index's clip count, so
    every item is ranked; the index keeps the profile it was created with.
    """
    started = time.perf_counter()
    wanted = parse_directions(directions)
    found = read_manifest(manifest, media_root, format)
    files = list(dict.fromkeys(i.media for i in found))
    indexed = iter(range(1, len(files) + 1))

    def on_file(_outcome) -> None:
        if progress:
            progress("index", next(indexed), len(files))

    with Library(index_dir, profile=profile) as library:
        report = library.add([], files=files, on_file=on_file)
        clips = library.stats()["clips"]
        base = library.profile
    with _ranking_library(index_dir, base, clips) as library:
        results = evaluate(library, found, wanted, progress)
    return EvalReport(
        manifest=str(manifest),
        format=found.format,
        index=str(index_dir),
        profile=base.name,
        items=len(found),
        missing=list(found.missing),
        failures=[{"path": o.path, "error": o.error} for o in report.failures],
        results=results,
        wall_seconds=time.perf_counter() - started,
    )


@contextmanager
def _ranking_library(index_dir: str | Path, profile: Profile, clips: int) -> Iterator[Library]:
    """The index opened with enough search candidates to rank all of its clips."""
    if profile.search.candidates < clips:
        search = profile.search.model_copy(update={"candidates": clips})
        profile = profile.model_copy(update={"search": search})
    with Library(index_dir, profile=profile) as library:
        yield library


def _rounded(metrics: dict) -> dict:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()}
