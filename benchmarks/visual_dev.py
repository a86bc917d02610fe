"""Dev split for the visual descriptor's colour-layout part (issue 14): chooses its weight on
pictures that ``benchmarks/visual.py`` never shows, so the benchmark is measured once.

Archive: eight other photographs scikit-image ships (retina, Hubble deep field, IHC stain,
coins, brick, grass, gravel, moon; panned as in ``testing.photos``) and twelve generated scenes
with other captions, background colours (several close pairs) and seeds than the benchmark's.
Clip vectors are the mean direction of frames every 4 s, as the offline profile stores them;
queries are frames at 1.3 s and 4.1 s damaged as in ``benchmarks/visual.py``. Prints R@1 (all,
generated only) per damage for each colour weight.

Usage: python benchmarks/visual_dev.py [--weights 0 0.1 0.2 0.3 0.4]
"""

from __future__ import annotations

import argparse
import tempfile
from fractions import Fraction
from importlib import resources
from pathlib import Path

import av
import numpy as np
from PIL import Image
from visual import DAMAGE, damaged

from mmretrieval.adapters.visual import VisualEncoder, shrink
from mmretrieval.config import load_profile
from mmretrieval.media.decode import iter_frames
from mmretrieval.testing.photos import pan_frame
from mmretrieval.testing.synth import Scene, make_video

DEV_PHOTOS = (
    "retina.jpg", "hubble_deep_field.jpg", "ihc.png", "coins.png", "brick.png", "grass.png",
    "gravel.png", "moon.png",
)
DEV_SCENES = [
    Scene(caption=caption, duration=6.0, background=background)
    for caption, background in [
        ("LIVE FROM THE COURTHOUSE", (50, 70, 100)),
        ("STOCKS FALL", (40, 55, 95)),
        ("STORM LATEST", (100, 50, 45)),
        ("CITY COUNCIL VOTE", (35, 85, 55)),
        ("FLOOD ALERT", (80, 80, 80)),
        ("TRANSFER NEWS", (130, 110, 70)),
        ("ROAD CLOSURES", (25, 25, 35)),
        ("HEALTH REPORT", (60, 60, 65)),
        (None, (190, 195, 205)),
        (None, (70, 35, 100)),
        (None, (45, 65, 95)),
        ("EXCLUSIVE INTERVIEW", (180, 180, 190)),
    ]
]


def dev_archive(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for name in DEV_PHOTOS:
        path = folder / f"photo_{name.split('.')[0]}.mp4"
        with Image.open(str(resources.files("skimage").joinpath("data", name))) as image:
            rgb = np.asarray(image.convert("RGB"))
        with av.open(str(path), mode="w") as container:
            stream = container.add_stream("libx264", rate=10)
            stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
            for i in range(60):
                frame = av.VideoFrame.from_ndarray(pan_frame(rgb, i / 59, (640, 360)), "rgb24")
                frame.pts, frame.time_base = i, Fraction(1, 10)
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
        files.append(path)
    for number, scene in enumerate(DEV_SCENES):
        files.append(folder / f"generated_{number}.mp4")
        make_video(files[-1], [scene], audio=False, seed=1000 + number)
    return files


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.1, 0.2, 0.3, 0.4])
    args = parser.parse_args()
    encoder = VisualEncoder(load_profile("offline").adapters.visual)
    files = dev_archive(Path(tempfile.mkdtemp(prefix="mmr-visual-dev-")))
    generated = [i for i, p in enumerate(files) if "generated" in p.name]
    stored = [
        [shrink(f, encoder.input_side) for _, f in iter_frames(p, 0.25)] for p in files
    ]
    queries = {how: [] for how in DAMAGE}
    for path in files:
        for t in (1.3, 4.1):
            _, frame = next(iter_frames(path, 1.0, t, t + 1.0))
            for how in DAMAGE:
                queries[how].append(damaged(frame, how))
    for weight in args.weights:
        encoder.colour = weight
        clips = np.stack([unit(encoder.embed_images(frames).mean(0)) for frames in stored])
        line = []
        for how in DAMAGE:
            best = (encoder.embed_images(queries[how]) @ clips.T).argmax(1)
            hit = best == np.arange(len(files)).repeat(2)
            gen = hit[np.isin(np.arange(len(files)).repeat(2), generated)]
            line.append(f"{how} {hit.mean():.3f}/{gen.mean():.3f}")
        print(f"colour {weight}: " + "  ".join(line), flush=True)


if __name__ == "__main__":
    main()
