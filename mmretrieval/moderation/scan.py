"""A moderation pass: media files -> per-clip scores of every policy signal -> findings.

Media is analysed by ``MediaAnalyzer``, the analyser ingest and queries use: clips are cut by its
``clip_windows`` (the profile's segment settings), the transcript (a .srt/.vtt sidecar, else
speech recognition) and CLIP frame vectors come from ``analyse_span`` of the whole file, and CLAP
vectors from ``audio_vectors``. With an index, a file indexed with the same content hash (under
any path) is read from the catalog instead: its clips, transcript, per-frame CLIP vectors and
clip CLAP vectors, so neither ASR nor CLIP/CLAP runs again. The frame detectors need pixels, so
their frames are always decoded.

Text signals score every line: transcript segments and screen text (OCR lines, when the profile
reads it), each line embedded once for the prompts and the heads. Evidence carries the seconds
that scored: a line, the words said, the frames at or above the threshold, or, for CLAP, the
best few seconds of the clip (re-scored in short windows only where the clip's score fired).
A category is flagged on a clip by its policy rule (``agree`` signals, or one ``strong``).

A signal whose model the profile lacks is skipped, and the report says so; a signal marked
``required`` fails instead.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import reduce
from pathlib import Path

import numpy as np

from mmretrieval import channels
from mmretrieval.adapters.base import AdapterSet
from mmretrieval.analyze import MediaAnalyzer
from mmretrieval.config import DEFAULT_PROFILE, Profile, load_profile
from mmretrieval.devices import one_cpu_thread, torch_device
from mmretrieval.embed import FrameVectors, distinct_frames
from mmretrieval.errors import MediaError, ModelMissingError
from mmretrieval.media.decode import iter_frames
from mmretrieval.media.files import collect_media, file_digest
from mmretrieval.media.probe import MediaInfo
from mmretrieval.media.timeline import TRANSCRIPT_SOURCES, TimedText
from mmretrieval.models import status as model_status
from mmretrieval.moderation.detectors import NudeNet, OpenNsfw, ProfanityModel, zero_shot
from mmretrieval.moderation.heads import Heads, heads_for
from mmretrieval.moderation.policy import (
    TEXT_SIGNALS,
    AnySignal,
    ClassifierSignal,
    NudeNetSignal,
    OpenNsfwSignal,
    Policy,
    ProfanitySignal,
    WordListSignal,
    ZeroShotSignal,
    load_policy,
)
from mmretrieval.moderation.report import FileSummary, Finding, Report, SignalHit
from mmretrieval.moderation.wordlist import (
    WordMatcher,
    parse_entries,
    read_word_list,
    word_list_path,
)
from mmretrieval.spans import HasTime, Span, Timed
from mmretrieval.store import folder
from mmretrieval.store.catalog import Catalog, ClipRow

log = logging.getLogger(__name__)

SCREEN_SOURCE = "ocr"
CLAP_WINDOW, CLAP_HOP = 3.0, 1.5  # seconds: where a fired CLAP clip is re-scored to find when
FRAME_DETECTORS = ("nudenet", "open_nsfw")
ENCODER_OF = {"clip": "clip", "clap": "clap", "transcript": "text"}  # zero-shot type -> adapter
FILES_PER_BATCH = 32  # files whose text lines ``moderate`` scores together (one encoder call)
PAIR_GAP = 1.5  # seconds: consecutive lines this close are also scored as one text
SCORE_DIGITS, TIME_DIGITS = 4, 3  # scores and times are rounded once, here, so reports
# round-trip exactly and calibration thresholds are the very numbers the report shows


@dataclass(frozen=True)
class Evidence:
    """A signal's best score in one clip and where it came from."""

    score: float
    time: float | None = None
    text: str | None = None
    detail: dict = field(default_factory=dict)
    span: Span | None = None  # the seconds that scored (None: the whole clip)


@dataclass(frozen=True)
class ClipScores(Timed):
    start: float
    end: float
    scores: dict[tuple[str, str], Evidence]  # (category, signal) -> evidence


@dataclass(frozen=True)
class FileScan:
    path: str
    duration: float
    source: str  # media | index
    transcript: str  # asr | subtitles | index | none
    clips: list[ClipScores]


