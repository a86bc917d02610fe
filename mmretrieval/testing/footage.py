"""Edited footage for reuse tests and benchmarks: shots with real structure (panned photographs,
drawn scenes), what broadcast does to a reused shot, and what all programmes share (black,
colour bars, the station's intro). Frames are RGB uint8 arrays at ``FPS``; ``write`` encodes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from mmretrieval.testing.photos import PHOTOS, pan_frame, photo

FPS = 10
SIZE = (320, 180)


def photo_shot(name: str, seconds: float, region: int = 0, size=SIZE) -> list[np.ndarray]:
    """A pan across one of three overlapping bands, two thirds high, of a photograph (region
    0-2, from the top down). A photograph barely wider than the frame is hardly panned."""
    image = photo(name)
    rows = image.shape[0]
    band = image[region * rows // 6 : region * rows // 6 + 2 * rows // 3]
    n = round(seconds * FPS)
    return [pan_frame(band, i / max(n - 1, 1), size) for i in range(n)]


def drawn_shot(seed: int, seconds: float, size=SIZE) -> list[np.ndarray]:
    """A drawn scene (random shapes and a caption on a gradient) that the camera slowly
    pans across."""
    rng = np.random.default_rng(seed)
    width, height = size[0] * 2, size[1]
    ramp = np.linspace(0, 1, width)[None, :, None]
    a, b = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    canvas = np.ascontiguousarray(
        np.broadcast_to(a * (1 - ramp) + b * ramp, (height, width, 3)).astype(np.uint8)
    )
    for _ in range(14):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        r = int(rng.integers(8, 50))
        if rng.random() < 0.5:
            cv2.circle(canvas, (x, y), r, colour, -1)
        else:
            cv2.rectangle(canvas, (x, y), (x + r, y + int(rng.integers(8, 60))), colour, -1)
    words = "".join(chr(c) for c in rng.integers(65, 91, 8))
    cv2.putText(canvas, words, (20, height - 30), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255,) * 3, 3)
    n = round(seconds * FPS)
    return [
        np.ascontiguousarray(canvas[:, i * size[0] // max(n, 1) :][:, : size[0]])
        for i in range(n)
    ]


def shot(key: int, seconds: float) -> list[np.ndarray]:
    """Shot number ``key``: the photographs' bands first, then drawn scenes."""
    names = [n for n in PHOTOS]
    if key < 3 * len(names):
        return photo_shot(names[key % len(names)], seconds, key // len(names))
    return drawn_shot(key, seconds)


def flat(seconds: float, level: int = 0) -> list[np.ndarray]:
    return [np.full((SIZE[1], SIZE[0], 3), level, np.uint8)] * round(seconds * FPS)


def colour_bars(seconds: float) -> list[np.ndarray]:
    colours = [(192, 192, 192), (192, 192, 0), (0, 192, 192), (0, 192, 0), (192, 0, 192),
               (192, 0, 0), (0, 0, 192)]
    bars = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    for i, colour in enumerate(colours):
        bars[:, i * SIZE[0] // 7 : (i + 1) * SIZE[0] // 7] = colour
    return [bars] * round(seconds * FPS)


def intro(seconds: float = 3.0) -> list[np.ndarray]:
    """The station's intro: the same drawn scene opening every programme."""
    return drawn_shot(10_000, seconds)


def _resize(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)


def letterbox(frame: np.ndarray) -> np.ndarray:
    """Scaled to 3/4 of the width, pillarboxed in black."""
    h, w = frame.shape[:2]
    small = _resize(frame, w * 3 // 4, h)
    out = np.zeros_like(frame)
    out[:, w // 8 : w // 8 + small.shape[1]] = small
    return out


def picture_in_picture(frame: np.ndarray, background: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    out = background.copy()
    out[h // 8 : h // 8 + h // 2, w // 2 - 8 : w // 2 - 8 + w // 2] = _resize(frame, w // 2, h // 2)
    return out


def crop(frame: np.ndarray, share: float = 0.2) -> np.ndarray:
    h, w = frame.shape[:2]
    dy, dx = int(h * share / 2), int(w * share / 2)
    return _resize(frame[dy : h - dy, dx : w - dx], w, h)


def colour(frame: np.ndarray) -> np.ndarray:
    shifted = frame.astype(np.float32) * np.array([1.25, 1.1, 0.8]) + 20
    return np.clip(shifted, 0, 255).astype(np.uint8)


def overlay(frame: np.ndarray) -> np.ndarray:
    """A station logo top right and a news ticker along the bottom."""
    h, w = frame.shape[:2]
    out = frame.copy()
    cv2.rectangle(out, (w - 60, 8), (w - 10, 40), (230, 30, 30), -1)
    cv2.putText(out, "TV9", (w - 56, 32), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255,) * 3, 2)
    cv2.rectangle(out, (0, h - 30), (w, h), (20, 20, 120), -1)
    cv2.putText(out, "BREAKING: markets", (8, h - 9), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255,) * 3, 1)
    return out


def blur_noise(frame: np.ndarray, seed: int = 0) -> np.ndarray:
    blurred = cv2.GaussianBlur(frame, (5, 5), 1.5).astype(np.float32)
    noise = np.random.default_rng(seed).normal(0, 10, frame.shape)
    return np.clip(blurred + noise, 0, 255).astype(np.uint8)


def mirror(frame: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(frame[:, ::-1])


# name -> what it does to each frame of a reused shot (picture-in-picture takes a background);
# "reencode" changes no pixel here: the whole file is written at a low bitrate instead.
TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "reencode": lambda f: f,
    "letterbox": letterbox,
    "pip": lambda f: picture_in_picture(f, drawn_shot(20_000, 0.1)[0]),
    "crop": crop,
    "mirror": mirror,
    "colour": colour,
    "overlay": overlay,
    "blur_noise": blur_noise,
}


def write(path: Path, frames: Sequence[np.ndarray], bitrate: int | None = None) -> None:
    """Encode frames at ``FPS`` (H.264 where available); ``bitrate`` in bits/s, e.g. 150_000
    for a low-bitrate re-encode."""
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=FPS)
        stream.width, stream.height, stream.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        if bitrate is not None:
            stream.bit_rate = bitrate
        for index, frame in enumerate(frames):
            video = av.VideoFrame.from_ndarray(frame, format="rgb24")
            video.pts, video.time_base = index, Fraction(1, FPS)
            container.mux(stream.encode(video))
        container.mux(stream.encode(None))
