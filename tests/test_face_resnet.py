"""dlib's ResNet face descriptor run by torch (adapters/face_resnet.py): the same descriptors as
dlib's own on real face chips (the public-domain NASA astronaut, as a photograph and as footage),
checked once against dlib and cached, and dlib's own where the network disagrees."""

from __future__ import annotations

import logging
import shutil

import _dlib_pybind11 as dlib
import cv2
import numpy as np
import pytest
from people_media import astronaut
from skimage import data

from mmretrieval.adapters.face import CHIP, DESCRIPTOR, LANDMARKS, get_model_path
from mmretrieval.adapters.face_resnet import AGREE, Descriptor, build, cache_path, read_weights
from mmretrieval.media.decode import iter_frames


@pytest.fixture(scope="module")
def models():
    folder = get_model_path()
    resnet = dlib.face_recognition_model_v1(str(folder / DESCRIPTOR))
    return folder, lambda chip: np.asarray(resnet.compute_face_descriptor(chip))


def _chips(images: list[np.ndarray]) -> list[np.ndarray]:
    """The aligned 150x150 chip of every face dlib finds in ``images``."""
    folder = get_model_path()
    detector = dlib.get_frontal_face_detector()
    landmarks = dlib.shape_predictor(str(folder / LANDMARKS))
    chips = []
    for image in images:
        image = np.ascontiguousarray(image)
        for rect in detector(image, 1):
            chips.append(np.asarray(dlib.get_face_chip(image, landmarks(image, rect), size=CHIP)))
    return chips


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_the_torch_network_gives_dlibs_descriptors_on_real_faces(models, faces):
    folder, dlib_descriptor = models
    photo = astronaut()
    images = []
    for size in (300, 200, 120):  # faces of ~110 to ~45 px
        scaled = cv2.resize(photo, (size, size), interpolation=cv2.INTER_AREA)
        images += [scaled, cv2.GaussianBlur(scaled, (0, 0), 1.5), scaled[:, ::-1]]
        images.append(np.clip(scaled.astype(np.int16) + 40, 0, 255).astype(np.uint8))
    path = faces / "media" / "news.mp4"  # the astronaut composited into encoded footage
    images += [frame for _, frame in iter_frames(path, 1.0, 6.5, 13.5, max_side=640)]
    chips = _chips(images)
    assert len(chips) >= 15
    chips += [np.ascontiguousarray(data.coffee()[100:250, 200:350])]  # any picture: one network
    net = build(read_weights(folder / DESCRIPTOR))
    import torch

    with torch.inference_mode():
        ours = net(torch.from_numpy(np.stack(chips))).numpy()
    theirs = np.stack([dlib_descriptor(chip) for chip in chips])
    assert _cosines(ours, theirs).min() >= AGREE
    assert np.abs(ours - theirs).max() < 1e-4  # the same numbers, not only the same direction
    assert _cosines(ours[1:], ours[:-1]).min() < 0.99  # the chips differ: not one vector for all


def test_the_network_is_checked_against_dlib_once_then_read_from_the_cache(
    models, monkeypatch, tmp_path
):
    folder, dlib_descriptor = models
    monkeypatch.setenv("MMR_CACHE", str(tmp_path))
    calls = []

    def counted(chip):
        calls.append(chip)
        return dlib_descriptor(chip)

    chips = _chips([astronaut()])
    first = Descriptor(folder / DESCRIPTOR, counted)
    assert not cache_path(folder / DESCRIPTOR).exists()
    vectors = first(chips)
    assert len(calls) == 1 and cache_path(folder / DESCRIPTOR).exists()  # checked, then kept
    assert np.array_equal(first(chips), vectors) and len(calls) == 1
    later = Descriptor(folder / DESCRIPTOR, counted)  # another process: loads the checked weights
    assert np.array_equal(later(chips), vectors) and len(calls) == 1
    assert _cosines(vectors, np.stack([dlib_descriptor(c) for c in chips])).min() >= AGREE
    blocked = tmp_path / "not_a_folder"  # a cache that cannot be written: checked all the same
    blocked.write_text("")
    monkeypatch.setenv("MMR_CACHE", str(blocked))
    calls.clear()
    unkept = Descriptor(folder / DESCRIPTOR, counted)
    assert np.array_equal(unkept(chips), vectors) and len(calls) == 1
    assert np.array_equal(unkept(chips), vectors) and len(calls) == 1


def test_dlib_computes_the_descriptors_when_the_network_disagrees_or_cannot_be_read(
    models, monkeypatch, tmp_path, caplog
):
    folder, dlib_descriptor = models
    monkeypatch.setenv("MMR_CACHE", str(tmp_path / "cache"))
    chips = _chips([astronaut()])
    expected = np.stack([dlib_descriptor(chip) for chip in chips])
    damaged = tmp_path / DESCRIPTOR  # the model file with its first convolution's weights zeroed
    shutil.copy(folder / DESCRIPTOR, damaged)
    content = bytearray(damaged.read_bytes())
    start = content.find(b"\x01\x05con_4") + 20
    content[start : start + 2000] = bytes(2000)
    damaged.write_bytes(bytes(content))
    with caplog.at_level(logging.WARNING, logger="mmretrieval.adapters.face_resnet"):
        for model in (damaged, folder / LANDMARKS):  # wrong weights; not this network at all
            descriptor = Descriptor(model, dlib_descriptor)
            assert np.array_equal(descriptor(chips), expected.astype(np.float32))
            assert np.array_equal(descriptor(chips), expected.astype(np.float32))
            assert not cache_path(model).exists()
    assert "agreed with dlib's only to cosine" in caplog.text
    assert "computed by dlib" in caplog.text and "expected" in caplog.text
    with pytest.raises(ValueError, match="expected"):
        read_weights(folder / LANDMARKS)