@dataclass(frozen=True)
class _Stored:
    """What the index already holds for a file with the same content."""

    info: MediaInfo
    clips: list[ClipRow]
    transcript: list[TimedText]
    screen: list[TimedText]
    frames: FrameVectors | None


@dataclass(frozen=True)
class _Read:
    """A file's clips scored on every signal but the text ones, and the lines those read."""

    path: Path
    duration: float
    source: str  # media | index
    heard: str  # asr | subtitles | index | none
    spans: list[Span]
    lines: list[TimedText]  # transcript, then screen text
    found: list[dict[tuple[str, str], Evidence]]  # per span

    def scan(self) -> FileScan:
        clips = [ClipScores(s.start, s.end, e) for s, e in zip(self.spans, self.found, strict=True)]
        return FileScan(str(self.path), self.duration, self.source, self.heard, clips)


class Scanner:
    """Scores time windows of media files on every signal of a policy that can run here."""

    def __init__(self, policy: Policy, analyzer: MediaAnalyzer, catalog: Catalog | None = None):
        self.policy = policy
        self.analyzer = analyzer
        self.timer = analyzer.timer
        self.catalog = catalog
        self.status: dict[str, str] = {}  # category/signal -> "ran" | "skipped: why"
        self.active: list[tuple[str, AnySignal]] = []  # (category, signal) that run
        self._prompts: dict[tuple[str, str], np.ndarray] = {}
        self._matchers: dict[tuple[str, str], WordMatcher] = {}
        self._nudenet: dict[tuple[str | None, int], NudeNet] = {}
        self._open_nsfw: dict[str | None, OpenNsfw] = {}
        self.heads: Heads | None = None
        self._profanity: ProfanityModel | None = None
        with self.timer("load"):
            for category, signal in policy.signals():
                self._prepare(category, signal)
            if self.needs_transcript and catalog is None:  # with an index, ASR may never run
                self.analyzer.adapters.get("speech")

    @property
    def needs_transcript(self) -> bool:
        return any(s.type in TEXT_SIGNALS for _, s in self.active)

    @property
    def needs_screen(self) -> bool:
        return self.needs_transcript and self.analyzer.profile.adapters.ocr is not None

    def scan_file(self, path: Path, windows: Sequence[Span] | None = None) -> FileScan:
        """Scores of every running signal for each clip of ``path``: the profile's clip windows
        (or the index's clips), or the given windows (one ending at ``math.inf`` runs to the
        file's end)."""
        read = self._read(path, windows)
        self._text_signals([read])
        return read.scan()

    def scan_files(self, paths: Sequence[Path]) -> list[FileScan | Exception]:
        """``scan_file`` of each path with the text signals of all of them scored together: one
        encoder batch and one profanity-model call for every line, where a call per file made
        a scan of short indexed files mostly per-call overhead. A file that fails gives its
        exception in its place."""
        read: list[_Read | Exception] = []
        for path in paths:
            try:
                read.append(self._read(path))
            except Exception as exc:  # the caller reports it with the file
                read.append(exc)
        try:
            self._text_signals([r for r in read if isinstance(r, _Read)])
        except Exception as exc:  # no file of the batch has its text scores
            return [r if isinstance(r, Exception) else exc for r in read]
        return [r if isinstance(r, Exception) else r.scan() for r in read]

    def _read(self, path: Path, windows: Sequence[Span] | None = None) -> _Read:
        """The file's clips with every signal scored but the text ones."""
        stored = self._stored(path)
        info = self.analyzer.probe(path) if stored is None else stored.info
        media = self.analyzer.analyse_span(
            path,
            info,
            transcript=self.needs_transcript and stored is None,
            screen=self.needs_screen and stored is None,
            frames=bool(self._of_type("clip")) and (stored is None or stored.frames is None),
            audio=False,
        )
        transcript = media.transcript if stored is None else stored.transcript
        screen = media.screen if stored is None else stored.screen
        heard = _transcript_source(transcript) if stored is None else "index"
        clip_ids = None
        if windows is None and stored is not None:
            spans = [Span.of(c) for c in stored.clips]
            clip_ids = [c.id for c in stored.clips]
        elif windows is None:
            spans = self.analyzer.clip_windows(info, transcript)
        else:
            spans = [_within(w, info.duration, path) for w in windows]
        found: list[dict[tuple[str, str], Evidence]] = [{} for _ in spans]
        if info.has_video:
            self._frame_detectors(path, spans, found)
            frames = media.frames if stored is None or stored.frames is None else stored.frames
            self._clip_signals(frames, spans, found)
        if info.has_audio:
            self._clap_signals(path, spans, clip_ids, found)
        source = "media" if stored is None else "index"
        return _Read(path, info.duration, source, heard, spans, [*transcript, *screen], found)

    # -- set-up -------------------------------------------------------------------------------

    def _prepare(self, category: str, signal: AnySignal) -> None:
        name = f"{category}/{signal.key}"
        reason = self._unavailable(signal)
        if reason is not None:
            if signal.required:
                raise ModelMissingError(
                    f"policy {self.policy.name}: {name} is required but {reason}"
                )
            self.status[name] = f"skipped: {reason}"
            log.info("moderation signal %s skipped: %s", name, reason)
            return
        key = (category, signal.key)
        if isinstance(signal, ZeroShotSignal):
            encoder = self.analyzer.adapters.get(ENCODER_OF[signal.type])
            self._prompts[key] = encoder.embed_text([*signal.positive, *signal.negative])
        elif isinstance(signal, NudeNetSignal):
            detector_key = (signal.model, signal.resolution)
            if detector_key not in self._nudenet:
                self._nudenet[detector_key] = NudeNet(signal.model, signal.resolution)
        elif isinstance(signal, OpenNsfwSignal):
            if signal.model not in self._open_nsfw:
                self._open_nsfw[signal.model] = OpenNsfw(signal.model)
        elif isinstance(signal, WordListSignal):
            self._matchers[key] = word_matcher(signal, name)
        elif isinstance(signal, ClassifierSignal) and self.heads is None:
            self.heads = heads_for(self.analyzer.adapters.get("text"))
        elif isinstance(signal, ProfanitySignal) and self._profanity is None:
            self._profanity = ProfanityModel()
        self.active.append((category, signal))
        self.status[name] = "ran"

    def _unavailable(self, signal: AnySignal) -> str | None:
        """Why a signal cannot run with this profile, or None when it can."""
        profile = self.analyzer.profile
        adapters = profile.adapters
        if signal.type in ("clip", "clap"):
            section = getattr(adapters, signal.type)
            model = signal.type.upper()
            if section is None:
                return f"no {model} model in profile {profile.name}"
            if not model_status(signal.type, section.model).present:
                return (
                    f"{model} model {section.model} is not on this machine "
                    f"(`mmr models pull {profile.name}` fetches it)"
                )
        if signal.type in TEXT_SIGNALS and adapters.speech is None and adapters.ocr is None:
            return f"no speech or ocr adapter in profile {profile.name}, so no text to read"
        if signal.type in ("transcript", "classifier") and adapters.text is None:
            return f"no text encoder in profile {profile.name}"
        return None

    def _of_type(self, *types: str) -> list[tuple[str, AnySignal]]:
        return [(c, s) for c, s in self.active if s.type in types]

    def _stored(self, path: Path) -> _Stored | None:
        if self.catalog is None:
            return None
        with self.timer("index"):
            try:
                digest = file_digest(path)
            except OSError:  # the probe says why, as for any file it cannot read
                return None
            row = self.catalog.indexed_file_with_hash(digest)
            if row is None:
                return None
            info = MediaInfo(row.duration or 0.0, bool(row.has_video), bool(row.has_audio))
            clips = self.catalog.file_clips(row.id)
            texts = self.catalog.texts(row.id, 0.0, math.inf)
            transcript = [t for t in texts if t.source in TRANSCRIPT_SOURCES]
            screen = [t for t in texts if t.source == SCREEN_SOURCE]
            times, vectors = self.catalog.frames([c.id for c in clips]) if clips else ([], [])
            frames = None
            if len(times):  # overlapping clips store their shared frames twice
                times, first = np.unique(times, return_index=True)
                frames = FrameVectors(times, vectors[first])
        log.info("%s: clips, transcript and vectors read from the index (%s)", path, row.path)
        return _Stored(info, clips, transcript, screen, frames)

    # -- signals ------------------------------------------------------------------------------

    def _frame_detectors(self, path: Path, spans: list[Span], found) -> None:
        signals = self._of_type(*FRAME_DETECTORS)
        if not signals:
            return
        config = self.policy.frames
        frames = iter_frames(
            path,
            config.rate,
            min(s.start for s in spans),
            max(s.end for s in spans),
            max_side=config.max_side,
        )
        times: list[float] = []
        rows: list[list[tuple[float, dict]]] = []  # per frame, per signal: (score, detail)
        distinct = distinct_frames(self.timer.iterate(frames, "decode"), config.duplicate_threshold)
        for batch in _batches(distinct, config.batch_size):
            times += [t for t, _ in batch]
            rows += self._detect([frame for _, frame in batch], signals)
        if not times:
            return
        stamps = np.asarray(times)
        scores = np.array([[score for score, _ in row] for row in rows])
        for span, evidence in zip(spans, found, strict=True):
            shown = _on_screen(stamps, span)
            if len(shown) == 0:
                continue
            for column, (category, signal) in enumerate(signals):
                best = shown[int(np.argmax(scores[shown, column]))]
                evidence[(category, signal.key)] = Evidence(
                    round(float(scores[best, column]), SCORE_DIGITS),
                    round(float(stamps[best]), TIME_DIGITS),
                    detail=rows[best][column][1],
                    span=_frames_span(stamps, scores[:, column], shown, best, signal, span),
                )

    def _detect(self, frames: list[np.ndarray], signals) -> list[list[tuple[float, dict]]]:
        """(score, detail) of each frame for each frame-detector signal, each model run once."""
        detections = {}
        for key, detector in self._nudenet.items():
            with self.timer("nudenet"):
                detections[key] = detector.detect(frames)
        nsfw = {}
        for key, classifier in self._open_nsfw.items():
            with self.timer("open_nsfw"):
                nsfw[key] = classifier.score(frames)
        rows = []
        for i in range(len(frames)):
            row = []
            for _, signal in signals:
                if signal.type == "open_nsfw":
                    row.append((float(nsfw[signal.model][i]), {}))
                    continue
                boxes = [
                    d
                    for d in detections[(signal.model, signal.resolution)][i]
                    if d.label in signal.classes
                ]
                score = max((d.score for d in boxes), default=0.0)
                row.append((score, {"detections": [d.to_dict() for d in boxes]} if boxes else {}))
            rows.append(row)
        return rows

    def _clip_signals(self, frames: FrameVectors | None, spans: list[Span], found) -> None:
        signals = self._of_type("clip")
        if not signals or frames is None or len(frames.times) == 0:
            return
        with self.timer("clip"):
            for category, signal in signals:
                probabilities = self._zero_shot(category, signal, frames.vectors)
                for span, evidence in zip(spans, found, strict=True):
                    shown = _on_screen(frames.times, span)
                    if len(shown):
                        best = shown[int(np.argmax(probabilities[shown]))]
                        evidence[(category, signal.key)] = Evidence(
                            round(float(probabilities[best]), SCORE_DIGITS),
                            round(float(frames.times[best]), TIME_DIGITS),
                            span=_frames_span(
                                frames.times, probabilities, shown, best, signal, span
                            ),
                        )

    def _clap_signals(
        self, path: Path, spans: list[Span], clip_ids: list[int] | None, found
    ) -> None:
        signals = self._of_type("clap")
        if not signals:
            return
        vectors: list[np.ndarray | None] = []
        if clip_ids is not None and self.catalog is not None:
            stored = self.catalog.vectors(channels.AUDIO, clip_ids)
            vectors = [stored.get(i) for i in clip_ids] if stored else []
        if not vectors:  # not indexed, other windows, or indexed without CLAP
            vectors = self.analyzer.audio_vectors(path, spans)
        present = [i for i, v in enumerate(vectors) if v is not None]
        if not present:
            return
        with self.timer("clap"):
            matrix = np.stack([vectors[i] for i in present])
            for category, signal in signals:
                probabilities = self._zero_shot(category, signal, matrix)
                for i, p in zip(present, probabilities, strict=True):
                    score = round(float(p), SCORE_DIGITS)
                    found[i][(category, signal.key)] = Evidence(score)
                    if score >= signal.threshold:
                        found[i][(category, signal.key)] = self._clap_seconds(
                            path, spans[i], category, signal, score
                        )

    def _clap_seconds(
        self, path: Path, clip: Span, category: str, signal: ZeroShotSignal, score: float
    ) -> Evidence:
        """A fired clip's CLAP evidence with the seconds that scored: the clip re-scored in
        ``CLAP_WINDOW`` windows, the span of those that fire (else of the best one)."""
        starts = np.arange(clip.start, max(clip.end - CLAP_WINDOW, clip.start) + 1e-9, CLAP_HOP)
        windows = [Span(float(t), min(float(t) + CLAP_WINDOW, clip.end)) for t in starts]
        vectors = self.analyzer.audio_vectors(path, windows, start=clip.start)
        scored = [(w, v) for w, v in zip(windows, vectors, strict=True) if v is not None]
        if not scored:
            return Evidence(score)
        with self.timer("clap"):
            p = self._zero_shot(category, signal, np.stack([v for _, v in scored]))
        best = int(np.argmax(p))
        fired = [w for (w, _), q in zip(scored, p, strict=True) if q >= signal.threshold]
        hull = _hull(fired) if fired else scored[best][0]
        when = round(scored[best][0].start, TIME_DIGITS)
        return Evidence(score, when, span=hull.rounded(TIME_DIGITS))

    def _text_signals(self, reads: list[_Read]) -> None:
        """Transcript and screen lines of the files through every text signal: each line, and
        each pair of consecutive lines (a sentence recognition cut in two, a threat said in two
        breaths), is embedded once for the prompts and the heads, the lines of every file in one
        batch, and so through the profanity model; word lists look at each word."""
        texts = [texts_to_score(read.lines) for read in reads]  # per file: lines, then pairs
        flat = [t.text for file_texts in texts for t in file_texts]
        scored: list[tuple[str, AnySignal, np.ndarray]] = []  # per signal, a score per text
        semantic = self._of_type("transcript", "classifier")
        if semantic and flat:
            device = torch_device(self.analyzer.profile.adapters.text.device)
            with self.timer("text"), one_cpu_thread(device):  # see one_cpu_thread: shared cores
                vectors = self.analyzer.adapters.get("text").embed_text(flat)
                heads = self.heads.score(vectors, flat) if self.heads is not None else None
                for category, signal in semantic:
                    if isinstance(signal, ClassifierSignal):
                        column = self.heads.column(signal.head or category)
                        scored.append((category, signal, heads[:, column]))
                    else:
                        prompts = self._zero_shot(category, signal, vectors)
                        scored.append((category, signal, prompts))
        profane = self._of_type("profanity_check")
        if profane and flat:
            with self.timer("profanity_check"):
                p = self._profanity.score(flat)
            scored += [(category, signal, p) for category, signal in profane]
        offset = 0
        for read, lines in zip(reads, texts, strict=True):
            mine = slice(offset, offset + len(lines))
            offset += len(lines)
            for category, signal, scores in scored:
                _best_lines(read, lines, scores[mine], category, signal)
            for category, signal in self._of_type("wordlist"):
                with self.timer("wordlist"):
                    hits = self._matchers[(category, signal.key)].find(read.lines)
                for span, evidence in zip(read.spans, read.found, strict=True):
                    said = [h for h in hits if span.contains((h.start + h.end) / 2)]
                    words = [_word(h) for h in said]
                    evidence[(category, signal.key)] = Evidence(
                        len(said),
                        words[0]["time"] if words else None,
                        said[0].line.text if said else None,
                        {"words": words} if words else {},
                        _hull(said).rounded(TIME_DIGITS) if said else None,
                    )

    def _zero_shot(self, category: str, signal: ZeroShotSignal, vectors: np.ndarray) -> np.ndarray:
        prompts = self._prompts[(category, signal.key)]
        scale = signal.softmax_scale(self.analyzer.adapters.get(ENCODER_OF[signal.type]))
        return zero_shot(vectors, prompts, len(signal.positive), scale)


