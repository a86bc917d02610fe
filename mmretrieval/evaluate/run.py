"""Evaluation runs: index a manifest's media, search with its captions and media, score ranks.

Protocols (``evaluate``). Every item is ranked (hits are asked for as many spans as the index
holds; items the search does not return rank after every returned one) and ties are broken
pessimistically (the correct target goes after every other target with the same score). A hit
counts for an item when it is on the item's file (matched by resolved path) and, for an item
with a span, overlaps [start, end). An item's score for a query is its best hit's fused score.

- t2v, t2a (text -> media): every caption is a query; its rank is the position of its own item
  among the items with a video stream (t2v, searching every space) or with an audio track (t2a,
  searching the spaces sound reaches: clap, and speech through text and lexical). One relevant
  target, so AP = 1 / rank.
- v2t, a2t (media -> text): as CLIP4Clip and the CLAP/AudioCaps/Clotho evaluations do, from the
  same text -> media similarity matrix transposed (S[caption, item] = fused score of the item
  for the caption): each item ranks all captions of the pool; its rank is that of its first
  correct caption; AP counts every caption of the item as a relevant target.
- a2v, v2a ("same-clip" protocol, items with both audio and video): the query is the item's own
  audio track (``Library.search(audio=media, start, end)``, a2v) or its own video
  (``Library.search(video=...)``, which pools frames, sound, speech and screen text, v2a); the
  target is the item itself among the items with video (a2v) or with audio (v2a). a2v searches
  the spaces pictures live in plus speech (clip, text, lexical; not clap, so the track cannot
  simply find its own stored sound vector); v2a searches clap, text and lexical. The query
  shares its speech (and, for v2a, its soundtrack) with the target, so these numbers check
  the index's cross-modal consistency; they are not comparable with published audio-visual
  retrieval results.

R@K and mAP are percentages; MedR and MeanR are 1-based ranks. A direction the items or the
profile cannot serve (no item with a video stream; no model linking words or pictures to sound)
is reported as ``{"skipped": reason}``; with the offline profile (no CLAP, no CLIP) sound
directions run through speech recognition.
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mmretrieval import channels
from mmretrieval.errors import ConfigError, IndexDirError, MMRError
from mmretrieval.evaluate.manifests import EvalItem, read_manifest
from mmretrieval.evaluate.metrics import (
    first_rank,
    matrix_metrics,
    mean_average_precision,
    rank_metrics,
    ranked_relevance,
)
from mmretrieval.search import Hit
from mmretrieval.spans import Span

if TYPE_CHECKING:  # evaluation is handed an open Library by the one above it
    from mmretrieval.library import Library

log = logging.getLogger(__name__)

DIRECTIONS = ("t2v", "v2t", "t2a", "a2t", "a2v", "v2a")
SOUND_SPACES = (channels.CLAP_SPACE, channels.TEXT_SPACE, channels.LEXICAL)
PICTURE_SPACES = (channels.CLIP_SPACE, channels.TEXT_SPACE, channels.LEXICAL)

Progress = Callable[[str, int, int], None]  # (stage: "index" or a direction, done, total)


def parse_directions(directions: str | Iterable[str] | None) -> tuple[str, ...]:
    """Directions from "t2v,v2t" or a list; None means all of them."""
    if directions is None:
        return DIRECTIONS
    names = directions.split(",") if isinstance(directions, str) else list(directions)
    names = [n.strip().lower() for n in names if n.strip()]
    unknown = [n for n in names if n not in DIRECTIONS]
    if unknown or not names:
        raise ConfigError(
            f"unknown direction(s) {', '.join(unknown) or '(none given)'}: expected some of "
            f"{','.join(DIRECTIONS)}"
        )
    return tuple(dict.fromkeys(names))


class _Matcher:
    """Maps hits to the items of a pool: same file (resolved path) and overlapping span."""

    def __init__(self, pool: Sequence[EvalItem]):
        self.size = len(pool)
        self.by_file: dict[Path, list[tuple[int, EvalItem]]] = defaultdict(list)
        for index, item in enumerate(pool):
            self.by_file[item.media.resolve()].append((index, item))
        self._resolved: dict[str, Path] = {}

    def scores(self, hits: Sequence[Hit]) -> np.ndarray:
        """Each pool item's best hit score, -inf where no hit landed on it."""
        best = np.full(self.size, -np.inf)
        for hit in hits:
            path = self._resolved.get(hit.path)
            if path is None:
                path = self._resolved[hit.path] = Path(hit.path).resolve()
            for index, item in self.by_file.get(path, ()):
                if item.matches(hit):
                    best[index] = max(best[index], hit.score)
        return best


