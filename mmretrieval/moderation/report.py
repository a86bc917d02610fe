"""Moderation reports: findings per file and time span, a summary per file, and which signals
ran, written as JSONL (for programs), CSV (for spreadsheets) or one self-contained HTML page
(for review, with a still of each finding) and read back from any of them.

- JSONL: one JSON object per line, each with a ``kind``: one ``run`` line (policy, profile,
  signals that ran or were skipped and why, timing), one ``file`` line per file, one
  ``finding`` line per finding.
- CSV: one row per signal that fired in a finding (``CSV_COLUMNS``); the rows of one finding
  share path, start, end and category. Files without findings have no rows.
- HTML: the review page; the JSONL records are embedded in it, so it reads back completely.
"""

from __future__ import annotations

import csv
import html
import json
import logging
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from mmretrieval.errors import ConfigError, MMRError
from mmretrieval.export import from_spreadsheet_cell, spreadsheet_cell
from mmretrieval.media.stills import data_uri, still_jpeg
from mmretrieval.spans import Timed

log = logging.getLogger(__name__)

FORMATS = (".jsonl", ".csv", ".html")
CSV_COLUMNS = (
    "path",
    "start",
    "end",
    "category",
    "signal",
    "kind",
    "score",
    "threshold",
    "time",
    "text",
    "detail",
    "strong",
    "rule",
)
# JSON escapes for the page's embedded data: the HTML parser sees no tag or comment in it.
_SCRIPT_SAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}
_DATA_SCRIPT = re.compile(
    r'<script type="application/json" id="report-data">(.*?)</script>', re.DOTALL
)


@dataclass(frozen=True)
class SignalHit:
    """A signal that fired: its score against its threshold, and where to look."""

    signal: str
    kind: str  # clip, clap, transcript, wordlist, nudenet, open_nsfw
    score: float
    threshold: float
    time: float | None = None  # the frame or the words that scored best
    text: str | None = None  # the transcript line
    detail: dict = field(default_factory=dict)  # NudeNet boxes, the words said, text source
    strong: float | None = None  # the policy's score at which it flags the category alone

    @property
    def strength(self) -> float:
        """How far past its threshold the score is (signals have different scales)."""
        return self.score / self.threshold if self.threshold else math.inf


