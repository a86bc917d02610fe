"""Speech -> timed transcript with word times and the language of each segment (faster-whisper).

An English-only model (tiny.en) transcribes the whole audio in one call, as English. A
multilingual model first finds the speech (VAD), detects the language of every window of it
(``mmretrieval.language``), and transcribes each run of one language in that language, so a
file that switches language keeps each part in its own.

Whisper fails in known ways on short, noisy or musical audio: it loops (``0-0-0-0-...``, one
phrase many times) or writes text over music and silence. Each segment of a multilingual
model's transcript is checked (``failure``); a failing one is decoded again once with
temperature fallback and dropped if it still fails. What was retried and dropped is kept in
``notes`` for the caller to report.
"""

from __future__ import annotations

import logging
import re
import threading
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby

import numpy as np

from mmretrieval.config import SpeechConfig
from mmretrieval.devices import ctranslate2_device, reuse_freed_memory, side_threads
from mmretrieval.language import (
    RACE_LIMIT,
    SAMPLED,
    SURE,
    Detection,
    combine,
    restrict,
    rivals,
    runs,
    spread,
    vote,
    windows,
    written,
)
from mmretrieval.media.timeline import TimedText, Word
from mmretrieval.models import hub_id, resolve
from mmretrieval.spans import Span

log = logging.getLogger(__name__)

FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # faster-whisper's own default
# The guard's thresholds: Whisper's own for loops (compression ratio) and for silence (no-speech
# probability with a low log probability); below LOGPROB_FLOOR the text is taken as made up.
COMPRESSION_LIMIT = 2.4
NO_SPEECH = 0.6
SILENCE_LOGPROB = -1.0
LOGPROB_FLOOR = -1.5
REPEATS = 4  # the same 1..8 words this many times in a row is a loop
LOOP_COPIES, LOOP_WINDOW = 3, 6  # a segment's words in 3 of 6 segments in a row: a loop too
PAD = 0.2  # seconds of context around a segment decoded again
# Ingest recognises two files at once (``ingest.InProcess``): two CTranslate2 replicas of the
# model, one per file, sharing its weights (~0.1 GB more at the peak for tiny.en; the same words).
RECOGNISERS = 2
_WORDS = re.compile(r"\w+")


@dataclass
class SpeechNotes:
    """What one transcription found and did: the file's language (with its share of the
    detection vote, 1.0 when pinned or English-only), segments retried, and segments dropped
    by reason (``no words``, ``repetition``, ``no speech``, ``low confidence``)."""

    language: str | None = None
    confidence: float = 1.0
    retried: int = 0
    dropped: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict:
        """As the catalog keeps it with the file."""
        return {
            "language": self.language,
            "confidence": round(self.confidence, 3),
            "retried": self.retried,
            "dropped": dict(self.dropped),
        }

    @property
    def warnings(self) -> str:
        """One line for logs and reports; empty when nothing was retried or dropped."""
        if not self.retried and not self.dropped:
            return ""
        dropped = ", ".join(f"{n} {reason}" for reason, n in sorted(self.dropped.items()))
        return f"{self.retried} segment(s) retried, dropped: {dropped or 'none'}"


def failure(
    text: str, avg_logprob: float = 0.0, no_speech_prob: float = 0.0
) -> str | None:
    """Why a decoded segment is not to be trusted, or None: no words at all (``...``), a
    repetition loop, text over silence or music, or text the model itself found very
    unlikely."""
    if not _WORDS.search(text):
        return "no words"
    if repeats(text):
        return "repetition"
    if no_speech_prob > NO_SPEECH and avg_logprob < SILENCE_LOGPROB:
        return "no speech"
    if avg_logprob < LOGPROB_FLOOR:
        return "low confidence"
    return None


