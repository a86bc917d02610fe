"""On-screen text: OCR (PP-OCRv4 through rapidocr-onnxruntime) on frames sampled over time.

OCR costs about 0.4 s per frame on a 2-core machine, so a frame is read only when the picture
changed since the last frame that was read; otherwise the lines on screen simply continue.
On moving footage the picture always changes, but a caption band usually stays put: so text
regions are detected first, and a region is recognised again only when its box moved or its
pixels changed since it was last read (recognition is about half of OCR's time on a frame
with a caption). Each distinct line becomes one TimedText spanning the time it stayed on
screen. A line read as one run of capitals ("MINISTER VISITSREADING", as PP-OCR reads bold
lower thirds) also gets its words back (``wordsplit``): both lines are indexed, the raw one for
exact substrings, the recovered one for words, phrases and the sentence encoder.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from rapidfuzz import fuzz

from mmretrieval.config import OcrConfig
from mmretrieval.devices import side_threads
from mmretrieval.media.change import picture_change, thumbnail
from mmretrieval.media.timeline import TimedText
from mmretrieval.wordsplit import recover_spaces

SAME_LINE_RATIO = 85  # two OCR reads of one caption differ by a character or two
SAME_BOX_IOU = 0.8  # a detected box overlapping a box read before this much is the same region
REGION_CHANGE = 6.0  # mean abs grey change (0-255) of a region above which it is read again
SIGNATURE_SIZE = (64, 8)  # a region's box, shrunk to this (width, height) to compare it


@dataclass(frozen=True)
class Region:
    """A text box read once: where it was, what it looked like, what it said."""

    box: tuple[float, float, float, float]  # left, top, right, bottom, in pixels
    signature: np.ndarray
    text: str
    score: float


@dataclass
class _OpenLine:
    text: str
    start: float


class RapidOcrReader:
    modality = "ocr"

    def __init__(self, config: OcrConfig):
        from rapidocr_onnxruntime import RapidOCR

        self.config = config
        self.rate = config.rate
        self.max_side = config.max_side
        self.model_id = "rapidocr:PP-OCRv4"
        # Never upscale for detection (rapidocr's default brings the short side to 736 px, at
        # twice the cost); ``read_regions`` shrinks frames to ``detect_side`` itself.
        self.engine = RapidOCR(
            det_limit_type="max",
            intra_op_num_threads=side_threads(),  # it runs beside speech recognition
        )
        tabled_detection_input(self.engine.text_det)
        self.frames_read = 0  # how many frames went through OCR (the rest were unchanged)
        self.regions_read = 0  # text regions recognised
        self.regions_kept = 0  # text regions found unchanged since they were read: not re-read

    def read_frames(
        self, frames: Iterable[tuple[float, np.ndarray]], duration: float
    ) -> list[TimedText]:
        """Lines on screen with the span each stayed there, from frames sampled at ``rate``."""
        step = 1.0 / self.rate
        done: list[TimedText] = []
        open_lines: list[_OpenLine] = []
        previous_thumb: np.ndarray | None = None
        regions: list[Region] = []
        t = 0.0
        for t, frame in frames:
            thumb = thumbnail(frame)
            if (
                previous_thumb is not None
                and picture_change(previous_thumb, thumb) < self.config.change_threshold
            ):
                continue
            previous_thumb = thumb
            regions = self.read_regions(frame, regions)
            lines = self.lines(regions)
            still_open = []
            for line in open_lines:
                if any(fuzz.ratio(line.text, text) >= SAME_LINE_RATIO for text in lines):
                    still_open.append(line)
                else:
                    done.append(TimedText(line.start, t, line.text, "ocr"))
            open_texts = [line.text for line in still_open]
            for text in lines:
                if not any(fuzz.ratio(text, other) >= SAME_LINE_RATIO for other in open_texts):
                    still_open.append(_OpenLine(text, t))
                    open_texts.append(text)
            open_lines = still_open
        end = min(duration, t + step)
        done.extend(TimedText(line.start, end, line.text, "ocr") for line in open_lines)
        done.sort(key=lambda item: item.start)  # stable: keeps top-to-bottom order
        return [recovered for line in done for recovered in with_words(line)]

    def read_frame(self, frame: np.ndarray) -> list[str]:
        """Text lines in one RGB frame, top to bottom, above the confidence threshold."""
        return self.lines(self.read_regions(frame, []))

    def read_regions(self, frame: np.ndarray, known: Sequence[Region]) -> list[Region]:
        """The text regions of one RGB frame; those that match a ``known`` region (same box,
        same pixels) keep its text instead of being recognised again."""
        self.frames_read += 1
        # rapidocr wants BGR: a channel swap in OpenCV, not a reversed-stride copy (1.9 vs
        # 0.07 ms a 360p frame; the same pixels)
        bgr = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
        grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        quads = self.detect(bgr)
        found, unread = [], []
        for points in quads:
            box = (*points.min(axis=0).tolist(), *points.max(axis=0).tolist())
            same = next((r for r in known if _same_region(r, box, grey)), None)
            if same is not None:
                found.append(same)
            else:
                unread.append((points, box, _signature(grey, box)))
        self.regions_kept += len(found)
        if unread:
            crops = self.engine.get_crop_img_list(bgr, [points for points, _b, _s in unread])
            read, _elapsed = self.engine.text_rec(crops)
            self.regions_read += len(unread)
            found += [
                Region(box, signature, result[0], float(result[1]))
                for (_points, box, signature), result in zip(unread, read, strict=True)
            ]
        return found

    def detect(self, bgr: np.ndarray) -> list[np.ndarray]:
        """Text boxes (4 corner points each, in ``bgr``'s pixels), found on the frame shrunk to
        ``detect_side``: on 360p news, detecting at 352 px instead of 640 costs half as much
        and finds as many caption words (more: less background texture reads as text); the
        boxes are read from the full-size frame."""
        height, width = bgr.shape[:2]
        scale = min(1.0, self.config.detect_side / max(height, width))
        small = bgr
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            small = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
        quads, _elapsed = self.engine(small, use_cls=False, use_rec=False)
        return [np.asarray(quad, dtype=np.float32) / scale for quad in quads or []]

    def lines(self, regions: Iterable[Region]) -> list[str]:
        """The regions' text, top to bottom, above the confidence threshold."""
        lines = []
        for region in regions:
            text = " ".join(region.text.split())
            if region.score >= self.config.min_confidence and sum(c.isalnum() for c in text) >= 2:
                lines.append((region.box[1], region.box[0], text))
        return [text for _top, _left, text in sorted(lines)]


class _TabledInput:
    """rapidocr's text detection input (``DetPreProcess``): its resize, then its normalisation
    looked up per channel in a table of the 256 values its own arithmetic gives, instead of
    computed in float64 over the whole frame (2 ms of 15 a frame at 352 px); the same float32
    tensor, bit for bit."""

    def __init__(self, preprocess):
        self.preprocess = preprocess
        levels = np.repeat(np.arange(256, dtype=np.uint8)[:, None, None], 3, axis=2)
        self.table = np.ascontiguousarray(  # (channel, level), rapidocr's float32 values
            preprocess.normalize(levels)[:, 0, :].astype(np.float32).T
        )

    def __call__(self, image: np.ndarray) -> np.ndarray | None:
        resized = self.preprocess.resize(image)
        if resized is None:
            return None
        tensor = np.empty((1, 3, *resized.shape[:2]), np.float32)
        for channel in range(3):
            np.take(self.table[channel], resized[:, :, channel], out=tensor[0, channel])
        return tensor


def tabled_detection_input(detector) -> None:
    """Make rapidocr's ``TextDetector`` prepare its input through ``_TabledInput`` (it builds
    a ``DetPreProcess`` per frame for the frame's size: the resize stays rapidocr's own)."""
    build = detector.get_preprocess

    def get_preprocess(max_side: int) -> _TabledInput:
        return _TabledInput(build(max_side))

    detector.get_preprocess = get_preprocess


def _signature(grey: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    left, top, right, bottom = (int(round(v)) for v in box)
    crop = grey[max(top, 0) : max(bottom, top + 1), max(left, 0) : max(right, left + 1)]
    if crop.size == 0:
        return np.zeros(SIGNATURE_SIZE[::-1], np.float32)
    return cv2.resize(crop, SIGNATURE_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)


def _same_region(region: Region, box: tuple[float, float, float, float], grey: np.ndarray) -> bool:
    """Whether a detected ``box`` is ``region`` again: nearly the same box, and the pixels
    where the region was read look the same (compared at the old box: the detector's boxes
    jitter by a pixel, which alone changes a sharp caption's signature)."""
    return (
        _iou(region.box, box) >= SAME_BOX_IOU
        and picture_change(region.signature, _signature(grey, region.box)) < REGION_CHANGE
    )


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def with_words(line: TimedText) -> list[TimedText]:
    """The line, and after it the same line with spaces put back where OCR ran words together."""
    text = recover_spaces(line.text)
    if text == line.text:
        return [line]
    return [line, TimedText(line.start, line.end, text, line.source)]
