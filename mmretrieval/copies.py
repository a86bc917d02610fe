"""Reused footage: where else a stretch of video appears in the archive (README, "Reused footage").

The index keeps the visual channel's descriptors of sparse frames only (the first frame of each
picture change and one every 4 s, ``analyze.VisualSampler``): enough to say which files may
show the query, too sparse to place a 2 s stretch. So the search runs in two passes, with no
re-index:

1. Candidates: the query's frames against every stored frame; each stored frame close to one
   opens a window of its file as long as the query (plus a margin) on either side.
2. Alignment: the query and each candidate window are decoded at ``DENSE_RATE`` frames a second
   and described now; their frame-similarity matrix is searched along its diagonals (the same
   footage plays at the same speed, give or take a frame), and a run of matching frames in order
   is a copy. One frame alone never is.

What broadcast does to footage is met frame by frame: black borders (letterbox, pillarbox) are
cut off before describing; each query frame is described as it is and mirrored, the better one
counting; with ``REGIONS`` on, each frame also gets descriptors of the squares of its feature
map (about 4/7 of the frame, from the same pass through the CNN), so that footage shown inside
another picture (picture-in-picture) or cropped matches one of them; descriptors are centred on
the archive's mean, so that what every picture shares does not make two unrelated frames alike.
What copies are not made of: frames with little to see (black, white, flat, fades, colour
bars: ``informative``) never match; archive frames that recur in many files (a studio
background, the station's intro: ``common``), and the rest of the shot each lies in, are
ignored; and so are query frames that look like stored frames of many files (their document
frequency, as IDF discounts a word every document has: ``WIDESPREAD``). The last is needed as
well because a stored frame is described centre-cropped (as indexing does), a query frame
squeezed whole: the same intro frame is only about 0.6 alike across the two, short of ``COMMON``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from mmretrieval.adapters.visual import REGION_CELLS, cnn_part
from mmretrieval.errors import IndexDirError
from mmretrieval.media.decode import iter_frames
from mmretrieval.spans import Span, Timed, merge
from mmretrieval.store.catalog import Catalog

log = logging.getLogger(__name__)

DENSE_RATE = 4.0  # frames a second decoded and described at query time
MATCH = 0.62  # centred cosine from which two frames show the same picture (benchmarks/reuse.py:
#               0.55 finds half the picture-in-picture copies, but drawn scenes alike match too)
COMMON = 0.8  # ... and from which they show it barely changed (a shared intro, a background)
CANDIDATE = 0.45  # centred cosine from which a stored frame opens a candidate window
WIDESPREAD = 0.5  # ... and from which a query frame shows a stored file's picture, for counting
#                   in how many files it is (dev split of benchmarks/reuse.py: the station's
#                   intro in a query reaches all 36 files at 0.5, footage reused in 8 no more)
MAX_GAP_SECONDS = 1.0  # a run of matches survives this long a stretch without one (a fade)
MIN_MATCHES = 3  # frames in order that make a copy ...
ON_DIAGONAL = 4  # ... and of them, how many on the run's own diagonal (more than half of a 2 s
#                  stretch): a frame of slack either side meets footage played at a slightly
#                  other rate, but a run hopping between diagonals is a look-alike (reuse_dev.py:
#                  a drawn scene matched another on 5 frames, 1 on its diagonal, then at the next
#                  lag on 4, 3 on it; every true run had 5 or more)
COMMON_FRACTION = 0.3  # a picture in at least this share of the files is "common" ...
MIN_COMMON_FILES = 3  # ... and in at least this many
MIN_STD = 10.0  # grey-level spread (0-255) under which a frame is flat
MIN_EDGE = 1.0  # mean grey step between neighbouring pixels, down and across, under which a
#                 frame has no structure in that direction (colour bars have none downwards)
MIN_ENTROPY = 2.0  # bits of a 32-bin grey histogram under which a frame is a few flat tones
#                    (colour bars 1.7; a drawn scene's plain gradient 2.2: 2.5 left half of one
#                    dev source unmatched, results/reuse_dev.txt)
BORDER_LEVEL = 24  # a row or column darker than this, and flat, is letterbox / pillarbox
REGIONS = True  # also match frames by their feature-map squares (picture-in-picture, crops):
#                 once query frames that reach many files (WIDESPREAD) stopped matching, dev
#                 precision 0.966 with them, 1.0 without, both over the 0.95 target; recall
#                 0.875 against 0.844 (results/reuse_dev.txt)
REGION_COUNT = (7 - REGION_CELLS + 1) ** 2  # squares a frame has (adapters/visual.py)
REGION_AGREEMENT = 0.9  # share of a run's square matches that must keep to one place (chosen
#                          on reuse.py --dev: 0.75 let a wandering look-alike through)


@dataclass(frozen=True)
class Copy(Timed):
    """A stretch of an archive file that shows the query footage (or, for ``all_copies``,
    footage of the file ``query_path``)."""

    path: str
    start: float
    end: float
    query_start: float
    query_end: float
    score: float  # mean centred cosine of the aligned frames (0-1)
    clip_id: int | None
    file_id: int
    query_path: str | None = None

    def to_dict(self) -> dict:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Frames:
    """Frames of a span, described: times, centred unit descriptors (with their mirror images'
    for a query) and which ones have enough to see to be matched."""

    times: np.ndarray  # (n,)
    vectors: np.ndarray  # (n, d)
    mirrored: np.ndarray | None  # (n, d), query frames only
    informative: np.ndarray  # (n,) bool
    parts: np.ndarray  # (n, r, d): feature-map squares of each frame; r = 0 unless REGIONS


def informative(frame: np.ndarray) -> bool:
    """Whether a frame has enough picture to be matched: not flat (black, white, a fade), not a
    few flat tones, not stripes (colour bars)."""
    grey = cv2.resize(frame, (64, 36), interpolation=cv2.INTER_AREA).mean(axis=2)
    if grey.std() < MIN_STD:
        return False
    if min(np.abs(np.diff(grey, axis=0)).mean(), np.abs(np.diff(grey, axis=1)).mean()) < MIN_EDGE:
        return False
    counts = np.histogram(grey, bins=32, range=(0, 256))[0]
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum()) >= MIN_ENTROPY


def strip_borders(frame: np.ndarray) -> np.ndarray:
    """The frame without dark flat bands at its edges (letterbox, pillarbox)."""
    grey = frame.mean(axis=2)
    rows = (grey.max(axis=1) > BORDER_LEVEL) | (grey.std(axis=1) > 4)
    cols = (grey.max(axis=0) > BORDER_LEVEL) | (grey.std(axis=0) > 4)
    if rows.sum() < 16 or cols.sum() < 16:
        return frame
    top, bottom = np.flatnonzero(rows)[[0, -1]]
    left, right = np.flatnonzero(cols)[[0, -1]]
    return frame[top : bottom + 1, left : right + 1]


class Describer:
    """The visual encoder, applied to whole frames (borders cut, squeezed to its square input,
    so nothing at the sides is cropped away) and centred on the archive's mean descriptor."""

    def __init__(self, encoder, mean: np.ndarray):
        self.encoder = encoder
        self.mean = mean

    def centre(self, vectors: np.ndarray) -> np.ndarray:
        centred = vectors - self.mean
        return centred / np.maximum(np.linalg.norm(centred, axis=-1, keepdims=True), 1e-6)

    def frames(self, path: Path, span: Span, mirror: bool = False) -> Frames:
        times, squares, keep = [], [], []
        side = self.encoder.input_side
        for t, frame in iter_frames(path, DENSE_RATE, span.start, span.end, short_side=360):
            times.append(t)
            keep.append(informative(frame))
            squares.append(
                cv2.resize(strip_borders(frame), (side, side), interpolation=cv2.INTER_AREA)
            )
        regions = self.centre(self.encoder.regions(squares, parts=REGIONS))  # whole first
        mirrored = None
        if mirror:
            flipped = [np.ascontiguousarray(s[:, ::-1]) for s in squares]
            mirrored = self.centre(self.encoder.regions(flipped, parts=False)[:, 0])
        return Frames(
            np.asarray(times), regions[:, 0], mirrored, np.asarray(keep, bool), regions[:, 1:]
        )


