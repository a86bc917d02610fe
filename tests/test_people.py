"""Finding a person by voice and by face: the people profile's real GE2E speaker encoder and
dlib face models on generated media (espeak-ng voices, a public-domain NASA photograph; made
by people_media.py, fixtures ``voices`` and ``faces`` in conftest.py)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from people_media import SAID_BY_BOTH, VOICE_A, VOICE_B, astronaut, people_profile
from PIL import Image

from mmretrieval import channels
from mmretrieval.adapters.base import AdapterSet
from mmretrieval.adapters.face import Face
from mmretrieval.analyze import MediaAnalyzer
from mmretrieval.config import FaceConfig, bundled_profiles, load_profile
from mmretrieval.errors import ConfigError, MMRError
from mmretrieval.library import Library
from mmretrieval.media.decode import iter_frames
from mmretrieval.media.probe import probe
from mmretrieval.people.clusters import agglomerate, leader
from mmretrieval.people.faces import FaceTracker, search_frames
from mmretrieval.query import Query, parse_box
from mmretrieval.store.catalog import SCHEMA_VERSION, Catalog, ClipText, IndexedFile
from mmretrieval.testing.synth import Scene, make_audio


def test_only_the_people_profile_computes_biometric_vectors():
    for name in bundled_profiles():
        adapters = load_profile(name).adapters
        biometric = adapters.voice is not None or adapters.face is not None
        assert biometric == (name == "people"), name
    adapters = load_profile("people").adapters
    assert adapters.voice is not None and adapters.face is not None


def test_clusters_group_by_direction():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 32))
    vectors = np.concatenate([c + 0.05 * rng.normal(size=(4, 32)) for c in centres])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    expected = np.repeat([0, 1, 2], 4)
    assert agglomerate(vectors, 0.8).tolist() == expected.tolist()
    assert leader(vectors, 0.8).tolist() == expected.tolist()
    assert agglomerate(vectors[:1], 0.8).tolist() == [0]


def test_query_validation():
    assert parse_box("10,20,80,90") == (10, 20, 80, 90)
    for bad in ("10,20,80", "a,b,c,d", "10,20,0,5"):
        with pytest.raises(ConfigError, match="face box"):
            parse_box(bad)
    with pytest.raises(ConfigError, match="exactly one"):
        Query(text="x", voice=Path("a.wav"))
    with pytest.raises(ConfigError, match="--face"):
        Query(text="x", face_box=(0, 0, 10, 10))


@pytest.mark.slow
def test_voice_search_finds_who_speaks_not_what_is_said(voices, tmp_path):
    with Library(tmp_path / "index", profile=people_profile()) as library:
        report = library.add([voices / "media"])
        assert report.count("indexed") == 2
        assert set(library.catalog.channels()) >= {channels.VOICE, channels.SPEECH}
        query = voices / "other_words_by_a.wav"
        by_a = library.search(voice=query, k=5)
        by_b = library.search(voice=voices / "same_words_by_b.wav", k=5)
        # the text search for A's words finds A's file, the voice search for them B's
        said = library.search(SAID_BY_BOTH, k=1)
    assert Path(by_a[0].path).name == "a.wav"
    assert Path(by_b[0].path).name == "b.wav"  # same words as a.wav, other voice
    assert Path(said[0].path).name == "a.wav"
    for hits in (by_a, by_b):
        assert set(hits[0].evidence) == {channels.VOICE}
        assert hits[0].evidence[channels.VOICE] > 0.85
        assert hits[0].score > hits[1].score + 0.15  # the other voice is far behind
    assert by_a[0].speaker and by_b[0].speaker and by_a[0].speaker != by_b[0].speaker
    assert by_a[0].speaker == said[0].speaker  # every hit says who speaks in it
    assert by_a[0].to_dict()["speaker"].startswith("voice:")

    # as a user runs it: the hits as JSON, and the archive's voices
    found = json.loads(_mmr("search", "--index", tmp_path / "index", "--voice", query, "--json"))
    assert [Path(h["path"]).name for h in found][:1] == ["a.wav"]
    assert found[0]["speaker"] == by_a[0].speaker and "voice" in found[0]["evidence"]
    persons = json.loads(_mmr("people", "--index", tmp_path / "index", "--json"))
    assert sorted(p["label"] for p in persons) == sorted({by_a[0].speaker, by_b[0].speaker})
    assert all(p["clips"] == 1 and p["seconds"] > 5 for p in persons)
    assert {Path(p["sample_path"]).name for p in persons} == {"a.wav", "b.wav"}


@pytest.mark.slow
def test_a_named_voice_is_found_by_name_keeps_it_and_can_be_forgotten(voices, tmp_path):
    index = tmp_path / "index"
    with Library(index, profile=people_profile()) as library:
        library.add([voices / "media"])
        speaker_a = library.search(voice=voices / "other_words_by_a.wav", k=1)[0].speaker
    _mmr("people", "name", speaker_a, "Ada Lovelace", "--index", index)
    again = tmp_path / "more"  # a new file of A's: new clip ids, the name still applies
    again.mkdir()
    shutil.copy(voices / "media" / "a.wav", again / "a_again.wav")
    with Library(index) as library:
        library.add([again])
        by_name = library.search(person="Ada Lovelace", k=5)
        assert {Path(h.path).name for h in by_name[:2]} == {"a.wav", "a_again.wav"}
        assert all(h.speaker == "Ada Lovelace" for h in by_name[:2])
        assert by_name[2].speaker != "Ada Lovelace"
        assert [p.label for p in library.people()][0] == "Ada Lovelace"

        assert library.forget_person("Ada Lovelace") == 2
        voiced = library.search(voice=voices / "other_words_by_a.wav", k=5)
        assert {Path(h.path).name for h in voiced} == {"b.wav"}  # A's voice is gone for good
        assert len(library.catalog.channel_vectors(channels.VOICE)[0]) == 1
        assert library.catalog.person_names(channels.VOICE) == {}
        with pytest.raises(ConfigError, match="no one is named"):
            library.search(person="Ada Lovelace")
        said = library.search(SAID_BY_BOTH, k=1)  # the clips and their words stay
    assert Path(said[0].path).name in {"a.wav", "a_again.wav"} and said[0].speaker is None


def _mmr(*args) -> str:
    """Run ``mmr`` with this Python; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "mmretrieval.cli", *map(str, args)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_speaker_turns_follow_a_two_voice_conversation(tmp_path):
    lines = [
        ("Good evening and welcome to the programme.", VOICE_A),
        ("Thank you, it is a pleasure to be here tonight.", VOICE_B),
        ("Tell us what the council decided this morning.", VOICE_A),
        ("They voted to rebuild the old bridge by the river.", VOICE_B),
    ]
    path = tmp_path / "talk.wav"
    spans = make_audio(path, [Scene(text, voice=voice) for text, voice in lines])
    profile = people_profile()
    analyzer = MediaAnalyzer(profile, AdapterSet(profile))
    turns = analyzer.speaker_turns(path, probe(path), spans)
    assert len(turns) == 4
    assert [t.speaker for t in turns] == [0, 1, 0, 1]
    assert analyzer.timer.seconds["voice"] > 0


