"""Parallel ingest (``workers`` > 1, and one process's two files at once) writes exactly the
catalog one file at a time writes, records bad files as failures, reports a dead worker
clearly, and leaves a resumable index after Ctrl-C. Real media, real models in real worker
processes and threads."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from mmretrieval import Library, MMRError, ModelMissingError, load_profile
from mmretrieval import library as library_module
from mmretrieval.ingest import FileOutcome, InProcess
from mmretrieval.store.backends import INDEX_ID
from mmretrieval.store.folder import CATALOG_FILE
from mmretrieval.testing.synth import Scene, make_audio, make_video

_BESIDE_PYTHON = Path(sys.executable).with_name("mmr")
MMR = str(_BESIDE_PYTHON) if _BESIDE_PYTHON.exists() else shutil.which("mmr")
SIZE = (320, 180)
# What differs between any two runs: when a file's row was written, and the index's own id.
UNCOMPARED_COLUMNS = {"files": {"updated_at"}}
UNCOMPARED_META = {INDEX_ID}
# Workers get a share of the cores each (1 thread here, 2 serially), and torch sums in another
# order on another thread count: vectors then differ in the last bits of float32, nothing more.
ROUNDING = 1e-6


def _tables(index: Path) -> dict[str, list[tuple]]:
    """Every table of the catalog (full-text ones and their storage included), rows in order."""
    tables = {}
    with closing(sqlite3.connect(index / CATALOG_FILE)) as db:
        names = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        for (name,) in names.fetchall():
            skipped = UNCOMPARED_COLUMNS.get(name, set())
            columns = [c[1] for c in db.execute(f'PRAGMA table_info("{name}")')]
            kept = [c for c in columns if c not in skipped]
            order = ", ".join(str(i + 1) for i in range(len(kept)))
            select = ", ".join(f'"{c}"' for c in kept)
            tables[name] = db.execute(f'SELECT {select} FROM "{name}" ORDER BY {order}').fetchall()
    tables["meta"] = [row for row in tables["meta"] if row[0] not in UNCOMPARED_META]
    return tables


def _assert_same_catalog(index: Path, expected: Path) -> None:
    """Every row of every table equal, ids included; vectors equal up to float32 rounding."""
    got, want = _tables(index), _tables(expected)
    assert sorted(got) == sorted(want)
    for name in got:
        if name != "vectors":
            assert got[name] == want[name], f"table {name} differs"
    vectors, expected_vectors = got["vectors"], want["vectors"]
    assert [row[:2] for row in vectors] == [row[:2] for row in expected_vectors]
    assert len(vectors) > 0
    for (*key, blob), (*_, expected_blob) in zip(vectors, expected_vectors, strict=True):
        vector, expected_vector = (np.frombuffer(b, np.float32) for b in (blob, expected_blob))
        assert np.abs(vector - expected_vector).max() <= ROUNDING, key


def _outcomes(outcomes: list[FileOutcome]) -> list[tuple]:
    return [(o.path, o.status, o.clips, o.error) for o in outcomes]


def _workers() -> list[multiprocessing.Process]:
    return [p for p in multiprocessing.active_children() if p.name.startswith("mmr-ingest")]


def _ingest_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("ingest")]


def test_two_files_at_once_write_the_catalog_one_at_a_time_writes(
    indexed, corpus_dir, tmp_path, monkeypatch
):
    """``Library.add`` analyses two files at once on threads sharing the models (one file's
    speech recognition beside the other's pictures); one file at a time writes the same rows."""
    together, together_report = indexed
    monkeypatch.setattr(library_module, "InProcess", partial(InProcess, at_once=1))
    with Library(tmp_path / "idx", profile="offline") as alone:
        report = alone.add([corpus_dir])
    assert _outcomes(together_report.outcomes) == _outcomes(report.outcomes)
    _assert_same_catalog(together.index_dir, alone.index_dir)
    assert _ingest_threads() == []


def test_two_workers_write_the_same_catalog_as_one(indexed, corpus_dir, tmp_path):
    serial, serial_report = indexed
    with Library(tmp_path / "idx", profile="offline") as parallel:
        report = parallel.add([corpus_dir], workers=2)
        assert _outcomes(report.outcomes) == _outcomes(serial_report.outcomes)
        _assert_same_catalog(parallel.index_dir, serial.index_dir)
        query = "ferry crossings cancelled by strong winds"
        found, expected = (lib.search(text=query, k=5) for lib in (parallel, serial))
        assert [(h.path, h.start, h.end) for h in found] == [
            (h.path, h.start, h.end) for h in expected
        ]
        assert [h.score for h in found] == pytest.approx([h.score for h in expected], abs=1e-5)
    assert report.stage_seconds["asr"] > 0 and report.stage_seconds["store"] > 0
    assert _workers() == []


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Path:
    """Good files around a corrupt one and a dangling link, which fail in a worker and in the
    writer's own change check respectively."""
    folder = tmp_path_factory.mktemp("mixed") / "media"
    make_audio(folder / "a_market.wav", [Scene(speech="Share prices rose sharply on Friday.")])
    make_video(
        folder / "b_school.mp4",
        [Scene(speech="A new primary school opens in September.", caption="NEW SCHOOL")],
        size=SIZE,
    )
    (folder / "c_noise.mp4").write_bytes(np.random.default_rng(7).bytes(4096))
    (folder / "d_gone.mp4").symlink_to(folder / "nowhere.mp4")
    make_audio(folder / "e_football.wav", [Scene(speech="The home side won the cup final.")])
    make_audio(folder / "f_traffic.wav", [Scene(speech="The bridge is closed for repairs.")])
    return folder


@pytest.fixture(scope="module")
def mixed_serial(mixed, tmp_path_factory) -> tuple[Path, list[tuple]]:
    index = tmp_path_factory.mktemp("serial") / "idx"
    with Library(index, profile="offline") as library:
        report = library.add([mixed])
    return index, _outcomes(report.outcomes)


def test_bad_files_fail_in_their_place_and_the_run_goes_on(mixed, mixed_serial, tmp_path):
    """Through the real ``mmr`` command, as a user runs it."""
    serial_index, serial_outcomes = mixed_serial
    index = tmp_path / "idx"
    result = subprocess.run(
        [MMR, "index", str(mixed), "--index", str(index), "--workers", "2", "--json"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )
    assert result.returncode == 3, result.stderr  # some files failed
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    failed = [(path, error) for path, status, _, error in serial_outcomes if status == "failed"]
    assert [path for path, _ in failed] == [str(mixed / "c_noise.mp4"), str(mixed / "d_gone.mp4")]
    assert [(f["path"], f["error"]) for f in report["failures"]] == failed
    assert (report["indexed"], report["failed"]) == (4, 2)
    _assert_same_catalog(index, serial_index)


def test_a_dead_worker_is_an_error_and_ctrl_c_stops_cleanly_both_resumable(
    mixed, mixed_serial, tmp_path
):
    """Neither leaves a worker behind or a file half-written: the run after them ends with the
    catalog an uninterrupted run writes (a failure recorded last is simply recorded again)."""
    serial_index, serial_outcomes = mixed_serial
    index = tmp_path / "idx"

    def kill_workers(outcome: FileOutcome) -> None:
        if outcome.path == str(mixed / "a_market.wav"):  # the first file, just committed
            for worker in _workers():
                os.kill(worker.pid, signal.SIGKILL)

    with Library(index, profile="offline") as library:
        with pytest.raises(MMRError, match=r"worker process \d+ died .*SIGKILL.*run the same"):
            library.add([mixed], workers=2, on_file=kill_workers)
    assert _workers() == []
    crashed = _tables(index)["files"]
    assert 1 <= len(crashed) < len(serial_outcomes)

    def ctrl_c(outcome: FileOutcome) -> None:
        if outcome.status != "indexed":  # committed by the run before, or a failure again
            return
        for worker in _workers():  # a terminal's Ctrl-C reaches the whole process group
            os.kill(worker.pid, signal.SIGINT)
        raise KeyboardInterrupt

    with Library(index, profile="offline") as library:
        with pytest.raises(KeyboardInterrupt):
            library.add([mixed], workers=2, on_file=ctrl_c)
    assert _workers() == []
    interrupted = _tables(index)["files"]
    assert len(crashed) < len(interrupted) < len(serial_outcomes)

    with Library(index, profile="offline") as library:  # resumed, here serially
        report = library.add([mixed])
    assert report.count("unchanged") == sum(row[5] == "indexed" for row in interrupted)
    _assert_same_catalog(index, serial_index)


def test_ctrl_c_in_one_process_waits_for_its_files_and_resumes(mixed, mixed_serial, tmp_path):
    """Ctrl-C while two files are analysed on threads: the run stops with every file it had
    committed, no thread left running, and the next run completes the catalog."""
    serial_index, serial_outcomes = mixed_serial
    index = tmp_path / "idx"

    def ctrl_c(outcome: FileOutcome) -> None:
        if outcome.status == "indexed":
            raise KeyboardInterrupt

    with Library(index, profile="offline") as library:
        with pytest.raises(KeyboardInterrupt):
            library.add([mixed], on_file=ctrl_c)
    assert _ingest_threads() == []
    interrupted = _tables(index)["files"]
    assert 1 <= len(interrupted) < len(serial_outcomes)

    with Library(index, profile="offline") as library:
        report = library.add([mixed])
    assert report.count("unchanged") == sum(row[5] == "indexed" for row in interrupted)
    _assert_same_catalog(index, serial_index)


def test_a_missing_model_fails_in_the_workers_before_an_index_is_made(mixed, tmp_path):
    profile = load_profile("offline")
    missing = tmp_path / "no-such-model"
    text = profile.adapters.text.model_copy(update={"model": str(missing)})
    profile = profile.model_copy(
        update={"adapters": profile.adapters.model_copy(update={"text": text})}
    )
    index = tmp_path / "idx"
    with pytest.raises(ModelMissingError, match=f"{missing} does not exist"):
        Library(index, profile=profile).add([mixed], workers=2)
    assert not index.exists()
    assert _workers() == []
