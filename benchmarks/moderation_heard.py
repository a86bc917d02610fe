"""Writes ``moderation_heard.txt``: the training corpus as speech recognition hears it.

    python benchmarks/moderation_heard.py     # CPU minutes; rewrites the file
    python benchmarks/moderation_heard.py --profanity   # moderation_profanity_heard.txt
    python benchmarks/moderation_heard.py --ordinary    # moderation_ordinary_heard.txt

The moderation heads score transcripts, and a transcript is not what was said: tiny.en writes
"a nine millimetre" as "a high millimeter" and drops or splits words. So a random share of the
sentences of ``moderation_corpus.txt`` (harmful and ordinary; not the synthetic fragments and
misheard lines) is spoken by espeak-ng with the synth helper, each recording in one of several
voices, speeds and pitches, and transcribed by the offline profile's recogniser; what it heard
keeps the sentence's labels. To keep it cheap, ``PER_FILE`` sentences are spoken back to back
into one recording with a pause between them, transcribed once, and the recognised words are
split back to their sentences by their timestamps. Only the text is shipped, never the audio.

It is a dev set (``benchmarks/moderation_dev.py``), not training data: heads trained on it
as well scored worse on the benchmark (more benign clips flagged, lower recall; see
benchmarks/README.md), probably since many harmful lines are heard past recognition ("Arabs don't
deserve rights" as "parents don't deserve rights") and still carry their label.

Line format: ``categories<TAB>heard-GROUP<TAB>heard text<TAB>the sentence that was spoken``.
Left out: a sentence heard exactly as written (or as another corpus line), and one that lost
half its words. Deterministic for a given recogniser.

With ``--profanity`` every line of ``moderation_profanity.txt`` (the hand-written profanity dev
lines; the corpus has no profanity label) is heard the same way and kept, however it was heard:
``moderation_profanity_heard.txt``, in the same format. ``--ordinary`` does the same for
``moderation_ordinary.txt`` (hand-written ordinary archive lines, a precision dev set):
``moderation_ordinary_heard.txt``.
"""

from __future__ import annotations

import argparse
import logging
import random
from pathlib import Path

import numpy as np

from mmretrieval.adapters.base import AdapterSet
from mmretrieval.config import load_profile
from mmretrieval.moderation.heads import CORPUS
from mmretrieval.testing.synth import speak

HEARD = Path(__file__).resolve().parent / "moderation_heard.txt"
PROFANITY = HEARD.with_name("moderation_profanity.txt")
PROFANITY_HEARD = HEARD.with_name("moderation_profanity_heard.txt")
ORDINARY = HEARD.with_name("moderation_ordinary.txt")
ORDINARY_HEARD = HEARD.with_name("moderation_ordinary_heard.txt")
# hand-written dev lines, each heard in full: name -> (the lines, what was heard of them)
DEV_LINES = {"profanity": (PROFANITY, PROFANITY_HEARD), "ordinary": (ORDINARY, ORDINARY_HEARD)}
SEED = 16
PER_FILE = 24  # sentences per recording
PAUSE = 0.8  # seconds of silence between two sentences
SKIP_GROUPS = ("fragments", "misheard")  # already synthetic recognition errors
# Of the spoken rows, the share drawn at random, harmful and ordinary (~1,200 sentences, ~10
# CPU minutes on 2 cores); the corpus's fragments and misheard lines already stand for
# recognition errors in ordinary speech.
SHARE = {"harmful": 0.4, "ordinary": 0.15}
VOICES = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us+f3", "en-us+m3")
SPEEDS = (140, 150, 160, 175)
PITCHES = (35, 50, 65)
RATE = 16000

log = logging.getLogger(__name__)


