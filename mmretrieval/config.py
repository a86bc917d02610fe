"""Profiles: which adapters run, with which models and settings.

A profile is one YAML file. The bundled ones live in ``mmretrieval/configs/`` and are named
by their stem (``offline``, ``default``); any other path to a YAML file works too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mmretrieval.errors import ConfigError

PROFILES_DIR = Path(__file__).parent / "configs"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SegmentConfig(_Section):
    """How files are cut into clips."""

    window: float = Field(10.0, gt=0, description="target clip length in seconds")
    overlap: float = Field(2.0, ge=0, description="seconds shared by consecutive clips")
    max_window: float = Field(
        16.0, gt=0, description="a clip may stretch to this to end a sentence"
    )
    align_to_speech: bool = True

    @model_validator(mode="after")
    def _check(self) -> SegmentConfig:
        if self.overlap >= self.window:
            raise ValueError(
                f"overlap ({self.overlap}) must be shorter than window ({self.window})"
            )
        if self.max_window < self.window:
            raise ValueError(f"max_window ({self.max_window}) must be >= window ({self.window})")
        return self


class SpeechConfig(_Section):
    """Speech recognition (faster-whisper)."""

    model: str = Field(
        "bundled:tiny.en", description="bundled:tiny.en, a size name, HF id or folder"
    )
    language: str | None = Field(None, description="None = detect (multilingual models only)")
    beam_size: int = Field(1, ge=1)
    temperature_fallback: bool = Field(
        False, description="re-decode hard segments by sampling: better text, not reproducible"
    )
    vad_filter: bool = True
    compute_type: str = "int8"
    device: str = "auto"
    subtitles: bool = Field(True, description="use a .srt/.vtt sidecar instead of ASR when present")


class OcrConfig(_Section):
    """On-screen text recognition on sampled frames."""

    engine: Literal["rapidocr"] = "rapidocr"
    rate: float = Field(0.5, gt=0, description="frames per second examined")
    max_side: int = Field(960, ge=160, description="frames are downscaled to this longest side")
    min_confidence: float = Field(0.6, ge=0, le=1)
    change_threshold: float = Field(
        6.0, ge=0, description="mean abs grey-level change (0-255) below which a frame is skipped"
    )


class TextConfig(_Section):
    """Sentence encoder for transcripts and on-screen text (the ``text`` space)."""

    model: str = "bundled:all-MiniLM-L6-v2"
    batch_size: int = Field(64, ge=1)
    device: str = "auto"


class ClipConfig(_Section):
    """Vision-language model for frames (the ``clip`` space, also the hub space)."""

    model: str = Field("openai/clip-vit-base-patch32", description="HF id or folder of a CLIP")
    batch_size: int = Field(32, ge=1)
    device: str = "auto"
    frame_rate: float = Field(1.0, gt=0, description="frames per second sampled for embedding")
    max_frames: int = Field(16, ge=1, description="most frames pooled (and kept) per clip")
    max_side: int = Field(448, ge=64, description="frames are decoded at most this large")
    duplicate_threshold: float = Field(
        3.0, ge=0, description="mean abs grey change (0-255) under which a frame repeats the last"
    )


class ClapConfig(_Section):
    """Audio-language model for the sound track (the ``clap`` space)."""

    model: str = Field("laion/clap-htsat-unfused", description="HF id or folder of a CLAP")
    batch_size: int = Field(16, ge=1)
    device: str = "auto"


class BridgeConfig(_Section):
    """The learned map between the CLAP and CLIP spaces (``mmr bridge fit``)."""

    path: str = Field("auto", description="auto: the map fitted for these two models, or a file")


class HubConfig(_Section):
    """How a clip's pooled vector in the hub (CLIP) space mixes its modalities."""

    weights: dict[str, float] = Field(
        default_factory=lambda: {"frames": 1.0, "audio": 0.5, "speech": 0.5}
    )


class AdaptersConfig(_Section):
    speech: SpeechConfig | None = None
    ocr: OcrConfig | None = None
    text: TextConfig | None = None
    clip: ClipConfig | None = None
    clap: ClapConfig | None = None

    @model_validator(mode="after")
    def _text_needed(self) -> AdaptersConfig:
        if (self.speech or self.ocr) and self.text is None:
            raise ValueError("speech and ocr produce text: the profile needs a 'text' adapter too")
        return self


class SearchConfig(_Section):
    """Fusion of the per-space scores."""

    fusion: Literal["weighted", "rrf"] = "weighted"
    weights: dict[str, float] = Field(default_factory=lambda: {"text": 1.0, "lexical": 0.7})
    candidates: int = Field(200, ge=10, description="hits taken from each index before fusion")
    fuzzy_min_similarity: float = Field(
        80.0, ge=50, le=100, description="rapidfuzz ratio for a near-miss spelling to count"
    )
    rrf_k: int = Field(60, ge=1)


class StoreConfig(_Section):
    """Vector store. ``index: auto`` picks exact search; any FAISS factory string works."""

    backend: Literal["faiss"] = "faiss"
    index: str = "auto"


class Profile(_Section):
    name: str
    segment: SegmentConfig = SegmentConfig()
    adapters: AdaptersConfig = AdaptersConfig()
    bridge: BridgeConfig = BridgeConfig()
    hub: HubConfig = HubConfig()
    search: SearchConfig = SearchConfig()
    store: StoreConfig = StoreConfig()


def bundled_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a bundled profile by name, or any profile YAML by path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PROFILES_DIR / f"{name_or_path}.yaml"
        if not path.exists():
            raise ConfigError(
                f"unknown profile {str(name_or_path)!r}: expected one of "
                f"{', '.join(bundled_profiles())} or a path to a YAML file"
            )
    if not path.is_file():
        raise ConfigError(f"profile file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"profile {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(
            f"profile {path} must be a mapping of sections (segment, adapters, search, store), "
            f"found a {type(data).__name__}"
        )
    data.setdefault("name", path.stem)
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'profile'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"profile {path} is invalid: {problems}") from exc
