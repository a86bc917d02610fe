"""Queries of any modality, encoded into every space they can reach.

text  -> clip (CLIP text), clap (CLAP text), text (sentence encoder), and keywords; the
         visual space's labels channel through the ImageNet labels it names or means
audio -> clap (CLAP audio), clip (bridged from CLAP), and its speech as text and keywords
image -> clip (CLIP image), clap (bridged from CLIP), visual (ImageNet CNN descriptor)
video -> all of the above from its frames, sound, speech and on-screen text, pooled like a clip
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mmretrieval import channels
from mmretrieval.analyze import MediaAnalyzer
from mmretrieval.embed import mean_direction
from mmretrieval.errors import ConfigError, MMRError
from mmretrieval.imagenet import LabelQuery
from mmretrieval.media.images import load_image
from mmretrieval.search import EncodedQuery
from mmretrieval.spans import Span


@dataclass(frozen=True)
class Query:
    """Exactly one of text, audio, image or video; [start, end) selects part of a media file."""

    text: str | None = None
    audio: Path | None = None
    image: Path | None = None
    video: Path | None = None
    start: float = 0.0
    end: float | None = None

    def __post_init__(self) -> None:
        given = [k for k in ("text", "audio", "image", "video") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ConfigError(
                "give exactly one query: text, audio, image or video"
                + (f" (got {', '.join(given)})" if given else "")
            )
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
        return self._media(Path(query.audio or query.video), query, video=query.video is not None)

    def _text(self, text: str) -> EncodedQuery:
        text = text.strip()
        if not text:
            raise ConfigError("the query text is empty")
        vectors, notes = {}, []
        for name in ("text", "clip", "clap"):
            if (encoder := self.adapters.get(name)) is not None:
                vectors[encoder.space] = encoder.embed_text([text])[0]
                if name != "text" and encoder.truncated([text])[0]:
                    notes.append(
                        f"{encoder.space}: the query was cut to its first "
                        f"{encoder.max_text_tokens} tokens, as the model reads no more"
                    )
        if (labels := self._label_vector(text)) is not None:
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

    def _require(self, name: str, modality: str):
        adapter = self.adapters.get(name)
        if adapter is None:
            raise ConfigError(
                f"{modality} queries need a {name} adapter, which profile "
                f"{self.analyzer.profile.name} does not have: use the default profile"
                + (" or one with a visual section" if modality == "image" else "")
            )
        return adapter


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
