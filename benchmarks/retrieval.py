"""Benchmark retrieval quality: R@1/5/10, median and mean rank, mAP, per suite.

``offline`` runs anywhere with no download: a generated corpus of short spoken news clips
(``mmretrieval.testing.synth``), each rendered with one of four espeak-ng voices, at 130-190 wpm,
clean or under white noise at 20/10/5 dB SNR, as .wav or as .mp4 whose picture carries no text (so
only speech can match). Every clip has two captions that paraphrase what is said rather than
repeat it ("Leeds mayor inaugurates river bridge" for "The mayor of Leeds opened a new bridge
over the river Aire ..."). Queries are the captions as text, and the same captions spoken by a
different voice (spoken query -> clip, through ``Library.search(audio=...)``). Results are
broken down by the target clip's SNR and voice. Media and the index are cached under the temp
folder keyed by seed and size, so reruns only search.

``news`` (``news_corpus.py``) runs anywhere too: quotations spoken over background sound and
busy moving pictures with bold lower-third captions, two-line lower thirds and tickers; queries
are typed common-word phrases of the speech, a stretch of the speech with a name or number
spoken by another voice, and a few typed words of the caption, each reported on its own.
``news --subtitles`` gives every clip a sidecar of its quotation (one cue over the speech, to a
frame), so the clips' speech is not recognised: the same queries with exact transcripts, the
ceiling of what better recognition of the clips can give (``sidecars.py``); spoken queries are
still recognised.

``msrvtt``, ``audiocaps``, ``clotho``, ``vatex`` and ``jsonl`` evaluate a dataset you already
have: ``--manifest`` (the dataset's annotation file, or our JSONL: one
``{"media", "captions", "start", "end"}`` object a line) and ``--media-root`` (its media
folder), in the suite's standard directions, with the ``default`` profile (CLIP and CLAP, the
models published numbers exist for) unless ``--profile`` says otherwise. Usage:

    python benchmarks/retrieval.py offline [--clips N] [--seed S] [--profile offline]
    python benchmarks/retrieval.py news [--clips 40] [--seed 0] [--split dev] [--kinds typed ...]
        [--conditions hard] [--subtitles]
    python benchmarks/retrieval.py msrvtt --manifest FILE --media-root DIR [--index DIR]
    python benchmarks/retrieval.py jsonl --manifest FILE --media-root DIR --directions t2v v2t
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import news_corpus
import numpy as np
from machine import describe
from sidecars import Said, subtitled

from mmretrieval.config import load_profile
from mmretrieval.errors import MMRError
from mmretrieval.evaluate import (
    SOUND_SPACES,
    EvalItem,
    detect_format,
    evaluate,
    first_rank,
    mean_average_precision,
    parse_directions,
    rank_metrics,
    ranked_relevance,
    read_manifest,
)
from mmretrieval.library import Library
from mmretrieval.media.probe import probe
from mmretrieval.testing.synth import Scene, make_audio, make_video

RESULTS = Path(__file__).parent / "results"
CORPUS_FORMAT = 1  # bump when generation changes, so cached media are made anew
VOICES = ("en-us", "en-gb", "en-us+f3", "en-gb-x-rp")
SPEEDS = (130, 145, 160, 175, 190)
SNRS: tuple[float | None, ...] = (None, 20.0, 10.0, 5.0)  # None: clean
QUERY_SPEED = 160
BACKGROUND = (70, 70, 70)  # neutral grey, no caption: only the speech can match
VIDEO_SIZE = (320, 180)
METRICS = ("R@1", "R@5", "R@10", "MedR", "MeanR", "mAP")
SPOKEN = "spoken"  # spoken caption -> clip, through Library.search(audio=...)
OFFLINE_DIRECTIONS = ("t2a", "a2t", "t2v", "v2t")
VERSIONS = ("faster-whisper", "sentence-transformers", "transformers", "torch", "faiss-cpu")

# suite -> (standard directions, manifest formats it accepts, what to pass)
SUITES: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "msrvtt": (
        ("t2v", "v2t"),
        ("msrvtt", "msrvtt-json"),
        "MSR-VTT 1k-A: --manifest MSRVTT_JSFUSION_test.csv (or MSRVTT_data.json) "
        "--media-root <folder of the .mp4 videos>",
    ),
    "audiocaps": (
        ("t2a", "a2t"),
        ("audiocaps",),
        "AudioCaps: --manifest test.csv (audiocap_id,youtube_id,start_time,caption) "
        "--media-root <folder of <youtube_id>.wav clips>",
    ),
    "clotho": (
        ("t2a", "a2t"),
        ("clotho",),
        "Clotho: --manifest clotho_captions_evaluation.csv --media-root <evaluation audio folder>",
    ),
    "vatex": (
        ("t2v", "v2t"),
        ("vatex",),
        "VATEX: --manifest vatex_public_test_english.json (or the validation json) "
        "--media-root <folder of the clips>",
    ),
    "jsonl": (
        (),
        ("jsonl",),
        'JSONL: --manifest FILE (one {"media", "captions", "start", "end"} a line) '
        "--media-root DIR --directions ...",
    ),
}


# (what is said, caption 1, caption 2): captions paraphrase, as a person would search
CORPUS = (
    (
        "The mayor of Leeds opened a new bridge over the river Aire on Tuesday morning.",
        "Leeds mayor inaugurates river bridge",
        "New crossing over the Aire unveiled in West Yorkshire",
    ),
    (
        "Firefighters in Lisbon spent nine hours bringing a warehouse blaze under control.",
        "Lisbon crews battle storage depot fire for most of the day",
        "Portuguese capital warehouse fire finally contained",
    ),
    (
        "Astronomers in Chile have discovered a comet that will pass close to Earth in March.",
        "New comet spotted from Chilean observatory",
        "Chile scientists find comet nearing our planet next spring",
    ),
    (
        "Shares in the carmaker Volvo fell twelve percent after weak quarterly sales.",
        "Volvo stock drops after disappointing results",
        "Swedish auto firm's share price slides 12 percent",
    ),
    (
        "A magnitude six earthquake shook the island of Crete early on Sunday, "
        "damaging several old houses.",
        "Quake hits Crete, older homes damaged",
        "Greek island rattled by strong tremor at the weekend",
    ),
    (
        "Farmers in Iowa say the drought has cut their corn harvest by almost a third.",
        "Iowa dry spell slashes maize crop",
        "Corn yields down a third for Midwest growers",
    ),
    (
        "The national orchestra will perform Beethoven's ninth symphony in Vienna "
        "to mark its hundredth anniversary.",
        "Vienna concert celebrates orchestra centenary",
        "Beethoven's Ninth played for orchestra's 100th birthday",
    ),
    (
        "Police in Manchester arrested three men after a jewellery shop was robbed at gunpoint.",
        "Armed raid on Manchester jeweller leads to arrests",
        "Three held over gunpoint robbery of jewelry store",
    ),
    (
        "Kenya's marathon champion Grace Wanjiru won the Boston race in a new course record.",
        "Wanjiru sets Boston marathon record",
        "Kenyan runner triumphs in record time in Massachusetts",
    ),
    (
        "The government of Canada announced a ban on single use plastic bags starting next year.",
        "Ottawa to outlaw disposable plastic bags",
        "Canadian plastic bag prohibition begins in twelve months",
    ),
    (
        "Heavy snow closed the airport in Denver, stranding more than four thousand passengers.",
        "Denver airport shut by snowstorm",
        "Thousands of travellers stuck as blizzard grounds flights in Colorado",
    ),
    (
        "Scientists at Oxford say a new malaria vaccine protected eight in ten children in trials.",
        "Oxford malaria jab shows 80 percent efficacy",
        "Vaccine against malaria succeeds in pediatric study",
    ),
    (
        "The city of Osaka will host a robotics fair with more than two hundred exhibitors "
        "in June.",
        "Osaka to stage robot expo this summer",
        "Japanese robotics exhibition draws 200 companies",
    ),
    (
        "A cargo ship ran aground in the Suez Canal, blocking traffic in both directions "
        "for a day.",
        "Freighter stuck in Suez halts shipping",
        "Egyptian waterway blocked by grounded vessel",
    ),
    (
        "Tennis star Marco Bellini withdrew from Wimbledon with a knee injury.",
        "Bellini pulls out of Wimbledon with hurt knee",
        "Italian player misses grass court tournament through injury",
    ),
    (
        "Residents of Brighton voted to turn the old pier into a public park.",
        "Brighton pier to become a park after ballot",
        "Seaside town backs green space on former pier",
    ),
    (
        "The price of coffee rose to a ten year high after frost damaged crops in Brazil.",
        "Brazilian frost pushes coffee to decade peak",
        "Coffee costs climb as cold snap hits plantations",
    ),
    (
        "Archaeologists in Egypt uncovered a four thousand year old tomb near Luxor.",
        "Ancient grave found near Luxor",
        "Egyptian dig reveals 4000-year-old burial chamber",
    ),
    (
        "The teachers union in Ontario began a two day strike over class sizes.",
        "Ontario teachers walk out over classroom numbers",
        "School staff stop work for 48 hours in Canadian province",
    ),
    (
        "A wildfire near Athens forced the evacuation of six villages overnight.",
        "Blaze outside Athens empties villages",
        "Greek forest fire prompts night-time evacuations",
    ),
    (
        "Microsoft agreed to buy the gaming studio Nightfall for nine hundred million dollars.",
        "Microsoft acquires Nightfall games",
        "Tech giant's 900 million dollar deal for video game developer",
    ),
    (
        "Doctors in Dublin performed the country's first hand transplant last week.",
        "Irish surgeons carry out first hand transplant",
        "Dublin hospital reaches transplant milestone",
    ),
    (
        "The river Danube burst its banks in Budapest, flooding streets along the embankment.",
        "Budapest flooded as Danube overflows",
        "Hungarian capital's riverside roads under water",
    ),
    (
        "Election officials in Nairobi said turnout reached seventy one percent, a record.",
        "Record participation in Kenyan vote",
        "Nairobi election sees 71 percent of voters cast ballots",
    ),
    (
        "A rare white whale was seen off the coast of Norway by fishermen near Tromso.",
        "Fishermen spot beluga near Tromso",
        "Unusual pale whale sighted in Norwegian waters",
    ),
    (
        "The London Underground will run all night on weekends from September.",
        "Tube to offer overnight weekend trains",
        "Night service for London's metro starts in autumn",
    ),
    (
        "Chef Sofia Marquez won the top cooking prize in Lyon for her lobster soup.",
        "Marquez takes Lyon culinary award",
        "Lobster bisque wins French gastronomy contest",
    ),
    (
        "Engineers finished the longest rail tunnel in the Alps, linking Switzerland and Italy.",
        "Swiss-Italian Alpine railway tunnel completed",
        "Record mountain rail bore is finished",
    ),
    (
        "A heat wave in Delhi pushed temperatures to forty seven degrees, closing schools.",
        "Delhi schools shut as heat hits 47 C",
        "Scorching weather grips Indian capital",
    ),
    (
        "The football club Ajax appointed a new coach after losing five matches in a row.",
        "Ajax names new manager after losing streak",
        "Amsterdam team replaces its trainer following five defeats",
    ),
    (
        "Volunteers planted one million trees in the Scottish Highlands this spring.",
        "Million saplings planted in the Highlands",
        "Scotland reforestation helpers reach seven-figure mark",
    ),
    (
        "A bank in Frankfurt was fined fifty million euros for money laundering failures.",
        "Frankfurt lender penalised over laundering checks",
        "German bank hit with 50 million euro penalty",
    ),
    (
        "The Mars rover Perseverance found traces of ancient lake sediments.",
        "Perseverance detects old lakebed on Mars",
        "Red planet robot finds signs of a former lake",
    ),
    (
        "Bus drivers in Melbourne will get a pay rise of six percent after months of talks.",
        "Melbourne bus drivers win 6 percent raise",
        "Australian transit workers agree wage deal",
    ),
    (
        "A new species of frog was discovered in the rainforest of Madagascar.",
        "Madagascar frog species identified",
        "Scientists find unknown amphibian in island jungle",
    ),
    (
        "The Louvre museum in Paris closed for two days because of a staff shortage.",
        "Louvre shuts over lack of employees",
        "Paris gallery closes temporarily, not enough workers",
    ),
    (
        "Toronto's hockey team signed goalkeeper Erik Lund on a four year contract.",
        "Toronto signs goalie Lund",
        "Ice hockey club secures netminder for four seasons",
    ),
    (
        "A volcano in Iceland erupted near the town of Grindavik, sending lava toward the roads.",
        "Icelandic eruption threatens Grindavik",
        "Molten rock flows after volcano awakens near fishing town",
    ),
    (
        "The price of a train ticket from Berlin to Munich will drop to twenty nine euros.",
        "Cheaper Berlin to Munich rail fares",
        "Rail tickets between German cities cut to 29 euros",
    ),
    (
        "A hospital in Cape Town opened a new children's cancer ward funded by local donors.",
        "Cape Town unveils paediatric oncology unit",
        "Donors pay for kids' cancer wing in South African hospital",
    ),
)


# -- the offline corpus --------------------------------------------------------------------------


@dataclass(frozen=True)
class ClipSpec:
    """One generated clip: what is said, how, under how much noise, and its two captions."""

    id: str
    media: str  # relative to the corpus's media folder
    speech: str
    captions: tuple[str, str]
    voice: str
    speed: int
    snr_db: float | None
    query_voices: tuple[str, str]  # who speaks each caption as a spoken query

    @property
    def snr(self) -> str:
        return "clean" if self.snr_db is None else f"{self.snr_db:g} dB"

    @property
    def container(self) -> str:
        return Path(self.media).suffix.lstrip(".")


def plan_corpus(clips: int, seed: int) -> list[ClipSpec]:
    """Which sentence each clip says and how: every run of four clips has each voice and each
    SNR once (a Latin square over runs), speeds are drawn, every third clip is a video."""
    if not 1 <= clips <= len(CORPUS):
        raise SystemExit(f"--clips must be between 1 and {len(CORPUS)}, got {clips}")
    rng = random.Random(seed)
    specs = []
    for i, (speech, *captions) in enumerate(rng.sample(CORPUS, clips)):
        voice = i % len(VOICES)
        snr = SNRS[(i // len(VOICES) + i) % len(SNRS)]
        suffix = ".mp4" if i % 3 == 2 else ".wav"
        specs.append(
            ClipSpec(
                id=f"c{i:02d}",
                media=f"c{i:02d}{suffix}",
                speech=speech,
                captions=(captions[0], captions[1]),
                voice=VOICES[voice],
                speed=rng.choice(SPEEDS),
                snr_db=snr,
                query_voices=tuple(VOICES[(voice + 1 + c) % len(VOICES)] for c in range(2)),
            )
        )
    return specs


def query_path(folder: Path, spec: ClipSpec, caption: int) -> Path:
    return folder / "queries" / f"{spec.id}_q{caption}.wav"


def build_corpus(folder: Path, specs: Sequence[ClipSpec], seed: int) -> None:
    """Render the clips, the spoken queries and the JSONL manifest into ``folder``."""
    media = folder / "media"
    for number, spec in enumerate(specs):
        scene = Scene(speech=spec.speech, voice=spec.voice, speed=spec.speed, background=BACKGROUND)
        noise = {"noise_snr_db": spec.snr_db, "seed": seed * 1000 + number}
        if spec.container == "mp4":
            make_video(media / spec.media, [scene], size=VIDEO_SIZE, **noise)
        else:
            make_audio(media / spec.media, [scene], **noise)
        for c, (caption, voice) in enumerate(zip(spec.captions, spec.query_voices, strict=True)):
            make_audio(
                query_path(folder, spec, c), [Scene(caption, voice=voice, speed=QUERY_SPEED)]
            )
    lines = [
        json.dumps({"id": s.id, "media": s.media, "captions": list(s.captions)}) for s in specs
    ]
    (folder / "manifest.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "clips.json").write_text(
        json.dumps([asdict(s) for s in specs], indent=1) + "\n", encoding="utf-8"
    )
    (folder / "complete").write_text("ok\n")


def cached_corpus(clips: int, seed: int) -> tuple[Path, list[ClipSpec]]:
    specs = plan_corpus(clips, seed)
    folder = Path(tempfile.gettempdir()) / f"mmr-bench-retrieval-n{clips}-s{seed}-v{CORPUS_FORMAT}"
    if not (folder / "complete").exists():
        print(f"generating {clips} clips and {2 * clips} spoken queries in {folder}...", flush=True)
        started = time.perf_counter()
        build_corpus(folder, specs, seed)
        print(f"generated in {time.perf_counter() - started:.1f} s", flush=True)
    return folder, specs


# -- evaluation ----------------------------------------------------------------------------------


def file_scores(hits, pool: Sequence[EvalItem]) -> np.ndarray:
    """Each pool item's best hit score (items are whole files), -inf where none landed."""
    where = {item.media.resolve(): index for index, item in enumerate(pool)}
    best = np.full(len(pool), -np.inf)
    for hit in hits:
        index = where.get(Path(hit.path).resolve())
        if index is not None:
            best[index] = max(best[index], hit.score)
    return best


