"""Search filters (``ClipFilter``) and the per-file metadata they filter on.

A filter restricts a search to clips of the files that meet every condition it sets. All of
its conditions but one are about the *file* a clip comes from, because that is what an
archivist means by "clips under 5 minutes" or "footage from March 2019": the 10-second windows
we cut files into have no date, tags or length of their own. The exception is the spoken
language, which changes within a file (an interview in German inside a French package).

- ``paths``: globs, any of which the file's path matches (see ``path_matches``).
- ``date_from`` / ``date_to``: inclusive days. A file's date is the ``date`` of its metadata
  sidecar, else the day (local time) its file was last modified when it was indexed.
- ``min_duration`` / ``max_duration``: inclusive bounds on the file's length in seconds.
- ``tags``: the file has every one of them; ``any_tags``: it has at least one of them. Tags
  compare case-insensitively.
- ``languages``: ISO 639-1 codes (``de``, ``fr``), any of which the *clip's* speech is in, as
  the index recorded it; a clip of unknown language (no speech, or an index made before
  languages were detected) does not pass.

Metadata comes from sidecars, read at ingest and stored in the catalog:

- ``clip.mp4.json`` or ``clip.json`` beside ``clip.mp4``: a JSON object, e.g.
  ``{"date": "2019-03-02", "tags": ["flood", "interview"], "reporter": "A. Name"}``;
- a ``metadata.csv`` in the file's folder or any folder above it, with a header row and a
  ``path`` column (relative to the CSV's folder, or absolute), optionally ``date`` and ``tags``
  (separated by ``;`` or ``,``); other columns are kept as fields. The nearest CSV listing the
  file counts; where both exist, the JSON's keys override the CSV row's.

A sidecar counts as part of its file: changing it re-indexes the file, as a new subtitle file
does. An unreadable JSON sidecar, a malformed date or tags that are not strings fail the file
with the reason, rather than indexing it without the metadata a filter would then silently
miss; a ``metadata.csv`` that cannot be read, or has no ``path`` column, is logged and ignored
(it describes many files, and lists none of them).
"""

from __future__ import annotations

import csv
import functools
import json
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from mmretrieval.errors import ConfigError, MediaError

log = logging.getLogger(__name__)

CSV_NAME = "metadata.csv"
_TAG_SEPARATORS = re.compile(r"[;,]")
_LANGUAGE_CODE = re.compile(r"[a-z]{2}")


