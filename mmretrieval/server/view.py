"""What the server's reads see: one ``Library`` pinned to one state of the index.

An ingest (the server's own job, or ``mmr index`` in another process) commits file by file. A
search must never mix two states (vectors of one, catalog rows of another), so reads go through
a Library whose catalog holds a snapshot and whose vector indexes were loaded (or rebuilt in
memory) at that same generation. The view moves to the newest state when a job of ours ends,
or when another writer's commits have settled (no new generation for ``SETTLE_SECONDS``).
Calls into the Library are serialised: its models and SQLite connection are not shared safely
between threads, and on a few cores parallel searches would only compete for them.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import TypeVar

from mmretrieval.config import Profile
from mmretrieval.errors import IndexDirError
from mmretrieval.library import Library
from mmretrieval.store.folder import CATALOG_FILE

log = logging.getLogger(__name__)

SETTLE_SECONDS = 5.0
CHECK_EVERY_SECONDS = 1.0

T = TypeVar("T")


class IndexView:
    def __init__(self, index_dir: Path, profile: str | Path | Profile | None = None):
        self.index_dir = index_dir
        self.profile = profile
        self._lock = threading.Lock()
        self._library: Library | None = None
        self._generation: int | None = None
        self._seen: tuple[int | None, float] = (None, 0.0)  # last disk generation, when seen
        self._checked = 0.0
        self._open()

    def run(self, work: Callable[[Library], T]) -> T:
        """``work(library)`` on the current state of the index."""
        with self._lock:
            self._follow_disk()
            if self._library is None:
                raise IndexDirError(
                    f"the index {self.index_dir} is empty: add media with POST /index or mmr index"
                )
            return work(self._library)

    def refresh(self) -> None:
        """Move to the index's newest state now (after our own ingest job)."""
        with self._lock:
            self._open()

    def close(self) -> None:
        with self._lock:
            if self._library is not None:
                self._library.close()
            self._library = None

    def _open(self) -> None:
        if self._library is not None:
            self._library.close()  # its models stay loaded; the index reopens as it is now
        elif (self.index_dir / CATALOG_FILE).exists():
            self._library = Library(self.index_dir, profile=self.profile)
        else:
            return
        library = self._library
        library.catalog.hold_snapshot()
        library.prepare()
        self._generation = library.catalog.generation
        self._seen = (self._generation, time.monotonic())
        log.info("serving index %s at generation %d", self.index_dir, self._generation)

    def _follow_disk(self) -> None:
        now = time.monotonic()
        if now - self._checked < CHECK_EVERY_SECONDS:
            return
        self._checked = now
        generation = _disk_generation(self.index_dir / CATALOG_FILE)
        if generation == self._generation:
            return
        if generation != self._seen[0]:
            self._seen = (generation, now)
        elif now - self._seen[1] >= SETTLE_SECONDS:
            self._open()


def _disk_generation(path: Path) -> int | None:
    """The catalog's committed generation, read on a connection of its own (outside the
    snapshot the view holds)."""
    if not path.exists():
        return None
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as db:
        row = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    return int(row[0]) if row else 0