def query_ranks(
    library: Library, pool: Sequence[EvalItem], queries: Sequence[tuple[int, dict]], label: str
) -> tuple[list[np.ndarray], int]:
    """Ranked relevance of the pool for each (target index, search arguments) query."""
    k = max(1, library.stats()["clips"])
    ranked, unanswered = [], 0
    for done, (target, arguments) in enumerate(queries, start=1):
        try:
            hits = library.search(k=k, candidates=k, **arguments)
        except MMRError:  # e.g. no speech recognised in a spoken query: it finds nothing
            hits, unanswered = [], unanswered + 1
        ranked.append(ranked_relevance(file_scores(hits, pool), np.arange(len(pool)) == target))
        progress(label, done, len(queries))
    return ranked, unanswered


def summary(ranked: Sequence[np.ndarray]) -> dict:
    return {
        **rank_metrics([first_rank(r) for r in ranked]),
        "mAP": mean_average_precision(ranked),
        "queries": len(ranked),
    }


def breakdown(
    ranked: Sequence[np.ndarray], targets: Sequence[ClipSpec | news_corpus.NewsClip], attribute: str
) -> dict[str, dict]:
    groups: dict[str, list[np.ndarray]] = defaultdict(list)
    for relevance, spec in zip(ranked, targets, strict=True):
        groups[str(getattr(spec, attribute))].append(relevance)
    return {name: summary(groups[name]) for name in sorted(groups, key=_group_order)}