@dataclass(frozen=True)
class Archive:
    """The stored visual frames of every indexed video: file of each, time, centred descriptor,
    and whether the picture is common (recurs in many files)."""

    file_ids: np.ndarray
    times: np.ndarray
    vectors: np.ndarray
    common: np.ndarray  # (n,) bool
    mean: np.ndarray
    common_shots: dict[int, list[Span]]  # file id -> its shots that show a common picture

    @classmethod
    def load(cls, catalog: Catalog) -> Archive:
        file_ids, times, vectors = [], [], []
        for row in catalog.files("indexed"):
            clips = [c.id for c in catalog.file_clips(row.id)]
            if not clips:
                continue
            t, v, _ = catalog.visual_frames(clips)
            if len(t):
                file_ids.append(np.full(len(t), row.id))
                times.append(t)
                vectors.append(v)
        if not vectors:
            raise IndexDirError(
                "the index holds no visual frames: index videos with a profile that has a "
                "visual section (e.g. --profile offline)"
            )
        return cls.from_frames(
            np.concatenate(file_ids), np.concatenate(times), np.concatenate(vectors),
            catalog.shots,
        )

    @classmethod
    def from_frames(
        cls,
        file_ids: np.ndarray,
        times: np.ndarray,
        raw: np.ndarray,
        shots: Callable[[int], Sequence[Span]],
    ) -> Archive:
        """The archive of stored frames (file id, time, raw descriptor); ``shots`` gives a
        file's shots (``Catalog.shots``). Only the CNN's part of a descriptor is compared:
        footage is reused recoloured, and picture-in-picture changes a frame's colours."""
        raw = cnn_part(raw)
        mean = raw.mean(axis=0)
        centred = raw - mean
        centred /= np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-6)
        common = _common(file_ids, centred)
        common_shots: dict[int, list[Span]] = {}
        for file_id, t in zip(file_ids[common], times[common], strict=True):
            common_shots.setdefault(int(file_id), []).extend(
                s for s in shots(int(file_id)) if s.contains(t)
            )
        return cls(file_ids, times, centred, common, mean, common_shots)

    @property
    def common_vectors(self) -> np.ndarray:
        return self.vectors[self.common]

    def widespread(self, sims: np.ndarray) -> np.ndarray:
        """Which of some frames (rows of ``sims``, their centred cosines with every stored
        frame) look like pictures of many files (``_in_many_files`` at ``WIDESPREAD``)."""
        column = np.unique(self.file_ids, return_inverse=True)[1]
        return _in_many_files(sims >= WIDESPREAD, column)


