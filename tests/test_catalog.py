"""Catalog reads that other tests reach only with small inputs."""

from __future__ import annotations

import sqlite3

import numpy as np

from mmretrieval.store.catalog import Catalog, ClipText, IndexedFile


def test_vectors_of_more_clips_than_sqlite_takes_variables(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite", create=True)
    vectors = np.eye(3, 8, dtype=np.float32)
    record = IndexedFile(
        path="/media/a.wav", size=1, mtime_ns=1, hash="h", duration=30.0, has_video=False,
        has_audio=True, texts=[], vectors={"speech": ([0, 1, 2], vectors)},
        clips=[ClipText(0.0, 10.0, "a", ""), ClipText(10.0, 20.0, "b", ""),
               ClipText(20.0, 30.0, "c", "")],
    )  # fmt: skip
    _, added = catalog.put_file(record)
    clip_ids = added["speech"][0]
    catalog.db.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)  # SQLite's old default
    asked = [*range(10**6, 10**6 + 5_000), *clip_ids]
    found = catalog.vectors("speech", asked)
    assert sorted(found) == sorted(clip_ids)
    assert np.array_equal(np.stack([found[i] for i in clip_ids]), vectors)


def _file_id(catalog: Catalog, path: str) -> int:
    return catalog.db.execute("SELECT id FROM files WHERE path = ?", (path,)).fetchone()[0]


def test_a_file_recorded_again_keeps_its_id_and_new_files_come_after(tmp_path):
    """Links such as the page's /media/<id> stay valid when a file is re-indexed, and a resumed
    run that records a failure again numbers the files an uninterrupted run does."""
    catalog = Catalog(tmp_path / "catalog.sqlite", create=True)
    catalog.put_failure("/media/a.mp4", 1, 1, None, "corrupt")
    catalog.put_failure("/media/b.mp4", 1, 1, None, "corrupt")
    record = IndexedFile(
        path="/media/a.mp4", size=2, mtime_ns=2, hash="h", duration=10.0, has_video=False,
        has_audio=True, texts=[], vectors={}, clips=[ClipText(0.0, 10.0, "a", "")],
    )  # fmt: skip
    catalog.put_file(record)
    catalog.put_failure("/media/b.mp4", 1, 1, None, "still corrupt")
    catalog.put_failure("/media/c.mp4", 1, 1, None, "corrupt")
    assert [_file_id(catalog, f"/media/{n}.mp4") for n in "abc"] == [1, 2, 3]


# how catalogs made before kept screen text in a trigram table too, which nothing reads
OLD_SCREEN_TABLE = (
    "DROP TRIGGER clips_fts_insert",
    "DROP TRIGGER clips_fts_delete",
    """CREATE VIRTUAL TABLE clip_screen USING fts5(
    ocr, content='clips', content_rowid='id', tokenize='trigram')""",
    """CREATE TRIGGER clips_fts_insert AFTER INSERT ON clips BEGIN
    INSERT INTO clip_text(rowid, speech, ocr) VALUES (new.id, new.speech, new.ocr);
    INSERT INTO clip_screen(rowid, ocr) VALUES (new.id, new.ocr);
    END""",
    """CREATE TRIGGER clips_fts_delete AFTER DELETE ON clips BEGIN
    INSERT INTO clip_text(clip_text, rowid, speech, ocr)
    VALUES ('delete', old.id, old.speech, old.ocr);
    INSERT INTO clip_screen(clip_screen, rowid, ocr) VALUES ('delete', old.id, old.ocr);
    END""",
)


def _put(catalog: Catalog, name: str, speech: str, ocr: str) -> None:
    catalog.put_file(
        IndexedFile(
            path=f"/media/{name}.mp4", size=1, mtime_ns=1, hash=name, duration=10.0,
            has_video=True, has_audio=True, texts=[], vectors={},
            clips=[ClipText(0.0, 10.0, speech, ocr)],
        )
    )  # fmt: skip


def test_an_older_catalogs_unread_trigram_table_is_dropped_and_its_words_kept(tmp_path):
    path = tmp_path / "catalog.sqlite"
    older = Catalog(path, create=True)
    for statement in OLD_SCREEN_TABLE:
        older.db.execute(statement)
    _put(older, "a", "the council met", "COUNCILVOTE")
    _put(older, "b", "rain over the valley", "")
    older.close()

    catalog = Catalog(path)
    tables = {r[0] for r in catalog.db.execute("SELECT name FROM sqlite_master")}
    assert "clip_screen" not in tables and "clip_text" in tables
    catalog.remove_file("/media/a.mp4")
    _put(catalog, "c", "the council again", "")
    council = catalog.match('"council"', 10)
    assert [catalog.clips(council)[i].path for i in council] == ["/media/c.mp4"]
    assert catalog.match('"valley"', 10) and not catalog.match('"met"', 10)
