"""Media analysis: one file, or a span of one, -> timed text and vectors, with the profile's
adapters.

Ingest (every clip of a file), query encoding (a query recording or video span) and moderation
(a file's transcript, frames and sound) all call ``MediaAnalyzer``, so an indexed clip and a
query are described the same way and a new adapter is added here once. It imports no job:
ingest, query, search and moderation build on it, not it on them.

Time spent is charged to ``timer`` under the stage names the ingest report shows: decode, asr,
ocr, embed, frames, audio, hub and visual (ingest adds store).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mmretrieval import channels
from mmretrieval.adapters.base import AdapterSet
from mmretrieval.adapters.speech import SpeechNotes
from mmretrieval.adapters.visual import VisualFrames, shrink
from mmretrieval.config import Profile, VisualConfig
from mmretrieval.devices import one_cpu_thread, torch_device
from mmretrieval.embed import (
    FrameVectors,
    audio_windows,
    frame_vectors,
    hub_vector,
    mean_direction,
    window_positions,
)
from mmretrieval.imagenet import label_vector, top_labels
from mmretrieval.language import dominant
from mmretrieval.media.change import picture_change, thumbnail
from mmretrieval.media.decode import at_rate, every_frame, iter_frames, load_audio
from mmretrieval.media.probe import MediaInfo, probe
from mmretrieval.media.segment import clip_windows
from mmretrieval.media.shots import ShotDetector, at_cuts, detect_shots
from mmretrieval.media.subtitles import find_sidecar, read_subtitles
from mmretrieval.media.timeline import TimedText
from mmretrieval.people.faces import FaceTrack, FaceTracker, clip_faces, search_frames
from mmretrieval.people.voices import SpeakerTurn, clip_voices, speaker_turns, speech_pieces
from mmretrieval.spans import HasTime, Span
from mmretrieval.store.catalog import ClipText

log = logging.getLogger(__name__)

Packed = dict[str, tuple[list[int], np.ndarray]]  # channel -> (clip positions, vectors)
VisualRow = tuple[int, float, np.ndarray, list[tuple[int, float]]]  # catalog.IndexedFile


class StageTimer:
    """Wall seconds per stage (decode, asr, ocr, embed, frames, audio, hub, store). Stages that
    run side by side (speech recognition beside the picture) are each charged in full, so the
    stages of a file can add up to more than its wall time."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._lock = threading.Lock()

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            with self._lock:
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
    what speech recognition found and guarded against, for the ingest report; the per-frame
    visual descriptors and labels (clip position, time, descriptor, labels); with the people
    profile, every face track of each clip (clip position, its sharpest time, descriptor); the
    video's shots."""

    info: MediaInfo
    clips: list[ClipText]
    texts: list[TimedText]
    vectors: Packed
    frames: list[tuple[int, float, np.ndarray]]
    speech: SpeechNotes | None = None  # the file's language and guard counts (None: no ASR ran)
    visual: list[VisualRow] = field(default_factory=list)
    faces: list[tuple[int, float, np.ndarray]] = field(default_factory=list)  # (clip, time, face)
    shots: list[Span] = field(default_factory=list)  # back to back; empty: no video or not asked


@dataclass(frozen=True)
class SpanAnalysis:
    """One span of a file taken as a whole; a part not asked for (or not in the file) is empty."""

    transcript: list[TimedText] = field(default_factory=list)
    screen: list[TimedText] = field(default_factory=list)
    frames: FrameVectors | None = None
    audio: np.ndarray | None = None  # the CLAP vector of the span's sound
    visual: VisualFrames | None = None  # its frames through the ImageNet CNN


