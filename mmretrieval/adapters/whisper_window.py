"""faster-whisper's model, encoding a window only as far as it holds audio, and a window once.

Whisper's encoder takes 30 s windows: a file shorter than that is padded with silence (zero
frames) and the encoder costs the same for 8 s of speech as for 30. CTranslate2's encoder takes
fewer frames too, so ``encode`` cuts the zero frames of padding after the audio, keeping
``padding`` seconds of them (Whisper was trained on padded windows: with none or 1 s of padding
it repeated itself at the end of short speech on the multilingual dev sentences; with 3 s their
languages and word error rates were about those of the whole window, at a sixth of the
encoder's cost; benchmarks/README.md, multilingual suite).

The speech adapter encodes the window of a short file once to detect its language and again to
transcribe it (faster-whisper's ``transcribe`` encodes its own windows), so the latest encoded
window is kept and handed back when the same features come again (per thread: ingest hears two
files at once).
"""

from __future__ import annotations

import threading

import numpy as np
from faster_whisper import WhisperModel

FRAMES_PER_SECOND = 100  # Whisper's log-mel frames (10 ms hop)


class WindowedWhisper(WhisperModel):
    """``WhisperModel`` whose ``encode`` sees ``padding`` seconds of a window's zero padding
    (None: all of it, Whisper's own 30 s) and remembers the latest window each thread encoded."""

    def __init__(self, *args, padding: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.padding = padding
        self.encoded = 0  # windows run through the encoder (what the sharing saves is counted)
        self._latest = threading.local()  # .window: (features, encoder output)

    def encode(self, features: np.ndarray):
        """The encoder's output for ``features`` (one window, as faster-whisper pads it),
        without running the encoder again for the window this thread encoded last."""
        latest = getattr(self._latest, "window", None)
        if latest is not None and np.array_equal(latest[0], features):
            return latest[1]
        output = super().encode(self.trimmed(features))
        self.encoded += 1
        self._latest.window = (features, output)
        return output

    def trimmed(self, features: np.ndarray) -> np.ndarray:
        """``features`` less the zero frames of padding beyond ``padding`` seconds after the
        last frame of audio (an even count of frames: the encoder's convolution halves it)."""
        if self.padding is None:
            return features
        frames = np.any(features != 0, axis=-2).reshape(-1, features.shape[-1]).any(axis=0)
        heard = np.flatnonzero(frames)  # of any window in a batch
        keep = (int(heard[-1]) + 1 if heard.size else 0) + round(self.padding * FRAMES_PER_SECOND)
        keep = min(features.shape[-1], max(2, keep + keep % 2))
        return features[..., :keep]

