"""The CLAP encoder on a tiny random checkpoint: shapes, norms, determinism, long audio."""

from __future__ import annotations

import numpy as np
import pytest
from tiny_models import make_tiny_clap

from mmretrieval.adapters.clap import ClapEncoder
from mmretrieval.config import ClapConfig
from mmretrieval.errors import ModelMissingError
from mmretrieval.media.decode import load_audio
from mmretrieval.testing.synth import Scene, make_audio, speak

RATE = 48_000  # the tiny model keeps LAION CLAP's rate and 10 s window


@pytest.fixture(scope="module")
def clap_dir(tmp_path_factory):
    return make_tiny_clap(tmp_path_factory.mktemp("tiny_clap"))


@pytest.fixture(scope="module")
def encoder(clap_dir) -> ClapEncoder:
    return ClapEncoder(ClapConfig(model=str(clap_dir), batch_size=4, device="cpu"))


@pytest.fixture(scope="module")
def sounds() -> dict[str, np.ndarray]:
    t = np.arange(3 * RATE) / RATE
    return {
        "tone": (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32),
        "noise": np.random.default_rng(0).normal(0, 0.3, 3 * RATE).astype(np.float32),
        "speech": speak("The ferry was cancelled because of strong winds.", sample_rate=RATE),
    }


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a.ravel(), b.ravel()))


def test_shapes_dtype_and_unit_norm(encoder, sounds):
    assert encoder.space == "clap"
    assert encoder.sample_rate == RATE
    assert encoder.window_seconds == 10.0
    audio = encoder.embed_audio(list(sounds.values()))
    text = encoder.embed_text(["a dog barking", "rain on the road", "the city council"])
    assert audio.shape == (3, encoder.dim) and text.shape == (3, encoder.dim)
    assert audio.dtype == np.float32 and text.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(audio, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(text, axis=1), 1.0, atol=1e-5)
    assert encoder.embed_audio([]).shape == (0, encoder.dim)
    assert encoder.embed_text([]).shape == (0, encoder.dim)


def test_text_and_audio_towers_share_the_dimension(encoder, clap_dir):
    from transformers import ClapConfig as HfClapConfig

    assert encoder.dim == HfClapConfig.from_pretrained(clap_dir).projection_dim
    assert encoder.embed_text(["bell"]).shape[1] == encoder.embed_audio([np.ones(RATE)]).shape[1]


def test_batch_size_does_not_change_vectors(encoder, sounds, monkeypatch):
    waves = [*sounds.values(), sounds["tone"][: RATE // 2], sounds["noise"]]
    texts = ["a dog", "the sound of rain on a quiet street at night", "bell", "music", "sea"]
    batched_audio, batched_text = encoder.embed_audio(waves), encoder.embed_text(texts)
    monkeypatch.setattr(encoder, "batch_size", 1)
    np.testing.assert_allclose(encoder.embed_audio(waves), batched_audio, atol=1e-5)
    np.testing.assert_allclose(encoder.embed_text(texts), batched_text, atol=1e-5)


def test_deterministic_within_and_across_loads(encoder, clap_dir, sounds):
    first = encoder.embed_audio([sounds["speech"], sounds["speech"]])
    np.testing.assert_array_equal(first[0], first[1])
    # batches of other sizes may round differently in the last bit (CPU kernels)
    np.testing.assert_allclose(encoder.embed_audio([sounds["speech"]])[0], first[0], atol=1e-6)
    again = ClapEncoder(ClapConfig(model=str(clap_dir), batch_size=2, device="cpu"))
    np.testing.assert_allclose(again.embed_audio([sounds["speech"]])[0], first[0], atol=1e-5)
    np.testing.assert_allclose(
        again.embed_text(["thunder"]), encoder.embed_text(["thunder"]), atol=1e-6
    )


def test_long_audio_is_chunked_not_randomly_cropped(encoder, sounds):
    tone, noise, speech = sounds["tone"], sounds["noise"], sounds["speech"]
    parts = [np.resize(tone, 10 * RATE), np.resize(noise, 10 * RATE), np.resize(speech, 5 * RATE)]
    long = np.concatenate(parts)  # 25 s: three different stretches
    vectors = [encoder.embed_audio([long])[0] for _ in range(3)]
    np.random.seed(1)  # the extractor's random crop would draw from the global generator
    vectors.append(encoder.embed_audio([long])[0])
    for vector in vectors[1:]:
        np.testing.assert_array_equal(vector, vectors[0])
    head = encoder.embed_audio([parts[0]])[0]
    assert _cos(vectors[0], head) < 0.999
    # consecutive 10 s windows, averaged by seconds of audio each holds
    windows = encoder.embed_audio(parts)
    expected = (windows * np.array([[10.0], [10.0], [5.0]])).sum(axis=0)
    np.testing.assert_allclose(vectors[0], expected / np.linalg.norm(expected), atol=1e-5)


def test_different_sounds_give_different_vectors(encoder, sounds):
    vectors = encoder.embed_audio([sounds["tone"], sounds["noise"], sounds["speech"]])
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        assert _cos(vectors[i], vectors[j]) < 0.999, (i, j)


def test_audio_decoded_from_a_file_at_the_model_rate(encoder, tmp_path):
    path = tmp_path / "report.wav"
    spans = make_audio(path, [Scene(speech="Snow closed the mountain roads.")], sample_rate=16000)
    wave = load_audio(path, encoder.sample_rate)
    assert abs(len(wave) / encoder.sample_rate - spans[-1].end) < 0.05
    vector = encoder.embed_audio([wave])
    assert vector.shape == (1, encoder.dim)
    np.testing.assert_allclose(np.linalg.norm(vector), 1.0, atol=1e-5)


def test_too_short_or_malformed_audio_is_refused(encoder):
    for short in (np.zeros(0, np.float32), np.ones(RATE // 20, np.float32)):
        with pytest.raises(ValueError, match="shorter than"):
            encoder.embed_audio([np.ones(RATE, np.float32), short])
    assert encoder.embed_audio([np.ones(RATE // 5, np.float32)]).shape == (1, encoder.dim)
    with pytest.raises(ValueError, match="mono"):
        encoder.embed_audio([np.ones((2, RATE), np.float32)])
    with pytest.raises(ValueError, match="finite"):
        encoder.embed_audio([np.full(RATE, np.nan, np.float32)])


def test_cuda_matches_cpu(encoder, clap_dir, sounds):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device on this machine")
    gpu = ClapEncoder(ClapConfig(model=str(clap_dir), batch_size=4, device="cuda"))
    waves = list(sounds.values())
    np.testing.assert_allclose(gpu.embed_audio(waves), encoder.embed_audio(waves), atol=1e-3)
    texts = ["a dog barking", "rain"]
    np.testing.assert_allclose(gpu.embed_text(texts), encoder.embed_text(texts), atol=1e-3)


def test_missing_or_wrong_model_folder(tmp_path):
    with pytest.raises(ModelMissingError, match="does not exist"):
        ClapEncoder(ClapConfig(model=str(tmp_path / "no-such-model"), device="cpu"))
    with pytest.raises(ModelMissingError, match="does not hold a CLAP model"):
        ClapEncoder(ClapConfig(model=str(tmp_path), device="cpu"))
