"""dlib's ResNet face descriptor, run by torch.

``dlib-bin`` is built without BLAS, so its descriptor network takes ~0.17 s a face, a quarter
of the faces stage. The same network (dlib's published metric-learning ResNet: a 7x7
convolution, 14 residual blocks of two 3x3 convolutions, a 128-d linear layer; input the
150x150 chip of ``dlib.get_face_chip``) runs here in torch in a few milliseconds, with the
weights read from dlib's own serialized model file. ``FaceEncoder`` uses it only once its
descriptor has matched dlib's on a real face; the checked weights are then kept in
``$MMR_CACHE/faces`` so later processes load them without checking again.

dlib's serialization, as far as this file needs it: integers are one byte (bit 7: negative,
low 4 bits: how many bytes follow) and that many little-endian bytes; a string is its length
and its characters; a tensor is a version, four sizes and little-endian float32 values; each
layer writes its name first. The network is written input first, so the layers with weights
come in the order data flows through them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mmretrieval.devices import one_cpu_thread
from mmretrieval.models import cache_dir, cache_name

log = logging.getLogger(__name__)

# (channels, stride of the block's first convolution) of the 14 residual blocks, input first
BLOCKS = [(32, 1)] * 3 + [(64, 2)] + [(64, 1)] * 3 + [(128, 2)] + [(128, 1)] * 2
BLOCKS += [(256, 2)] + [(256, 1)] * 2 + [(256, 2)]
AGREE = 0.9999  # cosine to dlib's descriptor above which the torch network is used


@dataclass(frozen=True)
class Conv:
    weight: np.ndarray  # (out, in, height, width)
    bias: np.ndarray
    stride: int
    padding: int


@dataclass(frozen=True)
class Affine:  # dlib's inference form of batch normalisation: x * gamma + beta per channel
    gamma: np.ndarray
    beta: np.ndarray


class _Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.at = 0

    def int(self) -> int:
        head = self.data[self.at]
        size = head & 0x0F
        value = int.from_bytes(self.data[self.at + 1 : self.at + 1 + size], "little")
        self.at += 1 + size
        return -value if head & 0x80 else value

    def float(self) -> float:  # dlib's portable float: mantissa * 2 ** exponent
        mantissa = self.int()
        return float(np.ldexp(float(mantissa), self.int()))

    def tensor(self) -> np.ndarray:
        version = self.int()
        if version != 2:
            raise ValueError(f"expected a version 2 dlib tensor, found version {version}")
        count = int(np.prod([self.int() for _ in range(4)]))
        values = np.frombuffer(self.data, "<f4", count, self.at)
        self.at += 4 * count
        return values

    def after(self, name: str) -> None:
        """Move past the next layer called ``name``."""
        token = bytes([1, len(name)]) + name.encode()
        found = self.data.find(token, self.at)
        if found < 0:
            raise ValueError(f"expected a {name!r} layer after byte {self.at}, found none")
        self.at = found + len(token)


@dataclass(frozen=True)
class Weights:
    means: tuple[float, float, float]  # per RGB channel, subtracted before dividing by 256
    layers: list  # Conv and Affine in the order data meets them
    projection: np.ndarray  # (256, 128): the descriptor is the pooled features times this


def read_weights(path: Path) -> Weights:
    """The weights of dlib's ResNet descriptor from its serialized model file; the layers
    found must be the network's (29 convolutions of the expected shapes, each followed by its
    affine layer, then the 256 -> 128 projection), else ValueError."""
    reader = _Reader(path.read_bytes())
    reader.after("input_rgb_image_sized")
    means = (reader.float(), reader.float(), reader.float())
    shapes = [(32, 3, 7, 2, 0)]  # (out, in, size, stride, padding) of each convolution
    channels = 32
    for width, stride in BLOCKS:
        shapes += [(width, channels, 3, stride, 0 if stride > 1 else 1), (width, width, 3, 1, 1)]
        channels = width
    layers: list = []
    for out, inputs, size, stride, padding in shapes:
        reader.after("con_4")
        params = reader.tensor()
        found = [reader.int() for _ in range(7)]  # filters, rows, columns, strides, paddings
        if found != [out, size, size, stride, stride, padding, padding]:
            raise ValueError(f"expected convolution {out}x{size}x{size}/{stride}, found {found}")
        weights = out * inputs * size * size
        weight = params[:weights].reshape(out, inputs, size, size)
        layers.append(Conv(weight, params[weights : weights + out], stride, padding))
        reader.after("affine_")
        params = reader.tensor()
        if params.size != 2 * out:
            raise ValueError(f"expected {2 * out} affine parameters, found {params.size}")
        layers.append(Affine(params[:out], params[out:]))
    reader.after("fc_2")
    outputs, inputs = reader.int(), reader.int()
    params = reader.tensor()
    if (outputs, inputs, params.size) != (128, 256, 256 * 128):
        raise ValueError(f"expected a 256 -> 128 projection, found {inputs} -> {outputs}")
    return Weights(means, layers, params.reshape(256, 128))


def build(weights: Weights):
    """The torch module of ``weights``: (n, 150, 150, 3) uint8 RGB chips -> (n, 128)."""
    import torch
    import torch.nn.functional as F

    tensors = []  # conv2d's (weight, bias, stride, padding), each affine layer folded in
    for conv, affine in zip(weights.layers[::2], weights.layers[1::2], strict=True):
        gamma = torch.from_numpy(affine.gamma.copy())
        weight = torch.from_numpy(conv.weight.copy()) * gamma[:, None, None, None]
        bias = torch.from_numpy(conv.bias.copy()) * gamma + torch.from_numpy(affine.beta.copy())
        tensors.append((weight, bias, conv.stride, conv.padding))
    means = torch.tensor(weights.means, dtype=torch.float32)[None, :, None, None]
    projection = torch.from_numpy(weights.projection.copy())

    def add(block: torch.Tensor, shortcut: torch.Tensor) -> torch.Tensor:
        """dlib's sum of two tensors of different sizes: the smaller one zero-padded (after
        its last channels, rows and columns)."""
        if block.shape == shortcut.shape:
            return block + shortcut
        shape = [max(a, b) for a, b in zip(block.shape, shortcut.shape, strict=True)]
        total = block.new_zeros(shape)
        for part in (block, shortcut):
            n, c, h, w = part.shape
            total[:n, :c, :h, :w] += part
        return total

    class DlibResNet(torch.nn.Module):
        def forward(self, chips: torch.Tensor) -> torch.Tensor:
            x = (chips.permute(0, 3, 1, 2).float() - means) / 256.0
            x = F.max_pool2d(F.relu(F.conv2d(x, *tensors[0])), 3, 2)
            for first, second in zip(tensors[1::2], tensors[2::2], strict=True):
                y = F.conv2d(F.relu(F.conv2d(x, *first)), *second)
                shortcut = F.avg_pool2d(x, 2, 2) if first[2] > 1 else x  # a block that halves
                x = F.relu(add(y, shortcut))
            return x.mean(dim=(2, 3)) @ projection

    return DlibResNet().eval()


def cache_path(model: Path) -> Path:
    """Where the checked weights of ``model`` are kept: keyed by the model file, dlib's
    version and torch's (the check compared those two)."""
    import _dlib_pybind11 as dlib
    import torch

    stat = model.stat()
    key = f"{model.resolve()}:{stat.st_size}:{stat.st_mtime_ns}:{dlib.__version__}"
    digest = hashlib.sha1(f"{key}:{torch.__version__}".encode()).hexdigest()[:16]
    cache = cache_dir("faces")
    return cache / f"{cache_name(model.stem)}-{digest}.npz"


