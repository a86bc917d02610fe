"""On-screen text: OCR (PP-OCRv4 through rapidocr-onnxruntime) on frames sampled over time.

OCR costs about 0.4 s per frame on a 2-core machine, so a frame is read only when the picture
changed since the last frame that was read; otherwise the lines on screen simply continue.
Each distinct line becomes one TimedText spanning the time it stayed on screen. A line read as
one run of capitals ("MINISTER VISITSREADING", as PP-OCR reads bold lower thirds) also gets its
words back (``wordsplit``): both lines are indexed, the raw one for exact substrings, the
recovered one for words, phrases and the sentence encoder.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz

from mmretrieval.config import OcrConfig
from mmretrieval.devices import thread_limit
from mmretrieval.media.change import picture_change, thumbnail
from mmretrieval.media.timeline import TimedText
from mmretrieval.wordsplit import recover_spaces

SAME_LINE_RATIO = 85  # two OCR reads of one caption differ by a character or two


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
        # Detect at the frame's own size: the default upscales to 736 px on the short side,
        # which costs twice the time and reads captions no better.
        self.engine = RapidOCR(
            det_limit_side_len=config.max_side,
            det_limit_type="max",
            intra_op_num_threads=thread_limit() or -1,  # -1: onnxruntime's default, every core
        )
        self.frames_read = 0  # how many frames went through OCR (the rest were unchanged)

    def read_frames(
        self, frames: Iterable[tuple[float, np.ndarray]], duration: float
    ) -> list[TimedText]:
        """Lines on screen with the span each stayed there, from frames sampled at ``rate``."""
        step = 1.0 / self.rate
        done: list[TimedText] = []
        open_lines: list[_OpenLine] = []
        previous_thumb: np.ndarray | None = None
        t = 0.0
        for t, frame in frames:
            thumb = thumbnail(frame)
            if (
                previous_thumb is not None
                and picture_change(previous_thumb, thumb) < self.config.change_threshold
            ):
                continue
            previous_thumb = thumb
            lines = self.read_frame(frame)
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
        self.frames_read += 1
        result, _elapsed = self.engine(frame[:, :, ::-1], use_cls=False)  # rapidocr wants BGR
        lines = []
        for box, text, score in result or []:
            text = " ".join(text.split())
            if float(score) >= self.config.min_confidence and sum(c.isalnum() for c in text) >= 2:
                lines.append((min(p[1] for p in box), min(p[0] for p in box), text))
        return [text for _top, _left, text in sorted(lines)]


def with_words(line: TimedText) -> list[TimedText]:
    """The line, and after it the same line with spaces put back where OCR ran words together."""
    text = recover_spaces(line.text)
    if text == line.text:
        return [line]
    return [line, TimedText(line.start, line.end, text, line.source)]
