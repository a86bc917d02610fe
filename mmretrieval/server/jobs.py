"""Background ingest jobs for the server: one at a time, in order, progress readable any time."""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mmretrieval.config import Profile
from mmretrieval.ingest import FileOutcome
from mmretrieval.library import Library

log = logging.getLogger(__name__)

KEEP_FINISHED = 1000


@dataclass
class Job:
    id: str
    paths: list[str]
    state: str = "queued"  # queued | running | done | failed
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    files_total: int = 0
    files_done: int = 0
    current: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    report: dict | None = None
    error: str | None = None

    def to_dict(self) -> dict:
        """A copy of the job as it is now (the job thread goes on updating it)."""
        return {
            "id": self.id,
            "paths": self.paths,
            "state": self.state,
            "created": self.created,
            "started": self.started,
            "finished": self.finished,
            "files_total": self.files_total,
            "files_done": self.files_done,
            "current": self.current,
            "counts": dict(self.counts),
            "report": self.report,
            "error": self.error,
        }


class JobRunner:
    """Runs ``mmr index`` work on a thread of its own, with its own ``Library`` (so its own
    catalog connection and write lock, and models loaded once for every job); ``on_finished``
    runs after each job. The newest ``KEEP_FINISHED`` finished jobs stay listed."""

    def __init__(
        self,
        index_dir: Path,
        profile: str | Path | Profile | None,
        on_finished: Callable[[], None],
    ):
        self.index_dir = index_dir
        self.profile = profile  # used when the first job creates the index
        self.on_finished = on_finished
        self.jobs: dict[str, Job] = {}
        self._library: Library | None = None  # made by the first job: it may create the index
        self._queue: queue.Queue[Job] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="mmr-ingest", daemon=True)
        self._thread.start()

    def submit(self, paths: list[Path]) -> Job:
        job = Job(id=uuid.uuid4().hex[:12], paths=[str(p) for p in paths])
        finished = [j.id for j in self.listed() if j.state in ("done", "failed")]
        for old in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            self.jobs.pop(old, None)
        self.jobs[job.id] = job
        self._queue.put(job)
        return job

    def listed(self) -> list[Job]:
        """Every job, oldest first: a copy, safe while ``submit`` adds one on another thread."""
        return list(self.jobs.values())

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            job.state, job.started = "running", time.time()
            try:
                self._run(job)
                job.state = "done"
            except Exception as exc:  # the job records why; the server keeps serving
                log.exception("ingest job %s failed", job.id)
                job.state, job.error = "failed", str(exc)
            finally:
                job.finished, job.current = time.time(), None
            try:
                self.on_finished()
            except Exception:  # this thread must live on to run the jobs queued behind
                log.exception("after ingest job %s: could not reopen the index for reads", job.id)

    def _run(self, job: Job) -> None:
        def on_start(total: int) -> None:
            job.files_total = total

        def on_file(outcome: FileOutcome) -> None:
            job.files_done += outcome.status != "removed"
            job.counts[outcome.status] = job.counts.get(outcome.status, 0) + 1
            job.current = outcome.path

        if self._library is None:
            self._library = Library(self.index_dir, profile=self.profile)
        try:
            report = self._library.add(
                [Path(p) for p in job.paths], on_start=on_start, on_file=on_file
            )
        finally:
            self._library.close()  # the index closes; the models stay loaded for the next job
        job.report = report.to_dict()
