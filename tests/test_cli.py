"""The `mmr` command run as a user runs it: JSON for programs, tables for people, the same
answers as the Python API, and exit code 2 with one line on stderr for every user error."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

_BESIDE_PYTHON = Path(sys.executable).with_name("mmr")
MMR = str(_BESIDE_PYTHON) if _BESIDE_PYTHON.exists() else shutil.which("mmr")
ENV = {**os.environ, "COLUMNS": "200"}

QUERY = "ferries cancelled by the wind"
WEIGHTS = {"lexical": 0.3}
SPAN = re.compile(r"\d+:\d{2}\.\d–\d+:\d{2}\.\d")


def _mmr(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [MMR, *map(str, args)],
        capture_output=True,
        text=True,
        env=ENV,
        stdin=subprocess.DEVNULL,
        timeout=240,
    )


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@pytest.fixture(scope="module")
def index_dir(indexed) -> Path:
    library, _ = indexed
    return library.index_dir


@pytest.fixture(scope="module")
def cli_hits(index_dir) -> list:
    result = _mmr(
        "search", "--index", index_dir, QUERY, "--json", "-k", "5", "--weights", "lexical=0.3"
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_search_json_is_a_ranked_list_of_typed_hits(cli_hits, corpus):
    assert isinstance(cli_hits, list) and 0 < len(cli_hits) <= 5
    for hit in cli_hits:
        assert {"path", "start", "end", "score", "evidence", "text", "clip_id", "file_id"} <= set(
            hit
        )
        assert isinstance(hit["path"], str) and isinstance(hit["text"], str)
        assert all(_is_number(hit[key]) for key in ("start", "end", "score"))
        assert 0 <= hit["start"] < hit["end"]
        assert isinstance(hit["evidence"], dict) and hit["evidence"]
        assert all(isinstance(k, str) and _is_number(v) for k, v in hit["evidence"].items()), hit[
            "evidence"
        ]
        assert all(
            isinstance(hit[key], int) and not isinstance(hit[key], bool)
            for key in ("clip_id", "file_id")
        )
    scores = [hit["score"] for hit in cli_hits]
    assert scores == sorted(scores, reverse=True)
    assert {hit["path"] for hit in cli_hits} <= {str(m.path) for m in corpus.values()}
    assert cli_hits[0]["path"] == str(corpus["harbour"].path)


def test_cli_and_python_api_give_the_same_hits(cli_hits, indexed):
    library, _ = indexed
    api = library.search(text=QUERY, k=5, weights=WEIGHTS)
    assert [h["path"] for h in cli_hits] == [h.path for h in api]
    assert [(h["clip_id"], h["file_id"]) for h in cli_hits] == [(h.clip_id, h.file_id) for h in api]
    for cli, hit in zip(cli_hits, api, strict=True):
        assert cli["start"] == pytest.approx(hit.start, abs=1e-3)
        assert cli["end"] == pytest.approx(hit.end, abs=1e-3)
        assert cli["score"] == pytest.approx(hit.score, abs=1e-4)
        assert cli["evidence"] == pytest.approx(hit.evidence, abs=1e-4)
        assert cli["text"] == hit.text


def test_search_table_shows_file_name_and_span(index_dir, corpus):
    result = _mmr("search", "--index", index_dir, "budget for public libraries", "-k", "3")
    assert result.returncode == 0, result.stderr
    name = corpus["council"].path.name
    rows = [line for line in result.stdout.splitlines() if name in line]
    assert rows, result.stdout
    assert SPAN.search(rows[0]), rows[0]


def test_info_json_describes_the_index(index_dir, indexed, corpus):
    library, report = indexed
    result = _mmr("info", "--index", index_dir, "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert {"files", "failed", "clips", "hours", "vectors", "models", "failures"} <= set(info)
    assert info == library.stats()
    assert (info["files"], info["failed"], info["failures"]) == (len(corpus), 0, [])
    assert info["clips"] == sum(o.clips for o in report.outcomes)
    assert info["hours"] == pytest.approx(report.footage_seconds / 3600, abs=1e-3)
    assert info["vectors"] and all(
        isinstance(n, int) and 0 < n <= info["clips"] for n in info["vectors"].values()
    )
    assert info["models"] and all(isinstance(m, str) for m in info["models"].values())


def test_info_table_prints(index_dir, indexed):
    library, _ = indexed
    stats = library.stats()
    result = _mmr("info", "--index", index_dir)
    assert result.returncode == 0, result.stderr
    flat = " ".join(result.stdout.split())
    for key in ("files", "failed", "clips", "hours"):
        assert re.search(rf"{key}\W+{re.escape(str(stats[key]))}\b", flat), (key, flat)
    for adapter, model in stats["models"].items():
        assert f"{adapter}: {model}" in flat
    for channel, count in stats["vectors"].items():
        assert f"{channel}: {count}" in flat


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (["search", "--index", "{missing}", "q"], "{missing}"),
        (["search", "--index", "{index}"], "--audio"),
        (["search", "--index", "{index}", "q", "--audio", "{audio}"], "--audio"),
        (["search", "--index", "{index}", "q", "--weights", "text=abc"], "space=number"),
        (["search", "--index", "{index}", "q", "--spaces", "nonsense"], "nonsense"),
        (["search", "--index", "{index}", "q", "-k", "0"], "at least 1"),
        (["index", "{missing}", "--index", "{new}"], "{missing}"),
    ],
    ids=["missing-index", "no-query", "two-queries", "bad-weight", "bad-space", "k0", "no-media"],
)
def test_user_errors_exit_2_with_one_line(args, mentions, index_dir, corpus, tmp_path):
    places = {
        "missing": tmp_path / "nonexistent",
        "index": index_dir,
        "audio": corpus["podcast"].path,
        "new": tmp_path / "new_index",
    }
    result = _mmr(*(arg.format(**places) for arg in args))
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert len(errors) == 1, result.stderr
    assert mentions.format(**places) in errors[0]
    assert not places["new"].exists()


def test_file_names_are_printed_as_text_not_markup(tmp_path):
    bad = tmp_path / "media" / "clip[red]one[bold].mp4"
    bad.parent.mkdir()
    bad.write_bytes(b"")  # empty: recorded as a failure, named in the summary
    result = _mmr("index", bad.parent, "--index", tmp_path / "idx")
    assert result.returncode == 3, result.stderr
    assert "clip[red]one[bold].mp4" in result.stdout.replace("\n", "")


CAPTIONS = [
    ("harbour", "ferry crossings cancelled because of strong winds"),
    ("podcast", "a programme about vaccinating young children"),
]


@pytest.fixture(scope="module")
def manifest(corpus, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("eval") / "corpus.jsonl"
    lines = [json.dumps({"media": str(corpus[n].path), "captions": [c]}) for n, c in CAPTIONS]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_eval_names_the_manifest_format_apart_from_output_formats(index_dir, corpus_dir, manifest):
    args = ["eval", "--manifest", manifest, "--media-root", corpus_dir, "--index", index_dir]
    args += ["--directions", "t2a", "--json"]
    new = _mmr(*args, "--manifest-format", "jsonl")
    assert new.returncode == 0, new.stderr
    assert "deprecated" not in new.stderr
    results = json.loads(new.stdout)
    assert results["format"] == "jsonl" and results["results"]["t2a"]["queries"] == 2

    old = _mmr(*args, "--format", "jsonl")  # the old name still works, with a warning
    assert old.returncode == 0, old.stderr
    warnings = [line for line in old.stderr.splitlines() if "deprecated" in line]
    assert len(warnings) == 1 and "--manifest-format" in warnings[0], old.stderr
    assert json.loads(old.stdout)["results"] == results["results"]

    wrong = _mmr(*args, "--format", "nonsense")  # the value is the manifest format's
    assert wrong.returncode == 2 and "nonsense" in wrong.stderr, wrong.stderr
    both = _mmr(*args, "--format", "jsonl", "--manifest-format", "jsonl")
    assert both.returncode == 2 and "--manifest-format only" in both.stderr, both.stderr