def _common(file_ids: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Which stored frames show a picture found in many files (``_in_many_files``). Frames x
    frames in blocks: quadratic in the archive, about 9,000 frames for 10 h of footage (see
    README for larger archives)."""
    column = np.unique(file_ids, return_inverse=True)[1]
    common = np.zeros(len(vectors), bool)
    for start in range(0, len(vectors), 1024):
        close = vectors[start : start + 1024] @ vectors.T >= COMMON  # (b, n)
        common[start : start + 1024] = _in_many_files(close, column)
    return common


def _in_many_files(close: np.ndarray, column: np.ndarray) -> np.ndarray:
    """(b,) whether each row of ``close`` ((b, n) bool over the stored frames; ``column``:
    0, 1, ... the file of each) touches at least ``MIN_COMMON_FILES`` files and
    ``COMMON_FRACTION`` of them: a picture's document frequency, as IDF weighs a word."""
    files = int(column.max()) + 1 if len(column) else 0
    needed = max(MIN_COMMON_FILES, int(np.ceil(COMMON_FRACTION * files)))
    per_file = np.zeros((close.shape[0], files), bool)
    rows, cols = np.nonzero(close)
    per_file[rows, column[cols]] = True
    return per_file.sum(axis=1) >= needed


def _usable(frames: Frames, common: np.ndarray, vectors: np.ndarray | None = None) -> np.ndarray:
    """Informative frames that show no common picture."""
    vectors = frames.vectors if vectors is None else vectors
    if len(common) == 0 or len(vectors) == 0:
        return frames.informative
    return frames.informative & ((vectors @ common.T).max(axis=1) < COMMON)


def similarity(
    query: Frames, target: Frames, common: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(m, n) centred cosine of query and target frames, the better of the query frame and
    its mirror image; NaN where either frame cannot be matched. And (m, n) which square gave
    it when one matched better than the whole frame (``REGIONS``): the target's square i as
    i, the query's as r + i; -1 for the whole frame."""
    sims = query.vectors @ target.vectors.T
    if query.mirrored is not None:
        sims = np.maximum(sims, query.mirrored @ target.vectors.T)
    where = np.full(sims.shape, -1)
    squares = target.parts.shape[1]
    for parts, shift in (
        (np.einsum("md,nrd->mnr", query.vectors, target.parts), 0),  # query inside the target
        (np.einsum("mrd,nd->mnr", query.parts, target.vectors), squares),  # target inside query
    ):
        if parts.shape[2]:
            better = parts.max(2) > sims
            sims = np.where(better, parts.max(2), sims)
            where = np.where(better, parts.argmax(2) + shift, where)
    sims[~_usable(query, common)] = np.nan
    sims[:, ~_usable(target, common)] = np.nan
    return sims, where


def _one_place(squares: np.ndarray) -> bool:
    """Whether a run's matching squares keep to one place: at least ``REGION_AGREEMENT`` of
    them within a square's step of one of them, on the same side (query or target). Footage
    inset in a picture stays where it was put; chance look-alikes wander."""
    side = int(np.sqrt(REGION_COUNT))
    flank, cell = np.divmod(squares, REGION_COUNT)
    row, col = np.divmod(cell, side)
    near = (
        (flank[:, None] == flank[None, :])
        & (np.abs(row[:, None] - row[None, :]) <= 1)
        & (np.abs(col[:, None] - col[None, :]) <= 1)
    )
    return near.sum(axis=1).max() >= REGION_AGREEMENT * len(squares)


@dataclass(frozen=True)
class Run:
    """Matching frames along one diagonal: query frames first..last, target = query + offset."""

    first: int
    last: int
    offset: int
    matches: int
    score: float


def align(sims: np.ndarray, min_frames: int, where: np.ndarray | None = None) -> list[Run]:
    """Runs of matching frames in order: along each diagonal of ``sims`` (a frame's slack
    either side), matches no further apart than ``MAX_GAP_SECONDS``, at least
    ``MIN_MATCHES`` of them spanning at least ``min_frames``, ``ON_DIAGONAL`` of them on the
    diagonal itself (no slack: the footage in order). A run most of whose matches
    came from squares (``where``, from ``similarity``) must keep to one place
    (``_one_place``). Runs that pair overlapping query and target stretches are one copy at
    different lags (a slow pan matches itself a second later): the one whose frames match
    best on their exact diagonal is kept."""
    m, n = sims.shape
    if m == 0 or n == 0:
        return []
    filled = np.where(np.isnan(sims), -1.0, sims)
    slack = filled.copy()
    given = np.full(sims.shape, -1) if where is None else where
    square = given.copy()  # which square gave each slack value (-1: the whole frame)
    for into, source in ((np.s_[:, 1:], np.s_[:, :-1]), (np.s_[:, :-1], np.s_[:, 1:])):
        better = filled[source] > slack[into]
        slack[into] = np.where(better, filled[source], slack[into])
        square[into] = np.where(better, given[source], square[into])
    max_gap = round(MAX_GAP_SECONDS * DENSE_RATE)
    runs: list[Run] = []
    for offset in range(-(m - 1), n):
        rows = np.arange(max(0, -offset), min(m, n - offset))
        values = slack[rows, rows + offset]
        hits = np.flatnonzero(values >= MATCH)
        if len(hits) == 0:
            continue
        exact = filled[rows, rows + offset]
        breaks = np.flatnonzero(np.diff(hits) > max_gap + 1)
        for group in np.split(hits, breaks + 1):
            first, last = rows[group[0]], rows[group[-1]]
            squares = square[rows[group], rows[group] + offset]
            squares = squares[squares >= 0]
            if 2 * len(squares) > len(group) and not _one_place(squares):
                continue
            on_diagonal = int((exact[group] >= MATCH).sum())
            if (
                len(group) >= MIN_MATCHES
                and on_diagonal >= ON_DIAGONAL
                and last - first + 1 >= min_frames
            ):
                runs.append(Run(first, last, offset, len(group), float(exact[group].mean())))
    runs.sort(key=lambda r: (r.matches, r.score), reverse=True)
    kept: list[Run] = []
    for run in runs:
        query = Span(run.first, run.last + 1)
        target = Span(run.first + run.offset, run.last + run.offset + 1)
        if not any(
            query.overlaps(Span(k.first, k.last + 1))
            and target.overlaps(Span(k.first + k.offset, k.last + k.offset + 1))
            for k in kept
        ):
            kept.append(run)
    return kept


class CopyFinder:
    """Finds reused footage in one index: ``find`` for a query video, ``all_pairs`` for
    every pair of indexed files that share footage."""

    def __init__(self, catalog: Catalog, encoder, margin: float = 4.0):
        self.catalog = catalog
        self.archive = Archive.load(catalog)
        self.describer = Describer(encoder, self.archive.mean)
        self.margin = margin
        self._paths = {row.id: row for row in catalog.files("indexed")}

    def find(
        self, video: Path, start: float = 0.0, end: float | None = None, min_seconds: float = 2.0
    ) -> list[Copy]:
        """Every stretch of the archive that shows [start, end) of ``video``, best first."""
        query = self.describer.frames(video, Span(start, end if end is not None else 1e9), True)
        sims = np.maximum(
            query.vectors @ self.archive.vectors.T, query.mirrored @ self.archive.vectors.T
        )
        query = replace(query, informative=query.informative & ~self.archive.widespread(sims))
        usable = _usable(query, self.archive.common_vectors)
        if not usable.any():
            log.info("the query has no frame with enough picture to match")
            return []
        length = query.times[-1] - query.times[0] + 1 / DENSE_RATE
        close = (sims[usable].max(axis=0) >= CANDIDATE) & ~self.archive.common
        windows = merge(
            Span(max(t - length - self.margin, 0.0), t + length + self.margin, int(f))
            for f, t in zip(self.archive.file_ids[close], self.archive.times[close], strict=True)
        )
        min_frames = _min_frames(min(min_seconds, length))
        found = [
            copy
            for window in windows
            for copy in self._copies(query, window, min_frames, str(video))
        ]
        return sorted(found, key=lambda c: c.score, reverse=True)

    def all_pairs(self, min_seconds: float = 2.0) -> list[Copy]:
        """Every stretch shared by two indexed files (each pair once: the file with the lower
        id as the query), best first."""
        pairs = shared_frames(self.archive)
        found = []
        span = 2 * self.margin
        described: dict[Span, Frames] = {}  # a window of file a meets many files b ...
        current = None
        for (file_a, file_b), times_ab in sorted(pairs.items()):
            if file_a != current:  # ... and is kept while a is the query (squares take memory)
                current, described = file_a, {}
            row_a = self._paths[file_a]
            for window in merge(Span(max(ta - span, 0.0), ta + span) for ta, _ in times_ab):
                if window not in described:
                    described[window] = self._without_common(
                        self.describer.frames(Path(row_a.path), window, mirror=True), file_a
                    )
                query = described[window]
                near = [tb for ta, tb in times_ab if window.contains(ta)]
                targets = merge(
                    Span(max(tb - 2 * span, 0.0), tb + 2 * span, file_b) for tb in near
                )
                for target in targets:
                    found += self._copies(query, target, _min_frames(min_seconds), row_a.path)
        return sorted(found, key=lambda c: c.score, reverse=True)

    def _without_common(self, frames: Frames, file_id: int) -> Frames:
        """The frames of an indexed file, those in its shots that show a common picture
        marked as not to be matched."""
        shared = self.archive.common_shots.get(file_id, [])
        in_common = np.array([any(s.contains(t) for s in shared) for t in frames.times], bool)
        return replace(frames, informative=frames.informative & ~in_common)

    def _copies(self, query: Frames, window: Span, min_frames: int, query_path: str) -> list[Copy]:
        row = self._paths[window.file_id]
        target = self._without_common(self.describer.frames(Path(row.path), window), row.id)
        sims, where = similarity(query, target, self.archive.common_vectors)
        clips = self.catalog.file_clips(row.id)
        step = 1 / DENSE_RATE
        copies = []
        for run in align(sims, min_frames, where):
            start = float(target.times[run.first + run.offset])
            end = float(target.times[run.last + run.offset]) + step
            middle = (start + end) / 2
            clip = next((c.id for c in clips if c.contains(middle)), None)
            copies.append(
                Copy(
                    row.path, start, end,
                    float(query.times[run.first]), float(query.times[run.last]) + step,
                    run.score, clip, row.id, query_path,
                )
            )
        return copies


def shared_frames(archive: Archive) -> dict[tuple[int, int], list[tuple[float, float]]]:
    """Pairs of files (lower id first) with the times of their stored frames that look alike
    (centred cosine >= ``CANDIDATE``; common pictures left out). Every stored frame against
    every other, in blocks: time quadratic in the archive, memory linear (benchmarks/reuse.py
    ``--all-cost``; README "Reused footage" for archives of thousands of hours)."""
    keep = ~archive.common
    ids, times, vectors = archive.file_ids[keep], archive.times[keep], archive.vectors[keep]
    pairs: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for start in range(0, len(vectors), 1024):
        close = vectors[start : start + 1024] @ vectors.T >= CANDIDATE
        for a, b in zip(*np.nonzero(close), strict=True):
            a += start
            if ids[a] < ids[b]:
                pairs.setdefault((int(ids[a]), int(ids[b])), []).append((times[a], times[b]))
    return pairs


def _min_frames(seconds: float) -> int:
    return max(MIN_MATCHES, round(seconds * DENSE_RATE) - 1)


CSV_FIELDS: Sequence[str] = (
    "query_path", "query_start", "query_end", "path", "start", "end", "score", "clip_id",
    "file_id",
)
