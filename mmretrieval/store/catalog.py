"""The SQLite catalog: the source of truth for files, clips, transcripts and clip vectors.

Vector indexes are caches built from the ``vectors`` table; their ids are ``clips.id``. Every
change to one file (its clips, texts and vectors) is one transaction, and bumps ``generation``
so a vector index saved at another generation is known to be stale.

Schema history: 2 added each file's ``date`` and sidecar ``metadata`` and the ``file_tags``
table (search filters); 3 the ``language`` of each clip's speech and of each timed text (ISO
639-1, NULL when unknown). Older catalogs are upgraded in place when opened: files of a version
1 catalog are dated by their modification time, clips and texts of either have no language,
until they are re-indexed.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mmretrieval.errors import IndexDirError
from mmretrieval.filters import ClipFilter, FileMetadata, path_matches
from mmretrieval.media.timeline import TimedText, Word
from mmretrieval.spans import Span, Timed, merge

log = logging.getLogger(__name__)

SCHEMA_VERSION = 4
# SQLite's page cache per connection, in KiB (its default: 2 MiB). A search reads the rows and
# texts of a few hundred clips anywhere in the file; at a million clips (a 7.5 GB catalog) the
# default cache kept few of the B-tree pages above them, so each query asked the OS for ~540
# pages, and ~80 once the cache may hold the clips table (benchmarks/README.md, query latency).
# Pages are cached only as they are read: a small catalog takes only its own size.
PAGE_CACHE_KIB = 256 * 1024

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    hash TEXT,
    status TEXT NOT NULL CHECK (status IN ('indexed', 'failed')),
    error TEXT,
    duration REAL,
    has_video INTEGER,
    has_audio INTEGER,
    updated_at REAL NOT NULL,
    date TEXT,  -- ISO day: the metadata sidecar's date, else the modification day
    metadata TEXT,  -- the sidecar fields as JSON
    speech_notes TEXT  -- JSON: the file's language, ASR segments retried and dropped by reason
);
CREATE TABLE IF NOT EXISTS clips (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: ids are keys in vector indexes
    file_id INTEGER NOT NULL REFERENCES files(id),
    start REAL NOT NULL,
    end REAL NOT NULL,
    speech TEXT NOT NULL DEFAULT '',
    ocr TEXT NOT NULL DEFAULT '',
    language TEXT  -- ISO 639-1 of the speech; NULL: unknown
);
CREATE INDEX IF NOT EXISTS clips_by_file ON clips(file_id, start);
CREATE TABLE IF NOT EXISTS file_tags (
    file_id INTEGER NOT NULL REFERENCES files(id),
    tag TEXT NOT NULL,
    PRIMARY KEY (tag, file_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS file_tags_by_file ON file_tags(file_id);
CREATE TABLE IF NOT EXISTS texts (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES files(id),
    source TEXT NOT NULL,
    start REAL NOT NULL,
    end REAL NOT NULL,
    text TEXT NOT NULL,
    words TEXT,
    language TEXT  -- ISO 639-1; NULL: unknown
);
CREATE INDEX IF NOT EXISTS texts_by_file ON texts(file_id, start);
CREATE TABLE IF NOT EXISTS vectors (
    clip_id INTEGER NOT NULL REFERENCES clips(id),
    channel TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (channel, clip_id)
) WITHOUT ROWID;
-- Per-frame CLIP vectors (float16) of a clip, to point a hit at its best-matching frame.
CREATE TABLE IF NOT EXISTS frames (
    clip_id INTEGER NOT NULL REFERENCES clips(id),
    time REAL NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS frames_by_clip ON frames(clip_id);
-- A video's shots, back to back; empty for files indexed before shots were detected.
CREATE TABLE IF NOT EXISTS shots (
    file_id INTEGER NOT NULL REFERENCES files(id),
    start REAL NOT NULL,
    end REAL NOT NULL,
    PRIMARY KEY (file_id, start)
) WITHOUT ROWID;
-- Per-frame descriptors (float16, 1280-d) and ImageNet labels (JSON [[class, probability]...])
-- of the visual channel: the best-matching frame of a hit, and frame-level footage matching.
-- New tables need no schema upgrade: an older catalog gets it empty when opened.
CREATE TABLE IF NOT EXISTS visual_frames (
    clip_id INTEGER NOT NULL REFERENCES clips(id),
    time REAL NOT NULL,
    vector BLOB NOT NULL,
    labels TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS visual_frames_by_clip ON visual_frames(clip_id);
-- Face tracks of a clip (people profile; biometric): when each face shows sharpest, and its
-- descriptor (float16), to point a face hit at the moment the person is on screen.
CREATE TABLE IF NOT EXISTS faces (
    clip_id INTEGER NOT NULL REFERENCES clips(id),
    time REAL NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS faces_by_clip ON faces(clip_id);
-- Names given to the archive's voices and faces (people profile): the person's mean vector, so
-- a name outlives re-indexing (clip ids change) and finds the person by voice or face.
CREATE TABLE IF NOT EXISTS person_names (
    channel TEXT NOT NULL,
    name TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (channel, name)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS clip_text USING fts5(
    speech, ocr, content='clips', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE IF NOT EXISTS clip_terms USING fts5vocab(clip_text, 'row');
"""
# what keeps ``clip_text`` in step with ``clips``
_TEXT_TRIGGERS = (
    """CREATE TRIGGER IF NOT EXISTS clips_fts_insert AFTER INSERT ON clips BEGIN
    INSERT INTO clip_text(rowid, speech, ocr) VALUES (new.id, new.speech, new.ocr);
END""",
    """CREATE TRIGGER IF NOT EXISTS clips_fts_delete AFTER DELETE ON clips BEGIN
    INSERT INTO clip_text(clip_text, rowid, speech, ocr)
    VALUES ('delete', old.id, old.speech, old.ocr);
END""",
)
SCHEMA += "".join(f"{trigger};\n" for trigger in _TEXT_TRIGGERS)