def word_matcher(signal: WordListSignal, name: str) -> WordMatcher:
    """The matcher of a word-list signal's entries: its ``words``, then its ``files``."""
    entries = parse_entries(signal.words, where=f"{name} words")
    for file in signal.files:
        entries += read_word_list(word_list_path(file))
    return WordMatcher(entries)


def texts_to_score(lines: list[TimedText]) -> list[TimedText]:
    """The lines, then each two consecutive lines of one source (speech, screen) no more than
    ``PAIR_GAP`` apart joined as one text over both their seconds."""
    pairs = []
    for source in (TRANSCRIPT_SOURCES, (SCREEN_SOURCE,)):
        said = sorted((t for t in lines if t.source in source), key=lambda t: t.start)
        pairs += [
            TimedText(a.start, b.end, f"{a.text} {b.text}", a.source, a.words + b.words)
            for a, b in zip(said, said[1:], strict=False)
            if b.start - a.end <= PAIR_GAP
        ]
    return [*lines, *pairs]


def _best_lines(
    read: _Read, texts: list[TimedText], scores: np.ndarray, category: str, signal: AnySignal
) -> None:
    """Each clip's evidence for a text signal: its best-scoring text, with that text's seconds."""
    for span, evidence in zip(read.spans, read.found, strict=True):
        inside = [i for i, t in enumerate(texts) if t.overlaps(span)]
        if inside:
            top = max(inside, key=lambda i: scores[i])
            best = texts[top]
            evidence[(category, signal.key)] = Evidence(
                round(float(scores[top]), SCORE_DIGITS),
                round(float(best.start), TIME_DIGITS),
                best.text,
                {"source": _source(best)},
                Span.of(best).rounded(TIME_DIGITS),
            )


