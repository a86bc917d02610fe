"""Benchmark moderation on spoken clips (issue 16): false findings on ordinary archive speech,
recall per harmful category with the right category named, precision/recall curves, and the
cost of a scan of an already indexed file.

The clips (``moderation_corpus.py``, none of their sentences in the training corpus) are said
by espeak-ng in six English voices at 140-175 wpm, one .wav each: a benign suite (news reading,
interviews, fiction, sport commentary, history, recipes) and a harmful suite (violence,
weapons, drugs, self-harm, hate speech, profanity). Every clip is indexed once with the profile
(speech recognition runs there), then moderated with ``index=`` so the scan reuses the
transcript as ``mmr moderate --index`` does; its seconds per clip are the cost a moderation
pass adds to an indexed file. Two policies run on the same index: the default one and, as the
baseline, prompt similarity alone (the previous default: any transcript prompt at 0.8).

Per category the PR curve sweeps the threshold of the category's best 0-1 text signal (the
classifier head; profanity: alt-profanity-check) over every clip, benign and harmful, a clip
being positive when it was written for that category. Profanity is also measured with the
word list alone and the model alone, side by side. Results: benchmarks/results/moderation.json,
moderation_pr.csv and moderation_pr.svg (drawn here; matplotlib is not a dependency).

With ``--subtitles`` each clip carries a .srt of what was said, so the analyser reads it instead
of running ASR: the same suite measured without recognition errors (results in
moderation_subtitles.json and its _pr files).

    python benchmarks/moderation.py [--quick] [--subtitles] [--profile offline]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import moderation_corpus as corpus
from machine import describe
from moderation_heard import DEV_LINES, HEARD

from mmretrieval.library import Library
from mmretrieval.moderation import Policy, load_policy, moderate
from mmretrieval.moderation.heads import CORPUS
from mmretrieval.testing.synth import Scene, make_audio, write_subtitles

RESULTS = Path(__file__).parent / "results"
CORPUS_FORMAT = 1  # bump when generation changes, so cached media are made anew
SPEEDS = (140, 150, 160, 175)
TARGETS = {"benign clips with a finding": 0.02, "recall per category": 0.85, "s per clip": 0.2}
VERSIONS = ("faster-whisper", "alt-profanity-check", "scikit-learn", "sentence-transformers")
CURVE_SIGNAL = {"profanity": "profanity_check"}  # else the category's classifier head


def clips(quick: bool) -> list[dict]:
    """Every clip to say: id, suite, label (a category, or the benign genre), text, voice."""
    rng = random.Random(16)
    planned = []
    for suite, items in (("benign", corpus.benign_clips()), ("harmful", corpus.harmful_clips())):
        for n, (label, text) in enumerate(items):
            planned.append(
                {
                    "id": f"{suite}/{label}-{n:03d}",
                    "suite": suite,
                    "label": label,
                    "text": text,
                    "voice": corpus.VOICES[n % len(corpus.VOICES)],
                    "speed": rng.choice(SPEEDS),
                }
            )
    if quick:  # the first 8 clips of each genre, 4 of each category: the same media as a full run
        seen: Counter = Counter()
        kept = []
        for clip in planned:
            seen[clip["label"]] += 1
            if seen[clip["label"]] <= (8 if clip["suite"] == "benign" else 4):
                kept.append(clip)
        planned = kept
    return planned


def media(planned: list[dict], subtitles: bool = False) -> Path:
    """The clips' .wav files (made once, kept in the temp folder); with ``subtitles``, in a
    folder of their own, each with a .srt sidecar of what was said, so no ASR runs."""
    name = f"mmr-bench-moderation-v{CORPUS_FORMAT}" + ("-srt" if subtitles else "")
    folder = Path(tempfile.gettempdir()) / name
    made = 0
    for clip in planned:
        path = folder / f"{clip['id']}.wav"
        if not path.exists():
            scene = Scene(speech=clip["text"], voice=clip["voice"], speed=clip["speed"])
            spans = make_audio(path, [scene])
            if subtitles:
                write_subtitles(path.with_suffix(".srt"), spans)
            made += 1
    print(f"{len(planned)} clips in {folder} ({made} made now)", flush=True)
    return folder


def prompts_only(policy: Policy) -> Policy:
    """The baseline: the transcript prompt signals alone, any one firing (the old default)."""
    data = policy.model_dump(mode="json", exclude_none=True)
    categories = {}
    for name, category in data["categories"].items():
        signals = [s for s in category["signals"] if s["type"] == "transcript"]
        if signals:
            categories[name] = {**category, "signals": signals, "agree": 1}
    return Policy.model_validate({**data, "name": "prompts-only", "categories": categories})


def flagged(report, folder: Path) -> dict[str, set[str]]:
    """clip id -> the categories found in it."""
    found: dict[str, set[str]] = {}
    for finding in report.findings:
        key = str(Path(finding.path).relative_to(folder).with_suffix(""))
        found.setdefault(key, set()).add(finding.category)
    return found


def rates(planned: list[dict], found: dict[str, set[str]], categories: list[str]) -> dict:
    benign = [c for c in planned if c["suite"] == "benign"]
    false = [c for c in benign if found.get(c["id"])]
    out = {
        "benign_clips": len(benign),
        "benign_with_finding": len(false),
        "benign_rate": round(len(false) / max(len(benign), 1), 4),
        "benign_findings": [
            {"id": c["id"], "categories": sorted(found[c["id"]]), "text": c["text"]} for c in false
        ],
        "per_category": {},
    }
    for category in categories:
        positives = [c for c in planned if c["label"] == category]
        hit = [c for c in positives if category in found.get(c["id"], ())]
        predicted = [c for c in planned if category in found.get(c["id"], ())]
        out["per_category"][category] = {
            "clips": len(positives),
            "recall": round(len(hit) / len(positives), 4) if positives else None,
            "precision": round(len(hit) / len(predicted), 4) if predicted else None,
            "missed": [c["text"] for c in positives if c not in hit],
        }
    return out


def curves(planned: list[dict], report, folder: Path, categories: list[str]) -> dict:
    """Per category: (threshold, precision, recall) as the curve signal's threshold sweeps."""
    best = {
        str(Path(f.path).relative_to(folder).with_suffix("")): f.max_scores for f in report.files
    }
    out = {}
    for category in categories:
        key = f"{category}/{CURVE_SIGNAL.get(category, 'classifier')}"
        scored = [(best[c["id"]].get(key, 0.0), c["label"] == category) for c in planned]
        positives = sum(y for _, y in scored)
        points = []
        for t in sorted({s for s, _ in scored}, reverse=True):
            tp = sum(1 for s, y in scored if y and s >= t)
            fp = sum(1 for s, y in scored if not y and s >= t)
            points.append((t, tp / (tp + fp), tp / positives if positives else 0.0))
        out[category] = {"signal": key, "points": points}
    return out


