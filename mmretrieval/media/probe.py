"""What a media file holds, read from its container without decoding it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av

from mmretrieval.errors import MediaError

VIDEO_SUFFIXES = frozenset(
    {".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v", ".mpg", ".mpeg", ".ts"}
)
AUDIO_SUFFIXES = frozenset({".wav", ".mp3", ".flac", ".ogg", ".m4a", ".opus", ".aac"})
MEDIA_SUFFIXES = VIDEO_SUFFIXES | AUDIO_SUFFIXES


@dataclass(frozen=True)
class MediaInfo:
    duration: float
    has_video: bool
    has_audio: bool
    width: int = 0
    height: int = 0
    fps: float = 0.0
    timecode: str | None = None  # the camera's start timecode tag, e.g. "01:00:00:00"


def open_container(path: Path) -> av.container.InputContainer:
    """Open ``path`` with PyAV; every way that can fail becomes one MediaError with a reason."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise MediaError(f"cannot read file: {exc.strerror}") from exc
    if size == 0:
        raise MediaError("file is empty (0 bytes)")
    if path.suffix.lower() not in MEDIA_SUFFIXES:
        raise MediaError(
            f"unsupported file type {path.suffix or '(none)'}: expected one of "
            f"{', '.join(sorted(MEDIA_SUFFIXES))}"
        )
    try:
        return av.open(str(path), metadata_errors="ignore")
    except PermissionError as exc:
        raise MediaError(f"cannot read file: {exc.strerror}") from exc
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise MediaError(f"not a readable media file (corrupt or truncated?): {exc}") from exc


def probe(path: Path) -> MediaInfo:
    """Duration and streams of a file; raises MediaError for anything we cannot index."""
    with open_container(path) as container:
        video = container.streams.video[0] if container.streams.video else None
        audio = container.streams.audio[0] if container.streams.audio else None
        if video is None and audio is None:
            raise MediaError("no audio or video stream in the file")
        duration = _header_duration(container, video, audio) or _demuxed_duration(
            container, video or audio
        )
        if duration <= 0:
            raise MediaError("the file's streams have no duration (nothing to decode)")
        return MediaInfo(
            duration=duration,
            has_video=video is not None,
            has_audio=audio is not None,
            width=video.codec_context.width if video else 0,
            height=video.codec_context.height if video else 0,
            fps=float(video.average_rate or 0) if video else 0.0,
            timecode=_timecode_tag(container, video),
        )


def _timecode_tag(container, video) -> str | None:
    """The start timecode cameras write (mov tmcd, mxf, mkv TIMECODE tag), if any."""
    for tags in (video.metadata if video else {}, container.metadata):
        for key, value in tags.items():
            if key.lower() == "timecode" and value.strip():
                return value.strip()
    return None


def _header_duration(container, *streams) -> float:
    if container.duration:
        return container.duration / av.time_base
    lengths = [float(s.duration * s.time_base) for s in streams if s is not None and s.duration]
    return max(lengths, default=0.0)


def _demuxed_duration(container, stream) -> float:
    """Some muxers (live webm, raw ts) write no duration: read packet times (no decoding)."""
    end = 0.0
    try:
        for packet in container.demux(stream):
            if packet.pts is not None:
                end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
    except av.FFmpegError as exc:
        raise MediaError(f"corrupt stream data: {exc}") from exc
    return end
