"""The media of the people tests (test_people, test_server_people, test_browser): espeak-ng
voices that GE2E tells apart and a public-domain NASA photograph; fixtures in conftest.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

from mmretrieval.config import Profile, load_profile
from mmretrieval.testing.synth import Scene, make_audio, make_video

# Two espeak-ng voices that GE2E tells apart (benchmarks/people.py measures many more).
VOICE_A, VOICE_B = "en-us+f2", "en-us+klatt"
SAID_BY_BOTH = "The committee will publish its findings on the budget next month."


def people_profile(ocr: bool = False) -> Profile:
    """The people profile, without OCR unless asked (no people test reads screen text)."""
    profile = load_profile("people")
    adapters = profile.adapters if ocr else profile.adapters.model_copy(update={"ocr": None})
    return profile.model_copy(update={"adapters": adapters})


def astronaut() -> np.ndarray:
    """Eileen Collins, NASA (public domain), cropped to head and shoulders."""
    return data.astronaut()[:300, 100:400]


def make_voices(root: Path) -> None:
    """media/a.wav (voice A), media/b.wav (voice B), and two queries: other words by A, and
    A's first sentence said by B."""
    make_audio(
        root / "media" / "a.wav",
        [
            Scene(SAID_BY_BOTH, voice=VOICE_A),
            Scene("Nothing else of note happened in the city today.", voice=VOICE_A),
        ],
    )
    make_audio(
        root / "media" / "b.wav",
        [
            Scene("The weather today is sunny with a light breeze from the west.", voice=VOICE_B),
            Scene("Trains to the airport leave every ten minutes.", voice=VOICE_B),
        ],
    )
    make_audio(
        root / "other_words_by_a.wav",
        [Scene("Please remember to bring your tickets to the station early.", voice=VOICE_A)],
    )
    make_audio(root / "same_words_by_b.wav", [Scene(SAID_BY_BOTH, voice=VOICE_B)])


def make_faces(root: Path) -> None:
    """media/news.mp4 (the astronaut on screen 6-14 s), media/empty.mp4 (no face), and two
    query photos: portrait.png (the whole photograph) and no_face.png."""
    make_video(
        root / "media" / "news.mp4",
        [
            Scene("A report on the weather comes first.", duration=6.0),
            Scene(duration=8.0, picture=astronaut()),
            Scene("And now the sport results from the weekend.", duration=6.0),
        ],
        size=(640, 360),
    )
    make_video(root / "media" / "empty.mp4", [Scene(duration=6.0)], size=(640, 360))
    Image.fromarray(data.astronaut()).save(root / "portrait.png")
    Image.fromarray(data.camera()).save(root / "no_face.png")
