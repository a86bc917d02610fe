"""The vector channels an index holds and the embedding space each one lives in.

A *space* is an embedding model's vector space (queries are encoded into spaces); a *channel*
is one index of clip vectors in a space, made from one source. Fusion weights are per space;
a clip's score in a space is its best score over that space's channels, and the per-channel
scores are kept as evidence so a user sees whether the speech or the screen matched.
"""

SPEECH = "speech"  # transcript (ASR or subtitles) of the clip, in the text space
OCR = "ocr"  # on-screen text of the clip, in the text space
LEXICAL = "lexical"  # keyword match over both texts (a pseudo-space with no vectors)

CHANNEL_SPACE: dict[str, str] = {SPEECH: "text", OCR: "text"}
