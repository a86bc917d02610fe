"""Still images: every EXIF orientation comes back upright, as a viewer shows the photo."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mmretrieval.errors import MediaError
from mmretrieval.media.images import load_image

ORIENTATION = 0x0112


def _upright() -> np.ndarray:
    """A 40 x 64 (width x height) picture that looks different in each of the 8 orientations."""
    picture = np.full((64, 40, 3), 50, np.uint8)
    picture[:20, :12] = (240, 20, 20)  # red top-left
    picture[50:, 30:] = (20, 20, 240)  # blue bottom-right
    picture[30:34, :] = (20, 220, 20)  # a green band
    return picture


# What a camera stores for each EXIF orientation so that the viewer, applying the tag, shows
# the upright picture (the tag says how to turn the stored pixels to view them).
STORED = {
    1: lambda up: up,
    2: lambda up: up[:, ::-1],  # mirrored left-right
    3: lambda up: up[::-1, ::-1],  # upside down
    4: lambda up: up[::-1],  # mirrored top-bottom
    5: lambda up: up.transpose(1, 0, 2),  # mirrored along the main diagonal
    6: lambda up: np.rot90(up, 1),  # view by turning 90 degrees clockwise (phone portrait)
    7: lambda up: np.rot90(up, 2).transpose(1, 0, 2),  # mirrored along the other diagonal
    8: lambda up: np.rot90(up, -1),  # view by turning 90 degrees counter-clockwise
}


def _save(path, pixels: np.ndarray, orientation: int, **options) -> None:
    image = Image.fromarray(np.ascontiguousarray(pixels))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    image.save(path, exif=exif, **options)


@pytest.mark.parametrize("orientation", sorted(STORED))
def test_every_exif_orientation_comes_back_upright(tmp_path, orientation):
    upright = _upright()
    path = tmp_path / "photo.png"  # lossless, so the pixels must be equal
    _save(path, STORED[orientation](upright), orientation)
    pixels = load_image(path)
    assert pixels.dtype == np.uint8 and pixels.flags.c_contiguous
    np.testing.assert_array_equal(pixels, upright)


def test_phone_jpeg_tagged_orientation_6_is_upright(tmp_path):
    upright = _upright()
    path = tmp_path / "phone.jpg"
    _save(path, STORED[6](upright), 6, quality=95)
    pixels = load_image(path)
    assert pixels.shape == upright.shape  # portrait, as taken
    assert np.abs(pixels.astype(int) - upright).mean() < 4


def test_greyscale_and_rgba_become_rgb(tmp_path):
    Image.new("L", (8, 6), 200).save(tmp_path / "grey.png")
    Image.new("RGBA", (8, 6), (10, 20, 30, 128)).save(tmp_path / "alpha.png")
    np.testing.assert_array_equal(load_image(tmp_path / "grey.png"), np.full((6, 8, 3), 200))
    assert load_image(tmp_path / "alpha.png").shape == (6, 8, 3)


def test_unreadable_image_is_a_media_error_naming_it(tmp_path):
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"not a picture")
    with pytest.raises(MediaError, match="broken.jpg"):
        load_image(path)
    with pytest.raises(MediaError, match="missing.png"):
        load_image(tmp_path / "missing.png")