@pytest.mark.slow
def test_a_voice_query_needs_the_people_profile(voices, tmp_path):
    with Library(tmp_path / "index", profile="offline") as library:
        library.add([voices / "media"])
        with pytest.raises(ConfigError, match="people profile"):
            library.search(voice=voices / "other_words_by_a.wav")
        hits = library.search("weather", k=1)
    assert hits[0].speaker is None and channels.VOICE not in library.catalog.channels()


@pytest.mark.slow
def test_face_search_finds_when_the_person_is_on_screen(faces, tmp_path):
    profile = people_profile()
    with Library(tmp_path / "index", profile=profile) as library:
        library.add([faces / "media"])
        hits = library.search(face=faces / "portrait.png", k=3)
        boxed = library.search(face=faces / "portrait.png", face_box=(170, 70, 100, 100), k=1)
        with pytest.raises(MMRError, match="no face found"):
            library.search(face=faces / "no_face.png")
    best = hits[0]
    assert Path(best.path).name == "news.mp4"
    assert best.evidence[channels.FACE] > 0.9  # the photo and the composited footage agree
    assert best.start < 14.0 and best.end > 6.0  # the clip shows the astronaut's shot
    assert best.on_screen == "face:1"
    assert 6.0 <= best.frame_time < 14.0  # the moment she is on screen
    assert all(Path(h.path).name != "empty.mp4" for h in hits)  # no face: no face vector
    assert boxed[0].clip_id == best.clip_id


