"""Dataset manifests: which media file (or span of one) each set of reference captions describes.

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

Items whose media cannot be found under the media root are listed, not fatal, unless none can.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from mmretrieval.errors import ConfigError, MediaError
from mmretrieval.media.probe import AUDIO_SUFFIXES, MEDIA_SUFFIXES, VIDEO_SUFFIXES, probe
from mmretrieval.spans import HasTime, Span

log = logging.getLogger(__name__)

FORMATS = ("msrvtt", "msrvtt-json", "audiocaps", "clotho", "vatex", "jsonl")
AUDIOCAPS_CLIP_SECONDS = 10.0
AUDIOCAPS_CLIP_TOLERANCE = 0.5  # a file this much longer than a clip is the full source video


@dataclass(frozen=True)
class EvalItem:
    """One retrieval target: a media file (or [start, end) of it) and its reference captions."""

    id: str
    media: Path
    captions: tuple[str, ...]
    span: Span | None = None  # None: the whole file; an end the manifest left open is inf

    def matches(self, hit: HasTime) -> bool:
        """Whether a hit on this item's file lands on the item (overlaps its span, if any)."""
        return self.span is None or self.span.overlaps(hit)


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
        span = None
        if _duration(media) > AUDIOCAPS_CLIP_SECONDS + AUDIOCAPS_CLIP_TOLERANCE:
            span = Span(start, start + AUDIOCAPS_CLIP_SECONDS)  # the full source video
        items.append(EvalItem(youtube_id, media, _captions(captions), span))
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
            span = Span(float(parsed["start"]), float(parsed["end"]))
            items.append(EvalItem(video_id, media, captions, span))
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
        try:
            span = None
            if (start, end) != (None, None):
                span = Span(float(start or 0.0), math.inf if end is None else float(end))
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"{path} line {number}: expected start <= end in seconds, got {start}-{end}"
            ) from exc
        items.append(EvalItem(item_id, media, _captions(entry.get("captions") or []), span))
    return items, missing


_READERS = {
    "msrvtt": _read_msrvtt,
    "msrvtt-json": _read_msrvtt_json,
    "audiocaps": _read_audiocaps,
    "clotho": _read_clotho,
    "vatex": _read_vatex,
    "jsonl": _read_jsonl,
}
