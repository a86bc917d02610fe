"""Media analysis: one file, or a span of one, -> timed text and vectors, with the profile's
adapters.

Ingest (every clip of a file), query encoding (a query recording or video span) and moderation
(a file's transcript, frames and sound) all call ``MediaAnalyzer``, so an indexed clip and a
query are described the same way and a new adapter is added here once. It imports no job:
ingest, query, search and moderation build on it, not it on them.

Time spent is charged to ``timer`` under the stage names the ingest report shows: decode, asr,
ocr, embed, frames, audio and hub (ingest adds store).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mmretrieval import channels
from mmretrieval.adapters.base import AdapterSet
from mmretrieval.adapters.speech import SpeechNotes
from mmretrieval.config import Profile
from mmretrieval.embed import FrameVectors, audio_windows, frame_vectors, hub_vector, mean_direction
from mmretrieval.language import dominant
from mmretrieval.media.decode import iter_frames, load_audio
from mmretrieval.media.probe import MediaInfo, probe
from mmretrieval.media.segment import clip_windows
from mmretrieval.media.subtitles import find_sidecar, read_subtitles
from mmretrieval.media.timeline import TimedText
from mmretrieval.people.faces import FaceTrack, clip_faces, track_faces
from mmretrieval.people.voices import SpeakerTurn, clip_voices, speaker_turns, speech_pieces
from mmretrieval.spans import HasTime, Span
from mmretrieval.store.catalog import ClipText

log = logging.getLogger(__name__)

Packed = dict[str, tuple[list[int], np.ndarray]]  # channel -> (clip positions, vectors)


class StageTimer:
    """Wall seconds per stage (decode, asr, ocr, embed, frames, audio, hub, store)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] += time.perf_counter() - started

    def iterate(self, items: Iterator, stage: str) -> Iterator:
        """Yield from ``items``, charging the time spent producing each one to ``stage``."""
        while True:
            with self(stage):
                item = next(items, None)
            if item is None:
                return
            yield item


@dataclass(frozen=True)
class FileAnalysis:
    """A whole file cut into clips: each clip's text, every timed line, the clip vectors of
    every channel and the per-frame CLIP vectors (clip position, time, vector) behind them;
    what speech recognition found and guarded against, for the ingest report; with the people
    profile, every face track of each clip (clip position, its sharpest time, descriptor)."""

    info: MediaInfo
    clips: list[ClipText]
    texts: list[TimedText]
    vectors: Packed
    frames: list[tuple[int, float, np.ndarray]]
    speech: SpeechNotes | None = None  # the file's language and guard counts (None: no ASR ran)
    faces: list[tuple[int, float, np.ndarray]] = field(default_factory=list)  # (clip, time, face)


@dataclass(frozen=True)
class SpanAnalysis:
    """One span of a file taken as a whole; a part not asked for (or not in the file) is empty."""

    transcript: list[TimedText] = field(default_factory=list)
    screen: list[TimedText] = field(default_factory=list)
    frames: FrameVectors | None = None
    audio: np.ndarray | None = None  # the CLAP vector of the span's sound