_CLIP_COLUMNS = "c.id, c.file_id, f.path, c.start, c.end, c.speech, c.ocr, c.language"  # ClipRow


@dataclass(frozen=True)
class FileRow:
    id: int
    path: str
    size: int
    mtime_ns: int
    hash: str | None
    status: str
    error: str | None
    duration: float | None
    has_video: bool | None  # None for a failed file
    has_audio: bool | None


@dataclass(frozen=True)
class ClipRow(Timed):
    id: int
    file_id: int
    path: str
    start: float
    end: float
    speech: str
    ocr: str
    language: str | None = None  # ISO 639-1 of the clip's speech (None: unknown)


@dataclass(frozen=True)
class ClipText(Timed):
    """One clip window of a file to be indexed, with the words said and shown in it."""

    start: float
    end: float
    speech: str  # spoken words (transcript or subtitles)
    ocr: str  # on-screen text, one line per distinct line
    language: str | None = None  # ISO 639-1 of the clip's speech (None: unknown)


@dataclass(frozen=True)
class IndexedFile:
    """Everything one file contributes, written in one transaction."""

    path: str
    size: int
    mtime_ns: int
    hash: str
    duration: float
    has_video: bool
    has_audio: bool
    clips: Sequence[ClipText]
    texts: Sequence[TimedText]
    vectors: dict[str, tuple[list[int], np.ndarray]]  # channel -> (clip positions, vectors)
    frames: Sequence[tuple[int, float, np.ndarray]] = ()  # (clip position, time, CLIP vector)
    shots: Sequence[Span] = ()  # the video's shots, back to back
    faces: Sequence[tuple[int, float, np.ndarray]] = ()  # (clip position, time, face descriptor)
    metadata: FileMetadata | None = None  # from sidecars; None: dated by ``mtime_ns``
    speech_notes: dict | None = None  # language, retried, dropped (adapters.speech.SpeechNotes)
    # (clip position, time, visual descriptor, ImageNet labels [(class, probability)])
    visual_frames: Sequence[tuple[int, float, np.ndarray, Sequence[tuple[int, float]]]] = ()


