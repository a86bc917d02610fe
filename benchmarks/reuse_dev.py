"""Choose copy-matching settings on the dev split of ``benchmarks/reuse.py`` (other sources and
fillers than the benchmark's): index it once, describe each window once (feature-map squares
included), then score each setting of ``copies.REGIONS`` / ``copies.REGION_AGREEMENT`` from
those descriptions, listing every wrong stretch.

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

import reuse

from mmretrieval import copies
from mmretrieval.config import AdaptersConfig, load_profile
from mmretrieval.library import Library

SETTINGS = [("off", False, 0.0), ("on, any place", True, 0.0), ("on, 0.75", True, 0.75),
            ("on, 0.9", True, 0.9)]


def cached_frames(describe):
    """``Describer.frames`` computed once per window with squares; without them when
    ``copies.REGIONS`` is off."""
    cache = {}

    def frames(self, path, span, mirror=False):
        key = (str(path), span.start, span.end, span.file_id, mirror)
        if key not in cache:
            cache[key] = describe(self, path, span, mirror)
        found = cache[key]
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
    copies.Describer.frames = cached_frames(copies.Describer.frames)
    with Library(root / "idx", profile=profile) as library:
        library.add([root / "archive"])
        for name, regions, agreement in [SETTINGS[1], *SETTINGS]:  # the first fills the cache
            copies.REGIONS, copies.REGION_AGREEMENT = regions, agreement
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


if __name__ == "__main__":
    main()