@dataclass(frozen=True)
class Finding(Timed):
    """A category flagged on a time span of a file, with every signal that fired on it."""

    path: str
    start: float
    end: float
    category: str
    signals: tuple[SignalHit, ...]
    rule: str = ""  # why the policy flagged it: a strong score alone, or signals that agree

    @property
    def best(self) -> SignalHit:
        return max(self.signals, key=lambda s: s.strength)

    @property
    def time(self) -> float:
        """The moment to check by eye: the strongest signal's frame or words, else the start."""
        return self.best.time if self.best.time is not None else self.start

    @property
    def text(self) -> str | None:
        """The transcript line to read: the strongest signal's, else any signal's."""
        return self.best.text or next((s.text for s in self.signals if s.text), None)

    def to_dict(self) -> dict:
        return {
            "kind": "finding",
            "path": self.path,
            "start": self.start,
            "end": self.end,
            "category": self.category,
            "time": self.time,
            "text": self.text,
            "signals": [asdict(s) for s in self.signals],
            "rule": self.rule,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Finding:
        signals = tuple(SignalHit(**s) for s in data["signals"])
        return cls(
            data["path"],
            data["start"],
            data["end"],
            data["category"],
            signals,
            data.get("rule", ""),  # reports written before rules existed have none
        )


@dataclass(frozen=True)
class FileSummary:
    path: str
    status: str  # scanned | failed
    duration: float = 0.0
    clips: int = 0
    source: str = "media"  # media: decoded and analysed; index: clips and vectors from the index
    transcript: str = "none"  # asr, subtitles, index or none
    error: str | None = None
    findings: dict[str, int] = field(default_factory=dict)  # category -> findings
    max_scores: dict[str, float] = field(default_factory=dict)  # category/signal -> best clip

    def to_dict(self) -> dict:
        return {"kind": "file", **asdict(self)}


@dataclass
class Report:
    policy: str
    profile: str
    signals: dict[str, str]  # category/signal -> "ran" or "skipped: why"
    files: list[FileSummary] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    timing: dict = field(default_factory=dict)

    @property
    def failures(self) -> list[FileSummary]:
        return [f for f in self.files if f.status == "failed"]

    def notes(self) -> list[str]:
        """Which signals ran and which were skipped, with why: what the findings can cover."""
        ran = [name for name, status in self.signals.items() if status == "ran"]
        notes = [f"signals that ran: {', '.join(ran) or 'none'}"]
        notes += [f"{name} {status}" for name, status in self.signals.items() if status != "ran"]
        return notes

    def to_records(self) -> list[dict]:
        run = {
            "kind": "run",
            "policy": self.policy,
            "profile": self.profile,
            "signals": self.signals,
            "timing": self.timing,
        }
        return [run, *(f.to_dict() for f in self.files), *(f.to_dict() for f in self.findings)]

    @classmethod
    def from_records(cls, records: list[dict]) -> Report:
        runs = [r for r in records if r.get("kind") == "run"]
        if len(runs) != 1:
            raise MMRError(f"a report holds one 'run' record, found {len(runs)}")
        run = runs[0]
        files = [
            FileSummary(**{k: v for k, v in r.items() if k != "kind"})
            for r in records
            if r.get("kind") == "file"
        ]
        findings = [Finding.from_dict(r) for r in records if r.get("kind") == "finding"]
        return cls(run["policy"], run["profile"], run["signals"], files, findings, run["timing"])


def check_report_path(path: Path) -> str:
    """The report format a file name asks for (.jsonl, .csv or .html), or a ConfigError."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ConfigError(
            f"cannot write a report to {path}: expected a name ending in {', '.join(FORMATS)}"
        )
    return suffix


def write_report(report: Report, path: Path) -> Path:
    """Write ``report`` in the format its suffix names (.jsonl, .csv or .html)."""
    writer = {".jsonl": _write_jsonl, ".csv": _write_csv, ".html": _write_html}
    suffix = check_report_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer[suffix](report, path)
    return path


def read_report(path: Path) -> Report:
    """A whole report from its JSONL or HTML file (CSV holds findings only: ``read_findings``)."""
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".html"):
        raise ConfigError(f"cannot read a whole report from {path}: expected .jsonl or .html")
    text = _existing(path).read_text(encoding="utf-8")
    if suffix == ".html":
        found = _DATA_SCRIPT.search(text)
        if found is None:
            raise MMRError(f"{path} is not a moderation report page (no embedded report data)")
        text = found.group(1)
    try:
        if suffix == ".jsonl":
            records = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            records = json.loads(text)
        return Report.from_records(records)
    except (ValueError, KeyError, TypeError) as exc:
        raise MMRError(f"{path} is not a readable moderation report: {exc!r}") from exc


def read_findings(path: Path) -> list[Finding]:
    """The findings of a report in any of the three formats."""
    if path.suffix.lower() != ".csv":
        return read_report(path).findings
    findings: list[Finding] = []
    with _existing(path).open(newline="", encoding="utf-8") as handle:
        rows = csv.DictReader(handle)
        try:
            for row in rows:
                hit = SignalHit(
                    signal=row["signal"],
                    kind=row["kind"],
                    score=_number(row["score"]),
                    threshold=_number(row["threshold"]),
                    time=_number(row["time"]) if row["time"] else None,
                    text=from_spreadsheet_cell(row["text"]) or None,
                    detail=json.loads(row["detail"]) if row["detail"] else {},
                    strong=_number(row["strong"]) if row.get("strong") else None,
                )
                path_text = from_spreadsheet_cell(row["path"])
                key = (path_text, _number(row["start"]), _number(row["end"]), row["category"])
                last = findings[-1] if findings else None
                if last is not None and (last.path, last.start, last.end, last.category) == key:
                    findings[-1] = Finding(*key, (*last.signals, hit), last.rule)
                else:
                    rule = from_spreadsheet_cell(row.get("rule") or "")
                    findings.append(Finding(*key, (hit,), rule))
        except (ValueError, KeyError, TypeError) as exc:
            raise MMRError(
                f"{path} line {rows.line_num}: not a moderation report row "
                f"(columns {', '.join(CSV_COLUMNS)}): {exc!r}"
            ) from exc
    return findings


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise MMRError(f"report {path} does not exist")
    return path


def _number(text: str) -> float | int:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text and "e" not in text else value


def _write_jsonl(report: Report, path: Path) -> None:
    lines = (json.dumps(record, ensure_ascii=False) for record in report.to_records())
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def _write_csv(report: Report, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for finding in report.findings:
            for hit in finding.signals:
                writer.writerow(
                    [
                        spreadsheet_cell(finding.path),
                        finding.start,
                        finding.end,
                        finding.category,
                        hit.signal,
                        hit.kind,
                        hit.score,
                        hit.threshold,
                        "" if hit.time is None else hit.time,
                        spreadsheet_cell(hit.text or ""),
                        json.dumps(hit.detail, ensure_ascii=False) if hit.detail else "",
                        "" if hit.strong is None else hit.strong,
                        spreadsheet_cell(finding.rule),
                    ]
                )


_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em; color: #1d2430; }
h1 { margin-bottom: 0.2em; } table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
td, th { border: 1px solid #d5dae3; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #eef1f6; } .skipped { color: #8a5a00; } .failed { color: #b00020; }
.finding { display: flex; gap: 16px; border: 1px solid #d5dae3; border-radius: 6px;
  padding: 10px; margin: 10px 0; }
.finding img { width: 320px; border-radius: 4px; filter: blur(14px); transition: filter 0.2s; }
.finding img:hover, body.unblur .finding img { filter: none; }
.category { font-weight: 600; font-size: 1.1em; } .line { font-style: italic; }
.muted { color: #5b6474; }
"""


def _write_html(report: Report, path: Path) -> None:
    esc = html.escape
    timing = report.timing
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8"><title>Moderation report</title>',
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Moderation report</h1>",
        f'<p class="muted">policy {esc(report.policy)} · profile {esc(report.profile)} · '
        f"{len(report.files)} files · {timing.get('clips', 0)} clips · "
        f"{len(report.findings)} findings · {timing.get('clips_per_second', 0):.2f} clips/s</p>",
        "<p><label><input type=checkbox "
        "onchange=\"document.body.classList.toggle('unblur', this.checked)\"> "
        "show stills unblurred (hover shows one)</label></p>",
        "<h2>Signals</h2><table><tr><th>category/signal</th><th>status</th></tr>",
    ]
    for name, status in report.signals.items():
        css = "" if status == "ran" else ' class="skipped"'
        parts.append(f"<tr><td>{esc(name)}</td><td{css}>{esc(status)}</td></tr>")
    parts.append(
        "</table><h2>Files</h2><table><tr><th>file</th><th>status</th><th>duration</th>"
        "<th>clips</th><th>read from</th><th>transcript</th><th>findings</th></tr>"
    )
    for f in report.files:
        status = f.status if f.error is None else f"{f.status}: {f.error}"
        css = ' class="failed"' if f.status == "failed" else ""
        counts = ", ".join(f"{c} {n}" for c, n in f.findings.items()) or "none"
        parts.append(
            f"<tr><td>{esc(f.path)}</td><td{css}>{esc(status)}</td><td>{f.duration:.1f} s</td>"
            f"<td>{f.clips}</td><td>{esc(f.source)}</td><td>{esc(f.transcript)}</td>"
            f"<td>{esc(counts)}</td></tr>"
        )
    parts.append("</table><h2>Findings</h2>")
    if not report.findings:
        parts.append("<p>No findings.</p>")
    for finding in report.findings:
        parts.append(_finding_html(finding))
    data = json.dumps(report.to_records(), ensure_ascii=False)
    for char, escaped in _SCRIPT_SAFE.items():  # no "</script>" or "<!--" can end the data early
        data = data.replace(char, escaped)
    parts.append(f'<script type="application/json" id="report-data">{data}</script>')
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")


