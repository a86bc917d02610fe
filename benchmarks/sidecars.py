"""Exact-transcript ceilings: a suite's media again, each file with a subtitle sidecar of what
is said in it, so that the index reads the sidecar instead of recognising the speech.

Every bundled profile takes a ``clip.srt`` (``clip.de.srt``: German) next to a file as its
transcript (``speech.subtitles``). The same clips and queries indexed from this folder measure
retrieval with a perfect recogniser: what a suite still misses there is the retrieval side's,
what it gains over the normal run is the recogniser's share. The files are hard links (no
bytes copied) in a folder beside the media, so a normal run never sees a sidecar.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mmretrieval.testing.synth import SceneSpan, write_subtitles


@dataclass(frozen=True)
class Said:
    """What one file says, and when (seconds)."""

    media: str  # path under the suite's media folder
    text: str
    start: float
    end: float
    language: str  # ISO 639-1: the sidecar is ``<name>.<language>.srt``


def subtitled(media: Path, said: Sequence[Said]) -> Path:
    """``media``'s files named in ``said``, linked into ``<media>-subtitles/`` (made anew, so
    regenerated media are never stale), each with one cue of its text; returns that folder."""
    folder = media.with_name(f"{media.name}-subtitles")
    shutil.rmtree(folder, ignore_errors=True)
    for one in said:
        target = folder / one.media
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(media / one.media, target)
        cue = SceneSpan(one.start, one.end, one.text, None)
        write_subtitles(target.with_suffix(f".{one.language}.srt"), [cue])
    return folder
