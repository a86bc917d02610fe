"""The ``text`` space: a sentence-transformers encoder over transcripts and on-screen text."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mmretrieval.config import TextConfig
from mmretrieval.devices import torch_device
from mmretrieval.models import resolve


class SentenceEncoder:
    space = "text"

    def __init__(self, config: TextConfig):
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # our CLI draws its own progress
        self.model_id = config.model
        self.batch_size = config.batch_size
        self.model = SentenceTransformer(
            str(resolve(config.model)), device=torch_device(config.device)
        )
        self.dim = int(self.model.get_embedding_dimension())

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
