"""The index's write lock: one writer at a time (an ingest, a migration, a store rebuild)."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mmretrieval.errors import IndexDirError

LOCK_FILE = "write.lock"  # in the index folder


@contextmanager
def write_lock(path: Path, required: bool = True) -> Iterator[bool]:
    """An exclusive lock so two ingests never write one index at once. Yields whether it is
    held: with ``required=False`` a lock held by another process is no error."""
    with path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            if required:
                raise IndexDirError(
                    f"another process is writing to the index {path.parent}: wait for it to finish"
                ) from exc
            yield False
            return
        yield True
