"""Profiles: which adapters run, with which models and settings.

A profile is one YAML file. The bundled ones live in the repository's ``configs/`` (installed
as ``mmretrieval/configs/``) and are named by their stem (``offline``, ``default``); any other
path to a YAML file works too.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from mmretrieval.errors import ConfigError


def configs_dir() -> Path:
    """The folder of built-in profiles and policies. It is kept once, at the repository's top
    level: an installed wheel holds it as ``mmretrieval/configs``; a source checkout (on
    PYTHONPATH, or installed editable) has it next to the package."""
    installed = resources.files("mmretrieval") / "configs"
    if installed.is_dir():
        return Path(str(installed))
    return Path(__file__).resolve().parent.parent / "configs"


PROFILES_DIR = configs_dir()


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
    shots: bool = Field(
        True, description="detect shot cuts in video: clips end at a cut near their end"
    )
    shot_threshold: float = Field(
        3.0, gt=0, description="how much a frame must change, beyond the change around it, to cut"
    )

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
    languages: list[str] = Field(
        default_factory=list,
        description="ISO 639-1 codes detection may choose from (one: no detection); [] = any",
    )
    beam_size: int = Field(1, ge=1)
    temperature_fallback: bool = Field(
        False, description="re-decode hard segments by sampling: better text, not reproducible"
    )
    vad_filter: bool = True
    encode_padding: float | None = Field(
        None, ge=0, description="seconds of a window's padding encoded after its audio; None = all"
    )
    compute_type: str = "int8"
    device: str = "auto"
    subtitles: bool = Field(True, description="use a .srt/.vtt sidecar instead of ASR when present")

    @field_validator("languages")
    @classmethod
    def _iso_codes(cls, codes: list[str]) -> list[str]:
        bad = [c for c in codes if not re.fullmatch(r"[a-z]{2,3}", c)]
        if bad:
            raise ValueError(f"expected ISO 639-1 codes such as de or fr, got {bad}")
        return codes

    @property
    def pinned(self) -> list[str]:
        """The languages speech may be in: ``language`` alone when set, else ``languages``."""
        return [self.language] if self.language else list(self.languages)


class OcrConfig(_Section):
    """On-screen text recognition on sampled frames."""

    engine: Literal["rapidocr"] = "rapidocr"
    rate: float = Field(0.5, gt=0, description="frames per second examined")
    max_side: int = Field(960, ge=160, description="frames are downscaled to this longest side")
    detect_side: int = Field(
        960, ge=96, description="text is found on the frame shrunk to this longest side"
    )
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
    dtype: Literal["float32", "float16", "bfloat16"] = Field(
        "float32", description="weights and inputs on CUDA; the CPU always runs float32"
    )
    frame_rate: float = Field(1.0, gt=0, description="frames per second sampled for embedding")
    max_frames: int = Field(16, ge=1, description="most frames pooled (and kept) per clip")
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


class VisualConfig(_Section):
    """ImageNet CNN on sampled frames (the ``visual`` space): descriptors for picture and video
    queries, labels for text queries, where no CLIP is available (the offline profiles)."""

    model: Literal["bundled:efficientnet-lite0"] = "bundled:efficientnet-lite0"
    batch_size: int = Field(16, ge=1)
    device: str = "auto"
    frame_rate: float = Field(
        0.25, gt=0, description="frames per second described within a shot (OCR's, when it runs)"
    )
    cut_threshold: float = Field(
        20.0, ge=0, description="mean abs grey change (0-255) from which a frame is a new shot, "
        "described however soon it comes",
    )
    colour: float = Field(
        0.0, ge=0, lt=1, description="share of a frame's descriptor given to its colours and "
        "their layout (0: the CNN's alone, as indexes made before this option)",
    )
    max_frames: int = Field(16, ge=1, description="most frames pooled (and kept) per clip")
    duplicate_threshold: float = Field(
        3.0, ge=0, description="mean abs grey change (0-255) under which a frame repeats the last"
    )
    labels: int = Field(5, ge=1, le=20, description="top ImageNet labels kept per frame")
    min_probability: float = Field(
        0.05, gt=0, lt=1, description="a label less probable than this is not kept"
    )


class VoiceConfig(_Section):
    """Speaker vectors of the speech segments (the ``voice`` channel; biometric, opt-in)."""

    model: str = Field("bundled:resemblyzer-ge2e", description="the GE2E speaker encoder")
    min_seconds: float = Field(0.8, gt=0, description="shorter speech segments are not embedded")
    max_seconds: float = Field(
        6.0, gt=0, description="longer segments are cut into pieces this long (turn changes)"
    )
    same_speaker: float = Field(
        0.8, gt=0, lt=1, description="cosine above which two segments or files share a voice"
    )
    device: str = "cpu"


class FaceConfig(_Section):
    """Face tracks on sampled frames (the ``face`` channel; biometric, opt-in)."""

    model: str = Field(
        "bundled:dlib-face-resnet", description="dlib detector, 5-point landmarks, ResNet"
    )
    frame_rate: float = Field(0.5, gt=0, description="frames per second searched for faces")
    every: int = Field(
        2, ge=1, description="with no face in sight, every Nth sampled frame is searched"
    )
    small_every: int = Field(
        4, ge=1, description="every Nth sampled frame is searched whole for faces < ~70 px too"
    )
    small_every_in_shot: int = Field(
        16, ge=1, description="... but only every Nth while faces are in sight in one shot"
    )
    max_side: int = Field(640, ge=160, description="frames are downscaled to this longest side")
    upsample: int = Field(1, ge=0, le=2, description="detector upsampling: 1 finds ~40 px faces")
    min_size: int = Field(36, ge=16, description="smaller faces (px, scaled frame) are ignored")
    min_score: float = Field(0.3, description="detector confidence below which a face is ignored")
    sharpest: int = Field(3, ge=1, description="a track's descriptor: its sharpest frames' mean")
    same_face: float = Field(
        0.9,
        gt=0,
        lt=1,
        description="cosine above which two faces are one person (~ dlib's distance 0.6)",
    )


class AdaptersConfig(_Section):
    speech: SpeechConfig | None = None
    ocr: OcrConfig | None = None
    text: TextConfig | None = None
    clip: ClipConfig | None = None
    clap: ClapConfig | None = None
    visual: VisualConfig | None = None
    voice: VoiceConfig | None = None  # biometric: only the people profile sets it
    face: FaceConfig | None = None  # biometric: only the people profile sets it

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
    """Vector store: FAISS files in the index folder, or Milvus (README, "Milvus").

    ``index: auto`` is exact search up to 100k vectors per channel and IVF above, on either
    backend. Otherwise FAISS takes a factory string (``HNSW32,Flat``), Milvus an index type
    (``HNSW``, ``IVF_FLAT``...); either may add ``|`` and parameters (``auto|nprobe=64``).
    """

    backend: Literal["faiss", "milvus"] = "faiss"
    index: str = "auto"
    uri: str | None = Field(
        None,
        description="milvus: a .db file (embedded Milvus Lite; relative to the index folder, "
        "default milvus.db there) or a server, http://host:19530",
    )
    collection_prefix: str = Field(
        "mmr",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="milvus: collections are <prefix>_<channel>; one prefix per index on a server",
    )
    memory_budget: int = Field(
        2 * 2**30,
        gt=0,
        description="faiss auto: bytes per channel an IVF,Flat index may take before IVF-PQ "
        "(a number, or a size such as 8GiB or 500MB)",
    )
    mmap: bool | Literal["auto"] = Field(
        "auto",
        description="faiss: search saved indexes memory-mapped from their files; auto: files "
        "larger than half the memory available",
    )
    gpu: bool | Literal["auto"] = Field(
        "auto", description="faiss: search on a GPU; auto: when FAISS has CUDA and sees a GPU"
    )

    @field_validator("memory_budget", mode="before")
    @classmethod
    def _size(cls, value: int | str) -> int:
        return parse_size(value)

    @model_validator(mode="after")
    def _check(self) -> StoreConfig:
        if self.backend == "faiss":
            if self.uri is not None:
                raise ValueError(
                    "uri is for backend milvus; backend faiss keeps its files in the index"
                )
            return self
        index_type = self.index.partition("|")[0].strip()
        if index_type != "auto" and not re.fullmatch(r"[A-Z][A-Z0-9_]*", index_type):
            raise ValueError(
                f"index for backend milvus is auto or a Milvus index type (FLAT, IVF_FLAT, "
                f"HNSW...), got {index_type!r}: FAISS factory strings are for backend faiss"
            )
        if self.uri is not None and not (
            self.uri.endswith(".db")
            or self.uri.startswith(("http://", "https://", "tcp://", "unix:"))
        ):
            raise ValueError(
                f"uri {self.uri!r} is neither a Milvus Lite file (ending .db) nor a server address "
                f"(http://host:19530)"
            )
        return self


class Profile(_Section):
    name: str
    segment: SegmentConfig = SegmentConfig()
    adapters: AdaptersConfig = AdaptersConfig()
    bridge: BridgeConfig = BridgeConfig()
    hub: HubConfig = HubConfig()
    search: SearchConfig = SearchConfig()
    store: StoreConfig = StoreConfig()


_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(i?)(B?)", re.IGNORECASE)


def parse_size(value: int | str) -> int:
    """Bytes from a number or a size: ``8GiB``, ``8G`` (binary), ``500MB`` (decimal)."""
    if isinstance(value, int):
        return value
    match = _SIZE.fullmatch(str(value).strip())
    if match is None:
        raise ValueError(f"{value!r} is not a size: expected bytes, or e.g. 8GiB or 500MB")
    number, unit, binary, byte = match.groups()
    power = "KMGT".find(unit.upper()) + 1 if unit else 0
    base = 1000 if byte and not binary else 1024
    return int(float(number) * base**power)


NOT_PROFILES = {"moderation"}  # configs/moderation.yaml is the default moderation policy


def bundled_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml") if p.stem not in NOT_PROFILES)


def read_yaml_mapping(path: Path, what: str, expected: str) -> dict:
    """A YAML file that must hold a mapping (a profile, a policy), with ``name`` defaulting
    to the file's stem; every way it can be wrong is a ConfigError saying which."""
    if not path.is_file():
        raise ConfigError(f"{what} file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{what} {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(
            f"{what} {path} must be a mapping of {expected}, found a {type(data).__name__}"
        )
    data.setdefault("name", path.stem)
    return data


DEFAULT_PROFILE = "offline"  # for new indexes and scans that name none


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
    data = read_yaml_mapping(path, "profile", "sections (segment, adapters, search, store)")
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'profile'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"profile {path} is invalid: {problems}") from exc