@dataclass(frozen=True)
class _Streams:
    video: bool
    audio: bool


def _indexed_streams(library: Library, files: Sequence[Path]) -> dict[Path, _Streams]:
    """What the catalog knows of each file: its streams if indexed; failed or absent files are
    left out. Files the catalog does not list yet are indexed first."""
    try:
        listed = {path: library.catalog.file(str(path)) for path in files}
    except IndexDirError:  # no index yet
        listed = dict.fromkeys(files)
    if lacking := [path for path, row in listed.items() if row is None]:
        library.add([], files=lacking)
        listed.update({path: library.catalog.file(str(path)) for path in lacking})
    return {
        path: _Streams(bool(row.has_video), bool(row.has_audio))
        for path, row in listed.items()
        if row is not None and row.status == "indexed"
    }


def evaluate(
    library: Library,
    items: Sequence[EvalItem],
    directions: str | Iterable[str] | None = None,
    progress: Progress | None = None,
) -> dict[str, dict]:
    """Score each direction, first indexing the items' media that the library does not list.

    Returns direction -> metrics (R@1, R@5, R@10, MedR, MeanR, mAP, queries, targets) or
    ``{"skipped": reason}``. Items whose media could not be indexed are left out (logged).
    """
    wanted = parse_directions(directions)
    items = [_absolute(item) for item in items]
    if not items:
        raise ConfigError("nothing to evaluate: the manifest gave no items")
    streams = _indexed_streams(library, list(dict.fromkeys(item.media for item in items)))
    usable = [item for item in items if item.media in streams]
    if len(usable) < len(items):
        log.warning("%d items left out: their media could not be indexed", len(items) - len(usable))
    if not usable:
        raise MMRError("no item's media could be indexed: see `mmr info` for the reasons")

    k = max(1, library.stats()["clips"])  # every search ranks every clip (candidates = k)
    video = [i for i in usable if streams[i.media].video]
    audio = [i for i in usable if streams[i.media].audio]
    both = [i for i in video if streams[i.media].audio]
    adapters = library.profile.adapters
    speech, clip, clap = (getattr(adapters, n) is not None for n in ("speech", "clip", "clap"))
    profile = library.profile.name

    results: dict[str, dict] = {}
    for forward, backward, pool, spaces, kind in (
        ("t2v", "v2t", video, None, "a video stream"),
        ("t2a", "a2t", audio, SOUND_SPACES, "an audio track"),
    ):
        if forward not in wanted and backward not in wanted:
            continue
        reason = None
        if not pool:
            reason = f"no item has {kind}"
        elif not any(i.captions for i in pool):
            reason = "no item has a caption"
        elif forward == "t2a" and not (speech or clap):
            reason = f"profile {profile} has neither a clap model nor speech recognition"
        if reason is not None:
            results.update({d: {"skipped": reason} for d in (forward, backward) if d in wanted})
            continue
        label = forward if forward in wanted else backward
        scores, owners = _text_scores(library, pool, spaces, k, label, progress)
        t2m, m2t = matrix_metrics(scores, owners)
        results.update({d: m for d, m in ((forward, t2m), (backward, m2t)) if d in wanted})

    for direction, kind, targets, spaces, able in (
        ("a2v", "audio", video, PICTURE_SPACES, speech or (clip and clap)),
        ("v2a", "video", audio, SOUND_SPACES, speech or clap),
    ):
        if direction not in wanted:
            continue
        if not both:
            results[direction] = {"skipped": "no item has both an audio track and a video stream"}
        elif not able:
            results[direction] = {
                "skipped": f"profile {profile} has no speech recognition and no model linking "
                + (
                    "sound to pictures (clap with clip)"
                    if kind == "audio"
                    else "pictures to sound (clap)"
                )
            }
        else:
            results[direction] = _same_clip(
                library, both, targets, kind, spaces, k, direction, progress
            )
    return {d: results[d] for d in wanted if d in results}


