"""The ``text`` space: a sentence-transformers encoder over transcripts and on-screen text.

A query (one text) on the CPU runs through an ONNX export of the same weights in onnxruntime,
which takes about 2.5x less CPU than torch's eager pass on a short input (``benchmarks/README.md``,
"At a million clips"). The export is made once, at the first query, into
``$MMR_CACHE/onnx`` (``adapters.exported``), and used only when its vectors agree with
torch's (cosine >= ``ONNX_AGREEMENT``), so an index built by torch keeps answering alike;
otherwise, or when exporting fails, torch encodes the query as it does every batch.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from mmretrieval.adapters.exported import (
    ONNX_AGREEMENT,
    cached_export,
    file_key,
    least_cosine,
    one_thread_session,
)
from mmretrieval.config import TextConfig
from mmretrieval.devices import torch_device
from mmretrieval.models import resolve

log = logging.getLogger(__name__)

QUERY_CACHE = 256  # single texts (queries) whose vectors are kept: one query asks for it twice
PROBES = ("storm damage at the harbour", "Wer hat das gesagt? 42 Menschen, 3. Mai")


class SentenceEncoder:
    space = "text"

    def __init__(self, config: TextConfig):
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # our CLI draws its own progress
        self.model_id = config.model
        self.batch_size = config.batch_size
        self.folder = resolve(config.model)
        self.model = SentenceTransformer(str(self.folder), device=torch_device(config.device))
        self.dim = int(self.model.get_embedding_dimension())
        self._remembered = lru_cache(maxsize=QUERY_CACHE)(self._encode_one)
        self._onnx: OnnxQueryModel | None = None
        self._onnx_tried = False
        self._onnx_lock = threading.Lock()

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        """Texts -> (n, dim) unit vectors. A single text (a query) is remembered: the query
        encoder and the visual labels both need its vector, and a user pages through results."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) == 1:
            return self._remembered(texts[0]).copy()
        return self._encode(texts)

    def _encode_one(self, text: str) -> np.ndarray:
        onnx = self._query_model()
        return onnx.encode([text]) if onnx is not None else self._encode([text])

    def _query_model(self) -> OnnxQueryModel | None:
        """The ONNX export for single texts, made at the first one (None: torch encodes)."""
        with self._onnx_lock:
            if not self._onnx_tried:
                self._onnx_tried = True
                if self.model.device.type == "cpu":
                    self._onnx = self._load_onnx()
            return self._onnx

    def _load_onnx(self) -> OnnxQueryModel | None:
        try:
            path = export_onnx(self.model, self.folder, self.model_id)
            onnx = OnnxQueryModel(path, self.model.tokenizer, self.model.max_seq_length)
            agreement = least_cosine(onnx.encode(PROBES), self._encode(PROBES))
        except Exception as exc:  # no onnx package, an architecture the exporter cannot trace...
            log.info("queries to %s are encoded by torch: no ONNX export (%s)", self.model_id, exc)
            return None
        if agreement < ONNX_AGREEMENT:
            log.info(
                "queries to %s are encoded by torch: its ONNX export agrees only to cosine %.5f "
                "(the model pools otherwise than by the mean)",
                self.model_id,
                agreement,
            )
            return None
        return onnx

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


class OnnxQueryModel:
    """The sentence model's transformer in onnxruntime on one thread, with the model's own
    tokenizer, mean pooling and unit length: the numbers ``SentenceTransformer.encode`` gives."""

    def __init__(self, path: Path, tokenizer, max_length: int):
        self.session = one_thread_session(path)  # one thread, as torch's queries
        self.inputs = [node.name for node in self.session.get_inputs()]
        self.tokenizer = tokenizer
        self.max_length = max_length
        # a fast tokenizer sets its padding and truncation on each call: one caller at a time
        # (the server's threads), or it fails with "Already borrowed"
        self._tokenizing = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        with self._tokenizing:
            batch = self.tokenizer(
                list(texts),
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="np",
            )
        feed = {name: np.asarray(batch[name], dtype=np.int64) for name in self.inputs}
        hidden = self.session.run(None, feed)[0]
        mask = feed["attention_mask"][..., None].astype(np.float32)
        vectors = (hidden * mask).sum(1) / np.maximum(mask.sum(1), 1e-9)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors.astype(np.float32)


def export_onnx(model, folder: Path, name: str) -> Path:
    """The ONNX file of ``model``'s transformer (``name``, loaded from ``folder``), exported on
    first use into the cache, keyed by the weight files and the torch version that traced them."""
    import torch

    files = sorted(p for p in folder.iterdir() if p.is_file())
    probe = model.tokenizer([PROBES[0]], return_tensors="pt")
    names = list(probe.keys())

    class LastHidden(torch.nn.Module):  # positional inputs (the exporter's) -> named ones
        def __init__(self, transformer):
            super().__init__()
            self.transformer = transformer

        def forward(self, *inputs):
            return self.transformer(**dict(zip(names, inputs, strict=True))).last_hidden_state

    def export(path: Path) -> None:
        hidden = LastHidden(model[0].auto_model).eval()
        axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]}
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on shapes it fixes: not ours
            torch.onnx.export(
                hidden,
                tuple(probe[name] for name in names),
                str(path),
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )

    return cached_export(name, [str(folder.resolve()), *map(file_key, files)], export)
