"""Text queries: the sentence encoder remembers a query's vector (the labels need it too)."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys

import numpy as np
import onnxruntime
import pytest

from mmretrieval.adapters.exported import recorded_check
from mmretrieval.adapters.text import SentenceEncoder
from mmretrieval.config import load_profile
from mmretrieval.filters import ClipFilter
from mmretrieval.query import Query


def test_a_query_text_is_encoded_once_and_handed_out_as_a_copy():
    encoder = SentenceEncoder(load_profile("offline").adapters.text)
    first = encoder.embed_text(["storm damage at the harbour"])
    first[0, :] = 0.0  # a caller changing its copy changes nothing for the next
    again = encoder.embed_text(["storm damage at the harbour"])
    batch = encoder.embed_text(["storm damage at the harbour", "a council meeting"])
    assert encoder._remembered.cache_info().misses == 1
    assert encoder._remembered.cache_info().hits == 1
    assert abs(np.linalg.norm(again[0]) - 1.0) < 1e-5
    np.testing.assert_allclose(again[0], batch[0], atol=1e-5)


def test_a_query_runs_through_the_onnx_export_with_the_vectors_torch_gives():
    """The index was built by torch: a query's vector from the ONNX export must agree with it,
    for short and long (cut at the model's 256 tokens) texts, in any language or script."""
    encoder = SentenceEncoder(load_profile("offline").adapters.text)
    texts = [
        "fire",
        "what did the minister say about the budget for public libraries?",
        "Überschwemmung in der Altstadt, 3. Mai — 42 Häuser geräumt",
        "ferries cancelled by the wind " * 60,  # past the model's 256 tokens
        "東京で地震",
    ]
    queries = np.concatenate([encoder.embed_text([text]) for text in texts])
    assert encoder._onnx is not None, "queries should run through the ONNX export on a CPU"
    torch_vectors = encoder.embed_text(texts)  # a batch: torch, as at ingest
    cosines = np.sum(queries * torch_vectors, axis=1)
    assert cosines.min() >= 0.9999, cosines
    assert np.allclose(np.linalg.norm(queries, axis=1), 1.0, atol=1e-5)


@pytest.mark.skipif(
    not importlib.metadata.version("torch").endswith("+cpu"),
    reason="a CUDA build of torch is imported to look for a GPU",
)
def test_a_query_process_with_a_checked_export_loads_neither_torch_nor_its_model(indexed):
    """A one-off query (``mmr search``) answers through the checked ONNX export alone, with the
    hits a process that loaded torch gives: importing torch and sentence-transformers cost
    ~5 s of such a process's ~7 s."""
    library, _ = indexed
    text = "ferries cancelled by the wind"
    expected = [hit.to_dict() for hit in library.search(text=text, k=5)]  # checks the export
    program = (
        "import json, sys\n"
        "from mmretrieval import Library\n"
        f"with Library({str(library.index_dir)!r}) as library:\n"
        f"    hits = [hit.to_dict() for hit in library.search(text={text!r}, k=5)]\n"
        "heavy = ('torch', 'sentence_transformers', 'transformers')\n"
        "print(json.dumps({'hits': hits, 'loaded': [m for m in heavy if m in sys.modules]}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    answer = json.loads(done.stdout.splitlines()[-1])
    assert answer["loaded"] == []
    assert answer["hits"] == json.loads(json.dumps(expected))


def test_an_exports_check_is_made_once_per_onnxruntime_version(tmp_path):
    export = tmp_path / "model.onnx"
    export.write_bytes(b"")
    checks = []

    def check() -> dict:
        checks.append(1)
        return {"least_cosine": 0.99995}

    assert recorded_check(export, check)["least_cosine"] == 0.99995
    assert recorded_check(export, check)["least_cosine"] == 0.99995
    assert len(checks) == 1
    record = export.with_suffix(".json")
    record.write_text(json.dumps({"least_cosine": 0.5, "onnxruntime": "0.0.1"}))
    assert recorded_check(export, check) == {
        "least_cosine": 0.99995,
        "onnxruntime": onnxruntime.__version__,
    }
    assert len(checks) == 2  # checked again under another onnxruntime
    record.write_text('{"least_cosine": 0.9')  # a process stopped while writing it
    assert recorded_check(export, check)["least_cosine"] == 0.99995
    assert len(checks) == 3


@pytest.mark.parametrize(
    "options",
    [
        {"text": "ferries cancelled by the wind"},
        {"text": '"public libraries" budget', "k": 3},
        {"text": "snow in the mountains", "spaces": ["lexical"]},
        {"text": "snow in the mountains", "spaces": ["text"]},
        {"text": "vaccinating small kids", "filter": ClipFilter(paths=("*podcast*",))},
    ],
)
def test_keywords_looked_up_while_the_query_is_encoded_rank_as_one_after_the_other(
    indexed, options
):
    library, _ = indexed
    beside = [hit.to_dict() for hit in library.search(**options)]
    searcher = library._get_searcher()
    encoded = library.encode_query(Query(text=options["text"]))
    after = searcher.search(
        encoded,
        k=options.get("k", 10),
        spaces=options.get("spaces"),
        clip_filter=options.get("filter"),
    )
    assert beside, f"no hits for {options}"
    assert beside == [hit.to_dict() for hit in after]
