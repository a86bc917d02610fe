"""The CLIP encoder on a tiny random CLIP saved to disk and loaded the way users load one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_models import make_tiny_clip

from mmretrieval.adapters.clip import ClipEncoder
from mmretrieval.config import ClipConfig
from mmretrieval.embed import mean_direction
from mmretrieval.errors import ModelMissingError

TEXTS = [
    "a photo of a cat",
    "the harbour in a storm",
    "",
    "city council vote on the library budget " * 20,  # longer than the 77-token context
    "A Dog Barking!",
    "snow on the mountain",
    "news report",
    "traffic on the bridge at night",
    "one",
]
DEVICES = [
    "cpu",
    pytest.param(
        "cuda",
        marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here"),
    ),
]


@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_clip(tmp_path_factory.mktemp("tiny-clip"))


@pytest.fixture(scope="module", params=DEVICES)
def encoder(request: pytest.FixtureRequest, clip_folder: Path) -> ClipEncoder:
    return ClipEncoder(ClipConfig(model=str(clip_folder), device=request.param, batch_size=7))


def _images() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    images = [
        np.zeros((48, 64, 3), np.uint8),
        np.full((20, 20, 3), 255, np.uint8),
        rng.integers(0, 256, (240, 320, 3), dtype=np.uint8),
        rng.integers(0, 256, (3, 3, 3), dtype=np.uint8),  # tiny: channels must not be guessed
    ]
    stripes = np.zeros((90, 160, 3), np.uint8)
    stripes[:, ::8] = (255, 0, 0)
    images.append(stripes)
    gradient = np.linspace(0, 255, 64 * 64 * 3).reshape(64, 64, 3).astype(np.uint8)
    images += [gradient, gradient[::-1], np.ascontiguousarray(gradient[:, :, ::-1])]
    return images


def _assert_unit(vectors: np.ndarray) -> None:
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_shapes_dtype_and_unit_norm(encoder: ClipEncoder) -> None:
    assert encoder.space == "clip"
    assert encoder.dim == 16
    text = encoder.embed_text(TEXTS)
    images = encoder.embed_images(_images())
    assert text.shape == (len(TEXTS), encoder.dim)
    assert images.shape == (len(_images()), encoder.dim)
    for vectors in (text, images):
        assert vectors.dtype == np.float32
        assert vectors.flags.c_contiguous
        _assert_unit(vectors)


def test_empty_input(encoder: ClipEncoder) -> None:
    assert encoder.embed_text([]).shape == (0, encoder.dim)
    assert encoder.embed_images([]).shape == (0, encoder.dim)
    assert encoder.embed_images([]).dtype == np.float32


def test_batch_size_does_not_change_vectors(clip_folder: Path, encoder: ClipEncoder) -> None:
    device = encoder.device
    one = ClipEncoder(ClipConfig(model=str(clip_folder), device=device, batch_size=1))
    np.testing.assert_allclose(one.embed_text(TEXTS), encoder.embed_text(TEXTS), atol=1e-5, rtol=0)
    np.testing.assert_allclose(
        one.embed_images(_images()), encoder.embed_images(_images()), atol=1e-5, rtol=0
    )


def test_two_loads_give_the_same_vectors(clip_folder: Path) -> None:
    config = ClipConfig(model=str(clip_folder), device="cpu")
    first, second = ClipEncoder(config), ClipEncoder(config)
    np.testing.assert_array_equal(first.embed_text(TEXTS), second.embed_text(TEXTS))
    np.testing.assert_array_equal(first.embed_images(_images()), second.embed_images(_images()))


def test_rebuilt_model_gives_the_same_vectors(tmp_path: Path, encoder: ClipEncoder) -> None:
    rebuilt = ClipEncoder(ClipConfig(model=str(make_tiny_clip(tmp_path)), device="cpu"))
    np.testing.assert_allclose(
        rebuilt.embed_text(TEXTS), encoder.embed_text(TEXTS), atol=1e-5, rtol=0
    )


def test_text_and_images_share_the_space(encoder: ClipEncoder) -> None:
    text = encoder.embed_text(["a photo of a cat"])
    image = encoder.embed_images([_images()[2]])
    assert text.shape[1] == image.shape[1] == encoder.dim
    assert -1.0 <= float(text[0] @ image[0]) <= 1.0


def test_identical_images_match_and_different_images_differ(encoder: ClipEncoder) -> None:
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    black = np.zeros((64, 64, 3), np.uint8)
    vectors = encoder.embed_images([noise, noise.copy(), black])
    np.testing.assert_allclose(vectors[0], vectors[1], atol=1e-6)
    assert float(vectors[0] @ vectors[2]) < 0.99


def test_same_text_same_vector_and_case_folded(encoder: ClipEncoder) -> None:
    vectors = encoder.embed_text(["storm warning", "storm warning", "STORM WARNING", "a cat"])
    np.testing.assert_allclose(vectors[0], vectors[1], atol=1e-6)
    np.testing.assert_allclose(vectors[0], vectors[2], atol=1e-6)  # CLIP lowercases text
    assert float(vectors[0] @ vectors[3]) < 0.99


def test_rejects_images_that_are_not_rgb_uint8(encoder: ClipEncoder) -> None:
    with pytest.raises(ValueError, match="RGB uint8"):
        encoder.embed_images([np.zeros((32, 32), np.uint8)])
    with pytest.raises(ValueError, match="RGB uint8"):
        encoder.embed_images([np.zeros((32, 32, 3), np.float32)])


def test_pooling_identical_frames_gives_the_frame(encoder: ClipEncoder) -> None:
    frame = encoder.embed_images([_images()[2]])
    pooled = mean_direction(np.repeat(frame, 5, axis=0))
    assert pooled.shape == (encoder.dim,)
    assert pooled.dtype == np.float32
    np.testing.assert_allclose(pooled, frame[0], atol=1e-6)


def test_pooling_is_the_renormalised_mean_of_unit_vectors() -> None:
    vectors = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    np.testing.assert_allclose(mean_direction(vectors), [2**-0.5, 2**-0.5], atol=1e-6)
    assert mean_direction(np.zeros((0, 4), np.float32)) is None
    assert mean_direction(np.array([[1.0, 0.0], [-1.0, 0.0]], np.float32)) is None


def test_missing_local_folder_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-clip"
    with pytest.raises(ModelMissingError, match=str(missing)):
        ClipEncoder(ClipConfig(model=str(missing), device="cpu"))


def test_folder_without_a_clip_says_so(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(ModelMissingError, match="not a CLIP checkpoint"):
        ClipEncoder(ClipConfig(model=str(tmp_path), device="cpu"))


# --- fed as CLIP was trained -------------------------------------------------------------------


def _reference_unit(features) -> np.ndarray:
    """Projected features from transformers' own CLIPModel, normalised as CLIP does."""
    output = features.pooler_output if hasattr(features, "pooler_output") else features
    return torch.nn.functional.normalize(output.float(), dim=-1).numpy()


