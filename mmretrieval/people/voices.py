"""Who speaks when: speech segments -> speaker vectors -> speaker turns -> one voice per clip.

The segments are the recogniser's (or the subtitles') timed lines, so no second voice-activity
pass runs; a long segment is cut into pieces so that a change of speaker inside it is seen.
Within a file the piece vectors are clustered into speakers (diarisation); a clip's voice is
its main speaker's mean vector over the clip, so a clip is found by the person who speaks most
in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mmretrieval.config import VoiceConfig
from mmretrieval.embed import mean_direction
from mmretrieval.people.clusters import agglomerate
from mmretrieval.spans import HasTime, Span, Timed


@dataclass(frozen=True, eq=False)
class SpeakerTurn(Timed):
    """A stretch of speech by one speaker of a file (``speaker``: 0, 1, ... in order of first
    appearance), with its speaker vector."""

    start: float
    end: float
    speaker: int
    vector: np.ndarray


def speech_pieces(segments: Sequence[HasTime], config: VoiceConfig) -> list[Span]:
    """The segments cut into pieces of at most ``max_seconds`` (the last piece of a segment
    takes the remainder), leaving out pieces shorter than ``min_seconds``."""
    pieces = []
    for segment in segments:
        count = max(1, int(np.ceil((segment.end - segment.start) / config.max_seconds)))
        step = (segment.end - segment.start) / count
        for n in range(count):
            piece = Span(segment.start + n * step, segment.start + (n + 1) * step)
            if piece.duration >= config.min_seconds:
                pieces.append(piece)
    return pieces


def speaker_turns(
    pieces: Sequence[Span], vectors: np.ndarray, config: VoiceConfig
) -> list[SpeakerTurn]:
    """Diarisation: the pieces' vectors clustered into the file's speakers."""
    labels = agglomerate(vectors, config.same_speaker)
    return [
        SpeakerTurn(p.start, p.end, int(label), v)
        for p, label, v in zip(pieces, labels, vectors, strict=True)
    ]


def clip_voices(
    turns: Sequence[SpeakerTurn], windows: Sequence[HasTime]
) -> list[tuple[int, np.ndarray] | None]:
    """Per window: (main speaker, their mean vector over the window), None without speech."""
    voices: list[tuple[int, np.ndarray] | None] = []
    for window in windows:
        inside = [t for t in turns if t.overlap(window) > 0]
        if not inside:
            voices.append(None)
            continue
        said: dict[int, float] = {}
        for turn in inside:
            said[turn.speaker] = said.get(turn.speaker, 0.0) + turn.overlap(window)
        main = max(said, key=said.get)
        vector = mean_direction(np.stack([t.vector for t in inside if t.speaker == main]))
        voices.append(None if vector is None else (main, vector))
    return voices
