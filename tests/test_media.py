"""Reading media: probing containers, sampling frames, decoding audio, subtitle sidecars, and the
errors for files that cannot be read. Every file is generated, so the truth is known exactly."""

from __future__ import annotations

import logging
from pathlib import Path

import av
import numpy as np
import pytest

from mmretrieval.errors import MediaError
from mmretrieval.media.decode import iter_frames, load_audio, scaled_size
from mmretrieval.media.probe import probe
from mmretrieval.media.subtitles import find_sidecar, read_subtitles
from mmretrieval.testing.synth import Scene, make_audio, make_video, write_subtitles

VIDEO_SUFFIXES = [".mp4", ".mkv", ".webm", ".mov", ".avi"]
AUDIO_SUFFIXES = [".wav", ".mp3", ".flac", ".ogg", ".m4a"]
SIZE = (160, 90)
SR = 16000

# Five 5-second scenes whose backgrounds point in clearly different colour directions.
COLOURS = [(210, 40, 40), (40, 210, 40), (40, 40, 210), (210, 210, 40), (210, 40, 210)]
SCENE_SECONDS = 5.0
RAINBOW = [Scene(duration=SCENE_SECONDS, background=c) for c in COLOURS]

# Speech, a silent stretch, speech again: slices of it are either clearly loud or silent.
TALK = [
    Scene(speech="The ferry leaves the harbour at seven every morning."),
    Scene(duration=3.0),
    Scene(speech="Tickets are sold on board.", voice="en-gb"),
]


def _scene_of(rgb_mean: np.ndarray) -> int:
    """Index of the scene whose background colour points the same way as ``rgb_mean``."""
    colours = np.asarray(COLOURS, dtype=np.float64)
    cosine = colours @ rgb_mean / (np.linalg.norm(colours, axis=1) * np.linalg.norm(rgb_mean))
    return int(np.argmax(cosine))


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


def _lag(part: np.ndarray, full: np.ndarray, start: int, max_lag: int) -> int:
    """Shift (samples) at which ``part`` best matches ``full[start:]``: 0 when aligned."""
    best, best_score = 0, -np.inf
    for lag in range(-max_lag, max_lag + 1):
        lo = start + lag
        if lo < 0 or lo + len(part) > len(full):
            continue
        ref = full[lo : lo + len(part)]
        score = float(np.dot(part, ref) / (np.linalg.norm(ref) * np.linalg.norm(part) + 1e-12))
        if score > best_score:
            best, best_score = lag, score
    return best


@pytest.fixture(scope="module")
def rainbow(tmp_path_factory):
    """A 25 s silent video of five coloured scenes, in the container asked for (made once)."""
    folder = tmp_path_factory.mktemp("rainbow")
    made: dict[str, Path] = {}

    def get(suffix: str) -> Path:
        if suffix not in made:
            made[suffix] = folder / f"rainbow{suffix}"
            spans = make_video(made[suffix], RAINBOW, size=SIZE, audio=False)
            assert spans[-1].end == pytest.approx(SCENE_SECONDS * len(COLOURS))
        return made[suffix]

    return get


@pytest.fixture(scope="module")
def talk(tmp_path_factory):
    """(path, spans) of TALK as an audio file or a video with sound, in the container asked for."""
    folder = tmp_path_factory.mktemp("talk")
    made: dict[str, tuple] = {}

    def get(suffix: str):
        if suffix not in made:
            path = folder / f"talk{suffix}"
            if suffix in VIDEO_SUFFIXES:
                made[suffix] = (path, make_video(path, TALK, size=SIZE))
            else:
                made[suffix] = (path, make_audio(path, TALK, sample_rate=SR))
        return made[suffix]

    return get


# --- probe -------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", VIDEO_SUFFIXES)
def test_probe_reads_duration_streams_size_and_rate_of_video(tmp_path, suffix):
    path = tmp_path / f"clip{suffix}"
    spans = make_video(path, TALK[:2], size=(320, 180), fps=30)
    info = probe(path)
    assert info.duration == pytest.approx(spans[-1].end, abs=0.1)
    assert info.has_video and info.has_audio
    assert (info.width, info.height) == (320, 180)
    assert info.fps == pytest.approx(30, abs=0.01)


@pytest.mark.parametrize("suffix", AUDIO_SUFFIXES)
def test_probe_reads_duration_of_audio_only_files(talk, suffix):
    path, spans = talk(suffix)
    info = probe(path)
    assert info.duration == pytest.approx(spans[-1].end, abs=0.1)
    assert info.has_audio and not info.has_video
    assert (info.width, info.height, info.fps) == (0, 0, 0.0)


