"""Subtitle sidecars (.srt / .vtt next to a media file) read as a ready-made transcript."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import webvtt

from mmretrieval.language import sidecar_language
from mmretrieval.media.timeline import TimedText

log = logging.getLogger(__name__)

SUBTITLE_SUFFIXES = (".srt", ".vtt")


def find_sidecar(media: Path, languages: Sequence[str] = ()) -> Path | None:
    """The sidecar of ``clip.mp4``: one tagged with a wanted language (``clip.de.srt``, in the
    order of ``languages``: the profile's pinned ones), else the plain ``clip.srt``/``clip.vtt``,
    else the first tagged one by name. A language Whisper would detect cannot choose, since a
    sidecar is read instead of running speech recognition."""
    found = subtitle_sidecars(media)
    for code in languages:
        for path in found:
            if sidecar_language(path) == code:
                return path
    return found[0] if found else None


def subtitle_sidecars(media: Path) -> list[Path]:
    """Every subtitle file of ``clip.mp4``: the plain ones (``clip.srt``, then ``clip.vtt``),
    then the language-tagged ones by suffix and name; a change to any of them can change the
    transcript the profile reads."""
    plain = [media.with_suffix(s) for s in SUBTITLE_SUFFIXES if media.with_suffix(s).is_file()]
    tagged = [
        path
        for suffix in SUBTITLE_SUFFIXES
        for path in sorted(media.parent.glob(f"{_glob_escape(media.stem)}.*{suffix}"))
    ]
    return plain + tagged


def read_subtitles(path: Path, language: str | None = None) -> list[TimedText]:
    """Cues as TimedText in the language the file's name gives (``clip.de.srt``: de), else
    ``language``; an unreadable sidecar is logged and ignored (ASR runs instead)."""
    language = sidecar_language(path) or language
    try:
        captions = webvtt.from_srt(str(path)) if path.suffix == ".srt" else webvtt.read(str(path))
    except Exception as exc:  # webvtt raises several unrelated types for malformed files
        log.warning("ignoring unreadable subtitle file %s: %s", path, exc)
        return []
    cues = []
    for caption in captions:
        text = " ".join(caption.text.split())
        if text:
            start, end = _seconds(caption.start), _seconds(caption.end)
            cues.append(TimedText(start, end, text, "subtitle", language=language))
    return cues


def _seconds(timestamp: str) -> float:
    """``hh:mm:ss.mmm`` as seconds (webvtt-py's own *_in_seconds drops the milliseconds)."""
    hours, minutes, seconds = timestamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)
