"""The adapter protocols and the registry that builds adapters from a profile.

Adapters compute; they do not open files (``media/`` decodes, ``ingest`` times each stage). A
*transcriber* turns audio into timed text, a *frame reader* turns sampled frames into timed
text, and an *encoder* turns inputs of one or more modalities into vectors of one *space*.
The registry maps each name used under ``adapters:`` in a profile to the class implementing
it, imported only when a profile asks for it (a text-only search never loads the ASR model).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel

from mmretrieval.adapters.bridge import (
    Bridge,
    bridge_corpus,
    default_bridge_path,
    fit_bridge,
    load_bridge,
)
from mmretrieval.config import Profile
from mmretrieval.errors import ConfigError
from mmretrieval.media.timeline import TimedText

log = logging.getLogger(__name__)


@runtime_checkable
class Transcriber(Protocol):
    """Mono float32 audio at ``sample_rate`` -> timed text (``speech``)."""

    modality: str
    model_id: str
    sample_rate: int

    def transcribe(self, audio: np.ndarray) -> list[TimedText]: ...


@runtime_checkable
class FrameReader(Protocol):
    """Frames sampled at ``rate`` (longest side ``max_side``) -> timed text (``ocr``)."""

    modality: str
    model_id: str
    rate: float
    max_side: int

    def read_frames(
        self, frames: Iterable[tuple[float, np.ndarray]], duration: float
    ) -> list[TimedText]: ...


@runtime_checkable
class Encoder(Protocol):
    """Inputs -> L2-normalised float32 vectors of shape (n, dim) in ``space``."""

    space: str
    dim: int
    model_id: str

    def embed_text(self, texts: Sequence[str]) -> np.ndarray: ...


@runtime_checkable
class ImageEncoder(Encoder, Protocol):
    """An encoder with an image tower (CLIP): RGB uint8 arrays -> vectors."""

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray: ...


@runtime_checkable
class AudioEncoder(Encoder, Protocol):
    """An encoder with an audio tower (CLAP): mono float32 at ``sample_rate`` -> vectors."""

    sample_rate: int
    min_seconds: float  # shorter audio cannot be embedded

    def embed_audio(self, waves: Sequence[np.ndarray]) -> np.ndarray: ...


REGISTRY: dict[str, str] = {
    "speech": "mmretrieval.adapters.speech:WhisperTranscriber",
    "ocr": "mmretrieval.adapters.ocr:RapidOcrReader",
    "text": "mmretrieval.adapters.text:SentenceEncoder",
    "clip": "mmretrieval.adapters.clip:ClipEncoder",
    "clap": "mmretrieval.adapters.clap:ClapEncoder",
    "visual": "mmretrieval.adapters.visual:VisualEncoder",
    "voice": "mmretrieval.adapters.voice:VoiceEncoder",  # biometric, opt-in
    "face": "mmretrieval.adapters.face:FaceEncoder",  # biometric, opt-in
}
# Models served by another class than their section's (same protocol, another runtime).
MODEL_REGISTRY: dict[str, str] = {
    "bundled:use-multilingual-v3": "mmretrieval.adapters.use:UseEncoder",
}


def create(name: str, config: BaseModel) -> Transcriber | FrameReader | Encoder:
    """Build the adapter registered as ``name`` (or for its section's model) from its profile
    section."""
    target = MODEL_REGISTRY.get(getattr(config, "model", None), REGISTRY[name])
    module_name, class_name = target.split(":")
    adapter_class = getattr(importlib.import_module(module_name), class_name)
    return adapter_class(config)


class AdapterSet:
    """A profile's adapters, each loaded on first use, and the CLAP -> CLIP bridge."""

    def __init__(self, profile: Profile):
        self.profile = profile
        self._loaded: dict[str, object] = {}

    def get(self, name: str):
        """The adapter ``name`` (speech, ocr, text, clip, clap, visual), or None if the profile
        has none."""
        if name not in self._loaded:
            section = getattr(self.profile.adapters, name)
            self._loaded[name] = None if section is None else create(name, section)
        return self._loaded[name]

    def bridge(self) -> Bridge | None:
        """The map between this profile's CLAP and CLIP spaces; fitted on first use if missing."""
        if "bridge" not in self._loaded:
            self._loaded["bridge"] = self._load_or_fit_bridge()
        return self._loaded["bridge"]

    def fit_bridge(self, out: Path | None = None, mlp_epochs: int = 0) -> tuple[Bridge, Path]:
        """Fit the CLAP -> CLIP map on the shipped sentence corpus and save it."""
        clap, clip = self.get("clap"), self.get("clip")
        if clap is None or clip is None:
            raise ConfigError(
                f"profile {self.profile.name} needs both a clip and a clap adapter for a bridge"
            )
        sentences = bridge_corpus()
        log.info("fitting the CLAP -> CLIP bridge on %d sentences", len(sentences))
        fitted = fit_bridge(
            clap.embed_text(sentences),
            clip.embed_text(sentences),
            source_model=clap.model_id,
            target_model=clip.model_id,
            mlp_epochs=mlp_epochs,
        )
        path = out or self._bridge_path(clap, clip)
        path.parent.mkdir(parents=True, exist_ok=True)
        fitted.save(path)
        self._loaded["bridge"] = fitted
        return fitted, path

    def _bridge_path(self, clap, clip) -> Path:
        setting = self.profile.bridge.path
        if setting == "auto":
            return default_bridge_path(clap.model_id, clip.model_id)
        return Path(setting).expanduser()

    def _load_or_fit_bridge(self) -> Bridge | None:
        clap, clip = self.get("clap"), self.get("clip")
        if clap is None or clip is None:
            return None
        path = self._bridge_path(clap, clip)
        if path.exists():
            return load_bridge(path, clap.model_id, clip.model_id)
        if self.profile.bridge.path != "auto":
            raise ConfigError(
                f"bridge file {path} does not exist: run `mmr bridge fit --profile "
                f"{self.profile.name}` or set bridge.path to auto"
            )
        log.warning("no CLAP -> CLIP bridge for these models yet: fitting one (once)")
        return self.fit_bridge()[0]