def _group_order(name: str) -> tuple[int, str]:
    order = ["clean", "20 dB", "10 dB", "5 dB", *VOICES]
    return (order.index(name) if name in order else len(order), name)


def progress(label: str, done: int, total: int) -> None:
    if sys.stderr.isatty() or done == total:
        end = "\n" if done == total else ""
        print(f"\r  {label}: {done}/{total} queries", end=end, file=sys.stderr, flush=True)


def run_offline(args: argparse.Namespace) -> dict:
    folder, specs = cached_corpus(args.clips, args.seed)
    directions = parse_directions(args.directions or OFFLINE_DIRECTIONS)
    profile = load_profile(args.profile)
    index = args.index or folder / f"index-{profile.name}"
    items = list(read_manifest(folder / "manifest.jsonl", folder / "media", "jsonl"))
    by_id = {spec.id: spec for spec in specs}

    started = time.perf_counter()
    with Library(index, profile=profile) as library:
        report = library.add([], files=[item.media for item in items])
        index_seconds = time.perf_counter() - started
        if report.failures:
            raise SystemExit("indexing failed: " + "; ".join(f.error for f in report.failures))

        started = time.perf_counter()
        results = evaluate(library, items, directions, progress)
        eval_seconds = time.perf_counter() - started

        # Per-query ranks for the breakdowns: captions as text (the t2a protocol: every clip
        # has sound, the spaces sound reaches) and as speech (a spoken caption -> clip).
        targets = [by_id[item.id] for item in items for _caption in item.captions]
        text = [
            (j, {"text": caption, "spaces": SOUND_SPACES})
            for j, item in enumerate(items)
            for caption in item.captions
        ]
        spoken = [
            (j, {"audio": query_path(folder, by_id[item.id], c)})
            for j, item in enumerate(items)
            for c in range(len(item.captions))
        ]
        started = time.perf_counter()
        text_ranked, _ = query_ranks(library, items, text, "text (t2a, for breakdowns)")
        spoken_ranked, unanswered = query_ranks(library, items, spoken, SPOKEN)
        spoken_seconds = time.perf_counter() - started

    results[SPOKEN] = {**summary(spoken_ranked), "targets": len(items), "unanswered": unanswered}
    check = summary(text_ranked)
    if "t2a" in results and "R@1" in results["t2a"]:
        for key in METRICS:  # the breakdowns must rank exactly as evaluate() does
            if abs(check[key] - results["t2a"][key]) > 1e-6:
                print(
                    f"warning: t2a {key} {results['t2a'][key]:.2f} from evaluate() but "
                    f"{check[key]:.2f} from the per-query ranks",
                    file=sys.stderr,
                )
    breakdowns = {
        query: {
            attribute: breakdown(ranked, targets, attribute)
            for attribute in ("snr", "voice", "container")
        }
        for query, ranked in (("text", text_ranked), (SPOKEN, spoken_ranked))
    }
    return {
        "corpus": {
            "folder": str(folder),
            "clips": len(specs),
            "seed": args.seed,
            "voices": list(VOICES),
            "speeds": list(SPEEDS),
            "snr_db": list(SNRS),
            "videos": sum(s.container == "mp4" for s in specs),
            "captions_per_clip": 2,
            "query_voice": "another of the voices, clean, at 160 wpm",
        },
        "index": str(index),
        "profile": profile.name,
        "results": results,
        "breakdowns": breakdowns,
        "seconds": {"index": index_seconds, "evaluate": eval_seconds, "spoken": spoken_seconds},
    }


