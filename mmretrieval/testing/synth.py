"""Synthetic news-style footage with real speech and real drawn captions.

The demo, the tests and the benchmarks need media whose spoken words and on-screen text are
known exactly, without shipping recordings. Speech comes from espeak-ng, captions are drawn
with DejaVu Sans Bold, and everything is muxed with PyAV so no system ffmpeg is needed.
"""

from __future__ import annotations

import functools
import logging
import shutil
import struct
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from mmretrieval.spans import Timed

log = logging.getLogger(__name__)

_SPEECH_LEAD = 0.3  # seconds of silence before the speech in a scene
_SPEECH_PAD = 0.6  # total silence around the speech when the scene duration is automatic
_SILENT_SCENE = 3.0  # duration of a scene without speech when none is given
_WORD_GAP_EM = 0.6  # caption word gap as a fraction of the font size
_VIDEO_AUDIO_RATE = 48000  # divides evenly into 24/25/30/50/60 fps frame times
_FONT_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
)
_INSTALL_HINT = "run scripts/install_system_deps.sh or apt-get install espeak-ng"

# Encoder preferences per container suffix: the first one this PyAV build has wins.
_VIDEO_CODECS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    ".mp4": (("libx264", "mpeg4"), ("aac",)),
    ".mov": (("libx264", "mpeg4"), ("aac",)),
    ".mkv": (("libx264", "mpeg4"), ("aac", "libopus")),
    ".webm": (("libvpx-vp9",), ("libopus",)),
    ".avi": (("mpeg4", "libx264"), ("libmp3lame", "pcm_s16le")),
}
_AUDIO_CODECS: dict[str, tuple[str, ...]] = {
    ".wav": ("pcm_s16le",),
    ".mp3": ("libmp3lame",),
    ".flac": ("flac",),
    ".ogg": ("libvorbis", "libopus"),
    ".m4a": ("aac",),
}


class SynthError(RuntimeError):
    """Synthetic media could not be made (missing tool, encoder or bad scene)."""


@dataclass(frozen=True)
class Scene:
    """One shot of the synthetic footage: what is said and what is written on screen."""

    speech: str | None = None
    caption: str | None = None
    duration: float | None = None
    background: tuple[int, int, int] = (40, 60, 90)
    voice: str = "en-us"
    speed: int = 150
    pitch: int = 50  # espeak-ng's 0-99
    picture: np.ndarray | None = field(default=None, compare=False)  # RGB, pasted mid-frame


@dataclass(frozen=True)
class SceneSpan(Timed):
    """Where a scene landed in the output, in seconds: the ground truth for retrieval tests.

    ``Timed`` gives it the project's overlap, IoU and containment checks against hits."""

    start: float
    end: float
    speech: str | None
    caption: str | None


def speak(
    text: str, voice: str = "en-us", speed: int = 150, sample_rate: int = 16000, pitch: int = 50
) -> np.ndarray:
    """Speak ``text`` with espeak-ng; return mono float32 samples in [-1, 1] at ``sample_rate``."""
    if not text.strip():
        raise SynthError("speak() needs non-empty text; got an empty string")
    if shutil.which("espeak-ng") is None:
        raise SynthError(f"espeak-ng is not installed: {_INSTALL_HINT}")
    # Text goes through stdin so that text starting with '-' is never read as an option.
    proc = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout"],
        input=text.encode("utf-8"),
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0 or not proc.stdout:
        detail = proc.stderr.decode("utf-8", "replace").strip() or f"exit code {proc.returncode}"
        raise SynthError(f"espeak-ng failed for voice {voice!r} at {speed} wpm: {detail}")
    samples, rate = _decode_wav(proc.stdout)
    return _resample(samples, rate, sample_rate)