def findings(scan: FileScan, policy: Policy) -> list[Finding]:
    """The categories each clip is flagged for by the policy's rule; overlapping flagged clips of
    one category merge into one finding, which keeps each signal's best clip (its best frame or
    line) and every listed word said anywhere in it, and covers the seconds its signals scored
    (a clip whose evidence has no span counts whole)."""
    out = []
    for category in policy.categories:
        run: list[dict[str, Evidence]] = []  # the flagged clips of the finding being built
        span = Span(0.0, 0.0)  # the clips they are
        for clip in sorted(scan.clips, key=lambda c: c.start):
            fired = fired_signals(clip.scores, category, policy)
            if not fired:
                continue
            if run and not span.overlaps(clip):
                out.append(_finding(scan.path, category, run, policy))
                run = []
            span = span.union(clip) if run else Span.of(clip)
            run.append({**fired, _CLIP: Evidence(0.0, span=Span.of(clip))})
        if run:
            out.append(_finding(scan.path, category, run, policy))
    return sorted(out, key=lambda f: (f.start, f.category))


def fired_signals(
    scores: dict[tuple[str, str], Evidence], category: str, policy: Policy
) -> dict[str, Evidence]:
    """The signals of ``category`` that flag a clip by its rule, else nothing: a signal at its
    ``strong`` score, or ``agree`` signals whose evidence is about the same seconds (their spans
    meet; evidence without a span is about the whole clip), each with the fired signals that
    agree with it. Two signals firing on different lines of a clip do not agree."""
    rule = policy.categories[category]
    fired = {
        key: evidence
        for (name, key), evidence in scores.items()
        if name == category and evidence.score >= policy.signal(name, key).threshold
    }
    flagged: dict[str, Evidence] = {}
    for key, evidence in fired.items():
        limit = policy.signal(category, key).strong
        group = {k: e for k, e in fired.items() if _together(evidence.span, e.span)}
        if (limit is not None and evidence.score >= limit) or len(group) >= rule.agree:
            flagged |= group
    return flagged


