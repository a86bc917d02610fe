"""Who is on screen when: faces on sampled frames -> tracks -> one face per clip.

A face is followed from one sampled frame to the next while its box overlaps and its
descriptor agrees; a track's descriptor is the mean of its sharpest frames' (news faces are
small and often blurred), and a clip's face is its most prominent track over the clip (longest
on screen, then largest).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from mmretrieval.adapters.face import Face
from mmretrieval.config import FaceConfig
from mmretrieval.embed import mean_direction
from mmretrieval.spans import HasTime, Timed

IOU_LINK = 0.2  # boxes of one face in consecutive sampled frames overlap at least this much


@dataclass(eq=False)
class FaceTrack(Timed):
    """One face followed over sampled frames: when it was seen, and each sighting."""

    start: float
    end: float
    sightings: list[tuple[float, Face]] = field(default_factory=list)

    def descriptor(self, sharpest: int) -> np.ndarray | None:
        """Mean descriptor of the ``sharpest`` sharpest sightings."""
        best = sorted(self.sightings, key=lambda s: s[1].sharpness, reverse=True)[:sharpest]
        return mean_direction(np.stack([face.vector for _, face in best]))

    def best_time(self) -> float:
        """When the face was seen sharpest."""
        return max(self.sightings, key=lambda s: s[1].sharpness)[0]

    def within(self, window: HasTime) -> FaceTrack | None:
        """The part of the track seen in ``window`` (None: not seen there)."""
        seen = [(t, face) for t, face in self.sightings if window.start <= t < window.end]
        if not seen:
            return None
        return FaceTrack(seen[0][0], min(self.end, window.end), seen)

    def size(self) -> float:
        return float(np.mean([face.area for _, face in self.sightings]))


def search_frames(
    frames: Iterable[tuple[float, np.ndarray]],
    detect: Callable[[np.ndarray, Sequence[Face], bool], list[Face]],
    every: int,
    small_every: int,
) -> Iterator[tuple[float, list[Face]]]:
    """(time, faces) of the sampled frames searched, in time order.

    Every ``small_every``-th frame is searched whole for faces of every size (``detect(frame,
    (), False)``); every ``every``-th between them whole for large faces only and near the faces
    in sight (``detect(frame, near, True)``: the detector's upsampled pass, which alone finds
    faces under ~70 px, is two-thirds of its cost); the frames between those only while faces
    are in sight, and then only near them (``detect(frame, near, False)``). When a search finds
    a face that was not in sight, the frames since the last full search are searched near it
    too, so its track starts at its first frame. So a face on screen for ``every`` sampled frames
    (``small_every`` for one under ~70 px) is always found and tracked from its first frame, and
    footage without people costs a fraction of searching every frame whole (the detector is most
    of the faces stage)."""
    held: list[tuple[float, np.ndarray, list[Face] | None]] = []  # since the last full search
    last: list[Face] = []  # the faces of the last frame searched
    for n, (time, frame) in enumerate(frames):
        full = n % small_every == 0
        coarse = not full and n % every == 0
        if not (full or coarse or last):
            held.append((time, frame, None))  # not searched (yet)
            continue
        faces = detect(frame, () if full else last, coarse)
        new = [f for f in faces if not any(_iou(f.box, o.box) >= IOU_LINK for o in last)]
        if new:
            held = [(t, f, _merge(found, detect(f, new, False))) for t, f, found in held]
        last = faces
        if full:
            yield from ((t, found) for t, _, found in held if found is not None)
            held = []
            yield time, faces
        else:
            held.append((time, frame, faces))
    yield from ((t, found) for t, _, found in held if found is not None)


def _merge(found: list[Face] | None, more: list[Face]) -> list[Face] | None:
    """``found`` (None: the frame was not searched) with the faces of ``more`` not already in it."""
    if found is None:
        return more
    return found + [f for f in more if not any(_iou(f.box, o.box) >= IOU_LINK for o in found)]


def track_faces(
    frames: Iterable[tuple[float, list[Face]]], config: FaceConfig
) -> list[FaceTrack]:
    """Link the faces of consecutive sampled frames into tracks (greedy, best match first)."""
    step = 1.0 / config.frame_rate
    tracks: list[FaceTrack] = []
    open_tracks: list[FaceTrack] = []
    for time, faces in frames:
        open_tracks = [t for t in open_tracks if time - t.end <= 1.5 * step]
        pairs = sorted(
            (
                (float(face.vector @ track.sightings[-1][1].vector), n, m)
                for n, face in enumerate(faces)
                for m, track in enumerate(open_tracks)
                if _iou(face.box, track.sightings[-1][1].box) >= IOU_LINK
            ),
            reverse=True,
        )
        taken_faces, taken_tracks = set(), set()
        for similarity, n, m in pairs:
            if similarity < config.same_face or n in taken_faces or m in taken_tracks:
                continue
            taken_faces.add(n)
            taken_tracks.add(m)
            track = open_tracks[m]
            track.sightings.append((time, faces[n]))
            track.end = time + step
        for n, face in enumerate(faces):
            if n not in taken_faces:
                track = FaceTrack(time, time + step, [(time, face)])
                tracks.append(track)
                open_tracks.append(track)
    return tracks


def clip_faces(
    tracks: Sequence[FaceTrack], windows: Sequence[HasTime], sharpest: int
) -> list[tuple[FaceTrack, np.ndarray] | None]:
    """Per window: its most prominent track and that track's descriptor; None without faces."""
    chosen: list[tuple[FaceTrack, np.ndarray] | None] = []
    for window in windows:
        inside = [t for t in tracks if t.overlap(window) > 0]
        if not inside:
            chosen.append(None)
            continue
        main = max(inside, key=lambda t: (round(t.overlap(window), 3), t.size()))
        vector = main.descriptor(sharpest)
        chosen.append(None if vector is None else (main, vector))
    return chosen


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = w * h
    return inter / float(aw * ah + bw * bh - inter) if inter else 0.0
