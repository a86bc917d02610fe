"""Choosing where models run: CUDA when present and asked for (``auto``), else the CPU."""

from __future__ import annotations


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