def _together(a: Span | None, b: Span | None) -> bool:
    """Whether two pieces of evidence are about the same seconds (touching counts)."""
    return a is None or b is None or (a.start <= b.end and b.start <= a.end)


def summary(scan: FileScan, found: list[Finding]) -> FileSummary:
    best: dict[str, float] = {}
    for clip in scan.clips:
        for (category, key), evidence in clip.scores.items():
            name = f"{category}/{key}"
            best[name] = max(best.get(name, evidence.score), evidence.score)
    counts: dict[str, int] = {}
    for finding in found:
        counts[finding.category] = counts.get(finding.category, 0) + 1
    return FileSummary(
        scan.path,
        "scanned",
        round(scan.duration, TIME_DIGITS),
        len(scan.clips),
        scan.source,
        scan.transcript,
        findings=counts,
        max_scores=dict(sorted(best.items())),
    )


def moderate(
    paths: Iterable[str | Path],
    policy: Policy | str | Path | None = None,
    index: str | Path | None = None,
    profile: str | Path | Profile | None = None,
    on_file: Callable[[FileSummary], None] | None = None,
) -> Report:
    """Scan media files (folders recurse) against a policy (default: the bundled one).

    With ``index``, the index's profile is used and files it holds with the same content are
    read from its catalog; otherwise ``profile`` (default: offline) decides the models.
    """
    policy = policy if isinstance(policy, Policy) else load_policy(policy)
    files = collect_media(Path(p) for p in paths)
    started = time.perf_counter()
    with scanning(policy, index, profile) as scanner:
        loaded = time.perf_counter()
        report = Report(policy.name, scanner.analyzer.profile.name, dict(scanner.status))
        for batch in _batches(files, FILES_PER_BATCH):
            for path, scan in zip(batch, scanner.scan_files(batch), strict=True):
                if isinstance(scan, MediaError):
                    result = FileSummary(str(path), "failed", error=str(scan))
                elif isinstance(scan, Exception):  # a bug or a model failure: report it, go on
                    log.error("unexpected error while moderating %s", path, exc_info=scan)
                    error = f"internal error: {type(scan).__name__}: {scan}"
                    result = FileSummary(str(path), "failed", error=error)
                else:
                    found = findings(scan, policy)
                    report.findings.extend(found)
                    result = summary(scan, found)
                report.files.append(result)
                if on_file:
                    on_file(result)
        report.timing = _timing(report, started, loaded, scanner.timer.seconds)
    return report


