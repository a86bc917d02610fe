"""A cheap measure of how much the picture changed, to skip frames that repeat the last one."""

from __future__ import annotations

import cv2
import numpy as np

THUMB_SIZE = (64, 36)


def thumbnail(frame: np.ndarray) -> np.ndarray:
    """A tiny grey version of an RGB frame (area-averaged, so noise does not count)."""
    return cv2.resize(frame, THUMB_SIZE, interpolation=cv2.INTER_AREA).mean(axis=2)


def picture_change(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute grey-level difference (0-255) between two thumbnails."""
    return float(np.abs(a - b).mean())
