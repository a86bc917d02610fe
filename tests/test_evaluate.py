"""Retrieval metrics against hand-computed ranks, each manifest reader on tiny generated media,
and an end-to-end evaluation of the spoken corpus with the offline profile."""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from mmretrieval.errors import ConfigError
from mmretrieval.evaluate import (
    DIRECTIONS,
    EvalItem,
    average_precision,
    detect_format,
    evaluate,
    first_rank,
    matrix_metrics,
    parse_directions,
    rank_metrics,
    ranked_relevance,
    read_manifest,
)
from mmretrieval.spans import Span
from mmretrieval.testing.synth import Scene, make_audio, make_video

TINY = [Scene(duration=1.0)]

# -- metrics -------------------------------------------------------------------------------------


def test_rank_metrics_by_hand():
    assert rank_metrics([1, 3, 12, 2]) == {
        "R@1": 25.0,
        "R@5": 75.0,
        "R@10": 75.0,
        "MedR": 2.5,
        "MeanR": 4.5,
    }
    assert rank_metrics([10, 11, 5])["R@10"] == pytest.approx(200 / 3)
    with pytest.raises(ValueError):
        rank_metrics([])


@pytest.mark.parametrize(
    ("relevance", "n_relevant", "expected"),
    [
        ([1, 0, 1, 0], None, (1 / 1 + 2 / 3) / 2),
        ([0, 1, 0, 0, 1], None, (1 / 2 + 2 / 5) / 2),
        ([0, 0, 1], None, 1 / 3),
        ([1, 0], 2, 0.5),  # a relevant target the list missed counts as precision 0
        ([0, 0], None, 0.0),
    ],
)
def test_average_precision_by_hand(relevance, n_relevant, expected):
    assert average_precision(relevance, n_relevant) == pytest.approx(expected)


def test_ties_and_unscored_targets_rank_pessimistically():
    ranked = ranked_relevance([0.5, 0.9, 0.5, -math.inf], [True, False, False, False])
    assert ranked.tolist() == [False, False, True, False]
    assert first_rank(ranked) == 3
    unscored = ranked_relevance([-math.inf, 0.1, -math.inf], [True, False, False])
    assert first_rank(unscored) == 3


def test_matrix_metrics_by_hand():
    # captions 0, 1 describe item 0; caption 2 describes item 1; item 2 has no caption
    scores = np.array(
        [
            [0.9, 0.2, 0.1],  # caption 0: item 0 first
            [0.3, 0.8, 0.3],  # caption 1: item 0 ties item 2, after item 1 -> rank 3
            [0.1, 0.7, -np.inf],  # caption 2: item 1 first
        ]
    )
    t2m, m2t = matrix_metrics(scores, [0, 0, 1])
    assert t2m["R@1"] == pytest.approx(200 / 3) and t2m["MedR"] == 1.0
    assert t2m["MeanR"] == pytest.approx(5 / 3)
    assert t2m["mAP"] == pytest.approx(100 * (1 + 1 / 3 + 1) / 3)
    assert (t2m["queries"], t2m["targets"]) == (3, 3)
    # item 0 ranks captions 0.9 (c0, rel), 0.3 (c1, rel), 0.1 (c2) -> rank 1, AP 1
    # item 1 ranks captions 0.8 (c1), 0.7 (c2, rel), 0.2 (c0)     -> rank 2, AP 1/2
    assert m2t["R@1"] == 50.0 and m2t["MedR"] == 1.5 and m2t["MeanR"] == 1.5
    assert m2t["mAP"] == pytest.approx(100 * (1 + 0.5) / 2)
    assert (m2t["queries"], m2t["targets"]) == (2, 3)


def test_directions_are_parsed_and_checked():
    assert parse_directions(None) == DIRECTIONS
    assert parse_directions("t2v, V2T,t2v") == ("t2v", "v2t")
    with pytest.raises(ConfigError, match="t2x"):
        parse_directions("t2v,t2x")


# -- manifests -----------------------------------------------------------------------------------


