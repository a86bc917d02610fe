"""Languages in the index and across it: the USE multilingual encoder finds a translation, the
catalog keeps each clip's language (and upgrades schema 2), the language filter, the hit's
``language`` on every surface, hours per language, and umlaut spellings in keyword search.

Clip languages are written through ``Catalog.put_file`` as speech recognition records them, so
these tests need no speech model; the vectors are the real encoder's."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mmretrieval import ClipFilter, ConfigError, Library
from mmretrieval.adapters.base import create
from mmretrieval.config import AdaptersConfig, Profile, TextConfig
from mmretrieval.lexical import LexicalSearch, spelling_key
from mmretrieval.media.timeline import TimedText
from mmretrieval.models import status
from mmretrieval.store.catalog import SCHEMA_VERSION, Catalog, ClipText, IndexedFile

USE = "bundled:use-multilingual-v3"

# Six unrelated sentences, each in English and its translation into five languages.
PARALLEL = {
    "en": [
        "Floods have closed the motorway between the two cities.",
        "The election results will be announced tomorrow evening.",
        "The goalkeeper saved a penalty in the last minute of the match.",
        "Doctors warn that the flu season has started early this year.",
        "The night train to the capital was cancelled because of a strike.",
        "Farmers are worried about the long drought this summer.",
    ],
    "de": [
        "Hochwasser hat die Autobahn zwischen den beiden Städten gesperrt.",
        "Die Wahlergebnisse werden morgen Abend bekannt gegeben.",
        "Der Torwart hielt in der letzten Minute des Spiels einen Elfmeter.",
        "Ärzte warnen, dass die Grippesaison in diesem Jahr früh begonnen hat.",
        "Der Nachtzug in die Hauptstadt fiel wegen eines Streiks aus.",
        "Die Bauern machen sich Sorgen über die lange Dürre in diesem Sommer.",
    ],
    "fr": [
        "Les inondations ont fermé l'autoroute entre les deux villes.",
        "Les résultats des élections seront annoncés demain soir.",
        "Le gardien a arrêté un penalty à la dernière minute du match.",
        "Les médecins préviennent que la saison de la grippe a commencé tôt cette année.",
        "Le train de nuit vers la capitale a été annulé à cause d'une grève.",
        "Les agriculteurs s'inquiètent de la longue sécheresse de cet été.",
    ],
    "es": [
        "Las inundaciones han cerrado la autopista entre las dos ciudades.",
        "Los resultados de las elecciones se anunciarán mañana por la noche.",
        "El portero paró un penalti en el último minuto del partido.",
        "Los médicos advierten que la temporada de gripe ha empezado pronto este año.",
        "El tren nocturno a la capital fue cancelado por una huelga.",
        "Los agricultores están preocupados por la larga sequía de este verano.",
    ],
    "it": [
        "Le alluvioni hanno chiuso l'autostrada tra le due città.",
        "I risultati delle elezioni saranno annunciati domani sera.",
        "Il portiere ha parato un rigore all'ultimo minuto della partita.",
        "I medici avvertono che la stagione influenzale è iniziata presto quest'anno.",
        "Il treno notturno per la capitale è stato cancellato a causa di uno sciopero.",
        "Gli agricoltori sono preoccupati per la lunga siccità di quest'estate.",
    ],
    "nl": [
        "Overstromingen hebben de snelweg tussen de twee steden afgesloten.",
        "De verkiezingsuitslagen worden morgenavond bekendgemaakt.",
        "De keeper stopte een strafschop in de laatste minuut van de wedstrijd.",
        "Artsen waarschuwen dat het griepseizoen dit jaar vroeg is begonnen.",
        "De nachttrein naar de hoofdstad werd geschrapt vanwege een staking.",
        "Boeren maken zich zorgen over de lange droogte van deze zomer.",
    ],
}


@pytest.fixture(scope="module")
def encoder():
    return create("text", TextConfig(model=USE))


@pytest.mark.parametrize("language", ["de", "fr", "es", "it", "nl"])
def test_an_english_sentence_is_nearest_its_translation(encoder, language):
    english = encoder.embed_text(PARALLEL["en"])
    foreign = encoder.embed_text(PARALLEL[language])
    assert english.shape == foreign.shape == (6, 512) and english.dtype == np.float32
    assert np.allclose(np.linalg.norm(foreign, axis=1), 1.0, atol=1e-4)
    similarity = english @ foreign.T
    assert similarity.argmax(axis=1).tolist() == list(range(6)), np.round(similarity, 2)
    assert similarity.argmax(axis=0).tolist() == list(range(6))  # and the other way round


def test_use_is_a_bundled_apache_model(encoder):
    model = status("text", USE)
    assert model.present and model.licence == "Apache-2.0" and model.commercial_use
    assert (encoder.space, encoder.dim, encoder.model_id) == ("text", 512, USE)
    assert encoder.embed_text([]).shape == (0, 512)


# -- an index whose clips have languages --------------------------------------------------------

# file -> clips (start, end, language, speech); "mixed" switches from French to German
FILES = {
    "flood_de": [(0.0, 10.0, "de", PARALLEL["de"][0]), (8.0, 18.0, "de", PARALLEL["de"][4])],
    "vote_fr": [(0.0, 10.0, "fr", PARALLEL["fr"][1])],
    "mixed": [(0.0, 10.0, "fr", PARALLEL["fr"][2]), (8.0, 18.0, "de", PARALLEL["de"][3])],
    "drought_nl": [(0.0, 10.0, "nl", PARALLEL["nl"][5])],
    "old": [(0.0, 10.0, None, PARALLEL["en"][0])],  # indexed before languages were detected
}


def _record(name: str, clips: list, vectors: np.ndarray) -> IndexedFile:
    return IndexedFile(
        path=f"/archive/{name}.mp4",
        size=1,
        mtime_ns=1,
        hash=name,
        duration=18.0,
        has_video=False,
        has_audio=True,
        clips=[ClipText(s, e, text, "", language) for s, e, language, text in clips],
        texts=[TimedText(s, e, text, "speech", (), language) for s, e, language, text in clips],
        vectors={"speech": (list(range(len(clips))), vectors)},
    )


@pytest.fixture(scope="module")
def library(tmp_path_factory, encoder):
    profile = Profile(name="use-text", adapters=AdaptersConfig(text=TextConfig(model=USE)))
    index = tmp_path_factory.mktemp("multilingual") / "idx"
    lib = Library(index, profile=profile)
    lib.add([])  # an empty index that remembers the profile
    for name, clips in FILES.items():
        lib.catalog.put_file(_record(name, clips, encoder.embed_text([c[3] for c in clips])))
    lib.close()  # reopened, its vector store is rebuilt from the catalog
    yield lib
    lib.close()


def _languages(hits) -> dict[str, set]:
    found: dict[str, set] = {}
    for hit in hits:
        found.setdefault(Path(hit.path).stem, set()).add(hit.language)
    return found


def test_english_query_finds_german_speech(library):
    hits = library.search(text="floods closed the motorway", k=3, spaces=["text"])
    assert Path(hits[0].path).stem in ("flood_de", "old")
    german = library.search(
        text="floods closed the motorway", k=3, filter=ClipFilter(languages=["de"])
    )
    assert (Path(german[0].path).stem, german[0].language, german[0].start) == ("flood_de", "de", 0)


def test_language_filter_keeps_clips_of_those_languages(library):
    everything = library.search(text="news", k=20)
    assert {h.language for h in everything} == {"de", "fr", "nl", None}
    assert _languages(library.search(text="news", k=20, filter=ClipFilter(languages=["fr"]))) == {
        "vote_fr": {"fr"},
        "mixed": {"fr"},  # the French clip of a file that goes on in German
    }
    both = library.search(text="news", k=20, filter=ClipFilter(languages=("DE", "nl")))
    assert _languages(both) == {"flood_de": {"de"}, "mixed": {"de"}, "drought_nl": {"nl"}}
    assert library.search(text="news", filter=ClipFilter(languages=["pt"])) == []
    catalog = library.catalog
    mixed = {c.language: c.id for c in catalog.file_clips(catalog.file("/archive/mixed.mp4").id)}
    assert catalog.clip_ids(ClipFilter(languages=["de"], paths=["mixed.*"])).tolist() == [
        mixed["de"]
    ]
    # keyword search honours it too: "penalty" is said in the French clip only
    assert catalog.match('"penalty"', 10) == [mixed["fr"]]
    assert catalog.match('"penalty"', 10, clip_filter=ClipFilter(languages=["de"])) == []


def test_language_filter_refuses_what_is_not_a_language_code():
    with pytest.raises(ConfigError, match="not an ISO 639-1 code"):
        ClipFilter(languages=["german"])
    assert ClipFilter.from_options(languages=[" De ", "de"]).languages == ("de",)
    assert ClipFilter.from_options(languages=[]) is None


def test_hits_carry_their_language_in_json(library):
    hits = library.search(text="floods closed the motorway", k=10)
    by_name = {Path(h.path).stem: h.to_dict() for h in hits}
    assert by_name["flood_de"]["language"] == "de"
    assert "language" not in by_name["old"]  # unknown: left out, like other empty fields
    texts = library.catalog.texts(library.catalog.file("/archive/mixed.mp4").id, 0.0, 18.0)
    assert [t.language for t in texts] == ["fr", "de"]


def test_hours_per_language_count_overlapping_clips_once(library):
    stats = library.stats()
    # de: flood_de 0-18 (two clips sharing 2 s) + mixed 8-18; fr: 10 + 10; nl 10; None: none
    assert stats["languages"] == {
        "de": round(28 / 3600, 3),
        "fr": round(20 / 3600, 3),
        "nl": round(10 / 3600, 3),
    }


def _mmr(*args) -> subprocess.CompletedProcess:
    beside = Path(sys.executable).with_name("mmr")
    mmr = str(beside) if beside.exists() else shutil.which("mmr")
    return subprocess.run([mmr, *map(str, args)], capture_output=True, text=True, timeout=240)


def test_cli_lang_option(library):
    index = library.index_dir
    result = _mmr("search", "news", "--index", index, "--json", "--lang", "de", "--lang", "nl")
    assert result.returncode == 0, result.stderr
    assert {h["language"] for h in json.loads(result.stdout)} == {"de", "nl"}
    table = _mmr("search", "elections", "--index", index, "--lang", "fr")
    assert table.returncode == 0, table.stderr
    assert "lang" in table.stdout and "vote_fr" in table.stdout and "flood_de" not in table.stdout
    info = _mmr("info", "--index", index)
    assert info.returncode == 0 and "de: 0.008 h" in info.stdout
    bad = _mmr("search", "news", "--index", index, "--lang", "german")
    assert bad.returncode == 2 and "not an ISO 639-1 code" in bad.stderr


def test_http_lang_parameter(library):
    from fastapi.testclient import TestClient

    from mmretrieval.server.app import ServerSettings, create_app

    app = create_app(ServerSettings(index_dir=library.index_dir))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        response = client.get("/search", params={"q": "news", "k": 20, "lang": ["fr", "nl"]})
        assert response.status_code == 200, response.text
        assert {h["language"] for h in response.json()} == {"fr", "nl"}
        bad = client.get("/search", params={"q": "news", "lang": "french"})
        assert bad.status_code == 400 and "ISO 639-1" in bad.json()["detail"]


# -- catalog schema 2 -> 3 ------------------------------------------------------------------------


def test_schema_2_catalog_is_upgraded_keeping_its_data(tmp_path):
    path = tmp_path / "catalog.sqlite"
    catalog = Catalog(path, create=True)
    vectors = np.eye(2, 4, dtype=np.float32)
    clips = [(0.0, 10.0, None, "alte Worte"), (8.0, 18.0, None, "mehr")]
    catalog.put_file(_record("before", clips, vectors))
    catalog.close()
    with sqlite3.connect(path) as db:  # what schema 2 wrote: no language columns
        db.execute("ALTER TABLE clips DROP COLUMN language")
        db.execute("ALTER TABLE texts DROP COLUMN language")
        db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")

    upgraded = Catalog(path)
    assert upgraded.get_meta("schema_version") == str(SCHEMA_VERSION) == "4"  # 4: people's faces
    file_id = upgraded.file("/archive/before.mp4").id
    clips = upgraded.file_clips(file_id)
    assert [(c.speech, c.language) for c in clips] == [("alte Worte", None), ("mehr", None)]
    assert [t.text for t in upgraded.texts(file_id, 0.0, 18.0)] == ["alte Worte", "mehr"]
    ids, stored = upgraded.channel_vectors("speech")
    assert ids.tolist() == [c.id for c in clips] and np.array_equal(stored, vectors)
    assert upgraded.match('"alte worte"', 10) == [clips[0].id]
    assert len(upgraded.clip_ids(ClipFilter(languages=["de"]))) == 0  # unknown is not German
    upgraded.put_file(_record("after", [(0.0, 10.0, "de", "neue Worte")], vectors[:1]))
    assert len(upgraded.clip_ids(ClipFilter(languages=["de"]))) == 1
    upgraded.close()
    assert Catalog(path).get_meta("schema_version") == "4"  # reopens as is


# -- keyword search across umlaut spellings ------------------------------------------------------

SPELLINGS = {
    "umlaut": "Interview mit Frau Müller an der Straße",
    "spelled": "Interview with Mrs Mueller on the Strasse",
    "plain": "an interview with mrs muller",
    "danish": "Søren Kierkegaard Ærø",
    "danish spelled": "Soeren Kierkegaard Aeroe",
}


@pytest.fixture
def spelling_catalog(tmp_path) -> Catalog:
    catalog = Catalog(tmp_path / "catalog.sqlite", create=True)
    for number, (name, speech) in enumerate(SPELLINGS.items()):
        catalog.put_file(
            IndexedFile(
                path=f"/media/{name}.mp4", size=1, mtime_ns=number, hash=str(number),
                duration=10.0, has_video=False, has_audio=True,
                clips=[ClipText(0.0, 10.0, speech, "")], texts=[], vectors={},
            )
        )  # fmt: skip
    return catalog


def _found(catalog: Catalog, query: str) -> dict[str, float]:
    scores = LexicalSearch(catalog, 80.0).search(query, 100)
    rows = catalog.clips(scores)
    return {Path(rows[c].path).stem: round(s, 3) for c, s in scores.items()}


@pytest.mark.parametrize("query", ["Müller", "Mueller", "muller", "MÜLLER"])
def test_every_spelling_of_mueller_finds_all_three(spelling_catalog, query):
    assert _found(spelling_catalog, query) == {"umlaut": 1.0, "spelled": 1.0, "plain": 1.0}


@pytest.mark.parametrize("query", ["Straße", "strasse"])
def test_sharp_s_and_ss_are_one_word(spelling_catalog, query):
    assert _found(spelling_catalog, query) == {"umlaut": 1.0, "spelled": 1.0}


@pytest.mark.parametrize("query", ["Søren", "Soeren", "soren"])
def test_scandinavian_letters_and_their_spellings(spelling_catalog, query):
    assert _found(spelling_catalog, query) == {"danish": 1.0, "danish spelled": 1.0}


def test_spelling_keys():
    assert {spelling_key(w) for w in ("muller", "mueller")} == {"muller"}
    assert spelling_key("straße") == spelling_key("strasse") == "strasse"
    assert spelling_key("æble") == spelling_key("aeble") == "able"
    assert spelling_key("søren") == spelling_key("soeren") == "soren"


def test_short_words_keep_apart(spelling_catalog):
    """"to" and "toe" share a key; too short to be one word spelled two ways."""
    catalog = spelling_catalog
    catalog.put_file(
        IndexedFile(
            path="/media/toe.mp4", size=1, mtime_ns=9, hash="9", duration=10.0,
            has_video=False, has_audio=True, clips=[ClipText(0.0, 10.0, "a broken toe", "")],
            texts=[], vectors={},
        )
    )  # fmt: skip
    assert "toe" not in _found(catalog, "to")
