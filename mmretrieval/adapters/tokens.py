"""Text longer than a model's context: cut where the model's reference cuts it, and said so.

CLIP and CLAP see at most 77 tokens, start and end tokens included (OpenAI's ``clip.tokenize``,
LAION's CLAP tokenizer). A longer text keeps its first 75 tokens; the rest is not embedded.
Callers that show evidence ask ``encoder.truncated(texts)`` to flag such texts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

log = logging.getLogger(__name__)


def tokenize(tokenizer, texts: Sequence[str], max_tokens: int, model: str):
    """PyTorch tokens of ``texts``, padded to the longest and cut at ``max_tokens``; how many
    texts were cut is logged."""
    flags = over_limit(tokenizer, texts, max_tokens)
    cut = [text for text, over in zip(texts, flags, strict=True) if over]
    if cut:
        log.info(
            "%s reads %d tokens: %d of %d texts cut to that (the first: %r)",
            model,
            max_tokens,
            len(cut),
            len(texts),
            cut[0][:80] + "...",
        )
    return tokenizer(
        list(texts), padding=True, truncation=True, max_length=max_tokens, return_tensors="pt"
    )


def over_limit(tokenizer, texts: Sequence[str], max_tokens: int) -> list[bool]:
    """Whether each text is longer than ``max_tokens`` tokens, special tokens included."""
    if not texts:
        return []
    ids = tokenizer(list(texts), truncation=False, verbose=False)["input_ids"]
    return [len(one) > max_tokens for one in ids]
