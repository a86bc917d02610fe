"""Several index folders searched as one (``Library.open_many``, ``mmr search --index A --index
B``, ``mmr serve`` over several): the corpus indexed in two shards ranks and scores exactly as the
one index over it."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from fastapi.testclient import TestClient
from milvus_server import stopped
from typer.testing import CliRunner

from mmretrieval.archive import Archive
from mmretrieval.cli import app
from mmretrieval.errors import IndexDirError
from mmretrieval.filters import ClipFilter
from mmretrieval.library import LOCK_FILE, Library
from mmretrieval.server.app import ServerSettings, create_app
from mmretrieval.store import folder
from mmretrieval.store.milvus import TIMEOUT_ENV

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


def test_cli_reads_a_shard_list(shards, tmp_path):
    """``--index @FILE``: one folder a line, comments and blank lines skipped, relative paths
    from the list's folder; the same answer as the folders given one by one."""
    listing = tmp_path / "lists" / "shards.txt"
    listing.parent.mkdir()
    relative = os.path.relpath(shards[1], listing.parent)
    listing.write_text(f"# the archive\n{shards[0]}\n\n{relative}  # the weather\n")
    args = ["search", "snow closes highland roads", "--json", "-k", "3"]
    listed = CliRunner().invoke(app, [*args, "--index", f"@{listing}"])
    given = CliRunner().invoke(app, [*args, "--index", str(shards[0]), "--index", str(shards[1])])
    assert listed.exit_code == 0, listed.output
    assert [h["path"] for h in json.loads(listed.output)] == [
        h["path"] for h in json.loads(given.output)
    ]
    missing = CliRunner().invoke(app, [*args, "--index", f"@{tmp_path / 'none.txt'}"])
    assert missing.exit_code == 2 and "cannot read the shard list" in missing.output
    listing.write_text(f"{shards[0]}\n{tmp_path / 'gone'}\n")  # serve refuses before it listens
    served = CliRunner().invoke(app, ["serve", "--index", f"@{listing}"])
    assert served.exit_code == 2 and "no index at" in served.output


def _server(index_dirs, **settings) -> TestClient:
    app_ = create_app(ServerSettings(index_dir=list(index_dirs), **settings))
    return TestClient(app_, base_url="http://127.0.0.1:8765")


def test_server_over_two_indexes_answers_as_the_archive(shards, corpus):
    """``mmr serve --index A --index B``: the ranked hits of ``Archive.search``, and links
    that reach each hit's own shard although file and clip ids repeat between shards."""
    with _server(shards, token="secret") as client, Archive(shards) as archive:
        for query in QUERIES:
            answer = client.get("/search", params={"q": query, "k": 10})
            assert answer.status_code == 200, answer.text
            assert answer.json() == [h.to_dict() for h in archive.search(text=query, k=10)]

        top = client.get("/search", params={"q": "snow closes highland roads", "k": 1}).json()[0]
        assert top["index"] == str(shards[1]) and top["path"].endswith("mountain.mov")
        with Library(shards[0]) as other:  # shard A has a file under the same id
            assert other.catalog.file_by_id(top["file_id"]).path != top["path"]
        at = {"index": top["index"]}
        media = client.get(f"/media/{top['file_id']}", params=at)
        assert media.status_code == 200
        assert media.content == corpus["mountain"].path.read_bytes()
        unqualified = client.get(f"/media/{top['file_id']}")
        assert unqualified.status_code == 400 and "say which with index=" in unqualified.text
        elsewhere = client.get(f"/media/{top['file_id']}", params={"index": "/no/such/index"})
        assert elsewhere.status_code == 400 and str(shards[0]) in elsewhere.text

        clip = client.get(f"/clips/{top['clip_id']}", params=at).json()
        assert clip["path"] == top["path"]
        assert client.get(clip["media_url"]).content == media.content
        thumbnail = client.get(clip["thumbnail_url"])
        assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/jpeg"
        assert list((shards[1] / "thumbnails").glob(f"{top['clip_id']}_*.jpg"))
        assert client.get(clip["shotlist_url"] + "&format=csv").status_code == 200

        copies = client.get("/copies", params={"clip_id": top["clip_id"], **at})
        assert copies.status_code == 200, copies.text
        assert all(c["index"] in (str(shards[0]), str(shards[1])) for c in copies.json())

        stats = client.get("/stats").json()
        assert stats["files"] == 4 and [s["index"] for s in stats["indexes"]] == [
            str(s) for s in shards
        ]
        assert client.get("/health").json()["clips"] == stats["clips"]
        refused = client.post(
            "/index",
            json={"paths": [str(corpus["podcast"].path)]},
            headers={"Authorization": "Bearer secret"},
        )
        assert refused.status_code == 409 and "mmr index PATH --index DIR" in refused.text
    with pytest.raises(IndexDirError, match="no index at"):  # an archive is served whole
        create_app(ServerSettings(index_dir=[shards[0], shards[0].parent / "missing"]))


@pytest.mark.milvus_server
def test_server_answers_503_while_its_milvus_server_is_down(
    shards, tmp_path, milvus_server, monkeypatch
):
    """The Milvus server stops while ``mmr serve`` answers: searches answer 503 with what to
    do (not a 500), and the same hits again once the server is back, with no restart of ours."""
    monkeypatch.setenv(TIMEOUT_ENV, "3")  # give up on the stopped server after 3 s, not 60
    moved = tmp_path / "shard1"
    shutil.copytree(shards[1], moved, ignore=shutil.ignore_patterns(LOCK_FILE))
    with Library(moved) as library:
        library.migrate("milvus", uri=milvus_server, collection_prefix="serve")
    query = {"q": "snow closes highland roads", "k": 3}
    try:
        with _server([moved]) as client:
            before = client.get("/search", params=query)
            assert before.status_code == 200, before.text
            with stopped(milvus_server):
                down = client.get("/search", params=query)
                assert down.status_code == 503, down.text
                assert "run the command again once it is back" in down.json()["detail"]
            back = client.get("/search", params=query)
            assert back.status_code == 200, back.text
            assert back.json() == before.json()
    finally:
        with Library(moved) as library:  # back to files: the server's collections dropped
            library.migrate("faiss")