def loops(texts: Sequence[str]) -> list[bool]:
    """Which segments are part of a loop across segments: the same words in three segments out
    of six in a row (``Halt!`` five times, each a segment of its own)."""
    keys = [" ".join(_WORDS.findall(text.lower())) for text in texts]
    looped = [False] * len(keys)
    for start in range(len(keys)):
        window = keys[start : start + LOOP_WINDOW]
        for i, key in enumerate(window, start):
            looped[i] |= bool(key) and window.count(key) >= LOOP_COPIES
    return looped


def repeats(text: str) -> bool:
    """A loop: text that compresses far better than language does, or 1..8 words said
    ``REPEATS`` times in a row (``0-0-0-0``, ``thank you thank you thank you thank you``)."""
    data = text.encode("utf-8")
    if data and len(data) / len(zlib.compress(data)) > COMPRESSION_LIMIT:
        return True
    words = [w.lower() for w in _WORDS.findall(text)]
    for size in range(1, 9):
        for start in range(len(words) - size * REPEATS + 1):
            unit = words[start : start + size]
            if all(
                words[start + k * size : start + (k + 1) * size] == unit for k in range(REPEATS)
            ):
                return True
    return False


class WhisperTranscriber:
    modality = "speech"
    sample_rate = 16000  # what Whisper models take

    def __init__(self, config: SpeechConfig):
        from mmretrieval.adapters.whisper_window import WindowedWhisper

        self.config = config
        self.model_id = config.model
        path = resolve(hub_id("speech", config.model))
        device = ctranslate2_device(config.device)
        if device == "cpu":
            reuse_freed_memory()  # its encoder's buffers: see there
        self.model = WindowedWhisper(
            str(path),
            device=device,
            compute_type=config.compute_type if device == "cpu" else "default",
            cpu_threads=side_threads(),  # it runs beside OCR
            num_workers=RECOGNISERS,
            padding=config.encode_padding,
        )
        self.multilingual = self.model.model.is_multilingual
        self._latest = threading.local()  # each thread's notes: two files may be heard at once

    @property
    def notes(self) -> SpeechNotes:
        """What the latest ``transcribe`` call of this thread found and did."""
        if not hasattr(self._latest, "notes"):
            self._latest.notes = SpeechNotes()
        return self._latest.notes

    @property
    def fixed_language(self) -> str | None:
        """The one language every transcript is in, known before hearing any: English for an
        English-only model, else the one pinned language (None: detected per window). A plain
        subtitle sidecar (``clip.srt``) read in place of speech takes it too."""
        if not self.multilingual:
            return "en"
        pinned = self.config.pinned
        return pinned[0] if len(pinned) == 1 else None

    def transcribe(self, audio: np.ndarray) -> list[TimedText]:
        """Segments with word timestamps and language from mono float32 audio at 16 kHz."""
        self._latest.notes = SpeechNotes()
        if audio.size < self.sample_rate // 10:
            return []
        if not self.multilingual:
            self.notes.language = "en"
            return [self._timed(s, "en") for s in self._decode(audio, self.config.language)]
        result = []
        try:
            for span, language in self._language_runs(audio):
                piece = self._cut(audio, span)
                kept = self._guarded(piece, self._decode(piece, language), language)
                result.extend(t.shifted(span.start) for t in kept)
        finally:
            self.model.forget()
        if self.notes.warnings:
            log.info("speech guard: %s", self.notes.warnings)
        return result

    def _language_runs(self, audio: np.ndarray) -> list[tuple[Span, str]]:
        """Spans covering the whole audio, each with the language to transcribe it in."""
        whole = Span(0.0, audio.size / self.sample_rate)
        pinned = self.config.pinned
        if len(pinned) == 1:
            self.notes.language = pinned[0]
            return [(whole, pinned[0])]
        spans = windows(self._speech(audio, whole))
        if not spans:  # no speech: nothing to transcribe
            return []

        if len(spans) == 1:  # detected on the window the transcription then encodes, once
            found = Detection(spans[0], self._detect(self._first_window(audio), pinned))
            self.notes.language, self.notes.confidence = found.best
            return [(whole, self.notes.language)]

        def detect(i: int) -> Detection:
            features = self.model.feature_extractor(self._cut(audio, spans[i]))
            return Detection(spans[i], self._detect(features, pinned))

        # A few windows spread over the file first; only when they disagree, or one is unsure,
        # is every window detected (a long file in one language costs SAMPLED detections).
        sampled = {i: detect(i) for i in spread(len(spans), SAMPLED)}
        agreed = {d.best[0] if d.best[1] >= SURE else None for d in sampled.values()}
        if len(agreed) == 1 and None not in agreed:
            self.notes.language, self.notes.confidence = vote(list(sampled.values()))
            return [(whole, self.notes.language)]
        detections = [sampled.get(i) or detect(i) for i in range(len(spans))]
        self.notes.language, self.notes.confidence = vote(detections)
        found = runs(detections, self.notes.language)
        # Stretch the runs over the pauses between them, so no audio falls between two runs.
        bounds = [whole.start]
        bounds += [(a.end + b.start) / 2 for (a, _), (b, _) in zip(found, found[1:], strict=False)]
        bounds.append(whole.end)
        return [(Span(bounds[i], bounds[i + 1]), code) for i, (_, code) in enumerate(found)]

    def _speech(self, audio: np.ndarray, whole: Span) -> list[Span]:
        """Where speech is (VAD, split at pauses of half a second), or all of it without VAD."""
        if not self.config.vad_filter:
            return [whole]
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        found = get_speech_timestamps(audio, VadOptions(min_silence_duration_ms=500))
        return [Span(r["start"] / self.sample_rate, r["end"] / self.sample_rate) for r in found]

    def _first_window(self, audio: np.ndarray) -> np.ndarray:
        """The features of the first window faster-whisper's ``transcribe`` encodes for
        ``audio``: its speech joined (VAD, with transcribe's own settings), up to the last full
        frame, padded to 30 s. The speech found and the features are the model's latest, which
        the transcription of ``audio`` then takes again (``WindowedWhisper``)."""
        from faster_whisper.audio import pad_or_trim

        from mmretrieval.adapters.whisper_window import joined

        if self.config.vad_filter:
            audio = joined(audio, self.model.speech(audio))
        features = self.model.feature_extractor(audio)
        return pad_or_trim(features[:, : features.shape[-1] - 1])

    def _detect(self, features: np.ndarray, pinned: Sequence[str]) -> dict[str, float]:
        """The language probabilities among ``pinned`` (any when empty) of a window's log-mel
        ``features``: Whisper's detection, then the race of its likeliest languages
        (``rivals``; none when the detection is certain) on the same encoded window (decoded
        in each at the profile's beam size, in one batch; one written in another script than
        most takes no part, one that loops counts as the least likely: ``written``), combined.
        When every decode loops the race tells nothing and the detection stands."""
        import ctranslate2
        from faster_whisper.audio import pad_or_trim

        window = features[..., : self.model.feature_extractor.nb_max_frames]
        encoded = self.model.encode(pad_or_trim(window))
        found = self.model.model.detect_language(encoded)[0]
        prior = restrict(((token[2:-2], p) for token, p in found), pinned)
        prompts = {code: self._prompt(code) for code in rivals(prior)}
        prompts = {code: prompt for code, prompt in prompts.items() if prompt is not None}
        if len(prompts) < 2:
            return prior
        # One copy of the encoded window per rival: a batch of decodes costs less than each alone.
        copies = np.repeat(np.asarray(encoded.to_device(ctranslate2.Device.cpu)), len(prompts), 0)
        results = self.model.model.generate(
            ctranslate2.StorageView.from_array(copies),
            list(prompts.values()),
            beam_size=self.config.beam_size,
            max_length=4 + RACE_LIMIT,  # the prompt's 4 tokens and the text
            return_scores=True,
        )
        decoded = {  # language -> (text, mean log probability per token)
            code: (self.model.hf_tokenizer.decode(result.sequences_ids[0]), result.scores[0])
            for code, result in zip(prompts, results, strict=True)
        }
        looped = {code for code, (text, _) in decoded.items() if repeats(text)}
        if len(looped) == len(decoded):  # music or noise: Whisper loops in any language there
            log.debug("language race void: every decode loops")
            return prior
        return combine(prior, written(decoded, looped))

    def _prompt(self, code: str) -> list[int] | None:
        """Whisper's start of a transcript in language ``code`` without timestamps (None for
        a code Whisper does not know)."""
        token = self.model.hf_tokenizer.token_to_id
        language = token(f"<|{code}|>")
        if language is None:
            return None
        start, task, plain = (
            token(name) for name in ("<|startoftranscript|>", "<|transcribe|>", "<|notimestamps|>")
        )
        return [start, language, task, plain]

    def _decode(self, audio: np.ndarray, language: str | None, retry: bool = False) -> list:
        if retry:  # sampling, seeded: the same file gives the same transcript every time
            import ctranslate2

            ctranslate2.set_random_seed(0)
            temperature = FALLBACK_TEMPERATURES[1:]
        else:
            # Greedy/beam only by default: the same file gives the same transcript every time.
            temperature = FALLBACK_TEMPERATURES if self.config.temperature_fallback else 0.0
        options = {
            "language": language,
            "beam_size": self.config.beam_size,
            "temperature": temperature,
            "word_timestamps": True,
            "condition_on_previous_text": False,
        }
        if self.config.vad_filter:  # where the speech is, found once with the detection's
            segments = self.model.transcribe_speech(audio, **options)
        else:
            segments, _info = self.model.transcribe(audio, vad_filter=False, **options)
        return [s for s in segments if s.text.strip()]

    def _guarded(self, audio: np.ndarray, segments: list, language: str) -> list[TimedText]:
        """The segments that pass the guard; each stretch of failing ones decoded again once,
        and what still fails dropped (and counted)."""
        reasons = self._reasons(segments)
        kept = []
        for failed, group in groupby(zip(segments, reasons, strict=True), key=lambda p: p[1]):
            group = list(group)
            if failed is None:
                kept.extend(self._timed(s, language) for s, _ in group)
                continue
            self.notes.retried += len(group)
            start = max(0.0, group[0][0].start - PAD)
            piece = self._cut(audio, Span(start, group[-1][0].end + PAD))
            again = self._decode(piece, language, retry=True) if piece.size else []
            good = [s for s, why in zip(again, self._reasons(again), strict=True) if why is None]
            if not good:
                self.notes.dropped[failed] += len(group)
                log.debug("dropped %d segment(s) (%s): %r", len(group), failed, group[0][0].text)
            kept.extend(self._timed(s, language).shifted(start) for s in good)
        return kept

    @staticmethod
    def _reasons(segments: list) -> list[str | None]:
        """``failure`` of each segment, and ``repetition`` for a segment in a loop."""
        looped = loops([s.text for s in segments])
        return [
            "repetition" if loop else failure(s.text, s.avg_logprob, s.no_speech_prob)
            for s, loop in zip(segments, looped, strict=True)
        ]

    def _cut(self, audio: np.ndarray, span: Span) -> np.ndarray:
        return audio[round(span.start * self.sample_rate) : round(span.end * self.sample_rate)]

    @staticmethod
    def _timed(segment, language: str) -> TimedText:
        words = tuple(
            Word(round(w.start, 3), round(w.end, 3), w.word.strip(), round(w.probability, 3))
            for w in segment.words or ()
        )
        start, end = round(segment.start, 3), round(segment.end, 3)
        return TimedText(start, end, segment.text.strip(), "speech", words, language)
