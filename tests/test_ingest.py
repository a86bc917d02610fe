"""Ingest keeps an index in step with a folder: incremental, sidecar-aware, robust to bad files,
resumable after a kill, and single-writer. Real media, real models, the real ``mmr`` command."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from mmretrieval import IndexDirError, Library
from mmretrieval.store import backends
from mmretrieval.store.folder import CATALOG_FILE
from mmretrieval.store.lock import LOCK_FILE
from mmretrieval.testing.synth import Scene, SceneSpan, make_audio, make_video, write_subtitles

SIZE = (320, 180)
_BESIDE_PYTHON = Path(sys.executable).with_name("mmr")
MMR = str(_BESIDE_PYTHON) if _BESIDE_PYTHON.exists() else shutil.which("mmr")
ENV = {**os.environ, "COLUMNS": "200"}
DEADLINE_S = 240

LIGHTHOUSE = "The lighthouse keeper painted the tower red and white."
BAKERY = "The bakery on the corner sold out of fresh bread before noon."
ORCHESTRA = "The orchestra will tour Japan in the autumn."
MUSEUM = "The museum reopens its dinosaur gallery next spring."
CAROUSEL = "Volunteers restored the antique carousel beside the pier."


# -- helpers ----------------------------------------------------------------------------------


def _mmr(*args, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [MMR, *map(str, args)],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        timeout=DEADLINE_S,
    )


def _query(index: Path, sql: str, *args) -> list[tuple]:
    """A read-only look at the catalog, as another process would take it."""
    uri = f"file:{index / CATALOG_FILE}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=30)) as db:
        return db.execute(sql, args).fetchall()


def _indexed_count(index: Path) -> int:
    try:
        return _query(index, "SELECT COUNT(*) FROM files WHERE status = 'indexed'")[0][0]
    except sqlite3.Error:  # not created yet, or its schema not yet written
        return 0


def _clips(index: Path) -> list[tuple]:
    return _query(
        index,
        "SELECT c.id, f.path, c.start, c.end FROM clips c JOIN files f ON f.id = c.file_id "
        "ORDER BY c.id",
    )


def _generation(index: Path) -> int:
    rows = _query(index, "SELECT value FROM meta WHERE key = 'generation'")
    return int(rows[0][0]) if rows else 0


def _spans(index: Path) -> list[tuple[str, float, float]]:
    return sorted((path, round(start, 3), round(end, 3)) for _, path, start, end in _clips(index))


def _statuses(report) -> dict[str, str]:
    return {o.path: o.status for o in report.outcomes}


def _paths(hits) -> set[str]:
    return {h.path for h in hits}


def _assert_store_matches_catalog(library: Library) -> None:
    """Every channel's FAISS index, as an open of the index finds it (rebuilt if it lagged),
    holds exactly the catalog's vectors for it."""
    store = backends.open_current(library.catalog, library.profile.store, library.index_dir)
    vectors = library.stats()["vectors"]
    assert vectors, "the catalog holds no vectors at all"
    channels = set(store.channels()) | set(vectors)
    assert {ch: store.count(ch) for ch in channels} == {ch: vectors.get(ch, 0) for ch in channels}


def _assert_reopened_store_is_current(index: Path) -> None:
    """A fresh open finds a saved store at the catalog's generation, with matching counts."""
    with Library(index) as reopened:
        store = _saved_store(reopened)
        assert store.generation == _generation(index), "saved vector store lags the catalog"
        _assert_store_matches_catalog(reopened)


def _saved_store(library: Library):
    """The vector store as saved on disk (never rebuilt on open, unlike the Library's)."""
    owner = library.catalog.get_meta(backends.INDEX_ID)
    return backends.open_store(library.profile.store, library.index_dir, owner)


# -- incremental ------------------------------------------------------------------------------


