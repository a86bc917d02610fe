"""Ingest: file -> clips -> vectors -> catalog + store. Incremental, resumable, one writer.

This is the job around the analysis (``analyze.MediaAnalyzer`` turns one file into clips, texts
and vectors): which files changed, where they are analysed, and committing the results.

Each file is processed completely in memory and then committed in one catalog transaction, so
a kill at any moment loses at most the files in progress and never leaves half of one behind.
Files are processed here, two at a time on threads (``InProcess``), or by worker processes
(``mmretrieval.workers``); either way this process alone writes, in input order.
Vector indexes are saved every ``SAVE_EVERY_SECONDS`` and at the end; if a kill leaves them
behind the catalog, the next open rebuilds them from the catalog's vectors.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from mmretrieval.adapters.base import AdapterSet
from mmretrieval.analyze import MediaAnalyzer, StageTimer
from mmretrieval.config import Profile
from mmretrieval.errors import MediaError
from mmretrieval.filters import read_metadata
from mmretrieval.media.files import file_digest, stat_key
from mmretrieval.store.catalog import Catalog, IndexedFile
from mmretrieval.store.protocol import VectorStore

log = logging.getLogger(__name__)

SAVE_EVERY_SECONDS = 60.0
REORDER_PER_SLOT = 4  # finished files held back per worker while an earlier one runs
FILES_AT_ONCE = 2  # files one process analyses at a time (``InProcess``)


@dataclass(frozen=True)
class FileOutcome:
    path: str
    status: str  # indexed | unchanged | failed | removed
    duration: float = 0.0
    clips: int = 0
    error: str | None = None


@dataclass
class IngestReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    wall_seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def failures(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def footage_seconds(self) -> float:
        return sum(o.duration for o in self.outcomes if o.status == "indexed")

    def to_dict(self) -> dict:
        return {
            "indexed": self.count("indexed"),
            "unchanged": self.count("unchanged"),
            "failed": self.count("failed"),
            "removed": self.count("removed"),
            "footage_seconds": round(self.footage_seconds, 3),
            "wall_seconds": round(self.wall_seconds, 3),
            "stage_seconds": {k: round(v, 3) for k, v in self.stage_seconds.items()},
            "failures": [{"path": o.path, "error": o.error} for o in self.failures],
        }


@dataclass(frozen=True)
class Task:
    """One file to (re)index, with the change-check values its catalog row will carry."""

    path: Path
    size: int
    mtime_ns: int
    digest: str | None  # None when the file could not be read far enough to hash it


@dataclass(frozen=True)
class Processed:
    """What became of one task: the file's record, or why it failed."""

    task: Task
    record: IndexedFile | None = None
    error: str | None = None
    trace: str | None = None  # the traceback of an unexpected error, for the writer's log
    stage_seconds: dict[str, float] = field(default_factory=dict)


def index_record(analyzer: MediaAnalyzer, task: Task) -> IndexedFile:
    """The catalog record of one file: the analyser's clips, texts and vectors, with the
    change-check values and sidecar metadata that ingest keeps."""
    metadata = read_metadata(task.path)  # first: a malformed sidecar fails before any decoding
    found = analyzer.analyse_file(task.path)
    return IndexedFile(
        path=str(task.path),
        size=task.size,
        mtime_ns=task.mtime_ns,
        hash=task.digest,
        duration=found.info.duration,
        has_video=found.info.has_video,
        has_audio=found.info.has_audio,
        clips=found.clips,
        texts=found.texts,
        vectors=found.vectors,
        frames=found.frames,
        shots=found.shots,
        faces=found.faces,
        metadata=metadata,
        speech_notes=found.speech.to_dict() if found.speech else None,
        visual_frames=found.visual,
    )