@dataclass(frozen=True)
class ClipFilter:
    """Which clips a search may return: every condition set must hold, on the clip's file
    (and its spoken language, see the module docstring). Dates may be given as ``date``
    objects or ISO strings (``2019-03-02``)."""

    paths: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    min_duration: float | None = None
    max_duration: float | None = None
    tags: tuple[str, ...] = ()
    any_tags: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("date_from", "date_to"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, parse_date(value, name))
        for name in ("tags", "any_tags"):
            object.__setattr__(self, name, normalise_tags(_as_tuple(getattr(self, name))))
        object.__setattr__(self, "paths", _as_tuple(self.paths))
        object.__setattr__(self, "languages", normalise_languages(_as_tuple(self.languages)))
        if any(not p.strip() for p in self.paths):
            raise ConfigError("a path filter is empty: give a glob such as '*.mp4' or 'news/**'")
        for pattern in self.paths:
            _compile_glob(pattern)  # refuses a malformed one now, not inside the catalog's query
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ConfigError(
                f"date_from {self.date_from} is after date_to {self.date_to}: swap them"
            )
        for name in ("min_duration", "max_duration"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ConfigError(f"{name} must be at least 0 seconds, got {value}")
        low, high = self.min_duration, self.max_duration
        if low is not None and high is not None and low > high:
            raise ConfigError(f"min_duration {low} is above max_duration {high}: swap them")

    @classmethod
    def from_options(
        cls,
        paths: Iterable[str] | None = None,
        after: date | str | None = None,
        before: date | str | None = None,
        min_duration: float | None = None,
        max_duration: float | None = None,
        tags: Iterable[str] | None = None,
        any_tags: Iterable[str] | None = None,
        languages: Iterable[str] | None = None,
    ) -> ClipFilter | None:
        """The filter ``mmr search`` and the HTTP API build from their options (repeatable ones
        may be None), or None when no option is set. One builder, so both surfaces name the
        same conditions and refuse bad values with the same messages."""
        clip_filter = cls(
            paths=tuple(paths or ()),
            date_from=after,
            date_to=before,
            min_duration=min_duration,
            max_duration=max_duration,
            tags=tuple(tags or ()),
            any_tags=tuple(any_tags or ()),
            languages=tuple(languages or ()),
        )
        return clip_filter or None

    def __bool__(self) -> bool:
        """False when no condition is set (the filter lets everything through)."""
        return any(
            value not in (None, ())
            for value in (
                self.paths,
                self.date_from,
                self.date_to,
                self.min_duration,
                self.max_duration,
                self.tags,
                self.any_tags,
                self.languages,
            )
        )


def parse_date(value: date | str, what: str = "date") -> date:
    """An ISO day (``2019-03-02``) or date-time (``2019-03-02T10:15:00``, its day counts)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        raise ConfigError(
            f"{what} {text!r} is not an ISO date: expected YYYY-MM-DD (or an ISO date-time)"
        ) from None


def normalise_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Lower-case, stripped, unique tags in their first order; empty ones dropped."""
    return tuple(dict.fromkeys(t.strip().lower() for t in tags if t and t.strip()))


def normalise_languages(codes: Iterable[str]) -> tuple[str, ...]:
    """Lower-case ISO 639-1 codes, unique, in their first order; anything else is refused."""
    found = tuple(dict.fromkeys(c.strip().lower() for c in codes))
    for code in found:
        if not _LANGUAGE_CODE.fullmatch(code):
            raise ConfigError(
                f"language {code!r} is not an ISO 639-1 code: give two letters such as de, fr"
            )
    return found


def _as_tuple(value: str | Iterable[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


# -- path globs ---------------------------------------------------------------------------------


def path_matches(pattern: str, path: str) -> bool:
    """Whether ``path`` matches the glob ``pattern``.

    ``*`` and ``?`` stay within one folder level, ``**`` spans any number of them, ``[abc]`` is
    a character class. A pattern without ``/`` matches the file name (``*.mp4``); an absolute
    one the whole path; a relative one the end of the path at a folder boundary
    (``news/2019/*.mp4`` matches ``/archive/news/2019/a.mp4``). A pattern ending in ``/`` means
    everything under that folder.
    """
    return _compile_glob(pattern).matches(path)


# Python's regex engine backtracks: a glob's time grows exponentially with its wildcards
# (``*?*?*?*?*?*?q`` or ``**`` x 40 stall a search for minutes, and filters come over HTTP).
# Up to this many the regex runs (polynomial, and fastest); above, ``_Glob``'s automaton.
MAX_REGEX_WILDCARDS = 2
_SEGMENT, _ANY, _FOLDERS = "[^/]*", ".*", "(?:.*/)?"  # the wildcards: *, **, **/


class _Glob:
    """A compiled glob: ``parts`` are regex pieces, one per wildcard or character."""

    def __init__(self, parts: list[str], anchored: bool):
        self.parts, self.anchored = parts, anchored
        prefix = "^" if anchored else r"(?:^|/)"  # else: from any folder boundary
        self.regex = re.compile(prefix + "".join(parts) + "$")
        wildcards = [p in (_SEGMENT, _ANY, _FOLDERS) for p in parts]
        self.use_regex = sum(wildcards) <= MAX_REGEX_WILDCARDS
        self.skip = sum(1 << j for j, w in enumerate(wildcards) if w)  # may match nothing
        self.folders = sum(1 << j for j, p in enumerate(parts) if p == _FOLDERS)
        self._steps: dict[str, tuple[int, int]] = {}

    def matches(self, path: str) -> bool:
        if self.use_regex:
            return self.regex.search(path) is not None
        # Bit j of ``states``: parts[:j] match the path so far. One pass, whatever the pattern.
        states = self._close(1)
        for char in path:
            advance, loop = self._step(char)
            looped = states & loop
            arrived = (states & advance) << 1
            if char == "/" and not self.anchored:
                arrived |= 1
            # inside ``**/`` having taken characters, it may end only at a "/": no skipping
            states = self._close(arrived | (looped & ~self.folders)) | looped
        return bool(states >> len(self.parts) & 1)

    def _close(self, states: int) -> int:
        """``states`` and those reached from them by wildcards matching nothing."""
        while (more := states | (states & self.skip) << 1) != states:
            states = more
        return states

    def _step(self, char: str) -> tuple[int, int]:
        """(parts that ``char`` completes, wildcards that take ``char`` and go on)."""
        if char not in self._steps:
            advance = loop = 0
            for j, part in enumerate(self.parts):
                if part in (_ANY, _FOLDERS) or (part == _SEGMENT and char != "/"):
                    loop |= 1 << j
                if (part == _FOLDERS and char == "/") or (
                    part not in (_SEGMENT, _ANY, _FOLDERS) and re.fullmatch(part, char)
                ):
                    advance |= 1 << j
            self._steps[char] = advance, loop
        return self._steps[char]


@functools.lru_cache(maxsize=256)
def _compile_glob(pattern: str) -> _Glob:
    """The glob, or ``ConfigError`` when its character class is not one (``[z-a]``)."""
    text = pattern.strip()
    if text.endswith("/"):
        text += "**"
    while text.startswith("./"):
        text = text[2:]
    parts, i = [], 0
    while i < len(text):
        c = text[i]
        if text.startswith("**/", i):
            parts.append(_FOLDERS)
            i += 3
            continue
        if text.startswith("**", i):
            parts.append(_ANY)
            i += 2
            continue
        if c == "*":
            parts.append(_SEGMENT)
        elif c == "?":
            parts.append("[^/]")
        elif c == "[" and (end := text.find("]", i + 2)) != -1:
            body = text[i + 1 : end]
            negate = body.startswith("!")
            body = re.escape(body[1:] if negate else body).replace(r"\-", "-")
            parts.append(f"[{'^' if negate else ''}{body}]")
            i = end + 1
            continue
        else:
            parts.append(re.escape(c))
        i += 1
    try:
        return _Glob(parts, anchored=text.startswith("/"))
    except re.error as exc:
        raise ConfigError(
            f"path filter {pattern!r} is not a glob ({exc.msg}): write a class as [abc], [a-z] "
            f"or [!a-z]"
        ) from None


# -- sidecar metadata ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FileMetadata:
    """What a file's sidecars say about it, as stored in the catalog."""

    date: str  # ISO day: the sidecar's date, else the file's modification day
    tags: tuple[str, ...] = ()
    fields: dict = field(default_factory=dict)  # every sidecar field as read (JSON values)

    def fields_json(self) -> str | None:
        return json.dumps(self.fields, sort_keys=True, ensure_ascii=False) if self.fields else None


def metadata_sidecars(media: Path) -> list[Path]:
    """The sidecar files that describe ``media`` (for the quick change check)."""
    return [p for p in (_json_sidecar(media), _csv_listing(media)) if p is not None]


def metadata_bytes(media: Path) -> bytes:
    """What of the sidecars belongs to ``media``, as bytes for its content hash: the JSON file
    and its own CSV row (so editing another file's row does not re-index this one)."""
    parts = []
    if (sidecar := _json_sidecar(media)) is not None:
        parts.append(sidecar.read_bytes())
    if (listing := _csv_listing(media)) is not None:
        parts.append(json.dumps(_csv_row(listing, media), sort_keys=True).encode())
    return b"\0".join(parts)


def read_metadata(media: Path) -> FileMetadata:
    """The file's metadata from its sidecars; raises ``MediaError`` naming a malformed one."""
    fields: dict = {}
    sources = []
    if (listing := _csv_listing(media)) is not None:
        fields.update(_csv_row(listing, media))
        sources.append(listing)
    if (sidecar := _json_sidecar(media)) is not None:
        try:
            loaded = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MediaError(f"metadata sidecar {sidecar} is not readable JSON: {exc}") from exc
        if not isinstance(loaded, dict):
            raise MediaError(
                f"metadata sidecar {sidecar} must hold a JSON object, found a "
                f"{type(loaded).__name__}"
            )
        fields.update(loaded)
        sources.append(sidecar)
    where = " and ".join(str(s) for s in sources)
    tags = fields.get("tags") or ()
    if isinstance(tags, str):
        tags = _TAG_SEPARATORS.split(tags)
    if not isinstance(tags, list | tuple) or not all(isinstance(t, str) for t in tags):
        raise MediaError(f"metadata of {media} ({where}): tags must be a list of strings")
    given = fields.get("date")
    if given in (None, ""):
        day = date.fromtimestamp(media.stat().st_mtime)
    else:
        try:
            day = parse_date(str(given))
        except ConfigError as exc:
            raise MediaError(f"metadata of {media} ({where}): {exc}") from None
    return FileMetadata(day.isoformat(), normalise_tags(tags), fields)


def _json_sidecar(media: Path) -> Path | None:
    for candidate in (media.with_name(media.name + ".json"), media.with_suffix(".json")):
        if candidate.is_file():
            return candidate
    return None


def _csv_listing(media: Path) -> Path | None:
    """The nearest ``metadata.csv`` at or above the media's folder that has a row for it."""
    for folder in (media.parent, *media.parent.parents):
        listing = folder / CSV_NAME
        if listing.is_file() and _csv_key(listing, media) in _csv_rows(
            str(listing), *_stamp(listing)
        ):
            return listing
    return None


def _csv_row(listing: Path, media: Path) -> dict[str, str]:
    """The media's row of a listing that has one, without its ``path`` (the file's own name is
    no metadata: a moved file keeps its content hash)."""
    row = _csv_rows(str(listing), *_stamp(listing))[_csv_key(listing, media)]
    return {k: v for k, v in row.items() if k != "path"}


def _csv_key(listing: Path, media: Path) -> str:
    return os.path.normpath(os.path.relpath(media, listing.parent))


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


@functools.lru_cache(maxsize=64)
def _csv_rows(listing: str, _mtime_ns: int, _size: int) -> dict[str, dict[str, str]]:
    """Rows of a metadata CSV by normalised relative path (cached until the file changes)."""
    folder = Path(listing).parent
    try:
        with open(listing, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if "path" not in (reader.fieldnames or ()):
                log.warning("ignoring %s: it has no 'path' column", listing)
                return {}
            rows = {}
            for row in reader:
                name = (row.get("path") or "").strip()
                if name:
                    values = {k.strip(): (v or "").strip() for k, v in row.items() if k}
                    target = Path(name) if os.path.isabs(name) else folder / name
                    rows[os.path.normpath(os.path.relpath(target, folder))] = values
            return rows
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        log.warning("ignoring unreadable %s: %s", listing, exc)
        return {}
