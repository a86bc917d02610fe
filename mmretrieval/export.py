"""Export a result list for editors: CSV for spreadsheets, a CMX3600 EDL and an OTIO timeline.

An editor wants the hits as a rough cut: each hit a cut from its source file, laid end to end.
Source timecodes must match what the editing software reads from the camera file, so they are
counted at the file's own frame rate from its start timecode tag (if the camera wrote one).

Frame rates:
- A video file's rate is snapped to the nearest SMPTE timecode rate (23.976, 24, 25, 29.97, 30,
  47.952, 48, 50, 59.94, 60) when within 1%, so variable-rate phone footage averaging 29.87 fps
  is timed at 29.97. 29.97 and 59.94 use drop-frame timecode (``;`` before the frames) unless
  the camera's timecode tag is non-drop (``:``).
- Audio-only files have no frame rate, and neither do files that are gone or whose rate has no
  SMPTE timecode (15, 120 fps): they are timed at the *record rate*.
- The record rate is the first (best-ranked) video source's rate, or ``DEFAULT_FPS`` (25) when
  no hit has one. The EDL's record timecodes and its FCM line use it; each event's source in/out
  stays at its own source's rate (and drop-frame mode, shown by the separator), and its record
  duration is the source duration converted to record frames. The OTIO timeline keeps each
  clip's exact rational range instead, so it needs no conversion.
- A hit span [start, end) in seconds covers the frames it overlaps: source in is the frame shown
  at ``start`` (floor), source out the first frame after ``end`` (ceil; at least one frame).

The EDL lines are written here rather than by the otio-cmx3600-adapter package because that
adapter (1.0.0) writes no FCM line, starts record timecode at 00:00:00:00, writes only the first
track (audio-only events would be lost) and converts every source timecode to one EDL rate, which
breaks source timecodes in mixed-rate lists. Timecode arithmetic is OpenTimelineIO's.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import opentimelineio as otio
from opentimelineio.opentime import RationalTime, TimeRange

from mmretrieval.errors import ConfigError, MediaError
from mmretrieval.media.probe import VIDEO_SUFFIXES, probe
from mmretrieval.search import Hit
from mmretrieval.spans import Timed

log = logging.getLogger(__name__)

FORMATS = ("csv", "edl", "otio")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MEDIA_TYPES = {"csv": "text/csv", "edl": "text/plain", "otio": "application/json"}
DEFAULT_FPS = 25.0
RECORD_START = "01:00:00:00"  # where an edit's record timecode starts by convention
EDL_MAX_EVENTS = 999  # CMX3600 event numbers have three digits
_EDL_TITLE_CHARS = 70  # CMX3600 title limit
_EDL_REEL = "AX"  # the "auxiliary source" reel: the file is named in FROM CLIP NAME instead
_SMPTE_TOLERANCE = 0.01  # relative distance to an SMPTE rate still timed at that rate
_DROP_FRAME_RATES = (30000 / 1001, 60000 / 1001)
_FRAME_EPSILON = 1e-6  # float noise in seconds * rate (0.29 * 100 = 28.999999999999996)


@dataclass(frozen=True)
class SourceInfo:
    """What an export needs to know about one source file."""

    fps: float | None  # SMPTE timecode rate; None: no rate of its own (timed at the record rate)
    duration: float | None  # seconds; None when the file could not be probed
    has_video: bool
    start_timecode: str | None = None  # the camera's start timecode, e.g. "01:00:00:00"

    @property
    def drop_frame(self) -> bool:
        """As the camera's timecode tag says (``;`` = drop frame), else the NTSC default."""
        if self.start_timecode is not None:
            return ";" in self.start_timecode
        return self.fps is not None and _is_ntsc(self.fps)


def source_info(paths: Iterable[str]) -> dict[str, SourceInfo]:
    """Probe each distinct file once; files that cannot be read get a best guess and a warning."""
    return {path: _probe_source(path) for path in dict.fromkeys(paths)}


def export_hits(
    hits: Sequence[Hit],
    fmt: str,
    sources: Mapping[str, SourceInfo] | None = None,
    title: str = "mmretrieval results",
) -> str:
    """The result list as a CSV, CMX3600 EDL or OTIO JSON document (``fmt`` in ``FORMATS``).

    ``sources`` maps each hit's path to its SourceInfo; missing paths are probed.
    """
    writers = {"csv": _csv, "edl": _edl, "otio": _otio}
    if fmt not in writers:
        raise ConfigError(f"unknown export format {fmt!r}: expected one of {', '.join(FORMATS)}")
    events = [Event(hit.path, hit.start, hit.end, _comment(hit), hit) for hit in hits]
    cuts, record_rate = _cuts(events, sources)
    return writers[fmt](cuts, record_rate, title)