def _finding_html(finding: Finding) -> str:
    esc = html.escape
    still = _still_uri(finding)
    image = f'<img src="{still}" alt="still at {finding.time:.1f} s">' if still else ""
    rows = "".join(
        f"<tr><td>{esc(_signal_name(s))}</td><td>{s.score:g}</td><td>{s.threshold:g}</td>"
        f"<td>{'' if s.time is None else f'{s.time:.1f} s'}</td>"
        f"<td>{esc(_evidence_text(s))}</td></tr>"
        for s in finding.signals
    )
    rule = f'<div class="muted">{esc(finding.rule)}</div>' if finding.rule else ""
    line = f'<p class="line">“{esc(finding.text)}”</p>' if finding.text else ""
    return (
        f'<div class="finding">{image}<div><div class="category">{esc(finding.category)}</div>'
        f"<div>{esc(finding.path)} · {finding.start:.1f}–{finding.end:.1f} s · check at "
        f"{finding.time:.1f} s</div>{rule}{line}<table><tr><th>signal</th><th>score</th>"
        f"<th>threshold</th><th>at</th><th>evidence</th></tr>{rows}</table></div></div>"
    )


def _signal_name(hit: SignalHit) -> str:
    return hit.signal if hit.signal == hit.kind else f"{hit.signal} ({hit.kind})"


def _evidence_text(hit: SignalHit) -> str:
    """NudeNet's boxes, the listed words said (or shown), or the line and where it was read."""
    detail = hit.detail
    if "detections" in detail:
        return "; ".join(f"{d['class']} {d['score']:g}" for d in detail["detections"])
    if "words" in detail:
        return ", ".join(
            f"“{w['said']}” {'shown' if w.get('source') == 'screen' else 'said'} at "
            f"{w['time']:.1f} s"
            for w in detail["words"]
        )
    if hit.text and detail.get("source") == "screen":
        return f"on screen: {hit.text}"
    return hit.text or ""


def _still_uri(finding: Finding) -> str | None:
    """The frame at the finding's moment (a waveform for sound only), as a data: URI."""
    try:
        jpeg = still_jpeg(Path(finding.path), finding.start, finding.end, finding.time)
    except MMRError as exc:  # the file moved or cannot be read: the page goes on without it
        log.warning("no still for %s at %.1f s: %s", finding.path, finding.time, exc)
        return None
    return data_uri(jpeg)
