"""Search filters through the real library: path globs, dates (sidecar or modification time),
file durations and tags, on the vector and the keyword search, read from JSON and CSV sidecars."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest

from mmretrieval import ClipFilter, ConfigError, IndexDirError, Library
from mmretrieval.filters import path_matches
from mmretrieval.store.catalog import SCHEMA_VERSION, Catalog, ClipText, IndexedFile
from mmretrieval.testing.synth import Scene, make_audio, make_video

QUERY = "flood water"
MARKET_DAY = datetime(2021, 1, 15, 12, 0)


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> dict[str, Path]:
    """Three files that all speak of floods: one with a JSON sidecar, one listed in a
    metadata.csv two folders up, one with neither (dated by its modification time), and one
    clearly longer than the others."""
    root = tmp_path_factory.mktemp("archive")
    (root / "radio").mkdir()
    (root / "archive").mkdir()
    files = {
        "flood": root / "flood.mp4",
        "storm": root / "radio" / "storm.wav",
        "market": root / "archive" / "market.mp4",
    }
    make_video(
        files["flood"],
        [Scene(speech="The flood covered the main street of the town this morning.")],
        size=(320, 180),
    )
    make_audio(files["storm"], [Scene(speech="The storm brought flood warnings to the coast.")])
    make_video(
        files["market"],
        [
            Scene(speech="Farmers sold crops damaged by the flood at the market."),
            Scene(caption="MARKET DAY", duration=9.0, background=(80, 60, 30)),
        ],
        size=(320, 180),
        seed=3,
    )
    (root / "flood.mp4.json").write_text(
        json.dumps({"date": "2019-03-02", "tags": ["Flood", "interview"], "reporter": "A. Jones"})
    )
    (root / "metadata.csv").write_text(
        "path,date,tags,reporter\nradio/storm.wav,2020-06-01,interview;weather,B. Smith\n"
    )
    stamp = MARKET_DAY.timestamp()
    os.utime(files["market"], (stamp, stamp))
    return files


@pytest.fixture(scope="module")
def library(archive, tmp_path_factory):
    lib = Library(tmp_path_factory.mktemp("filters") / "idx", profile="offline")
    report = lib.add([archive["flood"].parent])
    assert report.count("indexed") == 3, report.to_dict()
    yield lib
    lib.close()


@pytest.fixture(scope="module")
def durations(library) -> dict[str, float]:
    return {Path(f.path).stem: f.duration for f in library.catalog.files()}


def found(library, query: str = QUERY, **criteria) -> set[str]:
    """Names of the files among the hits for ``query`` under a filter of ``criteria``."""
    hits = library.search(text=query, k=10, filter=ClipFilter(**criteria) if criteria else None)
    return {Path(hit.path).stem for hit in hits}


def test_unfiltered_query_reaches_every_file(library):
    assert found(library) == {"flood", "storm", "market"}


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (("radio/*",), {"storm"}),
        (("*.mp4",), {"flood", "market"}),
        (("archive/",), {"market"}),
        (("**/radio/*.wav", "flood.*"), {"storm", "flood"}),
        (("*.mkv",), set()),
    ],
)
def test_path_globs(library, paths, expected):
    assert found(library, paths=paths) == expected


def test_absolute_path_glob(library, archive):
    assert found(library, paths=(str(archive["storm"].parent) + "/*",)) == {"storm"}


def test_dates_from_json_csv_and_modification_time(library):
    # flood: 2019-03-02 (JSON), storm: 2020-06-01 (CSV), market: its mtime day
    market_day = MARKET_DAY.date()
    assert found(library, date_to="2019-12-31") == {"flood"}
    assert found(library, date_from="2020-01-01") == {"storm", "market"}
    assert found(library, date_from="2020-06-01", date_to="2020-06-01") == {"storm"}
    assert found(library, date_from=market_day, date_to=market_day) == {"market"}
    assert found(library, date_from="2022-01-01") == set()


def test_file_duration(library, durations):
    assert durations["market"] > max(durations["flood"], durations["storm"]) + 5
    cut = durations["market"] - 3
    assert found(library, min_duration=cut) == {"market"}
    assert found(library, max_duration=cut) == {"flood", "storm"}
    assert found(library, min_duration=durations["market"] + 1) == set()


def test_tags_all_of_and_any_of_case_insensitive(library):
    assert found(library, tags=("interview",)) == {"flood", "storm"}
    assert found(library, tags=("INTERVIEW", "weather")) == {"storm"}
    assert found(library, any_tags=("flood", "weather")) == {"flood", "storm"}
    assert found(library, tags=("flood",), any_tags=("weather",)) == set()


def test_filters_combine(library):
    assert found(library, paths=("*.mp4",), tags=("interview",)) == {"flood"}


def test_nothing_passes_gives_no_hits(library):
    assert library.search(text=QUERY, filter=ClipFilter(tags=("sport",))) == []


def test_keyword_search_honours_the_filter(library):
    def keyword(text: str, **criteria) -> set[str]:
        clip_filter = ClipFilter(**criteria) if criteria else None
        hits = library.search(text=text, spaces=["lexical"], filter=clip_filter)
        return {Path(hit.path).stem for hit in hits}

    assert keyword('"main street"') == {"flood"}
    assert keyword('"main street"', paths=("radio/*",)) == set()
    assert {"flood", "storm"} <= keyword("flood")
    assert keyword("flood", tags=("weather",)) == {"storm"}


def test_empty_filter_is_no_filter(library):
    assert not ClipFilter()
    assert found(library) == {
        Path(h.path).stem for h in library.search(text=QUERY, filter=ClipFilter())
    }


def _mmr(*args) -> subprocess.CompletedProcess:
    beside = Path(sys.executable).with_name("mmr")
    mmr = str(beside) if beside.exists() else shutil.which("mmr")
    return subprocess.run([mmr, *map(str, args)], capture_output=True, text=True, timeout=240)


def test_cli_filter_options(library):
    result = _mmr(
        "search", QUERY, "--index", library.index_dir, "--json",
        "--tag", "interview", "--after", "2020-01-01",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert {Path(h["path"]).stem for h in json.loads(result.stdout)} == {"storm"}
    bad = _mmr("search", QUERY, "--index", library.index_dir, "--before", "2020-13-01")
    assert bad.returncode == 2 and "not an ISO date" in bad.stderr


def test_http_filter_parameters(library, archive):
    from fastapi.testclient import TestClient

    from mmretrieval.server.app import ServerSettings, create_app

    app = create_app(ServerSettings(index_dir=library.index_dir))
    with TestClient(app, base_url="http://127.0.0.1") as client:

        def names(**params) -> set[str]:
            response = client.get("/search", params={"q": QUERY, **params})
            assert response.status_code == 200, response.text
            return {Path(hit["path"]).stem for hit in response.json()}

        assert names(tag="interview", after="2020-01-01") == {"storm"}
        assert names(path=["radio/*", "flood.*"]) == {"storm", "flood"}
        assert names(any_tag=["weather", "flood"]) == {"storm", "flood"}
        upload = client.post(
            "/search",
            params={"path": "*.mp4"},
            files={"file": ("q.wav", archive["storm"].read_bytes(), "audio/wav")},
        )
        uploaded = {Path(h["path"]).stem for h in upload.json()}
        assert uploaded and uploaded <= {"flood", "market"}
        bad = client.get("/search", params={"q": QUERY, "before": "2020-13-01"})
        assert bad.status_code == 400 and "not an ISO date" in bad.json()["detail"]


# -- sidecars at ingest -----------------------------------------------------------------------


def test_metadata_edits_reindex_only_the_files_they_describe(tmp_path):
    folder = tmp_path / "media"
    folder.mkdir()
    one, two = folder / "one.wav", folder / "two.wav"
    make_audio(one, [Scene(speech="The river rose after the rain.")])
    make_audio(two, [Scene(speech="The bridge was closed to traffic.")])
    (folder / "metadata.csv").write_text("path,tags\none.wav,river\ntwo.wav,bridge\n")
    with Library(tmp_path / "idx", profile="offline") as lib:
        lib.add([folder])
        assert found(lib, "river bridge", tags=("river",)) == {"one"}

        (folder / "metadata.csv").write_text("path,tags\none.wav,river;flood\ntwo.wav,bridge\n")
        report = lib.add([folder])
        assert {Path(o.path).stem: o.status for o in report.outcomes} == {
            "one": "indexed",
            "two": "unchanged",
        }
        assert found(lib, "river bridge", tags=("flood",)) == {"one"}

        (folder / "two.json").write_text('{"tags": ["flood"], "date": "2001-02-03"}')
        report = lib.add([folder])
        assert {Path(o.path).stem: o.status for o in report.outcomes} == {
            "one": "unchanged",
            "two": "indexed",
        }
        assert found(lib, "river bridge", tags=("flood",)) == {"one", "two"}
        assert found(lib, "river bridge", date_to="2001-12-31") == {"two"}

        (folder / "two.json").write_text('{"date": "3 February"}')
        report = lib.add([folder])
        (failure,) = report.failures
        assert failure.path == str(two) and "not an ISO date" in failure.error
        assert "two.json" in failure.error


# -- the filter itself ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("*.mp4", "/a/b/clip.mp4", True),
        ("*.mp4", "/a/b.mp4/clip.wav", False),
        ("clip.*", "/a/clip.mp4", True),
        ("b/*.mp4", "/a/b/clip.mp4", True),
        ("b/*.mp4", "/a/ab/clip.mp4", False),
        ("a/*.mp4", "/a/b/clip.mp4", False),
        ("a/**/*.mp4", "/a/b/c/clip.mp4", True),
        ("a/**/*.mp4", "/a/clip.mp4", True),
        ("/a/*", "/a/clip.mp4", True),
        ("/b/*", "/a/b/clip.mp4", False),
        ("a/", "/x/a/b/c.mp4", True),
        ("clip[0-9].mp4", "/a/clip7.mp4", True),
        ("clip[!0-9].mp4", "/a/clip7.mp4", False),
        ("cl?p.mp4", "/a/clip.mp4", True),
        ("**/x.mp4", "/ax.mp4", False),
        # more than MAX_REGEX_WILDCARDS: matched by the automaton, not the backtracking regex
        ("**/news/**/*.mp4", "/a/news/2019/03/x.mp4", True),
        ("**/news/**/*.mp4", "/a/news.mp4", False),
        ("a/*/*/*.mp4", "/x/a/b/c/d.mp4", True),
        ("a/*/*/*.mp4", "/x/a/b/d.mp4", False),
        ("/**/**/b/**", "/a/b/c", True),
        ("/**/**/b/**", "/a/bc", False),
        ("*?" * 6 + ".mp4", "/a/storm_interview.mp4", True),
        ("*?" * 30 + "q", "/archive/news/2019/" + "reportage_inondations_" * 3 + ".mp4", False),
        ("**" * 40 + ".mp4", "/archive/news/2019/storm.mp4", True),
    ],
)
def test_path_matches(pattern, path, matches):
    assert path_matches(pattern, path) is matches


@pytest.mark.parametrize(
    ("criteria", "message"),
    [
        ({"date_from": "2020-02-30"}, "not an ISO date"),
        ({"date_from": "2021-01-01", "date_to": "2020-01-01"}, "swap them"),
        ({"min_duration": -1}, "at least 0"),
        ({"min_duration": 10, "max_duration": 5}, "swap them"),
        ({"paths": ("",)}, "path filter is empty"),
        ({"paths": ("*.mp4", "clip[z-a].mp4")}, "is not a glob"),
    ],
)
def test_bad_filters_are_refused_with_the_reason(criteria, message):
    with pytest.raises(ConfigError, match=message):
        ClipFilter(**criteria)


def test_filter_normalises_its_values():
    f = ClipFilter(paths="*.mp4", date_from="2019-03-02T10:00:00", tags=[" Flood", "flood", ""])
    assert f.paths == ("*.mp4",) and f.date_from == date(2019, 3, 2) and f.tags == ("flood",)


def test_filter_from_command_options():
    assert ClipFilter.from_options() is None
    assert ClipFilter.from_options(paths=None, tags=[], any_tags=None) is None
    built = ClipFilter.from_options(
        paths=["news/*"], after="2019-03-02", before="2019-04-01", min_duration=5,
        max_duration=60, tags=["Flood"], any_tags=["radio", "tv"],
    )  # fmt: skip
    assert built == ClipFilter(
        paths=("news/*",), date_from=date(2019, 3, 2), date_to=date(2019, 4, 1),
        min_duration=5, max_duration=60, tags=("flood",), any_tags=("radio", "tv"),
    )  # fmt: skip
    with pytest.raises(ConfigError, match="date_from 2021-01-01 is after date_to 2020-01-01"):
        ClipFilter.from_options(after="2021-01-01", before="2020-01-01")


def test_cli_and_http_refuse_a_bad_filter_with_one_message(library):
    from fastapi.testclient import TestClient

    from mmretrieval.server.app import ServerSettings, create_app

    dates = {"after": "2021-01-01", "before": "2020-01-01"}
    options = (f"--{name}={day}" for name, day in dates.items())
    cli = _mmr("search", QUERY, "--index", library.index_dir, *options)
    assert cli.returncode == 2, cli.stderr
    app = create_app(ServerSettings(index_dir=library.index_dir))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        http = client.get("/search", params={"q": QUERY, **dates})
    assert http.status_code == 400
    message = http.json()["detail"]
    assert "swap them" in message and cli.stderr.strip() == f"error: {message}"


def test_schema_1_catalog_is_upgraded_and_dated_by_modification_time(tmp_path):
    path = tmp_path / "catalog.sqlite"
    catalog = Catalog(path, create=True)
    modified = datetime(2018, 5, 6, 12, 0)
    catalog.put_file(
        IndexedFile(
            path="/old/clip.mp4",
            size=1,
            mtime_ns=int(modified.timestamp() * 1e9),
            hash="h",
            duration=30.0,
            has_video=True,
            has_audio=True,
            clips=[ClipText(0.0, 10.0, "old words", ""), ClipText(8.0, 18.0, "more words", "")],
            texts=[],
            vectors={"speech": ([0, 1], np.eye(2, 4, dtype=np.float32))},
        )
    )
    catalog.close()
    # what a catalog written by schema 1 looks like: no date or metadata, no tags table
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE files DROP COLUMN date")
        db.execute("ALTER TABLE files DROP COLUMN metadata")
        db.execute("DROP TABLE file_tags")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")

    upgraded = Catalog(path)
    assert upgraded.get_meta("schema_version") == str(SCHEMA_VERSION)
    columns = {row[1] for row in upgraded.db.execute("PRAGMA table_info(files)")}
    assert {"date", "metadata"} <= columns
    assert len(upgraded.clip_ids(ClipFilter(date_from=modified.date(), date_to="2018-05-06"))) == 2
    assert len(upgraded.clip_ids(ClipFilter(date_from="2018-05-07"))) == 0
    assert len(upgraded.clip_ids(ClipFilter(tags=("any",)))) == 0
    assert upgraded.match('"old words"', 10, clip_filter=ClipFilter(max_duration=60)) != []
    upgraded.close()
    assert Catalog(path).get_meta("schema_version") == str(SCHEMA_VERSION)  # reopens as is


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "catalog.sqlite"
    Catalog(path, create=True).set_meta("schema_version", str(SCHEMA_VERSION + 1))
    with pytest.raises(IndexDirError, match="re-index into a new folder"):
        Catalog(path)
