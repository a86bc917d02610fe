"""Faces: dlib's detector, 5-point landmarks and ResNet face descriptor.

The weights come from the ``face-recognition-models`` package (dlib's models, which their author
released into the public domain; the package is MIT) and run on ``dlib-bin`` (dlib's binary
wheels, Boost licence). The HOG detector is built into dlib. Only the 5-point landmark model is
used: the 68-point one in the same package was trained on data that forbids commercial use.

dlib-bin is built without BLAS (0.17 s a descriptor), so the descriptor network runs in torch
(``face_resnet``: the same weights, read from dlib's model file; ~0.01 s) once it has matched
dlib's own descriptor on a real face; dlib runs it otherwise.

A descriptor is 128 numbers, trained so that photos of one person lie close together (99.38% on
LFW as published). Face descriptors are biometric data: only a profile with a ``face`` section
(``people``) computes them.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, partial
from pathlib import Path

import cv2
import numpy as np

from mmretrieval import channels
from mmretrieval.adapters.face_resnet import Descriptor
from mmretrieval.config import FaceConfig
from mmretrieval.errors import ModelMissingError
from mmretrieval.models import resolve

LANDMARKS = "shape_predictor_5_face_landmarks.dat"
DESCRIPTOR = "dlib_face_recognition_resnet_model_v1.dat"
CHIP = 150  # the aligned face the ResNet reads
NEAR = 0.5  # a face searched for near a known one: within half its size of that box


def get_model_path() -> Path:
    """The folder of the face-recognition-models weights, found without importing that package
    (its ``__init__`` needs pkg_resources, which new setuptools no longer ship)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("face-recognition-models is not installed")
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    missing = [name for name in (LANDMARKS, DESCRIPTOR) if not (folder / name).is_file()]
    if missing:
        raise ImportError(f"face-recognition-models at {folder} lacks {', '.join(missing)}")
    return folder


@dataclass(frozen=True, eq=False)
class Face:
    """One face found in one image: its box (x, y, width, height in pixels), the detector's
    confidence, how sharp it is (variance of the Laplacian of its aligned chip) and how to
    compute its descriptor (``vector``)."""

    box: tuple[int, int, int, int]
    score: float
    sharpness: float
    describe: Callable[[], np.ndarray] = field(repr=False)

    @cached_property
    def vector(self) -> np.ndarray:
        """The L2-normalised descriptor, computed on first use: a track needs only a few of
        its sightings' (where boxes alone cannot link them, and its sharpest)."""
        vector = self.describe()
        return vector / max(float(np.linalg.norm(vector)), 1e-9)

    def without_chip(self) -> Face:
        """This face without the chip its descriptor would be computed from: for a sighting
        no step will ask the descriptor of (a chip is 67 KB, a descriptor 512 bytes)."""
        return replace(self, describe=_chip_released)

    @property
    def area(self) -> int:
        return self.box[2] * self.box[3]


def _chip_released() -> np.ndarray:
    raise RuntimeError("this face's chip was released: its descriptor was not to be needed")


class FaceEncoder:
    """RGB uint8 images -> the faces in them, each with a 128-d descriptor."""

    space = channels.FACE_SPACE
    dim = 128

    def __init__(self, config: FaceConfig):
        self.config = config
        self.model_id = config.model
        folder = resolve(config.model)
        try:
            # dlib's compiled module itself (``dlib`` only re-exports it): dlib-bin's metadata
            # names this module, so the packaging check can tell which distribution provides it
            import _dlib_pybind11 as dlib
        except ImportError as exc:
            raise ModelMissingError(
                f"the face model needs dlib: pip install dlib-bin ({exc})"
            ) from exc
        self._dlib = dlib
        self._detector = dlib.get_frontal_face_detector()
        self._landmarks = dlib.shape_predictor(str(folder / LANDMARKS))
        resnet = dlib.face_recognition_model_v1(str(folder / DESCRIPTOR))  # check and fallback
        self._descriptor = Descriptor(
            folder / DESCRIPTOR, lambda chip: np.asarray(resnet.compute_face_descriptor(chip))
        )

    def faces(
        self,
        image: np.ndarray,
        box: tuple[int, int, int, int] | None = None,
        near: Sequence[Face] = (),
        coarse: bool = False,
    ) -> list[Face]:
        """Every face the detector finds of at least ``min_size`` pixels and ``min_score``
        confidence (or the one face in ``box``, x, y, width, height), largest first; each
        face's descriptor is computed when first asked for.

        With ``near`` (the faces of a neighbouring sampled frame) only the regions around them
        are searched: a fraction of the cost of searching the whole frame. With ``coarse`` the
        whole frame is searched as well, with one upsampling less (the default's smallest faces,
        under ~70 px, are then found only near ``near``): a third of the cost."""
        image = np.ascontiguousarray(image)
        dlib = self._dlib
        if box is not None:
            x, y, w, h = box
            found = [(dlib.rectangle(x, y, x + w, y + h), 1.0)]
        else:
            found = self._detect(image, [face.box for face in near], coarse)
        faces = []
        for rect, score in found:
            chip = np.asarray(dlib.get_face_chip(image, self._landmarks(image, rect), size=CHIP))
            box = (rect.left(), rect.top(), rect.width(), rect.height())
            faces.append(Face(box, score, _sharpness(chip), partial(self._describe, chip)))
        return sorted(faces, key=lambda f: f.area, reverse=True)

    def _describe(self, chip: np.ndarray) -> np.ndarray:
        return self._descriptor([chip])[0]

    def _detect(
        self, image: np.ndarray, near: Sequence[tuple[int, int, int, int]], coarse: bool
    ) -> list:
        """(dlib rectangle, score) of the faces in the image, or only in the regions around the
        boxes ``near`` (and, ``coarse``, in the whole image with one upsampling less); a face
        found in two overlapping regions counts once."""
        # on the grey picture: the HOG detector otherwise takes each pixel's strongest colour
        # gradient, ~40% more time for the same boxes (scores differ by ~0.05)
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        height, width = grey.shape
        upsample = self.config.upsample
        regions = [
            (max(0, x - round(NEAR * w)), max(0, y - round(NEAR * h)),
             min(width, x + w + round(NEAR * w)), min(height, y + h + round(NEAR * h)), upsample)
            for x, y, w, h in near
        ]  # fmt: skip
        if coarse or not near:
            regions.append((0, 0, width, height, max(0, upsample - 1) if coarse else upsample))
        found: list = []
        for left, top, right, bottom, times in regions:
            region = np.ascontiguousarray(grey[top:bottom, left:right])
            rects, scores, _ = self._detector.run(region, times, 0.0)
            for r, s in zip(rects, scores, strict=True):
                if min(r.width(), r.height()) < self.config.min_size or s < self.config.min_score:
                    continue
                rect = self._dlib.translate_rect(r, self._dlib.point(left, top))
                if not any(other.contains(rect.center()) for other, _ in found):
                    found.append((rect, float(s)))
        return found


def _sharpness(chip: np.ndarray) -> float:
    """Variance of the Laplacian of the grey chip: low for a blurred face."""
    grey = chip.astype(np.float32).mean(axis=2)
    laplacian = (
        4 * grey[1:-1, 1:-1] - grey[:-2, 1:-1] - grey[2:, 1:-1] - grey[1:-1, :-2] - grey[1:-1, 2:]
    )
    return float(laplacian.var())