@pytest.fixture(scope="module")
def fp16_clip_folder(tmp_path_factory: pytest.TempPathFactory, clip_folder: Path) -> Path:
    """The tiny CLIP saved in float16, as many hub checkpoints are."""
    from transformers import AutoProcessor, CLIPModel

    folder = tmp_path_factory.mktemp("tiny-clip-fp16")
    CLIPModel.from_pretrained(clip_folder).half().save_pretrained(folder)
    AutoProcessor.from_pretrained(clip_folder).save_pretrained(folder)
    return folder


def test_half_precision_checkpoint_runs_in_float32_on_the_cpu(fp16_clip_folder: Path) -> None:
    from transformers import AutoProcessor, CLIPModel

    encoder = ClipEncoder(ClipConfig(model=str(fp16_clip_folder), device="cpu", dtype="float16"))
    assert encoder.dtype == torch.float32
    assert {p.dtype for p in encoder.model.parameters()} == {torch.float32}
    reference = CLIPModel.from_pretrained(fp16_clip_folder, dtype=torch.float32).eval()
    processor = AutoProcessor.from_pretrained(fp16_clip_folder)
    with torch.inference_mode():
        pixels = processor.image_processor(
            images=_images(), input_data_format="channels_last", return_tensors="pt"
        )
        expected = _reference_unit(reference.get_image_features(**pixels))
    np.testing.assert_allclose(encoder.embed_images(_images()), expected, atol=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_cuda_runs_in_the_profile_dtype(clip_folder: Path, dtype: str) -> None:
    cpu = ClipEncoder(ClipConfig(model=str(clip_folder), device="cpu"))
    gpu = ClipEncoder(ClipConfig(model=str(clip_folder), device="cuda", dtype=dtype))
    assert {p.dtype for p in gpu.model.parameters()} == {getattr(torch, dtype)}
    vectors = gpu.embed_images(_images())
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, cpu.embed_images(_images()), atol=3e-2)
    np.testing.assert_allclose(gpu.embed_text(TEXTS), cpu.embed_text(TEXTS), atol=3e-2)


