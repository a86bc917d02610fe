"""Several index folders searched as one (``Library.open_many``, ``mmr search --index A --index
B``): the corpus indexed in two shards ranks and scores exactly as the one index over it."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from mmretrieval.archive import Archive
from mmretrieval.cli import app
from mmretrieval.errors import IndexDirError
from mmretrieval.filters import ClipFilter
from mmretrieval.library import LOCK_FILE, Library
from mmretrieval.store import folder

QUERIES = [
    "council budget for public libraries",
    "ferry crossings cancelled",
    "vaccination",
    "snow closes highland roads",
    '"strong winds"',
    "Kowalczyk",
]


@pytest.fixture(scope="module")
def shards(corpus, tmp_path_factory) -> list:
    """The corpus indexed in two folders, as two machines would: council and the podcast in
    one, the harbour and the mountain in the other."""
    root = tmp_path_factory.mktemp("shards")
    parts = [["council", "podcast"], ["harbour", "mountain"]]
    for n, names in enumerate(parts):
        with Library(root / f"shard{n}", profile="offline") as library:
            report = library.add([corpus[name].path for name in names])
            assert report.count("indexed") == 2
    return [root / "shard0", root / "shard1"]


def answers(searcher, **options) -> list[list]:
    return [
        [
            (h.path, h.start, h.end, h.score, h.evidence, h.text)
            for h in searcher.search(text=q, k=10, **options)
        ]
        for q in QUERIES
    ]


def assert_same(got: list[list], expected: list[list]) -> None:
    """The same hits in the same order, with the same scores and evidence (to float noise)."""
    assert [[h[:3] + h[5:] for h in hits] for hits in got] == [
        [h[:3] + h[5:] for h in hits] for hits in expected
    ]
    for hits, wanted in zip(got, expected, strict=True):
        for hit, want in zip(hits, wanted, strict=True):
            assert hit[3] == pytest.approx(want[3], abs=1e-5)
            assert hit[4].keys() == want[4].keys()
            for channel, score in want[4].items():
                assert hit[4][channel] == pytest.approx(score, abs=1e-5)


def test_two_shards_rank_as_one_index(indexed, shards):
    union, _ = indexed
    with Library.open_many(shards) as archive:
        assert_same(answers(archive), answers(union))
        assert_same(answers(archive, spaces=["lexical"]), answers(union, spaces=["lexical"]))
        only_videos = ClipFilter.from_options(paths=["*.mp4", "*.mkv"])
        assert_same(answers(archive, filter=only_videos), answers(union, filter=only_videos))

        # each hit names its shard, with that shard's own clip and file ids
        for hit in archive.search(text="ferry crossings cancelled", k=10):
            with Library(hit.index) as shard:
                row = shard.catalog.clips([hit.clip_id])[hit.clip_id]
            assert (row.path, row.file_id) == (hit.path, hit.file_id)
            assert set(hit.clip_ids) >= {hit.clip_id}
        top = archive.search(text="snow closes highland roads", k=1)[0]
        assert top.index == str(shards[1]) and top.path.endswith("mountain.mov")


def test_cli_searches_several_indexes(shards):
    args = ["search", "vaccination programme", "--json", "-k", "3"]
    result = CliRunner().invoke(app, [*args, "--index", str(shards[0]), "--index", str(shards[1])])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert hits[0]["path"].endswith("podcast.wav") and hits[0]["index"] == str(shards[0])
    with Archive(shards) as archive:
        expected = [h.to_dict() for h in archive.search(text="vaccination programme", k=3)]
    assert hits == expected
    single = CliRunner().invoke(app, [*args, "--index", str(shards[0])])
    assert single.exit_code == 0 and "index" not in json.loads(single.output)[0]


def test_shards_made_with_other_models_are_refused(shards, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(shards[1], other, ignore=shutil.ignore_patterns(LOCK_FILE))
    catalog = folder.open_catalog(other)
    profile = folder.recorded_profile(catalog)
    text = profile.adapters.text.model_copy(update={"model": "intfloat/multilingual-e5-small"})
    adapters = profile.adapters.model_copy(update={"text": text})
    changed = profile.model_copy(update={"adapters": adapters})
    catalog.set_meta(folder.PROFILE_KEY, changed.model_dump_json())
    catalog.close()
    with pytest.raises(IndexDirError, match="text space.*same models"):
        Library.open_many([shards[0], other])
    with pytest.raises(IndexDirError, match="no index at"):
        Library.open_many([shards[0], tmp_path / "missing"])
    result = CliRunner().invoke(
        app, ["search", "x", "--index", str(shards[0]), "--index", str(other)]
    )
    assert result.exit_code != 0 and "same models" in result.output
    with Archive([shards[0]]) as one:  # one shard: an archive of one
        assert len(one.search(text="vaccination", k=1)) == 1


@pytest.mark.milvus_server
def test_a_shard_on_a_milvus_server(indexed, shards, tmp_path, milvus_server):
    """One shard's vectors on a Milvus server (under its own prefix), the other's in FAISS
    files: still one archive, ranked as the one index."""
    union, _ = indexed
    moved = tmp_path / "shard1"
    shutil.copytree(shards[1], moved, ignore=shutil.ignore_patterns(LOCK_FILE))
    with Library(moved) as library:
        library.migrate("milvus", uri=milvus_server, collection_prefix="shard1")
    try:
        with Library.open_many([shards[0], moved]) as archive:
            assert_same(answers(archive), answers(union))
    finally:
        with Library(moved) as library:  # back to files: the server's collections dropped
            library.migrate("faiss")
