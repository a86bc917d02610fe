"""Which media files a path names, and when one of them changed.

Ingest (what to index again), moderation (which catalogued file a scanned one is) and the
server (is a catalogued file still the one it indexed) all ask these questions of a file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from mmretrieval.errors import ConfigError
from mmretrieval.filters import metadata_bytes, metadata_sidecars
from mmretrieval.media.probe import MEDIA_SUFFIXES
from mmretrieval.media.subtitles import subtitle_sidecars

HASH_CHUNK = 1 << 20


def collect_media(paths: Iterable[Path]) -> list[Path]:
    """Media files under ``paths``: folders recursively (by suffix), files as given."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.suffix.lower() in MEDIA_SUFFIXES and (p.is_file() or p.is_symlink())
            )
        elif path.exists() or path.is_symlink():
            found.append(path)
        else:
            raise ConfigError(f"path {path} does not exist")
    unique = dict.fromkeys(p.absolute() for p in found)
    return list(unique)


def file_digest(path: Path) -> str:
    """Content hash of the file, its subtitle sidecar (a new sidecar changes the clips) and its
    metadata (a change re-indexes the file, so filters see it)."""
    digest = hashlib.blake2b(digest_size=20)
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    for sidecar in subtitle_sidecars(path):
        digest.update(sidecar.read_bytes())
    digest.update(metadata_bytes(path))
    return digest.hexdigest()


def stat_key(path: Path) -> tuple[int, int]:
    """(size, mtime) of the file with its subtitle and metadata sidecars, for the quick change
    check."""
    stats = [path.stat()]
    for sidecar in (*subtitle_sidecars(path), *metadata_sidecars(path)):
        stats.append(sidecar.stat())
    return sum(s.st_size for s in stats), max(s.st_mtime_ns for s in stats)