class MediaAnalyzer:
    """Describes media with the profile's adapters: a file as clips (``analyse_file``), a span
    as one piece (``analyse_span``), or any one part of either.

    Analysers that share one ``AdapterSet`` and one ``turns`` lock may each analyse a file at
    the same time, on their own threads (``ingest.InProcess``): the files' speech recognition
    runs side by side (the recogniser has a replica for each), everything else takes turns.
    rapidocr keeps per-call state, and a file's picture stages keep a core busy alone.
    """

    def __init__(
        self, profile: Profile, adapters: AdapterSet, turns: threading.Lock | None = None
    ):
        self.profile = profile
        self.adapters = adapters
        self.timer = StageTimer()
        self.speech_notes: SpeechNotes | None = None  # of the latest speech recognition
        self._turns = turns or threading.Lock()

    def probe(self, path: Path) -> MediaInfo:
        with self.timer("decode"):
            return probe(path)

    def analyse_file(self, path: Path) -> FileAnalysis:
        """Every clip window of ``path`` with its speech and screen text and every channel's
        vectors: what ingest stores."""
        info = self.probe(path)
        self.speech_notes = None
        # Speech recognition runs beside the picture stages: CTranslate2, onnxruntime and PyAV
        # release the GIL, and neither side keeps two cores busy alone (benchmarks/README.md).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="asr") as beside:
            heard = beside.submit(self.transcript, path, info)
            with self._turns:
                detector = self._shot_detector(info)
                whole = self.analyse_span(
                    path, info, transcript=False, audio=False, visual=True, shots=detector
                )
                shots = detector.shots(info.duration) if detector else self.shots(path, info)
            transcript = heard.result()
        with self._turns:
            return self._assemble(path, info, transcript, whole, shots)

    def _assemble(
        self,
        path: Path,
        info: MediaInfo,
        transcript: list[TimedText],
        whole: SpanAnalysis,
        shots: list[Span],
    ) -> FileAnalysis:
        """The file's clips and every channel's vectors, from what was heard and seen."""
        screen = self._screen_lines_at_cuts(whole.screen, shots)
        clips = [
            ClipText(
                w.start,
                w.end,
                speech_text(transcript, w),
                shown_text(screen, w),
                dominant(transcript, w),
            )
            for w in self.clip_windows(info, transcript, shots)
        ]
        vectors, frames = self._clip_vectors(path, info, clips, whole.frames)
        visual, visual_rows = self._visual_vectors(clips, whole.visual)
        people, faces = self._people_vectors(path, info, transcript, clips, shots)
        texts = [*transcript, *screen]
        return FileAnalysis(
            info,
            clips,
            texts,
            {**vectors, **visual, **people},
            frames,
            self.speech_notes,
            visual=visual_rows,
            faces=faces,
            shots=shots,
        )

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
        visual: bool = False,
        shots: ShotDetector | None = None,
    ) -> SpanAnalysis:
        """The parts asked for of [start, end) of ``path`` (None: the whole file), which must
        lie within the file: its transcript, screen text, CLIP frame vectors, one CLAP vector
        of its sound and, only when asked (a scan for moderation has no use for it), its frames
        through the visual CNN. ``shots`` (whole files only) sees every frame that the screen
        text is read from (``_shot_detector``)."""
        sampler = self._visual_sampler() if visual and info.has_video else None
        shared = sampler is not None and screen and self.adapters.get("ocr") is not None
        return SpanAnalysis(
            self.transcript(path, info, span) if transcript else [],
            self.screen_text(path, info, span, sampler if shared else None, shots)
            if screen
            else [],
            self.frame_vectors(path, span) if frames and info.has_video else None,
            self._span_audio(path, info, span) if audio and info.has_audio else None,
            None if sampler is None else self._visual_frames(path, span, sampler, shared),
        )

    def clip_windows(
        self, info: MediaInfo, transcript: Sequence[TimedText], shots: Sequence[Span] = ()
    ) -> list[Span]:
        """The file's clip windows, by the profile's segment settings, ending at shot cuts
        where they can."""
        cuts = [shot.start for shot in shots[1:]]
        return clip_windows(info.duration, transcript, self.profile.segment, cuts)

    def _screen_lines_at_cuts(
        self, lines: Sequence[TimedText], shots: Sequence[Span]
    ) -> list[TimedText]:
        """OCR reads a frame every ``1 / rate`` s, so a line's start and end are known only to
        that step; a shot cut inside the step is when the caption came or went."""
        if not lines:  # also a profile without OCR, whose config has no rate
            return []
        step = 1.0 / self.profile.adapters.ocr.rate
        return at_cuts(lines, [shot.start for shot in shots[1:]], step)

    def shots(self, path: Path, info: MediaInfo) -> list[Span]:
        """The video's shots, when the profile asks for them (``segment.shots``)."""
        if not (info.has_video and self.profile.segment.shots):
            return []
        with self.timer("shots"):
            return detect_shots(path, info.duration, self.profile.segment)

    def _shot_detector(self, info: MediaInfo) -> ShotDetector | None:
        """A detector for ``screen_text`` to feed while it decodes the whole file, when the
        profile asks for shots and reads screen text: shots need every frame, OCR and the
        visual channel a few of them, and decoding the file once for all three saves the
        sampling's own decoding, seeks and all (benchmarks/README.md, ingest). None: ``shots``
        decodes alone."""
        wanted = info.has_video and info.fps > 0 and self.profile.segment.shots
        if not wanted or self.adapters.get("ocr") is None:
            return None
        return ShotDetector(info.fps, self.profile.segment)

    def transcript(
        self, path: Path, info: MediaInfo, span: Span | None = None
    ) -> list[TimedText]:
        """Subtitle cues from a sidecar when there is one, else speech recognition."""
        transcriber = self.adapters.get("speech")
        if transcriber is None:
            return []
        start, end = _bounds(span)
        config = self.profile.adapters.speech
        if config.subtitles and (sidecar := find_sidecar(path, config.pinned)):
            within = span or Span(0.0, info.duration)
            plain = transcriber.fixed_language  # a plain sidecar's language
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
        self,
        path: Path,
        info: MediaInfo,
        span: Span | None = None,
        sampler: VisualSampler | None = None,
        shots: ShotDetector | None = None,
    ) -> list[TimedText]:
        """On-screen text; the frames decoded for it also go to ``sampler`` (the visual
        channel's), and with ``shots`` (whole files only) every frame of the file is decoded
        and shown to the shot detector on the way, so a file is decoded once for all three."""
        reader = self.adapters.get("ocr")
        if reader is None or not info.has_video:
            return []
        if shots is not None and span is not None:
            raise ValueError("shots are found over whole files: pass span=None with shots")
        start, end = _bounds(span)
        if shots is None:
            sampled = iter_frames(path, reader.rate, start, end, max_side=reader.max_side)
        else:
            every = self._shown_to(shots, every_frame(path))
            sampled = at_rate(every, reader.rate, info.fps, max_side=reader.max_side)
        frames = self.timer.iterate(sampled, "decode")
        before = {stage: self.timer.seconds[stage] for stage in ("decode", "visual", "shots")}
        started = time.perf_counter()
        lines = reader.read_frames(
            frames if sampler is None else sampler.tap(frames), end or info.duration
        )
        spent = {stage: self.timer.seconds[stage] - seconds for stage, seconds in before.items()}
        self.timer.seconds["decode"] -= spent["shots"]  # its clock ran while shots were found
        elapsed = time.perf_counter() - started
        self.timer.seconds["ocr"] += elapsed - spent["decode"] - spent["visual"]
        return lines

    def _shown_to(self, detector: ShotDetector, frames: Iterator) -> Iterator:
        """``frames`` (every frame, in order) passed on after ``detector`` saw each one."""
        for t, frame in frames:
            with self.timer("shots"):
                detector.add(frame)
            yield t, frame

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
            device = torch_device(self.profile.adapters.text.device)
            with self.timer("embed"), one_cpu_thread(device):  # a few short texts: see its note
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

    # -- the visual channel (ImageNet CNN) --------------------------------------------------

    def _visual_sampler(self) -> VisualSampler | None:
        encoder = self.adapters.get("visual")
        if encoder is None:
            return None
        return VisualSampler(encoder, self.profile.adapters.visual, self.timer)

    def _visual_frames(
        self, path: Path, span: Span | None, sampler: VisualSampler, fed: bool
    ) -> VisualFrames:
        """The sampler's frames through the CNN; unless OCR ``fed`` it already, they are
        decoded here at the visual channel's own rate."""
        if not fed:
            start, end = _bounds(span)
            frames = iter_frames(
                path, sampler.config.frame_rate, start, end, short_side=sampler.encoder.input_side
            )
            for t, frame in self.timer.iterate(frames, "decode"):
                sampler.add(t, frame)
        return sampler.finish()

    def _visual_vectors(
        self, clips: Sequence[ClipText], found: VisualFrames | None
    ) -> tuple[Packed, list[VisualRow]]:
        """Per clip: the mean direction of its frames' descriptors (``visual``) and the label
        vector of their labels (``visual_labels``); and the per-frame rows to store."""
        if found is None:
            return {}, []
        max_frames = self.profile.adapters.visual.max_frames
        descriptors: list[np.ndarray | None] = []
        labels: list[np.ndarray | None] = []
        rows: list[VisualRow] = []
        for i, clip in enumerate(clips):
            shown = found.window(window_positions(found.times, clip, max_frames))
            descriptors.append(mean_direction(shown.descriptors))
            labels.append(label_vector(shown.labels))
            rows.extend(
                (i, float(t), d, frame_labels)
                for t, d, frame_labels in zip(
                    shown.times, shown.descriptors, shown.labels, strict=True
                )
            )
        vectors = {channels.VISUAL: descriptors, channels.VISUAL_LABELS: labels}
        return {c: packed for c, v in vectors.items() if (packed := _pack(v))}, rows

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

    def face_tracks(
        self,
        path: Path,
        info: MediaInfo,
        span: Span | None = None,
        shots: Sequence[Span] | None = None,
    ) -> list[FaceTrack]:
        """The faces on screen in ``span`` (None: the whole file), followed across frames; the
        file's ``shots`` (None: not known) spare searches and descriptors within a shot."""
        encoder = self.adapters.get("face")
        if encoder is None or not info.has_video:
            return []
        config = self.profile.adapters.face
        cuts = None if shots is None else [shot.start for shot in shots[1:]]
        start, end = _bounds(span)
        frames = iter_frames(path, config.frame_rate, start, end, max_side=config.max_side)

        def detect(frame: np.ndarray, near: Sequence, coarse: bool) -> list:
            with self.timer("faces"):
                return encoder.faces(frame, near=near, coarse=coarse)

        frames = self.timer.iterate(frames, "decode")
        tracker = FaceTracker(config, cuts)
        for seen, faces in search_frames(frames, detect, config, cuts):
            with self.timer("faces"):
                tracker.add(seen, faces)
        with self.timer("faces"):
            return tracker.finish()

    def _people_vectors(
        self,
        path: Path,
        info: MediaInfo,
        transcript: Sequence[TimedText],
        clips: Sequence[ClipText],
        shots: Sequence[Span],
    ) -> tuple[Packed, list[tuple[int, float, np.ndarray]]]:
        """The voice and face channels' clip vectors (each clip's main speaker and face), and
        every face track seen in each clip (clip position, when it is seen sharpest in the
        clip, the track's descriptor)."""
        vectors: dict[str, list[np.ndarray | None]] = {}
        faces = []
        if self.adapters.get("voice") is not None:
            voices = clip_voices(self.speaker_turns(path, info, transcript), clips)
            vectors[channels.VOICE] = [None if v is None else v[1] for v in voices]
        if self.profile.adapters.face is not None:
            tracks = self.face_tracks(path, info, shots=shots if shots else None)
            chosen = clip_faces(tracks, clips)
            vectors[channels.FACE] = [None if track is None else track.vector for track in chosen]
            for i, clip in enumerate(clips):
                for track in tracks:
                    seen = track.best_time(clip)
                    if seen is not None and track.vector is not None:
                        faces.append((i, seen, track.vector))
        return {c: packed for c, v in vectors.items() if (packed := _pack(v))}, faces


