"""What every ``mmr`` command shares: the consoles, exit codes, user errors, progress bars,
option types and time formatting. Commands import from here; nothing here imports a command."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from mmretrieval.errors import MMRError

EXIT_USAGE = 2
EXIT_SOME_FAILED = 3

out = Console()
err = Console(stderr=True)

IndexOption = Annotated[Path, typer.Option("--index", "-i", help="index directory")]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]
ProfileOption = Annotated[
    str | None,
    typer.Option(help="offline, default or a YAML file; default: the index's own, else offline"),
]


class user_errors:
    """Expected errors become one line on stderr and exit code 2, not a traceback."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None and issubclass(exc_type, MMRError):
            err.print(f"error: {exc}", highlight=False, markup=False, soft_wrap=True)
            raise typer.Exit(EXIT_USAGE)
        return False


class StageProgress:
    """Progress bars on stderr, gone when done: one per stage (indexing, each direction's
    queries, moderating), with done/total and elapsed time. ``detail`` writes the text after
    the count from the task, whose fields hold the running ``totals`` that ``advance`` adds to
    (footage seconds, clips)."""

    def __init__(self, detail: Callable[[Task], str] | None = None, **totals: float) -> None:
        columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn()]
        if detail is not None:
            columns.append(_DetailColumn(detail))
        self.bar = Progress(*columns, TimeElapsedColumn(), console=err, transient=True)
        self.totals = totals
        self.running: dict[str, dict[str, float]] = {}
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> StageProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc) -> None:
        self.bar.stop()

    def update(self, stage: str, done: int | None = None, total: int | None = None) -> None:
        """Show ``stage`` (a bar appears the first time) at ``done`` of ``total``."""
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(stage, total=total, **self.totals)
        self.bar.update(self.tasks[stage], completed=done, total=total)

    def advance(self, stage: str, **added: float) -> None:
        """One more item of ``stage`` done; ``added`` goes onto the running totals."""
        self.update(stage)
        totals = self.running.setdefault(stage, dict(self.totals))
        for name, value in added.items():
            totals[name] += value
        self.bar.update(self.tasks[stage], advance=1, **totals)


class _DetailColumn(ProgressColumn):
    def __init__(self, detail: Callable[[Task], str]) -> None:
        super().__init__()
        self.detail = detail

    def render(self, task: Task) -> Text:
        return Text(self.detail(task))


def clock(seconds: float) -> str:
    """Seconds as m:ss.s, or h:mm:ss.s from an hour on."""
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{secs:04.1f}" if hours else f"{minutes}:{secs:04.1f}"


def print_failure(path: str, error: str | None) -> None:
    """Paths and errors as plain text: a file named ``[red].mp4`` is not rich markup."""
    line = Text.assemble(("failed", "red"), f" {path}: {error}")
    out.print(line, highlight=False, soft_wrap=True)
