"""The optional decord frame sampler gives what PyAV's iter_frames gives: the same sample times,
the same pictures (bit for bit at full size, within scaler rounding when scaled), and the same
errors for files that cannot be read."""

from __future__ import annotations

import av
import numpy as np
import pytest

from mmretrieval.errors import MediaError
from mmretrieval.media.decode import iter_frames
from mmretrieval.media.decord_frames import available, iter_frames_decord
from mmretrieval.synth import Scene, make_audio, make_video

pytestmark = pytest.mark.skipif(
    not available(), reason="decord is not installed or does not load (pip install decord)"
)

SIZE = (320, 180)
COLOURS = [(210, 40, 40), (40, 210, 40), (40, 40, 210), (210, 210, 40)]
SCENES = [
    Scene(duration=3.0, background=c, caption="LIVE" if i % 2 else None)
    for i, c in enumerate(COLOURS)
]


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A 12 s clip with sound in the container asked for (made once per container)."""
    folder = tmp_path_factory.mktemp("decord")
    made = {}

    def get(suffix: str):
        if suffix not in made:
            made[suffix] = folder / f"clip{suffix}"
            make_video(made[suffix], SCENES, size=SIZE)
        return made[suffix]

    return get


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".webm", ".avi"])
@pytest.mark.parametrize(
    ("rate", "start", "end"),
    [(1.0, 0.0, None), (2.5, 0.0, 6.0), (0.5, 1.3, 11.0), (0.2, 5.1, None)],
)
def test_same_times_and_pixels_as_pyav(clip, suffix, rate, start, end):
    path = clip(suffix)
    ref = list(iter_frames(path, rate, start=start, end=end))
    got = list(iter_frames_decord(path, rate, start=start, end=end))
    assert [t for t, _ in got] == [t for t, _ in ref]
    for (_, a), (_, b) in zip(ref, got, strict=True):
        assert b.dtype == np.uint8 and b.shape == a.shape
        assert np.array_equal(a, b)


@pytest.mark.parametrize("max_side", [64, 99, 160])
def test_scaled_frames_match_pyav_within_rounding(clip, max_side):
    path = clip(".mp4")
    ref = list(iter_frames(path, 1.0, max_side=max_side))
    got = list(iter_frames_decord(path, 1.0, max_side=max_side))
    assert [t for t, _ in got] == [t for t, _ in ref]
    for (_, a), (_, b) in zip(ref, got, strict=True):
        assert b.shape == a.shape
        assert np.abs(a.astype(np.int16) - b.astype(np.int16)).mean() < 2.0


def test_unreadable_files_raise_media_error_with_the_reason(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(MediaError, match="empty"):
        list(iter_frames_decord(empty, 1.0))
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(MediaError, match="corrupt or truncated"):
        list(iter_frames_decord(junk, 1.0))


def test_truncated_file_is_a_media_error(clip, tmp_path):
    data = clip(".mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaError):
        list(iter_frames_decord(cut, 1.0))


def test_audio_only_file_has_no_frames(tmp_path):
    path = tmp_path / "talk.wav"
    make_audio(path, [Scene(duration=1.0)])
    assert list(iter_frames_decord(path, 1.0)) == []


def test_transport_streams_are_sampled_by_pyav(clip, tmp_path):
    # decord seeks to wrong frames in MPEG-TS, so those files must take the PyAV path.
    ts = tmp_path / "clip.ts"
    with av.open(str(clip(".mp4"))) as src, av.open(str(ts), mode="w") as dst:
        out = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is not None:
                packet.stream = out
                dst.mux(packet)
    ref = list(iter_frames(ts, 1.0, start=5.0))
    got = list(iter_frames_decord(ts, 1.0, start=5.0))
    assert [t for t, _ in got] == [t for t, _ in ref]
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(ref, got, strict=True))
