"""Choose copy-matching settings on the dev split of ``benchmarks/reuse.py`` (other sources and
fillers than the benchmark's): index it once, describe each window once (feature-map squares
included), then score each setting of ``copies`` (squares, matches on a run's own diagonal, the
document-frequency rule, the entropy floor) from those descriptions, listing every wrong stretch
and every missed one.

Usage: python benchmarks/reuse_dev.py [--work DIR] > benchmarks/results/reuse_dev.txt
"""

from __future__ import annotations

import argparse
import json
import pickle
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import reuse

from mmretrieval import copies
from mmretrieval.config import AdaptersConfig, load_profile
from mmretrieval.library import Library
from mmretrieval.media.decode import iter_frames

# name -> copies settings changed from the defaults; WIDESPREAD 2 (a cosine never reaches it)
# turns the document-frequency rule off
SETTINGS = {
    "default": {},
    "no squares": {"REGIONS": False},
    "3 on the diagonal": {"ON_DIAGONAL": 3},
    "any diagonal": {"ON_DIAGONAL": 0},
    "any diagonal, no squares": {"ON_DIAGONAL": 0, "REGIONS": False},
    "no document frequency": {"WIDESPREAD": 2.0},
    "entropy floor 2.5": {"MIN_ENTROPY": 2.5},
}


def cached_frames(describe):
    """``Describer.frames`` computed once per window with squares (left out when
    ``copies.REGIONS`` is off); which frames are ``informative`` is decided again each time,
    as the setting says."""
    cache = {}

    def frames(self, path, span, mirror=False):
        key = (str(path), span.start, span.end, span.file_id, mirror)
        if key not in cache:
            regions, copies.REGIONS = copies.REGIONS, True
            cache[key] = describe(self, path, span, mirror)
            copies.REGIONS = regions
        found = cache[key]
        decoded = iter_frames(path, copies.DENSE_RATE, span.start, span.end, short_side=360)
        found = replace(found, informative=np.array([copies.informative(f) for _, f in decoded]))
        return found if copies.REGIONS else replace(found, parts=found.parts[:, :0])

    return frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=Path(tempfile.mkdtemp(prefix="mmr-reuse-")))
    root = parser.parse_args().work
    if not (root / "truth.pkl").exists():
        built = reuse.build(root, reuse.DEV_SOURCES, reuse.DEV_FILLER)
        (root / "truth.pkl").write_bytes(pickle.dumps(built))
    queries, truth = pickle.loads((root / "truth.pkl").read_bytes())
    base = load_profile("offline")
    visual = base.adapters.visual.model_copy(update={"frame_rate": 1.0})
    profile = base.model_copy(
        update={"name": "visual-only", "adapters": AdaptersConfig(visual=visual)}
    )
    defaults = {name: getattr(copies, name) for change in SETTINGS.values() for name in change}
    copies.Describer.frames = cached_frames(copies.Describer.frames)
    with Library(root / "idx", profile=profile) as library:
        library.add([root / "archive"])
        for name, change in SETTINGS.items():
            for attribute, value in {**defaults, **change}.items():
                setattr(copies, attribute, value)
            clock = time.perf_counter()
            found = {key: library.copies(query) for key, query in queries.items()}
            seconds = round(time.perf_counter() - clock)
            print(name, seconds, json.dumps(reuse.score(found, truth)), flush=True)
            for key, hits in found.items():
                for h in hits:
                    if not any(
                        h.path == p and h.iou(span) >= reuse.MIN_IOU for p, span, _ in truth[key]
                    ):
                        print(f"   wrong: query {key} -> {Path(h.path).name} {h.start:.2f}-"
                              f"{h.end:.2f} (query {h.query_start:.2f}-{h.query_end:.2f}) "
                              f"score {h.score:.3f}")
                for path, span, transform in truth[key]:
                    if max((h.iou(span) for h in hits if h.path == path), default=0.0) < (
                        reuse.MIN_IOU
                    ):
                        print(f"   missed: query {key} {transform} ({Path(path).name})")


if __name__ == "__main__":
    main()
