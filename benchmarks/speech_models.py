"""Compare speech models on the news suite's audio: word error rate and speed per model.

The clips (quotations over background sound) and the spoken queries (another voice, clean) of
``retrieval.py news`` are transcribed by each model at each beam size with the offline
profile's other settings (int8, VAD); WER is against the text that was spoken, lower-cased,
words only (numbers said as words count as misses when a model writes digits: both models are
scored the same way).
Usage (generate the corpus first with ``retrieval.py news``):

    python benchmarks/speech_models.py [--models bundled:tiny.en bundled:whisper-base] [--beams 1 5]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import news_corpus
from machine import describe
from rapidfuzz.distance import Levenshtein

from mmretrieval.adapters.speech import WhisperTranscriber
from mmretrieval.config import load_profile
from mmretrieval.lexical import tokenize
from mmretrieval.media.decode import load_audio

RESULTS = Path(__file__).parent / "results"


def word_errors(said: str, heard: str) -> tuple[int, int]:
    """(word edits, words said)."""
    truth = tokenize(said)
    return Levenshtein.distance(truth, tokenize(heard)), len(truth)


def measure(model: str, beam: int, folder: Path, clips: list[news_corpus.NewsClip]) -> dict:
    profile = load_profile("offline")
    config = profile.adapters.speech.model_copy(update={"model": model, "beam_size": beam})
    started = time.perf_counter()
    transcriber = WhisperTranscriber(config)
    load_seconds = time.perf_counter() - started
    result = {"model": model, "beam_size": beam, "load_seconds": load_seconds}
    for kind in ("clips", "queries"):
        edits = words = 0
        audio_seconds = asr_seconds = 0.0
        for clip in clips:
            path = folder / ("media" if kind == "clips" else "queries") / (
                clip.media if kind == "clips" else f"{clip.id}.wav"
            )
            audio = load_audio(path, transcriber.sample_rate)
            started = time.perf_counter()
            heard = " ".join(t.text for t in transcriber.transcribe(audio))
            asr_seconds += time.perf_counter() - started
            audio_seconds += len(audio) / transcriber.sample_rate
            said = clip.speech if kind == "clips" else clip.spoken
            e, w = word_errors(said, heard)
            edits, words = edits + e, words + w
        result[kind] = {
            "wer": edits / words,
            "words": words,
            "audio_seconds": audio_seconds,
            "asr_seconds": asr_seconds,
            "realtime": audio_seconds / asr_seconds,
        }
        print(
            f"{model:<24}beam {beam}  {kind:<9} WER {edits / words:6.1%}  "
            f"{audio_seconds / asr_seconds:6.1f}x realtime",
            flush=True,
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["bundled:tiny.en", "bundled:whisper-base"])
    parser.add_argument("--beams", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--clips", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS / "speech_models.json")
    args = parser.parse_args()
    clips = news_corpus.plan(args.clips, args.seed)
    folder = Path(tempfile.gettempdir()) / (
        f"mmr-bench-news-n{args.clips}-s{args.seed}-v{news_corpus.FORMAT}"
    )
    if not (folder / "complete").exists():
        raise SystemExit(f"no news corpus in {folder}: run retrieval.py news --clips {args.clips}")
    load = os.getloadavg()
    results = [
        measure(model, beam, folder, clips) for model in args.models for beam in args.beams
    ]
    body = {"machine": describe(("faster-whisper", "ctranslate2")), "load_average_start": load}
    args.out.write_text(json.dumps({**body, "models": results}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