class MediaAnalyzer:
    """Describes media with the profile's adapters: a file as clips (``analyse_file``), a span
    as one piece (``analyse_span``), or any one part of either."""

    def __init__(self, profile: Profile, adapters: AdapterSet):
        self.profile = profile
        self.adapters = adapters
        self.timer = StageTimer()
        self.speech_notes: SpeechNotes | None = None  # of the latest speech recognition

    def probe(self, path: Path) -> MediaInfo:
        with self.timer("decode"):
            return probe(path)

    def analyse_file(self, path: Path) -> FileAnalysis:
        """Every clip window of ``path`` with its speech and screen text and every channel's
        vectors: what ingest stores."""
        info = self.probe(path)
        self.speech_notes = None
        whole = self.analyse_span(path, info, audio=False)  # sound is embedded clip by clip
        transcript, screen = whole.transcript, whole.screen
        clips = [
            ClipText(
                w.start,
                w.end,
                speech_text(transcript, w),
                _screen_text(screen, w),
                dominant(transcript, w),
            )
            for w in self.clip_windows(info, transcript)
        ]
        vectors, frames = self._clip_vectors(path, info, clips, whole.frames)
        people, faces = self._people_vectors(path, info, transcript, clips)
        vectors.update(people)
        texts = [*transcript, *screen]
        return FileAnalysis(info, clips, texts, vectors, frames, self.speech_notes, faces)

    def analyse_span(
        self,
        path: Path,
        info: MediaInfo,
        span: Span | None = None,
        *,
        transcript: bool = True,
        screen: bool = True,
        frames: bool = True,
        audio: bool = True,
    ) -> SpanAnalysis:
        """The parts asked for of [start, end) of ``path`` (None: the whole file), which must
        lie within the file: its transcript, screen text, CLIP frame vectors and one CLAP vector
        of its sound."""
        return SpanAnalysis(
            self.transcript(path, info, span) if transcript else [],
            self.screen_text(path, info, span) if screen else [],
            self.frame_vectors(path, span) if frames and info.has_video else None,
            self._span_audio(path, info, span) if audio and info.has_audio else None,
        )

    def clip_windows(self, info: MediaInfo, transcript: Sequence[TimedText]) -> list[Span]:
        """The file's clip windows, by the profile's segment settings."""
        return clip_windows(info.duration, transcript, self.profile.segment)

    def transcript(
        self, path: Path, info: MediaInfo, span: Span | None = None
    ) -> list[TimedText]:
        """Subtitle cues from a sidecar when there is one, else speech recognition."""
        transcriber = self.adapters.get("speech")
        if transcriber is None:
            return []
        start, end = _bounds(span)
        config = self.profile.adapters.speech
        pinned = config.pinned
        if config.subtitles and (sidecar := find_sidecar(path, pinned)):
            within = span or Span(0.0, info.duration)
            plain = pinned[0] if len(pinned) == 1 else None  # a plain sidecar's language
            cues = [c for c in read_subtitles(sidecar, plain) if c.overlaps(within)]
            if cues:
                return cues
        if not info.has_audio:
            return []
        with self.timer("decode"):
            audio = load_audio(path, transcriber.sample_rate, start, end)
        with self.timer("asr"):
            texts = [t.shifted(start) for t in transcriber.transcribe(audio)]
        self.speech_notes = transcriber.notes
        if warnings := transcriber.notes.warnings:
            log.warning("%s: speech guard: %s", path.name, warnings)
        return texts

    def screen_text(
        self, path: Path, info: MediaInfo, span: Span | None = None
    ) -> list[TimedText]:
        reader = self.adapters.get("ocr")
        if reader is None or not info.has_video:
            return []
        start, end = _bounds(span)
        frames = iter_frames(path, reader.rate, start, end, max_side=reader.max_side)
        decode_before = self.timer.seconds["decode"]
        started = time.perf_counter()
        lines = reader.read_frames(self.timer.iterate(frames, "decode"), end or info.duration)
        decode_spent = self.timer.seconds["decode"] - decode_before
        self.timer.seconds["ocr"] += time.perf_counter() - started - decode_spent
        return lines

    def frame_vectors(self, path: Path, span: Span | None = None) -> FrameVectors | None:
        """CLIP vectors of the distinct frames sampled in ``span`` (None: the whole file)."""
        encoder = self.adapters.get("clip")
        if encoder is None:
            return None
        config = self.profile.adapters.clip
        start, end = _bounds(span)
        frames = iter_frames(path, config.frame_rate, start, end, short_side=encoder.input_side)
        decode_before = self.timer.seconds["decode"]
        started = time.perf_counter()
        result = frame_vectors(self.timer.iterate(frames, "decode"), encoder, config)
        decode_spent = self.timer.seconds["decode"] - decode_before
        self.timer.seconds["frames"] += time.perf_counter() - started - decode_spent
        return result

    def audio_vectors(
        self, path: Path, windows: Sequence[HasTime], start: float = 0.0
    ) -> list[np.ndarray | None]:
        """CLAP vectors of the sound in each window (file times), decoded from ``start`` (at
        most the first window's start) to the last window's end."""
        encoder = self.adapters.get("clap")
        if encoder is None:
            return [None] * len(windows)
        relative = [Span(w.start - start, w.end - start) for w in windows]
        end = start + max(w.end for w in relative)
        with self.timer("decode"):
            audio = load_audio(path, encoder.sample_rate, start, end)
        with self.timer("audio"):
            return audio_windows(audio, encoder.sample_rate, relative, encoder)

    def hub_vectors(
        self,
        frames: Sequence[np.ndarray | None],
        audio: Sequence[np.ndarray | None],
        speech: Sequence[str],
    ) -> list[np.ndarray | None]:
        """Per window: frames, bridged audio and the CLIP-text of the speech, pooled."""
        clip = self.adapters.get("clip")
        if clip is None:
            return [None] * len(frames)
        bridge = self.adapters.bridge()
        with self.timer("hub"):
            spoken = _by_position(speech, clip.embed_text)
            return [
                hub_vector(
                    {
                        "frames": f,
                        "audio": None if a is None or bridge is None else bridge.to_target(a),
                        "speech": s,
                    },
                    self.profile.hub,
                )
                for f, a, s in zip(frames, audio, spoken, strict=True)
            ]

    def _span_audio(self, path: Path, info: MediaInfo, span: Span | None) -> np.ndarray | None:
        whole = span or Span(0.0, info.duration)
        return self.audio_vectors(path, [whole], start=whole.start)[0]

    def _clip_vectors(
        self,
        path: Path,
        info: MediaInfo,
        clips: Sequence[ClipText],
        found: FrameVectors | None,
    ) -> tuple[Packed, list[tuple[int, float, np.ndarray]]]:
        """Every channel's clip vectors, and the per-frame CLIP vectors (``found``: the whole
        file's) to store with them."""
        vectors: dict[str, list[np.ndarray | None]] = {}
        speech, on_screen = [c.speech for c in clips], [c.ocr for c in clips]
        text_encoder = self.adapters.get("text")
        if text_encoder is not None:
            with self.timer("embed"):
                vectors[channels.SPEECH] = _by_position(speech, text_encoder.embed_text)
                vectors[channels.OCR] = _by_position(on_screen, text_encoder.embed_text)
        frame_rows = []
        frames: list[np.ndarray | None] = [None] * len(clips)
        if found is not None:
            max_frames = self.profile.adapters.clip.max_frames
            for i, clip in enumerate(clips):
                times, shown = found.window(clip, max_frames)
                frames[i] = mean_direction(shown)
                frame_rows.extend((i, float(t), v) for t, v in zip(times, shown, strict=True))
        audio = self.audio_vectors(path, clips) if info.has_audio else [None] * len(clips)
        vectors[channels.FRAMES] = frames
        vectors[channels.AUDIO] = audio
        vectors[channels.HUB] = self.hub_vectors(frames, audio, speech)
        return {c: packed for c, v in vectors.items() if (packed := _pack(v))}, frame_rows

    # -- people: voices and faces (biometric; only profiles with voice/face sections) ---------

    def speaker_turns(
        self,
        path: Path,
        info: MediaInfo,
        transcript: Sequence[TimedText],
        span: Span | None = None,
    ) -> list[SpeakerTurn]:
        """Who speaks when in ``span`` (None: the whole file), from the transcript's segments."""
        encoder = self.adapters.get("voice")
        if encoder is None or not info.has_audio:
            return []
        pieces = speech_pieces(transcript, self.profile.adapters.voice)
        if span is not None:
            pieces = [p for p in pieces if span.contains(p.middle)]
        if not pieces:
            return []
        start = span.start if span is not None else 0.0
        with self.timer("decode"):
            audio = load_audio(path, encoder.sample_rate, start, max(p.end for p in pieces))
        with self.timer("voice"):
            vectors = encoder.embed_spans(audio, [p.shifted(-start) for p in pieces])
            return speaker_turns(pieces, vectors, self.profile.adapters.voice)

    def voice_vector(self, path: Path, span: Span) -> np.ndarray | None:
        """One speaker vector of the speech in ``span`` (a voice query: one person speaking)."""
        encoder = self.adapters.get("voice")
        if encoder is None:
            return None
        with self.timer("decode"):
            audio = load_audio(path, encoder.sample_rate, span.start, span.end)
        if len(audio) < self.profile.adapters.voice.min_seconds * encoder.sample_rate:
            return None
        with self.timer("voice"):
            return encoder.embed_audio([audio])[0]

    def face_tracks(self, path: Path, info: MediaInfo, span: Span | None = None) -> list[FaceTrack]:
        """The faces on screen in ``span`` (None: the whole file), followed across frames."""
        encoder = self.adapters.get("face")
        if encoder is None or not info.has_video:
            return []
        config = self.profile.adapters.face
        start, end = _bounds(span)
        frames = iter_frames(path, config.frame_rate, start, end, max_side=config.max_side)
        found = []
        for time_, frame in self.timer.iterate(frames, "decode"):
            with self.timer("faces"):
                found.append((time_, encoder.faces(frame)))
        with self.timer("faces"):
            return track_faces(found, config)

    def _people_vectors(
        self,
        path: Path,
        info: MediaInfo,
        transcript: Sequence[TimedText],
        clips: Sequence[ClipText],
    ) -> tuple[Packed, list[tuple[int, float, np.ndarray]]]:
        """The voice and face channels' clip vectors (each clip's main speaker and face), and
        every face track of each clip (clip position, its sharpest time in the clip, vector)."""
        vectors: dict[str, list[np.ndarray | None]] = {}
        faces = []
        if self.adapters.get("voice") is not None:
            voices = clip_voices(self.speaker_turns(path, info, transcript), clips)
            vectors[channels.VOICE] = [None if v is None else v[1] for v in voices]
        if (config := self.profile.adapters.face) is not None:
            tracks = self.face_tracks(path, info)
            chosen = clip_faces(tracks, clips, config.sharpest)
            vectors[channels.FACE] = [None if c is None else c[1] for c in chosen]
            for i, clip in enumerate(clips):
                for track in tracks:
                    seen = track.within(clip)
                    if seen is not None:
                        faces.append((i, seen.best_time(), seen.descriptor(config.sharpest)))
        return {c: packed for c, v in vectors.items() if (packed := _pack(v))}, faces


