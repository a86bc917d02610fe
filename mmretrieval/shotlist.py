"""Shot lists: the document a news agency sends with every package.

Per shot of an indexed video: in and out timecode, a thumbnail, what is said and what is
written on screen during it. Written as CSV (a spreadsheet), HTML (one self-contained page
with the thumbnails in it) or a CMX3600 EDL (one event per shot, for the editing software).
Everything comes from the index: a shot list costs no model run, only a frame decode per
thumbnail.
"""

from __future__ import annotations

import csv
import html
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mmretrieval.analyze import shown_text, speech_text
from mmretrieval.errors import ConfigError, IndexDirError, MMRError
from mmretrieval.export import Event, edit_decision_list, source_timecodes
from mmretrieval.media.stills import data_uri, still_jpeg
from mmretrieval.media.timeline import TRANSCRIPT_SOURCES
from mmretrieval.spans import Timed
from mmretrieval.store.catalog import Catalog

log = logging.getLogger(__name__)

FORMATS = ("csv", "html", "edl")
MEDIA_TYPES = {"csv": "text/csv", "html": "text/html", "edl": "text/plain"}


@dataclass(frozen=True)
class Shot(Timed):
    """One shot: its place in the file and what is said and shown during it."""

    path: str
    number: int  # 1-based, in the file
    start: float
    end: float
    start_tc: str
    end_tc: str
    speech: str
    screen: str  # distinct on-screen lines, one per line


def shot_list(catalog: Catalog, path: Path) -> list[Shot]:
    """The shots of an indexed video, with their text, from the catalog."""
    row = catalog.file(str(path))
    if row is None or row.status != "indexed":
        raise IndexDirError(f"{path} is not in the index: run `mmr index` on it first")
    spans = catalog.shots(row.id)
    if not spans:
        why = "it has no pictures" if not row.has_video else "it was indexed before shot detection"
        raise IndexDirError(f"no shots recorded for {path}: {why} (re-index it to detect shots)")
    texts = catalog.texts(row.id, 0.0, spans[-1].end)
    transcript = [t for t in texts if t.source in TRANSCRIPT_SOURCES]
    screen = [t for t in texts if t.source == "ocr"]
    events = [Event(row.path, s.start, s.end, "") for s in spans]
    timecodes = source_timecodes(events)
    return [
        Shot(
            row.path,
            number,
            span.start,
            span.end,
            tc.start,
            tc.end,
            speech_text(transcript, span),
            shown_text(screen, span),
        )
        for number, (span, tc) in enumerate(zip(spans, timecodes, strict=True), start=1)
    ]


def write_shot_lists(shots: Sequence[Shot], fmt: str, title: str = "shot list") -> str:
    """The shots (of one file or several, in order) as ``fmt`` (one of ``FORMATS``)."""
    writers = {"csv": _csv, "html": _html, "edl": _edl}
    if fmt not in writers:
        raise ConfigError(f"unknown shot list format {fmt!r}: expected one of {', '.join(FORMATS)}")
    return writers[fmt](shots, title)


def _csv(shots: Sequence[Shot], title: str) -> str:
    out = io.StringIO()
    fields = ["path", "shot", "start", "end", "start_tc", "end_tc", "duration", "speech", "screen"]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(fields)
    for shot in shots:
        writer.writerow(
            [
                shot.path, shot.number, shot.start, shot.end, shot.start_tc, shot.end_tc,
                round(shot.duration, 3), shot.speech, shot.screen.replace("\n", " / "),
            ]
        )  # fmt: skip
    return out.getvalue()


def _edl(shots: Sequence[Shot], title: str) -> str:
    events = [Event(shot.path, shot.start, shot.end, _comment(shot)) for shot in shots]
    return edit_decision_list(events, title)


def _comment(shot: Shot) -> str:
    parts = [f"shot {shot.number}"]
    if shot.speech:
        parts.append(f"said: {shot.speech}")
    if shot.screen:
        parts.append("screen: " + shot.screen.replace("\n", " / "))
    return " | ".join(parts)


def _html(shots: Sequence[Shot], title: str) -> str:
    esc = html.escape
    rows = []
    current = None
    for shot in shots:
        if shot.path != current:
            current = shot.path
            rows.append(f'<tr class="file"><th colspan="6">{esc(shot.path)}</th></tr>')
        thumbnail = _thumbnail(shot)
        picture = f'<img src="{thumbnail}" alt="shot {shot.number}">' if thumbnail else ""
        screen = "<br>".join(esc(line) for line in shot.screen.splitlines())
        rows.append(
            f"<tr><td>{shot.number}</td><td>{esc(shot.start_tc)}</td><td>{esc(shot.end_tc)}</td>"
            f"<td>{picture}</td><td>{esc(shot.speech)}</td><td>{screen}</td></tr>"
        )
    return _PAGE.format(title=esc(title), rows="\n".join(rows))


def _thumbnail(shot: Shot) -> str | None:
    """The shot's middle frame as a data: URI; None (and a warning) when it cannot be read."""
    try:
        return data_uri(still_jpeg(Path(shot.path), shot.start, shot.end))
    except MMRError as exc:
        log.warning("no thumbnail for shot %d of %s: %s", shot.number, shot.path, exc)
        return None


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 1.5em; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 6px 8px; text-align: left; vertical-align: top; }}
tr.file th {{ background: #f3f4f6; }}
img {{ width: 160px; }}
</style></head><body>
<h1>{title}</h1>
<table>
<tr><th>Shot</th><th>In</th><th>Out</th><th>Picture</th><th>Said</th><th>On screen</th></tr>
{rows}
</table>
</body></html>
"""
