"""Still pictures of a moment in a file, for people to look at: a video frame, or for audio the
waveform of the span, as JPEG bytes (result cards in the web page, moderation reports)."""

from __future__ import annotations

import base64
import io
from contextlib import closing
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from mmretrieval.media.decode import iter_frames, load_audio
from mmretrieval.media.probe import probe

STILL_WIDTH = 320
WAVEFORM_SIZE = (320, 180)
WAVEFORM_RATE = 8000
JPEG_QUALITY = 82


def still_jpeg(path: Path, start: float, end: float, at: float | None = None) -> bytes:
    """The frame shown at ``at`` (default: the middle of [start, end)), or the waveform of
    [start, end) when the file has no pictures."""
    at = (start + end) / 2 if at is None else min(max(at, start), end)
    if probe(path).has_video:
        frames = iter_frames(path, rate=1.0, start=at, end=at + 1.0, max_side=STILL_WIDTH)
        with closing(frames):  # closes the container now, not when collected
            frame = next(frames, None)
        if frame is not None:
            return _jpeg(Image.fromarray(frame[1]))
    return _jpeg(_waveform(load_audio(path, WAVEFORM_RATE, start, end), marker=(at - start)))


def _waveform(samples: np.ndarray, marker: float) -> Image.Image:
    """Peak envelope of the samples, one column per pixel, with a line at ``marker`` seconds."""
    width, height = WAVEFORM_SIZE
    image = Image.new("RGB", WAVEFORM_SIZE, (24, 28, 36))
    draw = ImageDraw.Draw(image)
    middle = height / 2
    if len(samples):
        columns = np.array_split(np.abs(samples), width)
        peak = max(float(np.abs(samples).max()), 1e-6)
        for x, column in enumerate(columns):
            level = (float(column.max()) if len(column) else 0.0) / peak * (middle - 4)
            draw.line([(x, middle - level), (x, middle + level)], fill=(96, 178, 255))
        x = int(marker * WAVEFORM_RATE / max(len(samples), 1) * width)
        draw.line([(x, 0), (x, height)], fill=(255, 196, 64))
    else:
        draw.line([(0, middle), (width, middle)], fill=(96, 178, 255))
    return image


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def data_uri(jpeg: bytes) -> str:
    """JPEG bytes as a data: URI, for pages that carry their pictures with them."""
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