def _videos(folder, *stems, suffix=".mp4"):
    folder.mkdir(parents=True, exist_ok=True)
    for stem in stems:
        make_video(folder / f"{stem}{suffix}", TINY, size=(160, 90), fps=10)


def _audios(folder, *stems, duration=1.0):
    folder.mkdir(parents=True, exist_ok=True)
    for stem in stems:
        make_audio(folder / f"{stem}.wav", [Scene(duration=duration)])


def _csv(path, header, rows):
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_msrvtt_csv_one_caption_per_video_and_missing_ids(tmp_path):
    _videos(tmp_path / "media", "video7010", "video7020")
    manifest = _csv(
        tmp_path / "MSRVTT_JSFUSION_test.csv",
        ["key", "vid_key", "video_id", "sentence"],
        [
            ["ret0", "msr7010", "video7010", "a man is cooking pasta"],
            ["ret1", "msr7020", "video7020", "two dogs play in the snow"],
            ["ret2", "msr7030", "video7030", "a woman sings on stage"],
        ],
    )
    items = read_manifest(manifest, tmp_path / "media")
    assert items.format == "msrvtt" and len(items) == 2
    assert items.missing == ("video7030",)
    first = items[0]
    assert first == EvalItem(
        "video7010", (tmp_path / "media" / "video7010.mp4").absolute(), ("a man is cooking pasta",)
    )
    assert first.media.is_absolute() and first.span is None  # the whole file
    with pytest.raises(AttributeError):
        first.id = "other"  # frozen


def test_msrvtt_json_is_restricted_to_present_videos(tmp_path):
    _videos(tmp_path / "media" / "TestVideo", "video1", "video3", suffix=".mkv")
    data = {
        "videos": [{"video_id": f"video{i}", "split": "test"} for i in (1, 2, 3)],
        "sentences": [
            {"video_id": "video1", "caption": "a cat sleeps"},
            {"video_id": "video1", "caption": "a kitten naps on a sofa"},
            {"video_id": "video2", "caption": "a car drives"},
            {"video_id": "video3", "caption": "people dance"},
        ],
    }
    manifest = tmp_path / "MSRVTT_data.json"
    manifest.write_text(json.dumps(data))
    items = read_manifest(manifest, tmp_path / "media")
    assert items.format == "msrvtt-json" and not items.missing
    assert {i.id: i.captions for i in items} == {
        "video1": ("a cat sleeps", "a kitten naps on a sofa"),
        "video3": ("people dance",),
    }


def test_audiocaps_groups_captions_and_spans_full_source_videos(tmp_path):
    media = tmp_path / "media"
    _audios(media, "abc123", "Yxyz_-9")
    _audios(media, "full456", duration=12.0)  # a full source video, not the 10 s clip
    manifest = _csv(
        tmp_path / "test.csv",
        ["audiocap_id", "youtube_id", "start_time", "caption"],
        [
            [1, "abc123", 30, "a dog barks"],
            [2, "abc123", 30, "a dog barks twice near a road"],
            [3, "xyz_-9", 0, "rain falls on a roof"],
            [4, "full456", 1, "an engine idles"],
            [5, "gone000", 0, "birds sing"],
        ],
    )
    items = {i.id: i for i in read_manifest(manifest, media)}
    assert items["abc123"].captions == ("a dog barks", "a dog barks twice near a road")
    assert items["abc123"].span is None  # the file is the 10 s clip itself
    assert items["xyz_-9"].media.name == "Yxyz_-9.wav"
    assert items["full456"].span == Span(1.0, 11.0)
    assert read_manifest(manifest, media).missing == ("gone000",)