def profanity_side_by_side(planned: list[dict], report, folder: Path, policy: Policy) -> dict:
    """The profanity word list and model alone and as the policy combines them (its model
    threshold and strong score)."""
    best = {
        str(Path(f.path).relative_to(folder).with_suffix("")): f.max_scores for f in report.files
    }
    model = policy.signal("profanity", "profanity_check")
    low, strong = model.threshold, model.strong

    def scored(s: dict) -> float:
        return s.get("profanity/profanity_check", 0)

    rules = {
        "word list alone (any listed word)": lambda s: s.get("profanity/wordlist", 0) >= 1,
        f"model alone >= {low:g}": lambda s: scored(s) >= low,
        f"model alone >= {strong:g}": lambda s: scored(s) >= strong,
        f"policy (model >= {strong:g}, or model >= {low:g} and a listed word)": lambda s: (
            scored(s) >= strong or (scored(s) >= low and s.get("profanity/wordlist", 0))
        ),
    }
    out = {}
    for name, rule in rules.items():
        fired = [(rule(best[c["id"]]), c["label"] == "profanity") for c in planned]
        tp = sum(1 for f, y in fired if f and y)
        fp = sum(1 for f, y in fired if f and not y)
        positives = sum(y for _, y in fired)
        out[name] = {
            "precision": round(tp / (tp + fp), 4) if tp + fp else None,
            "recall": round(tp / positives, 4) if positives else None,
            "false_positives": fp,
        }
    return out


