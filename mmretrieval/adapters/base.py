"""The adapter protocols and the registry that builds adapters from a profile.

Adapters compute; they do not open files (``media/`` decodes, ``ingest`` times each stage). A
*transcriber* turns audio into timed text, a *frame reader* turns sampled frames into timed
text, and an *encoder* turns inputs of one or more modalities into vectors of one *space*.
The registry maps each name used under ``adapters:`` in a profile to the class implementing
it, imported only when a profile asks for it (a text-only search never loads the ASR model).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel

from mmretrieval.media.timeline import TimedText


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


REGISTRY: dict[str, str] = {
    "speech": "mmretrieval.adapters.speech:WhisperTranscriber",
    "ocr": "mmretrieval.adapters.ocr:RapidOcrReader",
    "text": "mmretrieval.adapters.text:SentenceEncoder",
}


def create(name: str, config: BaseModel) -> Transcriber | FrameReader | Encoder:
    """Build the adapter registered as ``name`` from its profile section."""
    module_name, class_name = REGISTRY[name].split(":")
    adapter_class = getattr(importlib.import_module(module_name), class_name)
    return adapter_class(config)
