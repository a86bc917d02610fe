"""Decoding with PyAV: upright frames sampled at a rate (seeking over what is skipped), and
mono audio at the level the models were trained on.

Mono is the mean of the channels, for every layout (stereo, 5.1...), as the models' reference
front ends make it (LAION CLAP's ``librosa.load``, Whisper's ``ffmpeg -ac 1``). FFmpeg's own
downmix to mono (``AudioResampler(layout="mono")``) gives 0.7071 x (L + R) for stereo: 3 dB
louder than the mean, and a full-scale file peaks near 1.41, outside [-1, 1].

Frames come upright: phones record portrait video as landscape frames with a rotation in the
stream's display matrix, which is applied here (rotations only; a mirrored matrix is not
flipped back).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from pathlib import Path

import av
import numpy as np

from mmretrieval.devices import side_threads
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
    short_side: int | None = None,
) -> Iterator[tuple[float, np.ndarray]]:
    """Yield ``(time, RGB uint8 array)`` at ``rate`` frames per second of [start, end).

    The frame shown at each sample time is returned upright, scaled down so its longest side is
    at most ``max_side`` and its shortest side at most ``short_side`` (never up). A model that
    resizes the shortest side to its input size (CLIP) wants ``short_side``: a cap on the longest
    side would make a very wide frame's height smaller than the model's input, to be upscaled.
    """
    step = 1.0 / rate
    wanted = start
    with open_container(path) as container:
        if not container.streams.video:
            return
        origin = _origin(container)
        stream = container.streams.video[0]
        keys = _keyframe_times(path)
        # Frame threads decode ahead, so every seek throws their frames away: at 0.5 frame/s on
        # 2 cores one thread costs a third less CPU. Ingest decodes beside speech recognition.
        stream.thread_type = "AUTO"
        stream.codec_context.thread_count = side_threads()
        size = scaled_size(
            stream.codec_context.width, stream.codec_context.height, max_side, short_side
        )
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
                yield t, _upright(frame, size)
                while wanted <= t + half_frame:
                    wanted += step
            if not restart:
                return


def every_frame(path: Path) -> Iterator[tuple[float | None, av.VideoFrame]]:
    """Every frame of the first video stream, in order, with its time (None where the file
    gives none), for a stage that must see each one (shot detection) and can hand some on
    (``at_rate``), so that a file is decoded once. Decoded without the H.264 loop filter, a
    deblocking pass that only smooths block edges (mean change 0.09 of 255 per pixel on the
    ingest benchmark's frames, the same OCR text), on ``side_threads`` threads: it runs beside
    speech recognition."""
    with open_container(path) as container:
        if not container.streams.video:
            return
        origin = _origin(container)
        stream = container.streams.video[0]
        stream.codec_context.options = {"skip_loop_filter": "all"}
        stream.thread_type = "AUTO"
        stream.codec_context.thread_count = side_threads()
        for frame in _decode(container, stream):
            yield (None if frame.time is None else frame.time - origin), frame


def at_rate(
    frames: Iterable[tuple[float | None, av.VideoFrame]],
    rate: float,
    fps: float,
    max_side: int | None = None,
) -> Iterator[tuple[float, np.ndarray]]:
    """The frames ``iter_frames`` samples at ``rate`` from the whole file, taken from every
    frame (``every_frame``, at ``fps``) as they pass: ``(time, upright RGB array)``."""
    step, half_frame = 1.0 / rate, 0.5 / (fps or 25)
    wanted, size = 0.0, None
    for t, frame in frames:
        if t is None or t < wanted - half_frame:
            continue
        size = size or scaled_size(frame.width, frame.height, max_side)
        yield t, _upright(frame, size)
        while wanted <= t + half_frame:
            wanted += step


def load_audio(
    path: Path, sample_rate: int = 16000, start: float = 0.0, end: float | None = None
) -> np.ndarray:
    """The first audio stream of [start, end) as mono float32 at ``sample_rate``: the mean of
    its channels, resampled by FFmpeg."""
    with open_container(path) as container:
        if not container.streams.audio:
            return np.zeros(0, dtype=np.float32)
        origin = _origin(container)
        stream = container.streams.audio[0]
        if start > 0:
            _seek(container, stream, start + origin)
        # Planar float in the file's own layout; the channels are averaged below. Out in
        # frames of a second: per 21 ms frame of AAC, copying and averaging cost more than
        # decoding did (benchmarks/README.md, ingest).
        resampler = av.AudioResampler(format="fltp", rate=sample_rate, frame_size=sample_rate)
        chunks: list[np.ndarray] = []
        first_time: float | None = None
        for frame in _decode(container, stream):
            t = None if frame.time is None else frame.time - origin
            if first_time is None and t is not None:
                first_time = t
            if end is not None and t is not None and t >= end:
                break
            chunks.extend(_mono(out) for out in resampler.resample(frame))
        chunks.extend(_mono(out) for out in resampler.resample(None))
    audio = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    offset = max(0, round((start - (first_time or 0.0)) * sample_rate))
    stop = None if end is None else offset + round((end - start) * sample_rate)
    return np.ascontiguousarray(audio[offset:stop], dtype=np.float32)


def _mono(frame: av.AudioFrame) -> np.ndarray:
    """The mean of a planar frame's channels, (channels, samples) -> (samples,)."""
    return frame.to_ndarray().mean(axis=0, dtype=np.float32)


def _upright(frame: av.VideoFrame, size: tuple[int, int]) -> np.ndarray:
    """The frame as RGB at ``size`` (its stored width, height), turned as its display matrix
    says: ``frame.rotation`` is the counter-clockwise angle, as ``np.rot90`` turns."""
    pixels = frame.to_ndarray(format="rgb24", width=size[0], height=size[1])
    turns = round(frame.rotation / 90) % 4
    return np.ascontiguousarray(np.rot90(pixels, turns)) if turns else pixels


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


def scaled_size(
    width: int, height: int, max_side: int | None, short_side: int | None = None
) -> tuple[int, int]:
    """The size to decode at: scaled down to fit both caps. Under ``max_side`` both sides are
    rounded down to even numbers; under ``short_side`` alone the shortest side is exactly
    ``short_side``, so a model that resizes it to that size finds nothing left to resize."""
    scale = 1.0
    if max_side and max(width, height) > max_side:
        scale = max_side / max(width, height)
    if short_side and min(width, height) * scale > short_side:
        short, long = sorted((width, height))
        long = max(1, round(long * short_side / short))
        return (long, short_side) if width >= height else (short_side, long)
    if scale == 1.0:
        return width, height
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)
