"""The HTTP API over a people index (TestClient): search by an uploaded voice or face, or by a
person's name; every hit says who speaks and who is on screen; GET /people; clear errors.
Media and index: ``voices``, ``faces`` and ``people_indexed`` in conftest.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from people_media import people_profile

from mmretrieval import channels
from mmretrieval.library import Library
from mmretrieval.server.app import ServerSettings, create_app


def _client(index_dir: Path, **settings) -> TestClient:
    app = create_app(ServerSettings(index_dir=index_dir, **settings))
    return TestClient(app, base_url="http://127.0.0.1:8765")


@pytest.fixture(scope="module")
def client(people_indexed):
    with _client(people_indexed.index_dir, profile=people_profile()) as client:
        yield client


def _upload(client: TestClient, field: str, path: Path, content_type: str, **form) -> list[dict]:
    response = client.post(
        "/search", files={field: (path.name, path.read_bytes(), content_type)}, data=form
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_voice_upload_finds_who_speaks_and_every_hit_says_who(client, people_indexed, voices):
    query = voices / "other_words_by_a.wav"
    hits = _upload(client, "voice", query, "audio/wav", k="5")
    expected = [h.to_dict() for h in people_indexed.search(voice=query, k=5)]
    assert [(h["path"], h["speaker"]) for h in hits] == [
        (h["path"], h["speaker"]) for h in expected
    ]
    assert hits[0]["score"] == pytest.approx(expected[0]["score"], abs=1e-4)
    assert Path(hits[0]["path"]).name == "a.wav"
    assert set(hits[0]["evidence"]) == {channels.VOICE} and hits[0]["evidence"]["voice"] > 0.85
    assert hits[0]["speaker"].startswith("voice:")
    assert hits[0]["score"] > hits[1]["score"] + 0.15  # the other voice is far behind
    # the same words as a.wav said by the other voice find b.wav, another speaker
    other = _upload(client, "voice", voices / "same_words_by_b.wav", "audio/wav", k="1")
    assert Path(other[0]["path"]).name == "b.wav"
    assert other[0]["speaker"].startswith("voice:") and other[0]["speaker"] != hits[0]["speaker"]
    # a text search's hits say who speaks too
    said = client.get("/search", params={"q": "trains to the airport", "k": 1}).json()[0]
    assert Path(said["path"]).name == "b.wav" and said["speaker"] == other[0]["speaker"]


def test_a_face_upload_finds_when_the_person_is_on_screen(client, faces):
    hits = _upload(client, "face", faces / "portrait.png", "image/png", k="3")
    best = hits[0]
    assert Path(best["path"]).name == "news.mp4"
    assert best["evidence"][channels.FACE] > 0.9 and best["on_screen"] == "face:1"
    assert 6.0 <= best["frame_time"] < 14.0  # the moment she is on screen
    assert all(Path(h["path"]).name != "empty.mp4" for h in hits)
    boxed = _upload(
        client, "face", faces / "portrait.png", "image/png", k="1", face_box="170,70,100,100"
    )
    assert boxed[0]["clip_id"] == best["clip_id"]
    # the card's picture is that moment
    thumbnail = client.get(f"/thumbnails/{best['clip_id']}", params={"t": best["frame_time"]})
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/jpeg"


def test_people_and_stats_tell_the_page_what_the_index_holds(client):
    persons = client.get("/people").json()
    labels = {p["label"] for p in persons}
    assert {"face:1"} <= labels and sum(label.startswith("voice:") for label in labels) >= 2
    samples = {Path(p["sample_path"]).name for p in persons}
    assert {"a.wav", "b.wav", "news.mp4"} <= samples
    assert all(p["clips"] >= 1 and p["seconds"] > 0 for p in persons)
    spaces = client.get("/stats").json()["spaces"]
    assert {"voice", "face"} <= set(spaces)


@pytest.mark.parametrize(
    ("files", "form", "status", "message"),
    [
        ({"face": "no_face.png"}, {}, 400, "no face found in 'no_face.png'"),
        ({"voice": "portrait.png"}, {}, 415, "a voice query must be audio/* or video/*"),
        ({"face": "other_words_by_a.wav"}, {}, 415, "a face query must be image/*"),
        ({"voice": "other_words_by_a.wav", "face": "portrait.png"}, {}, 400, "voice and face"),
        ({}, {"k": "3"}, 400, "send one query file"),
        ({"face": "portrait.png"}, {"face_box": "10,20,30"}, 400, "face box"),
    ],
)
def test_bad_person_queries_get_clear_errors(client, voices, faces, files, form, status, message):
    found = {**{p.name: p for p in voices.iterdir()}, **{p.name: p for p in faces.iterdir()}}
    types = {".png": "image/png", ".wav": "audio/wav"}
    uploads = {
        field: (name, found[name].read_bytes(), types[found[name].suffix])
        for field, name in files.items()
    }
    response = client.post("/search", files=uploads or None, data=form)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert message in detail and "mmr-query" not in detail  # the upload, not a temporary path


def test_a_named_person_is_found_by_name(client, people_indexed, voices, tmp_path):
    assert client.get("/search", params={"person": "Ada Lovelace"}).status_code == 400
    unknown = client.get("/search", params={"person": "Ada Lovelace"}).json()["detail"]
    assert "no one is named 'Ada Lovelace'" in unknown
    both = client.get("/search", params={"q": "budget", "person": "Ada Lovelace"})
    assert both.status_code == 422 and "one of them" in both.json()["detail"]

    copy = tmp_path / "idx"  # naming writes: on a copy of the shared index
    shutil.copytree(people_indexed.index_dir, copy)
    speaker_a = _upload(client, "voice", voices / "other_words_by_a.wav", "audio/wav")[0]
    with Library(copy, profile=people_profile()) as library:
        library.name_person(speaker_a["speaker"], "Ada Lovelace")
    with _client(copy, profile=people_profile()) as named:
        hits = named.get("/search", params={"person": "Ada Lovelace", "k": 3}).json()
        persons = named.get("/people").json()
    assert Path(hits[0]["path"]).name == "a.wav" and hits[0]["speaker"] == "Ada Lovelace"
    assert "Ada Lovelace" in {p["label"] for p in persons}


def test_person_queries_on_an_index_without_people(indexed, voices, faces):
    library, _ = indexed  # the offline profile: no voices or faces
    with _client(library.index_dir) as client:
        assert client.get("/people").json() == []
        assert not {"voice", "face"} & set(client.get("/stats").json()["spaces"])
        for field, path, content_type in (
            ("voice", voices / "other_words_by_a.wav", "audio/wav"),
            ("face", faces / "portrait.png", "image/png"),
        ):
            files = {field: (path.name, path.read_bytes(), content_type)}
            response = client.post("/search", files=files)
            assert response.status_code == 400, response.text
            assert f"{field} queries need" in response.json()["detail"]
            assert "people profile" in response.json()["detail"]