NEWS_KINDS = ("typed", "spoken", "screen")
NAMED = "named"  # the spoken query's words typed (names, numbers): only when asked for


def run_news(args: argparse.Namespace) -> dict:
    """Index the news corpus and rank every clip for each query, per query kind."""
    clips = news_corpus.plan(args.clips, args.seed, args.split, args.conditions)
    split = "" if args.split == "test" else f"-{args.split}"
    split += "" if args.conditions == "standard" else f"-{args.conditions}"
    folder = Path(tempfile.gettempdir()) / (
        f"mmr-bench-news{split}-n{args.clips}-s{args.seed}-v{news_corpus.FORMAT}"
    )
    if not (folder / "complete").exists():
        print(f"generating {len(clips)} news clips in {folder}...", flush=True)
        started = time.perf_counter()
        news_corpus.build(folder, clips, args.seed)
        (folder / "complete").write_text("ok\n")
        print(f"generated in {time.perf_counter() - started:.1f} s", flush=True)
    media = folder / "media"
    if args.subtitles:  # the quotation starts LEAD into the clip and ends TAIL before its end
        ends = [probe(media / clip.media).duration - news_corpus.TAIL for clip in clips]
        said = [
            Said(clip.media, clip.speech, news_corpus.LEAD, end, "en")
            for clip, end in zip(clips, ends, strict=True)
        ]
        media = subtitled(media, said)
    profile = load_profile(args.profile)
    index = args.index or folder / f"index-{profile.name}{'-subtitles' if args.subtitles else ''}"
    pool = [EvalItem(clip.id, media / clip.media, ()) for clip in clips]
    started = time.perf_counter()
    results, breakdowns, misses, seconds = {}, {}, {}, {}
    with Library(index, profile=profile) as library:
        report = library.add([], files=[item.media for item in pool])
        index_seconds = time.perf_counter() - started
        if report.failures:
            raise SystemExit("indexing failed: " + "; ".join(f.error for f in report.failures))
        for kind in args.kinds:
            queries = [
                (
                    j,
                    {"audio": folder / "queries" / f"{clip.id}.wav"}
                    if kind == "spoken"
                    else {"text": getattr(clip, kind)},
                )
                for j, clip in enumerate(clips)
            ]
            started = time.perf_counter()
            ranked, unanswered = query_ranks(library, pool, queries, kind)
            seconds[kind] = time.perf_counter() - started
            results[kind] = {**summary(ranked), "unanswered": unanswered}
            breakdowns[kind] = {
                attribute: breakdown(ranked, clips, attribute)
                for attribute in (("layout", "font") if kind == "screen" else ("voice",))
            }
            misses[kind] = [
                {"clip": clip.id, "query": getattr(clip, kind), "rank": first_rank(r)}
                for clip, r in zip(clips, ranked, strict=True)
                if first_rank(r) > 1
            ]
    return {
        "corpus": {
            "folder": str(folder),
            "clips": len(clips),
            "seed": args.seed,
            "split": args.split,
            "conditions": args.conditions,
            "transcripts": "subtitles" if args.subtitles else "asr",
            "clip_voices": list(news_corpus.CONDITIONS[args.conditions].voices),
            "speeds": list(news_corpus.CONDITIONS[args.conditions].speeds),
            "query_voices": list(news_corpus.QUERY_VOICES),
            "fonts": list(news_corpus.FONTS),
            "layouts": list(news_corpus.LAYOUTS),
            "size": list(news_corpus.SIZE),
            "background_sound_snr_db": news_corpus.CONDITIONS[args.conditions].snr_db,
        },
        "index": str(index),
        "profile": profile.name,
        "results": results,
        "breakdowns": breakdowns,
        "misses": misses,
        "seconds": {"index": index_seconds, **seconds},
    }