def test_second_run_changes_nothing_and_an_edited_file_is_replaced(tmp_path):
    folder = tmp_path / "media"
    keeper = folder / "keeper.mp4"
    radio = folder / "radio.wav"
    make_video(keeper, [Scene(speech=LIGHTHOUSE, caption="LIGHTHOUSE KEEPER")], size=SIZE)
    make_audio(radio, [Scene(speech=ORCHESTRA)])
    index = tmp_path / "idx"
    library = Library(index, profile="offline")

    first = library.add([folder])
    assert _statuses(first) == {str(keeper): "indexed", str(radio): "indexed"}
    before = _clips(index), _generation(index)

    again = library.add([folder])
    assert _statuses(again) == {str(keeper): "unchanged", str(radio): "unchanged"}
    assert (_clips(index), _generation(index)) == before

    old_keeper_clips = {row for row in before[0] if row[1] == str(keeper)}
    radio_clips = [row for row in before[0] if row[1] == str(radio)]
    assert old_keeper_clips and radio_clips
    assert _paths(library.search(text="lighthouse", spaces=["lexical"])) == {str(keeper)}

    make_video(keeper, [Scene(speech=BAKERY, caption="BREAD SOLD OUT")], size=SIZE)
    edited = library.add([folder])
    assert _statuses(edited) == {str(keeper): "indexed", str(radio): "unchanged"}
    after = _clips(index)
    assert [row for row in after if row[1] == str(radio)] == radio_clips
    assert not old_keeper_clips & set(after)
    assert not library.search(text="lighthouse", spaces=["lexical"])
    assert all("lighthouse" not in h.text.lower() for h in library.search(text=LIGHTHOUSE))
    hit = library.search(text="bread sold out at the bakery", k=3)[0]
    assert hit.path == str(keeper)
    assert hit.evidence["speech"] > 0.3
    _assert_store_matches_catalog(library)

    # mtime alone changed: the content hash is equal, so nothing is re-indexed
    stamp = keeper.stat().st_mtime_ns + 10**10
    os.utime(keeper, ns=(stamp, stamp))
    state = _clips(index), _generation(index)
    touched = library.add([folder])
    assert _statuses(touched) == {str(keeper): "unchanged", str(radio): "unchanged"}
    assert (_clips(index), _generation(index)) == state
    library.close()


def test_deleted_file_stays_until_pruned(tmp_path):
    folder = tmp_path / "media"
    keeper = folder / "keeper.wav"
    radio = folder / "radio.wav"
    make_audio(keeper, [Scene(speech=LIGHTHOUSE)])
    make_audio(radio, [Scene(speech=ORCHESTRA)])
    index = tmp_path / "idx"
    library = Library(index, profile="offline")
    library.add([folder])
    vectors_before = library.stats()["vectors"]
    radio.unlink()

    kept = library.add([folder])
    assert _statuses(kept) == {str(keeper): "unchanged"}
    assert str(radio) in {path for _, path, _, _ in _clips(index)}
    # dense and lexical together: one misheard word must not decide this (ASR under load varies)
    assert library.search(text="the orchestra tours Japan this autumn", k=1)[0].path == str(radio)

    pruned = library.add([folder], prune=True)
    assert _statuses(pruned) == {str(keeper): "unchanged", str(radio): "removed"}
    assert {path for _, path, _, _ in _clips(index)} == {str(keeper)}
    assert _query(index, "SELECT COUNT(*) FROM files WHERE path = ?", str(radio)) == [(0,)]
    assert str(radio) not in _paths(library.search(text="the orchestra tours Japan", k=10))
    assert str(radio) not in _paths(library.search(text=ORCHESTRA, k=10))
    assert sum(library.stats()["vectors"].values()) < sum(vectors_before.values())
    _assert_store_matches_catalog(library)
    library.close()
    _assert_reopened_store_is_current(index)


# -- subtitle sidecars ------------------------------------------------------------------------


def test_sidecar_replaces_speech_recognition_and_adding_one_reindexes(tmp_path):
    folder = tmp_path / "media"
    video = folder / "museum.mp4"
    spans = make_video(video, [Scene(speech=MUSEUM)], size=SIZE)
    library = Library(tmp_path / "idx", profile="offline")

    assert _statuses(library.add([folder])) == {str(video): "indexed"}
    assert _paths(library.search(text="dinosaur gallery", spaces=["lexical"])) == {str(video)}

    cues = [SceneSpan(s.start, s.end, CAROUSEL, None) for s in spans if s.speech]
    write_subtitles(video.with_suffix(".srt"), cues)
    assert _statuses(library.add([folder])) == {str(video): "indexed"}

    hit = library.search(text="antique carousel restored by volunteers", k=3)[0]
    assert hit.path == str(video)
    assert "carousel" in hit.text.lower()
    assert hit.language == "en"  # a plain sidecar is in the English-only recogniser's language
    assert hit.evidence["speech"] > 0.3
    assert _paths(library.search(text="carousel pier", spaces=["lexical"])) == {str(video)}
    assert not library.search(text="dinosaur gallery", spaces=["lexical"])

    assert _statuses(library.add([folder])) == {str(video): "unchanged"}
    library.close()


# -- bad input --------------------------------------------------------------------------------


@dataclass
class BadBatch:
    root: Path
    folder: Path
    index: Path
    good: Path
    first: subprocess.CompletedProcess
    second: subprocess.CompletedProcess
    info_first: dict
    info_second: dict
    rows_first: list[tuple]
    rows_second: list[tuple]