def test_clotho_five_captions_by_file_name(tmp_path):
    _audios(tmp_path / "evaluation", "Rain on a tin roof", "Footsteps")
    manifest = _csv(
        tmp_path / "clotho_captions_evaluation.csv",
        ["file_name", *(f"caption_{i}" for i in range(1, 6))],
        [
            ["Rain on a tin roof.wav", *(f"rain caption {i}" for i in range(1, 6))],
            ["Footsteps.wav", "steps", "walking", "", "shoes on gravel", "steps"],
            ["Missing.wav", "a", "b", "c", "d", "e"],
        ],
    )
    items = read_manifest(manifest, tmp_path / "evaluation")
    assert items.format == "clotho" and items.missing == ("Missing.wav",)
    assert len(items[0].captions) == 5
    assert items[1].captions == ("steps", "walking", "shoes on gravel")  # empty, repeat dropped


def test_vatex_ids_name_clips_or_spans_of_source_videos(tmp_path):
    # a clip file named by the whole videoID; a source video named by a youtube id with "_"
    _videos(tmp_path / "media", "Ptf_2VRj-V0_000122_000132", "a_b-c")
    data = [
        {"videoID": "Ptf_2VRj-V0_000122_000132", "enCap": ["a man plays guitar"]},
        {"videoID": "a_b-c_000004_000014", "enCap": ["a child rides a bike", "a kid cycles"]},
        {"videoID": "nothere_000001_000011", "enCap": ["x"]},
    ]
    manifest = tmp_path / "vatex_public_test.json"
    manifest.write_text(json.dumps(data))
    items = {i.id: i for i in read_manifest(manifest, tmp_path / "media")}
    clip, span = items["Ptf_2VRj-V0_000122_000132"], items["a_b-c_000004_000014"]
    assert clip.span is None
    assert span.media.name == "a_b-c.mp4" and span.span == Span(4.0, 14.0)
    assert read_manifest(manifest, tmp_path / "media").missing == ("nothere_000001_000011",)


def test_jsonl_with_optional_spans(tmp_path):
    _videos(tmp_path / "media" / "sub", "one")
    lines = [
        {"media": "sub/one.mp4", "captions": ["whole file"]},
        {"media": "sub/one.mp4", "captions": ["a part"], "start": 0.2, "end": 0.8},
        {"media": "sub/two.mp4", "captions": ["lost"], "id": "two"},
        {"media": "sub/one.mp4", "captions": ["from 0.5 on"], "start": 0.5},
    ]
    manifest = tmp_path / "eval.jsonl"
    manifest.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    items = read_manifest(manifest, tmp_path / "media")
    assert [i.id for i in items] == ["sub/one.mp4", "sub/one.mp4#0.2-0.8", "sub/one.mp4#0.5-None"]
    assert items[1].span == Span(0.2, 0.8) and items.missing == ("two",)
    assert items[1].matches(Span(0.5, 3.0)) and not items[1].matches(Span(0.8, 3.0))
    assert items[0].matches(Span(100.0, 110.0))
    assert items[2].matches(Span(100.0, 110.0)) and not items[2].matches(Span(0.0, 0.5))


def test_format_detection_and_its_errors(tmp_path):
    header = {
        "a.csv": ["key", "vid_key", "video_id", "sentence"],
        "b.csv": ["audiocap_id", "youtube_id", "start_time", "caption"],
        "c.csv": ["file_name", "caption_1", "caption_2"],
    }
    for name, columns in header.items():
        _csv(tmp_path / name, columns, [])
    assert [detect_format(tmp_path / n) for n in header] == ["msrvtt", "audiocaps", "clotho"]
    (tmp_path / "d.json").write_text(json.dumps({"videos": [], "sentences": []}))
    (tmp_path / "e.json").write_text(json.dumps([{"videoID": "x", "enCap": []}]))
    (tmp_path / "f.jsonl").write_text("")
    assert detect_format(tmp_path / "d.json") == "msrvtt-json"
    assert detect_format(tmp_path / "e.json") == "vatex"
    assert detect_format(tmp_path / "f.jsonl") == "jsonl"
    _csv(tmp_path / "g.csv", ["name", "text"], [])
    with pytest.raises(ConfigError, match="columns name, text.*youtube_id"):
        detect_format(tmp_path / "g.csv")
    (tmp_path / "h.txt").write_text("")
    with pytest.raises(ConfigError, match="suffix"):
        detect_format(tmp_path / "h.txt")