def spoken_rows(path: Path = CORPUS) -> list[tuple[str, str, str]]:
    """(categories, group, sentence) of the corpus rows that are spoken."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or "\t" not in line:
            continue
        labels, group, text = line.split("\t")
        if group not in SKIP_GROUPS:
            rows.append((labels, group, text))
    return rows


def hear(texts: list[str], rng: random.Random, transcriber) -> list[str]:
    """Speak ``texts`` back to back in one voice, transcribe once, return the words heard
    inside each sentence's time span ("" when none)."""
    voice, speed, pitch = rng.choice(VOICES), rng.choice(SPEEDS), rng.choice(PITCHES)
    pause = np.zeros(round(PAUSE * RATE), np.float32)
    pieces, spans, at = [pause], [], PAUSE
    for text in texts:
        samples = speak(text, voice=voice, speed=speed, sample_rate=RATE, pitch=pitch)
        spans.append((at, at + len(samples) / RATE))
        pieces += [samples, pause]
        at += len(samples) / RATE + PAUSE
    heard: list[list[str]] = [[] for _ in texts]
    for segment in transcriber.transcribe(np.concatenate(pieces)):
        for word in segment.words:
            middle = (word.start + word.end) / 2
            # the sentence whose span is nearest the word's middle (inside it: distance 0)
            nearest = min(
                range(len(spans)),
                key=lambda i: max(spans[i][0] - middle, middle - spans[i][1], 0.0),
            )
            heard[nearest].append(word.text)
    return [" ".join(words).strip() for words in heard]


def hear_all(texts: list[str], rng: random.Random, transcriber) -> list[str]:
    """What was heard of each of ``texts``, in their order: shuffled (a recording mixes groups,
    as speech does) and heard ``PER_FILE`` to a recording."""
    order = list(range(len(texts)))
    rng.shuffle(order)
    heard: dict[int, str] = {}
    for first in range(0, len(order), PER_FILE):
        batch = order[first : first + PER_FILE]
        heard.update(zip(batch, hear([texts[i] for i in batch], rng, transcriber), strict=True))
        log.info("%d / %d sentences heard", len(heard), len(order))
    return [heard[i] for i in range(len(texts))]


def generate(rows: list[tuple[str, str, str]], transcriber) -> list[tuple[str, str, str, str]]:
    """(categories, heard-GROUP, heard text, sentence) for a ``SHARE`` of ``rows``, in their
    order."""
    rng = random.Random(SEED)
    chosen = []
    for kind, share in SHARE.items():
        pool = [i for i, row in enumerate(rows) if (row[0] != "-") == (kind == "harmful")]
        chosen += rng.sample(pool, round(share * len(pool)))
    chosen.sort()
    heard = hear_all([rows[i][2] for i in chosen], rng, transcriber)
    heard = dict(zip(chosen, heard, strict=True))
    out, seen = [], {text for _, _, text in rows}
    for i in chosen:
        labels, group, text = rows[i]
        # a line that lost half its words may have lost what made it harmful; one heard exactly
        # (or already in the corpus) teaches nothing new
        if len(heard[i].split()) * 2 >= len(text.split()) and heard[i] not in seen:
            seen.add(heard[i])
            out.append((labels, f"heard-{group}", heard[i], text))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group()
    for name in DEV_LINES:
        which.add_argument(f"--{name}", dest="dev", action="store_const", const=name,
                           help=f"hear every {name} dev line instead of a share of the corpus")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    transcriber = AdapterSet(load_profile("offline")).get("speech")
    if args.dev:
        written, path = DEV_LINES[args.dev]
        rows = spoken_rows(written)
        heard = hear_all([text for *_, text in rows], random.Random(SEED), transcriber)
        out = [(labels, f"heard-{group}", said, text)
               for (labels, group, text), said in zip(rows, heard, strict=True)]
        what = f"the {args.dev} dev lines"
    else:
        out, path, what = generate(spoken_rows(), transcriber), HEARD, "the moderation corpus"
    header = [
        f"# {what} as speech recognition hears it, written by",
        "# benchmarks/moderation_heard.py (espeak-ng voices, the offline profile's tiny.en;",
        "# do not edit by hand). Apache-2.0, like the project.",
        "# categories<TAB>group<TAB>heard text<TAB>the sentence that was spoken.",
    ]
    path.write_text("\n".join([*header, *("\t".join(r) for r in out)]) + "\n", encoding="utf-8")
    print(f"wrote {path}: {len(out)} sentences")


if __name__ == "__main__":
    main()
