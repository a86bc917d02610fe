"""Queries of any modality, encoded into every space they can reach.

text  -> clip (CLIP text), clap (CLAP text), text (sentence encoder), and keywords; the
         visual space's labels channel through the ImageNet labels it names or means
audio -> clap (CLAP audio), clip (bridged from CLAP), and its speech as text and keywords
image -> clip (CLIP image), clap (bridged from CLIP), visual (ImageNet CNN descriptor)
video -> all of the above from its frames, sound, speech and on-screen text, pooled like a clip
voice -> voice (who speaks in a recording; people profile only)
face  -> face (the largest face in a photo, or the one in a box; people profile only)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mmretrieval import channels
from mmretrieval.analyze import MediaAnalyzer
from mmretrieval.devices import query_threads
from mmretrieval.embed import mean_direction
from mmretrieval.errors import ConfigError, MMRError
from mmretrieval.imagenet import LabelQuery
from mmretrieval.media.images import load_image
from mmretrieval.search import EncodedQuery
from mmretrieval.spans import Span


@dataclass(frozen=True)
class Query:
    """Exactly one of text, audio, image, video, voice or face; [start, end) selects part of a
    media file; ``face_box`` (x, y, width, height) picks a face in the ``face`` photo."""

    text: str | None = None
    audio: Path | None = None
    image: Path | None = None
    video: Path | None = None
    start: float = 0.0
    end: float | None = None
    voice: Path | None = None  # a recording of the person speaking
    face: Path | None = None  # a photo of the person
    face_box: tuple[int, int, int, int] | None = None
    person: str | None = None  # a name given to a voice or face (the Library looks it up)

    def __post_init__(self) -> None:
        kinds = ("text", "audio", "image", "video", "voice", "face", "person")
        given = [k for k in kinds if getattr(self, k) is not None]
        if len(given) != 1:
            raise ConfigError(
                "give exactly one query: text, audio, image, video, voice, face or person"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.face_box is not None and self.face is None:
            raise ConfigError("a face box picks a face in a --face photo: give --face too")
        if self.start < 0 or (self.end is not None and self.end <= self.start):
            raise ConfigError(f"query span must have 0 <= start < end, got {self.start}-{self.end}")


class QueryEncoder:
    """Encodes queries with the analyser's adapters; a query file is analysed as ingest
    analyses a clip, so the two are described the same way."""

    def __init__(self, analyzer: MediaAnalyzer):
        self.analyzer = analyzer
        self.adapters = analyzer.adapters
        self._labels: LabelQuery | None = None  # the visual labels, for text queries

    def encode(self, query: Query) -> EncodedQuery:
        if query.text is not None:
            return self._text(query.text)
        if query.image is not None:
            return self._image(Path(query.image))
        if query.voice is not None:
            return self._voice(Path(query.voice), query)
        if query.face is not None:
            return self._face(Path(query.face), query.face_box)
        if query.person is not None:
            raise ConfigError("a named person is looked up in an index: Library.search(person=)")
        return self._media(Path(query.audio or query.video), query, video=query.video is not None)

    def _text(self, text: str) -> EncodedQuery:
        text = text.strip()
        if not text:
            raise ConfigError("the query text is empty")
        vectors, notes = {}, []
        # one short text: a second torch thread gains nothing and, on busy cores, makes the
        # two wait for each other (at load 15: 800 ms wall and 240 ms CPU a query on two
        # threads, 60 ms and 20 ms on one; benchmarks/README.md, "At a million clips")
        with query_threads():
            for name in ("text", "clip", "clap"):
                if (encoder := self.adapters.get(name)) is not None:
                    vectors[encoder.space] = encoder.embed_text([text])[0]
                    if name != "text" and encoder.truncated([text])[0]:
                        notes.append(
                            f"{encoder.space}: the query was cut to its first "
                            f"{encoder.max_text_tokens} tokens, as the model reads no more"
                        )
            if (labels := self._label_vector(text)) is not None:  # reuses the text's vector
                vectors[channels.VISUAL_LABELS] = labels
        return EncodedQuery(vectors, text, tuple(notes))

    def _label_vector(self, text: str):
        """The ImageNet labels the text names or means, when the profile has a visual channel."""
        if self.analyzer.profile.adapters.visual is None:
            return None
        if self._labels is None:
            self._labels = LabelQuery(self.adapters.get("text"))
        return self._labels.vector(text)

    def _image(self, path: Path) -> EncodedQuery:
        clip, visual = self.adapters.get("clip"), self.adapters.get("visual")
        if clip is None and visual is None:
            self._require("clip", "image")  # says which adapter is missing
        image = load_image(path)
        vectors = {}
        if clip is not None:
            vector = clip.embed_images([image])[0]
            vectors[channels.CLIP_SPACE] = vector
            if (bridge := self.adapters.bridge()) is not None:
                vectors[channels.CLAP_SPACE] = bridge.to_source(vector)
        if visual is not None:
            vectors[channels.VISUAL_SPACE] = visual.embed_images([image])[0]
        return EncodedQuery(vectors)

    def _media(self, path: Path, query: Query, video: bool) -> EncodedQuery:
        info = self.analyzer.probe(path)
        start, end = query.start, min(query.end or info.duration, info.duration)
        if start >= end:
            raise ConfigError(f"query span {start}-{end} s lies outside {path} ({info.duration} s)")
        bridge = self.adapters.bridge()
        found = self.analyzer.analyse_span(
            path, info, Span(start, end), screen=video, frames=video, visual=video
        )
        spoken = " ".join(t.text for t in found.transcript)
        text = " ".join(w for w in [spoken, *(line.text for line in found.screen)] if w)
        text = text.strip() or None
        frames = mean_direction(found.frames.vectors) if found.frames is not None else None
        vectors = {}
        if text is not None and (encoder := self.adapters.get("text")) is not None:
            vectors[channels.TEXT_SPACE] = encoder.embed_text([text])[0]
        if found.audio is not None:
            vectors[channels.CLAP_SPACE] = found.audio
        elif frames is not None and bridge is not None:
            vectors[channels.CLAP_SPACE] = bridge.to_source(frames)
        hub = self.analyzer.hub_vectors([frames], [found.audio], [spoken.strip()])[0]
        if hub is not None:
            vectors[channels.CLIP_SPACE] = hub
        if found.visual is not None:
            pooled = mean_direction(found.visual.descriptors)
            if pooled is not None:
                vectors[channels.VISUAL_SPACE] = pooled
        if not vectors:
            what = "video" if video else "recording"
            raise MMRError(
                f"nothing to search with in the query {what} {path}: no speech was recognised "
                "and the profile has no model for its sound or pictures (use the default profile, "
                "or a profile with a visual section for pictures)"
            )
        return EncodedQuery(vectors, text)

    # -- people (biometric; the people profile) ----------------------------------------------

    def _voice(self, path: Path, query: Query) -> EncodedQuery:
        self._require("voice", "voice", "people")
        info = self.analyzer.probe(path)
        end = min(query.end or info.duration, info.duration)
        if not info.has_audio or query.start >= end:
            raise ConfigError(f"the voice query {path} has no sound in {query.start}-{end} s")
        vector = self.analyzer.voice_vector(path, Span(query.start, end))
        if vector is None:
            raise MMRError(
                f"the voice query {path} holds too little sound to know a voice by: "
                f"give at least {self.analyzer.profile.adapters.voice.min_seconds} s of speech"
            )
        return EncodedQuery({channels.VOICE_SPACE: vector})

    def _face(self, path: Path, box: tuple[int, int, int, int] | None) -> EncodedQuery:
        encoder = self._require("face", "face", "people")
        faces = encoder.faces(load_image(path), box)
        if not faces:
            raise MMRError(
                f"no face found in {path}: give a photo where the face is at least "
                f"{encoder.config.min_size} pixels wide, or point at it with --face-box x,y,w,h"
            )
        return EncodedQuery({channels.FACE_SPACE: faces[0].vector})

    def _require(self, name: str, modality: str, profile: str = "default"):
        adapter = self.adapters.get(name)
        if adapter is None:
            raise ConfigError(
                f"{modality} queries need a {name} adapter, which profile "
                f"{self.analyzer.profile.name} does not have: use the {profile} profile"
                + (" or one with a visual section" if modality == "image" else "")
            )
        return adapter


def parse_box(text: str | None) -> tuple[int, int, int, int] | None:
    """``"10,20,80,80"`` (x, y, width, height in pixels) -> ``(10, 20, 80, 80)``."""
    if not text:
        return None
    try:
        x, y, w, h = (int(part) for part in text.split(","))
    except ValueError as exc:
        raise ConfigError(f"a face box is x,y,width,height in pixels, got {text!r}") from exc
    if w <= 0 or h <= 0 or x < 0 or y < 0:
        raise ConfigError(f"a face box needs x, y >= 0 and width, height > 0, got {text!r}")
    return x, y, w, h


def parse_spaces(text: str | None) -> list[str] | None:
    """``"text,lexical"`` -> ``["text", "lexical"]``; empty means every space."""
    return [s.strip() for s in text.split(",") if s.strip()] if text else None


def parse_weights(text: str | None) -> dict[str, float] | None:
    """``"text=1,lexical=0.5"`` -> ``{"text": 1.0, "lexical": 0.5}``."""
    if not text:
        return None
    weights = {}
    for pair in text.split(","):
        name, _, value = pair.partition("=")
        try:
            weights[name.strip()] = float(value)
        except ValueError as exc:
            raise ConfigError(
                f"weights must be space=number pairs (text=1,lexical=0.5), got {pair!r}"
            ) from exc
    return weights
