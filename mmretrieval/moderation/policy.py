"""Moderation policies: which categories to look for, the signals that detect each one, and the
threshold at which each signal fires.

A policy is one YAML file (the default is the top-level ``configs/moderation.yaml``). Every
signal gives a score per clip and *fires* when the score reaches its ``threshold``. A category is
flagged on a clip when ``agree`` of its signals fire together (default 1: any one), or when one
signal reaches its ``strong`` score, which flags the category on its own. So "a strong classifier
score, or two signals that agree" is ``agree: 2`` with a ``strong`` score on the classifier.
Text signals (transcript, wordlist, classifier, profanity_check) read both the transcript and
the text on screen (OCR lines, at the time their frame showed). Scores:

- ``clip`` / ``clap`` / ``transcript``: zero-shot, in [0, 1]. The frame (CLIP), the sound (CLAP)
  or a transcript segment (the profile's text encoder) is compared with every positive and
  negative prompt; ``softmax(scale * cosine)`` over all prompts, summed over the positive ones,
  is the probability that the positives describe it better than the negatives. ``scale`` is the
  model's learnt logit scale (CLIP's ``logit_scale``, CLAP's audio ``logit_scale_a``), as their
  own zero-shot classification uses it, unless the signal sets one.
- ``nudenet``: the highest confidence of a box of the listed classes on a frame, in [0, 1].
- ``open_nsfw``: Open-NSFW's probability that a frame is pornographic, in [0, 1].
- ``wordlist``: how many listed words or phrases were said (or shown) in the clip;
  ``threshold`` is the number of hits needed (default 1).
- ``classifier``: the category's supervised head (logistic regressions on the profile's sentence
  embeddings and on the line's words, averaged, trained on the shipped corpus: ``heads.py``),
  P(category) of the best line.
- ``profanity_check``: alt-profanity-check's trained model (in its wheel): P(offensive) of the
  best line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mmretrieval.config import configs_dir, read_yaml_mapping
from mmretrieval.errors import ConfigError, ModelMissingError
from mmretrieval.moderation.heads import HEAD_CATEGORIES
from mmretrieval.moderation.wordlist import BUNDLED_PREFIX, read_word_list, word_list_path

DEFAULT_POLICY = configs_dir() / "moderation.yaml"

# The categories a policy may name without ``custom: true`` (a typo is caught, not ignored).
KNOWN_CATEGORIES: dict[str, str] = {
    "nudity": "nudity and sexual content",
    "violence": "fighting, shooting, explosions and people being hurt",
    "weapons": "guns, knives and other weapons",
    "gore": "blood, wounds, injuries and dead bodies",
    "hate_symbols": "symbols and gestures of hate groups",
    "self_harm": "self-harm and suicide",
    "drugs": "illegal drugs and drug use",
    "profanity": "swearing and obscene language",
    "hate_speech": "speech attacking people for their race, religion, sex or origin",
    "harassment": "threats, bullying and insults aimed at a person",
    "extremism": "terrorist and violent extremist content",
}

# The classes NudeNet's detector outputs (nudenet 3.4, 320n.onnx / 640m.onnx).
NUDENET_CLASSES = (
    "FEMALE_GENITALIA_COVERED",
    "FACE_FEMALE",
    "BUTTOCKS_EXPOSED",
    "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED",
    "MALE_BREAST_EXPOSED",
    "ANUS_EXPOSED",
    "FEET_EXPOSED",
    "BELLY_COVERED",
    "FEET_COVERED",
    "ARMPITS_COVERED",
    "ARMPITS_EXPOSED",
    "FACE_MALE",
    "BELLY_EXPOSED",
    "MALE_GENITALIA_EXPOSED",
    "ANUS_COVERED",
    "FEMALE_BREAST_COVERED",
    "BUTTOCKS_COVERED",
)
NUDENET_EXPOSED = (
    "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED",
    "MALE_GENITALIA_EXPOSED",
    "BUTTOCKS_EXPOSED",
    "ANUS_EXPOSED",
)

# Zero-shot softmax scale of transcript signals when one sets none: the scale all-MiniLM-L6-v2
# was trained with. CLIP and CLAP signals use the logit scale their model learnt instead, read
# from the checkpoint by its encoder (``logit_scale``; 100 for OpenAI's CLIP).
TRANSCRIPT_SCALE = 20.0


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Signal(_Strict):
    name: str | None = Field(None, description="unique within the category; default: the type")
    threshold: float = Field(..., ge=0, le=1, description="the signal fires at or above this")
    required: bool = Field(
        False, description="true: a missing model is an error instead of a skipped signal"
    )
    strong: float | None = Field(
        None, ge=0, description="at or above this the signal flags the category on its own"
    )

    @model_validator(mode="after")
    def _strong_above_threshold(self) -> _Signal:
        if self.strong is not None and self.strong < self.threshold:
            raise ValueError(
                f"strong {self.strong} is below threshold {self.threshold}: a strong score "
                f"must be at least the score at which the signal fires"
            )
        return self

    @property
    def key(self) -> str:
        return self.name or self.type  # type: ignore[attr-defined]


class ZeroShotSignal(_Signal):
    """Prompts scored against frames (clip), the sound (clap) or transcript lines (transcript)."""

    type: Literal["clip", "clap", "transcript"]
    positive: list[str] = Field(..., min_length=1, description="what the category looks like")
    negative: list[str] = Field(
        ..., min_length=1, description="what ordinary content looks like (needed for a contrast)"
    )
    scale: float | None = Field(
        None, gt=0, description="softmax scale; default: the model's learnt one (20: transcript)"
    )

    def softmax_scale(self, encoder: object) -> float:
        """The policy's scale, else the one ``encoder`` (the signal's CLIP or CLAP) learnt, else
        the transcript default."""
        if self.scale is not None:
            return self.scale
        if self.type == "transcript":
            return TRANSCRIPT_SCALE
        return float(encoder.logit_scale)  # type: ignore[attr-defined]


class NudeNetSignal(_Signal):
    type: Literal["nudenet"]
    classes: list[str] = Field(default_factory=lambda: list(NUDENET_EXPOSED), min_length=1)
    model: str | None = Field(None, description="an .onnx file; default: the bundled 320n.onnx")
    resolution: int = Field(320, ge=32, description="the model's input size (640 for 640m.onnx)")

    @field_validator("classes")
    @classmethod
    def _known_classes(cls, classes: list[str]) -> list[str]:
        unknown = [c for c in classes if c not in NUDENET_CLASSES]
        if unknown:
            raise ValueError(
                f"unknown NudeNet class {', '.join(unknown)}: expected some of "
                f"{', '.join(NUDENET_CLASSES)}"
            )
        return classes


class OpenNsfwSignal(_Signal):
    type: Literal["open_nsfw"]
    model: str | None = Field(None, description="an .onnx file; default: the bundled model")


class WordListSignal(_Signal):
    """Listed words or phrases said in the clip (whole words, case-insensitive)."""

    type: Literal["wordlist"]
    threshold: int = Field(1, ge=1, description="hits in one clip needed to fire")
    words: list[str] = Field(default_factory=list, description="entries written in the policy")
    files: list[str] = Field(
        default_factory=list, description="word-list files: bundled:NAME or a path"
    )

    @model_validator(mode="after")
    def _has_entries(self) -> WordListSignal:
        if not self.words and not self.files:
            raise ValueError("a wordlist signal needs `words`, `files` or both")
        for file in self.files:
            read_word_list(word_list_path(file))  # a missing or malformed list fails here
        return self


class ClassifierSignal(_Signal):
    """The supervised head of a category scored on each transcript or screen line."""

    type: Literal["classifier"]
    head: str | None = Field(None, description="whose head; default: the category's own")

    @field_validator("head")
    @classmethod
    def _known_head(cls, head: str | None) -> str | None:
        if head is not None and head not in HEAD_CATEGORIES:
            raise ValueError(f"no head {head!r}: expected one of {', '.join(HEAD_CATEGORIES)}")
        return head


class ProfanitySignal(_Signal):
    """alt-profanity-check's model scored on each transcript or screen line."""

    type: Literal["profanity_check"]


