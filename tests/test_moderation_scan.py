"""Moderation passes on generated media through the real detectors and models: benign pictures
raise no nudity finding, a listed word is reported when it was said, an index's transcripts and
vectors are reused, the CLIP/CLAP zero-shot path runs (tiny random models: the scores mean
nothing, the path must run and report), reports round-trip, and `mmr moderate` works in both
of its forms. No explicit content is generated: the nudity checks run on benign pictures."""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image, ImageDraw
from rich.console import Console
from typer.testing import CliRunner

from mmretrieval import Library
from mmretrieval.cli import app
from mmretrieval.cli.moderate import print_scan
from mmretrieval.errors import ConfigError, MediaError, MMRError
from mmretrieval.moderation import (
    FileSummary,
    Finding,
    Report,
    SignalHit,
    load_policy,
    moderate,
    read_findings,
    read_report,
    write_report,
)
from mmretrieval.moderation.detectors import NudeNet, OpenNsfw
from mmretrieval.moderation.policy import NUDENET_CLASSES, NUDENET_EXPOSED
from mmretrieval.moderation.scan import ClipScores, Evidence, FileScan, findings, scanning
from mmretrieval.spans import Span
from mmretrieval.testing.synth import Scene, make_audio, make_video, write_subtitles

NUDENET = {"type": "nudenet", "threshold": 0.5}
SIZE = (320, 180)
WEATHER = "The weather will be sunny tomorrow across the region."
SEIZURE = "The police found cocaine hidden in a lorry at the port."
COUNCIL = "The city council approved a new budget for libraries."
SMUGGLING = "Customs officers say the contraband was hidden in crates of bananas."
CONCERT = "The orchestra will tour Japan in the autumn."

POLICY = {
    "categories": {
        "nudity": {
            "signals": [
                {"type": "nudenet", "threshold": 0.5},
                {"type": "open_nsfw", "threshold": 0.8},
            ]
        },
        "drugs": {
            "signals": [
                {"type": "wordlist", "files": ["bundled:drugs_en"], "words": ["contraband"]},
                {
                    "type": "transcript",
                    "positive": ["buying selling or taking illegal drugs"],
                    "negative": ["a weather forecast", "an ordinary news report"],
                    "threshold": 0.8,
                },
            ]
        },
    }
}
ZERO_SHOT = {
    "categories": {
        "weapons": {
            "signals": [
                {
                    "type": "clip",
                    "positive": ["a photo of a gun"],
                    "negative": ["a landscape", "a news studio"],
                    "threshold": 0.5,
                }
            ]
        },
        "violence": {
            "signals": [
                {
                    "type": "clap",
                    "positive": ["gunshots", "people screaming"],
                    "negative": ["people talking", "music"],
                    "threshold": 0.5,
                }
            ]
        },
    }
}


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict:
    """A spoken video with a listed word in its middle scene, a clean one, a subtitled one and a
    recording, with where each scene landed."""
    folder = tmp_path_factory.mktemp("moderation-media")
    talk = make_video(
        folder / "talk.mp4",
        [Scene(speech=WEATHER), Scene(speech=SEIZURE, background=(90, 50, 40)), Scene(COUNCIL)],
        size=SIZE,
    )
    clean = make_video(folder / "clean.mp4", [Scene(speech=CONCERT)], size=SIZE, seed=3)
    subtitled = make_video(
        folder / "subtitled.mkv",
        [Scene(speech=CONCERT), Scene(speech=SEIZURE), Scene(speech=SMUGGLING)],
        size=SIZE,
    )
    write_subtitles(folder / "subtitled.srt", subtitled)
    radio = make_audio(folder / "radio.wav", [Scene(speech=SEIZURE)])
    return {
        "folder": folder,
        "talk": (folder / "talk.mp4", talk),
        "clean": (folder / "clean.mp4", clean),
        "subtitled": (folder / "subtitled.mkv", subtitled),
        "radio": (folder / "radio.wav", radio),
    }


