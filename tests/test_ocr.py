"""On-screen text: run-together captions get their words back, on real OCR of drawn frames."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from mmretrieval.adapters.ocr import RapidOcrReader, _TabledInput
from mmretrieval.config import OcrConfig, SearchConfig, load_profile
from mmretrieval.lexical import LexicalSearch
from mmretrieval.search import EncodedQuery, Searcher
from mmretrieval.store.catalog import Catalog, ClipText, IndexedFile
from mmretrieval.store.faiss import FaissStore
from mmretrieval.wordsplit import recover_spaces, split_run

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
CAPTION = "MOTIVESFORDOINGWHATEVER"  # drawn with no spaces: OCR reads one run


def busy_frame(seed: int, caption: str | None, left: int = 28) -> np.ndarray:
    """A 640x360 frame of coloured blotches, with ``caption`` in a lower-third box."""
    rng = np.random.default_rng(seed)
    small = rng.uniform(30, 225, (30, 54, 3)).astype(np.uint8)
    picture = Image.fromarray(small).resize((640, 360), Image.BICUBIC)
    if caption:
        font = ImageFont.truetype(FONT, 26)
        draw = ImageDraw.Draw(picture)
        width = int(font.getlength(caption))
        draw.rectangle((left, 280, left + width + 16, 322), fill=(185, 20, 30))
        draw.text((left + 8, 286), caption, font=font, fill=(255, 255, 255))
    return np.asarray(picture)


def test_split_run_keeps_words_and_names():
    assert recover_spaces("MINISTER VISITSREADING") == "MINISTER VISITS READING"
    assert recover_spaces("AMATEURCLUBMARKS100YEARS") == "AMATEUR CLUB MARKS 100 YEARS"
    assert recover_spaces("Head Coach: Daniel Kowalczyk") == "Head Coach: Daniel Kowalczyk"
    assert split_run("KOWALCZYK") == ["KOWALCZYK"]  # would split into stray letters
    assert split_run("MINISTER") == ["MINISTER"]  # a word stays whole


@pytest.fixture(scope="module")
def reader() -> RapidOcrReader:
    return RapidOcrReader(OcrConfig())


def test_the_detector_gets_the_tensor_rapidocr_would_make(reader):
    """The detection input is normalised through a table (``_TabledInput``): bit for bit the
    tensor rapidocr's own ``DetPreProcess`` computes, on drawn frames at both resize rules."""
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

    assert isinstance(reader.engine.text_det.get_preprocess(352), _TabledInput)
    for seed, caption in ((0, CAPTION), (1, None)):
        bgr = np.ascontiguousarray(busy_frame(seed, caption)[:, :, ::-1])
        for side, rule in ((352, "max"), (736, "min")):
            expected = DetPreProcess(side, rule)(bgr)
            got = _TabledInput(DetPreProcess(side, rule))(bgr)
            assert got.dtype == expected.dtype == np.float32
            assert got.shape == expected.shape
            assert np.array_equal(got.view(np.uint32), expected.view(np.uint32))


def test_run_together_caption_is_read_raw_and_with_words(reader):
    frames = [(t, busy_frame(t, CAPTION)) for t in (0, 2, 4)]
    lines = reader.read_frames(iter(frames), 6.0)
    texts = [line.text for line in lines]
    raw = [text for text in texts if " " not in text and "MOTIVES" in text.upper()]
    assert raw, f"OCR did not read the caption as one run: {texts}"
    assert recover_spaces(raw[0]) in texts
    assert any(text.upper() == "MOTIVES FOR DOING WHATEVER" for text in texts)
    recovered = next(line for line in lines if line.text.upper().startswith("MOTIVES FOR"))
    assert (recovered.start, recovered.end) == (0, 6.0)  # the raw line's own span