class Catalog:
    def __init__(self, path: Path, create: bool = False):
        if not create and not path.exists():
            raise IndexDirError(f"no index at {path.parent} (catalog.sqlite missing)")
        self.path = path
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
        self.db.executescript(SCHEMA)
        self.db.create_function("mmr_glob", 2, path_matches, deterministic=True)
        version = self.get_meta("schema_version")
        if version is None:
            self.set_meta("schema_version", str(SCHEMA_VERSION))
        elif int(version) in (1, 2, 3):
            self._upgrade(int(version))
        elif int(version) != SCHEMA_VERSION:
            raise IndexDirError(
                f"index at {path.parent} has catalog schema {version}, this mmretrieval reads "
                f"{SCHEMA_VERSION}: re-index into a new folder"
            )
        self._drop_screen_trigrams()

    def _drop_screen_trigrams(self) -> None:
        """Catalogs made before also kept the screen text in an FTS5 trigram table
        (``clip_screen``) that nothing reads since ``store.postings`` searches screen text: it is
        dropped, with the triggers that filled it (a catalog that cannot be written to now keeps
        it until next time; a version that still makes it makes it empty, and reads none)."""
        if not self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'clip_screen'").fetchone():
            return
        try:
            with self._transaction():
                for trigger in ("clips_fts_insert", "clips_fts_delete"):
                    self.db.execute(f"DROP TRIGGER {trigger}")
                self.db.execute("DROP TABLE clip_screen")
                for trigger in _TEXT_TRIGGERS:
                    self.db.execute(trigger)
        except sqlite3.OperationalError as exc:  # read only, or an ingest writing for long
            log.info("catalog %s keeps its unread clip_screen table for now: %s", self.path, exc)

    def _upgrade(self, version: int) -> None:
        """Schema 1 -> 2: the files' date and metadata columns; 2 -> 3: the clips' and texts'
        language and the files' speech notes. All are nullable TEXT columns added where missing
        (``file_tags`` is new in 2, ``faces`` and ``person_names`` in 4: ``SCHEMA`` made them)."""
        added = {
            "files": ("date", "metadata", "speech_notes"),
            "clips": ("language",),
            "texts": ("language",),
        }
        with self._transaction():
            for table, columns in added.items():
                present = {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}
                for column in columns:
                    if column not in present:
                        self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")
            self.set_meta("schema_version", str(SCHEMA_VERSION))
        log.info("catalog %s upgraded from schema %d to %d", self.path, version, SCHEMA_VERSION)

    def close(self) -> None:
        self.db.close()

    def hold_snapshot(self) -> None:
        """From now on read the catalog as it is at this moment, whatever other connections
        commit (a WAL read transaction left open): a reader never sees half of an ingest.
        Only for read-only use; ``close`` ends it."""
        self.db.execute("BEGIN")
        self.db.execute("SELECT value FROM meta LIMIT 1").fetchall()

    # -- meta ---------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @property
    def generation(self) -> int:
        return int(self.get_meta("generation") or 0)

    def _bump_generation(self) -> None:
        self.db.execute(
            "INSERT INTO meta VALUES ('generation', '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    # -- files --------------------------------------------------------------------------------

    def file(self, path: str) -> FileRow | None:
        return self._file_where("path", path)

    def file_by_id(self, file_id: int) -> FileRow | None:
        return self._file_where("id", file_id)

    def indexed_file_with_hash(self, digest: str) -> FileRow | None:
        """An indexed file with this content hash: the same media, under any path."""
        row = self.db.execute(
            "SELECT id, path, size, mtime_ns, hash, status, error, duration, has_video, has_audio "
            "FROM files "
            "WHERE hash = ? AND status = 'indexed' ORDER BY id LIMIT 1",
            (digest,),
        ).fetchone()
        return FileRow(*row) if row else None

    def _file_where(self, column: str, value: str | int) -> FileRow | None:
        row = self.db.execute(
            "SELECT id, path, size, mtime_ns, hash, status, error, duration, has_video, has_audio "
            "FROM files "
            f"WHERE {column} = ?",
            (value,),
        ).fetchone()
        return FileRow(*row) if row else None

    def files(self, status: str | None = None) -> list[FileRow]:
        sql = (
            "SELECT id, path, size, mtime_ns, hash, status, error, duration, has_video, has_audio "
            "FROM files"
        )
        rows = self.db.execute(
            sql + (" WHERE status = ?" if status else "") + " ORDER BY path",
            (status,) if status else (),
        )
        return [FileRow(*row) for row in rows]

    def touch(self, file_id: int, size: int, mtime_ns: int) -> None:
        """Record a new mtime for a file whose content hash did not change."""
        self.db.execute(
            "UPDATE files SET size = ?, mtime_ns = ? WHERE id = ?", (size, mtime_ns, file_id)
        )

    def put_file(
        self, record: IndexedFile
    ) -> tuple[list[int], dict[str, tuple[list[int], np.ndarray]]]:
        """Replace whatever the catalog held for ``record.path`` with ``record``, atomically.

        Returns the clip ids that were removed and, per channel, the new clip ids and vectors.
        """
        metadata = record.metadata
        with self._transaction():
            kept_id, removed = self._drop(record.path)
            file_id = self.db.execute(
                "INSERT INTO files (id, path, size, mtime_ns, hash, status, duration, has_video, "
                "has_audio, updated_at, date, metadata, speech_notes) "
                "VALUES (?, ?, ?, ?, ?, 'indexed', ?, ?, ?, ?, ?, ?, ?)",
                (
                    kept_id,
                    record.path,
                    record.size,
                    record.mtime_ns,
                    record.hash,
                    record.duration,
                    int(record.has_video),
                    int(record.has_audio),
                    time.time(),
                    metadata.date if metadata else None,
                    metadata.fields_json() if metadata else None,
                    json.dumps(record.speech_notes) if record.speech_notes else None,
                ),
            ).lastrowid
            self.db.executemany(
                "INSERT INTO file_tags (file_id, tag) VALUES (?, ?)",
                [(file_id, tag) for tag in (metadata.tags if metadata else ())],
            )
            clip_ids = [
                self.db.execute(
                    "INSERT INTO clips (file_id, start, end, speech, ocr, language) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (file_id, clip.start, clip.end, clip.speech, clip.ocr, clip.language),
                ).lastrowid
                for clip in record.clips
            ]
            self.db.executemany(
                "INSERT INTO texts (file_id, source, start, end, text, words, language) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (file_id, t.source, t.start, t.end, t.text, _words_json(t.words), t.language)
                    for t in record.texts
                ],
            )
            self.db.executemany(
                "INSERT INTO shots (file_id, start, end) VALUES (?, ?, ?)",
                [(file_id, shot.start, shot.end) for shot in record.shots],
            )
            for table, rows in (("frames", record.frames), ("faces", record.faces)):
                self.db.executemany(
                    f"INSERT INTO {table} (clip_id, time, vector) VALUES (?, ?, ?)",
                    [(clip_ids[p], t, v.astype(np.float16).tobytes()) for p, t, v in rows],
                )
            self.db.executemany(
                "INSERT INTO visual_frames (clip_id, time, vector, labels) VALUES (?, ?, ?, ?)",
                [
                    (
                        clip_ids[p],
                        t,
                        v.astype(np.float16).tobytes(),
                        json.dumps([[c, round(float(pr), 4)] for c, pr in labels]),
                    )
                    for p, t, v, labels in record.visual_frames
                ],
            )
            added = {}
            for channel, (positions, vectors) in record.vectors.items():
                ids = [clip_ids[p] for p in positions]
                self.db.executemany(
                    "INSERT INTO vectors (clip_id, channel, vector) VALUES (?, ?, ?)",
                    [
                        (i, channel, v.astype(np.float32).tobytes())
                        for i, v in zip(ids, vectors, strict=True)
                    ],
                )
                added[channel] = (ids, vectors)
            self._bump_generation()
        return removed, added

    def put_failure(
        self, path: str, size: int, mtime_ns: int, hash_: str | None, error: str
    ) -> list[int]:
        """Record why ``path`` could not be indexed; drops what an older version contributed."""
        with self._transaction():
            kept_id, removed = self._drop(path)
            self.db.execute(
                "INSERT INTO files (id, path, size, mtime_ns, hash, status, error, updated_at) "
                "VALUES (?, ?, ?, ?, ?, 'failed', ?, ?)",
                (kept_id, path, size, mtime_ns, hash_, error, time.time()),
            )
            if removed:
                self._bump_generation()
        return removed

    def remove_file(self, path: str) -> list[int]:
        with self._transaction():
            _, removed = self._drop(path)
            self._bump_generation()
        return removed

    def _drop(self, path: str) -> tuple[int | None, list[int]]:
        """Delete everything recorded for ``path``; returns its file id (None if it had none),
        which a re-recorded file keeps so that links to it stay valid and a resumed run numbers
        files as an uninterrupted one does, and the ids of the clips removed."""
        row = self.db.execute("SELECT id FROM files WHERE path = ?", (path,)).fetchone()
        if row is None:
            return None, []
        file_id = row[0]
        clip_ids = [
            r[0] for r in self.db.execute("SELECT id FROM clips WHERE file_id = ?", (file_id,))
        ]
        self.db.executemany("DELETE FROM vectors WHERE clip_id = ?", [(i,) for i in clip_ids])
        self.db.executemany("DELETE FROM frames WHERE clip_id = ?", [(i,) for i in clip_ids])
        self.db.executemany("DELETE FROM visual_frames WHERE clip_id = ?", [(i,) for i in clip_ids])
        self.db.executemany("DELETE FROM faces WHERE clip_id = ?", [(i,) for i in clip_ids])
        self.db.execute("DELETE FROM clips WHERE file_id = ?", (file_id,))
        self.db.execute("DELETE FROM texts WHERE file_id = ?", (file_id,))
        self.db.execute("DELETE FROM file_tags WHERE file_id = ?", (file_id,))
        self.db.execute("DELETE FROM shots WHERE file_id = ?", (file_id,))
        self.db.execute("DELETE FROM files WHERE id = ?", (file_id,))
        return file_id, clip_ids

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any error (the connection is autocommit)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- clips, texts, vectors ----------------------------------------------------------------

    def clips(self, ids: Iterable[int]) -> dict[int, ClipRow]:
        ids = list(ids)
        rows: dict[int, ClipRow] = {}
        for chunk in _chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute(
                f"SELECT {_CLIP_COLUMNS} FROM clips c "
                f"JOIN files f ON f.id = c.file_id WHERE c.id IN ({marks})",
                chunk,
            ):
                rows[row[0]] = ClipRow(*row)
        return rows

    def texts(self, file_id: int, start: float, end: float) -> list[TimedText]:
        """The texts of a file during [start, end), by start."""
        return self.spans_texts([(file_id, start, end)])[0]

    def spans_texts(self, spans: Sequence[tuple[int, float, float]]) -> list[list[TimedText]]:
        """The texts during each span (file id, start, end), as ``texts`` orders them, read in
        one statement: a query's ten snippets took ~0.55 CPU ms as ten statements, ~0.35 as
        one (1M clips)."""
        found: list[list[TimedText]] = [[] for _ in spans]
        # SQLite caps the variables of a statement: 4 a span
        for chunk in _chunks(list(enumerate(spans)), 200):
            rows = self.db.execute(
                "WITH s(n, file_id, start, end) AS (VALUES "
                + ",".join(["(?, ?, ?, ?)"] * len(chunk))
                + ") SELECT s.n, t.start, t.end, t.text, t.source, t.words, t.language "
                "FROM s JOIN texts t ON t.file_id = s.file_id AND t.start < s.end "
                "AND t.end > s.start ORDER BY s.n, t.start, t.rowid",
                [v for n, span in chunk for v in (n, *span)],
            )
            for n, *row in rows:
                found[n].append(_timed_text(*row))
        return found

    def shots(self, file_id: int) -> list[Span]:
        rows = self.db.execute(
            "SELECT start, end FROM shots WHERE file_id = ? ORDER BY start", (file_id,)
        )
        return [Span(start, end, file_id) for start, end in rows]

    def channel_vectors(self, channel: str) -> tuple[np.ndarray, np.ndarray]:
        """All (ids, vectors) of one channel, for rebuilding its index."""
        ids, blobs = [], []
        for clip_id, blob in self.db.execute(
            "SELECT clip_id, vector FROM vectors WHERE channel = ? ORDER BY clip_id", (channel,)
        ):
            ids.append(clip_id)
            blobs.append(blob)
        if not blobs:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        matrix = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), -1)
        return np.asarray(ids, dtype=np.int64), matrix

    def frames(self, clip_ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """(times, float32 vectors) of the stored frames of these clips."""
        return self._timed_vectors("frames", clip_ids)

    def faces(self, clip_ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """(times, float32 descriptors) of the face tracks of these clips (people profile)."""
        return self._timed_vectors("faces", clip_ids)

    def _timed_vectors(self, table: str, clip_ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        marks = ",".join("?" * len(clip_ids))
        rows = self.db.execute(
            f"SELECT time, vector FROM {table} WHERE clip_id IN ({marks}) ORDER BY time",
            list(clip_ids),
        ).fetchall()
        if not rows:
            return np.zeros(0), np.zeros((0, 0), dtype=np.float32)
        times = np.array([t for t, _ in rows])
        vectors = np.stack([np.frombuffer(b, dtype=np.float16) for _, b in rows])
        return times, vectors.astype(np.float32)

    def visual_frames(
        self, clip_ids: Sequence[int]
    ) -> tuple[np.ndarray, np.ndarray, list[list[tuple[int, float]]]]:
        """(times, float32 descriptors, labels) of the stored visual frames of these clips,
        in time order."""
        marks = ",".join("?" * len(clip_ids))
        rows = self.db.execute(
            f"SELECT time, vector, labels FROM visual_frames WHERE clip_id IN ({marks}) "
            "ORDER BY time",
            list(clip_ids),
        ).fetchall()
        if not rows:
            return np.zeros(0), np.zeros((0, 0), dtype=np.float32), []
        times = np.array([t for t, _, _ in rows])
        vectors = np.stack([np.frombuffer(b, dtype=np.float16) for _, b, _ in rows])
        labels = [[(int(c), float(p)) for c, p in json.loads(text)] for _, _, text in rows]
        return times, vectors.astype(np.float32), labels

    # -- people (biometric; the people profile) -------------------------------------------------

    def person_names(self, channel: str) -> dict[str, np.ndarray]:
        """The names given to voices (or faces), each with the person's mean vector."""
        rows = self.db.execute(
            "SELECT name, vector FROM person_names WHERE channel = ? ORDER BY name", (channel,)
        )
        return {name: np.frombuffer(blob, dtype=np.float32) for name, blob in rows}

    def name_person(self, channel: str, name: str, vector: np.ndarray) -> None:
        """Give ``name`` to the voice or face whose mean vector is ``vector`` (replacing what
        the name meant in that channel before)."""
        self.db.execute(
            "INSERT OR REPLACE INTO person_names (channel, name, vector) VALUES (?, ?, ?)",
            (channel, name, vector.astype(np.float32).tobytes()),
        )

    def forget_person(self, channel: str, clip_ids: Sequence[int], names: Sequence[str]) -> None:
        """Delete for good one person's vectors of ``channel`` in these clips (and, for faces,
        the clips' face tracks) and the names given to them; the clips' other data stays."""
        with self._transaction():
            ids = [(int(i),) for i in clip_ids]
            self.db.executemany(
                "DELETE FROM vectors WHERE channel = ? AND clip_id = ?",
                [(channel, i) for (i,) in ids],
            )
            if channel == "face":
                self.db.executemany("DELETE FROM faces WHERE clip_id = ?", ids)
            self.db.executemany(
                "DELETE FROM person_names WHERE channel = ? AND name = ?",
                [(channel, name) for name in names],
            )
            self._bump_generation()

    def file_clips(self, file_id: int) -> list[ClipRow]:
        """A file's clips in time order."""
        rows = self.db.execute(
            f"SELECT {_CLIP_COLUMNS} FROM clips c "
            "JOIN files f ON f.id = c.file_id WHERE c.file_id = ? ORDER BY c.start",
            (file_id,),
        )
        return [ClipRow(*row) for row in rows]

    def vectors(self, channel: str, clip_ids: Sequence[int]) -> dict[int, np.ndarray]:
        """The stored vectors of these clips in one channel; clips without one are absent."""
        found: dict[int, np.ndarray] = {}
        for chunk in _chunks(list(clip_ids), 500):  # SQLite caps the variables of a statement
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT clip_id, vector FROM vectors WHERE channel = ? AND clip_id IN ({marks})",
                [channel, *chunk],
            )
            found.update((i, np.frombuffer(blob, dtype=np.float32)) for i, blob in rows)
        return found

    def vector_matrix(self, channel: str, clip_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the ids of ``clip_ids`` found, in their order; their vectors as one matrix): how a
        vector store whose codes are lossy reads exact vectors back."""
        stored = self.vectors(channel, clip_ids.tolist())
        found = np.fromiter((i for i in clip_ids.tolist() if i in stored), dtype=np.int64)
        if len(found) == 0:
            return found, np.zeros((0, 0), dtype=np.float32)
        return found, np.stack([stored[i] for i in found.tolist()])

    def channels(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT channel FROM vectors")]

    # -- lexical search -------------------------------------------------------------------------

    def match(
        self, expression: str, limit: int, clip_filter: ClipFilter | None = None
    ) -> list[int]:
        """Clip ids matching an FTS5 expression over the words of speech and screen text
        (quoted phrases: ``postings.Postings`` ranks single words), best BM25 first, only
        those that pass ``clip_filter`` (the filter applies before the limit)."""
        if not clip_filter:
            rows = self.db.execute(
                "SELECT rowid FROM clip_text WHERE clip_text MATCH ? "
                "ORDER BY bm25(clip_text) LIMIT ?",
                (expression, limit),
            )
            return [int(rowid) for (rowid,) in rows]
        where, params = _filter_sql(clip_filter)
        rows = self.db.execute(
            "SELECT clip_text.rowid FROM clip_text JOIN clips c ON c.id = clip_text.rowid "
            f"JOIN files f ON f.id = c.file_id WHERE clip_text MATCH ? AND {where} "
            "ORDER BY bm25(clip_text) LIMIT ?",
            (expression, *params, limit),
        )
        return [int(rowid) for (rowid,) in rows]

    # -- filters --------------------------------------------------------------------------------

    def clip_ids(self, clip_filter: ClipFilter) -> np.ndarray:
        """The ids (sorted) of every clip that passes ``clip_filter``."""
        where, params = _filter_sql(clip_filter)
        rows = self.db.execute(
            f"SELECT c.id FROM clips c JOIN files f ON f.id = c.file_id WHERE {where} "
            "ORDER BY c.id",
            params,
        )
        return np.fromiter((r[0] for r in rows), dtype=np.int64)

    def all_clip_ids(self) -> np.ndarray:
        """Every clip's id, ascending."""
        rows = self.db.execute("SELECT id FROM clips ORDER BY id")
        return np.fromiter((r[0] for r in rows), np.int64)

    def clip_texts(self, ids: np.ndarray | None = None) -> Iterator[tuple[int, str, str]]:
        """(id, speech, screen text) of these clips (None: all of them, by id)."""
        if ids is None:
            yield from self.db.execute("SELECT id, speech, ocr FROM clips ORDER BY id")
            return
        for chunk in _chunks(ids.tolist(), 500):
            marks = ",".join("?" * len(chunk))
            yield from self.db.execute(
                f"SELECT id, speech, ocr FROM clips WHERE id IN ({marks}) ORDER BY id", chunk
            )

    def clip_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM clips").fetchone()[0]

    def stats(self) -> dict:
        files = dict(self.db.execute("SELECT status, COUNT(*) FROM files GROUP BY status"))
        hours = self.db.execute(
            "SELECT COALESCE(SUM(duration), 0) / 3600.0 FROM files WHERE status = 'indexed'"
        ).fetchone()[0]
        per_channel = dict(
            self.db.execute("SELECT channel, COUNT(*) FROM vectors GROUP BY channel")
        )
        return {
            "files": files.get("indexed", 0),
            "failed": files.get("failed", 0),
            "clips": self.clip_count(),
            "hours": round(hours, 3),
            "languages": self.language_hours(),
            "speech_guard": self.speech_guard(),
            "vectors": per_channel,
        }

    def speech_guard(self) -> dict:
        """What the speech guard did over the indexed files: segments decoded again, and
        segments dropped by reason (repetition loops, text over silence, ...)."""
        retried, dropped, files = 0, Counter(), 0
        for (notes,) in self.db.execute(
            "SELECT speech_notes FROM files WHERE status = 'indexed' AND speech_notes IS NOT NULL"
        ):
            found = json.loads(notes)
            retried += found.get("retried", 0)
            dropped.update(found.get("dropped", {}))
            files += bool(found.get("retried") or found.get("dropped"))
        return {"files": files, "retried": retried, "dropped": dict(sorted(dropped.items()))}

    def language_hours(self) -> dict[str, float]:
        """Hours of footage per speech language, most first: the clips of each language merged
        per file (clips overlap, so summing them would count the shared seconds twice).
        Clips of unknown language are not counted."""
        spans: dict[str, list[Span]] = {}
        for file_id, language, start, end in self.db.execute(
            "SELECT file_id, language, start, end FROM clips WHERE language IS NOT NULL"
        ):
            spans.setdefault(language, []).append(Span(start, end, file_id))
        hours = {
            language: round(sum(s.duration for s in merge(found)) / 3600.0, 3)
            for language, found in spans.items()
        }
        return dict(sorted(hours.items(), key=lambda item: (-item[1], item[0])))


# A file's day: its sidecar's (or modification day) recorded at indexing; files catalogued by
# schema 1 have none, so their modification time, in local time like the recorded days.
_FILE_DATE = "COALESCE(f.date, date(f.mtime_ns / 1000000000, 'unixepoch', 'localtime'))"


def _filter_sql(clip_filter: ClipFilter) -> tuple[str, list]:
    """A WHERE condition over ``clips c JOIN files f`` (and its params) that the clips passing
    ``clip_filter`` meet: all its conditions are on the file but the language, on the clip."""
    conditions, params = ["f.status = 'indexed'"], []
    if clip_filter.languages:
        conditions.append(f"c.language IN ({','.join('?' * len(clip_filter.languages))})")
        params += clip_filter.languages
    if clip_filter.paths:
        conditions.append("(" + " OR ".join(["mmr_glob(?, f.path)"] * len(clip_filter.paths)) + ")")
        params += clip_filter.paths
    if clip_filter.date_from is not None:
        conditions.append(f"{_FILE_DATE} >= ?")
        params.append(clip_filter.date_from.isoformat())
    if clip_filter.date_to is not None:
        conditions.append(f"{_FILE_DATE} <= ?")
        params.append(clip_filter.date_to.isoformat())
    if clip_filter.min_duration is not None:
        conditions.append("f.duration >= ?")
        params.append(clip_filter.min_duration)
    if clip_filter.max_duration is not None:
        conditions.append("f.duration <= ?")
        params.append(clip_filter.max_duration)
    for tag in clip_filter.tags:
        conditions.append("EXISTS (SELECT 1 FROM file_tags t WHERE t.file_id = f.id AND t.tag = ?)")
        params.append(tag)
    if clip_filter.any_tags:
        marks = ",".join("?" * len(clip_filter.any_tags))
        conditions.append(
            f"EXISTS (SELECT 1 FROM file_tags t WHERE t.file_id = f.id AND t.tag IN ({marks}))"
        )
        params += clip_filter.any_tags
    return " AND ".join(conditions), params


def _words_json(words: Sequence[Word]) -> str | None:
    """[start, end, text] per word, and the recogniser's probability when it gave one."""
    rows = [
        [w.start, w.end, w.text] + ([w.probability] if w.probability is not None else [])
        for w in words
    ]
    return json.dumps(rows) if words else None


def _chunks(items: list, size: int) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _timed_text(
    start: float, end: float, text: str, source: str, words: str | None, language: str | None
) -> TimedText:
    """A row of ``texts`` (its words as JSON; no JSON decoded for a line without words)."""
    return TimedText(
        start,
        end,
        text,
        source,
        tuple(Word(*w) for w in json.loads(words)) if words else (),
        language,
    )