@dataclass(frozen=True)
class Event(Timed):
    """One piece of an edit: [start, end) of ``path``, with the comment an editor reads beside
    it and the hit it came from (None for other spans, such as the shots of a shot list)."""

    path: str
    start: float
    end: float
    comment: str
    hit: Hit | None = None


@dataclass(frozen=True)
class Timecodes:
    """Where an event lies in its source, as the editing software shows it."""

    start: str
    end: str
    fps: float


def edit_decision_list(
    events: Sequence[Event], title: str, sources: Mapping[str, SourceInfo] | None = None
) -> str:
    """A CMX3600 EDL of ``events`` laid end to end (the rules of the module docstring)."""
    cuts, record_rate = _cuts(events, sources)
    return _edl(cuts, record_rate, title)


def source_timecodes(
    events: Sequence[Event], sources: Mapping[str, SourceInfo] | None = None
) -> list[Timecodes]:
    """Each event's source in and out timecodes, as the EDL writes them."""
    cuts, _ = _cuts(events, sources)
    return [_timecodes(cut) for cut in cuts]


@dataclass(frozen=True)
class _Cut:
    """An event placed in the edit: its source range at the rate it is timed at."""

    rank: int
    event: Event
    source: SourceInfo
    source_range: TimeRange
    drop_frame: bool  # of the source timecode

    @property
    def hit(self) -> Hit:
        assert self.event.hit is not None, "only hit lists are written as CSV or OTIO here"
        return self.event.hit


def _cuts(
    events: Sequence[Event], sources: Mapping[str, SourceInfo] | None
) -> tuple[list[_Cut], float]:
    """The events as cuts, and the record rate (``sources``: known SourceInfo by path; the
    other paths are probed)."""
    known = dict(sources or {})
    known.update(source_info(e.path for e in events if e.path not in known))
    record_rate = next((r for r in (known[e.path].fps for e in events) if r), DEFAULT_FPS)
    cuts = []
    for rank, event in enumerate(events, start=1):
        source = known[event.path]
        rate = source.fps or record_rate
        first = math.floor(event.start * rate + _FRAME_EPSILON)
        last = max(math.ceil(event.end * rate - _FRAME_EPSILON), first + 1)
        offset = _start_frames(source, rate)
        span = TimeRange(RationalTime(offset + first, rate), RationalTime(last - first, rate))
        drop_frame = source.drop_frame if source.fps else _is_ntsc(record_rate)
        cuts.append(_Cut(rank, event, source, span, drop_frame))
    return cuts, record_rate


def _timecodes(cut: _Cut) -> Timecodes:
    start, end = cut.source_range.start_time, cut.source_range.end_time_exclusive()
    return Timecodes(
        _timecode(start, cut.drop_frame), _timecode(end, cut.drop_frame), round(start.rate, 3)
    )