def test_run_together_caption_is_found_by_a_multi_word_query(reader, tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite", create=True)
    screens = {
        "caption": reader.read_frames(iter([(0, busy_frame(1, CAPTION))]), 2.0),
        "speech": [],
    }
    speech = {"caption": "", "speech": "whatever you are doing, your motives are good for you"}
    for number, name in enumerate(screens):
        ocr = "\n".join(line.text for line in screens[name])
        catalog.put_file(
            IndexedFile(
                path=f"/media/{name}.mp4",
                size=1,
                mtime_ns=number,
                hash=str(number),
                duration=2.0,
                has_video=True,
                has_audio=True,
                clips=[ClipText(0.0, 2.0, speech[name], ocr)],
                texts=[],
                vectors={},
            )
        )
    scores = LexicalSearch(catalog, 80.0).search("motives for doing whatever", 10)
    rows = catalog.clips(scores)
    best = max(scores, key=scores.get)
    assert rows[best].path == "/media/caption.mp4"
    assert scores.exact == {best}
    assert len(scores) == 2 and min(scores.values()) < scores[best]


def test_a_caption_that_stays_put_is_read_once_while_the_picture_moves(reader):
    before = reader.frames_read, reader.regions_read, reader.regions_kept
    frames = [(t, busy_frame(t, "MINISTER VISITS READING")) for t in (0, 2, 4, 6)]
    frames.append((8, busy_frame(8, "COUNCIL BACKS NEW HOUSING PLAN")))
    lines = reader.read_frames(iter(frames), 10.0)
    read = reader.frames_read - before[0], reader.regions_read - before[1]
    kept = reader.regions_kept - before[2]
    assert read[0] == 5  # the picture changed every time: every frame was looked at
    assert kept >= 3 and read[1] <= 2, (read, kept)  # the caption itself was recognised twice
    spans = {line.text: (line.start, line.end) for line in lines}
    assert spans["MINISTER VISITS READING"] == (0, 8)
    assert spans["COUNCIL BACKS NEW HOUSING PLAN"] == (8, 10.0)


def test_a_caption_that_appears_mid_shot_is_found_at_the_offline_detection_size():
    """The offline profile finds text on frames shrunk to ``detect_side`` (352 px for these
    640 px frames) and reads it at full size: a caption that comes up while the picture moves
    is found when it comes, and a smaller second line under it too."""
    config = load_profile("offline").adapters.ocr
    assert config.detect_side < 640
    reader = RapidOcrReader(config)
    frames = [(t, busy_frame(t, None)) for t in (0, 2)]
    frames += [(t, busy_frame(t, "FLOOD DEFENCES BREACHED")) for t in (4, 6)]
    last = Image.fromarray(busy_frame(8, "FLOOD DEFENCES BREACHED"))
    ImageDraw.Draw(last).text(
        (36, 330), "RIVER LEVELS STILL RISING", font=ImageFont.truetype(FONT, 18), fill="white"
    )
    frames.append((8, np.asarray(last)))
    lines = reader.read_frames(iter(frames), 10.0)
    spans = {line.text: (line.start, line.end) for line in lines}
    assert spans["FLOOD DEFENCES BREACHED"] == (4, 10.0), spans
    assert spans["RIVER LEVELS STILL RISING"] == (8, 10.0), spans
    assert reader.frames_read == 5


def test_a_moving_caption_is_read_again(reader):
    before = reader.regions_read
    frames = [(t, busy_frame(t, "FOOD BANK DEMAND DOUBLES", left=200 - 40 * t)) for t in (0, 2, 4)]
    lines = reader.read_frames(iter(frames), 6.0)
    assert reader.regions_read - before == 3
    assert len(lines) == 1 and lines[0].text.startswith("FOOD BANK DEMAND DOUBL")
    assert (lines[0].start, lines[0].end) == (0, 6.0)  # one line, however often it was read


def test_a_snippet_shows_a_caption_once_with_its_words(reader, tmp_path):
    """The raw run and its recovered words are both indexed; the hit's snippet shows the
    caption once, with spaces."""
    screen = reader.read_frames(iter([(0, busy_frame(1, CAPTION))]), 2.0)
    assert len(screen) == 2  # the run and the recovered line
    catalog = Catalog(tmp_path / "catalog.sqlite", create=True)
    catalog.put_file(
        IndexedFile(
            path="/media/caption.mp4",
            size=1,
            mtime_ns=1,
            hash="1",
            duration=2.0,
            has_video=True,
            has_audio=False,
            clips=[ClipText(0.0, 2.0, "", "\n".join(line.text for line in screen))],
            texts=screen,
            vectors={},
        )
    )
    searcher = Searcher(catalog, FaissStore(tmp_path / "vectors"), SearchConfig())
    [hit] = searcher.search(EncodedQuery({}, "motives for doing whatever"), k=1)
    assert hit.text.upper() == "MOTIVES FOR DOING WHATEVER"
    assert hit.evidence["phrase"] == 1.0
