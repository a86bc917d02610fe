"""Speech -> timed transcript with word times (faster-whisper)."""

from __future__ import annotations

import os

import numpy as np

from mmretrieval.config import SpeechConfig
from mmretrieval.devices import ctranslate2_device, thread_limit
from mmretrieval.media.timeline import TimedText, Word
from mmretrieval.models import hub_id, resolve

FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # faster-whisper's own default


class WhisperTranscriber:
    modality = "speech"
    sample_rate = 16000  # what Whisper models take

    def __init__(self, config: SpeechConfig):
        from faster_whisper import WhisperModel

        self.config = config
        self.model_id = config.model
        path = resolve(hub_id("speech", config.model))
        device = ctranslate2_device(config.device)
        self.model = WhisperModel(
            str(path),
            device=device,
            compute_type=config.compute_type if device == "cpu" else "default",
            cpu_threads=thread_limit() or os.cpu_count() or 1,
        )

    def transcribe(self, audio: np.ndarray) -> list[TimedText]:
        """Segments with word timestamps from mono float32 audio at 16 kHz."""
        if audio.size < self.sample_rate // 10:
            return []
        segments, _info = self.model.transcribe(
            audio,
            language=self.config.language,
            beam_size=self.config.beam_size,
            # Greedy/beam only by default: the same file gives the same transcript every time.
            temperature=FALLBACK_TEMPERATURES if self.config.temperature_fallback else 0.0,
            vad_filter=self.config.vad_filter,
            word_timestamps=True,
            condition_on_previous_text=False,
        )
        result = []
        for segment in segments:
            text = segment.text.strip()
            if not text:
                continue
            words = tuple(
                Word(round(w.start, 3), round(w.end, 3), w.word.strip())
                for w in segment.words or ()
            )
            start, end = round(segment.start, 3), round(segment.end, 3)
            result.append(TimedText(start, end, text, "speech", words))
        return result