def test_face_tracks_follow_one_face_and_pick_its_sharpest_frame(faces):
    profile = people_profile()
    analyzer = MediaAnalyzer(profile, AdapterSet(profile))
    path = faces / "media" / "news.mp4"
    tracks = analyzer.face_tracks(path, probe(path))
    assert len(tracks) == 1
    track = tracks[0]
    assert 5.5 <= track.start and track.end <= 15.0 and len(track.sightings) >= 3
    assert 6.0 <= track.best_time() < 14.0
    assert analyzer.timer.seconds["faces"] > 0
    # knowing the shots (as ingest does), the face is linked by its box: the same track
    shots = analyzer.shots(path, probe(path))
    (known,) = analyzer.face_tracks(path, probe(path), shots=shots)
    assert [t for t, _ in known.sightings] == [t for t, _ in track.sightings]
    assert float(known.vector @ track.vector) > 0.999


def test_a_face_searched_for_near_its_last_box_is_found_as_on_the_whole_frame(faces):
    profile = people_profile()
    encoder = AdapterSet(profile).get("face")
    config = profile.adapters.face
    path = faces / "media" / "news.mp4"
    frame = next(f for t, f in iter_frames(path, 1.0, 9.0, 10.0, max_side=config.max_side))
    (whole,) = encoder.faces(frame)
    (near,) = encoder.faces(frame, near=[whole])
    assert max(abs(a - b) for a, b in zip(whole.box, near.box, strict=True)) <= 4
    assert float(whole.vector @ near.vector) > 0.99
    shifted = Face((whole.box[0] + 300, *whole.box[1:]), 1.0, 1.0, whole.describe)
    assert encoder.faces(frame, near=[shifted]) == []  # only the region near the box is searched
    (coarse,) = encoder.faces(frame, coarse=True)  # a ~90 px face: found without upsampling too
    assert max(abs(a - b) for a, b in zip(whole.box, coarse.box, strict=True)) <= 12
    assert float(whole.vector @ coarse.vector) > 0.99
    small = np.zeros_like(frame)  # the astronaut's face at 40 px: only the full search sees it
    small[20:152, 100:232] = np.asarray(Image.fromarray(astronaut()).resize((132, 132)))
    assert len(encoder.faces(small)) == 1 and encoder.faces(small, coarse=True) == []
    assert len(encoder.faces(small, near=encoder.faces(small), coarse=True)) == 1


def test_frames_are_searched_sparsely_until_a_face_is_in_sight():
    vector = np.ones(128, dtype=np.float32) / np.sqrt(128)
    frames = [(2.0 * n, np.full((4, 4, 3), 255 if 5 <= n <= 8 else 0, np.uint8)) for n in range(10)]
    searched = []

    def detect(frame, near, coarse):
        searched.append((frame, near))
        return [Face((0, 0, 40, 40), 1.0, 10.0, lambda: vector)] if frame.any() else []

    found = list(search_frames(frames, detect, FaceConfig(every=2, small_every=2)))
    times = [t for t, _ in found]
    assert times == sorted(times) == [0.0, 4.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0]
    assert [t for t, faces in found if faces] == [10.0, 12.0, 14.0, 16.0]  # from its first frame
    assert len(searched) == 8
    # only every 2nd frame is searched whole; those between only near the faces in sight
    assert sum(not near for _, near in searched) == 5
    assert all(face.box == (0, 0, 40, 40) for _, near in searched for face in near)
    searched.clear()
    every_frame = FaceConfig(every=1, small_every=1)
    assert [t for t, _ in search_frames(frames[:5], detect, every_frame)] == [0, 2, 4, 6, 8]
    without = [(t, np.zeros((4, 4, 3), np.uint8)) for t, _ in frames]
    found = search_frames(without, detect, FaceConfig(every=2, small_every=2))
    assert len(list(found)) == 5  # half the frames searched


