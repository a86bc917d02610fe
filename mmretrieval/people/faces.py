"""Who is on screen when: faces on sampled frames -> tracks -> one face per clip.

A face is followed from one sampled frame to the next while its box overlaps and its
descriptor agrees, or, within one shot, while its box stays in place (descriptors are the
costly part, and a face that has not moved between two frames of one shot is the same face);
a track's descriptor is the mean of its sharpest frames' (news faces are small and often
blurred), and a clip's face is its most prominent track over the clip (longest on screen, then
largest).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from mmretrieval.adapters.face import Face
from mmretrieval.config import FaceConfig
from mmretrieval.embed import mean_direction
from mmretrieval.spans import HasTime, Timed

IOU_LINK = 0.2  # boxes of one face in consecutive sampled frames overlap at least this much
IOU_STILL = 0.5  # ... and this much, within one shot: the same face without descriptors


@dataclass(eq=False)
class FaceTrack(Timed):
    """One face followed over sampled frames: when it was seen, each sighting, and its
    descriptor (the mean of its sharpest sightings'; set when the track is complete)."""

    start: float
    end: float
    sightings: list[tuple[float, Face]] = field(default_factory=list)
    vector: np.ndarray | None = None

    def best_time(self, window: HasTime | None = None) -> float | None:
        """When the face was seen sharpest (in ``window``: None when not seen there)."""
        seen = [s for s in self.sightings if window is None or window.start <= s[0] < window.end]
        return max(seen, key=lambda s: s[1].sharpness)[0] if seen else None

    def size(self) -> float:
        return float(np.mean([face.area for _, face in self.sightings]))


def search_frames(
    frames: Iterable[tuple[float, np.ndarray]],
    detect: Callable[[np.ndarray, Sequence[Face], bool], list[Face]],
    config: FaceConfig,
    cuts: Sequence[float] | None = None,
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
    of the faces stage).

    With the shot ``cuts`` (sorted times; None: not known), a full search due while faces are
    in sight in the same shot as the last full search gives way to a coarse one, up to
    ``small_every_in_shot`` frames after it: a studio or interview shot would otherwise pay for
    the upsampled pass again and again, where a small face rarely joins the one in sight (faces
    of ~70 px and up are still looked for every ``every``-th frame). With no face in sight the
    full searches stay: the shot detector can miss a cut to a picture that differs only by a
    small face."""
    every, small_every = config.every, config.small_every
    held: list[tuple[float, np.ndarray, list[Face] | None]] = []  # since the last full search
    last: list[Face] = []  # the faces of the last frame searched
    last_full: tuple[int, float] | None = None  # (position, time) of the last full search
    for n, (time, frame) in enumerate(frames):
        full = n % small_every == 0
        if full and last and last_full is not None and same_shot(cuts, last_full[1], time):
            full = n - last_full[0] >= config.small_every_in_shot
        coarse = not full and (n % every == 0 or n % small_every == 0)
        if not (full or coarse or last):
            held.append((time, frame, None))  # not searched (yet)
            continue
        faces = detect(frame, () if full else last, coarse)
        new = [f for f in faces if not any(_iou(f.box, o.box) >= IOU_LINK for o in last)]
        if new:
            held = [(t, f, _merge(found, detect(f, new, False))) for t, f, found in held]
        last = faces
        if full:
            last_full = (n, time)
            yield from ((t, found) for t, _, found in held if found is not None)
            held = []
            yield time, faces
        else:
            held.append((time, frame, faces))
    yield from ((t, found) for t, _, found in held if found is not None)


def same_shot(cuts: Sequence[float] | None, earlier: float, later: float) -> bool:
    """Whether no cut of the sorted ``cuts`` (None: not known) falls in (earlier, later]."""
    if cuts is None:
        return False
    return bisect.bisect_right(cuts, earlier) == bisect.bisect_right(cuts, later)


def _merge(found: list[Face] | None, more: list[Face]) -> list[Face] | None:
    """``found`` (None: the frame was not searched) with the faces of ``more`` not already in it."""
    if found is None:
        return more
    return found + [f for f in more if not any(_iou(f.box, o.box) >= IOU_LINK for o in found)]


class FaceTracker:
    """Links the faces of consecutive sampled frames into tracks as they come (``add``; greedy,
    best match first): by their boxes alone within one shot of the sorted ``cuts`` (None: not
    known) where a box has barely moved, else by their descriptors too. ``finish`` gives each
    track's descriptor. A sighting that is neither its track's last nor among its ``sharpest``
    drops its chip as it goes (no later step needs its descriptor), so an hour of faces in
    sight holds a few chips, not thousands."""

    def __init__(self, config: FaceConfig, cuts: Sequence[float] | None = None):
        self.config = config
        self.cuts = cuts
        self.tracks: list[FaceTrack] = []
        self._open: list[FaceTrack] = []
        self._chips: dict[FaceTrack, list[int]] = {}  # sightings still holding chips, per track

    def add(self, time: float, faces: Sequence[Face]) -> None:
        step = 1.0 / self.config.frame_rate
        self._open = [t for t in self._open if time - t.end <= 1.5 * step]
        pairs = []
        for n, face in enumerate(faces):
            for m, track in enumerate(self._open):
                seen, last = track.sightings[-1]
                overlap = _iou(face.box, last.box)
                if overlap >= IOU_STILL and same_shot(self.cuts, seen, time):
                    pairs.append((1.0 + overlap, n, m))  # before any link by descriptor
                elif overlap >= IOU_LINK:
                    pairs.append((float(face.vector @ last.vector), n, m))
        taken_faces, taken_tracks = set(), set()
        for similarity, n, m in sorted(pairs, reverse=True):
            if similarity < self.config.same_face or n in taken_faces or m in taken_tracks:
                continue
            taken_faces.add(n)
            taken_tracks.add(m)
            track = self._open[m]
            track.sightings.append((time, faces[n]))
            track.end = time + step
            self._chips.setdefault(track, [0]).append(len(track.sightings) - 1)
            self._release_chips(track)
        for n, face in enumerate(faces):
            if n not in taken_faces:
                track = FaceTrack(time, time + step, [(time, face)])
                self.tracks.append(track)
                self._open.append(track)

    def _release_chips(self, track: FaceTrack) -> None:
        """Only the track's last sighting and its ``sharpest`` sharpest so far keep their chips:
        a sighting out of them never gets back in (sharpness is fixed; as sharp ones come first
        by time, as in ``finish``'s stable sort)."""
        holding = self._chips[track]
        last = len(track.sightings) - 1
        ranked = sorted(holding, key=lambda i: (-track.sightings[i][1].sharpness, i))
        keep = {*ranked[: self.config.sharpest], last}
        for i in set(holding) - keep:
            seen, face = track.sightings[i]
            track.sightings[i] = (seen, face.without_chip())
        self._chips[track] = sorted(keep)

    def finish(self) -> list[FaceTrack]:
        for track in self.tracks:
            best = sorted(track.sightings, key=lambda s: s[1].sharpness, reverse=True)
            sharpest = [face.vector for _, face in best[: self.config.sharpest]]
            track.vector = mean_direction(np.stack(sharpest))
        return self.tracks


def clip_faces(tracks: Sequence[FaceTrack], windows: Sequence[HasTime]) -> list[FaceTrack | None]:
    """Per window: its most prominent track with a descriptor; None without one."""
    chosen: list[FaceTrack | None] = []
    for window in windows:
        inside = [t for t in tracks if t.overlap(window) > 0]
        main = max(inside, key=lambda t: (round(t.overlap(window), 3), t.size()), default=None)
        chosen.append(None if main is None or main.vector is None else main)
    return chosen


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = w * h
    return inter / float(aw * ah + bw * bh - inter) if inter else 0.0
