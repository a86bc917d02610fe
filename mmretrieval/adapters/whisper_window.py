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
files at once). So it is with what comes before the encoder: the detection of a short file finds
its speech (VAD, ``transcribe``'s settings) and computes the log-mel features of that speech
joined, and ``transcribe`` did both again on the same audio; now ``speech`` finds it once and
``transcribe_speech`` transcribes what it found, and the latest features are handed back
(the same numbers either way: only the work done twice is saved).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.feature_extractor import FeatureExtractor
from faster_whisper.transcribe import Segment, restore_speech_timestamps
from faster_whisper.vad import VadOptions, get_speech_timestamps

FRAMES_PER_SECOND = 100  # Whisper's log-mel frames (10 ms hop)


class WindowedWhisper(WhisperModel):
    """``WhisperModel`` whose ``encode`` sees ``padding`` seconds of a window's zero padding
    (None: all of it, Whisper's own 30 s) and remembers the latest window each thread encoded."""

    def __init__(self, *args, padding: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.padding = padding
        self.encoded = 0  # windows run through the encoder (what the sharing saves is counted)
        self.heard = 0  # VAD passes run by ``speech``
        self._window = Latest()  # features -> the encoder's output
        self._speech = Latest()  # audio -> its speech chunks
        self.feature_extractor = LatestFeatures(self.feature_extractor)

    def speech(self, audio: np.ndarray) -> list[dict]:
        """Where ``audio`` holds speech, as ``transcribe(vad_filter=True)`` finds it (its VAD
        with the default settings: chunks of samples), found once for the latest audio of each
        thread."""
        chunks = self._speech.find(audio)
        if chunks is None:
            chunks = self._speech.keep(get_speech_timestamps(audio, VadOptions()), audio)
            self.heard += 1
        return chunks

    def transcribe_speech(self, audio: np.ndarray, **options) -> Iterable[Segment]:
        """The segments of ``transcribe(audio, vad_filter=True, **options)``, the speech found
        by ``speech``: the speech joined is transcribed and its times put back on ``audio``'s,
        as ``transcribe`` does."""
        chunks = self.speech(audio)
        segments, _ = self.transcribe(joined(audio, chunks), vad_filter=False, **options)
        if not chunks:
            return segments
        return restore_speech_timestamps(segments, chunks, self.feature_extractor.sampling_rate)

    def forget(self) -> None:
        """Let go of this thread's latest audio, its speech and features (a long file's are
        large); the encoded window stays."""
        self._speech.forget()
        self.feature_extractor.latest.forget()

    def encode(self, features: np.ndarray):
        """The encoder's output for ``features`` (one window, as faster-whisper pads it),
        without running the encoder again for the window this thread encoded last."""
        output = self._window.find(features)
        if output is None:
            output = self._window.keep(super().encode(self.trimmed(features)), features)
            self.encoded += 1
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


def joined(audio: np.ndarray, chunks: Sequence[dict]) -> np.ndarray:
    """The speech of ``audio`` in ``chunks`` (``speech``) joined, as faster-whisper's
    ``collect_chunks`` joins it for ``transcribe`` (one copy instead of one per chunk)."""
    if not chunks:
        return np.array([], dtype=np.float32)
    return np.concatenate([audio[c["start"] : c["end"]] for c in chunks])


class LatestFeatures:
    """faster-whisper's log-mel ``FeatureExtractor``, handing back the features each thread
    computed last when the same audio comes again (with the same settings)."""

    def __init__(self, extractor: FeatureExtractor):
        self.extractor = extractor
        self.latest = Latest()  # (audio, padding) -> features

    def __getattr__(self, name: str):
        return getattr(self.extractor, name)

    def __call__(self, waveform: np.ndarray, padding: int = 160, chunk_length=None) -> np.ndarray:
        if chunk_length is not None:  # it also changes the extractor's window: not remembered
            return self.extractor(waveform, padding, chunk_length)
        features = self.latest.find(waveform, padding)
        if features is None:
            features = self.latest.keep(self.extractor(waveform, padding), waveform, padding)
        return features


class Latest:
    """What each thread computed last and from what (an array and any settings), handed back
    when the same comes again: ingest hears two files at once, one on each thread."""

    def __init__(self):
        self._thread = threading.local()  # .kept: (array, settings, value)

    def find(self, array: np.ndarray, *settings):
        """The value kept for ``array`` and ``settings`` (None: another was kept last)."""
        kept = getattr(self._thread, "kept", None)
        if kept is None or kept[1] != settings:
            return None
        last = kept[0]
        same = last is array or (
            last.shape == array.shape and last.dtype == array.dtype and np.array_equal(last, array)
        )
        return kept[2] if same else None

    def keep(self, value, array: np.ndarray, *settings):
        """``value``, kept as this thread's latest for ``array`` and ``settings``."""
        self._thread.kept = (array, settings, value)
        return value

    def forget(self) -> None:
        """Let go of this thread's latest (a long file's arrays are large)."""
        self._thread.kept = None