def test_no_media_at_all_is_an_error_naming_an_id(tmp_path):
    (tmp_path / "media").mkdir()
    manifest = _csv(tmp_path / "m.csv", ["video_id", "sentence"], [["video9", "a boat"]])
    with pytest.raises(ConfigError, match="video9.*--media-root"):
        read_manifest(manifest, tmp_path / "media")
    with pytest.raises(ConfigError, match="unknown manifest format"):
        read_manifest(manifest, tmp_path / "media", format="kinetics")


# -- end to end ----------------------------------------------------------------------------------

WIDE = {**os.environ, "COLUMNS": "200"}

CAPTIONS = {
    "council": ("the city council approved the library budget", "councillors vote on a budget"),
    "harbour": ("ferry crossings cancelled because of strong winds",),
    "podcast": ("a programme about vaccinating young children",),
    "mountain": ("heavy snow closed roads in the highlands",),
}


@pytest.fixture(scope="module")
def evaluation(indexed, corpus):
    library, _ = indexed
    items = [EvalItem(name, corpus[name].path, CAPTIONS[name]) for name in CAPTIONS]
    calls = []
    results = evaluate(library, items, DIRECTIONS, progress=lambda *a: calls.append(a))
    return results, calls


def test_evaluate_finds_each_clip_by_its_description(evaluation):
    results, _ = evaluation
    assert list(results) == list(DIRECTIONS)
    assert results["t2v"]["R@1"] == 100.0
    assert results["t2v"]["queries"] == 4 and results["t2v"]["targets"] == 3  # podcast: no video
    assert results["t2a"]["queries"] == 5 and results["t2a"]["targets"] == 4
    assert results["v2t"]["queries"] == 3 and results["v2t"]["targets"] == 4


PERFECT = {"R@1": 100.0, "R@5": 100.0, "R@10": 100.0, "MedR": 1.0, "MeanR": 1.0, "mAP": 100.0}


def test_evaluate_numbers_are_those_of_a_perfect_ranking(evaluation):
    # Each description fits its own clip only, so every direction ranks every target first;
    # (queries, targets) counted by hand: council has two captions, podcast has no video.
    counts = {
        "t2v": (4, 3),
        "v2t": (3, 4),
        "t2a": (5, 4),
        "a2t": (4, 5),
        "a2v": (3, 3),
        "v2a": (3, 4),
    }
    results, calls = evaluation
    for direction, (queries, targets) in counts.items():  # offline: sound runs on speech
        same_clip = {"unanswered": 0} if direction in ("a2v", "v2a") else {}
        expected = {**PERFECT, "queries": queries, "targets": targets, **same_clip}
        assert results[direction] == expected, direction
    finished = {(label, total) for label, done, total in calls if done == total}
    assert finished == {("t2v", 4), ("t2a", 5), ("a2v", 3), ("v2a", 3)}
    assert all(1 <= done <= total for _d, done, total in calls)


def test_evaluate_agrees_with_ranks_counted_by_hand(indexed, corpus):
    # Captions swapped between council and harbour: their own clips no longer come first.
    library, _ = indexed
    captions = {
        "council": CAPTIONS["harbour"],
        "harbour": CAPTIONS["council"][:1],
        "mountain": CAPTIONS["mountain"],
    }
    items = [EvalItem(name, corpus[name].path, captions[name]) for name in captions]
    clips = library.stats()["clips"]
    ranks = []
    for item in items:
        (caption,) = item.captions
        best: dict[str, float] = {}
        for hit in library.search(text=caption, k=clips):
            best[hit.path] = max(best.get(hit.path, -math.inf), hit.score)
        score = {other.id: best.get(str(other.media), -math.inf) for other in items}
        # ties and unscored clips rank pessimistically: the own clip after every equal score
        ranks.append(1 + sum(score[o.id] >= score[item.id] for o in items if o is not item))
    assert ranks[0] > 1 and ranks[1] > 1 and ranks[2] == 1
    t2v = evaluate(library, items, "t2v")["t2v"]
    assert t2v == {
        "R@1": pytest.approx(100 / 3),
        "R@5": 100.0,
        "R@10": 100.0,
        "MedR": float(sorted(ranks)[1]),
        "MeanR": pytest.approx(sum(ranks) / 3),
        "mAP": pytest.approx(100 * sum(1 / r for r in ranks) / 3),  # one target: AP = 1/rank
        "queries": 3,
        "targets": 3,
    }


