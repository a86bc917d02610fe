"""The ``text`` space: a sentence-transformers encoder over transcripts and on-screen text."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from mmretrieval.config import TextConfig
from mmretrieval.devices import torch_device
from mmretrieval.models import resolve

QUERY_CACHE = 256  # single texts (queries) whose vectors are kept: one query asks for it twice


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
        self._remembered = lru_cache(maxsize=QUERY_CACHE)(lambda text: self._encode([text]))

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        """Texts -> (n, dim) unit vectors. A single text (a query) is remembered: the query
        encoder and the visual labels both need its vector, and a user pages through results."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) == 1:
            return self._remembered(texts[0]).copy()
        return self._encode(texts)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
