"""Shared fixtures: generated news footage (real speech, real drawn captions) and an index of it.

Model loading dominates test time, so one session-wide index over the corpus serves every
test that only reads; tests that write build their own small index.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mmretrieval import Library
from mmretrieval.testing.synth import Scene, SceneSpan, make_audio, make_video, write_subtitles

if shutil.which("espeak-ng") is None:  # pragma: no cover - a set-up problem, not a test result
    raise pytest.UsageError("espeak-ng is missing: run scripts/install_system_deps.sh")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Media:
    path: Path
    spans: list[SceneSpan]

    def span_of(self, text: str) -> SceneSpan:
        """The scene whose speech or caption contains ``text``."""
        return next(s for s in self.spans if text in (s.speech or "") + (s.caption or ""))


COUNCIL = [
    Scene(
        speech="The city council approved a new budget for public libraries on Monday.",
        caption="CITY COUNCIL VOTE",
    ),
    Scene(
        speech="Councillor Kowalczyk said the vote was the closest in a decade.",
        caption="BUDGET APPROVED",
        background=(90, 50, 40),
    ),
]
HARBOUR = [
    Scene(
        speech="All ferry crossings from the harbour were cancelled because of strong winds.",
        caption="FERRY SERVICES SUSPENDED",
        background=(20, 70, 60),
    ),
    Scene(caption="STORM WARNING FORCE 9 GALES", duration=4.0, background=(60, 60, 60)),
    Scene(
        speech="Fishermen have moved their boats into the inner basin for shelter.",
        background=(30, 40, 80),
    ),
]
PODCAST = [
    Scene(speech="Today we talk about the vaccination programme for young children."),
    Scene(speech="Doctors say the winter season puts hospitals under pressure.", voice="en-gb"),
]
MOUNTAIN = [
    Scene(
        speech="Heavy snow has closed several roads in the highlands overnight.",
        caption="SNOW CLOSES HIGHLAND ROADS",
        background=(200, 200, 210),
    ),
]


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory) -> Iterator[str]:
    """The address of a real Milvus standalone server (``milvus_server.running_server``),
    one per test run on free ports, stopped at the end. Tests that use it carry the
    ``milvus_server`` mark (``-m "not milvus_server"`` skips them); they are skipped only when
    the binary cannot run on this machine, with its own words why."""
    from milvus_server import ServerCannotRun, running_server

    try:
        with running_server(tmp_path_factory.mktemp("milvus-server")) as (uri, seconds):
            log.info("Milvus server at %s in %.1f s", uri, seconds)
            yield uri
    except ServerCannotRun as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> dict[str, Media]:
    """Four files in four containers: speech, captions, a caption-only scene, audio only."""
    folder = tmp_path_factory.mktemp("corpus")
    (folder / "nested").mkdir()
    made = {
        "council": Media(folder / "council.mp4", make_video(folder / "council.mp4", COUNCIL)),
        "harbour": Media(
            folder / "nested" / "harbour.mkv",
            make_video(folder / "nested" / "harbour.mkv", HARBOUR, seed=1),
        ),
        "podcast": Media(folder / "podcast.wav", make_audio(folder / "podcast.wav", PODCAST)),
        "mountain": Media(
            folder / "mountain.mov", make_video(folder / "mountain.mov", MOUNTAIN, seed=2)
        ),
    }
    (folder / "notes.txt").write_text("not media: ignored when a folder is indexed")
    return made


@pytest.fixture(scope="session")
def corpus_dir(corpus) -> Path:
    return corpus["council"].path.parent


@pytest.fixture(scope="session")
def indexed(corpus_dir, tmp_path_factory):
    """(library, report) for the whole corpus, indexed once with the offline profile."""
    library = Library(tmp_path_factory.mktemp("index") / "idx", profile="offline")
    report = library.add([corpus_dir])
    yield library, report
    library.close()


@pytest.fixture(scope="session")
def voices(tmp_path_factory) -> Path:
    """Two speakers' files and two voice queries (``people_media.make_voices``)."""
    from people_media import make_voices

    root = tmp_path_factory.mktemp("voices")
    make_voices(root)
    return root


@pytest.fixture(scope="session")
def faces(tmp_path_factory) -> Path:
    """A video with a face on screen, one without, and two photos (``people_media``)."""
    from people_media import make_faces

    root = tmp_path_factory.mktemp("faces")
    make_faces(root)
    return root


@pytest.fixture(scope="session")
def people_indexed(voices, faces, tmp_path_factory):
    """A Library over the voices' and faces' media, indexed once with the people profile
    (biometric vectors; no OCR). Tests that name or forget people build their own."""
    from people_media import people_profile

    library = Library(tmp_path_factory.mktemp("people-index") / "idx", profile=people_profile())
    library.add([voices / "media", faces / "media"])
    yield library
    library.close()


@pytest.fixture
def subtitled_video(tmp_path) -> Media:
    """A video with a .srt sidecar whose words differ from nothing the corpus says."""
    scenes = [Scene(speech="The museum reopens its dinosaur gallery next spring.")]
    path = tmp_path / "museum.mp4"
    spans = make_video(path, scenes, size=(320, 180))
    write_subtitles(path.with_suffix(".srt"), spans)
    return Media(path, spans)


@pytest.fixture(scope="session")
def tiny_profile(tmp_path_factory) -> Path:
    """A profile with every modality: the bundled offline models plus tiny random CLIP and CLAP
    models saved the way users' checkpoints are, and a bridge path of its own."""
    from tiny_models import make_tiny_clap, make_tiny_clip

    folder = tmp_path_factory.mktemp("tiny-models")
    clip, clap = make_tiny_clip(folder / "clip"), make_tiny_clap(folder / "clap")
    profile = folder / "tiny.yaml"
    profile.write_text(
        f"""
adapters:
  speech: {{model: "bundled:tiny.en"}}
  ocr: {{rate: 0.5}}
  text: {{model: "bundled:all-MiniLM-L6-v2"}}
  clip: {{model: "{clip}", device: cpu, frame_rate: 1.0, max_frames: 16}}
  clap: {{model: "{clap}", device: cpu}}
bridge: {{path: "{folder / "bridge.npz"}"}}
search:
  fusion: rrf
  weights: {{text: 1.0, lexical: 0.7, clip: 1.0, clap: 0.7}}
"""
    )
    return profile


@pytest.fixture(scope="session")
def tiny_indexed(tiny_profile, corpus_dir, tmp_path_factory):
    """(library, report): the corpus indexed with every modality through the tiny models."""
    library = Library(tmp_path_factory.mktemp("tiny-index") / "idx", profile=tiny_profile)
    library.fit_bridge()
    report = library.add([corpus_dir])
    yield library, report
    library.close()
