"""Text queries: the sentence encoder remembers a query's vector (the labels need it too)."""

from __future__ import annotations

import numpy as np
import pytest

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