TEXT_SIGNALS = ("transcript", "wordlist", "classifier", "profanity_check")
AnySignal = (
    ZeroShotSignal
    | NudeNetSignal
    | OpenNsfwSignal
    | WordListSignal
    | ClassifierSignal
    | ProfanitySignal
)
Signal = Annotated[AnySignal, Field(discriminator="type")]


class Category(_Strict):
    description: str = ""
    custom: bool = Field(False, description="true for a category not in KNOWN_CATEGORIES")
    agree: int = Field(1, ge=1, description="signals that must fire together on one clip")
    signals: list[Signal] = Field(..., min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> Category:
        keys = [s.key for s in self.signals]
        doubled = sorted({k for k in keys if keys.count(k) > 1})
        if doubled:
            raise ValueError(
                f"two signals are named {', '.join(doubled)}: give each a distinct `name`"
            )
        if self.agree > len(self.signals):
            raise ValueError(
                f"agree is {self.agree} but the category has {len(self.signals)} signals: "
                f"lower agree or add signals"
            )
        return self


class FrameSampling(_Strict):
    """How frames are sampled for the frame detectors (nudenet, open_nsfw)."""

    rate: float = Field(1.0, gt=0, description="frames per second examined")
    max_side: int = Field(640, ge=64, description="frames are decoded at most this large")
    duplicate_threshold: float = Field(
        3.0, ge=0, description="mean abs grey change (0-255) under which a frame repeats the last"
    )
    batch_size: int = Field(8, ge=1)


class Policy(_Strict):
    name: str
    version: Literal[1] = 1
    frames: FrameSampling = FrameSampling()
    categories: dict[str, Category] = Field(..., min_length=1)

    @model_validator(mode="after")
    def _known_categories(self) -> Policy:
        unknown = [
            n for n, c in self.categories.items() if n not in KNOWN_CATEGORIES and not c.custom
        ]
        if unknown:
            raise ValueError(
                f"unknown category {', '.join(unknown)}: expected one of "
                f"{', '.join(KNOWN_CATEGORIES)}, or set `custom: true` on a category of your own"
            )
        for name, category in self.categories.items():
            for signal in category.signals:
                if isinstance(signal, ClassifierSignal) and (signal.head or name) not in (
                    HEAD_CATEGORIES
                ):
                    raise ValueError(
                        f"categories.{name}: a classifier signal needs a head, and there is none "
                        f"for {name}: set `head` to one of {', '.join(HEAD_CATEGORIES)}"
                    )
        return self

    def signals(self) -> list[tuple[str, AnySignal]]:
        """Every (category, signal) in file order."""
        return [(name, s) for name, category in self.categories.items() for s in category.signals]

    def signal(self, category: str, key: str) -> AnySignal:
        return next(s for s in self.categories[category].signals if s.key == key)


def load_policy(path: str | Path | None = None) -> Policy:
    """Read and validate a policy file (default: the bundled ``configs/moderation.yaml``).

    Relative word-list and model paths are taken relative to the policy file.
    """
    path = Path(path) if path is not None else DEFAULT_POLICY
    data = read_yaml_mapping(path, "policy", "`categories`")
    _anchor_paths(data, path.parent)
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_problem(e) for e in exc.errors())
        raise ConfigError(f"policy {path} is invalid: {problems}") from exc
    _check_model_files(policy, path)
    return policy


