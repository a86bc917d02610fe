"""Tiny, randomly initialised CLIP and CLAP checkpoints, built offline for tests.

Each builder writes a folder that ``CLIPModel`` / ``ClapModel`` and ``AutoProcessor`` load
exactly as they load a hub checkpoint, so tests exercise the code users run. The weights are
random but seeded, so two builds of the same model give the same vectors. The tokenizers are
byte-level BPEs trained on a short word list (no hub access needed); the CLIP one has the
``</w>`` end-of-word suffix and the special tokens of OpenAI's, the CLAP one RoBERTa's.
"""

from __future__ import annotations

from pathlib import Path

WORDS = """
a an the of on in at to from with and or is are was were be this that these those it its
photo picture image video clip frame scene shot sound noise music voice speech audio song
cat dog bird horse cow sheep fish car bus train plane boat ferry ship bicycle truck engine
man woman child people crowd speaker reporter anchor teacher doctor farmer fisherman
city council budget library vote harbour storm wind rain snow sun sky sea river mountain
forest field road street bridge house building school hospital church market station
red green blue yellow black white grey orange purple brown dark light bright loud quiet
talking singing barking meowing ringing playing running walking driving flying crying
laughing clapping knocking whistling humming beeping siren alarm bell drum guitar piano
violin trumpet thunder waves footsteps applause traffic news report weather breaking
morning evening night today tomorrow monday winter summer spring autumn warning closed
open new old big small high low fast slow hot cold happy sad one two three four five
"""

CLIP_SPECIAL = ["<|startoftext|>", "<|endoftext|>"]
ROBERTA_SPECIAL = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]  # ids 0..4, as in roberta-base


def _corpus() -> list[str]:
    words = WORDS.split()
    # short phrases so merges across common bigrams of letters are learnt
    return [" ".join(words[i : i + 6]) for i in range(0, len(words), 3)]


def _clip_tokenizer():
    """A CLIPTokenizer (byte-level BPE with ``</w>``) whose merges are learnt here.

    The ``tokenizers`` trainer breaks ties between equally frequent pairs differently from run
    to run when an end-of-word suffix is set, so the few merges are learnt in plain Python,
    ties broken alphabetically, and the tokenizer is the same on every build.
    """
    from collections import Counter
    from itertools import pairwise

    from tokenizers import pre_tokenizers
    from transformers import CLIPTokenizer

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {token: i for i, token in enumerate(CLIP_SPECIAL)}
    for token in alphabet + [char + "</w>" for char in alphabet]:
        vocab[token] = len(vocab)
    words = Counter(WORDS.split())
    splits = {word: [*word[:-1], word[-1] + "</w>"] for word in words}
    merges: list[tuple[str, str]] = []
    for _ in range(150):
        pairs: Counter[tuple[str, str]] = Counter()
        for word, symbols in splits.items():
            for pair in pairwise(symbols):
                pairs[pair] += words[word]
        if not pairs:
            break
        best = min(pairs, key=lambda pair: (-pairs[pair], pair))
        merges.append(best)
        vocab.setdefault(best[0] + best[1], len(vocab))
        for word, symbols in splits.items():
            merged, i = [], 0
            while i < len(symbols):
                if tuple(symbols[i : i + 2]) == best:
                    merged.append(best[0] + best[1])
                    i += 2
                else:
                    merged.append(symbols[i])
                    i += 1
            splits[word] = merged
    return CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=77)


def _roberta_tokenizer():
    """A RobertaTokenizer (byte-level BPE, ``Ġ`` word prefix) trained here."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaTokenizer

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        _corpus(), vocab_size=600, special_tokens=ROBERTA_SPECIAL, show_progress=False
    )
    vocab = dict(bpe.get_vocab())
    merges = _merges_of(bpe._tokenizer.model)
    return RobertaTokenizer(vocab=vocab, merges=merges, model_max_length=512)


def _merges_of(bpe_model) -> list[tuple[str, str]]:
    """The merges of a trained ``tokenizers`` BPE model, in rank order."""
    import json

    import tokenizers

    state = json.loads(tokenizers.Tokenizer(bpe_model).to_str())["model"]["merges"]
    return [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in state]


def make_tiny_clip(folder: Path) -> Path:
    """Save a tiny CLIPModel and its CLIPProcessor (32 px images) into ``folder``."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    folder = Path(folder)
    tokenizer = _clip_tokenizer()
    config = CLIPConfig(
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "max_position_embeddings": 77,
            "bos_token_id": tokenizer.bos_token_id,
            "eos_token_id": tokenizer.eos_token_id,
            "pad_token_id": tokenizer.pad_token_id,
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "image_size": 32,
            "patch_size": 8,
        },
        projection_dim=16,
    )
    torch.manual_seed(0)
    model = CLIPModel(config).eval()
    image_processor = CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    )
    processor = CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def make_tiny_clap(folder: Path, fused: bool = False) -> Path:
    """Save a tiny ClapModel (16 mel bins, 10 s windows) and its ClapProcessor into ``folder``;
    ``fused``: with the feature-fusion branch and extractor of ``laion/clap-htsat-fused``.

    The audio tower keeps the real model's 48 kHz, hop 480 and 10 s window (1001 frames), so
    callers see the same input handling as with ``laion/clap-htsat-unfused``: HTSAT folds the
    spectrogram into a ``spec_size`` square, which needs ``spec_size * spec_size / num_mel_bins``
    >= 1001 time frames, ``spec_size`` a multiple of ``num_mel_bins``, and the patch grid
    (``spec_size / patch_size``) divisible by ``window_size * 2 ** (len(depths) - 1)``.
    """
    import torch
    from transformers import ClapConfig, ClapFeatureExtractor, ClapModel, ClapProcessor

    folder = Path(folder)
    tokenizer = _roberta_tokenizer()
    config = ClapConfig(
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "max_position_embeddings": 514,
            "pad_token_id": tokenizer.pad_token_id,
            "bos_token_id": tokenizer.bos_token_id,
            "eos_token_id": tokenizer.eos_token_id,
        },
        audio_config={
            "num_mel_bins": 16,
            "spec_size": 128,  # freq_ratio 8: 1024 time frames fold into a 128 x 128 square
            "patch_size": 8,
            "patch_stride": (8, 8),
            "window_size": 8,
            "depths": (1, 1),
            "num_attention_heads": (2, 2),
            "patch_embeds_hidden_size": 16,
            "hidden_size": 32,  # = patch_embeds_hidden_size * 2 ** (len(depths) - 1)
            "num_hidden_layers": 2,
            "num_classes": 8,
            "enable_fusion": fused,
        },
        projection_dim=16,
    )
    torch.manual_seed(0)
    model = ClapModel(config).eval()
    feature_extractor = ClapFeatureExtractor(
        feature_size=16,
        sampling_rate=48_000,
        hop_length=480,
        max_length_s=10,
        fft_window_size=1024,
        frequency_min=50,
        frequency_max=14_000,
        truncation="fusion" if fused else "rand_trunc",
        padding="repeatpad",
    )
    processor = ClapProcessor(feature_extractor=feature_extractor, tokenizer=tokenizer)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