BAD_FILES = {  # name under the root -> what the reason must say
    "incoming/empty.mp4": r"empty",
    "incoming/noise.mp4": r"corrupt|not a readable media",
    "incoming/truncated.mp4": r"corrupt|truncated",
    "incoming/x.mp4": r"cannot read|no such file|missing|broken|dangling",
    "notes.txt": r"unsupported file type \.txt",
}


def _failures(stdout: str) -> dict[str, str]:
    """Failed path -> reason, from the run's report (whitespace-normalised: tables wrap)."""
    flat = " ".join(stdout.split())
    return dict(re.findall(r"failed (/\S+): (.*?)(?= failed /|$)", flat))


@pytest.fixture(scope="module")
def bad_batch(tmp_path_factory) -> BadBatch:
    root = tmp_path_factory.mktemp("bad_input")
    folder = root / "incoming"
    good = folder / "good.mp4"
    make_video(good, [Scene(speech=LIGHTHOUSE, caption="LIGHTHOUSE KEEPER")], size=SIZE)
    data = good.read_bytes()
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "noise.mp4").write_bytes(np.random.default_rng(7).bytes(4096))
    (folder / "truncated.mp4").write_bytes(data[: int(len(data) * 0.4)])
    (folder / "x.mp4").symlink_to(folder / "gone.mp4")
    (root / "notes.txt").write_text("meeting notes, not media")
    index = root / "idx"

    first = _mmr("index", "incoming", "notes.txt", "--index", index, cwd=root)
    info_first = json.loads(_mmr("info", "--index", index, "--json").stdout)
    rows_first = _query(index, "SELECT path, status FROM files ORDER BY path")
    second = _mmr("index", "incoming", "notes.txt", "--index", index, cwd=root)
    info_second = json.loads(_mmr("info", "--index", index, "--json").stdout)
    rows_second = _query(index, "SELECT path, status FROM files ORDER BY path")
    return BadBatch(
        root, folder, index, good, first, second, info_first, info_second, rows_first, rows_second
    )


def test_bad_files_make_exit_code_3(bad_batch):
    assert bad_batch.first.returncode == 3, bad_batch.first.stderr
    assert "Traceback" not in bad_batch.first.stderr


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_each_bad_file_is_named_with_its_reason(bad_batch, name):
    failures = _failures(bad_batch.first.stdout)
    path = str(bad_batch.root / name)
    assert path in failures, f"{name} not reported as failed in:\n{bad_batch.first.stdout}"
    assert re.search(BAD_FILES[name], failures[path], re.IGNORECASE), failures[path]


def test_good_file_beside_bad_ones_is_indexed_and_searchable(bad_batch):
    assert (str(bad_batch.good), "indexed") in bad_batch.rows_first
    assert [p for p, status in bad_batch.rows_first if status == "indexed"] == [str(bad_batch.good)]
    with Library(bad_batch.index) as library:
        hit = library.search(text="lighthouse keeper painting the tower", k=3)[0]
    assert hit.path == str(bad_batch.good)


def test_info_lists_the_failures(bad_batch):
    info = bad_batch.info_first
    reported = _failures(bad_batch.first.stdout)
    listed = {f["path"]: f["error"] for f in info["failures"]}
    assert listed == reported
    assert info["failed"] == len(listed) >= len(BAD_FILES) - 1
    assert info["files"] == 1


def test_rerun_still_exits_3_and_adds_no_rows(bad_batch):
    assert bad_batch.second.returncode == 3
    assert bad_batch.rows_second == bad_batch.rows_first
    assert len({p for p, _ in bad_batch.rows_second}) == len(bad_batch.rows_second)
    keys = ("files", "failed", "clips", "vectors")
    assert {k: bad_batch.info_second[k] for k in keys} == {k: bad_batch.info_first[k] for k in keys}
    clip_spans = _query(
        bad_batch.index, "SELECT file_id, start, end, COUNT(*) FROM clips GROUP BY 1, 2, 3"
    )
    assert all(count == 1 for *_, count in clip_spans)


# -- resumable after a kill -------------------------------------------------------------------


