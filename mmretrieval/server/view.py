"""What the server's reads see: the served indexes, each one ``Library`` pinned to one state.

An ingest (the server's own job, or ``mmr index`` in another process) commits file by file. A
search must never mix two states (vectors of one, catalog rows of another), so reads go through
a Library whose catalog holds a snapshot and whose vector indexes were loaded (or rebuilt in
memory) at that same generation. The view moves an index to its newest state when a job of ours
ends, or when another writer's commits have settled (no new generation for ``SETTLE_SECONDS``).
Calls into the Libraries are serialised: their models and SQLite connections are not shared
safely between threads, and on a few cores parallel searches would only compete for them.

A server of several indexes (shards, ``mmr serve --index A --index B``) searches them as one
``Archive`` over the same pinned Libraries; a shard that moves to a new state is reopened alone.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from mmretrieval.archive import Archive
from mmretrieval.config import Profile
from mmretrieval.errors import ConfigError, IndexDirError
from mmretrieval.library import Library
from mmretrieval.store.folder import CATALOG_FILE

log = logging.getLogger(__name__)

SETTLE_SECONDS = 5.0
CHECK_EVERY_SECONDS = 1.0

T = TypeVar("T")


@dataclass
class _Shard:
    """One served index and the state it is pinned to."""

    index_dir: Path
    library: Library | None = None
    generation: int | None = None
    seen: tuple[int | None, float] = (None, 0.0)  # last disk generation, when first seen


class IndexView:
    def __init__(
        self, index_dirs: Path | Sequence[Path], profile: str | Path | Profile | None = None
    ):
        dirs = [Path(index_dirs)] if isinstance(index_dirs, str | Path) else list(index_dirs)
        if len(dirs) > 1:  # an archive is read-only: every shard must be there from the start
            for folder in dirs:
                if not (folder / CATALOG_FILE).exists():
                    raise IndexDirError(
                        f"no index at {folder}: a server of several indexes serves existing "
                        f"ones (create it with `mmr index PATH --index {folder}`)"
                    )
        self.profile = profile
        self._lock = threading.Lock()
        self._shards = [_Shard(folder) for folder in dirs]
        self._archive: Archive | None = None
        self._checked = 0.0
        self._open(self._shards)

    @property
    def index_dirs(self) -> list[Path]:
        return [shard.index_dir for shard in self._shards]

    @property
    def is_archive(self) -> bool:
        return len(self._shards) > 1

    def run(self, work: Callable[[Library | Archive], T]) -> T:
        """``work`` on the current state of the index (of all of them as one ``Archive``, on a
        server of several)."""
        with self._lock:
            self._follow_disk()
            if not self.is_archive:
                return work(self._library(self._shards[0]))
            if self._archive is None:  # ``_open`` builds it; only ``close`` takes it away
                raise IndexDirError("the server is shutting down: its indexes are closed")
            return work(self._archive)

    def run_on(self, index: str | None, work: Callable[[Library], T]) -> T:
        """``work(library)`` on one served index: ``index`` names it as a hit does (its
        ``index``); it may be left out when the server serves one."""
        with self._lock:
            self._follow_disk()
            return work(self._library(self._shard(index)))

    def each(self, work: Callable[[Library], T]) -> list[T]:
        """``work(library)`` on every served index, in order."""
        with self._lock:
            self._follow_disk()
            return [work(self._library(shard)) for shard in self._shards]

    def refresh(self) -> None:
        """Move to the indexes' newest state now (after our own ingest job)."""
        with self._lock:
            self._open(self._shards)

    def close(self) -> None:
        with self._lock:
            for shard in self._shards:
                if shard.library is not None:
                    shard.library.close()
                shard.library = None
            self._archive = None

    def _shard(self, index: str | None) -> _Shard:
        if index is None:
            if self.is_archive:
                raise ConfigError(
                    f"this server serves {len(self._shards)} indexes and their ids repeat: say "
                    f"which with index= (a hit's 'index')"
                )
            return self._shards[0]
        for shard in self._shards:
            if index in (str(shard.index_dir), str(shard.index_dir.resolve())):
                return shard
        served = ", ".join(str(shard.index_dir) for shard in self._shards)
        raise ConfigError(f"index {index!r} is not served here: this server serves {served}")

    def _library(self, shard: _Shard) -> Library:
        if shard.library is None:
            raise IndexDirError(
                f"the index {shard.index_dir} is empty: add media with POST /index or mmr index"
            )
        return shard.library

    def _open(self, shards: list[_Shard]) -> None:
        """(Re)open ``shards`` at their newest state, then load what a text query needs."""
        for shard in shards:
            if shard.library is not None:
                shard.library.close()  # its models stay loaded; it reopens as it is now
            elif (shard.index_dir / CATALOG_FILE).exists():
                shard.library = Library(shard.index_dir, profile=self.profile)
            else:
                continue
            shard.library.catalog.hold_snapshot()
            shard.generation = shard.library.catalog.generation
            shard.seen = (shard.generation, time.monotonic())
            log.info("serving index %s at generation %d", shard.index_dir, shard.generation)
        self._archive = None
        if self.is_archive:
            self._archive = Archive([self._library(shard) for shard in self._shards])
            self._archive.prepare()
        elif self._shards[0].library is not None:
            self._shards[0].library.prepare()

    def _follow_disk(self) -> None:
        now = time.monotonic()
        if now - self._checked < CHECK_EVERY_SECONDS:
            return
        self._checked = now
        settled = []
        for shard in self._shards:
            generation = _disk_generation(shard.index_dir / CATALOG_FILE)
            if generation == shard.generation:
                continue
            if generation != shard.seen[0]:
                shard.seen = (generation, now)
            elif now - shard.seen[1] >= SETTLE_SECONDS:
                settled.append(shard)
        if settled:
            self._open(settled)


def _disk_generation(path: Path) -> int | None:
    """The catalog's committed generation, read on a connection of its own (outside the
    snapshot the view holds)."""
    if not path.exists():
        return None
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as db:
        row = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    return int(row[0]) if row else 0
