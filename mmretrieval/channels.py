"""The vector channels an index holds and the embedding space each one lives in.

A *space* is an embedding model's vector space (queries are encoded into spaces); a *channel*
is one index of clip vectors in a space, made from one source. Fusion weights are per space;
a clip's score in a space is its best score over that space's channels, and the per-channel
scores are kept as evidence so a user sees whether the speech, the screen, the picture or the
sound matched.
"""

SPEECH = "speech"  # transcript (ASR or subtitles) of the clip, in the text space
OCR = "ocr"  # on-screen text of the clip, in the text space
FRAMES = "frames"  # the clip's sampled frames through CLIP, pooled
AUDIO = "audio"  # the clip's sound through CLAP
HUB = "hub"  # frames + bridged audio + CLIP-text of the speech, pooled in the hub space
VISUAL = "visual"  # the clip's sampled frames through an ImageNet CNN (1280-d), pooled
VISUAL_LABELS = "visual_labels"  # the ImageNet labels of the clip's frames (imagenet.py)
LEXICAL = "lexical"  # keyword match over speech and screen text (a pseudo-space, no vectors)

# Biometric channels: only profiles that opt in (configs/people.yaml) compute them.
VOICE = "voice"  # the clip's main speaker: a GE2E d-vector (who speaks, not what is said)
FACE = "face"  # the clip's main face track: a dlib ResNet face descriptor

TEXT_SPACE, CLIP_SPACE, CLAP_SPACE, VISUAL_SPACE = "text", "clip", "clap", "visual"
HUB_SPACE = CLIP_SPACE
VOICE_SPACE, FACE_SPACE = "voice", "face"

CHANNEL_SPACE: dict[str, str] = {
    SPEECH: TEXT_SPACE,
    OCR: TEXT_SPACE,
    FRAMES: CLIP_SPACE,
    AUDIO: CLAP_SPACE,
    HUB: HUB_SPACE,
    VISUAL: VISUAL_SPACE,
    VISUAL_LABELS: VISUAL_SPACE,
    VOICE: VOICE_SPACE,
    FACE: FACE_SPACE,
}

# Channels that take a query vector of their own rather than their space's: a picture query
# gives the visual space a descriptor, a text query gives its labels channel a label vector.
OWN_QUERY: set[str] = {VISUAL_LABELS}


def query_key(channel: str) -> str:
    """The key of ``EncodedQuery.vectors`` that a channel is searched with."""
    return channel if channel in OWN_QUERY else CHANNEL_SPACE[channel]
