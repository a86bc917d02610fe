"""Why picture queries miss generated scenes in ``benchmarks/visual.py`` (issue 14): the same
archive and damaged queries, clip vectors emulated from frames every 4 s; for each damage, R@1
(all files, generated scenes only) with the raw descriptor (what search does), centred on the
archive's mean, and the better of the query and its mirror image; each generated miss with its
own and best cosine; the margin of the own clip over the best other.

Usage: python benchmarks/visual_margins.py > benchmarks/results/visual_margins.txt
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from visual import DAMAGE, archive, damaged

from mmretrieval.adapters.visual import VisualEncoder
from mmretrieval.config import load_profile
from mmretrieval.media.decode import iter_frames


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def main() -> None:
    encoder = VisualEncoder(load_profile("offline").adapters.visual)
    work = Path(tempfile.mkdtemp())
    files = archive(work)
    stored = np.stack(
        [unit(encoder.embed_images([f for _, f in iter_frames(p, 0.25)]).mean(0)) for p in files]
    )
    generated = [i for i, p in enumerate(files) if "generated" in p.name]
    mean = stored.mean(0)
    for how in DAMAGE:
        found: dict[str, list[bool]] = {"raw": [], "centred": [], "flipmax": []}
        margins = []
        for i, path in enumerate(files):
            for t in (1.3, 4.1):
                _, frame = next(iter_frames(path, 1.0, t, t + 1.0))
                query = damaged(frame, how)
                v = encoder.embed_images([query])[0]
                flipped = encoder.embed_images([np.ascontiguousarray(query[:, ::-1])])[0]
                s = stored @ v
                found["raw"].append(int(np.argmax(s)) == i)
                found["flipmax"].append(int(np.argmax(np.maximum(s, stored @ flipped))) == i)
                centred = unit(stored - mean) @ unit(v - mean)
                found["centred"].append(int(np.argmax(centred)) == i)
                if i in generated:
                    margins.append(s[i] - np.delete(s, i).max())
                    if int(np.argmax(s)) != i:
                        print(f"  {how}: {path.name} t={t} -> {files[int(np.argmax(s))].name} "
                              f"own {s[i]:.3f} best {s.max():.3f}")
        ours = [k for k in range(len(found["raw"])) if k // 2 in generated]
        r1 = {
            k: (round(float(np.mean(v)), 3), round(float(np.mean([v[x] for x in ours])), 3))
            for k, v in found.items()
        }
        print(how, r1, f"gen margin min {min(margins):.3f} median {np.median(margins):.3f}")


if __name__ == "__main__":
    main()