def make_video(
    path: str | Path,
    scenes: Sequence[Scene],
    size: tuple[int, int] = (640, 360),
    fps: int = 25,
    audio: bool = True,
    noise_snr_db: float | None = None,
    seed: int = 0,
) -> list[SceneSpan]:
    """Render ``scenes`` back to back into a video file; return where each scene landed.

    The container follows the suffix (.mp4, .mov, .mkv, .webm, .avi). Scene boundaries are
    snapped to whole frames so the returned times are exact in the output.
    """
    path = Path(path)
    width, height = size
    if width % 2 or height % 2 or width <= 0 or height <= 0:
        raise SynthError(f"size must be positive and even for yuv420p; got {width}x{height}")
    if path.suffix.lower() not in _VIDEO_CODECS:
        raise SynthError(
            f"unsupported video suffix {path.suffix!r}; use one of {sorted(_VIDEO_CODECS)}"
        )
    video_names, audio_names = _VIDEO_CODECS[path.suffix.lower()]
    video_codec = _pick_encoder(video_names, path.suffix)
    audio_codec = _pick_encoder(audio_names, path.suffix) if audio else None

    # Speech is synthesised even for video-only files so scene timing matches the audio version.
    speech = _speak_scenes(scenes, _VIDEO_AUDIO_RATE)
    frame_counts = [round(d * fps) for d in _durations(scenes, speech, _VIDEO_AUDIO_RATE)]
    spans = _spans(scenes, frame_counts, fps)

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        vstream = container.add_stream(video_codec, rate=fps)
        vstream.width, vstream.height, vstream.pix_fmt = width, height, "yuv420p"
        vstream.options = _video_options(video_codec, fps)
        astream, track = None, None
        if audio_codec is not None:
            astream = container.add_stream(audio_codec, rate=_VIDEO_AUDIO_RATE, layout="mono")
            track = _mix(
                speech, spans, _VIDEO_AUDIO_RATE, noise_snr_db, np.random.default_rng(seed)
            )

        samples_written = 0
        # Separate streams for picture and noise, so audio=False keeps the same pictures.
        frames = _frames(scenes, frame_counts, size, fps, np.random.default_rng([seed, 1]))
        for index, frame in enumerate(frames):
            vframe = av.VideoFrame.from_ndarray(frame, format="rgb24")
            vframe.pts, vframe.time_base = index, Fraction(1, fps)
            container.mux(vstream.encode(vframe))
            if astream is not None and track is not None:
                # Interleave: keep the audio up to the end of this video frame.
                until = round((index + 1) * _VIDEO_AUDIO_RATE / fps)
                _encode_audio(container, astream, track[samples_written:until], samples_written)
                samples_written = until
        container.mux(vstream.encode(None))
        if astream is not None:
            container.mux(astream.encode(None))
    log.info("wrote %s: %d scenes, %.2f s", path, len(spans), spans[-1].end)
    return spans


