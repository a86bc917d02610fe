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


# --- fed as LAION's CLAP was trained -----------------------------------------------------------


def _reference_features(output) -> np.ndarray:
    """Unit vectors from transformers' own ClapModel output."""
    import torch

    return torch.nn.functional.normalize(output.pooler_output.float(), dim=-1).numpy()


def test_text_is_cut_at_laion_77_tokens(encoder, caplog):
    import torch
    from transformers import ClapModel

    long = "the sound of rain on a quiet street at night " * 12
    assert encoder.max_text_tokens == 77  # the tokenizer saved with it allows 512
    assert encoder.processor.tokenizer.model_max_length == 512
    assert encoder.truncated([long, "rain"]) == [True, False]
    tokenizer = encoder.processor.tokenizer
    ids = tokenizer(long)["input_ids"]
    assert len(ids) > 77
    cut = torch.tensor([ids[:76] + [tokenizer.eos_token_id]])  # laion_clap: max_length 77
    model = ClapModel.from_pretrained(encoder.model.name_or_path).eval()
    with torch.inference_mode():
        expected = _reference_features(
            model.get_text_features(input_ids=cut, attention_mask=torch.ones_like(cut))
        )
    with caplog.at_level("INFO", logger="mmretrieval.adapters.tokens"):
        vectors = encoder.embed_text([long, "rain"])
    np.testing.assert_allclose(vectors[:1], expected, atol=1e-5)
    assert "1 of 2 texts cut" in caplog.text


def test_logit_scale_is_the_audio_scale_of_the_checkpoint(clap_dir, tmp_path, sounds):
    import torch
    from transformers import ClapModel, ClapProcessor

    from mmretrieval.moderation.detectors import zero_shot
    from mmretrieval.moderation.policy import ZeroShotSignal

    model = ClapModel.from_pretrained(clap_dir)
    with torch.no_grad():  # learnt values other than the initial ones, audio and text apart
        model.logit_scale_a.fill_(np.log(23.0))
        model.logit_scale_t.fill_(np.log(41.0))
    model.save_pretrained(tmp_path)
    ClapProcessor.from_pretrained(clap_dir).save_pretrained(tmp_path)
    encoder = ClapEncoder(ClapConfig(model=str(tmp_path), device="cpu"))
    assert encoder.logit_scale == pytest.approx(23.0, rel=1e-6)

    prompts = ["a dog barking", "a bell ringing", "rain on the road", "the city council"]
    signal = ZeroShotSignal(type="clap", positive=prompts[:2], negative=prompts[2:], threshold=0.5)
    scale = signal.softmax_scale(encoder)
    assert scale == encoder.logit_scale
    waves = list(sounds.values())
    ours = zero_shot(encoder.embed_audio(waves), encoder.embed_text(prompts), 2, scale)
    processor = ClapProcessor.from_pretrained(tmp_path)
    with torch.inference_mode():  # CLAP's own audio-to-text logits (logit_scale_a)
        text = processor.tokenizer(prompts, padding=True, return_tensors="pt")
        audio = processor.feature_extractor(waves, sampling_rate=RATE, return_tensors="pt")
        logits = model.eval()(
            **text, input_features=audio["input_features"], is_longer=audio["is_longer"]
        ).logits_per_audio
    np.testing.assert_allclose(ours, logits.softmax(dim=-1)[:, :2].sum(dim=1).numpy(), atol=1e-5)


@pytest.fixture(scope="module")
def fused_dir(tmp_path_factory):
    return make_tiny_clap(tmp_path_factory.mktemp("tiny_clap_fused"), fused=True)


def test_fused_checkpoint_reads_each_window_whole_and_deterministically(fused_dir, sounds):
    """LAION's inference for audio no longer than the window: the mel spectrogram stacked four
    times, ``is_longer`` false, so the fusion branch is not used and nothing is random."""
    import torch
    from transformers import ClapModel, ClapProcessor

    encoder = ClapEncoder(ClapConfig(model=str(fused_dir), batch_size=4, device="cpu"))
    assert encoder.fused
    waves = list(sounds.values())
    vectors = encoder.embed_audio(waves)
    np.testing.assert_array_equal(encoder.embed_audio(waves), vectors)

    model = ClapModel.from_pretrained(fused_dir).eval()
    extractor = ClapProcessor.from_pretrained(fused_dir).feature_extractor
    features = extractor(waves, sampling_rate=RATE, truncation="fusion", return_tensors="pt")
    mels = features["input_features"]
    assert mels.shape[1] == 4 and bool((mels == mels[:, :1]).all())  # four copies of one mel
    assert int(features["is_longer"].sum()) == 1  # the extractor's random pick for training
    with torch.inference_mode():
        expected = _reference_features(
            model.get_audio_features(
                input_features=mels, is_longer=torch.zeros((len(waves), 1), dtype=torch.bool)
            )
        )
        picked = _reference_features(
            model.get_audio_features(input_features=mels, is_longer=features["is_longer"])
        )
    np.testing.assert_allclose(vectors, expected, atol=1e-5)
    assert not np.allclose(picked, expected, atol=1e-3)  # the random flag would change one

    long = np.concatenate([np.resize(sounds["tone"], 10 * RATE), sounds["noise"]])  # 13 s
    first = encoder.embed_audio([long])
    np.testing.assert_array_equal(encoder.embed_audio([long]), first)
    windows = encoder.embed_audio([long[: 10 * RATE], long[10 * RATE :]])
    pooled = windows[0] * 10 + windows[1] * 3
    np.testing.assert_allclose(first[0], pooled / np.linalg.norm(pooled), atol=1e-5)
