"""The ``clip`` space (the hub space): a CLIP model embedding video frames and text queries.

Any checkpoint that transformers' ``CLIPModel`` loads works: a hub id (OpenAI's, LAION's
OpenCLIP conversions) or a folder written by ``save_pretrained``. Frames are embedded one by
one; ``mmretrieval.embed`` pools them per clip and keeps the per-frame vectors to say which
moment of a clip matched best.

Fed as CLIP was trained: images through the checkpoint's own processor (shortest side resized to
``input_side``, 224 for ViT-B/32, then a centre crop), so frames are decoded with their shortest
side at ``input_side`` (never a wide frame's height below it); text cut at the model's 77
tokens. The model runs in float32 on the CPU whatever dtype the checkpoint was saved in (half
precision there is slow and less exact); on CUDA in the profile's ``dtype``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from mmretrieval.adapters.tokens import over_limit, tokenize
from mmretrieval.config import ClipConfig
from mmretrieval.devices import torch_device
from mmretrieval.errors import ModelMissingError
from mmretrieval.media.images import checked_rgb
from mmretrieval.models import resolve

log = logging.getLogger(__name__)


class ClipEncoder:
    space = "clip"

    def __init__(self, config: ClipConfig):
        import torch
        from transformers import AutoProcessor, CLIPModel
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # our CLI draws its own progress
        self.model_id = config.model
        self.batch_size = config.batch_size
        self.device = torch_device(config.device)
        self.dtype = torch.float32
        if self.device != "cpu":
            self.dtype = getattr(torch, config.dtype)
        elif config.dtype != "float32":
            log.info("CLIP runs in float32 on the CPU (dtype %s is for CUDA)", config.dtype)
        path = resolve(config.model)
        try:
            self.model = CLIPModel.from_pretrained(path, dtype=self.dtype)
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
        # The softmax scale CLIP learnt for image-text logits (zero-shot moderation uses it).
        self.logit_scale = float(self.model.logit_scale.detach().float().exp())
        size = self.processor.image_processor.size
        # The side the processor resizes an image's shortest side to (or its fixed square).
        self.input_side = int(size.get("shortest_edge") or max(size["height"], size["width"]))

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        """Texts -> (n, dim) unit vectors; text longer than the model's context is cut (logged;
        ``truncated`` says which)."""
        texts = list(texts)
        return self._embed(
            texts,
            lambda batch: tokenize(
                self.processor.tokenizer, batch, self.max_text_tokens, self.model_id
            ),
            self.model.get_text_features,
        )

    def truncated(self, texts: Sequence[str]) -> list[bool]:
        """Which texts are longer than the model's context, so only their start is embedded."""
        return over_limit(self.processor.tokenizer, texts, self.max_text_tokens)

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """RGB uint8 images (H, W, 3), any size -> (n, dim) unit vectors."""
        images = [checked_rgb(image) for image in images]
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
                inputs = {
                    key: value.to(self.device, self.dtype)
                    if value.is_floating_point()
                    else value.to(self.device)
                    for key, value in inputs.items()
                }
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