def test_a_small_face_is_found_on_a_full_search_and_followed_back_to_its_first_frame():
    vector = np.ones(128, dtype=np.float32) / np.sqrt(128)
    frames = [(2.0 * n, np.full((4, 4, 3), 255 if 5 <= n <= 8 else 0, np.uint8)) for n in range(10)]
    searched = []

    def detect(frame, near, coarse):  # the face is too small for a coarse search
        searched.append(("near" if near else "coarse" if coarse else "full", coarse))
        seen = frame.any() and (near or not coarse)
        return [Face((0, 0, 40, 40), 1.0, 10.0, lambda: vector)] if seen else []

    found = list(search_frames(frames, detect, FaceConfig(every=2, small_every=4)))
    times = [t for t, _ in found]
    assert times == sorted(times) == [0.0, 4.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0]
    assert [t for t, faces in found if faces] == [10.0, 12.0, 14.0, 16.0]  # from its first frame
    kinds = [kind for kind, _ in searched]
    assert kinds.count("full") == 3 and kinds.count("coarse") == 2  # frames 0, 4, 8 and 2, 6
    assert kinds.count("near") == 4  # frames 5-7 once the full search at 8 saw it, then 9
    assert not any(coarse for kind, coarse in searched if kind == "near")


def test_within_a_shot_the_search_for_small_faces_is_not_repeated_while_a_face_is_in_sight():
    vector = np.ones(128, dtype=np.float32) / np.sqrt(128)
    frames = [(2.0 * n, np.full((4, 4, 3), n + 1, np.uint8)) for n in range(20)]  # a face in each
    full = []

    def detect(frame, near, coarse):
        if not (near or coarse):
            full.append(int(frame[0, 0, 0]) - 1)
        return [Face((0, 0, 40, 40), 1.0, 10.0, lambda: vector)] if frame.any() else []

    config = FaceConfig(every=2, small_every=4, small_every_in_shot=16)
    assert len(list(search_frames(frames, detect, config))) == 20  # cuts not known: as before
    assert full == [0, 4, 8, 12, 16]
    full.clear()
    assert len(list(search_frames(frames, detect, config, cuts=[]))) == 20  # one shot
    assert full == [0, 16]
    full.clear()
    list(search_frames(frames, detect, config, cuts=[13.0]))  # a new shot from frame 7 (14 s)
    assert full == [0, 8]  # the new shot's first due full search
    full.clear()
    empty = [(t, np.zeros_like(frame)) for t, frame in frames]  # no face in sight: as before
    assert len(list(search_frames(empty, detect, config, cuts=[]))) == 10  # every 2nd frame
    assert len(full) == 5  # frames 0, 4, 8, 12, 16


