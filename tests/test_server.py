"""The HTTP API through the real app (TestClient), on indexes of generated media."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from mmretrieval.errors import IndexDirError
from mmretrieval.server import jobs as jobs_module
from mmretrieval.server.app import ServerSettings, create_app
from mmretrieval.server.jobs import JobRunner
from mmretrieval.testing.synth import Scene, make_audio

TOKEN = "s3cret-token"


def _client(index_dir: Path, **settings) -> TestClient:
    app = create_app(ServerSettings(index_dir=index_dir, **settings))
    return TestClient(app, base_url="http://127.0.0.1:8765")


@pytest.fixture(scope="module")
def client(indexed):
    library, _ = indexed
    with _client(library.index_dir, token=TOKEN) as client:
        yield client


def _first_hit(client: TestClient, q: str) -> dict:
    response = client.get("/search", params={"q": q, "k": 3})
    assert response.status_code == 200, response.text
    return response.json()[0]


def _wait_for_job(client: TestClient, job_id: str) -> dict:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        job = client.get(f"/jobs/{job_id}").json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")


def test_text_search_matches_the_library_and_cli_json(client, indexed, corpus):
    library, _ = indexed
    response = client.get("/search", params={"q": "ferry crossings cancelled", "k": 5})
    assert response.status_code == 200
    hits = response.json()
    expected = [h.to_dict() for h in library.search("ferry crossings cancelled", k=5)]
    assert hits == expected
    assert hits[0]["path"] == str(corpus["harbour"].path)
    assert {"clip_id", "file_id", "evidence", "text"} <= hits[0].keys()


def test_search_options_and_errors(client):
    lexical = client.get("/search", params={"q": "snow roads", "spaces": "lexical"}).json()
    assert lexical and all(set(h["evidence"]) == {"lexical"} for h in lexical)
    bad_space = client.get("/search", params={"q": "snow", "spaces": "smell"})
    assert bad_space.status_code == 400 and "smell" in bad_space.json()["detail"]
    bad_weights = client.get("/search", params={"q": "snow", "weights": "text=lots"})
    assert bad_weights.status_code == 400 and "text=lots" in bad_weights.json()["detail"]
    assert client.get("/search", params={"q": "snow", "k": 0}).status_code == 422
    assert client.get("/search").status_code == 422


def test_clip_details_stats_and_health(client, corpus):
    hit = _first_hit(client, "closest vote in a decade")
    clip = client.get(f"/clips/{hit['clip_id']}").json()
    assert clip["path"] == str(corpus["council"].path)
    assert clip["file_id"] == hit["file_id"]
    assert any("decade" in t["text"].lower() for t in clip["texts"] if t["source"] == "speech")
    assert client.get("/clips/999999").status_code == 404
    stats = client.get("/stats").json()
    assert stats["files"] == 4 and stats["clips"] > 0
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["clips"] == stats["clips"]


def test_a_clip_links_to_its_files_shot_list(client):
    hit = _first_hit(client, "ferry crossings cancelled")
    clip = client.get(f"/clips/{hit['clip_id']}").json()
    assert clip["shotlist_url"] == f"/shotlist/{hit['file_id']}"
    page = client.get(clip["shotlist_url"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.text.count("data:image/jpeg;base64,") == 3
    table = client.get(clip["shotlist_url"], params={"format": "csv"})
    assert table.headers["content-type"].startswith("text/csv")
    assert len(table.text.splitlines()) == 4  # a header and the harbour's three shots
    assert client.get(clip["shotlist_url"], params={"format": "pdf"}).status_code == 422
    spoken = _first_hit(client, "vaccination programme for young children")
    assert client.get(f"/clips/{spoken['clip_id']}").json()["shotlist_url"] is None
    refused = client.get(f"/shotlist/{spoken['file_id']}")
    assert refused.status_code == 409 and "has no pictures" in refused.json()["detail"]
    assert client.get("/shotlist/999999").status_code == 404


def test_media_is_served_with_range_requests(client, corpus):
    hit = _first_hit(client, "ferry crossings cancelled")
    data = corpus["harbour"].path.read_bytes()
    whole = client.get(f"/media/{hit['file_id']}")
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["accept-ranges"] == "bytes"
    part = client.get(f"/media/{hit['file_id']}", headers={"Range": "bytes=100-1123"})
    assert part.status_code == 206
    assert part.content == data[100:1124]
    assert part.headers["content-range"] == f"bytes 100-1123/{len(data)}"
    tail = client.get(f"/media/{hit['file_id']}", headers={"Range": "bytes=-10"})
    assert tail.content == data[-10:]
    beyond = client.get(f"/media/{hit['file_id']}", headers={"Range": f"bytes={len(data) + 5}-"})
    assert beyond.status_code == 416
    assert client.get("/media/424242").status_code == 404


def test_thumbnails_are_frames_or_waveforms_and_cached(client, indexed):
    library, _ = indexed
    video_hit = _first_hit(client, "heavy snow closed roads")
    audio_hit = _first_hit(client, "vaccination programme for children")
    assert audio_hit["path"].endswith("podcast.wav")
    for hit in (video_hit, audio_hit):
        response = client.get(f"/thumbnails/{hit['clip_id']}", params={"t": hit["start"] + 1})
        assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
        image = Image.open(io.BytesIO(response.content))
        assert image.width == 320

    def brightness(hit: dict) -> float:
        jpeg = client.get(f"/thumbnails/{hit['clip_id']}").content
        return float(np.asarray(Image.open(io.BytesIO(jpeg)).convert("L")).mean())

    council_hit = _first_hit(client, "closest vote in a decade")
    assert brightness(video_hit) > brightness(council_hit) + 50  # snow scene vs dark studio
    cached = list((library.index_dir / "thumbnails").glob(f"{video_hit['clip_id']}_*.jpg"))
    assert cached
    assert client.get("/thumbnails/999999").status_code == 404


def test_one_new_thumbnail_asked_for_at_once_by_many(client):
    """Requests racing to make the same uncached thumbnail each get the whole picture."""
    hit = _first_hit(client, "heavy snow closed roads")
    url = f"/thumbnails/{hit['clip_id']}"
    at = hit["start"] + 0.777  # a moment no other test caches
    start = threading.Barrier(6)
    responses: list = []

    def fetch() -> None:
        start.wait()
        responses.append(client.get(url, params={"t": at}))

    threads = [threading.Thread(target=fetch) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in responses] == [200] * 6
    assert len({r.content for r in responses}) == 1
    assert Image.open(io.BytesIO(responses[0].content)).width == 320


def test_exports(client):
    params = {"q": "ferry crossings cancelled", "k": 3}
    table = client.get("/search", params={**params, "format": "csv"})
    assert table.status_code == 200 and table.headers["content-type"].startswith("text/csv")
    assert "attachment" in table.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert rows and rows[0]["path"].endswith("harbour.mkv")
    edl = client.get("/search", params={**params, "format": "edl"}).text
    assert edl.startswith("TITLE:") and "FROM CLIP NAME: harbour.mkv" in edl
    otio = json.loads(client.get("/search", params={**params, "format": "otio"}).text)
    assert otio["OTIO_SCHEMA"].startswith("Timeline")
    assert client.get("/search", params={**params, "format": "pdf"}).status_code == 422


def test_query_file_upload(client, corpus):
    audio = corpus["podcast"].path
    response = client.post(
        "/search",
        files={"file": ("question.wav", audio.read_bytes(), "audio/wav")},
        data={"k": "3", "start": "0", "end": "4"},
    )
    assert response.status_code == 200, response.text
    assert response.json()[0]["path"] == str(audio)


@pytest.mark.parametrize(
    ("content", "content_type", "status", "message"),
    [
        (b"hello", "text/plain", 415, "audio/*"),
        (b"", "audio/mpeg", 400, "empty"),
        (b"\x00garbage that is no mp3" * 20, "audio/mpeg", 422, ""),
    ],
)
def test_bad_uploads_get_clear_4xx(client, content, content_type, status, message):
    response = client.post("/search", files={"file": ("q.mp3", content, content_type)})
    assert response.status_code == status, response.text
    assert message in response.json()["detail"]


def test_oversized_uploads_are_refused_while_streaming(indexed):
    library, _ = indexed
    with _client(library.index_dir, max_upload_bytes=4096) as small:
        big = b"\x00" * 10_000
        response = small.post("/search", files={"file": ("q.mp3", big, "audio/mpeg")})
        assert response.status_code == 413 and "limit" in response.json()["detail"]

        body = (
            b'--x\r\nContent-Disposition: form-data; name="file"; filename="q.mp3"\r\n'
            b"Content-Type: audio/mpeg\r\n\r\n" + big + b"\r\n--x--\r\n"
        )

        def chunks():  # no Content-Length: the limit must hold while the body streams
            for start in range(0, len(body), 1000):
                yield body[start : start + 1000]

        streamed = small.post(
            "/search",
            content=chunks(),
            headers={"Content-Type": "multipart/form-data; boundary=x"},
        )
        assert streamed.status_code == 413


def test_writes_need_the_token(client, indexed, corpus_dir):
    library, _ = indexed
    body = {"paths": [str(corpus_dir)]}
    assert client.post("/index", json=body).status_code == 401
    wrong = client.post("/index", json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    client.cookies.set("mmr_token", TOKEN)
    with_cookie = client.post("/index", json=body)
    client.cookies.clear()
    assert with_cookie.status_code == 401  # writes never take the cookie (cross-site requests)
    with _client(library.index_dir) as tokenless:
        refused = tokenless.post("/index", json=body, headers={"Authorization": "Bearer x"})
        assert refused.status_code == 403 and "--token" in refused.json()["detail"]


def test_a_token_with_non_ascii_characters_is_just_wrong(client, corpus_dir):
    body = {"paths": [str(corpus_dir)]}
    response = client.post("/index", json=body, headers={"Authorization": b"Bearer caf\xe9"})
    assert response.status_code == 401


def test_jobs_run_on_when_reopening_the_index_after_one_fails(tmp_path):
    calls: list[int] = []

    def reopen() -> None:  # as IndexView.refresh does when the index cannot be read
        calls.append(1)
        raise IndexDirError("cannot read the index")

    runner = JobRunner(tmp_path / "idx", "offline", on_finished=reopen)
    jobs = [runner.submit([tmp_path / "missing"]) for _ in range(2)]
    deadline = time.monotonic() + 60
    while len(calls) < 2 and time.monotonic() < deadline:  # after each job, in its thread
        time.sleep(0.05)
    assert [job.state for job in jobs] == ["failed", "failed"]
    assert "does not exist" in jobs[1].error and len(calls) == 2
    listed = runner.listed()[0].to_dict()
    listed["counts"]["indexed"] = 1  # a copy: serialising it never races the job thread
    assert jobs[0].counts == {}


def test_only_the_newest_finished_jobs_stay_listed(tmp_path, monkeypatch):
    monkeypatch.setattr(jobs_module, "KEEP_FINISHED", 2)
    runner = JobRunner(tmp_path / "idx", "offline", on_finished=lambda: None)
    submitted = []
    for _ in range(4):
        submitted.append(runner.submit([tmp_path / "missing"]))
        deadline = time.monotonic() + 60
        while submitted[-1].state != "failed" and time.monotonic() < deadline:
            time.sleep(0.02)
    assert [job.id for job in runner.listed()] == [job.id for job in submitted[1:]]


def test_reads_need_the_token_beyond_loopback(indexed):
    library, _ = indexed
    with _client(library.index_dir, token=TOKEN, host="0.0.0.0") as public:
        assert public.get("/search", params={"q": "snow"}).status_code == 401
        ok = public.get(
            "/search", params={"q": "snow"}, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert ok.status_code == 200
        public.cookies.set("mmr_token", TOKEN)
        assert public.get("/stats").status_code == 200
        assert public.get("/health").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/media/..%2F..%2Fetc%2Fpasswd",
        "/media/%2Fetc%2Fpasswd",
        "/media/1/../../etc/passwd",
        "/thumbnails/..%2Fcatalog.sqlite",
        "/static/..%2F..%2Fapp.py",
        "/static/../../../etc/passwd",
        "/static/%2E%2E/%2E%2E/server/app.py",
    ],
)
def test_traversal_attempts_are_refused(client, url):
    response = client.get(url)
    assert response.status_code in (404, 422), (url, response.status_code)
    assert b"root:" not in response.content and b"create_app" not in response.content


def test_index_paths_are_checked(tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (root / "sneaky").symlink_to(outside)
    with _client(tmp_path / "idx", token=TOKEN, media_roots=[root]) as client:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        for path, status in [
            ("relative/path", 400),
            (str(root / ".." / "elsewhere"), 403),
            (str(root / "sneaky"), 403),
            ("/etc", 403),
            (str(root / "missing.mp4"), 400),
        ]:
            response = client.post("/index", json={"paths": [path]}, headers=auth)
            assert response.status_code == status, (path, response.text)
        assert client.post("/index", json={"paths": []}, headers=auth).status_code == 422
        empty = client.get("/search", params={"q": "anything"})
        assert empty.status_code == 409 and "POST /index" in empty.json()["detail"]


def test_index_job_while_searching(tmp_path):
    """Searches keep answering, consistently, while a job indexes; its files appear after."""
    media = tmp_path / "media"
    media.mkdir()
    make_audio(media / "a_lighthouse.wav", [Scene(speech="The old lighthouse was repainted.")])
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with _client(tmp_path / "idx", token=TOKEN, profile="offline") as client:
        first = client.post("/index", json={"paths": [str(media)]}, headers=auth)
        assert (
            first.status_code == 202 and first.headers["location"] == f"/jobs/{first.json()['id']}"
        )
        assert _wait_for_job(client, first.json()["id"])["counts"] == {"indexed": 1}

        for i, sentence in enumerate(
            ["Volunteers cleaned the beach at dawn.", "A new bridge opened to cyclists."]
        ):
            make_audio(media / f"b_{i}.wav", [Scene(speech=sentence)])
        errors: list[str] = []
        stop = threading.Event()

        def search_loop() -> None:
            while not stop.is_set():
                response = client.get("/search", params={"q": "lighthouse repainted"})
                if response.status_code != 200:
                    errors.append(response.text)
                    continue
                for hit in response.json():
                    if client.get(f"/clips/{hit['clip_id']}").status_code != 200:
                        errors.append(f"hit on clip {hit['clip_id']} that the index lacks")

        threads = [threading.Thread(target=search_loop) for _ in range(3)]
        for thread in threads:
            thread.start()
        second = client.post("/index", json={"paths": [str(media)]}, headers=auth).json()
        job = _wait_for_job(client, second["id"])
        stop.set()
        for thread in threads:
            thread.join()
        assert not errors
        assert job["state"] == "done" and job["counts"] == {"unchanged": 1, "indexed": 2}
        assert job["files_done"] == job["files_total"] == 3
        bridge = client.get("/search", params={"q": "bridge opened to cyclists"}).json()
        assert bridge[0]["path"].endswith("b_1.wav")

        # A catalogued file swapped for a symlink afterwards is not served.
        target = media / "b_1.wav"
        target.unlink()
        target.symlink_to("/etc/passwd")
        assert client.get(f"/media/{bridge[0]['file_id']}").status_code == 409
        target.unlink()
        assert client.get(f"/media/{bridge[0]['file_id']}").status_code == 410


def test_mmr_serve_refuses_to_listen_beyond_loopback_without_a_token(indexed, monkeypatch):
    from typer.testing import CliRunner

    from mmretrieval.cli import app

    library, _ = indexed
    monkeypatch.delenv("MMR_TOKEN", raising=False)
    result = CliRunner().invoke(
        app, ["serve", "--index", str(library.index_dir), "--host", "0.0.0.0"]
    )
    assert result.exit_code == 2
    assert "--token" in result.output


def test_open_reads_refuse_other_host_names(client):
    """DNS rebinding: a site rebound to 127.0.0.1 sends its own name as Host."""
    for host in ("evil.example", "evil.example:8765", "127.0.0.1.evil.example"):
        refused = client.get("/search", params={"q": "snow"}, headers={"Host": host})
        assert refused.status_code == 403 and "localhost" in refused.json()["detail"]
    for host in ("localhost:8765", "[::1]:8765", "127.0.0.1"):
        assert client.get("/stats", headers={"Host": host}).status_code == 200
