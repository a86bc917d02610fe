"""Decoding with PyAV: frames sampled at a rate (seeking over what is skipped), mono audio."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from mmretrieval.errors import MediaError
from mmretrieval.media.probe import open_container

# Seek instead of decoding forward when a keyframe lies between the last decoded frame and the
# next wanted one (decoding from that keyframe is never more work than decoding through), or,
# where the file gives no keyframe times, when the next wanted frame is further than this.
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
        keys = _keyframe_times(path)
        stream.thread_type = "AUTO"
        size = _scaled_size(stream.codec_context.width, stream.codec_context.height, max_side)
        half_frame = 0.5 / float(stream.average_rate or 25)
        # How far before a wanted time seeks aim: grows when a seek lands after the wanted frame
        # (MPEG-TS seeks are inexact) and then holds for the rest of the file.
        slack = 0.0
        sought, check = None, False
        if start > SEEK_GAP_SECONDS or _keyframe_between(keys, 0.0, start):
            _seek(container, stream, start + origin)
            sought, check = start, True
        while True:
            restart = False
            for frame in _decode(container, stream):
                t = None if frame.time is None else frame.time - origin
                if check and t is not None:
                    check = False
                    if t > sought + half_frame and sought - slack > 0:
                        slack = max(2 * slack, SEEK_GAP_SECONDS)
                        _seek(container, stream, max(sought - slack, 0.0) + origin)
                        check = restart = True
                        break
                if t is None or t < wanted - half_frame:
                    if (
                        t is not None
                        and sought != wanted
                        and (
                            wanted - t > SEEK_GAP_SECONDS + slack
                            or _keyframe_between(keys, t, wanted - slack)
                        )
                    ):
                        _seek(container, stream, wanted - slack + origin)
                        sought, check, restart = wanted, True, True
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


def _keyframe_times(path: Path) -> list[float]:
    """Sorted keyframe times on the file's timeline, read from the packets without decoding
    (about 10 ms per minute of 720p H.264); empty when the packets cannot be read.

    A container of its own, so the one that decodes starts where it always did.
    """
    with open_container(path) as container:
        origin = _origin(container)
        try:
            return sorted(
                float(packet.pts * packet.time_base) - origin
                for packet in container.demux(container.streams.video[0])
                if packet.is_keyframe and packet.size and packet.pts is not None
            )
        except av.FFmpegError:
            return []


def _keyframe_between(keys: list[float], after: float, until: float) -> bool:
    """Whether a keyframe lies in (after, until], so that seeking to ``until`` skips decoding."""
    i = bisect.bisect_right(keys, after)
    return i < len(keys) and keys[i] <= until


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