def test_directions_the_items_cannot_serve_are_skipped(indexed, corpus):
    library, _ = indexed
    podcast = [EvalItem("podcast", corpus["podcast"].path, CAPTIONS["podcast"])]
    results = evaluate(library, podcast, "t2v,v2t,a2v")
    assert results == {
        "t2v": {"skipped": "no item has a video stream"},
        "v2t": {"skipped": "no item has a video stream"},
        "a2v": {"skipped": "no item has both an audio track and a video stream"},
    }


def test_run_eval_reads_a_manifest_and_reuses_the_index(indexed, corpus, corpus_dir, tmp_path):
    library, _ = indexed
    manifest = tmp_path / "corpus.jsonl"
    lines = [
        {"media": str(corpus[name].path.relative_to(corpus_dir)), "captions": list(captions)}
        for name, captions in CAPTIONS.items()
    ]
    lines.append({"media": "gone.mp4", "captions": ["never indexed"]})
    manifest.write_text("\n".join(json.dumps(line) for line in lines))
    report = library.evaluate(manifest, corpus_dir, directions="t2v,v2t")
    data = json.loads(json.dumps(report.to_dict()))
    assert (data["format"], data["items"], data["missing"]) == ("jsonl", 4, ["gone.mp4"])
    assert data["profile"] == "offline" and not data["failures"]
    assert list(data["results"]) == ["t2v", "v2t"]
    assert data["results"]["t2v"]["R@1"] == 100.0


def test_evaluation_ranks_every_clip_past_the_profiles_candidates(indexed):
    """A search proposes ``search.candidates`` clips per space; an evaluation must rank every
    clip, so it asks for all of them, and the library's profile is left as it is."""
    library, _ = indexed
    clips = library.stats()["clips"]
    profile = library.profile
    few = library.search(text="ferry", k=clips, candidates=1)
    every = library.search(text="ferry", k=clips, candidates=clips)
    ranked_few = {i for hit in few for i in hit.clip_ids}
    ranked_every = {i for hit in every for i in hit.clip_ids}
    assert ranked_few and ranked_few < ranked_every
    assert library.profile is profile

def test_mmr_eval_prints_the_table_and_json(indexed, corpus, corpus_dir, tmp_path):
    library, _ = indexed
    manifest = tmp_path / "corpus.jsonl"
    manifest.write_text(
        "\n".join(
            json.dumps({"media": str(corpus[n].path), "captions": list(c)})
            for n, c in CAPTIONS.items()
        )
    )
    command = [
        sys.executable,
        "-m",
        "mmretrieval.cli",
        "eval",
        "--manifest",
        str(manifest),
        "--media-root",
        str(corpus_dir),
        "--index",
        str(library.index_dir),
        "--directions",
        "t2v,t2a",
    ]
    table = subprocess.run(command, capture_output=True, text=True, check=True, env=WIDE)
    assert "t2v" in table.stdout and "R@1" in table.stdout
    result = subprocess.run(command + ["--json"], capture_output=True, text=True, check=True)
    data = json.loads(result.stdout)
    assert data["results"]["t2v"]["R@1"] == 100.0 and set(data["results"]) == {"t2v", "t2a"}
    bad = subprocess.run(command[:-1] + ["t2x"], capture_output=True, text=True)
    assert bad.returncode == 2 and "t2x" in bad.stderr
