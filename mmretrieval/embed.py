"""Media -> vectors over time: sampled frames through CLIP, the sound through CLAP, and the
pooling of both (with the speech) into one hub vector per time window.

``MediaAnalyzer`` (analyze.py) uses this for every clip of a file and for a query video or
recording, so a query file and an indexed clip are described the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from mmretrieval.config import ClipConfig, HubConfig
from mmretrieval.media.change import picture_change, thumbnail
from mmretrieval.spans import HasTime


@dataclass(frozen=True)
class FrameVectors:
    """CLIP vectors of the distinct frames of a span, with the time each frame appeared."""

    times: np.ndarray  # (n,) seconds
    vectors: np.ndarray  # (n, dim) unit vectors

    def window(self, span: HasTime, max_frames: int) -> tuple[np.ndarray, np.ndarray]:
        """Frames on screen during [start, end) of ``span``: those that appeared in it, or else
        the one still showing from before (a skipped duplicate means the picture did not
        change)."""
        inside = window_positions(self.times, span, max_frames)
        return self.times[inside], self.vectors[inside]


def window_positions(times: np.ndarray, span: HasTime, max_frames: int) -> np.ndarray:
    """Positions of the frames on screen during ``span`` (``FrameVectors.window``), at most
    ``max_frames`` of them spread evenly."""
    inside = np.flatnonzero((times >= span.start) & (times < span.end))
    if len(inside) == 0:
        before = np.flatnonzero(times < span.start)
        inside = before[-1:] if len(before) else inside
    if len(inside) > max_frames:
        inside = inside[np.linspace(0, len(inside) - 1, max_frames).round().astype(int)]
    return inside


def distinct_frames(
    frames: Iterable[tuple[float, np.ndarray]], threshold: float
) -> Iterator[tuple[float, np.ndarray]]:
    """The frames whose picture differs from the last one kept by ``threshold`` or more (mean
    absolute grey change, 0-255): a repeated picture adds nothing to describe."""
    previous = None
    for t, frame in frames:
        thumb = thumbnail(frame)
        if previous is not None and picture_change(previous, thumb) < threshold:
            continue
        previous = thumb
        yield t, frame


def frame_vectors(
    frames: Iterable[tuple[float, np.ndarray]], encoder, config: ClipConfig
) -> FrameVectors:
    """Embed sampled frames, skipping any that repeat the last kept one, in batches."""
    times: list[float] = []
    chunks: list[np.ndarray] = []
    batch: list[np.ndarray] = []
    for t, frame in distinct_frames(frames, config.duplicate_threshold):
        times.append(t)
        batch.append(frame)
        if len(batch) == config.batch_size:
            chunks.append(encoder.embed_images(batch))
            batch = []
    if batch:
        chunks.append(encoder.embed_images(batch))
    vectors = np.concatenate(chunks) if chunks else np.zeros((0, encoder.dim), np.float32)
    return FrameVectors(np.asarray(times, dtype=np.float64), vectors)


def mean_direction(vectors: np.ndarray) -> np.ndarray | None:
    """The normalised mean of unit vectors (None for none, or ones that cancel out)."""
    if len(vectors) == 0:
        return None
    mean = vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / norm).astype(np.float32) if norm > 1e-6 else None


def audio_windows(
    audio: np.ndarray, sample_rate: int, windows: Sequence[HasTime], encoder
) -> list[np.ndarray | None]:
    """One CLAP vector per [start, end) window of a mono track at the encoder's sample rate
    (None where the window holds too little sound to embed)."""
    if sample_rate != encoder.sample_rate:
        raise ValueError(f"audio at {sample_rate} Hz, the encoder takes {encoder.sample_rate} Hz")
    shortest = round(encoder.min_seconds * sample_rate)
    pieces, positions = [], []
    for i, window in enumerate(windows):
        piece = audio[int(window.start * sample_rate) : int(window.end * sample_rate)]
        if len(piece) >= shortest:
            pieces.append(piece)
            positions.append(i)
    result: list[np.ndarray | None] = [None] * len(windows)
    if pieces:
        for i, vector in zip(positions, encoder.embed_audio(pieces), strict=True):
            result[i] = vector
    return result


def hub_vector(parts: dict[str, np.ndarray | None], config: HubConfig) -> np.ndarray | None:
    """Weighted mean direction of a window's hub-space parts (frames, bridged audio, speech)."""
    present = [(config.weights.get(name, 0.0), v) for name, v in parts.items() if v is not None]
    present = [(w, v) for w, v in present if w > 0]
    if not present:
        return None
    mixed = sum(w * v for w, v in present)
    norm = float(np.linalg.norm(mixed))
    return (mixed / norm).astype(np.float32) if norm > 1e-6 else None