def make_audio(
    path: str | Path,
    scenes: Sequence[Scene],
    sample_rate: int = 16000,
    noise_snr_db: float | None = None,
    seed: int = 0,
) -> list[SceneSpan]:
    """Render the speech of ``scenes`` back to back into an audio file (captions are ignored).

    The format follows the suffix (.wav, .mp3, .flac, .ogg, .m4a). When the encoder cannot
    take ``sample_rate`` (Opus), the nearest rate it can take is used instead.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _AUDIO_CODECS:
        raise SynthError(
            f"unsupported audio suffix {path.suffix!r}; use one of {sorted(_AUDIO_CODECS)}"
        )
    codec = _pick_encoder(_AUDIO_CODECS[suffix], path.suffix)
    rate = _supported_rate(codec, sample_rate)
    speech = _speak_scenes(scenes, rate)
    sample_counts = [round(d * rate) for d in _durations(scenes, speech, rate)]
    spans = _spans(scenes, sample_counts, rate)
    track = _mix(speech, spans, rate, noise_snr_db, np.random.default_rng(seed))

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=rate, layout="mono")
        _encode_audio(container, stream, track, 0)
        container.mux(stream.encode(None))
    log.info("wrote %s: %d scenes, %.2f s at %d Hz", path, len(spans), len(track) / rate, rate)
    return spans


def write_subtitles(path: str | Path, spans: Sequence[SceneSpan]) -> Path:
    """Write one cue per spoken span as .srt or .vtt (by suffix); return the path."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".srt", ".vtt"):
        raise SynthError(f"unsupported subtitle suffix {path.suffix!r}; use .srt or .vtt")
    sep = "," if suffix == ".srt" else "."
    lines = ["WEBVTT", ""] if suffix == ".vtt" else []
    cues = [span for span in spans if span.speech]
    for number, span in enumerate(cues, start=1):
        if suffix == ".srt":
            lines.append(str(number))
        lines.append(f"{_timestamp(span.start, sep)} --> {_timestamp(span.end, sep)}")
        lines.extend([span.speech or "", ""])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _timestamp(seconds: float, sep: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{sep}{millis:03d}"


def _decode_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Decode espeak-ng's streamed WAV, whose size fields are placeholders, so walk the chunks."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise SynthError("espeak-ng did not return WAV data; check the espeak-ng installation")
    pos, rate, channels, bits = 12, 0, 1, 16
    while pos + 8 <= len(data):
        chunk_id, chunk_size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = pos + 8
        if chunk_id == b"fmt ":
            _, channels, rate, _, _, bits = struct.unpack("<HHIIHH", data[body : body + 16])
        elif chunk_id == b"data":
            if bits != 16 or rate <= 0:
                raise SynthError(f"expected 16-bit PCM from espeak-ng, got {bits}-bit at {rate} Hz")
            pcm = data[body:]
            pcm = pcm[: len(pcm) - len(pcm) % (2 * channels)]
            samples = np.frombuffer(pcm, dtype="<i2").reshape(-1, channels).mean(axis=1)
            return (samples / 32768.0).astype(np.float32), rate
        pos = body + chunk_size + (chunk_size & 1)
    raise SynthError("espeak-ng returned WAV data without a data chunk")


def _resample(samples: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Resample mono float32 with libswresample (band-limited, unlike linear interpolation)."""
    if src_rate == dst_rate or samples.size == 0:
        return samples.astype(np.float32, copy=False)
    resampler = av.AudioResampler(format="flt", layout="mono", rate=dst_rate)
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
    frame.sample_rate = src_rate
    out = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    out += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.clip(np.concatenate(out), -1.0, 1.0).astype(np.float32)


def _speak_scenes(scenes: Sequence[Scene], rate: int) -> list[np.ndarray | None]:
    if not scenes:
        raise SynthError("no scenes given; pass at least one Scene")
    return [
        speak(s.speech, voice=s.voice, speed=s.speed, sample_rate=rate, pitch=s.pitch)
        if s.speech
        else None
        for s in scenes
    ]


def _durations(scenes: Sequence[Scene], speech: list[np.ndarray | None], rate: int) -> list[float]:
    durations = []
    for number, (scene, samples) in enumerate(zip(scenes, speech, strict=True), start=1):
        spoken = 0.0 if samples is None else len(samples) / rate
        if scene.duration is None:
            durations.append(spoken + _SPEECH_PAD if samples is not None else _SILENT_SCENE)
        elif scene.duration <= 0:
            raise SynthError(f"scene {number}: duration must be positive, got {scene.duration}")
        elif spoken and spoken + _SPEECH_LEAD > scene.duration:
            raise SynthError(
                f"scene {number}: speech lasts {spoken:.2f} s (+{_SPEECH_LEAD} s lead) but "
                f"duration is {scene.duration:.2f} s; raise duration or leave it None"
            )
        else:
            durations.append(scene.duration)
    return durations


def _spans(scenes: Sequence[Scene], counts: list[int], per_second: int) -> list[SceneSpan]:
    """Lay scenes out back to back on a grid of ``per_second`` ticks (frames or samples)."""
    spans, tick = [], 0
    for scene, count in zip(scenes, counts, strict=True):
        count = max(count, 1)
        spans.append(
            SceneSpan(tick / per_second, (tick + count) / per_second, scene.speech, scene.caption)
        )
        tick += count
    return spans


def _mix(
    speech: list[np.ndarray | None],
    spans: list[SceneSpan],
    rate: int,
    noise_snr_db: float | None,
    rng: np.random.Generator,
) -> np.ndarray:
    """Place each scene's speech after a short lead-in and add seeded white noise if asked."""
    track = np.zeros(round(spans[-1].end * rate), dtype=np.float32)
    for samples, span in zip(speech, spans, strict=True):
        if samples is None:
            continue
        start = round(span.start * rate) + round(_SPEECH_LEAD * rate)
        stop = min(start + len(samples), round(span.end * rate))
        track[start:stop] = samples[: stop - start]
    if noise_snr_db is not None:
        spoken = [s for s in speech if s is not None and s.size]
        if not spoken:
            raise SynthError("noise_snr_db needs at least one scene with speech to measure against")
        power = float(np.mean(np.square(np.concatenate(spoken), dtype=np.float64)))
        sigma = np.sqrt(power / 10 ** (noise_snr_db / 10))
        track += rng.normal(0.0, sigma, size=track.shape).astype(np.float32)
        np.clip(track, -1.0, 1.0, out=track)
    return track


def _encode_audio(
    container: av.container.OutputContainer,
    stream: av.audio.stream.AudioStream,
    samples: np.ndarray,
    first_sample: int,
) -> None:
    """Encode a chunk of mono float32; PyAV converts the format and re-frames for the codec."""
    if samples.size == 0:
        return
    frame = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(samples, dtype=np.float32).reshape(1, -1), format="flt", layout="mono"
    )
    frame.sample_rate = stream.codec_context.sample_rate
    frame.pts, frame.time_base = first_sample, Fraction(1, frame.sample_rate)
    container.mux(stream.encode(frame))


def _pick_encoder(names: Sequence[str], suffix: str) -> str:
    for name in names:
        try:
            av.Codec(name, "w")
        except Exception:  # noqa: BLE001 - PyAV raises different errors across versions
            continue
        return name
    raise SynthError(
        f"this PyAV build has no encoder for {suffix} (tried {', '.join(names)}); "
        "install a PyAV wheel built with these encoders"
    )


def _supported_rate(codec: str, wanted: int) -> int:
    rates = av.Codec(codec, "w").audio_rates
    if not rates or wanted in rates:
        return wanted
    higher = [r for r in rates if r >= wanted]
    rate = min(higher) if higher else max(rates)
    log.info("%s cannot encode at %d Hz; using %d Hz", codec, wanted, rate)
    return rate


def _video_options(codec: str, fps: int) -> dict[str, str]:
    """Small files that still keep caption edges sharp enough for OCR; a keyframe every 2 s."""
    gop = str(2 * fps)
    if codec == "libx264":
        return {"crf": "28", "preset": "fast", "g": gop}
    if codec == "libvpx-vp9":
        return {"crf": "36", "b": "0", "deadline": "good", "cpu-used": "5", "g": gop}
    return {"qscale": "5", "g": gop}


def _frames(
    scenes: Sequence[Scene],
    frame_counts: list[int],
    size: tuple[int, int],
    fps: int,
    rng: np.random.Generator,
) -> Iterator[np.ndarray]:
    """Yield RGB frames: a drifting gradient with a moving block, and the scene's caption."""
    width, height = size
    xs = np.linspace(0.0, 1.0, width, dtype=np.float32)
    ys = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    block = max(height // 6, 2)
    for scene, count in zip(scenes, frame_counts, strict=True):
        base = np.asarray(scene.background, dtype=np.float32)
        caption = (scene.caption or "").strip()
        overlay = _caption_overlay(caption, size) if caption else None
        phase = float(rng.uniform(0.0, 2 * np.pi))
        for i in range(max(count, 1)):
            t = i / fps
            shade = 0.8 + 0.2 * np.sin(2 * np.pi * (xs - 0.08 * t) + phase)[None, :, None]
            frame = base * shade * (0.85 + 0.3 * ys)
            bx = int((0.1 + 0.7 * ((0.05 * t + phase / (2 * np.pi)) % 1.0)) * (width - block))
            by = int(height * 0.2 + height * 0.1 * np.sin(t + phase))
            frame[by : by + block, bx : bx + block] = np.minimum(base * 1.6 + 40, 255)
            if scene.picture is not None:
                _paste(frame, scene.picture)
            if overlay is not None:
                top, left, rgb, alpha = overlay
                region = frame[top : top + rgb.shape[0], left : left + rgb.shape[1]]
                region *= 1.0 - alpha
                region += rgb * alpha
            yield np.clip(frame, 0, 255).astype(np.uint8)


def _paste(frame: np.ndarray, picture: np.ndarray) -> None:
    """Put ``picture`` (scaled down to fit if needed) in the middle of ``frame``."""
    height, width = frame.shape[:2]
    if picture.shape[0] > height or picture.shape[1] > width:
        image = Image.fromarray(picture)
        image.thumbnail((width, height))
        picture = np.asarray(image)
    top, left = (height - picture.shape[0]) // 2, (width - picture.shape[1]) // 2
    frame[top : top + picture.shape[0], left : left + picture.shape[1]] = picture[..., :3]


def _caption_overlay(text: str, size: tuple[int, int]) -> tuple[int, int, np.ndarray, np.ndarray]:
    """Draw a lower-third caption once: (top, left, rgb, alpha) of its bounding box."""
    width, height = size
    font = _font(max(height // 12, 8))
    pad = max(font.size // 3, 2)
    # RapidOCR runs capitals together at the font's own word spacing ("NIGHTLIVE"), so words
    # are placed with a wider gap; OCR then reads them as separate words.
    gap = font.size * _WORD_GAP_EM
    margin_x = int(width * 0.05)
    lines = _wrap(text.split(), font, gap, width - 2 * margin_x - 2 * pad)
    ascent, descent = font.getmetrics()
    line_height = ascent + descent
    box_w = int(max(_line_width(line, font, gap) for line in lines)) + 2 * pad
    box_h = line_height * len(lines) + 2 * pad
    layer = Image.new("RGBA", (box_w, box_h), (10, 10, 20, 190))
    draw = ImageDraw.Draw(layer)
    for n, line in enumerate(lines):
        x = float(pad)
        for word in line:
            draw.text((x, pad + n * line_height), word, font=font, fill=(255, 255, 255, 255))
            x += font.getlength(word) + gap
    rgba = np.asarray(layer, dtype=np.float32)
    top = max(height - int(height * 0.08) - box_h, 0)
    rgba = rgba[: height - top, : width - margin_x]
    return top, margin_x, rgba[..., :3], rgba[..., 3:] / 255.0


def _line_width(words: list[str], font: ImageFont.FreeTypeFont, gap: float) -> float:
    return sum(font.getlength(word) for word in words) + gap * (len(words) - 1)


def _wrap(
    words: list[str], font: ImageFont.FreeTypeFont, gap: float, max_width: int
) -> list[list[str]]:
    """Greedy word wrap by rendered width; a single overlong word stays on its own line."""
    lines: list[list[str]] = [[]]
    for word in words:
        if lines[-1] and _line_width([*lines[-1], word], font, gap) > max_width:
            lines.append([])
        lines[-1].append(word)
    return lines


@functools.lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont:
    for candidate in _font_candidates():
        try:
            return ImageFont.truetype(candidate, size)
        except OSError:
            continue
    log.warning(
        "DejaVuSans-Bold not found (apt-get install fonts-dejavu-core); using Pillow's default font"
    )
    return ImageFont.load_default(size=size)


def _font_candidates() -> list[str]:
    found = [p for p in _FONT_PATHS if Path(p).is_file()]
    if shutil.which("fc-match"):
        proc = subprocess.run(
            ["fc-match", "-f", "%{file}", "DejaVu Sans:style=Bold"],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode == 0 and proc.stdout.strip():
            found.append(proc.stdout.strip())
    return found
