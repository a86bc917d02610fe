"""Choosing where models run: CUDA when present and asked for (``auto``), else the CPU, and
how many CPU threads a process's models may use."""

from __future__ import annotations

import importlib.metadata
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

_thread_limit: int | None = None  # set once per process by ``limit_cpu_threads``


def limit_cpu_threads(threads: int) -> None:
    """Cap the CPU threads this process's models use, before they load.

    Parallel ingest gives each worker process a share of the cores: torch, ctranslate2 and
    onnxruntime each default to every core, so N workers would otherwise run N times as many
    threads as there are cores.
    """
    import torch

    global _thread_limit
    _thread_limit = threads
    torch.set_num_threads(threads)


def thread_limit() -> int | None:
    """The cap set by ``limit_cpu_threads``, or None: each library's own default (all cores)."""
    return _thread_limit


def side_threads() -> int:
    """CPU threads for a model that runs beside another one: half the process's cores.

    Ingest runs speech recognition beside OCR (``MediaAnalyzer.analyse_file``). With every core
    each, ctranslate2's and onnxruntime's threads wait on each other's cores, spinning: on 2
    cores the offline profile spent about a quarter more CPU for no more speed
    (benchmarks/README.md, ingest).
    """
    return max(1, (thread_limit() or os.cpu_count() or 1) // 2)


def torch_device(setting: str) -> str:
    if setting != "auto":
        return setting
    if _cpu_only_torch():
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _cpu_only_torch() -> bool:
    """Whether the installed torch is a CPU-only build (PyTorch's ``+cpu`` wheels): then there
    is no CUDA to look for, and a query process that runs no torch model need not spend ~2 s
    importing torch to learn so."""
    try:
        return importlib.metadata.version("torch").endswith("+cpu")
    except importlib.metadata.PackageNotFoundError:
        return False  # importing it says what is missing


def ctranslate2_device(setting: str) -> str:
    if setting != "auto":
        return setting
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


@contextmanager
def one_cpu_thread(device: str) -> Iterator[None]:
    """Run a small torch model on one CPU thread for the block (nothing changes on another
    device). Its sums then come out the same whatever thread count the process has, so the
    values stored are identical whether a file is indexed serially or by a worker
    (tests/test_parallel_ingest.py); a small network gains little from a second thread, and on
    cores busy with other stages (or other processes) torch's threads mostly wait for each
    other (benchmarks/README.md: GE2E voices, moderation scans)."""
    import torch

    if device != "cpu":
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@contextmanager
def query_threads() -> Iterator[None]:
    """A query's encoders on one torch thread (``one_cpu_thread``), when torch is loaded. A query
    whose encoders need no torch (the offline profile's text runs in onnxruntime) so never
    imports it: ~2 s of a one-off ``mmr search``. A torch model that first loads inside the
    block answers that one query on torch's default threads: its speed differs, not its values
    (queries are not stored)."""
    if "torch" not in sys.modules:
        yield
        return
    with one_cpu_thread("cpu"):
        yield