def process_task(analyzer: MediaAnalyzer, task: Task) -> Processed:
    """Analyse one file into its record. A file that cannot be indexed gives a failure, not an
    exception, so one bad file never stops a run (in this process or in a worker)."""
    analyzer.timer.seconds.clear()
    record = error = trace = None
    try:
        record = index_record(analyzer, task)
    except MediaError as exc:
        error = str(exc)
    except Exception as exc:  # a bug or a model failure on this file: report it, go on
        error = f"internal error: {type(exc).__name__}: {exc}"
        trace = traceback.format_exc()
    return Processed(task, record, error, trace, dict(analyzer.timer.seconds))


class Runner(Protocol):
    """Where tasks run: ``InProcess``, or worker processes (``mmretrieval.workers.WorkerPool``)."""

    slots: int  # tasks it runs at once

    def idle(self) -> bool: ...

    def submit(self, key: int, task: Task) -> None: ...

    def results(self, block: bool) -> list[tuple[int, Processed]]: ...


class InProcess:
    """Runs tasks in this process (``workers=1``), ``FILES_AT_ONCE`` at a time on threads that
    share the models; use as a context manager.

    One file keeps 2 cores busy only while its speech recognition and its picture stages both
    run, and they rarely take as long as each other: with two files at once, the recognition
    of one runs on while the pictures of the other are read (``MediaAnalyzer``: their picture
    stages take turns), so the cores stay busy up to the last file (benchmarks/README.md,
    ingest). Each thread has its own analyser, whose timer charges its file alone.
    """

    def __init__(self, profile: Profile, adapters: AdapterSet, at_once: int = FILES_AT_ONCE):
        turns = threading.Lock()
        self.slots = at_once
        self._free = [MediaAnalyzer(profile, adapters, turns) for _ in range(at_once)]
        self._pool = ThreadPoolExecutor(at_once, thread_name_prefix="ingest")
        self._running: dict[Future[Processed], tuple[int, MediaAnalyzer]] = {}

    def __enter__(self) -> InProcess:
        return self

    def __exit__(self, *exc) -> None:
        """Waits for the files in progress (a thread cannot be stopped); their results are
        dropped when the run did not finish."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def idle(self) -> bool:
        return bool(self._free)

    def submit(self, key: int, task: Task) -> None:
        analyzer = self._free.pop()
        self._running[self._pool.submit(process_task, analyzer, task)] = (key, analyzer)

    def results(self, block: bool) -> list[tuple[int, Processed]]:
        if not self._running:
            return []
        done, _ = wait(self._running, timeout=None if block else 0, return_when=FIRST_COMPLETED)
        finished = []
        for future in done:
            key, analyzer = self._running.pop(future)
            self._free.append(analyzer)
            finished.append((key, future.result()))
        return finished


class Ingestor:
    """Brings the catalog and store up to date with a set of files.

    The ingestor is the only writer. ``runner`` turns files into records, here or in worker
    processes; their results are committed in input order whatever order they finish in (a
    window of ``REORDER_PER_SLOT`` files per slot waits for a slow one), so the catalog, clip ids
    included, comes out the same for any number of workers.
    """

    def __init__(self, catalog: Catalog, store: VectorStore, runner: Runner):
        self.catalog = catalog
        self.store = store
        self.runner = runner
        self.timer = StageTimer()  # the writer's own time (store)

    def run(
        self,
        files: Sequence[Path],
        prune: bool = False,
        on_file: Callable[[FileOutcome], None] | None = None,
    ) -> IngestReport:
        report = IngestReport()
        self.timer.seconds.clear()  # the report covers this run only
        started = self._last_save = time.perf_counter()
        waiting: deque[int] = deque()  # positions in ``files`` not committed yet, in order
        ready: dict[int, FileOutcome | Processed] = {}
        window = REORDER_PER_SLOT * self.runner.slots

        def commit_ready() -> None:
            while waiting and waiting[0] in ready:
                item = ready.pop(waiting.popleft())
                if isinstance(item, Processed):
                    for stage, seconds in item.stage_seconds.items():
                        report.stage_seconds[stage] += seconds
                    item = self._commit(item)
                report.outcomes.append(item)
                if on_file:
                    on_file(item)
                self._save_now_and_then()

        try:
            for position, path in enumerate(files):
                step = self._check(path)
                if isinstance(step, Task):
                    # Something is in flight whenever this waits: the head of ``waiting`` is
                    # a submitted task, as everything else is ready at once and committed.
                    while not self.runner.idle() or len(waiting) >= window:
                        ready.update(self.runner.results(block=True))
                        commit_ready()
                    self.runner.submit(position, step)
                else:
                    ready[position] = step
                waiting.append(position)
                ready.update(self.runner.results(block=False))
                commit_ready()
            while waiting:
                ready.update(self.runner.results(block=True))
                commit_ready()
            if prune:
                report.outcomes.extend(self._prune())
        finally:
            self._save()
            report.wall_seconds = time.perf_counter() - started
            for stage, seconds in self.timer.seconds.items():
                report.stage_seconds[stage] += seconds
        return report

    def _check(self, path: Path) -> FileOutcome | Task | Processed:
        """What ``path`` needs: nothing (unchanged), processing, or a record of why it can't be
        read. Writes that add rows wait for ``_commit``, so they happen in input order."""
        key = str(path)
        try:
            size, mtime_ns = stat_key(path)
        except OSError as exc:
            return Processed(Task(path, 0, 0, None), error=f"cannot read file: {exc.strerror}")
        known = self.catalog.file(key)
        indexed = known is not None and known.status == "indexed"
        if indexed and (known.size, known.mtime_ns) == (size, mtime_ns):
            return FileOutcome(key, "unchanged", known.duration or 0.0)
        try:
            digest = file_digest(path)
        except OSError as exc:
            task = Task(path, size, mtime_ns, None)
            return Processed(task, error=f"cannot read file: {exc.strerror}")
        if indexed and known.hash == digest:
            self.catalog.touch(known.id, size, mtime_ns)
            return FileOutcome(key, "unchanged", known.duration or 0.0)
        return Task(path, size, mtime_ns, digest)

    def _commit(self, done: Processed) -> FileOutcome:
        """Write one processed file: its rows and vectors in one transaction, or its failure."""
        key, record = str(done.task.path), done.record
        if record is None:
            if done.trace:
                log.error("unexpected error while indexing %s\n%s", key, done.trace)
            return self._fail(done.task, done.error or "unknown error")
        with self.timer("store"):
            removed, added = self.catalog.put_file(record)
            self.store.remove(np.asarray(removed, dtype=np.int64))
            for channel, (ids, vectors) in added.items():
                self.store.add(channel, np.asarray(ids, dtype=np.int64), vectors)
        log.info("indexed %s: %d clips", key, len(record.clips))
        return FileOutcome(key, "indexed", record.duration, len(record.clips))

    def _fail(self, task: Task, error: str) -> FileOutcome:
        key = str(task.path)
        log.warning("skipped %s: %s", key, error)
        removed = self.catalog.put_failure(key, task.size, task.mtime_ns, task.digest, error)
        self.store.remove(np.asarray(removed, dtype=np.int64))
        return FileOutcome(key, "failed", error=error)

    def _prune(self) -> list[FileOutcome]:
        outcomes = []
        for row in self.catalog.files():
            if not os.path.lexists(row.path):
                self.store.remove(np.asarray(self.catalog.remove_file(row.path), dtype=np.int64))
                outcomes.append(FileOutcome(row.path, "removed"))
        return outcomes

    def _save_now_and_then(self) -> None:
        if time.perf_counter() - self._last_save > SAVE_EVERY_SECONDS:
            self._save()

    def _save(self) -> None:
        with self.timer("store"):
            self.store.save(self.catalog.generation)
        self._last_save = time.perf_counter()
