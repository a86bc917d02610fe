"""Decoding with PyAV: frames sampled at a rate (seeking over what is skipped), mono audio."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from mmretrieval.errors import MediaError
from mmretrieval.media.probe import open_container

# Seek instead of decoding forward when the next wanted frame is further away than this. Decoding
# runs at thousands of frames per second, so short gaps are cheaper to decode through.
SEEK_GAP_SECONDS = 4.0


def iter_frames(
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
    step = 1.0 / rate
    wanted = start
    with open_container(path) as container:
        if not container.streams.video:
            return
        origin = _origin(container)
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        size = _scaled_size(stream.codec_context.width, stream.codec_context.height, max_side)
        half_frame = 0.5 / float(stream.average_rate or 25)
        sought = None
        if start > SEEK_GAP_SECONDS:
            _seek(container, stream, start + origin)
            sought = start
        while True:
            restart = False
            for frame in _decode(container, stream):
                t = None if frame.time is None else frame.time - origin
                if t is None or t < wanted - half_frame:
                    if t is not None and wanted - t > SEEK_GAP_SECONDS and sought != wanted:
                        _seek(container, stream, wanted + origin)
                        sought = wanted
                        restart = True
                        break
                    continue
                if end is not None and t >= end:
                    return
                yield t, frame.to_ndarray(format="rgb24", width=size[0], height=size[1])
                while wanted <= t + half_frame:
                    wanted += step
            if not restart:
                return


def load_audio(
    path: Path, sample_rate: int = 16000, start: float = 0.0, end: float | None = None
) -> np.ndarray:
    """The first audio stream of [start, end) as mono float32 at ``sample_rate``."""
    with open_container(path) as container:
        if not container.streams.audio:
            return np.zeros(0, dtype=np.float32)
        origin = _origin(container)
        stream = container.streams.audio[0]
        if start > 0:
            _seek(container, stream, start + origin)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        chunks: list[np.ndarray] = []
        first_time: float | None = None
        for frame in _decode(container, stream):
            t = None if frame.time is None else frame.time - origin
            if first_time is None and t is not None:
                first_time = t
            if end is not None and t is not None and t >= end:
                break
            chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(frame))
        chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    audio = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    offset = max(0, round((start - (first_time or 0.0)) * sample_rate))
    stop = None if end is None else offset + round((end - start) * sample_rate)
    return np.ascontiguousarray(audio[offset:stop], dtype=np.float32)


def _decode(container, stream) -> Iterator[av.frame.Frame]:
    try:
        yield from container.decode(stream)
    except av.FFmpegError as exc:
        raise MediaError(f"decoding failed (corrupt or truncated data): {exc}") from exc


def _origin(container) -> float:
    """Where the file's timeline starts (encoder delay, transport streams): media time 0."""
    return (container.start_time or 0) / av.time_base


def _seek(container, stream, seconds: float) -> None:
    container.seek(int(seconds / stream.time_base), stream=stream, backward=True)


def _scaled_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    if not max_side or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)