def spreadsheet_cell(text: str) -> str:
    """``text`` as a CSV cell that spreadsheets show as text: one starting with = + - @ (or a
    tab or CR) would run as a formula when the file is opened (CSV injection), so such a cell
    gets a leading apostrophe, which spreadsheets hide."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def from_spreadsheet_cell(text: str) -> str:
    """The text ``spreadsheet_cell`` was given."""
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_STARTS) else text


def _csv(cuts: list[_Cut], record_rate: float, title: str) -> str:
    spaces = sorted({space for cut in cuts for space in cut.hit.evidence})
    fields = ["rank", "path", "file", "start", "end", "start_tc", "end_tc", "fps", "score"]
    fields += [f"evidence_{space}" for space in spaces]
    fields += ["frame_time", "text_time", "language", "clip_id", "file_id", "notes", "text"]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for cut in cuts:
        row = cut.hit.to_dict()
        evidence = row.pop("evidence")
        row.update({f"evidence_{space}": score for space, score in evidence.items()})
        row["notes"] = "; ".join(row.get("notes", []))
        timecodes = _timecodes(cut)
        writer.writerow(
            {
                **row,
                "path": spreadsheet_cell(cut.hit.path),
                "text": spreadsheet_cell(cut.hit.text),
                "rank": cut.rank,
                "file": spreadsheet_cell(Path(cut.hit.path).name),
                "start_tc": timecodes.start,
                "end_tc": timecodes.end,
                "fps": timecodes.fps,
            }
        )
    return out.getvalue()


def _edl(cuts: list[_Cut], rate: float, title: str) -> str:
    if len(cuts) > EDL_MAX_EVENTS:
        raise ConfigError(
            f"a CMX3600 EDL holds at most {EDL_MAX_EVENTS} events, got {len(cuts)} hits: "
            "export fewer hits or use the otio format"
        )
    drop_frame = _is_ntsc(rate)
    mode = "DROP FRAME" if drop_frame else "NON-DROP FRAME"
    lines = [f"TITLE: {_one_line(title)[:_EDL_TITLE_CHARS]}", f"FCM: {mode}", ""]
    record = _record_start(rate)
    for cut in cuts:
        duration = cut.source_range.duration.rescaled_to(rate).round()
        if duration.value < 1:
            duration = RationalTime(1, rate)
        source = _timecodes(cut)
        track = "V" if cut.source.has_video else "A"
        lines.append(
            f"{cut.rank:03d}  {_EDL_REEL:<8} {track:<5} C        {source.start} {source.end} "
            f"{_timecode(record, drop_frame)} {_timecode(record + duration, drop_frame)}"
        )
        record += duration
        lines += [
            f"* FROM CLIP NAME: {_no_breaks(Path(cut.event.path).name)}",
            f"* SOURCE FILE: {_no_breaks(cut.event.path)}",
            f"* COMMENT: {_one_line(cut.event.comment)}",
            "",
        ]
    return "\n".join(lines)


def _otio(cuts: list[_Cut], rate: float, title: str) -> str:
    timeline = otio.schema.Timeline(name=title, global_start_time=_record_start(rate))
    video = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    audio = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
    record = RationalTime(0, rate)
    for cut in cuts:
        track = video if cut.source.has_video else audio
        behind = record - track.duration()
        if behind.to_seconds() > _FRAME_EPSILON:  # the other track's cuts came first: keep
            # record positions aligned with the EDL's
            track.append(otio.schema.Gap(duration=behind))
        track.append(_otio_clip(cut))
        record += cut.source_range.duration
    timeline.tracks.append(video)
    if len(audio):
        timeline.tracks.append(audio)
    return otio.adapters.write_to_string(timeline, "otio_json")


def _otio_clip(cut: _Cut) -> otio.schema.Clip:
    hit, rate = cut.hit, cut.source_range.start_time.rate
    available = None
    if cut.source.duration is not None:
        available = TimeRange(
            RationalTime(_start_frames(cut.source, rate), rate),
            RationalTime(round(cut.source.duration * rate), rate),
        )
    reference = otio.schema.ExternalReference(
        target_url=Path(hit.path).absolute().as_uri(), available_range=available
    )
    return otio.schema.Clip(
        name=Path(hit.path).name,
        media_reference=reference,
        source_range=cut.source_range,
        metadata={"mmretrieval": {"rank": cut.rank, **hit.to_dict()}},
    )


def _probe_source(path: str) -> SourceInfo:
    try:
        info = probe(Path(path))
    except MediaError as exc:
        has_video = Path(path).suffix.lower() in VIDEO_SUFFIXES
        log.warning("cannot probe %s (%s): timing it at the record rate", path, exc)
        return SourceInfo(fps=None, duration=None, has_video=has_video)
    fps = _smpte_rate(info.fps, path) if info.has_video else None
    start = info.timecode if fps and _valid_timecode(info.timecode, fps, path) else None
    return SourceInfo(
        fps=fps, duration=info.duration, has_video=info.has_video, start_timecode=start
    )


def _smpte_rate(fps: float, path: str) -> float | None:
    if fps <= 0:
        return None
    nearest = RationalTime.nearest_smpte_timecode_rate(fps)
    if abs(nearest - fps) <= _SMPTE_TOLERANCE * fps:
        return nearest
    log.warning("%s: %.3f fps has no SMPTE timecode; timing it at the record rate", path, fps)
    return None


def _valid_timecode(timecode: str | None, fps: float, path: str) -> bool:
    if timecode is None:
        return False
    try:
        otio.opentime.from_timecode(timecode, fps)
    except ValueError as exc:
        log.warning("%s: ignoring start timecode %r at %.3f fps: %s", path, timecode, fps, exc)
        return False
    return True


def _start_frames(source: SourceInfo, rate: float) -> int:
    if source.start_timecode is None:
        return 0
    return round(otio.opentime.from_timecode(source.start_timecode, rate).value)


def _record_start(rate: float) -> RationalTime:
    """RECORD_START read as a drop-frame label at NTSC rates, so it shows as 01:00:00;00."""
    label = RECORD_START[:-3] + ";" + RECORD_START[-2:] if _is_ntsc(rate) else RECORD_START
    return otio.opentime.from_timecode(label, rate)


def _timecode(time: RationalTime, drop_frame: bool) -> str:
    return otio.opentime.to_timecode(time, time.rate, drop_frame=drop_frame)


def _is_ntsc(rate: float) -> bool:
    return any(math.isclose(rate, ntsc) for ntsc in _DROP_FRAME_RATES)


def _comment(hit: Hit) -> str:
    evidence = ", ".join(f"{space} {score:.2f}" for space, score in sorted(hit.evidence.items()))
    parts = [f"score {hit.score:.4f}" + (f" ({evidence})" if evidence else "")]
    if hit.text.strip():
        parts.append(_one_line(hit.text))
    return " | ".join(parts)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _no_breaks(path: str) -> str:
    """A path on one EDL line: a line break in a file name would start a forged line."""
    return path.replace("\r", " ").replace("\n", " ")
