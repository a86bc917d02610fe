"""The ``clip`` space (the hub space): a CLIP model embedding video frames and text queries.

Any checkpoint that transformers' ``CLIPModel`` loads works: a hub id (OpenAI's, LAION's
OpenCLIP conversions) or a folder written by ``save_pretrained``. Frames are embedded one by
one; ``mmretrieval.embed`` pools them per clip and keeps the per-frame vectors to say which
moment of a clip matched best.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mmretrieval.config import ClipConfig
from mmretrieval.devices import torch_device
from mmretrieval.errors import ModelMissingError
from mmretrieval.models import resolve


class ClipEncoder:
    space = "clip"

    def __init__(self, config: ClipConfig):
        from transformers import AutoProcessor, CLIPModel
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # our CLI draws its own progress
        self.model_id = config.model
        self.batch_size = config.batch_size
        self.device = torch_device(config.device)
        path = resolve(config.model)
        try:
            self.model = CLIPModel.from_pretrained(path)
            self.processor = AutoProcessor.from_pretrained(path)
        except (OSError, ValueError) as exc:
            raise ModelMissingError(
                f"{config.model} ({path}) is not a CLIP checkpoint that transformers' CLIPModel "
                f"and AutoProcessor can load: {exc}. Point the profile's clip model at a CLIP "
                f"hub id or a save_pretrained folder holding config, weights and processor files."
            ) from exc
        self.model.to(self.device).eval()
        self.dim = int(self.model.config.projection_dim)
        self.max_text_tokens = int(self.model.config.text_config.max_position_embeddings)

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        """Texts -> (n, dim) unit vectors; text longer than the model's context is cut."""
        texts = list(texts)
        return self._embed(
            texts,
            lambda batch: self.processor.tokenizer(
                batch,
                padding=True,
                truncation=True,
                max_length=self.max_text_tokens,
                return_tensors="pt",
            ),
            self.model.get_text_features,
        )

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """RGB uint8 images (H, W, 3), any size -> (n, dim) unit vectors."""
        images = [_checked_image(image) for image in images]
        return self._embed(
            images,
            lambda batch: self.processor.image_processor(
                images=batch, input_data_format="channels_last", return_tensors="pt"
            ),
            self.model.get_image_features,
        )

    def _embed(self, items: list, prepare, features) -> np.ndarray:
        import torch

        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = []
        with torch.inference_mode():
            for start in range(0, len(items), self.batch_size):
                inputs = prepare(items[start : start + self.batch_size])
                inputs = {key: value.to(self.device) for key, value in inputs.items()}
                vectors = _projected(features(**inputs)).float()
                out.append(torch.nn.functional.normalize(vectors, dim=-1).cpu().numpy())
        return np.ascontiguousarray(np.concatenate(out), dtype=np.float32)


def _projected(output):
    """The projected embeddings from ``get_*_features``.

    transformers 5 returns a ``BaseModelOutputWithPooling`` whose ``pooler_output`` holds the
    projected (not normalised) embeddings; transformers 4 returned that tensor itself.
    """
    if hasattr(output, "pooler_output"):
        return output.pooler_output
    return output


def _checked_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(
            f"expected an RGB uint8 image of shape (height, width, 3), "
            f"got {image.dtype} {image.shape}"
        )
    return image
