"""Text queries: the sentence encoder remembers a query's vector (the labels need it too)."""

from __future__ import annotations

import numpy as np

from mmretrieval.adapters.text import SentenceEncoder
from mmretrieval.config import load_profile


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
