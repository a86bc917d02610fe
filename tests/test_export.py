"""Result-list export: CSV, CMX3600 EDL and OTIO over real generated files.

Expected timecodes are worked out by hand in the comments, so a change in rounding, rate
snapping or drop-frame counting shows up as a wrong timecode rather than a silent shift.
"""

from __future__ import annotations

import csv
import io
import logging
from fractions import Fraction
from pathlib import Path

import av
import opentimelineio as otio
import pytest
from opentimelineio.opentime import RationalTime, TimeRange

from mmretrieval.errors import ConfigError
from mmretrieval.export import (
    FORMATS,
    SourceInfo,
    export_hits,
    from_spreadsheet_cell,
    source_info,
)
from mmretrieval.search import Hit
from mmretrieval.testing.synth import Scene, make_audio, make_video

NTSC = 30000 / 1001


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, str]:
    """64 s videos at 25 and 29.97 fps, a camera file with a start timecode, an audio-only mp3."""
    root = tmp_path_factory.mktemp("export")
    scene = [Scene(duration=64.0)]
    make_video(root / "pal.mp4", scene, size=(64, 48), fps=25, audio=False)
    make_video(root / "ntsc.mp4", scene, size=(64, 48), fps=Fraction(30000, 1001), audio=False)
    make_audio(root / "radio.mp3", [Scene(duration=4.0)])
    _remux_with_timecode(root / "ntsc.mp4", root / "camera.mov", "01:00:00;00")
    return {p.stem: str(p) for p in root.iterdir()}


