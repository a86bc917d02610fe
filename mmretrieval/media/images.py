"""Still images (image queries) as models see them: RGB and upright.

A phone stores a portrait photo as landscape pixels with an EXIF Orientation tag (6: turn 90
degrees clockwise to view); a viewer applies it, so a model must too, or it embeds the photo
sideways. Every still is read here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from mmretrieval.errors import MediaError


def load_image(path: Path) -> np.ndarray:
    """The image at ``path`` as an RGB uint8 array (height, width, 3), turned and mirrored as
    its EXIF orientation says."""
    try:
        with Image.open(path) as image:
            return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    except (OSError, UnidentifiedImageError) as exc:
        raise MediaError(f"cannot read image {path}: {exc}") from exc


def checked_rgb(image: np.ndarray) -> np.ndarray:
    """``image`` as an array, if it is what the picture models take: RGB uint8, (h, w, 3)."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(
            f"expected an RGB uint8 image of shape (height, width, 3), "
            f"got {image.dtype} {image.shape}"
        )
    return image