@contextmanager
def scanning(
    policy: Policy,
    index: str | Path | None = None,
    profile: str | Path | Profile | None = None,
) -> Iterator[Scanner]:
    """A ``Scanner`` over the index's catalog and profile, or over ``profile`` alone."""
    if index is None:
        chosen = (
            profile if isinstance(profile, Profile) else load_profile(profile or DEFAULT_PROFILE)
        )
        yield Scanner(policy, MediaAnalyzer(chosen, AdapterSet(chosen)))
        return
    index_dir = Path(index)
    catalog = folder.open_catalog(index_dir)  # a missing index fails here, before any model loads
    try:
        chosen = folder.choose_profile(index_dir, folder.recorded_profile(catalog), profile)
        yield Scanner(policy, MediaAnalyzer(chosen, AdapterSet(chosen)), catalog)
    finally:
        catalog.close()


def _timing(report: Report, started: float, loaded: float, stages: dict[str, float]) -> dict:
    """Throughput of the pass: clips per second of scanning (model loading counted apart)."""
    scanned = [f for f in report.files if f.status == "scanned"]
    clips = sum(f.clips for f in scanned)
    footage = sum(f.duration for f in scanned)
    seconds = time.perf_counter() - loaded
    return {
        "files": len(report.files),
        "clips": clips,
        "footage_seconds": round(footage, 3),
        "load_seconds": round(loaded - started, 3),
        "scan_seconds": round(seconds, 3),
        "clips_per_second": round(clips / seconds, 3) if seconds > 0 else 0.0,
        "seconds_per_clip": round(seconds / clips, 4) if clips else 0.0,
        "realtime_factor": round(footage / seconds, 2) if seconds > 0 else 0.0,
        "stage_seconds": {k: round(v, 3) for k, v in sorted(stages.items()) if k != "load"},
    }