def write_svg(path: Path, found: dict) -> None:
    """Precision (y) against recall (x), one polyline per category."""
    size, margin = 420, 50
    colours = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]

    def xy(recall: float, precision: float) -> str:
        return f"{margin + recall * size:.1f},{margin + (1 - precision) * size:.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size + 2 * margin + 160}" '
        f'height="{size + 2 * margin}" font-family="sans-serif" font-size="12">',
        f'<rect x="{margin}" y="{margin}" width="{size}" height="{size}" fill="none" '
        'stroke="#888"/>',
        f'<text x="{margin + size / 2}" y="{size + margin + 35}" text-anchor="middle">recall'
        "</text>",
        f'<text x="15" y="{margin + size / 2}" transform="rotate(-90 15 {margin + size / 2})" '
        'text-anchor="middle">precision</text>',
        f'<text x="{margin}" y="30">Moderation PR per category (benchmark clips)</text>',
    ]
    for tick in (0.0, 0.5, 1.0):
        parts.append(f'<text x="{margin + tick * size}" y="{size + margin + 15}" '
                     f'text-anchor="middle">{tick:g}</text>')
        parts.append(f'<text x="{margin - 5}" y="{margin + (1 - tick) * size + 4}" '
                     f'text-anchor="end">{tick:g}</text>')
    for n, (category, curve) in enumerate(found.items()):
        colour = colours[n % len(colours)]
        points = " ".join(xy(r, p) for _, p, r in curve["points"])
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" '
                     'stroke-width="2"/>')
        y = margin + 20 * n + 10
        parts.append(f'<line x1="{size + margin + 15}" y1="{y}" x2="{size + margin + 35}" '
                     f'y2="{y}" stroke="{colour}" stroke-width="3"/>')
        parts.append(f'<text x="{size + margin + 40}" y="{y + 4}">{category}</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="8 clips a genre, 4 a category")
    parser.add_argument("--profile", default="offline")
    parser.add_argument(
        "--subtitles",
        action="store_true",
        help="give each clip a .srt of what was said: measures the classifiers without ASR",
    )
    parser.add_argument("--out", type=Path, help="default: results/moderation[_subtitles].json")
    parser.add_argument("--fresh-index", action="store_true", help="index the clips anew")
    args = parser.parse_args(argv)
    args.out = args.out or RESULTS / f"moderation{'_subtitles' if args.subtitles else ''}.json"
    corpus.check_unseen([CORPUS, HEARD, *(p for pair in DEV_LINES.values() for p in pair)])
    planned = clips(args.quick)
    folder = media(planned, args.subtitles)
    # The index is kept between runs (adding skips files already in it): a run after a policy
    # or heads change only scans. --fresh-index rebuilds it.
    index = folder.with_name(f"{folder.name}-index-{args.profile}")
    if args.fresh_index:
        shutil.rmtree(index, ignore_errors=True)
    started = time.perf_counter()
    with Library(index, profile=args.profile) as library:
        library.add([folder])
    indexed = time.perf_counter() - started
    print(f"indexed {len(planned)} clips in {indexed:.1f} s", flush=True)
    policy = load_policy()
    files = [folder / f"{c['id']}.wav" for c in planned]
    cpu = time.process_time()
    report = moderate(files, policy, index=index)
    cpu_per_clip = (time.process_time() - cpu) / max(report.timing["clips"], 1)
    baseline = moderate(files, prompts_only(policy), index=index)
    categories = sorted({c["label"] for c in planned if c["suite"] == "harmful"})
    ours = rates(planned, flagged(report, folder), categories)
    before = rates(planned, flagged(baseline, folder), categories)
    pr = curves(planned, report, folder, categories)
    timing = report.timing
    result = {
        "clips": len(planned),
        "quick": args.quick,
        "transcripts": "subtitles" if args.subtitles else "asr",
        "profile": args.profile,
        "targets": TARGETS,
        "default_policy": ours,
        "baseline_prompts_only": {k: v for k, v in before.items() if k != "benign_findings"}
        | {"benign_findings": before["benign_findings"][:10]},
        "profanity_side_by_side": profanity_side_by_side(planned, report, folder, policy),
        "pr_curves": {c: {"signal": v["signal"], "points": [[round(x, 4) for x in p]
                                                            for p in v["points"]]}
                      for c, v in pr.items()},
        "cost": {
            "seconds_per_clip": timing["seconds_per_clip"],
            "cpu_seconds_per_clip": round(cpu_per_clip, 4),
            "clips": timing["clips"],
            "stage_seconds": timing["stage_seconds"],
            "load_seconds": timing["load_seconds"],
            "index_seconds": round(indexed, 1),
        },
        "machine": describe(VERSIONS),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    stem = args.out.with_suffix("")
    with open(f"{stem}_pr.csv", "w", encoding="utf-8") as handle:
        handle.write("category,signal,threshold,precision,recall\n")
        for category, curve in pr.items():
            for t, p, r in curve["points"]:
                handle.write(f"{category},{curve['signal']},{t:g},{p:.4f},{r:.4f}\n")
    write_svg(Path(f"{stem}_pr.svg"), pr)
    report_text(result)
    return 0


def report_text(result: dict) -> None:
    ours, before = result["default_policy"], result["baseline_prompts_only"]
    print(f"\nbenign clips with any finding: {ours['benign_with_finding']}/{ours['benign_clips']}"
          f" = {ours['benign_rate']:.1%} (target <= 2%; prompts only: {before['benign_rate']:.1%})")
    for f in ours["benign_findings"]:
        print(f"  false: {f['id']} {f['categories']}: {f['text']}")
    print(f"{'category':<12} {'recall':>7} {'precision':>9}   (target recall >= 0.85)"
          "   prompts-only recall")
    for category, row in ours["per_category"].items():
        old = before["per_category"][category]["recall"]
        print(f"{category:<12} {row['recall']:>7} {row['precision']!s:>9}   {'':22}   {old}")
        for text in row["missed"]:
            print(f"  missed: {text}")
    print("profanity, side by side:")
    for name, row in result["profanity_side_by_side"].items():
        print(f"  {name}: precision {row['precision']}, recall {row['recall']}")
    cost = result["cost"]
    print(f"scan of indexed clips: {cost['seconds_per_clip']} s per clip, "
          f"{cost['cpu_seconds_per_clip']} CPU s per clip (target < 0.2), "
          f"stages {cost['stage_seconds']}")


if __name__ == "__main__":
    sys.exit(main())