def _absolute(item: EvalItem) -> EvalItem:
    if item.media.is_absolute():
        return item
    return replace(item, media=item.media.absolute())


def _text_scores(
    library: Library,
    pool: Sequence[EvalItem],
    spaces: Sequence[str] | None,
    k: int,
    label: str,
    progress: Progress | None,
) -> tuple[np.ndarray, np.ndarray]:
    """S[caption, item]: every pool caption searched, every pool item scored."""
    matcher = _Matcher(pool)
    queries = [(j, caption) for j, item in enumerate(pool) for caption in item.captions]
    scores = np.full((len(queries), len(pool)), -np.inf)
    for q, (_j, caption) in enumerate(queries):
        hits = library.search(text=caption, k=k, spaces=spaces, candidates=k)
        scores[q] = matcher.scores(hits)
        if progress:
            progress(label, q + 1, len(queries))
    return scores, np.asarray([j for j, _c in queries], dtype=np.int64)


def _same_clip(
    library: Library,
    queries: Sequence[EvalItem],
    targets: Sequence[EvalItem],
    kind: str,
    spaces: Sequence[str],
    k: int,
    label: str,
    progress: Progress | None,
) -> dict:
    """Each item's own audio (or video) as the query, the item itself as the one target."""
    matcher = _Matcher(targets)
    position = {id(item): index for index, item in enumerate(targets)}
    ranked, unanswered = [], 0
    for done, item in enumerate(queries, start=1):
        window = item.span or Span(0.0, math.inf)
        try:
            hits = library.search(
                **{kind: item.media},
                start=window.start,
                end=None if math.isinf(window.end) else window.end,
                k=k,
                spaces=spaces,
                candidates=k,
            )
        except MMRError as exc:  # e.g. nothing recognisable in the query: it finds nothing
            log.info("%s query %s found nothing: %s", label, item.id, exc)
            hits, unanswered = [], unanswered + 1
        relevant = np.arange(len(targets)) == position[id(item)]
        ranked.append(ranked_relevance(matcher.scores(hits), relevant))
        if progress:
            progress(label, done, len(queries))
    return {
        **rank_metrics([first_rank(r) for r in ranked]),
        "mAP": mean_average_precision(ranked),
        "queries": len(queries),
        "targets": len(targets),
        "unanswered": unanswered,
    }


# -- end to end ----------------------------------------------------------------------------------


@dataclass
class EvalReport:
    manifest: str
    format: str
    index: str
    profile: str
    items: int
    missing: list[str] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)
    results: dict[str, dict] = field(default_factory=dict)
    wall_seconds: float = 0.0

    def to_dict(self) -> dict:
        return {
            "manifest": self.manifest,
            "format": self.format,
            "index": self.index,
            "profile": self.profile,
            "items": self.items,
            "missing": self.missing,
            "failures": self.failures,
            "results": {d: _rounded(m) for d, m in self.results.items()},
            "wall_seconds": round(self.wall_seconds, 3),
        }


def run_eval(
    library: Library,
    manifest: str | Path,
    media_root: str | Path,
    directions: str | Iterable[str] | None = None,
    format: str = "auto",
    progress: Progress | None = None,
) -> EvalReport:
    """Read a manifest, index its media into ``library`` (reusing what is there), evaluate.

    Every search ranks all of the index's clips, so every item gets a rank; the index keeps
    the profile it was created with. ``Library.evaluate`` is the public way in.
    """
    started = time.perf_counter()
    wanted = parse_directions(directions)
    found = read_manifest(manifest, media_root, format)
    files = list(dict.fromkeys(i.media for i in found))
    indexed = iter(range(1, len(files) + 1))

    def on_file(_outcome) -> None:
        if progress:
            progress("index", next(indexed), len(files))

    report = library.add([], files=files, on_file=on_file)
    results = evaluate(library, found, wanted, progress)
    return EvalReport(
        manifest=str(manifest),
        format=found.format,
        index=str(library.index_dir),
        profile=library.profile.name,
        items=len(found),
        missing=list(found.missing),
        failures=[{"path": o.path, "error": o.error} for o in report.failures],
        results=results,
        wall_seconds=time.perf_counter() - started,
    )


def _rounded(metrics: dict) -> dict:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()}