def test_a_face_that_stays_in_place_within_a_shot_is_tracked_without_descriptors():
    rng = np.random.default_rng(0)
    people = rng.normal(size=(2, 128)).astype(np.float32)
    described = []

    def face(who: int, n: int, x: int = 100) -> Face:
        def describe() -> np.ndarray:
            described.append((who, n))
            return people[who]

        return Face((x + n, 50, 80, 80), 1.0, float(n % 3), describe)

    # person 0 at frames 0-5, then a cut at 11 s and person 1 in the same place at frames 6-9
    frames = [(2.0 * n, [face(0 if n < 6 else 1, n)]) for n in range(10)]
    config = FaceConfig(sharpest=2)
    tracks = track_faces(frames, config, cuts=[11.0])
    assert [len(t.sightings) for t in tracks] == [6, 4]
    assert float(tracks[0].vector @ people[0]) > 0.999 > float(tracks[1].vector @ people[0])
    # boxes link each shot's faces; the cut is crossed by descriptors (frames 5 and 6), and each
    # track's descriptor is its 2 sharpest sightings' (frames 2 and 5; 8 and 7)
    assert sorted(described) == [(0, 2), (0, 5), (1, 6), (1, 7), (1, 8)]
    described.clear()
    frames = [(2.0 * n, [face(0 if n < 6 else 1, n)]) for n in range(10)]
    assert [len(t.sightings) for t in track_faces(frames, config)] == [6, 4]  # cuts not known
    assert len(described) == 10  # every sighting's descriptor links it


def track_faces(frames, config: FaceConfig, cuts=None) -> list:
    tracker = FaceTracker(config, cuts)
    for time, faces in frames:
        tracker.add(time, faces)
    return tracker.finish()


def has_chip(face: Face) -> bool:
    try:
        return face.vector is not None
    except RuntimeError:  # released
        return False


def test_a_long_track_keeps_the_chips_of_its_last_and_sharpest_sightings_only():
    vector = np.full(128, 1 / np.sqrt(128), dtype=np.float32)
    sharpness = [3, 1, 7, 2, 5, 9, 4, 6, 0, 8, 1, 2]
    frames = [
        (2.0 * n, [Face((100, 50, 80, 80), 1.0, float(s), lambda: vector)])
        for n, s in enumerate(sharpness)
    ]
    tracker = FaceTracker(FaceConfig(sharpest=3), cuts=[])
    for n, (time, faces) in enumerate(frames):
        tracker.add(time, faces)
        (track,) = tracker.tracks
        holding = [m for m, (_, face) in enumerate(track.sightings) if has_chip(face)]
        # the 3 sharpest so far (ties: the earlier) and the latest
        sharpest = sorted(range(n + 1), key=lambda m: (-sharpness[m], m))[:3]
        assert holding == sorted({*sharpest, n}), n
    (track,) = tracker.finish()
    assert len(track.sightings) == len(sharpness)
    assert float(track.vector @ vector) > 0.999


def test_schema_3_catalog_gains_the_faces_table_and_keeps_its_data(tmp_path):
    path = tmp_path / "catalog.sqlite"
    catalog = Catalog(path, create=True)
    face = np.full(128, 1 / np.sqrt(128), dtype=np.float32)
    record = IndexedFile(
        path="/archive/a.mp4",
        size=1,
        mtime_ns=1,
        hash="h",
        duration=10.0,
        has_video=True,
        has_audio=False,
        clips=[ClipText(0.0, 10.0, "", "")],
        texts=[],
        vectors={channels.FACE: ([0], face[None])},
        faces=[(0, 4.0, face)],
    )
    catalog.put_file(record)
    clip_id = catalog.file_clips(catalog.file("/archive/a.mp4").id)[0].id
    times, vectors = catalog.faces([clip_id])
    assert times.tolist() == [4.0] and np.allclose(vectors[0], face, atol=1e-3)
    catalog.close()
    with sqlite3.connect(path) as db:  # what schema 3 wrote: no faces table
        db.execute("DROP TABLE faces")
        db.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    upgraded = Catalog(path)
    assert upgraded.get_meta("schema_version") == str(SCHEMA_VERSION) == "4"
    assert upgraded.channel_vectors(channels.FACE)[0].tolist() == [clip_id]
    assert len(upgraded.faces([clip_id])[0]) == 0  # faces seen before the upgrade: re-index
    upgraded.put_file(record)  # a re-indexed file's faces replace the old rows
    new_clip = upgraded.file_clips(upgraded.file("/archive/a.mp4").id)[0].id
    assert upgraded.faces([new_clip])[0].tolist() == [4.0]
    assert len(upgraded.faces([clip_id])[0]) == 0
