"""Models exported once to ONNX and run by onnxruntime on one CPU thread.

A small network's eager torch pass on a CPU costs two to three times what onnxruntime takes for
the same graph (the sentence encoder's queries, the visual CNN at ingest: benchmarks/README.md).
Each export is made at first use into ``$MMR_CACHE/onnx``, under a key of what it was made from
and the torch version that traced it; its caller checks it against torch before using it, and
may keep what the check found beside the file (``recorded_check``) so that a later process uses
the export without loading torch at all.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from mmretrieval.models import cache_dir, cache_name

log = logging.getLogger(__name__)

ONNX_AGREEMENT = 0.9999  # least cosine between an export's output and torch's on probe inputs


def cached_export(name: str, key: Iterable[str], export: Callable[[Path], None]) -> Path:
    """The ONNX file of ``name``: made by ``export(path)`` the first time, then found again by
    ``key`` (what the model was made from: weight files, sizes) and the installed torch version
    (read without importing torch)."""
    digest = hashlib.sha1()
    for part in [*key, importlib.metadata.version("torch")]:
        digest.update(f"{part};".encode())
    path = cache_dir("onnx") / f"{cache_name(name)}-{digest.hexdigest()[:16]}.onnx"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    log.info("exporting %s to ONNX (once): %s", name, path)
    with tempfile.TemporaryDirectory(dir=path.parent) as scratch:  # another process may too
        written = Path(scratch) / path.name
        export(written)
        os.replace(written, path)
    return path


def recorded_check(path: Path, check: Callable[[], dict]) -> dict:
    """What ``check()`` found of the export at ``path`` against torch (its least cosine, the
    settings it ran with), measured once per export and onnxruntime version and kept beside it:
    loading torch to check again would cost a one-off query process more than the query."""
    import onnxruntime

    record = path.with_suffix(".json")
    try:
        facts = json.loads(record.read_text())
        if facts.get("onnxruntime") == onnxruntime.__version__:
            return facts
    except (OSError, ValueError):
        pass  # not checked yet, or by a process that stopped while writing
    facts = {**check(), "onnxruntime": onnxruntime.__version__}
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".json", delete=False) as out:
        json.dump(facts, out)
    os.replace(out.name, record)
    return facts


def file_key(path: Path) -> str:
    """A weight file as part of a ``cached_export`` key: where it is, its size and its time."""
    stat = path.stat()
    return f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


def one_thread_session(path: Path):
    """An onnxruntime CPU session on one thread: the model runs beside other stages (or is a
    query), and one thread gives the same sums whatever the process's thread count."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def least_cosine(exported: np.ndarray, own: np.ndarray) -> float:
    """The lowest cosine between an export's output rows and torch's for the same probe inputs
    (an export is used when it reaches ``ONNX_AGREEMENT``)."""
    products = np.sum(exported * own, axis=1)
    return float(
        np.min(products / (np.linalg.norm(exported, axis=1) * np.linalg.norm(own, axis=1)))
    )
