"""Speaker vectors: resemblyzer's pretrained GE2E encoder (Apache-2.0, shipped in its wheel).

A GE2E d-vector describes *who* speaks, not what is said: 256 numbers per utterance, trained so
that utterances of one speaker lie close together whatever the words. Voice prints are
biometric data: only a profile with a ``voice`` section (``people``) computes them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mmretrieval import channels
from mmretrieval.config import VoiceConfig
from mmretrieval.errors import ModelMissingError
from mmretrieval.models import resolve
from mmretrieval.spans import HasTime

SAMPLE_RATE = 16000  # what GE2E was trained on


class VoiceEncoder:
    """Mono float32 speech at 16 kHz -> L2-normalised 256-d speaker vectors."""

    space = channels.VOICE_SPACE
    dim = 256
    sample_rate = SAMPLE_RATE

    def __init__(self, config: VoiceConfig):
        self.config = config
        self.model_id = config.model
        folder = resolve(config.model)  # the resemblyzer package folder, pretrained.pt in it
        try:
            from resemblyzer import VoiceEncoder as Ge2e
        except ImportError as exc:  # the wheel is there but a dependency is not
            raise ModelMissingError(
                f"the voice model needs resemblyzer and its dependencies (librosa, webrtcvad): "
                f"pip install resemblyzer webrtcvad-wheels ({exc})"
            ) from exc
        self._model = Ge2e(config.device, verbose=False, weights_fpath=folder / "pretrained.pt")

    def embed_audio(self, waves: Sequence[np.ndarray]) -> np.ndarray:
        """One vector per wave (each at least ``min_seconds`` of speech)."""
        from resemblyzer import preprocess_wav

        vectors = [self._model.embed_utterance(preprocess_wav(w)) for w in waves]
        out = np.stack(vectors).astype(np.float32) if vectors else np.zeros((0, self.dim))
        return (out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)).astype(
            np.float32
        )

    def embed_spans(self, audio: np.ndarray, spans: Sequence[HasTime]) -> np.ndarray:
        """The vector of each span of ``audio`` (times in seconds from its first sample)."""
        rate = self.sample_rate
        return self.embed_audio([audio[int(s.start * rate) : int(s.end * rate)] for s in spans])