def save(weights: Weights, path: Path) -> None:
    """Keep ``weights`` (checked against dlib) at ``path``, written whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {"means": np.asarray(weights.means), "projection": weights.projection}
    for n, layer in enumerate(weights.layers):
        if isinstance(layer, Conv):
            arrays[f"{n}_weight"], arrays[f"{n}_bias"] = layer.weight, layer.bias
            arrays[f"{n}_geometry"] = np.asarray([layer.stride, layer.padding])
        else:
            arrays[f"{n}_gamma"], arrays[f"{n}_beta"] = layer.gamma, layer.beta
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as file:
        np.savez(file, **arrays)
    os.replace(file.name, path)
    log.info("face descriptor weights checked against dlib and cached: %s", path)


def load(path: Path) -> Weights:
    with np.load(path) as arrays:
        layers: list = []
        for n in range(2 + 4 * len(BLOCKS)):
            if n % 2 == 0:
                stride, padding = (int(v) for v in arrays[f"{n}_geometry"])
                layers.append(Conv(arrays[f"{n}_weight"], arrays[f"{n}_bias"], stride, padding))
            else:
                layers.append(Affine(arrays[f"{n}_gamma"], arrays[f"{n}_beta"]))
        means = tuple(float(v) for v in arrays["means"])
        return Weights(means, layers, arrays["projection"])  # type: ignore[arg-type]


class Descriptor:
    """Face chips -> dlib's 128-d descriptors, computed by the torch network once it has
    matched dlib's own descriptor (``dlib_descriptor``, one chip -> its vector) on the first
    face it is given, or was checked so before (the cache); by dlib otherwise, with a warning
    if the network could not be read or disagreed."""

    def __init__(self, model: Path, dlib_descriptor: Callable[[np.ndarray], np.ndarray]):
        self._dlib = dlib_descriptor
        self._cached = cache_path(model)
        self._unchecked: Weights | None = None
        self._net = None
        try:
            if self._cached.exists():
                weights = load(self._cached)
            else:
                weights = self._unchecked = read_weights(model)
            self._net = build(weights)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("face descriptors computed by dlib (slower): %s unread (%s)", model, exc)

    def __call__(self, chips: Sequence[np.ndarray]) -> np.ndarray:
        """(n, 128) float32 descriptors of n 150x150 RGB uint8 chips (not normalised)."""
        if self._net is not None:
            import torch

            with torch.inference_mode(), one_cpu_thread("cpu"):
                vectors = self._net(torch.from_numpy(np.stack(chips))).numpy()
            if self._unchecked is None or self._agrees(vectors[0], self._dlib(chips[0])):
                return vectors
        return np.stack([self._dlib(chip) for chip in chips]).astype(np.float32)

    def _agrees(self, ours: np.ndarray, theirs: np.ndarray) -> bool:
        """Whether the network's descriptor of a real face matches dlib's; keeps the weights
        for later processes if so (where the cache can be written), else falls back to dlib
        for good."""
        norms = float(np.linalg.norm(ours) * np.linalg.norm(theirs))
        cosine = float(ours @ theirs) / max(norms, 1e-12)
        if cosine < AGREE:
            message = "face descriptors computed by dlib (slower): the torch network's agreed "
            log.warning(message + "with dlib's only to cosine %.6f (expected >= %s)", cosine, AGREE)
            self._net = None
            return False
        try:
            save(self._unchecked, self._cached)
        except OSError as exc:  # this process still uses the network: it was checked
            log.warning("face descriptor weights not cached at %s (%s)", self._cached, exc)
        self._unchecked = None
        return True
