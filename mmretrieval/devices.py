"""Choosing where models run: CUDA when present and asked for (``auto``), else the CPU, and
how many CPU threads a process's models may use."""

from __future__ import annotations

import ctypes
import importlib.metadata
import os
import platform
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


# glibc's mallopt parameters, and how much freed memory a heap keeps for reuse
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_MAX = -1, -2, -4
KEPT_FREE = 64 * 2**20


def reuse_freed_memory() -> None:
    """Let glibc's malloc reuse the large blocks a process frees, instead of mapping each anew.

    CTranslate2 on the CPU takes its buffers from malloc, and the encoder's attention scores of
    one 30 s window are 54 MB a layer (6 x 1500 x 1500 floats), above the largest size glibc
    recycles (32 MB): every block was mapped afresh, and the kernel faulted in and zeroed its
    pages, ~8% of speech recognition's CPU (benchmarks/README.md, ingest); onnxruntime's
    tensors for OCR (no memory arena) came and went with whole heaps the same way. With no
    block mapped apart, and each heap keeping up to ``KEPT_FREE`` of freed memory (not handed
    back, nor its heap dropped), the same pages serve the next window. The values computed are
    the same; only glibc has these settings (elsewhere: nothing is done)."""
    if platform.libc_ver()[0] != "glibc":
        return
    mallopt = ctypes.CDLL(None).mallopt
    mallopt(M_MMAP_MAX, 0)
    mallopt(M_TRIM_THRESHOLD, KEPT_FREE)
    mallopt(M_TOP_PAD, KEPT_FREE)


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