def _write(path: Path, categories: dict) -> Path:
    path.write_text(yaml.safe_dump({"categories": categories}, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def policy_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("policy") / "test_policy.yaml"
    path.write_text(yaml.safe_dump(POLICY, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def report(media, policy_file):
    return moderate([media["folder"]], policy_file)


def _file(report, name: str):
    return next(f for f in report.files if Path(f.path).name == name)


def _findings(report, name: str, category: str) -> list:
    return [f for f in report.findings if Path(f.path).name == name and f.category == category]


def _benign_pictures() -> list[np.ndarray]:
    """A landscape, shapes, a caption card and a white page: nothing a nudity model should flag."""
    landscape = Image.new("RGB", (480, 320), (110, 170, 230))
    draw = ImageDraw.Draw(landscape)
    draw.ellipse((360, 30, 430, 100), fill=(250, 220, 90))
    draw.polygon(
        [(0, 220), (160, 150), (330, 210), (480, 160), (480, 320), (0, 320)], (60, 130, 60)
    )
    shapes = Image.new("RGB", (400, 400), (30, 30, 40))
    draw = ImageDraw.Draw(shapes)
    draw.rectangle((40, 40, 200, 180), fill=(200, 40, 40))
    draw.ellipse((180, 160, 360, 340), fill=(40, 90, 200))
    card = Image.new("RGB", (640, 360), (20, 40, 90))
    ImageDraw.Draw(card).text((40, 160), "EVENING NEWS: FLOOD WARNING", fill=(255, 255, 255))
    white = Image.new("RGB", (256, 256), (255, 255, 255))
    return [np.asarray(image) for image in (landscape, shapes, card, white)]


# -- the detectors on benign input ------------------------------------------------------------


def test_nudenet_on_benign_pictures_stays_under_the_policy_threshold():
    pictures = _benign_pictures()
    found = NudeNet().detect(pictures)
    assert len(found) == len(pictures)
    for picture, detections in zip(pictures, found, strict=True):
        height, width = picture.shape[:2]
        for d in detections:  # whatever it returns is well formed
            assert d.label in NUDENET_CLASSES and 0.2 <= d.score <= 1.0
            x, y, w, h = d.box
            assert 0 <= x <= width and 0 <= y <= height and x + w <= width and y + h <= height
        # 320n does box plain shapes at low confidence (a blue disc: BUTTOCKS_EXPOSED 0.39),
        # which is why the default policy fires at 0.5: nothing benign comes near that.
        assert all(d.score < 0.5 for d in detections if d.label in NUDENET_EXPOSED)


def test_open_nsfw_scores_benign_pictures_as_safe():
    scores = OpenNsfw().score(_benign_pictures())
    assert scores.shape == (4,)
    assert np.all((scores >= 0) & (scores < 0.2)), scores  # its authors' "safe" band


# -- scanning generated media -----------------------------------------------------------------


def test_every_file_is_scanned_and_the_signals_that_ran_are_reported(report):
    assert not report.failures
    assert {Path(f.path).name for f in report.files} == {
        "talk.mp4",
        "clean.mp4",
        "subtitled.mkv",
        "radio.wav",
    }
    assert set(report.signals.values()) == {"ran"}
    assert report.notes()[0] == (
        "signals that ran: nudity/nudenet, nudity/open_nsfw, drugs/wordlist, drugs/transcript"
    )
    timing = report.timing
    assert timing["clips"] == sum(f.clips for f in report.files) > 0
    assert timing["clips_per_second"] > 0 and {"nudenet", "open_nsfw", "asr"} <= set(
        timing["stage_seconds"]
    )


def test_benign_video_yields_no_nudity_finding(report):
    assert not [f for f in report.findings if f.category == "nudity"]
    for name in ("talk.mp4", "clean.mp4", "subtitled.mkv"):
        scores = _file(report, name).max_scores
        assert 0.0 <= scores["nudity/nudenet"] < 0.5
        assert 0.0 <= scores["nudity/open_nsfw"] < 0.8


def test_listed_word_is_reported_when_it_was_said(report, media):
    _, spans = media["talk"]
    (finding,) = _findings(report, "talk.mp4", "drugs")
    wordlist = next(s for s in finding.signals if s.signal == "wordlist")
    assert wordlist.score == 1 and wordlist.threshold == 1
    (word,) = wordlist.detail["words"]
    assert word["said"] == "cocaine" and word["entry"] == "cocaine"
    assert spans[1].start <= word["time"] < word["end"] <= spans[1].end  # said in scene two
    assert wordlist.time == word["time"] and "cocaine" in wordlist.text
    assert finding.start <= word["time"] < finding.end
    assert not _findings(report, "clean.mp4", "drugs")
    assert _file(report, "clean.mp4").max_scores["drugs/wordlist"] == 0


def test_subtitle_hits_have_their_cue_times(report, media):
    """Bundled and inline entries both count; a cue has no word times, so a hit has the cue's."""
    _, spans = media["subtitled"]
    assert _file(report, "subtitled.mkv").transcript == "subtitles"
    (finding,) = _findings(report, "subtitled.mkv", "drugs")
    wordlist = next(s for s in finding.signals if s.signal == "wordlist")
    words = [(w["said"], w["time"], w["end"]) for w in wordlist.detail["words"]]
    assert words == [
        ("cocaine", pytest.approx(spans[1].start, abs=1e-3), pytest.approx(spans[1].end, abs=1e-3)),
        (
            "contraband",
            pytest.approx(spans[2].start, abs=1e-3),
            pytest.approx(spans[2].end, abs=1e-3),
        ),
    ]
    assert wordlist.score == 2 and wordlist.text == SEIZURE


def test_recording_has_speech_signals_and_no_frame_signals(report):
    radio = _file(report, "radio.wav")
    assert radio.transcript == "asr"
    assert not any(name.startswith("nudity/") for name in radio.max_scores)
    assert radio.max_scores["drugs/wordlist"] == 1
    assert 0.0 <= radio.max_scores["drugs/transcript"] <= 1.0


def test_transcript_signal_scores_lines(report):
    for finding in report.findings:
        for hit in finding.signals:
            if hit.kind == "transcript":
                assert 0.8 <= hit.score <= 1.0 and hit.text and finding.start <= hit.time


def test_files_scanned_together_score_as_each_alone(media, policy_file, tmp_path):
    """``moderate`` scores the lines of many files in one encoder batch: each file gets the
    scores it gets alone, and a file that cannot be read fails in its place, not the batch."""
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    paths = [media["subtitled"][0], broken, media["talk"][0]]
    with scanning(load_policy(policy_file)) as scanner:
        together = scanner.scan_files(paths)
        alone = [scanner.scan_file(paths[0]), scanner.scan_file(paths[2])]
    assert isinstance(together[1], MediaError)
    for batched, single in zip([together[0], together[2]], alone, strict=True):
        assert isinstance(batched, FileScan) and len(batched.clips) == len(single.clips)
        for one, other in zip(batched.clips, single.clips, strict=True):
            assert one.scores.keys() == other.scores.keys()
            for key, evidence in one.scores.items():
                same = other.scores[key]
                assert evidence.score == pytest.approx(same.score, abs=1e-3)
                assert (evidence.text, evidence.span) == (same.text, same.span)


def test_index_is_reused_for_files_with_the_same_content(report, media, policy_file, tmp_path):
    talk, _ = media["talk"]
    copy = tmp_path / "renamed.mp4"  # the same content under another path
    shutil.copy(talk, copy)
    with Library(tmp_path / "idx", profile="offline") as library:
        library.add([talk])
    reused = moderate([talk, copy], policy_file, index=tmp_path / "idx")
    for summary in reused.files:
        assert (summary.source, summary.transcript) == ("index", "index")
    assert "asr" not in reused.timing["stage_seconds"]  # no speech recognition ran again
    fresh = _findings(report, "talk.mp4", "drugs")[0]
    for name in ("talk.mp4", "renamed.mp4"):
        (finding,) = _findings(reused, name, "drugs")
        assert (finding.start, finding.end) == (fresh.start, fresh.end)
        assert finding.signals[0].detail == fresh.signals[0].detail  # same word, same time


# -- reports ----------------------------------------------------------------------------------


def test_reports_round_trip_in_every_format(report, tmp_path):
    assert report.findings
    for suffix in (".jsonl", ".csv", ".html"):
        path = write_report(report, tmp_path / f"report{suffix}")
        assert read_findings(path) == report.findings
    for suffix in (".jsonl", ".html"):
        back = read_report(tmp_path / f"report{suffix}")
        assert back == report


def test_html_report_is_self_contained_with_stills(report, tmp_path):
    page = write_report(report, tmp_path / "report.html").read_text()
    assert page.count('<div class="finding">') == len(report.findings)
    assert page.count('src="data:image/jpeg;base64,') == len(report.findings)
    assert "http://" not in page and "https://" not in page
    assert "<td>nudity/nudenet</td><td>ran</td>" in page


def test_html_report_escapes_names_and_transcripts(tmp_path):
    """File names and transcripts are shown as text: no tag, script or comment gets through."""
    path = str(tmp_path / "<img src=x onerror=alert(1)>.mp4")  # absent: the page has no still
    said = "<!--<script>alert(1)</script> & </script><b>"
    words = {"words": [{"said": said, "time": 2.0}]}
    hit = SignalHit("wordlist", "wordlist", 1, 1, 2.0, said, words)
    hostile = Report(
        "p<i>",
        "offline",
        {"drugs/wordlist": "ran"},
        [FileSummary(path, "failed", error=said)],
        [Finding(path, 0.0, 5.0, "drugs", (hit,))],
    )
    page = write_report(hostile, tmp_path / "report.html").read_text()
    assert page.count("<script") == 1 and page.count("</script>") == 1
    assert "<img" not in page and "<!--" not in page and "<b>" not in page and "<i>" not in page
    assert read_report(tmp_path / "report.html") == hostile


def test_csv_cells_that_would_run_as_formulas_are_quoted_and_read_back(tmp_path):
    path = str(tmp_path / "=HYPERLINK(x).mp4")
    said = "=cmd|' /C calc'!A0"
    hit = SignalHit("wordlist", "wordlist", 1, 1, 2.0, said, {})
    report = Report(
        "p", "offline", {"drugs/wordlist": "ran"}, [], [Finding(path, 0, 5, "drugs", (hit,))]
    )
    written = write_report(report, tmp_path / "report.csv")
    rows = list(csv.DictReader(written.open(encoding="utf-8")))
    assert rows[0]["text"] == "'" + said  # a spreadsheet shows it as text
    assert read_findings(written) == report.findings


def test_unreadable_report_is_an_error_naming_the_file(tmp_path):
    broken = tmp_path / "report.jsonl"
    broken.write_text('{"kind": "run"}\nnot json\n')
    with pytest.raises(MMRError, match="report.jsonl is not a readable moderation report"):
        read_report(broken)
    rows = tmp_path / "report.csv"
    rows.write_text("path,start\na.mp4,soon\n")
    with pytest.raises(MMRError, match="report.csv line 2: not a moderation report row"):
        read_findings(rows)
    with pytest.raises(MMRError, match="report .*missing.html does not exist"):
        read_report(tmp_path / "missing.html")


def test_scan_table_prints_names_as_text_not_markup(tmp_path):
    path = str(tmp_path / "[/red]odd [bold].mp4")
    hit = SignalHit("wordlist", "wordlist", 1, 1, 2.0, "a [/] line", {})
    odd = Report(
        "p",
        "offline",
        {"drugs/wordlist": "skipped: [/x]"},
        [FileSummary(path, "failed", error="[/]")],
        [Finding(path, 0.0, 5.0, "drugs", (hit,))],
    )
    odd.timing = {"files": 1, "clips": 0, "clips_per_second": 0.0, "seconds_per_clip": 0.0}
    odd.timing |= {"realtime_factor": 0.0, "load_seconds": 0.0}
    console = Console(record=True, width=200)
    print_scan(odd, console)
    text = console.export_text()
    assert "[/red]odd [bold].mp4" in text and "a [/] line" in text
    assert "drugs/wordlist skipped: [/x]" in text and ": [/]" in text


def test_overlapping_flagged_clips_merge_across_an_unflagged_one(tmp_path):
    policy = load_policy(_write(tmp_path / "p.yaml", {"nudity": {"signals": [NUDENET]}}))

    def clip(start: float, end: float, score: float) -> ClipScores:
        return ClipScores(start, end, {("nudity", "nudenet"): Evidence(score, start + 1)})

    # [0, 10) and [8, 18) overlap, so they are one finding even with [5, 15) unflagged between
    clips = [clip(0, 10, 0.9), clip(5, 15, 0.1), clip(8, 18, 0.7), clip(20, 30, 0.6)]
    found = findings(FileScan("a.mp4", 30.0, "media", "none", clips), policy)
    assert [(f.start, f.end, f.signals[0].score, f.time) for f in found] == [
        (0, 18, 0.9, 1),
        (20, 30, 0.6, 21),
    ]


def test_unknown_report_format_is_refused(report, tmp_path):
    with pytest.raises(ConfigError, match="expected a name ending in .jsonl, .csv, .html"):
        write_report(report, tmp_path / "report.pdf")


# -- CLIP and CLAP zero-shot (tiny random models) ---------------------------------------------


@pytest.fixture(scope="module")
def zero_shot_policy(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("zero-shot") / "zero_shot.yaml"
    path.write_text(yaml.safe_dump(ZERO_SHOT, sort_keys=False))
    return path


def _check_zero_shot(result, policy: dict) -> None:
    """Both signals ran; each file has a finding of a category exactly when one of its clips
    scored at or above the threshold, and only files with pictures are scored by CLIP."""
    assert result.signals == {"weapons/clip": "ran", "violence/clap": "ran"}
    harbour = _file(result, "harbour.mkv")
    assert set(harbour.max_scores) == {"weapons/clip", "violence/clap"}
    assert all(0.0 <= score <= 1.0 for score in harbour.max_scores.values())
    podcast = _file(result, "podcast.wav")
    assert set(podcast.max_scores) == {"violence/clap"}  # no pictures: CLIP cannot score it
    for summary in (harbour, podcast):
        for name, best in summary.max_scores.items():
            category, kind = name.split("/")
            (signal,) = policy["categories"][category]["signals"]
            found = _findings(result, Path(summary.path).name, category)
            assert bool(found) == (best >= signal["threshold"]), name
            assert summary.findings.get(category, 0) == len(found)
            for finding in found:
                (hit,) = finding.signals
                assert (hit.kind, hit.threshold) == (kind, signal["threshold"])
                assert signal["threshold"] <= hit.score <= best
                if kind == "clip":
                    assert finding.start <= hit.time < finding.end


def test_clip_and_clap_signals_run_on_media(tiny_profile, zero_shot_policy, corpus, tmp_path):
    paths = [corpus["harbour"].path, corpus["podcast"].path]
    result = moderate(paths, zero_shot_policy, profile=tiny_profile)
    _check_zero_shot(result, ZERO_SHOT)
    assert {"frames", "audio"} <= set(result.timing["stage_seconds"])  # CLIP and CLAP ran
    # At threshold 0 every clip a signal scores fires: CLIP flags the video, not the recording.
    always = yaml.safe_load(yaml.safe_dump(ZERO_SHOT))
    for category in always["categories"].values():
        category["signals"][0]["threshold"] = 0.0
    always_file = _write(tmp_path / "always.yaml", always["categories"])
    result = moderate(paths, always_file, profile=tiny_profile)
    _check_zero_shot(result, always)
    assert _findings(result, "harbour.mkv", "weapons")
    assert _findings(result, "harbour.mkv", "violence")
    assert _findings(result, "podcast.wav", "violence")
    assert not _findings(result, "podcast.wav", "weapons")


def test_clip_and_clap_signals_reuse_the_index(tiny_indexed, zero_shot_policy, corpus):
    library, _ = tiny_indexed
    paths = [corpus["harbour"].path, corpus["podcast"].path]
    result = moderate(paths, zero_shot_policy, index=library.index_dir)
    _check_zero_shot(result, ZERO_SHOT)
    assert {f.source for f in result.files} == {"index"}
    assert "frames" not in result.timing["stage_seconds"]  # CLIP vectors were stored
    # CLAP clip vectors were stored too: the sound is embedded again only to find the seconds
    # of a clip that fired, so with a threshold no clip reaches, no sound is embedded at all.
    fired = [f for f in result.findings if f.category == "violence"]
    assert ("audio" in result.timing["stage_seconds"]) == bool(fired)
    never = yaml.safe_load(yaml.safe_dump(ZERO_SHOT))
    never["categories"]["violence"]["signals"][0]["threshold"] = 1.0
    never_file = _write(zero_shot_policy.parent / "never.yaml", never["categories"])
    quiet = moderate(paths, never_file, index=library.index_dir)
    assert not {"frames", "audio"} & set(quiet.timing["stage_seconds"])  # vectors were stored


def test_clap_findings_carry_the_seconds_that_scored(tiny_profile, corpus, tmp_path):
    """At threshold 0 every window fires: the finding spans the re-scored windows, inside the
    clip, and names the best window's start."""
    always = yaml.safe_load(yaml.safe_dump(ZERO_SHOT))
    always["categories"] = {"violence": always["categories"]["violence"]}
    always["categories"]["violence"]["signals"][0]["threshold"] = 0.0
    policy = _write(tmp_path / "always.yaml", always["categories"])
    result = moderate([corpus["podcast"].path], policy, profile=tiny_profile)
    assert result.findings
    for finding in result.findings:
        (hit,) = finding.signals
        assert hit.kind == "clap" and finding.start <= hit.time < finding.end
        assert finding.end - finding.start >= 1.0  # at least one CLAP window


def test_zero_shot_signals_are_skipped_offline_with_a_note(zero_shot_policy, corpus):
    result = moderate([corpus["podcast"].path], zero_shot_policy, profile="offline")
    assert result.signals == {
        "weapons/clip": "skipped: no CLIP model in profile offline",
        "violence/clap": "skipped: no CLAP model in profile offline",
    }
    assert result.notes() == [
        "signals that ran: none",
        "weapons/clip skipped: no CLIP model in profile offline",
        "violence/clap skipped: no CLAP model in profile offline",
    ]


# -- the command ------------------------------------------------------------------------------


def test_mmr_moderate_writes_all_three_reports(media, policy_file, tmp_path):
    talk, _ = media["talk"]
    outs = [tmp_path / f"report{suffix}" for suffix in (".jsonl", ".csv", ".html")]
    args = ["moderate", str(talk), "--policy", str(policy_file)]
    result = CliRunner().invoke(app, [*args, *(a for p in outs for a in ("--out", str(p)))])
    assert result.exit_code == 0, result.output
    assert "drugs" in result.output and "signals that ran" in result.output
    findings = [read_findings(path) for path in outs]
    assert findings[0] == findings[1] == findings[2] and findings[0]


def test_mmr_moderate_scan_json_and_usage_errors(media, policy_file, tmp_path):
    clean, _ = media["clean"]
    runner = CliRunner()
    result = runner.invoke(
        app, ["moderate", "scan", str(clean), "--policy", str(policy_file), "--json"]
    )
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert [r["kind"] for r in records] == ["run", "file"]
    bad = runner.invoke(app, ["moderate", str(clean), "--out", str(tmp_path / "r.pdf")])
    assert bad.exit_code == 2 and "expected a name ending in" in bad.output


def test_mmr_moderate_calibrate_picks_the_hand_computed_threshold(media, policy_file, tmp_path):
    """Precision 1: the lowest score of a positive clip above every negative clip's score."""
    subtitled, spans = media["subtitled"]  # one transcript line per scene
    talk, talk_spans = media["talk"]
    clean, _ = media["clean"]
    rows = [(subtitled, s.start, s.end, int(s.speech != CONCERT)) for s in spans]
    rows += [(talk, talk_spans[2].start, talk_spans[2].end, 0), (clean, 0.0, None, 0)]
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "path,start,end,drugs\n"
        + "".join(f"{p},{s},{'' if e is None else e},{y}\n" for p, s, e, y in rows)
    )
    policy = load_policy(policy_file)
    with scanning(policy) as scanner:
        scores = []
        for p, s, e, _ in rows:  # a blank end is the end of the file
            clip = scanner.scan_file(p, [Span(s, math.inf if e is None else e)]).clips[0]
            scores.append(clip.scores.get(("drugs", "transcript")))
    scored = [(e.score, y) for e, (*_, y) in zip(scores, rows, strict=True) if e is not None]
    highest_negative = max((s for s, y in scored if not y), default=-1.0)
    above = [s for s, y in scored if y and s > highest_negative]
    expected = min(above) if above else policy.signal("drugs", "transcript").threshold

    out = tmp_path / "calibrated.yaml"
    result = CliRunner().invoke(
        app,
        [
            "moderate",
            "calibrate",
            "--labels",
            str(labels),
            "--policy",
            str(policy_file),
            "--precision",
            "1",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    calibrated = load_policy(out)
    assert calibrated.signal("drugs", "transcript").threshold == expected
    assert calibrated.signal("nudity", "nudenet").threshold == 0.5  # no nudity labels: kept
    rows = {(r["category"], r["signal"]): r for r in json.loads(result.stdout)["signals"]}
    assert rows[("nudity", "nudenet")]["note"] == "not calibrated: no clip is labelled for nudity"
    assert rows[("drugs", "wordlist")]["note"].startswith("not calibrated: a word list")
    assert rows[("drugs", "transcript")]["after"] == expected


# -- the default policy on speech and screen text ----------------------------------------------

QUOTE = "I shall fall like a bright exhalation in the evening."
SPORT = "They killed it tonight, what a performance from the home side."
CAPTION = "Cheap cocaine for sale, text me tonight"
THREAT = "I am going to find you tonight and beat you until you stop breathing."


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """Ordinary speech, a caption offering drugs (no speech over it), then a spoken threat."""
    folder = tmp_path_factory.mktemp("mixed")
    scenes = [
        Scene(speech=QUOTE),
        Scene(speech=SPORT),
        Scene(caption=CAPTION, duration=4.0, background=(20, 20, 20)),
        Scene(speech=THREAT),
    ]
    spans = make_video(folder / "mixed.mp4", scenes, size=(640, 360))
    return folder / "mixed.mp4", spans, moderate([folder / "mixed.mp4"])


def test_default_policy_flags_the_threat_and_the_caption_not_the_ordinary_speech(mixed):
    path, spans, report = mixed
    assert not report.failures and report.policy == "moderation"
    quote, sport, caption, threat = spans
    by_category = {f.category: f for f in report.findings}
    assert set(by_category) == {"violence", "drugs"}, report.findings
    violence = by_category["violence"]
    assert violence.rule.startswith("strong: classifier ")
    assert violence.overlaps(threat)
    assert not violence.overlaps(sport) and not violence.overlaps(quote)
    (hit,) = [h for h in violence.signals if h.kind == "classifier"]
    assert hit.detail == {"source": "speech"} and threat.start - 0.5 <= hit.time < threat.end


def test_screen_text_is_checked_like_speech_at_its_frame_time(mixed):
    _, spans, report = mixed
    caption = spans[2]
    (drugs,) = [f for f in report.findings if f.category == "drugs"]
    assert caption.start - 0.5 <= drugs.start and drugs.end <= caption.end + 2.5
    kinds = {h.kind: h for h in drugs.signals}
    assert {"classifier", "wordlist"} <= set(kinds)
    assert kinds["classifier"].detail == {"source": "screen"}
    assert "cocaine" in kinds["classifier"].text.lower()
    (word,) = kinds["wordlist"].detail["words"]
    assert (word["said"], word["source"]) == ("cocaine", "screen")
    assert caption.start - 0.5 <= word["time"] < caption.end


def test_mmr_moderate_writes_an_html_report_without_a_policy(mixed, tmp_path):
    path, _, _ = mixed
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["moderate", str(path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert "strong: classifier" in page and "on screen: " in page
    assert {f.category for f in read_findings(out)} == {"violence", "drugs"}


DRUG_NEWS = (
    "Detectives say the gang was selling cocaine to students.",
    "Customs officers seized heroin worth two million pounds at the airport.",
)
DRUG_OFFER = "I can sell you a bag of cocaine tonight, meet me behind the pub."


def test_default_policy_leaves_news_about_drugs_and_flags_a_drug_offer(tmp_path):
    """A drug's name and a prompt about drugs both fire on news about drugs; the default policy
    flags drugs only where its classifier agrees (a subtitle sidecar: no recognition errors)."""
    report = _moderated_lines(tmp_path, [*DRUG_NEWS, DRUG_OFFER])
    flagged = {Path(f.path).name: f for f in report.findings if f.category == "drugs"}
    assert set(flagged) == {"line2.wav"}, report.findings
    assert {h.kind for h in flagged["line2.wav"].signals} >= {"classifier", "wordlist"}
    for n in range(len(DRUG_NEWS)):  # the word list did fire on the news
        assert _file(report, f"line{n}.wav").max_scores["drugs/wordlist"] == 1


MILD_SWEARING = "Where's the damn remote control gone?"
DONKEY = "The farmer loaded the ass with sacks of flour."


def test_default_policy_flags_mild_swearing_and_leaves_the_donkey(tmp_path):
    """The profanity model scores a mild swear word under 0.5 and an old plain word over it;
    the default policy (chosen on the profanity dev lines) takes the listed word with the model
    at 0.3 and no longer lists "ass" (subtitle sidecars: no recognition errors)."""
    report = _moderated_lines(tmp_path, [MILD_SWEARING, DONKEY])
    flagged = {Path(f.path).name: f for f in report.findings if f.category == "profanity"}
    assert set(flagged) == {"line0.wav"}, report.findings
    assert flagged["line0.wav"].rule.startswith("2 signals agree")
    scores = {n: _file(report, f"line{n}.wav").max_scores for n in range(2)}
    assert scores[0]["profanity/profanity_check"] < 0.5  # the word list needed the model at 0.3
    assert scores[1]["profanity/profanity_check"] >= 0.5 and scores[1]["profanity/wordlist"] == 0


BRITISH_SWEARING = "Sod off, I'm busy."


def test_default_policy_flags_swearing_the_profanity_model_scores_low(tmp_path):
    """"Sod off" is swearing in any sentence, but the profanity model scores the line far under
    its threshold, so no two signals agree: the strong-words list flags it on its own."""
    report = _moderated_lines(tmp_path, [BRITISH_SWEARING])
    (finding,) = [f for f in report.findings if f.category == "profanity"]
    assert finding.rule.startswith("strong"), finding.rule
    assert {h.kind for h in finding.signals} == {"wordlist"}
    scores = _file(report, "line0.wav").max_scores
    assert scores["profanity/profanity_check"] < 0.3 and scores["profanity/strong_words"] == 1


def _moderated_lines(folder: Path, texts: list[str]):
    """The default policy's report on ``lineN.wav``, one per text, each said by espeak-ng with a
    subtitle sidecar of it."""
    for n, text in enumerate(texts):
        spans = make_audio(folder / f"line{n}.wav", [Scene(speech=text)])
        write_subtitles(folder / f"line{n}.srt", spans)
    report = moderate([folder])
    assert not report.failures
    return report
