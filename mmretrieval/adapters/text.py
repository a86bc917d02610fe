"""The ``text`` space: a sentence-transformers encoder over transcripts and on-screen text.

A query (one text) on the CPU runs through an ONNX export of the same weights in onnxruntime,
which takes about 2.5x less CPU than torch's eager pass on a short input (``benchmarks/README.md``,
"At a million clips"). The export is made once, at the first query, into
``$MMR_CACHE/onnx`` (``adapters.exported``), and used only when its vectors agree with
torch's (cosine >= ``ONNX_AGREEMENT``), so an index built by torch keeps answering alike;
otherwise, or when exporting fails, torch encodes the query as it does every batch.

The torch model loads at the first batch (ingest) or to export and check: once an export is
checked, a query process (``mmr search``) runs it with the model's own ``tokenizer.json`` and
never imports torch or sentence-transformers, about 5 s of a one-off query's start.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from mmretrieval.adapters.exported import (
    ONNX_AGREEMENT,
    cached_export,
    file_key,
    least_cosine,
    one_thread_session,
    recorded_check,
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
        self.model_id = config.model
        self.batch_size = config.batch_size
        self.device = config.device
        self.folder = resolve(config.model)
        self._model = None
        self._model_lock = threading.Lock()
        self._remembered = lru_cache(maxsize=QUERY_CACHE)(self._encode_one)
        self._onnx: OnnxQueryModel | None = None
        self._onnx_tried = False
        self._onnx_lock = threading.Lock()

    @property
    def model(self):
        """The sentence-transformers model, loaded at first use (a query may never need it)."""
        with self._model_lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as transformers_logging

                transformers_logging.disable_progress_bar()  # our CLI draws its own progress
                self._model = SentenceTransformer(
                    str(self.folder), device=torch_device(self.device)
                )
            return self._model

    @property
    def dim(self) -> int:
        return int(self.model.get_embedding_dimension())

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
                if torch_device(self.device) == "cpu":
                    self._onnx = self._load_onnx()
            return self._onnx

    def _load_onnx(self) -> OnnxQueryModel | None:
        tokenizer = self.folder / "tokenizer.json"
        try:
            path = export_onnx(self.folder, self.model_id, lambda: self.model)
            facts = recorded_check(path, lambda: self._check(path, tokenizer))
            if facts["least_cosine"] >= ONNX_AGREEMENT:
                return OnnxQueryModel(path, tokenizer, facts["max_length"])
        except Exception as exc:  # no onnx package, no tokenizer.json, an untraceable model...
            log.info("queries to %s are encoded by torch: no ONNX export (%s)", self.model_id, exc)
            return None
        log.info(
            "queries to %s are encoded by torch: its ONNX export agrees only to cosine %.5f "
            "(the model pools otherwise than by the mean)",
            self.model_id,
            facts["least_cosine"],
        )
        return None

    def _check(self, path: Path, tokenizer: Path) -> dict:
        """How closely the export, run as queries run it, agrees with torch on the probes."""
        max_length = int(self.model.max_seq_length)
        onnx = OnnxQueryModel(path, tokenizer, max_length)
        agreement = least_cosine(onnx.encode(PROBES), self._encode(PROBES))
        return {"least_cosine": agreement, "max_length": max_length}

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
    ``tokenizer.json`` (cut at its ``max_length`` tokens), mean pooling and unit length: the
    numbers ``SentenceTransformer.encode`` gives, with neither torch nor transformers loaded."""

    def __init__(self, path: Path, tokenizer: Path, max_length: int):
        from tokenizers import Tokenizer

        self.session = one_thread_session(path)  # one thread, as torch's queries
        self.inputs = [node.name for node in self.session.get_inputs()]
        self.tokenizer = Tokenizer.from_file(str(tokenizer))
        self.tokenizer.no_padding()  # one text at a time: nothing to pad
        self.tokenizer.enable_truncation(max_length)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Each text on its own (queries come one at a time), so no padding enters the sums."""
        return np.concatenate([self._encode_one(text) for text in texts])

    def _encode_one(self, text: str) -> np.ndarray:
        tokens = self.tokenizer.encode(text.strip())  # as sentence-transformers does
        given = {
            "input_ids": tokens.ids,
            "attention_mask": tokens.attention_mask,
            "token_type_ids": tokens.type_ids,
        }
        feed = {name: np.asarray([given[name]], dtype=np.int64) for name in self.inputs}
        hidden = self.session.run(None, feed)[0][0]
        vector = hidden.mean(axis=0)
        return (vector / max(float(np.linalg.norm(vector)), 1e-12))[None].astype(np.float32)


def export_onnx(folder: Path, name: str, load: Callable[[], object]) -> Path:
    """The ONNX file of the transformer of model ``name`` (from ``folder``), exported on first
    use into the cache, keyed by the folder's files and the torch version; ``load()`` gives the
    sentence-transformers model, called only when there is an export to make."""
    files = sorted(p for p in folder.iterdir() if p.is_file())

    def export(path: Path) -> None:
        import torch

        model = load()
        probe = model.tokenizer([PROBES[0]], return_tensors="pt")
        names = list(probe.keys())

        class LastHidden(torch.nn.Module):  # positional inputs (the exporter's) -> named ones
            def __init__(self, transformer):
                super().__init__()
                self.transformer = transformer

            def forward(self, *inputs):
                return self.transformer(**dict(zip(names, inputs, strict=True))).last_hidden_state

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
