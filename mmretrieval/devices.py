"""Choosing where models run: CUDA when present and asked for (``auto``), else the CPU, and
how many CPU threads a process's models may use."""

from __future__ import annotations

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


def torch_device(setting: str) -> str:
    if setting != "auto":
        return setting
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def ctranslate2_device(setting: str) -> str:
    if setting != "auto":
        return setting
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