def speech_text(transcript: Sequence[TimedText], window: HasTime) -> str:
    """Words spoken in [start, end): by each word's midpoint, or each cue's when it has no words."""
    span = Span.of(window)
    parts = []
    for item in transcript:
        if not item.overlaps(span):
            continue
        if item.words:
            parts.extend(w.text for w in item.words if span.contains(w.middle))
        elif span.contains(item.middle):
            parts.append(item.text)
    return " ".join(parts).strip()


def _screen_text(lines: Sequence[TimedText], window: HasTime) -> str:
    """The distinct lines on screen during the window, in order of appearance."""
    return "\n".join(dict.fromkeys(line.text for line in lines if line.overlaps(window)))


def _bounds(span: Span | None) -> tuple[float, float | None]:
    """(start, end) for the decoders: None is the whole file, (0, None)."""
    return (0.0, None) if span is None else (span.start, span.end)


def _by_position(texts: Sequence[str], embed) -> list[np.ndarray | None]:
    """Embed the non-empty texts; None where a text is empty."""
    positions = [i for i, text in enumerate(texts) if text]
    result: list[np.ndarray | None] = [None] * len(texts)
    if positions:
        for i, vector in zip(positions, embed([texts[i] for i in positions]), strict=True):
            result[i] = vector
    return result


def _pack(vectors: Sequence[np.ndarray | None]) -> tuple[list[int], np.ndarray] | None:
    positions = [i for i, v in enumerate(vectors) if v is not None]
    if not positions:
        return None
    return positions, np.stack([vectors[i] for i in positions]).astype(np.float32)
