"""Reused footage (mmretrieval.copies): real encoded video, the bundled EfficientNet-Lite0."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mmretrieval.config import AdaptersConfig, load_profile
from mmretrieval.copies import (
    COMMON,
    REGION_COUNT,
    Archive,
    align,
    informative,
    shared_frames,
)
from mmretrieval.library import Library
from mmretrieval.spans import Span
from mmretrieval.testing import footage

SOURCE_SECONDS = 4.0


def _visual_profile():
    """The offline profile's visual channel alone, one stored frame a second."""
    base = load_profile("offline")
    visual = base.adapters.visual.model_copy(update={"frame_rate": 1.0})
    adapters = AdaptersConfig(visual=visual)
    return base.model_copy(update={"name": "visual-only", "adapters": adapters})


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """Four programmes opening with the same intro and black or bars; the source shot is
    reused in ``a`` as it is (at 9-13 s) and in ``b`` mirrored (at 7-11 s)."""
    root = tmp_path_factory.mktemp("copies")
    source = footage.shot(0, SOURCE_SECONDS)  # a pan across a photograph
    opening = footage.intro() + footage.flat(1)
    programmes = {
        "a": opening + footage.colour_bars(1) + footage.shot(30, 4) + source + footage.shot(31, 3),
        "b": opening + footage.shot(32, 3) + [footage.mirror(f) for f in source]
        + footage.shot(33, 3),
        "c": opening + footage.colour_bars(1) + footage.shot(34, 4) + footage.shot(35, 4),
        "d": opening + footage.shot(36, 4) + footage.shot(37, 4),
    }
    for name, frames in programmes.items():
        footage.write(root / "archive" / f"{name}.mp4", frames)
    footage.write(root / "query.mp4", source)
    footage.write(root / "opening.mp4", opening + footage.colour_bars(1))
    footage.write(root / "opened.mp4", opening + source)
    library = Library(root / "idx", profile=_visual_profile())
    assert library.add([root / "archive"]).count("indexed") == 4
    yield library, root
    library.close()


@pytest.mark.slow  # indexes four videos, decodes and describes at query time
def test_finds_the_reused_shot_and_its_mirror_image(archive):
    library, root = archive
    found = library.copies(root / "query.mp4")
    assert sorted(f"{c.path[-5:]}" for c in found) == ["a.mp4", "b.mp4"]
    truth = {"a.mp4": Span(9.0, 13.0), "b.mp4": Span(7.0, 11.0)}
    for copy in found:
        assert copy.iou(truth[copy.path[-5:]]) >= 0.8
        assert copy.query_start <= 0.3 and copy.query_end >= SOURCE_SECONDS - 0.3
        assert copy.score > 0.8 and copy.clip_id is not None


@pytest.mark.slow  # indexes four videos, decodes and describes at query time
def test_shared_intro_black_and_bars_are_no_copy(archive):
    library, root = archive
    assert library.copies(root / "opening.mp4") == []


@pytest.mark.slow  # indexes four videos, decodes and describes at query time
def test_a_query_opening_with_the_intro_finds_only_the_reused_shot(archive):
    library, root = archive
    found = library.copies(root / "opened.mp4")
    assert sorted(c.path[-5:] for c in found) == ["a.mp4", "b.mp4"]
    assert all(c.query_start >= 4.0 - 0.3 for c in found)  # after the intro and black


def _stored_frames(rng, files: int):
    """Stored descriptors (64-d) of ``files`` files, ids from 1: each opens with the same intro
    (at 0 s), then shows four pictures of its own; files 1 and 2 also share one (at 20 s and
    8.5 s). Returns the intro, the shared picture, and file ids, times and descriptors."""
    intro, shared = rng.normal(size=64), rng.normal(size=64)
    rows = []  # (file id, time, descriptor)
    for file_id in range(1, files + 1):
        rows.append((file_id, 0.0, intro + 0.05 * rng.normal(size=64)))
        rows += [(file_id, 4.0 * k, rng.normal(size=64)) for k in range(1, 5)]
    rows += [(1, 20.0, shared), (2, 8.5, shared + 0.1 * rng.normal(size=64))]
    ids, times, raw = (np.array(column) for column in zip(*rows, strict=True))
    return intro, shared, ids, times, raw


def test_query_frames_alike_to_many_files_are_widespread():
    """A query frame that looks like a picture every file shows (the intro, described at query
    time less alike to its stored frames than ``COMMON``) is widespread; one alike to a
    picture two files share (reused footage) is not."""
    rng = np.random.default_rng(1)
    intro, shared, ids, times, raw = _stored_frames(rng, files=6)
    archive = Archive.from_frames(ids, times, raw, lambda _: [])
    query = np.stack([intro + 1.3 * rng.normal(size=64), shared + 1.3 * rng.normal(size=64)])
    query = query - archive.mean
    query /= np.linalg.norm(query, axis=1, keepdims=True)
    sims = query @ archive.vectors.T
    assert archive.common.sum() == 6 and sims.max() < COMMON  # the common rule misses it
    assert archive.widespread(sims).tolist() == [True, False]