_CLIP = ""  # a run's own key for the clip span (no signal key is empty)


def _finding(
    path: str,
    category: str,
    run: list[dict[str, Evidence]],
    policy: Policy,
) -> Finding:
    hits = []
    rule = policy.categories[category]
    for signal in rule.signals:
        seen = [fired[signal.key] for fired in run if signal.key in fired]
        if not seen:
            continue
        if signal.type == "wordlist":  # every listed word said in the span, each once
            unique = {(w["time"], w["said"]): w for e in seen for w in e.detail["words"]}
            words = sorted(unique.values(), key=lambda w: w["time"])
            first = min(seen, key=lambda e: e.time)
            best = Evidence(len(words), words[0]["time"], first.text, {"words": words})
        else:
            best = max(seen, key=lambda e: e.score)
        hits.append(
            SignalHit(
                signal.key,
                signal.type,
                best.score,
                signal.threshold,
                best.time,
                best.text,
                best.detail,
                signal.strong,
            )
        )
    scored = [
        _hull([e.span for k, e in fired.items() if k != _CLIP and e.span] or [fired[_CLIP].span])
        for fired in run
    ]
    span = _hull(scored)
    rule_text = _rule(hits, rule.agree)
    return Finding(path, float(span.start), float(span.end), category, tuple(hits), rule_text)


