"""Parallel ingest: worker processes that each load the profile's models once and turn media
files into catalog records, while the process that started them stays the only writer.

Workers are started with ``spawn``: torch, onnxruntime and ctranslate2 keep thread pools that a
forked child inherits in a broken state. Each gets ``cpu_count // workers`` threads for its
models, so the workers together run about one thread per core. The parent hands one file at a
time to each idle worker over that worker's own pipe, so when a worker dies the parent knows
which file it was on. Workers ignore Ctrl-C: the parent catches it, stops them, and keeps every
file it had already committed.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait

from tqdm import tqdm

from mmretrieval.adapters.base import REGISTRY, AdapterSet
from mmretrieval.analyze import MediaAnalyzer
from mmretrieval.config import Profile
from mmretrieval.devices import limit_cpu_threads
from mmretrieval.errors import MMRError
from mmretrieval.ingest import Processed, Task, process_task

log = logging.getLogger(__name__)

STOP_SECONDS = 10.0  # how long a worker may take to exit before it is terminated


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    task: tuple[int, Task] | None = None  # (key, task) it is working on


class WorkerPool:
    """``workers`` processes analysing files (``process_task``); use as a context manager.

    ``submit`` gives a task to an idle worker, ``results`` returns those finished since the last
    call, in the order they finished. A worker that dies raises ``MMRError`` naming its file.
    """

    def __init__(self, profile: Profile, workers: int):
        if workers < 2:
            raise ValueError(f"a pool needs at least 2 workers, got {workers}: use InProcess")
        self.profile = profile
        self.slots = workers
        self.threads = max(1, (os.cpu_count() or 1) // workers)
        self._workers: list[_Worker] = []

    def __enter__(self) -> WorkerPool:
        try:
            self.start()
        except BaseException:
            self.close(stop=True)
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(stop=exc_type is not None)

    def start(self) -> None:
        """Start the workers and wait until each has loaded its models (or failed to)."""
        context = multiprocessing.get_context("spawn")
        level = logging.getLogger().getEffectiveLevel()
        for number in range(self.slots):
            parent_end, child_end = context.Pipe()
            process = context.Process(
                target=_serve,
                args=(child_end, self.profile, self.threads, level),
                name=f"mmr-ingest-{number}",
                daemon=True,
            )
            process.start()
            child_end.close()
            self._workers.append(_Worker(process, parent_end))
        log.info("started %d ingest workers, %d threads each", self.slots, self.threads)
        waiting = list(self._workers)
        while waiting:
            ready = wait([w.conn for w in waiting] + [w.process.sentinel for w in waiting])
            for worker in [w for w in waiting if w.conn in ready or w.process.sentinel in ready]:
                kind, payload = self._receive(worker, "while loading its models")
                if kind == "error":
                    raise payload
                waiting.remove(worker)

    def idle(self) -> bool:
        return any(w.task is None for w in self._workers)

    def submit(self, key: int, task: Task) -> None:
        worker = next(w for w in self._workers if w.task is None)
        try:
            worker.conn.send(task)
        except OSError as exc:
            raise self._died(worker, "between files") from exc
        worker.task = (key, task)

    def results(self, block: bool) -> list[tuple[int, Processed]]:
        """Tasks finished since the last call; with ``block``, waits for at least one."""
        if not any(w.task for w in self._workers):
            return []
        watched = [w.conn for w in self._workers] + [w.process.sentinel for w in self._workers]
        ready = wait(watched, timeout=None if block else 0)
        done = []
        for worker in self._workers:
            if worker.conn in ready or worker.process.sentinel in ready:
                if worker.task is None:  # an idle worker has nothing to say: it died
                    raise self._died(worker, "between files")
                processed = self._receive(worker, f"while indexing {worker.task[1].path}")[1]
                done.append((worker.task[0], processed))
                worker.task = None
        return done

    def close(self, stop: bool = False) -> None:
        """Let the workers exit, or with ``stop`` (an error, Ctrl-C) end them now."""
        for worker in self._workers:
            if not stop:
                try:
                    worker.conn.send(None)
                except OSError:  # already gone
                    pass
        for worker in self._workers:
            if stop:
                worker.process.terminate()
            worker.process.join(STOP_SECONDS)
            if worker.process.is_alive():
                log.warning("ingest worker %s did not exit: killing it", worker.process.pid)
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        self._workers = []

    def _receive(self, worker: _Worker, doing: str) -> tuple[str, object]:
        """The worker's next message; a worker that died instead raises ``MMRError``."""
        try:
            if worker.conn.poll():
                return worker.conn.recv()
        except (EOFError, OSError):
            pass
        raise self._died(worker, doing)

    def _died(self, worker: _Worker, doing: str) -> MMRError:
        worker.process.join(STOP_SECONDS)
        return MMRError(
            f"ingest worker process {worker.process.pid} died {doing} "
            f"({_exit_reason(worker.process.exitcode)}). Files committed before it stay "
            "indexed: run the same command again to resume, or with --workers 1 to see the "
            "error in this process"
        )


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "still running, but its pipe closed"
    if code < 0:
        name = signal.Signals(-code).name
        hint = ": the out-of-memory killer, or someone else" if name == "SIGKILL" else ""
        return f"killed by {name}{hint}"
    return f"exit code {code}"


def _serve(conn: Connection, profile: Profile, threads: int, log_level: int) -> None:
    """A worker's life: load the models once, then process tasks until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    logging.basicConfig(level=log_level, format="%(levelname)s %(processName)s: %(message)s")
    limit_cpu_threads(threads)
    # faster-whisper opens a (disabled) tqdm bar, and tqdm's default lock is a multiprocessing
    # semaphore that the quick exit below would leave for the parent to report as leaked.
    tqdm.set_lock(threading.RLock())
    try:
        adapters = AdapterSet(profile)
        for name in REGISTRY:
            adapters.get(name)
        adapters.bridge()
    except MMRError as exc:  # a missing model: the parent raises it as its own
        conn.send(("error", exc))
        return
    except Exception as exc:
        conn.send(("error", MMRError(f"an ingest worker could not load the models: {exc!r}")))
        return
    analyzer = MediaAnalyzer(profile, adapters)
    conn.send(("ready", None))
    try:
        while (task := conn.recv()) is not None:
            conn.send(("done", process_task(analyzer, task)))
    except (EOFError, BrokenPipeError):  # the parent is gone: nobody is left to send to
        pass
    # Nothing is left to write, and tearing down torch, onnxruntime and ctranslate2 at exit
    # takes seconds the parent would wait for.
    logging.shutdown()
    os._exit(0)
