"""Every query modality end to end on generated media, through tiny random CLIP and CLAP models
loaded exactly as users' checkpoints are. Random weights rank nothing meaningfully, so these
tests check what holds whatever the weights: exact copies match, results are well formed, each
query reaches the spaces it should, and errors are clear."""

from __future__ import annotations

import json
import subprocess
import sys

import av
import numpy as np
import pytest
import yaml

from mmretrieval import Library
from mmretrieval.errors import ConfigError, ModelMissingError
from mmretrieval.query import Query
from mmretrieval.testing.synth import Scene, make_audio


def test_every_channel_is_indexed(tiny_indexed, corpus):
    library, report = tiny_indexed
    assert report.count("indexed") == len(corpus) and not report.failures
    stats = library.stats()
    assert set(stats["spaces"]) == {"text", "clip", "clap"}
    assert set(stats["spaces"]["clip"]) == {"frames", "hub"}
    vectors = stats["vectors"]
    assert vectors["hub"] == stats["clips"]  # every clip has speech, frames or sound
    assert vectors["frames"] < stats["clips"]  # the audio-only podcast has no frames
    assert {"audio", "speech", "ocr"} <= set(vectors)


@pytest.mark.parametrize(
    ("query", "spaces"),
    [
        (Query(text="storm warning"), {"text", "clip", "clap"}),
        (Query(image="frame.png"), {"clip", "clap"}),
    ],
)
def test_query_reaches_the_spaces_it_should(tiny_indexed, tmp_path, query, spaces, corpus):
    library, _ = tiny_indexed
    if query.image is not None:
        query = Query(image=_frame_png(corpus["council"].path, 1.0, tmp_path))
    encoded = library.encode_query(query)
    assert set(encoded.vectors) == spaces
    for vector in encoded.vectors.values():
        assert vector.dtype == np.float32
        assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)


def test_a_query_longer_than_clip_and_clap_read_is_said_on_every_hit(tiny_indexed):
    library, _ = tiny_indexed
    long_query = " ".join(["storm warning for the harbour ferries tonight"] * 20)  # ~140 words
    hits = library.search(text=long_query, k=3)
    assert hits
    for hit in hits:
        assert [note.split(":")[0] for note in hit.notes] == ["clip", "clap"]
        assert "77 tokens" in hit.notes[0]
        assert hit.to_dict()["notes"] == hit.notes
    short = library.search(text="storm warning", k=3)
    assert short and all(hit.notes is None and "notes" not in hit.to_dict() for hit in short)
    table = subprocess.run(
        [sys.executable, "-m", "mmretrieval.cli", "search", "--index", str(library.index_dir)]
        + [long_query, "-k", "1"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert [line.split(":")[:2] for line in table.stderr.splitlines() if "note" in line] == [
        ["note", " clip"],
        ["note", " clap"],
    ]


def test_audio_query_reaches_sound_bridged_picture_and_speech(tiny_indexed, tmp_path):
    library, _ = tiny_indexed
    recording = tmp_path / "question.wav"
    make_audio(recording, [Scene(speech="Which ferries were cancelled by the wind?")])
    encoded = library.encode_query(Query(audio=recording))
    assert set(encoded.vectors) == {"clap", "clip", "text"}
    assert "cancelled" in encoded.text.lower()
    hits = library.search(audio=recording, k=3)
    assert hits and all("audio" in h.evidence for h in hits)


def test_image_query_points_at_the_frame_it_was_taken_from(tiny_indexed, corpus, tmp_path):
    library, _ = tiny_indexed
    span = corpus["harbour"].span_of("STORM WARNING")
    sampled = float(np.ceil(span.start))  # frames are sampled once a second, from 0
    frame = _frame_png(corpus["harbour"].path, sampled, tmp_path)
    hits = library.search(image=frame, k=10)
    harbour = next(h for h in hits if h.path == str(corpus["harbour"].path))
    assert harbour.frame_time == pytest.approx(sampled, abs=0.05)
    assert harbour.start <= harbour.frame_time <= harbour.end


def test_video_query_finds_its_own_span(tiny_indexed, corpus):
    library, _ = tiny_indexed
    span = corpus["council"].span_of("public libraries")
    hits = library.search(video=corpus["council"].path, start=span.start, end=span.end, k=5)
    top = hits[0]
    assert top.path == str(corpus["council"].path)
    assert top.start < span.end and top.end > span.start
    assert {"frames", "hub", "audio", "speech"} <= set(top.evidence)


def test_spaces_restrict_a_text_query_to_sound(tiny_indexed):
    library, _ = tiny_indexed
    hits = library.search(text="wind and waves", spaces=["clap"], k=5)
    assert hits and all(set(h.evidence) == {"audio"} for h in hits)


def test_cli_image_query_prints_json_hits(tiny_indexed, corpus, tmp_path):
    library, _ = tiny_indexed
    frame = _frame_png(corpus["mountain"].path, 1.0, tmp_path)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mmretrieval.cli",
            "search",
            "--index",
            str(library.index_dir),
            "--image",
            str(frame),
            "--json",
            "-k",
            "2",
            "--spaces",
            "clip",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    hits = json.loads(result.stdout)
    assert len(hits) == 2 and hits[0]["score"] >= hits[1]["score"]
    assert all(isinstance(h["frame_time"], float) and "frames" in h["evidence"] for h in hits)


def test_bridge_fitted_for_other_models_is_refused(tiny_profile, tmp_path):
    from mmretrieval.adapters.bridge import load_bridge

    bridge_path = yaml.safe_load(tiny_profile.read_text())["bridge"]["path"]
    with pytest.raises(ConfigError, match="fitted for"):
        load_bridge(bridge_path, "laion/clap-htsat-unfused", "openai/clip-vit-base-patch32")


def test_missing_clip_model_is_one_clear_error(tiny_profile, tmp_path, corpus):
    profile = yaml.safe_load(tiny_profile.read_text())
    profile["adapters"]["clip"]["model"] = str(tmp_path / "no-such-clip")
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(profile))
    with pytest.raises(ModelMissingError, match="no-such-clip"):
        Library(tmp_path / "idx", profile=path).add([corpus["council"].path])
    assert not (tmp_path / "idx").exists()


def test_models_command_lists_default_profile_with_licences():
    result = subprocess.run(
        [sys.executable, "-m", "mmretrieval.cli", "models", "--profile", "default", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    models = {m["adapter"]: m for m in json.loads(result.stdout)}
    assert models["clip"]["model"] == "openai/clip-vit-base-patch32"
    assert models["clap"]["model"] == "laion/clap-htsat-unfused"
    assert all(m["commercial_use"] for m in models.values())


def _frame_png(video, at: float, folder):
    with av.open(str(video)) as container:
        for frame in container.decode(video=0):
            if frame.time >= at:
                path = folder / f"{video.stem}-{at:.1f}.png"
                frame.to_image().save(path)
                return path
    raise AssertionError(f"no frame at {at} s in {video}")