class VisualSampler:
    """Takes decoded frames (pushed one by one, or passed through ``tap`` on their way to OCR),
    keeps the first of each shot and one every ``1 / frame_rate`` seconds within a shot (never
    a repeat of the last one kept), and describes them with the visual CNN in batches (charged
    to the ``visual`` stage). So every shot OCR sees is described, at half its cost or less."""

    def __init__(self, encoder, config: VisualConfig, timer: StageTimer):
        self.encoder = encoder
        self.config = config
        self.timer = timer
        self._next = -np.inf  # the earliest time the next frame may be kept
        self._previous: np.ndarray | None = None  # the thumbnail of the last kept frame
        self._batch: list[tuple[float, np.ndarray]] = []
        self._times: list[float] = []
        self._descriptors: list[np.ndarray] = []
        self._labels: list[list[tuple[int, float]]] = []

    def tap(self, frames: Iterable[tuple[float, np.ndarray]]) -> Iterator[tuple[float, np.ndarray]]:
        for t, frame in frames:
            self.add(t, frame)
            yield t, frame

    def add(self, t: float, frame: np.ndarray) -> None:
        """Keep a frame that starts a new shot, or that comes ``1 / frame_rate`` after the
        last one kept and shows something else."""
        thumb = thumbnail(frame)
        change = np.inf if self._previous is None else picture_change(self._previous, thumb)
        if change < self.config.duplicate_threshold:
            return
        if t < self._next - 1e-6 and change < self.config.cut_threshold:
            return
        self._next = t + 1.0 / self.config.frame_rate
        self._previous = thumb
        self._batch.append((t, shrink(frame, self.encoder.input_side)))
        if len(self._batch) == self.config.batch_size:
            self._describe()

    def finish(self) -> VisualFrames:
        self._describe()
        descriptors = self._descriptors or [np.zeros((0, self.encoder.dim), np.float32)]
        return VisualFrames(
            np.asarray(self._times, dtype=np.float64), np.concatenate(descriptors), self._labels
        )

    def _describe(self) -> None:
        if not self._batch:
            return
        with self.timer("visual"):
            described = self.encoder.describe([frame for _, frame in self._batch])
        self._times.extend(t for t, _ in self._batch)
        self._descriptors.append(described.descriptors)
        self._labels.extend(
            top_labels(p, self.config.labels, self.config.min_probability)
            for p in described.probabilities
        )
        self._batch = []


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


def shown_text(lines: Sequence[TimedText], window: HasTime) -> str:
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
