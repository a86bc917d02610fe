"""``mmr moderate``: scan media against a policy, and calibrate a policy's thresholds.

``mmr moderate PATH...`` is short for ``mmr moderate scan PATH...``: the group runs ``scan``
whenever its first word is not one of its commands. (A media file named ``calibrate`` is
reached as ``mmr moderate scan calibrate`` or ``./calibrate``.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import click
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from mmretrieval.cli.support import (
    EXIT_SOME_FAILED,
    JsonOption,
    ProfileOption,
    StageProgress,
    clock,
    err,
    out,
    user_errors,
)
from mmretrieval.media.files import collect_media
from mmretrieval.moderation.calibrate import Calibration, calibrate, write_policy
from mmretrieval.moderation.report import FileSummary, Report, check_report_path, write_report
from mmretrieval.moderation.scan import moderate

DEFAULT_COMMAND = "scan"
MODERATING = "moderating"


class ScanByDefault(TyperGroup):
    """A command group whose first word, when not a command name or help, starts ``scan``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)


moderate_app = typer.Typer(
    cls=ScanByDefault,
    no_args_is_help=True,
    help="Flag clips that may break a moderation policy (mmr moderate PATH... runs `scan`).",
)

ReuseIndexOption = Annotated[
    Path | None,
    typer.Option(
        "--index",
        "-i",
        help="reuse this index: its profile, and the clips, transcripts and "
        "vectors of files it holds with the same content",
    ),
]
PolicyOption = Annotated[
    Path | None,
    typer.Option(help="policy YAML; default: the bundled configs/moderation.yaml"),
]


@moderate_app.command(DEFAULT_COMMAND)
def scan(
    paths: Annotated[list[Path], typer.Argument(help="media files or folders (recursed)")],
    policy: PolicyOption = None,
    index: ReuseIndexOption = None,
    profile: ProfileOption = None,
    out_paths: Annotated[
        list[Path] | None,
        typer.Option(
            "--out", "-o", help="write the report: .jsonl, .csv or .html (repeat for several)"
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Scan clips for each policy category; findings per time span with their evidence."""
    with user_errors():
        for path in out_paths or ():
            check_report_path(path)  # a bad name fails before the scan, not after
        files = collect_media(paths)
        with StageProgress(lambda task: f"files · {task.fields['clips']} clips", clips=0) as bar:
            bar.update(MODERATING, total=len(files))

            def on_file(summary: FileSummary) -> None:
                bar.advance(MODERATING, clips=summary.clips)

            report = moderate(files, policy, index=index, profile=profile, on_file=on_file)
        written = [write_report(report, path) for path in out_paths or ()]
    if json_output:
        out.print_json(json.dumps(report.to_records()))
    else:
        print_scan(report, out)
    for path in written:
        err.print(f"wrote {path}", highlight=False, soft_wrap=True)
    if report.failures:
        raise typer.Exit(EXIT_SOME_FAILED)


@moderate_app.command("calibrate")
def calibrate_command(
    labels: Annotated[
        Path, typer.Option(help="labels.csv: path,start,end and a 1/0 column per category")
    ],
    out_path: Annotated[Path, typer.Option("--out", "-o", help="where to write the new policy")],
    policy: PolicyOption = None,
    precision: Annotated[
        float | None, typer.Option(help="target precision: the lowest threshold reaching it")
    ] = None,
    recall: Annotated[
        float | None, typer.Option(help="target recall: the highest threshold keeping it")
    ] = None,
    index: ReuseIndexOption = None,
    profile: ProfileOption = None,
    json_output: JsonOption = False,
) -> None:
    """Pick each signal's threshold from labelled clips and write them into a policy file."""
    with user_errors():
        result = calibrate(labels, policy, precision, recall, index=index, profile=profile)
        write_policy(result, out_path, labels)
    if json_output:
        out.print_json(json.dumps(result.to_dict()))
    else:
        _print_calibration(result, out)
    err.print(f"wrote {out_path}", highlight=False, soft_wrap=True)


def print_scan(report: Report, console: Console) -> None:
    """The findings table, failures, notes and timing of a scan, as people read them."""
    if report.findings:
        table = Table(expand=True)
        for column in ("file", "span", "category", "check at", "signals", "evidence"):
            table.add_column(column, overflow="fold")
        for f in report.findings:
            signals = "\n".join(
                [f.rule, *(f"{s.signal} {s.score:g} ≥ {s.threshold:g}" for s in f.signals)]
            )
            table.add_row(  # names and transcripts are text, never rich markup
                escape(Path(f.path).name),
                f"{clock(f.start)}–{clock(f.end)}",
                escape(f.category),
                clock(f.time),
                escape(signals),
                escape(f.text or ""),
            )
        console.print(table)
    for f in report.failures:
        console.print(
            f"[red]failed[/red] {escape(f'{f.path}: {f.error}')}", highlight=False, soft_wrap=True
        )
    for note in report.notes():
        console.print(f"[dim]{escape(note)}", highlight=False, soft_wrap=True)
    t = report.timing
    console.print(
        f"{len(report.findings)} findings in {t['files']} files, {t['clips']} clips · "
        f"{t['clips_per_second']:.2f} clips/s ({t['seconds_per_clip']:.2f} s per clip, "
        f"{t['realtime_factor']:.1f}x realtime; models loaded in {t['load_seconds']:.1f} s)",
        highlight=False,
    )


def _print_calibration(result: Calibration, console: Console) -> None:
    table = Table(title=f"target {result.metric} {result.target:g} · {result.clips} clips")
    for column in ("category/signal", "threshold", "precision", "recall", "tp/fp/fn", "note"):
        table.add_column(column, overflow="fold")
    for s in result.signals:
        r = s.result
        table.add_row(
            escape(f"{s.category}/{s.signal}"),
            f"{s.before:g} → {s.after:g}" if s.after != s.before else f"{s.before:g}",
            _ratio(r.precision) if r else "",
            _ratio(r.recall) if r else "",
            f"{r.tp}/{r.fp}/{r.fn}" if r else "",
            escape(s.note or (r.message if r else "") or ""),
        )
    for category, r in result.categories.items():
        table.add_row(
            f"[bold]{escape(category)} (its rule)",
            "",
            _ratio(r.precision),
            _ratio(r.recall),
            f"{r.tp}/{r.fp}/{r.fn}",
            "",
        )
    console.print(table)
    if result.corpus:
        corpus = Table(title="classifier heads on the shipped corpus (held out, 5-fold)")
        for column in ("category/signal", "at", "precision", "recall", "tp/fp/fn"):
            corpus.add_column(column)
        for name, rows in result.corpus.items():
            for r in rows:
                corpus.add_row(
                    escape(name),
                    f"{r.threshold:g}",
                    _ratio(r.precision),
                    _ratio(r.recall),
                    f"{r.tp}/{r.fp}/{r.fn}",
                )
        console.print(corpus)


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