def _anchor_paths(data: dict, folder: Path) -> None:
    """Make relative word-list and model paths relative to the policy's folder."""
    categories = data.get("categories")
    if not isinstance(categories, dict):
        return
    for category in categories.values():
        signals = category.get("signals") if isinstance(category, dict) else None
        if not isinstance(signals, list):
            continue  # validation names what is wrong with it
        for signal in signals:
            if not isinstance(signal, dict):
                continue
            if isinstance(signal.get("files"), list):
                signal["files"] = [_anchored(f, folder) for f in signal["files"]]
            if isinstance(signal.get("model"), str):
                signal["model"] = _anchored(signal["model"], folder)


def _anchored(value, folder: Path):
    if not isinstance(value, str) or value.startswith(BUNDLED_PREFIX):
        return value
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else folder / path)


def _check_model_files(policy: Policy, path: Path) -> None:
    for category, signal in policy.signals():
        model = getattr(signal, "model", None)
        if model is not None and not Path(model).is_file():
            raise ModelMissingError(
                f"policy {path}: categories.{category} signal {signal.key} names the model file "
                f"{model}, which does not exist: fix the path, or remove `model` to use the "
                f"one bundled with the {signal.type} package"
            )


def _problem(error: dict) -> str:
    """One validation error as ``categories.nudity.signals[0].nudenet.threshold: msg, found x``."""
    where = ""
    for part in error["loc"]:
        where += f"[{part}]" if isinstance(part, int) else f".{part}"
    message = error["msg"].removeprefix("Value error, ")
    shown = error["type"] not in ("value_error", "missing") and not isinstance(
        error["input"], (dict, list)
    )
    found = f", found {error['input']!r}" if shown else ""
    return f"{where.lstrip('.') or 'policy'}: {message}{found}"