def _rule(hits: list[SignalHit], agree: int) -> str:
    """Why the finding was made, in words: a strong score alone or signals that agree."""
    strong = [h for h in hits if h.strong is not None and h.score >= h.strong]
    if strong:
        return "strong: " + ", ".join(f"{h.signal} {h.score:g} >= {h.strong:g}" for h in strong)
    if agree > 1:
        return f"{len(hits)} signals agree ({agree} needed): " + ", ".join(h.signal for h in hits)
    return "any signal: " + ", ".join(h.signal for h in hits)


def _hull(spans: Sequence[HasTime]) -> Span:
    """The smallest span covering every one of ``spans`` (at least one)."""
    return reduce(Span.union, spans[1:], Span.of(spans[0]))


def _frames_span(
    times: np.ndarray,
    scores: np.ndarray,
    shown: np.ndarray,
    best: int,
    signal: AnySignal,
    clip: Span,
) -> Span:
    """The seconds a frame signal scored in a clip: from the first to the last frame on screen
    in it at or above the threshold (else the best frame), each frame lasting until the next
    one, cut to the clip."""
    fired = [i for i in shown if scores[i] >= signal.threshold] or [best]
    first, last = min(fired), max(fired)
    until = times[last + 1] if last + 1 < len(times) else clip.end
    return Span(max(float(times[first]), clip.start), min(float(until), clip.end)).rounded(
        TIME_DIGITS
    )


def _source(line: TimedText) -> str:
    return "screen" if line.source == SCREEN_SOURCE else "speech"


def _on_screen(times: np.ndarray, span: Span) -> np.ndarray:
    """Indices of the frames on screen during ``span``, by ``FrameVectors.window``'s rule
    (frames that appeared in it, else the one still showing from before)."""
    index = np.arange(len(times), dtype=np.float64)[:, None]
    _, shown = FrameVectors(np.asarray(times), index).window(span, max(len(times), 1))
    return shown[:, 0].astype(int)


def _within(window: Span, duration: float, path: Path) -> Span:
    """A window to scan, one ending at ``math.inf`` cut at the end of the file."""
    if window.start >= duration:
        raise MediaError(
            f"window {window.start}-{window.end} s starts at or after the end of {path} "
            f"({duration} s): give windows inside the file"
        )
    return Span(window.start, duration) if math.isinf(window.end) else window


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _word(hit) -> dict:
    return {
        "said": hit.said,
        "entry": hit.entry,
        "time": round(float(hit.start), TIME_DIGITS),
        "end": round(float(hit.end), TIME_DIGITS),
        "source": _source(hit.line),
    }


def _transcript_source(transcript: list[TimedText]) -> str:
    if not transcript:
        return "none"
    return "subtitles" if transcript[0].source == "subtitle" else "asr"