def test_logit_scale_is_the_checkpoints_and_gives_clips_own_zero_shot(
    tmp_path: Path, clip_folder: Path
) -> None:
    from transformers import AutoProcessor, CLIPModel

    from mmretrieval.moderation.detectors import zero_shot
    from mmretrieval.moderation.policy import ZeroShotSignal

    model = CLIPModel.from_pretrained(clip_folder)
    with torch.no_grad():
        model.logit_scale.fill_(np.log(37.5))  # a learnt value other than the initial one
    model.save_pretrained(tmp_path)
    AutoProcessor.from_pretrained(clip_folder).save_pretrained(tmp_path)
    encoder = ClipEncoder(ClipConfig(model=str(tmp_path), device="cpu"))
    assert encoder.logit_scale == pytest.approx(37.5, rel=1e-6)

    prompts = ["a photo of a cat", "a dog", "the sea at night", "a news studio"]
    signal = ZeroShotSignal(type="clip", positive=prompts[:2], negative=prompts[2:], threshold=0.5)
    scale = signal.softmax_scale(encoder)
    assert scale == encoder.logit_scale
    ours = zero_shot(encoder.embed_images(_images()), encoder.embed_text(prompts), 2, scale)
    processor = AutoProcessor.from_pretrained(tmp_path)
    with torch.inference_mode():  # CLIP's own image-to-text logits and their softmax
        text = processor.tokenizer(prompts, padding=True, return_tensors="pt")
        images = processor.image_processor(
            images=_images(), input_data_format="channels_last", return_tensors="pt"
        )
        logits = model.eval()(**text, **images).logits_per_image
        probabilities = logits.softmax(dim=-1).numpy()
    np.testing.assert_allclose(ours, probabilities[:, :2].sum(axis=1), atol=1e-5)


def test_long_text_is_cut_to_77_tokens_as_openai_clip_cuts_it(
    encoder: ClipEncoder, caplog: pytest.LogCaptureFixture
) -> None:
    from transformers import CLIPModel

    long, short = TEXTS[3], TEXTS[0]
    assert encoder.truncated([long, short]) == [True, False]
    tokenizer = encoder.processor.tokenizer
    ids = tokenizer(long)["input_ids"]
    assert len(ids) > 77
    cut = ids[:76] + [tokenizer.eos_token_id]  # clip.tokenize(truncate=True): 76 + end token
    reference = CLIPModel.from_pretrained(encoder.model.name_or_path).eval()
    with torch.inference_mode():
        expected = _reference_unit(reference.get_text_features(input_ids=torch.tensor([cut])))
    with caplog.at_level("INFO", logger="mmretrieval.adapters.tokens"):
        vectors = encoder.embed_text([long, short])
    np.testing.assert_allclose(vectors[:1], expected, atol=1e-5)
    assert "1 of 2 texts cut" in caplog.text


def test_wide_frames_are_decoded_at_the_size_the_processor_needs(
    tmp_path: Path, encoder: ClipEncoder
) -> None:
    """A 2.4:1 frame keeps the processor's shortest side: CLIP sees the decoded pixels, centre
    cropped, instead of a 186-pixel-high frame upscaled to 224."""
    from transformers import CLIPImageProcessor

    from mmretrieval.media.decode import iter_frames
    from mmretrieval.testing.synth import Scene, make_video

    processor = CLIPImageProcessor()  # OpenAI's: shortest side 224, centre crop 224
    path = tmp_path / "scope.mp4"
    make_video(path, [Scene(caption="WIDE SCREEN STORM", duration=1.0)], size=(1152, 480))
    _, wide = next(iter_frames(path, 1.0, short_side=224))
    _, capped = next(iter_frames(path, 1.0, max_side=448))  # the old decode
    assert wide.shape == (224, 538, 3) and capped.shape == (186, 448, 3)

    def pixels(frame: np.ndarray, **options) -> np.ndarray:
        return processor(images=[frame], return_tensors="np", **options)["pixel_values"][0]

    left = (538 - 224) // 2
    np.testing.assert_allclose(
        pixels(wide), pixels(wide[:, left : left + 224], do_resize=False), atol=1e-6
    )
    assert min(capped.shape[:2]) < processor.size["shortest_edge"]  # would be upscaled
    # the adapter tells the decoder its processor's size (the tiny model's is 32)
    assert encoder.input_side == encoder.processor.image_processor.size["shortest_edge"] == 32
    _, tiny = next(iter_frames(path, 1.0, short_side=encoder.input_side))
    assert tiny.shape == (32, 77, 3)
