"""Subtitle sidecars (.srt / .vtt next to a media file) read as a ready-made transcript."""

from __future__ import annotations

import logging
from pathlib import Path

import webvtt

from mmretrieval.media.timeline import TimedText

log = logging.getLogger(__name__)

SUBTITLE_SUFFIXES = (".srt", ".vtt")


def find_sidecar(media: Path) -> Path | None:
    """``clip.srt``/``clip.vtt``, or a language-tagged ``clip.en.srt``, beside ``clip.mp4``."""
    for suffix in SUBTITLE_SUFFIXES:
        exact = media.with_suffix(suffix)
        if exact.is_file():
            return exact
    for suffix in SUBTITLE_SUFFIXES:
        tagged = sorted(media.parent.glob(f"{_glob_escape(media.stem)}.*{suffix}"))
        if tagged:
            return tagged[0]
    return None


def read_subtitles(path: Path) -> list[TimedText]:
    """Cues as TimedText; an unreadable sidecar is logged and ignored (ASR runs instead)."""
    try:
        captions = webvtt.from_srt(str(path)) if path.suffix == ".srt" else webvtt.read(str(path))
    except Exception as exc:  # webvtt raises several unrelated types for malformed files
        log.warning("ignoring unreadable subtitle file %s: %s", path, exc)
        return []
    cues = []
    for caption in captions:
        text = " ".join(caption.text.split())
        if text:
            cues.append(TimedText(_seconds(caption.start), _seconds(caption.end), text, "subtitle"))
    return cues


def _seconds(timestamp: str) -> float:
    """``hh:mm:ss.mmm`` as seconds (webvtt-py's own *_in_seconds drops the milliseconds)."""
    hours, minutes, seconds = timestamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)
