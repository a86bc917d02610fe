"""Frames sampled at a rate with decord, an optional alternative to the PyAV decoder.

Same contract as :func:`mmretrieval.media.decode.iter_frames`: the same sample times (times on
the file's own timeline, the frame shown at each one), RGB uint8, scaled the same way. PyAV
opens the container first and reads the frame times from its packets without decoding, so
unreadable files fail with the same reasons and the times are exactly the ones PyAV gives;
decord then decodes only what the chosen frames need (from their keyframe on) and scales them.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from mmretrieval.errors import ConfigError, MediaError
from mmretrieval.media.decode import _origin, _scaled_size, iter_frames
from mmretrieval.media.probe import open_container

# Frames fetched per decord call: bounds memory (32 frames of 1280x720 RGB are 88 MB) while
# keeping the per-call overhead small.
BATCH = 16

# Containers where decord's frame numbers were checked against PyAV, frame for frame. In MPEG
# transport and program streams decord's seeks land on the wrong frames (about 2 s off in a
# remuxed .ts), so those files, and anything else not listed, are decoded with PyAV.
CHECKED_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi"})

log = logging.getLogger(__name__)


@functools.cache
def available() -> bool:
    """Whether decord imports on this machine (it is an optional dependency)."""
    try:
        import decord  # noqa: F401
    except Exception:  # noqa: BLE001 - a broken native install fails with OSError, not ImportError
        return False
    return True


def iter_frames_decord(
    path: Path,
    rate: float,
    start: float = 0.0,
    end: float | None = None,
    max_side: int | None = None,
) -> Iterator[tuple[float, np.ndarray]]:
    """Yield ``(time, RGB uint8 array)`` at ``rate`` frames per second of [start, end).

    The frame shown at each sample time is returned, scaled so its longest side is at most
    ``max_side``.
    """
    decord = _decord()
    path = Path(path)
    if path.suffix.lower() not in CHECKED_SUFFIXES:
        log.debug("%s: decord is not checked for %s files; decoding with PyAV", path, path.suffix)
        yield from iter_frames(path, rate, start, end, max_side)
        return
    with open_container(path) as container:
        if not container.streams.video:
            return
        origin = _origin(container)
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        half_frame = 0.5 / float(stream.average_rate or 25)
        # decord's own timestamps are float32 and count from the stream's start, not the
        # file's: read the exact times from the packets (no decoding), as iter_frames sees them.
        times = _packet_times(container, stream) - origin
    size = _scaled_size(width, height, max_side)
    scaled = size != (width, height)
    try:
        reader = decord.VideoReader(
            str(path),
            ctx=decord.cpu(0),
            width=size[0] if scaled else -1,
            height=size[1] if scaled else -1,
        )
        count = len(reader)
    except decord.DECORDError as exc:
        raise MediaError(
            f"decord cannot read the video stream (corrupt or truncated?): {exc}"
        ) from exc
    if count != len(times) or np.isnan(times).any():
        # decord numbers every packet of the stream in pts order; packets without a pts break
        # the match between its frame numbers and our times, so such files go through PyAV.
        log.info("%s: decord sees %d frames, PyAV %d; decoding with PyAV", path, count, len(times))
        yield from iter_frames(path, rate, start, end, max_side)
        return
    picks = _pick(times, 1.0 / rate, start, end, half_frame)
    for first in range(0, len(picks), BATCH):
        chunk = picks[first : first + BATCH]
        try:
            batch = reader.get_batch(chunk).asnumpy()
        except decord.DECORDError as exc:
            raise MediaError(f"decoding failed (corrupt or truncated data): {exc}") from exc
        for index, frame in zip(chunk, batch, strict=True):
            yield float(times[index]), frame


def _packet_times(container, stream) -> np.ndarray:
    """Presentation times (s) of the stream's packets in display order; NaN where none is set."""
    try:
        times = [
            np.nan if packet.pts is None else float(packet.pts * packet.time_base)
            for packet in container.demux(stream)
            if packet.size
        ]
    except av.FFmpegError as exc:
        raise MediaError(f"corrupt stream data: {exc}") from exc
    return np.sort(np.asarray(times, dtype=np.float64))


def _pick(
    times: np.ndarray, step: float, start: float, end: float | None, half_frame: float
) -> list[int]:
    """Indices into sorted ``times`` of the frames shown at start, start + step, ...

    The rule ``iter_frames`` applies while decoding: the first frame from half a frame before
    each wanted time on.
    """
    picks: list[int] = []
    wanted = start
    for index, t in enumerate(times.tolist()):
        if t < wanted - half_frame:
            continue
        if end is not None and t >= end:
            break
        picks.append(index)
        while wanted <= t + half_frame:
            wanted += step
    return picks


def _decord():
    if not available():
        raise ConfigError(
            "the decord frame decoder was asked for but decord is not installed or does not "
            "load: pip install decord, or use the PyAV decoder"
        )
    import decord

    return decord
