"""The ``clap`` space: a CLAP audio-language model (transformers) over sound tracks and text.

CLAP sees a fixed window of audio (10 s for the LAION checkpoints). Its feature extractor crops
longer input at random (``rand_trunc``) or fuses random crops (``fusion``), so the same audio
would get a different vector on every call. Here audio longer than the window is cut into
consecutive windows instead; each is embedded, and the unit vectors are averaged, weighted by
how many seconds of real audio each window holds, then renormalised. A last window shorter than
the model's is padded by repeating it (``repeatpad``), as LAION's inference does; a leftover
under ``min_seconds`` is dropped. Every window is at most the model's length, so ``is_longer``
is always false and fused checkpoints take their deterministic single-window path too.

Audio shorter than ``min_seconds`` holds nothing to describe (and empty audio would make a
zero vector that cannot be normalised), so ``embed_audio`` raises ``ValueError`` for it; callers
skip such clips (``encoder.min_seconds`` says where the line is).

Supported checkpoints: transformers ``ClapModel`` conversions of LAION's CLAP, unfused
(``laion/clap-htsat-unfused``, the default; ``laion/larger_clap_general``, ``_music``,
``_music_and_speech``) and fused (``laion/clap-htsat-fused``). Input as LAION's reference feeds
it: mono 48 kHz audio (the mean of the channels, ``load_audio``), the extractor's log-mel
spectrogram in float32; text cut at 77 tokens, the length LAION's tokenizer pads and cuts to
(transformers' conversions keep RoBERTa's 512, which CLAP never saw in training). A fused model
given one window of audio (``is_longer`` false) reads the whole mel spectrogram of the window,
as LAION's inference does for audio no longer than the window.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from mmretrieval.adapters.tokens import over_limit, tokenize
from mmretrieval.config import ClapConfig
from mmretrieval.devices import torch_device
from mmretrieval.errors import ModelMissingError
from mmretrieval.models import resolve

log = logging.getLogger(__name__)

LAION_TEXT_TOKENS = 77  # laion_clap tokenises with max_length=77 (padding and truncation)


class ClapEncoder:
    space = "clap"
    min_seconds = 0.1

    def __init__(self, config: ClapConfig):
        import torch
        from transformers import ClapModel, ClapProcessor
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # our CLI draws its own progress
        self.model_id = config.model
        self.batch_size = config.batch_size
        self.device = torch_device(config.device)
        folder = resolve(config.model)
        try:
            self.processor = ClapProcessor.from_pretrained(str(folder))
            self.model = ClapModel.from_pretrained(str(folder), dtype=torch.float32)
        except (OSError, ValueError, TypeError) as exc:
            raise ModelMissingError(
                f"{folder} does not hold a CLAP model for {config.model!r} (expected the "
                f"save_pretrained output of a transformers ClapModel and ClapProcessor): {exc}"
            ) from exc
        self.model.to(self.device).eval()
        extractor = self.processor.feature_extractor
        self.sample_rate = int(extractor.sampling_rate)
        self.window_samples = int(extractor.nb_max_samples)
        self.dim = int(self.model.config.projection_dim)
        # How LAION's inference builds the mel input: four stacked copies for a fused model, one
        # for an unfused one, whatever the saved extractor's default truncation says.
        self.fused = bool(self.model.config.audio_config.enable_fusion)
        self._truncation = "fusion" if self.fused else "rand_trunc"
        text_config = self.model.config.text_config
        # RoBERTa positions start after the padding index, so two positions are never used.
        self.max_text_tokens = min(
            LAION_TEXT_TOKENS,
            int(self.processor.tokenizer.model_max_length),
            int(text_config.max_position_embeddings) - 2,
        )
        # The softmax scale CLAP learnt for audio-to-text logits (``logits_per_audio``), which
        # zero-shot moderation of a sound against text prompts uses.
        self.logit_scale = float(self.model.logit_scale_a.detach().exp())

    @property
    def window_seconds(self) -> float:
        """The length of audio the model sees at once."""
        return self.window_samples / self.sample_rate

    def truncated(self, texts: Sequence[str]) -> list[bool]:
        """Which texts are longer than the model's 77 tokens, so only their start is embedded."""
        return over_limit(self.processor.tokenizer, texts, self.max_text_tokens)

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        """Texts -> (n, dim) L2-normalised float32 vectors; text over 77 tokens is cut (logged;
        ``truncated`` says which)."""
        import torch

        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = []
        with torch.inference_mode():
            for begin in range(0, len(texts), self.batch_size):
                tokens = tokenize(
                    self.processor.tokenizer,
                    texts[begin : begin + self.batch_size],
                    self.max_text_tokens,
                    self.model_id,
                )
                features = self.model.get_text_features(
                    input_ids=tokens["input_ids"].to(self.device),
                    attention_mask=tokens["attention_mask"].to(self.device),
                )
                out.append(features.pooler_output.float().cpu().numpy())
        return _normalise(np.concatenate(out))

    def embed_audio(self, waves: Sequence[np.ndarray]) -> np.ndarray:
        """Mono float32 audio at ``sample_rate``, any length -> (n, dim) L2-normalised float32.

        Raises ``ValueError`` for audio that is not 1-D, not finite, or shorter than
        ``min_seconds``.
        """
        min_samples = round(self.min_seconds * self.sample_rate)
        chunks: list[np.ndarray] = []
        owners: list[int] = []
        weights: list[float] = []
        for index, wave in enumerate(waves):
            wave = np.asarray(wave, dtype=np.float32)
            if wave.ndim != 1:
                raise ValueError(
                    f"audio {index}: expected mono 1-D samples, found shape {wave.shape}; "
                    f"decode with load_audio(path, {self.sample_rate}) which downmixes"
                )
            if wave.size < min_samples:
                raise ValueError(
                    f"audio {index}: {wave.size / self.sample_rate:.3f} s is shorter than the "
                    f"{self.min_seconds} s CLAP needs; skip clips this short"
                )
            if not np.isfinite(wave).all():
                raise ValueError(f"audio {index}: samples must be finite (found NaN or inf)")
            for begin in range(0, wave.size, self.window_samples):
                chunk = wave[begin : begin + self.window_samples]
                if begin and chunk.size < min_samples:
                    break  # a leftover too short to say anything
                chunks.append(chunk)
                owners.append(index)
                weights.append(float(chunk.size))
        if not chunks:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._embed_windows(chunks)
        pooled = np.zeros((len(waves), self.dim), dtype=np.float64)
        np.add.at(pooled, owners, vectors * np.asarray(weights)[:, None])
        return _normalise(pooled)

    def _embed_windows(self, chunks: list[np.ndarray]) -> np.ndarray:
        """Unit vectors of audio pieces no longer than the model's window."""
        import torch

        extractor = self.processor.feature_extractor
        out = []
        with torch.inference_mode():
            for begin in range(0, len(chunks), self.batch_size):
                batch = chunks[begin : begin + self.batch_size]
                features = extractor(
                    batch,
                    sampling_rate=self.sample_rate,
                    truncation=self._truncation,
                    padding="repeatpad",
                    return_tensors="np",
                )
                mels = torch.from_numpy(np.asarray(features["input_features"], dtype=np.float32))
                # No piece exceeds the window, so none is "longer" (LAION's inference says so
                # too). The extractor marks one piece of a fused batch as longer at random when
                # none is (a training device); override that to stay deterministic.
                is_longer = torch.zeros((len(batch), 1), dtype=torch.bool)
                output = self.model.get_audio_features(
                    input_features=mels.to(self.device), is_longer=is_longer.to(self.device)
                )
                out.append(output.pooler_output.float().cpu().numpy())
        log.debug("embedded %d audio windows", len(chunks))
        return _normalise(np.concatenate(out))


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)