def run_dataset(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict:
    standard, formats, usage = SUITES[args.suite]
    if args.manifest is None or args.media_root is None:
        parser.error(f"suite {args.suite} needs a dataset you have downloaded; pass {usage}")
    if not args.manifest.is_file():
        parser.error(f"manifest {args.manifest} does not exist; pass {usage}")
    if not args.media_root.is_dir():
        parser.error(f"media root {args.media_root} is not a folder; pass {usage}")
    directions = args.directions or standard
    if not directions:
        parser.error(f"suite {args.suite} has no standard directions: pass --directions")
    found = detect_format(args.manifest)
    if found not in formats:
        parser.error(
            f"{args.manifest} reads as a {found} manifest; suite {args.suite} expects "
            f"{' or '.join(formats)} ({usage})"
        )
    key = hashlib.sha1(
        f"{args.manifest.resolve()}|{args.media_root.resolve()}".encode()
    ).hexdigest()[:10]
    profile = load_profile(args.profile)
    index = args.index or Path(tempfile.gettempdir()) / (
        f"mmr-bench-retrieval-{args.suite}-{profile.name}-{key}"
    )
    print(f"indexing {args.media_root} into {index} (reused when rerun)...", flush=True)
    with Library(index, profile=profile) as library:
        report = library.evaluate(args.manifest, args.media_root, directions, found, progress)
    return {"profile": profile.name, **report.to_dict()}


# -- output --------------------------------------------------------------------------------------


def print_table(title: str, rows: dict[str, dict], first: str = "direction") -> None:
    print(f"\n{title}")
    header = f"{first:<12}" + "".join(f"{m:>8}" for m in METRICS) + f"{'queries':>9}"
    print(header, "-" * len(header), sep="\n")
    for name, metrics in rows.items():
        if "skipped" in metrics:
            print(f"{name:<12}  skipped: {metrics['skipped']}")
            continue
        values = "".join(f"{metrics[m]:>8.1f}" for m in METRICS)
        print(f"{name:<12}{values}{metrics['queries']:>9}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite", choices=("offline", "news", *SUITES), help="what to evaluate")
    parser.add_argument(
        "--profile",
        default=None,
        help="profile name or YAML (default: offline for the offline suite, default for datasets)",
    )
    parser.add_argument("--manifest", type=Path, default=None, help="dataset annotation file")
    parser.add_argument("--media-root", type=Path, default=None, help="dataset media folder")
    parser.add_argument(
        "--index",
        type=Path,
        default=None,
        help="index folder (default: cached under the temp folder)",
    )
    parser.add_argument(
        "--directions",
        nargs="+",
        default=None,
        help="t2v v2t t2a a2t a2v v2a (default: the suite's standard ones)",
    )
    parser.add_argument("--clips", type=int, default=40, help="offline: clips to generate")
    parser.add_argument("--seed", type=int, default=0, help="offline: corpus seed")
    parser.add_argument(
        "--split",
        choices=tuple(news_corpus.SPLITS),
        default="test",
        help="news: the benchmark's quotations (test) or others to choose settings on (dev)",
    )
    parser.add_argument(
        "--conditions",
        choices=tuple(news_corpus.CONDITIONS),
        default="standard",
        help="news: how the clips are spoken and heard (hard: other voices, faster, louder "
        "background sound; a dev split with misses to learn from)",
    )
    parser.add_argument(
        "--kinds",
        nargs="+",
        choices=(*NEWS_KINDS, NAMED),
        default=NEWS_KINDS,
        help="news: the query kinds to run (default: typed spoken screen; spoken queries take "
        f"the longest; {NAMED}: the spoken query's words typed, names and numbers as said)",
    )
    parser.add_argument(
        "--subtitles",
        action="store_true",
        help="news: give each clip a sidecar of its quotation (exact transcripts, no speech "
        "recognition of the clips)",
    )
    parser.add_argument("--out", type=Path, default=None, help="JSON file to write")
    args = parser.parse_args()
    if args.subtitles and args.suite != "news":
        parser.error("--subtitles is for the news suite")
    if args.directions:
        args.directions = parse_directions(",".join(args.directions))
    args.profile = args.profile or ("offline" if args.suite in ("offline", "news") else "default")
    split = ""
    if args.suite == "news":
        split += "" if args.split == "test" else f"_{args.split}"
        split += "" if args.conditions == "standard" else f"_{args.conditions}"
        split += "_subtitles" if args.subtitles else ""
    out = args.out or RESULTS / f"retrieval_{args.suite}{split}.json"

    load_start = os.getloadavg()
    started = time.perf_counter()
    try:
        runs = {"offline": run_offline, "news": run_news}
        body = runs[args.suite](args) if args.suite in runs else run_dataset(args, parser)
    except MMRError as exc:
        raise SystemExit(f"error: {exc}") from exc
    result = {
        "suite": args.suite,
        "machine": describe(VERSIONS),
        "load_average_start": load_start,
        **body,
        "wall_seconds": time.perf_counter() - started,
    }

    print_table(
        f"suite {args.suite}, profile {result['profile']} (R@K and mAP in %)", result["results"]
    )
    for query, by in result.get("breakdowns", {}).items():
        label = {"text": "caption text (t2a)", SPOKEN: "spoken caption -> clip"}.get(query, query)
        for attribute, rows in by.items():
            print_table(f"{label}, by the clip's {attribute}", rows, attribute)
    if load_start[0] > 0.5:
        print(f"\nnote: load average {load_start[0]:.2f} at start (timings only; ranks unaffected)")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
