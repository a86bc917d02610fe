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
from mmretrieval.devices import one_cpu_thread
from mmretrieval.errors import ModelMissingError
from mmretrieval.models import resolve
from mmretrieval.spans import HasTime

SAMPLE_RATE = 16000  # what GE2E was trained on
BATCH = 256  # 1.6 s windows per forward pass


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
        # librosa compiles its mel filters (numba) on first use: once here, not in a file's time
        from resemblyzer import wav_to_mel_spectrogram

        wav_to_mel_spectrogram(np.random.default_rng(0).normal(0, 0.1, SAMPLE_RATE))

    def embed_audio(self, waves: Sequence[np.ndarray]) -> np.ndarray:
        """One vector per wave: the mean of GE2E's 1.6 s partial windows (as resemblyzer's
        ``embed_utterance``), with every window of every wave in one batch, as an LSTM on a
        CPU runs a batch in about the time of one window; on one thread (``one_cpu_thread``:
        3-5x faster than two on two busy cores, benchmarks/README.md)."""
        import torch
        from resemblyzer import preprocess_wav, wav_to_mel_spectrogram

        windows, owners = [], []
        for n, wave in enumerate(waves):
            wav = preprocess_wav(wave)  # loudness normalised, long silences cut (webrtcvad)
            wav_slices, mel_slices = self._model.compute_partial_slices(len(wav), 1.3, 0.75)
            wav = np.pad(wav, (0, max(0, wav_slices[-1].stop - len(wav))))
            mel = wav_to_mel_spectrogram(wav)
            windows += [mel[s] for s in mel_slices]
            owners += [n] * len(mel_slices)
        if not windows:
            return np.zeros((0, self.dim), dtype=np.float32)
        with torch.no_grad(), one_cpu_thread(self.config.device):
            partial = np.concatenate(
                [
                    self._model(torch.from_numpy(np.stack(windows[i : i + BATCH]))).numpy()
                    for i in range(0, len(windows), BATCH)
                ]
            )
        owner = np.asarray(owners)
        out = np.stack([partial[owner == n].mean(axis=0) for n in range(len(waves))])
        return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)

    def embed_spans(self, audio: np.ndarray, spans: Sequence[HasTime]) -> np.ndarray:
        """The vector of each span of ``audio`` (times in seconds from its first sample)."""
        rate = self.sample_rate
        return self.embed_audio([audio[int(s.start * rate) : int(s.end * rate)] for s in spans])