def test_probe_of_video_without_sound_reports_no_audio(rainbow):
    info = probe(rainbow(".mp4"))
    assert info.has_video and not info.has_audio
    assert info.duration == pytest.approx(SCENE_SECONDS * len(COLOURS), abs=0.1)
    assert (info.width, info.height) == SIZE


# --- probe errors ------------------------------------------------------------------------------


def test_empty_file_is_a_media_error_that_says_empty(tmp_path):
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    with pytest.raises(MediaError, match="empty"):
        probe(path)


def test_random_bytes_named_mp4_are_not_readable_media(tmp_path):
    path = tmp_path / "noise.mp4"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 8192, dtype=np.uint8).tobytes())
    with pytest.raises(MediaError, match="not a readable media file"):
        probe(path)


def test_unsupported_suffix_is_named_with_the_supported_ones(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(MediaError, match=r"unsupported file type \.txt") as caught:
        probe(path)
    assert ".mp4" in str(caught.value) and ".wav" in str(caught.value)


def test_truncated_mp4_is_reported_as_corrupt_or_truncated(rainbow, tmp_path):
    data = rainbow(".mp4").read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaError, match="truncated"):
        probe(path)


def test_missing_file_is_a_media_error(tmp_path):
    with pytest.raises(MediaError, match="cannot read file"):
        probe(tmp_path / "gone.mp4")


# --- iter_frames -------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [1.0, 2.5, 6.0])
def test_frames_come_at_the_rate_in_increasing_time(rainbow, rate):
    frame_step = 1 / 25
    times = [t for t, _ in iter_frames(rainbow(".mp4"), rate, end=6.0)]
    assert times[0] == pytest.approx(0.0)
    assert np.all(np.diff(times) > 0)
    gaps = np.diff(times)
    assert np.all(np.abs(gaps - 1 / rate) <= frame_step + 1e-6), gaps
    assert len(times) == pytest.approx(6.0 * rate, abs=1)