@pytest.fixture(scope="module")
def five_files(tmp_path_factory) -> Path:
    """Five small files; the first (by name) is the longest, so killing inside it is easy."""
    folder = tmp_path_factory.mktemp("resume") / "media"
    make_video(
        folder / "a_weather.mp4",
        [
            Scene(speech="Rain will spread from the west during the morning.", caption="RAIN"),
            Scene(speech="Temperatures fall to four degrees by the evening.", caption="COLD"),
            Scene(speech="The weekend looks dry and bright across the region.", caption="DRY"),
        ],
        size=SIZE,
    )
    make_audio(folder / "b_market.wav", [Scene(speech="Share prices rose sharply on Friday.")])
    make_video(
        folder / "c_school.mp4",
        [Scene(speech="A new primary school opens in September.", caption="NEW SCHOOL")],
        size=SIZE,
        seed=3,
    )
    make_audio(folder / "d_football.wav", [Scene(speech="The home side won the cup final.")])
    make_audio(folder / "e_traffic.wav", [Scene(speech="The bridge is closed for repairs.")])
    return folder


@pytest.fixture(scope="module")
def uninterrupted(five_files, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The same files indexed by one `mmr index` run that nothing interrupts."""
    index = tmp_path_factory.mktemp("uninterrupted") / "idx"
    return index, _mmr("index", five_files, "--index", index, "--json")


def test_a_run_of_only_good_files_exits_0(uninterrupted):
    _, result = uninterrupted
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["indexed"], report["failed"], report["failures"]) == (5, 0, [])


def _start_index(folder: Path, index: Path, log: Path) -> subprocess.Popen:
    with log.open("w") as handle:
        return subprocess.Popen(
            [MMR, "index", str(folder), "--index", str(index)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=handle,
            env=ENV,
        )


def _wait_for(proc: subprocess.Popen, condition, log: Path) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert proc.poll() is None, f"mmr index ended before the kill:\n{log.read_text()}"
        assert time.monotonic() < deadline, "gave up waiting to kill mmr index"
        time.sleep(0.005)


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def _has_open(pid: int, paths: set[str]) -> bool:
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(fd) in paths:
                return True
        except OSError:
            continue
    return False


def _assert_same_as_uninterrupted(index: Path, uninterrupted: tuple) -> None:
    baseline, result = uninterrupted
    assert result.returncode == 0, result.stderr
    assert _spans(index) == _spans(baseline)
    duplicates = _query(
        index, "SELECT file_id, start, end FROM clips GROUP BY 1, 2, 3 HAVING COUNT(*) > 1"
    )
    assert duplicates == []
    per_channel = "SELECT channel, COUNT(*) FROM vectors GROUP BY 1 ORDER BY 1"
    assert _query(index, per_channel) == _query(baseline, per_channel)
    _assert_reopened_store_is_current(index)


def test_killed_index_resumes_where_it_stopped(five_files, uninterrupted, tmp_path):
    index = tmp_path / "idx"
    log = tmp_path / "killed.log"
    proc = _start_index(five_files, index, log)
    try:
        _wait_for(proc, lambda: _indexed_count(index) >= 1, log)
        _kill(proc)
    finally:
        proc.kill()
        proc.wait()
    done = _indexed_count(index)
    assert 1 <= done < 5, f"kill landed after {done} of 5 files"

    with Library(index) as reopened:  # whatever the kill left on disk, opening levels it
        _assert_store_matches_catalog(reopened)

    rerun = _mmr("index", five_files, "--index", index, "--json")
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert (report["indexed"], report["unchanged"], report["failed"]) == (5 - done, done, 0)
    _assert_same_as_uninterrupted(index, uninterrupted)


def test_kill_inside_the_first_file_leaves_a_usable_index(five_files, uninterrupted, tmp_path):
    if not Path(f"/proc/{os.getpid()}/fd").is_dir():
        pytest.skip("needs /proc to see which file mmr index has open")
    index = tmp_path / "idx"
    log = tmp_path / "killed.log"
    media = {str(p.resolve()) for p in five_files.iterdir()}
    proc = _start_index(five_files, index, log)
    try:
        _wait_for(proc, lambda: _has_open(proc.pid, media), log)
        _kill(proc)
    finally:
        proc.kill()
        proc.wait()
    assert _indexed_count(index) == 0, "the kill came after the first file was committed"

    rerun = _mmr("index", five_files, "--index", index, "--json")
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["indexed"] == 5
    _assert_same_as_uninterrupted(index, uninterrupted)


# -- one writer at a time ---------------------------------------------------------------------


def test_second_writer_gets_a_clear_error(tmp_path):
    media = tmp_path / "one.wav"
    make_audio(media, [Scene(speech=ORCHESTRA)])
    index = tmp_path / "idx"
    index.mkdir()
    with (index / LOCK_FILE).open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(IndexDirError, match="another process is writing") as raised:
            Library(index, profile="offline").add([media])
    assert str(index) in str(raised.value)
    assert not (index / CATALOG_FILE).exists()
