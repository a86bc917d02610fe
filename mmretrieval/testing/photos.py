"""Real photographs as video scenes, for tests and benchmarks of the visual channel.

Generated footage (``synth``) is gradients and captions: nothing an ImageNet model can name.
These are the sample photographs that scikit-image and scikit-learn ship (a cup of espresso,
a cameraman with a tripod, a motor scooter, a cat, a rocket launch, a Chinese palace, a daisy,
an astronaut), rendered as slow pans so that consecutive frames differ as in real footage.
Each carries the ImageNet classes a person would accept for it, the ground truth of
text -> picture queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources
from pathlib import Path

import av
import numpy as np

from mmretrieval.spans import Span


@dataclass(frozen=True)
class Photo:
    name: str
    package: str  # the Python package holding the file
    folder: str
    file: str
    classes: tuple[int, ...]  # ImageNet classes it shows (imagenet_classes.txt order)
    query: str  # words a person would search it by


PHOTOS: dict[str, Photo] = {
    p.name: p
    for p in [
        Photo("espresso", "skimage", "data", "coffee.png", (967, 968, 504), "espresso"),
        Photo("tripod", "skimage", "data", "camera.png", (872,), "tripod"),
        Photo("scooter", "skimage", "data", "motorcycle_left.png", (665, 670), "motor scooter"),
        Photo("cat", "skimage", "data", "chelsea.png", (281, 282, 285), "cat"),
        Photo("rocket", "skimage", "data", "rocket.jpg", (657, 744, 812), "missile"),
        Photo("palace", "sklearn", "datasets/images", "china.jpg", (698,), "palace"),
        Photo("daisy", "sklearn", "datasets/images", "flower.jpg", (985,), "daisy"),
        Photo("astronaut", "skimage", "data", "astronaut.png", (), ""),  # no ImageNet class
    ]
}


def photo(name: str) -> np.ndarray:
    """The photograph as RGB uint8 (grey ones repeated over three channels)."""
    from PIL import Image

    entry = PHOTOS[name]
    path = resources.files(entry.package).joinpath(*entry.folder.split("/"), entry.file)
    with Image.open(str(path)) as image:
        return np.asarray(image.convert("RGB"))


def pan_frame(image: np.ndarray, progress: float, size: tuple[int, int]) -> np.ndarray:
    """The view of a pan across ``image`` at ``progress`` (0-1): a window of 85% of its
    height, at the output's aspect ratio (or the whole width if narrower), moving left to
    right, resized to ``size`` (width, height)."""
    import cv2

    width, height = size
    rows, cols = image.shape[:2]
    window_h = int(rows * 0.85)
    window_w = min(cols, int(window_h * width / height))
    window_h = min(window_h, int(window_w * height / width))
    left = int((cols - window_w) * progress)
    top = (rows - window_h) // 2
    view = image[top : top + window_h, left : left + window_w]
    return cv2.resize(view, (width, height), interpolation=cv2.INTER_AREA)


def photo_video(
    path: Path,
    names: Sequence[str],
    seconds: float = 4.0,
    size: tuple[int, int] = (640, 360),
    fps: int = 10,
) -> list[Span]:
    """A video of the named photographs, ``seconds`` each, panned; where each one lies."""
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    per_scene = round(seconds * fps)
    spans = []
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        index = 0
        for name in names:
            image = photo(name)
            spans.append(Span(index / fps, (index + per_scene) / fps))
            for i in range(per_scene):
                frame = av.VideoFrame.from_ndarray(
                    pan_frame(image, i / max(per_scene - 1, 1), size), format="rgb24"
                )
                frame.pts, frame.time_base = index, Fraction(1, fps)
                container.mux(stream.encode(frame))
                index += 1
        container.mux(stream.encode(None))
    return spans