@pytest.mark.parametrize(("start", "end"), [(1.3, 3.9), (7.3, 19.0), (12.0, 25.0)])
def test_start_and_end_bound_the_frames_and_their_content(rainbow, start, end):
    frame_step = 1 / 25
    frames = list(iter_frames(rainbow(".mp4"), 0.5, start=start, end=end))
    times = [t for t, _ in frames]
    assert times, "no frames inside the range"
    # The frame shown at ``start`` may begin up to half a frame before it.
    assert times[0] == pytest.approx(start, abs=frame_step)
    assert all(start - frame_step <= t < end for t in times)
    assert times[-1] >= end - 2.0 - frame_step  # nothing missing at the end
    for t, frame in frames:
        assert _scene_of(frame.reshape(-1, 3).mean(axis=0)) == int(t // SCENE_SECONDS)


@pytest.mark.parametrize("suffix", VIDEO_SUFFIXES)
@pytest.mark.parametrize("start", [0.0, 2.5])
def test_far_apart_frames_seek_to_the_right_time_and_picture(rainbow, suffix, start):
    frames = list(iter_frames(rainbow(suffix), 0.1, start=start))
    times = [t for t, _ in frames]
    assert times == pytest.approx([start, start + 10, start + 20], abs=1 / 25)
    for t, frame in frames:
        assert frame.shape == (SIZE[1], SIZE[0], 3)
        assert _scene_of(frame.reshape(-1, 3).mean(axis=0)) == int(t // SCENE_SECONDS)


@pytest.mark.parametrize("max_side", [64, 99, 100, 120, 159])
def test_max_side_scales_to_even_dimensions_within_the_limit(rainbow, max_side):
    _, frame = next(iter_frames(rainbow(".mp4"), 1.0, max_side=max_side))
    height, width, channels = frame.shape
    assert channels == 3
    assert width % 2 == 0 and height % 2 == 0
    assert max(width, height) <= max_side
    assert width >= max_side - 2  # the longest side is used, not shrunk further
    assert height == pytest.approx(width * SIZE[1] / SIZE[0], abs=2)


def test_max_side_larger_than_the_video_keeps_its_size(rainbow):
    _, frame = next(iter_frames(rainbow(".mp4"), 1.0, max_side=1000))
    assert frame.shape == (SIZE[1], SIZE[0], 3)


def test_short_side_caps_the_shortest_side_exactly_and_never_upscales():
    # a 2.39:1 frame for a model whose input is 224: its height stays 224, not 448 / 2.39
    assert scaled_size(1920, 804, None, short_side=224) == (535, 224)
    assert scaled_size(1920, 804, 448) == (448, 186)  # the longest-side cap upscales later
    assert scaled_size(804, 1920, None, short_side=224) == (224, 535)
    assert scaled_size(1920, 1080, None, short_side=224) == (398, 224)
    assert scaled_size(320, 180, None, short_side=224) == (320, 180)
    assert scaled_size(1920, 804, 300, short_side=224) == (300, 124)  # both caps hold


def test_short_side_decodes_wide_frames_at_the_model_size(tmp_path):
    path = tmp_path / "wide.mp4"
    make_video(path, [Scene(duration=1.0, background=(30, 90, 200))], size=(480, 200), audio=False)
    _, frame = next(iter_frames(path, 1.0, short_side=64))
    assert frame.shape == (64, 154, 3)


# Display matrices as cameras write them (FFmpeg's layout, 16.16 fixed point): the picture is
# shown turned clockwise by the key, e.g. an iPhone's portrait video is stored landscape with
# the 90 degree matrix (the old ``rotate=90`` tag).
ONE = 1 << 16
DISPLAY_MATRIX = {
    90: [0, ONE, 0, -ONE, 0, 0, 0, 0, 1 << 30],
    180: [-ONE, 0, 0, 0, -ONE, 0, 0, 0, 1 << 30],
    270: [0, -ONE, 0, ONE, 0, 0, 0, 0, 1 << 30],
}


def _upright_picture() -> np.ndarray:
    """A portrait 48 x 96 picture that looks different in every orientation."""
    picture = np.full((96, 48, 3), 40, np.uint8)
    picture[:32, :24] = (230, 30, 30)  # red top-left
    picture[64:, 24:] = (30, 30, 230)  # blue bottom-right
    picture[40:56, :] = (30, 200, 30)  # a green band across
    return picture


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".mkv"])
@pytest.mark.parametrize("clockwise", [90, 180, 270])
def test_rotated_video_comes_upright(tmp_path, suffix, clockwise):
    upright = _upright_picture()
    stored = np.ascontiguousarray(np.rot90(upright, clockwise // 90))  # what the sensor wrote
    path = tmp_path / f"phone{suffix}"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = stored.shape[1], stored.shape[0], "yuv420p"
        stream.set_display_matrix(DISPLAY_MATRIX[clockwise])
        for _ in range(10):
            for packet in stream.encode(av.VideoFrame.from_ndarray(stored, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    frames = list(iter_frames(path, 2.0))
    assert len(frames) == 2
    for _, frame in frames:
        assert frame.shape == upright.shape
        assert np.abs(frame.astype(int) - upright).mean() < 3
    _, small = next(iter_frames(path, 1.0, short_side=24))
    assert small.shape == (48, 24, 3)  # the caps apply to the upright picture
    assert np.abs(small.astype(int) - upright[::2, ::2]).mean() < 12


def test_audio_only_file_has_no_frames(talk):
    path, _ = talk(".wav")
    assert list(iter_frames(path, 1.0)) == []


# --- load_audio --------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [*AUDIO_SUFFIXES, ".mp4", ".webm"])
@pytest.mark.parametrize("rate", [16000, 8000])
def test_audio_length_is_duration_times_rate(talk, suffix, rate):
    path, spans = talk(suffix)
    audio = load_audio(path, sample_rate=rate)
    assert audio.dtype == np.float32 and audio.ndim == 1
    # Nothing may be lost; lossy codecs may pad the end by up to a codec frame (AAC: 1024).
    extra = len(audio) - spans[-1].end * rate
    assert -0.01 * rate <= extra <= 0.1 * rate, f"{extra / rate * 1000:+.0f} ms vs the duration"


@pytest.mark.parametrize("suffix", [*AUDIO_SUFFIXES, ".mp4", ".mkv", ".webm"])
def test_audio_slice_matches_the_same_span_of_a_full_decode(talk, suffix):
    path, spans = talk(suffix)
    full = load_audio(path, sample_rate=SR)
    first, silent, second = spans
    for start, end in [(0.3, 2.0), (second.start + 0.3, second.start + 1.5)]:
        part = load_audio(path, sample_rate=SR, start=start, end=end)
        assert len(part) == round((end - start) * SR)
        assert _rms(part) > 0.02, f"{start}-{end} should hold speech"
        lag = _lag(part, full, round(start * SR), max_lag=round(0.2 * SR))
        assert abs(lag) <= 0.01 * SR, f"{start}-{end}: slice is {lag / SR * 1000:.0f} ms off"
    quiet = load_audio(path, sample_rate=SR, start=silent.start + 0.5, end=silent.end - 0.5)
    assert len(quiet) == round((silent.end - silent.start - 1.0) * SR)
    assert _rms(quiet) < 0.002


def _write_wav(path: Path, channels: np.ndarray, rate: int, layout: str) -> Path:
    """Float samples (channels, n) into a 32-bit float WAV, exactly."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_f32le", rate=rate, layout=layout)
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(channels, dtype=np.float32), format="fltp", layout=layout
        )
        frame.sample_rate = rate
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    return path


def _tones(count: int, rate: int) -> np.ndarray:
    """``count`` channels of different full-scale-ish tones, one second."""
    t = np.arange(rate) / rate
    return np.stack(
        [(0.95 - 0.1 * i) * np.sin(2 * np.pi * (220 + 110 * i) * t) for i in range(count)]
    )


@pytest.mark.parametrize(("layout", "count"), [("stereo", 2), ("quad", 4), ("5.1", 6)])
def test_multichannel_audio_is_the_mean_of_its_channels(tmp_path, layout, count):
    channels = _tones(count, 48000)
    channels[1] = channels[0]  # in phase: a downmix that adds instead of averaging clips here
    reference = channels.mean(axis=0)
    path = _write_wav(tmp_path / "many.wav", channels, 48000, layout)
    audio = load_audio(path, 48000)
    np.testing.assert_allclose(audio, reference, atol=1e-6)
    assert np.abs(audio).max() <= 1.0
    # resampled, it is the resampled mean: the same level as a mono file of the mean
    mono = _write_wav(tmp_path / "mean.wav", reference[None], 48000, "mono")
    np.testing.assert_allclose(load_audio(path, SR), load_audio(mono, SR), atol=1e-5)
    assert _rms(load_audio(path, SR)) == pytest.approx(_rms(reference), rel=0.01)


def test_compressed_stereo_decodes_to_the_mean_of_the_decoded_channels(tmp_path):
    channels = _tones(2, 48000)
    path = tmp_path / "stereo.m4a"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=48000, layout="stereo")
        frame = av.AudioFrame.from_ndarray(
            channels.astype(np.float32), format="fltp", layout="stereo"
        )
        frame.sample_rate = 48000
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    with av.open(str(path)) as container:  # the reference: the decoder's own channels, averaged
        decoded = np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)
    audio = load_audio(path, 48000)
    assert len(audio) == decoded.shape[1]
    np.testing.assert_allclose(audio, decoded.mean(axis=0), atol=1e-6)


def test_video_without_sound_gives_empty_audio(rainbow):
    audio = load_audio(rainbow(".mp4"))
    assert audio.dtype == np.float32 and audio.shape == (0,)


# --- subtitles ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["talk.srt", "talk.vtt", "talk.en.srt", "talk.en.vtt"])
def test_find_sidecar_finds_plain_and_language_tagged_subtitles(tmp_path, name):
    media = tmp_path / "talk.mp4"
    media.write_bytes(b"\0")
    for other in ("talking.srt", "other.srt", "talk.txt"):
        (tmp_path / other).write_text("x")
    assert find_sidecar(media) is None
    (tmp_path / name).write_text("x")
    assert find_sidecar(media) == tmp_path / name


def test_find_sidecar_prefers_the_exact_name_and_escapes_glob_characters(tmp_path):
    media = tmp_path / "clip [1]*.mp4"
    (tmp_path / "clip [1]*.en.srt").write_text("x")
    (tmp_path / "clip 1x.en.srt").write_text("x")  # would match an unescaped glob
    assert find_sidecar(media) == tmp_path / "clip [1]*.en.srt"
    (tmp_path / "clip [1]*.vtt").write_text("x")
    assert find_sidecar(media) == tmp_path / "clip [1]*.vtt"


@pytest.mark.parametrize("suffix", [".srt", ".vtt"])
def test_read_subtitles_gives_one_timed_cue_per_spoken_scene(talk, tmp_path, suffix):
    _, spans = talk(".wav")
    path = write_subtitles(tmp_path / f"talk{suffix}", spans)
    cues = read_subtitles(path)
    spoken = [s for s in spans if s.speech]
    assert [c.text for c in cues] == [s.speech for s in spoken]
    assert all(c.source == "subtitle" for c in cues)
    for cue, span in zip(cues, spoken, strict=True):
        assert cue.start == pytest.approx(span.start, abs=0.001)
        assert cue.end == pytest.approx(span.end, abs=0.001)


@pytest.mark.parametrize(
    "content",
    [
        "this is not\na subtitle file\n",
        "1\n00:00:01,000 --> later\nhello\n",
        b"\xff\xfe\x00\xd8garbage",
        "",
    ],
    ids=["prose", "bad-timestamp", "bad-bytes", "empty"],
)
def test_malformed_srt_is_ignored_not_raised(tmp_path, content):
    path = tmp_path / "broken.srt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    assert read_subtitles(path) == []


@pytest.mark.parametrize(
    "content",
    ["this is not\na subtitle file\n", b"\xff\xfe\x00\xd8garbage"],
    ids=["prose", "bytes"],
)
def test_unreadable_srt_is_logged_with_its_path(tmp_path, caplog, content):
    path = tmp_path / "broken.srt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with caplog.at_level(logging.WARNING, logger="mmretrieval"):
        read_subtitles(path)
    assert str(path) in caplog.text