def _remux_with_timecode(src: Path, dst: Path, timecode: str) -> None:
    """Copy the video packets into a .mov whose tmcd track says where the camera's clock began."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        stream = out.add_stream_from_template(inp.streams.video[0])
        stream.metadata["timecode"] = timecode
        for packet in inp.demux(inp.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)


def hit(path: str, start: float, end: float, score: float = 0.5, **kwargs) -> Hit:
    fields = {"evidence": {"clip": score}, "text": "", "clip_id": 1, "file_id": 1, **kwargs}
    return Hit(path=path, start=start, end=end, score=score, **fields)


def edl_events(edl: str) -> list[list[str]]:
    """The event lines of an EDL split into fields: number reel track C src-in src-out rec..."""
    return [line.split() for line in edl.splitlines() if line[:3].isdigit()]


def test_source_info_reads_rate_duration_and_camera_timecode(media, caplog):
    gone = str(Path(media["pal"]).with_name("deleted.mov"))
    with caplog.at_level(logging.WARNING, logger="mmretrieval.export"):
        info = source_info([media["pal"], media["ntsc"], media["camera"], media["radio"], gone])
    assert info[media["pal"]] == SourceInfo(fps=25.0, duration=64.0, has_video=True)
    assert info[media["ntsc"]].fps == pytest.approx(NTSC, abs=1e-9)
    assert info[media["ntsc"]].drop_frame
    assert info[media["camera"]].start_timecode == "01:00:00;00"
    radio = info[media["radio"]]
    assert (radio.fps, radio.has_video) == (None, False)
    assert radio.duration == pytest.approx(4.0, abs=0.1)
    assert info[gone] == SourceInfo(fps=None, duration=None, has_video=True)
    assert "deleted.mov" in caplog.text


def test_unknown_format_names_the_choices(media):
    with pytest.raises(ConfigError, match="'xml'.*csv, edl, otio"):
        export_hits([hit(media["pal"], 1.0, 2.0)], "xml")
    assert FORMATS == ("csv", "edl", "otio")


def test_csv_round_trips_through_dictreader(media):
    hits = [
        hit(
            media["pal"],
            61.5,
            63.0,
            0.81234,
            evidence={"text": 0.9, "lexical": 0.5},
            text='said "budget", then\nleft',
            clip_id=7,
            file_id=2,
        ),
        hit(media["radio"], 0.2, 1.0, 0.4, evidence={"clap": 0.4}, clip_id=9, file_id=3),
        hit(media["ntsc"], 1.0, 2.0, 0.3, frame_time=1.4, language="de", notes=["a", "b"]),
    ]
    rows = list(csv.DictReader(io.StringIO(export_hits(hits, "csv"))))
    assert len(rows) == 3
    first = rows[0]
    assert first["rank"] == "1" and first["path"] == media["pal"]
    assert first["file"] == "pal.mp4"
    assert (first["start"], first["end"], first["score"]) == ("61.5", "63.0", "0.8123")
    # 61.5 s * 25 = frame 1537.5: the span starts inside frame 1537 = 61 s + 12 frames.
    assert (first["start_tc"], first["end_tc"], first["fps"]) == (
        "00:01:01:12",
        "00:01:03:00",
        "25.0",
    )
    assert (first["evidence_text"], first["evidence_lexical"]) == ("0.9", "0.5")
    assert first["evidence_clap"] == first["evidence_clip"] == first["frame_time"] == ""
    assert (first["clip_id"], first["file_id"]) == ("7", "2")
    assert first["text"] == 'said "budget", then\nleft'
    # The audio file has no rate of its own: it is timed at the first video's rate (25).
    assert (rows[1]["start_tc"], rows[1]["end_tc"]) == ("00:00:00:05", "00:00:01:00")
    assert rows[1]["evidence_clap"] == "0.4" and rows[1]["evidence_text"] == ""
    assert rows[2]["frame_time"] == "1.4"
    assert (rows[2]["language"], rows[2]["notes"]) == ("de", "a; b")
    assert (first["language"], first["notes"]) == ("", "")
    assert rows[2]["start_tc"] == "00:00:00;29"  # 29.97 fps: frame 29, drop-frame separator


def test_edl_at_25_fps(media):
    hits = [hit(media["pal"], 61.5, 63.0, 0.8, text="the vote"), hit(media["pal"], 10.0, 12.0)]
    edl = export_hits(hits, "edl", title="council vote")
    assert edl.startswith("TITLE: council vote\nFCM: NON-DROP FRAME\n")
    first, second = edl_events(edl)
    # In: frame 1537 (61.5 s * 25 = 1537.5, floor) = 00:01:01:12; out: frame 1575 = 63 s.
    # 38 frames long, so the record runs 01:00:00:00 + 1 s 13 frames.
    assert first[:4] == ["001", "AX", "V", "C"]
    assert first[4:] == ["00:01:01:12", "00:01:03:00", "01:00:00:00", "01:00:01:13"]
    assert second[:4] == ["002", "AX", "V", "C"]
    assert second[4:] == ["00:00:10:00", "00:00:12:00", "01:00:01:13", "01:00:03:13"]
    assert "* FROM CLIP NAME: pal.mp4" in edl
    assert f"* SOURCE FILE: {media['pal']}" in edl
    assert "* COMMENT: score 0.8000 (clip 0.80) | the vote" in edl


def test_edl_drop_frame_at_29_97(media):
    hits = [hit(media["ntsc"], 61.5, 63.0), hit(media["ntsc"], 59.9, 60.1)]
    edl = export_hits(hits, "edl")
    assert "\nFCM: DROP FRAME\n" in edl
    first, second = edl_events(edl)
    # 61.5 s * 29.97 = 1843.16 -> frame 1843. Minute 1 starts at frame 1800 labelled ;02
    # (frames ;00 and ;01 are dropped), so 1843 is 00:01:01;15. Out: ceil(63 * 29.97 =
    # 1888.11) = 1889 -> 89 frames into minute 1 + 2 = 3 s 1 frame. 46 frames long.
    assert first[4:] == ["00:01:01;15", "00:01:03;01", "01:00:00;00", "01:00:01;16"]
    # Across the first dropped labels: 59.9 s -> frame 1795 = 00:00:59;25; 60.1 s -> ceil(1801.2)
    # = 1802 = 00:01:00;04. 7 frames long.
    assert second[4:] == ["00:00:59;25", "00:01:00;04", "01:00:01;16", "01:00:01;23"]


def test_edl_mixed_sources_are_contiguous_and_keep_their_own_rates(media, caplog):
    gone = str(Path(media["pal"]).with_name("deleted.mp4"))
    hits = [
        hit(media["ntsc"], 1.0, 2.0),
        hit(media["radio"], 0.5, 1.5),
        hit(media["pal"], 61.5, 63.0),
        hit(media["camera"], 1.0, 2.0),
        hit(gone, 4.0, 5.0),
    ]
    with caplog.at_level(logging.WARNING, logger="mmretrieval.export"):
        events = edl_events(export_hits(hits, "edl"))
    assert [e[0] for e in events] == ["001", "002", "003", "004", "005"]
    assert [e[2] for e in events] == ["V", "A", "V", "V", "V"]
    assert events[0][6] == "01:00:00;00"  # the record runs at the first video's rate, 29.97 DF
    for before, after in zip(events, events[1:], strict=False):
        assert after[6] == before[7]
    # The 25 fps source keeps its own timecode; its 38 frames last 46 record frames at 29.97.
    assert events[2][4:6] == ["00:01:01:12", "00:01:03:00"]
    assert events[2][7] == _plus(events[2][6], 46)
    # The camera's clock started at 01:00:00;00: 1 s in is 29 frames later.
    assert events[3][4:6] == ["01:00:00;29", "01:00:02;00"]
    # Audio and the missing file have no rate of their own: timed at the record rate.
    assert events[1][4:6] == ["00:00:00;14", "00:00:01;15"]
    assert events[4][4:6] == ["00:00:03;29", "00:00:05;00"]
    assert "deleted.mp4" in caplog.text


def _plus(timecode: str, frames: int) -> str:
    start = otio.opentime.from_timecode(timecode, NTSC)
    return otio.opentime.to_timecode(start + RationalTime(frames, NTSC), NTSC, drop_frame=True)


def test_edl_reads_back_with_the_otio_cmx3600_reader(media):
    """An independent parser finds the same source ranges, names and comments."""
    hits = [hit(media["pal"], 61.5, 63.0, text="first"), hit(media["pal"], 3.0, 4.25)]
    timeline = otio.adapters.read_from_string(export_hits(hits, "edl"), "cmx_3600", rate=25)
    clips = list(timeline.find_clips())
    assert [c.name for c in clips] == ["pal.mp4", "pal.mp4"]
    assert clips[0].source_range == TimeRange(RationalTime(1537, 25), RationalTime(38, 25))
    assert clips[1].source_range == TimeRange(RationalTime(75, 25), RationalTime(32, 25))
    assert "COMMENT: score 0.5000 (clip 0.50) | first" in clips[0].metadata["cmx_3600"]["comments"]


def test_otio_round_trips_with_ranges_and_metadata(media):
    hits = [
        hit(
            media["pal"], 61.5, 63.0, 0.8, evidence={"clip": 0.8, "text": 0.6}, text="hi", clip_id=4
        ),
        hit(media["radio"], 0.5, 1.5, 0.7, clip_id=5),
        hit(media["camera"], 1.0, 2.0, 0.6, clip_id=6, frame_time=1.5),
    ]
    timeline = otio.adapters.read_from_string(export_hits(hits, "otio", title="t"), "otio_json")
    assert timeline.name == "t"
    assert timeline.global_start_time == RationalTime(90000, 25)  # 01:00:00:00 at 25 fps
    video, audio = timeline.tracks
    assert (video.kind, audio.kind) == (otio.schema.TrackKind.Video, otio.schema.TrackKind.Audio)
    pal, camera = video.find_clips()
    (radio,) = audio.find_clips()

    assert pal.source_range == TimeRange(RationalTime(1537, 25), RationalTime(38, 25))
    assert pal.media_reference.target_url == Path(media["pal"]).as_uri()
    assert pal.media_reference.available_range == TimeRange(
        RationalTime(0, 25), RationalTime(1600, 25)
    )
    assert pal.metadata["mmretrieval"] == {
        "rank": 1,
        **{k: v for k, v in hits[0].to_dict().items() if k != "evidence"},
        "evidence": {"clip": 0.8, "text": 0.6},
    }
    # Audio has no rate of its own: frames 12..38 at the record rate (25 fps), placed after
    # the first clip on the record timeline.
    assert radio.source_range == TimeRange(RationalTime(12, 25), RationalTime(26, 25))
    assert radio.range_in_parent().start_time == RationalTime(38, 25)
    assert radio.metadata["mmretrieval"]["clip_id"] == 5
    # The camera clip starts 29 frames after its 01:00:00;00 clock (frame 107892 at 29.97).
    assert camera.source_range.start_time.value == 107892 + 29
    assert camera.source_range.start_time.rate == pytest.approx(NTSC)
    assert camera.media_reference.available_range.start_time.value == 107892
    assert camera.range_in_parent().start_time.to_seconds() == pytest.approx((38 + 26) / 25)
    assert camera.metadata["mmretrieval"]["frame_time"] == 1.5


def test_given_sources_are_not_probed(tmp_path):
    """Callers that know the files (a catalog, a server) pass SourceInfo; paths may be gone."""
    path = str(tmp_path / "archived.mxf")
    sources = {
        path: SourceInfo(fps=24.0, duration=None, has_video=True, start_timecode="10:00:00:00")
    }
    events = edl_events(export_hits([hit(path, 2.0, 3.0)], "edl", sources=sources))
    assert events[0][4:] == ["10:00:02:00", "10:00:03:00", "01:00:00:00", "01:00:01:00"]
    with pytest.raises(ConfigError, match="at most 999 events"):
        export_hits([hit(path, 0.0, 1.0)] * 1000, "edl", sources=sources)


def test_a_line_break_in_a_file_name_cannot_forge_edl_lines(tmp_path):
    forged = "x\n002  AX       V     C        00:00:00:00 00:00:09:00 01:00:00:00 01:00:09:00\n"
    path = str(tmp_path / f"{forged}.mov")
    sources = {path: SourceInfo(fps=25.0, duration=None, has_video=True)}
    edl = export_hits([hit(path, 2.0, 3.0, text="said\nthis")], "edl", sources=sources)
    assert [event[0] for event in edl_events(edl)] == ["001"]
    assert all(line.startswith(("*", "TITLE:", "FCM:", "001")) for line in edl.splitlines() if line)


def test_csv_cells_that_would_run_as_formulas_are_quoted(tmp_path):
    path = str(tmp_path / "@SUM(1).mov")
    sources = {path: SourceInfo(fps=25.0, duration=None, has_video=True)}
    text = '=HYPERLINK("http://x")'
    table = export_hits([hit(path, 2.0, 3.0, text=text)], "csv", sources=sources)
    row = next(csv.DictReader(io.StringIO(table)))
    assert row["text"] == "'" + text and row["file"] == "'@SUM(1).mov"
    assert from_spreadsheet_cell(row["text"]) == text
    assert from_spreadsheet_cell("'quoted already") == "'quoted already"