def test_low_information_frames():
    assert not informative(footage.flat(0.1)[0])
    assert not informative(footage.flat(0.1, 255)[0])
    assert not informative(footage.colour_bars(0.1)[0])
    assert informative(footage.shot(1, 0.1)[0])
    assert informative(footage.intro(0.1)[0])


def test_a_run_of_square_matches_must_keep_to_one_place():
    """Twelve frames in order match along one diagonal. Matched by whole frames, or by squares
    of the target that stay put (an inset picture, here squares 5 and its neighbour 6), they
    are a copy; matched by squares that wander over the frame (chance look-alikes), not."""
    sims = np.full((12, 30), -1.0)
    rows = np.arange(12)
    sims[rows, rows + 10] = 0.8
    for squares, found in (
        (np.full(12, -1), 1),
        (np.array([5, 6] * 6), 1),
        (np.array([0, 15, 3, 12, 5, 10, 0, 15, 3, 12, 5, 10]), 0),
        (np.array([0, 15, 3, 12] * 3) + REGION_COUNT, 0),  # the query's squares
    ):
        where = np.full(sims.shape, -1)
        where[rows, rows + 10] = squares
        runs = align(sims, 8, where)
        assert len(runs) == found, squares
        assert all((r.first, r.last, r.offset) == (0, 11, 10) for r in runs)
    assert len(align(sims, 8)) == 1


def test_a_run_must_keep_to_its_diagonal():
    """Eight query frames in order that match target frames a frame early, on time and a frame
    late by turns (what the slack lets through, as a look-alike scene does) are no copy: no
    diagonal holds ``ON_DIAGONAL`` of them. The same eight on one diagonal are one copy."""
    rows = np.arange(8)
    hopping = np.full((8, 30), -1.0)
    hopping[rows, rows + 10 + rows % 3 - 1] = 0.8
    assert align(hopping, 7) == []
    steady = np.full((8, 30), -1.0)
    steady[rows, rows + 10] = 0.8
    assert [(r.first, r.last, r.offset, r.matches) for r in align(steady, 7)] == [(0, 7, 10, 8)]


def test_shared_frames_pair_files_by_alike_frames_and_skip_common_pictures():
    """The candidate stage of ``copies --all`` on stored descriptors: files 1 and 2 share a
    picture; every file shows the same intro (common, so no pair comes of it)."""
    _, _, ids, times, raw = _stored_frames(np.random.default_rng(0), files=5)
    archive = Archive.from_frames(ids, times, raw, lambda _: [Span(0.0, 2.0)])
    assert archive.common[times == 0.0].all() and archive.common.sum() == 5
    assert archive.common_shots == {f: [Span(0.0, 2.0)] for f in range(1, 6)}
    assert shared_frames(archive) == {(1, 2): [(20.0, 8.5)]}


@pytest.mark.slow  # indexes four videos, decodes and describes at query time
def test_all_pairs_reports_the_shared_stretch_once(archive):
    library, _ = archive
    found = library.copies(None)
    assert [(c.query_path[-5:], c.path[-5:]) for c in found] == [("a.mp4", "b.mp4")]
    assert found[0].overlap(Span(7.0, 11.0)) >= 3.0


@pytest.mark.slow  # indexes four videos, decodes and describes at query time
def test_server_lists_where_else_a_clip_was_used(archive):
    from fastapi.testclient import TestClient

    from mmretrieval.server.app import ServerSettings, create_app

    library, root = archive
    catalog = library.catalog
    source = next(f for f in catalog.files("indexed") if f.path.endswith("a.mp4"))
    clip = next(c for c in catalog.file_clips(source.id) if c.contains(11.0))
    app = create_app(ServerSettings(index_dir=root / "idx"))
    with TestClient(app, base_url="http://127.0.0.1:8765") as client:
        response = client.get("/copies", params={"clip_id": clip.id})
        assert response.status_code == 200
        found = response.json()
        assert [Path(c["path"]).name for c in found] == ["b.mp4"]
        assert Span(found[0]["start"], found[0]["end"]).overlap(Span(7.0, 11.0)) >= 3.0
        assert client.get("/copies", params={"clip_id": 10**6}).status_code == 404


@pytest.mark.slow  # indexes four videos, decodes and describes at query time
def test_cli_json_and_usage_errors(archive):
    import json

    from typer.testing import CliRunner

    from mmretrieval.cli import app

    _, root = archive
    runner = CliRunner()
    result = runner.invoke(
        app, ["copies", "--index", str(root / "idx"), "--video", str(root / "query.mp4"),
              "--start", "1", "--end", "4", "--json"],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert sorted(Path(r["path"]).name for r in rows) == ["a.mp4", "b.mp4"]
    assert {"path", "start", "end", "query_start", "query_end", "score", "clip_id",
            "file_id"} <= set(rows[0])
    assert all(r["query_start"] >= 0.9 for r in rows)
    usage = runner.invoke(app, ["copies", "--index", str(root / "idx")])
    assert usage.exit_code == 2 and "--video FILE or --all" in usage.output
