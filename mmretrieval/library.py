"""``Library``: one index directory, with the profile it was built with. The CLI calls only this."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from mmretrieval import channels, models
from mmretrieval.adapters.base import REGISTRY, AdapterSet
from mmretrieval.adapters.bridge import Bridge
from mmretrieval.analyze import MediaAnalyzer
from mmretrieval.config import Profile, load_profile
from mmretrieval.copies import Copy, CopyFinder
from mmretrieval.errors import ConfigError
from mmretrieval.evaluate.run import EvalReport, Progress, run_eval
from mmretrieval.filters import ClipFilter
from mmretrieval.ingest import (
    FileOutcome,
    Ingestor,
    IngestReport,
    InProcess,
    Runner,
)
from mmretrieval.media.files import collect_media
from mmretrieval.people.archive import Person
from mmretrieval.query import Query, QueryEncoder
from mmretrieval.ray_pool import RayPool
from mmretrieval.search import EncodedQuery, Hit, Searcher, UnencodedText
from mmretrieval.shotlist import Shot, shot_list
from mmretrieval.store import backends, folder
from mmretrieval.store.backends import INDEX_ID
from mmretrieval.store.catalog import Catalog
from mmretrieval.store.lock import LOCK_FILE, write_lock
from mmretrieval.store.postings import SavedPostings
from mmretrieval.store.protocol import VectorStore
from mmretrieval.workers import WorkerPool

if TYPE_CHECKING:
    from mmretrieval.archive import Archive

EXECUTORS = ("local", "ray")  # where ``add`` analyses files: worker processes here, or Ray


def make_query(
    text: str | None,
    audio: str | Path | None,
    image: str | Path | None,
    video: str | Path | None,
    start: float,
    end: float | None,
    voice: str | Path | None = None,
    face: str | Path | None = None,
    face_box: tuple[int, int, int, int] | None = None,
    person: str | None = None,
) -> Query:
    """The ``Query`` of ``Library.search``'s (and ``Archive.search``'s) arguments."""
    files = (None if p is None else Path(p) for p in (audio, image, video))
    biometric = {k: Path(v) for k, v in (("voice", voice), ("face", face)) if v is not None}
    return Query(text, *files, start=start, end=end, face_box=face_box, person=person, **biometric)


class Library:
    """A searchable collection of media in ``index_dir``.

    ``profile`` (a bundled name, a YAML path or a ``Profile``) is needed only to create an
    index; an existing index remembers its own. Models load on first use.
    """

    def __init__(self, index_dir: str | Path, profile: str | Path | Profile | None = None):
        self.index_dir = Path(index_dir)
        self._requested_profile = profile
        self._catalog: Catalog | None = None
        self._store: VectorStore | None = None
        self._searcher: Searcher | None = None
        self.profile = self._resolve_profile(profile)
        self.adapters = AdapterSet(self.profile)
        self._analyzer = MediaAnalyzer(self.profile, self.adapters)
        self._query_encoder: QueryEncoder | None = None

    # -- public API ---------------------------------------------------------------------------

    def add(
        self,
        paths: Iterable[str | Path],
        prune: bool = False,
        on_file: Callable[[FileOutcome], None] | None = None,
        files: Sequence[Path] | None = None,
        workers: int = 1,
        on_start: Callable[[int], None] | None = None,
        executor: str = "local",
        ray_address: str | None = None,
    ) -> IngestReport:
        """Index new and changed media under ``paths`` (folders recurse); skip unchanged files.

        ``on_start(total)`` hears how many media files were found before any model loads (to
        size a progress bar), ``on_file`` each file's outcome as it is done. ``files`` may
        pass an exact list of media files instead of ``paths``. With one worker this process
        analyses two files at once, on threads sharing the models (``ingest.InProcess``).
        ``workers`` > 1 processes files in that many worker processes, each loading the models
        once; this process stays the only writer, and the index comes out the same as with one
        worker. The workers are spawned, so a script calling this needs the
        ``if __name__ == "__main__":`` guard.
        ``executor="ray"`` runs ``workers`` Ray actors instead, on this machine's Ray or the
        cluster at ``ray_address`` (``auto``, ``ray://head:10001``; README, "Scaling out").
        """
        if workers < 1:
            raise ConfigError(f"workers must be at least 1, got {workers}")
        if executor not in EXECUTORS:
            raise ConfigError(f"executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
        if ray_address is not None and executor != "ray":
            raise ConfigError(f"a Ray address ({ray_address}) needs executor ray (--executor ray)")
        files = list(files) if files is not None else collect_media(Path(p) for p in paths)
        if on_start:
            on_start(len(files))
        with self._runner(min(workers, max(1, len(files))), executor, ray_address) as runner:
            self.index_dir.mkdir(parents=True, exist_ok=True)
            with write_lock(self.index_dir / LOCK_FILE):
                catalog = self._open_catalog(create=True)
                store = self._open_store(save_if_rebuilt=True)
                ingestor = Ingestor(catalog, store, runner)
                return ingestor.run(files, prune=prune, on_file=on_file)

    def search(
        self,
        text: str | None = None,
        audio: str | Path | None = None,
        image: str | Path | None = None,
        video: str | Path | None = None,
        start: float = 0.0,
        end: float | None = None,
        k: int = 10,
        spaces: Sequence[str] | None = None,
        weights: dict[str, float] | None = None,
        filter: ClipFilter | None = None,
        candidates: int | None = None,
        voice: str | Path | None = None,
        face: str | Path | None = None,
        face_box: tuple[int, int, int, int] | None = None,
        person: str | None = None,
    ) -> list[Hit]:
        """Best ``k`` time spans for one query: text, or an audio, image or video file
        ([start, end) of it), encoded into every space the profile's models reach; only of
        files that pass ``filter`` (path globs, dates, durations, tags) when given.
        ``candidates`` overrides how many clips each space proposes before fusion (the
        profile's ``search.candidates``); an evaluation raises it to rank every clip.
        ``voice`` (a recording) and ``face`` (a photo; ``face_box`` picks a face in it) find a
        person, with the people profile; ``person`` finds a named one by voice and face."""
        query = make_query(text, audio, image, video, start, end, voice, face, face_box, person)
        if k < 1:
            raise ConfigError(f"k must be at least 1, got {k}")
        searcher = self._get_searcher()  # a missing index fails before any model loads
        options = {
            "k": k, "spaces": spaces, "weights": weights, "clip_filter": filter,
            "candidates": candidates,
        }  # fmt: skip
        if query.text is not None:  # its keywords are looked up while the models encode it
            encode = functools.partial(self.encode_query, query)
            return searcher.search(UnencodedText(query.text.strip(), encode), **options)
        encoded = self._named(person) if person is not None else self.encode_query(query)
        return searcher.search(encoded, **options)

    def evaluate(
        self,
        manifest: str | Path,
        media_root: str | Path,
        directions: str | Iterable[str] | None = None,
        format: str = "auto",
        progress: Progress | None = None,
    ) -> EvalReport:
        """Retrieval quality on a dataset: read the manifest (``format``: msrvtt, audiocaps,
        clotho, vatex, jsonl or auto), index its media here (reusing what is indexed), and
        rank every clip for every query in ``directions`` (t2v, v2t, t2a, a2t, a2v, v2a)."""
        return run_eval(self, manifest, media_root, directions, format, progress)

    def prepare(self) -> None:
        """Open the index and load what a text query needs now (the models, the keyword
        postings), so the first search is quick."""
        self._get_searcher().lexical.refresh()
        self.encode_query(Query("warm up"))

    @property
    def catalog(self) -> Catalog:
        """The index's catalog (files, clips, transcripts), for read access."""
        return self._open_catalog()

    @property
    def store(self) -> VectorStore:
        """The index's vector store, caught up with the catalog, for read access."""
        return self._open_store()

    @staticmethod
    def open_many(index_dirs: Sequence[str | Path]) -> Archive:
        """Several index folders (shards) searched as one: an ``Archive``, whose ``search`` is
        this class's, with scores and ranks as one index over all of them would give."""
        from mmretrieval.archive import Archive  # it builds on Library

        return Archive(index_dirs)

    def encode_query(self, query: Query) -> EncodedQuery:
        if self._query_encoder is None:  # kept: it holds the visual labels' class vectors
            self._query_encoder = QueryEncoder(self._analyzer)
        return self._query_encoder.encode(query)

    def fit_bridge(self, out: Path | None = None, mlp_epochs: int = 0) -> tuple[Bridge, Path]:
        """Fit and save the CLAP -> CLIP bridge for this profile's models."""
        return self.adapters.fit_bridge(out, mlp_epochs)

    @staticmethod
    def fit_profile_bridge(
        profile: str | Path | Profile, out: Path | None = None, mlp_epochs: int = 0
    ) -> tuple[Bridge, Path]:
        """``fit_bridge`` for a profile's models without an index: a bridge belongs to a model
        pair (kept in the model cache), not to an index, so it can be fitted before any."""
        profile = profile if isinstance(profile, Profile) else load_profile(profile)
        return AdapterSet(profile).fit_bridge(out, mlp_epochs)

    def shot_list(self, paths: Sequence[str | Path]) -> list[Shot]:
        """The shots of indexed videos, in the order given, with what is said and shown in
        each (README, "Shot lists")."""
        catalog = self._open_catalog()
        return [shot for path in paths for shot in shot_list(catalog, Path(path).resolve())]

    def copies(
        self,
        video: str | Path | None = None,
        start: float = 0.0,
        end: float | None = None,
        min_seconds: float = 2.0,
    ) -> list[Copy]:
        """Where the footage of ``video`` [start, end) is reused in the archive, best first; with
        no video, every stretch two indexed files share (README, "Reused footage")."""
        encoder = self.adapters.get("visual")
        if encoder is None:
            raise ConfigError(
                "finding reused footage needs the visual channel: index with a profile that "
                "has a visual section (e.g. --profile offline)"
            )
        finder = CopyFinder(self._open_catalog(), encoder)
        if video is None:
            return finder.all_pairs(min_seconds)
        return finder.find(Path(video), start, end, min_seconds)

    def stats(self) -> dict:
        catalog = self._open_catalog()
        stats = catalog.stats()
        spaces: dict[str, list[str]] = {}
        for channel in sorted(stats["vectors"]):
            spaces.setdefault(channels.CHANNEL_SPACE.get(channel, channel), []).append(channel)
        return {
            "index": str(self.index_dir),
            "profile": self.profile.name,
            "store": backends.where(self.profile.store, self.index_dir),
            **stats,
            "spaces": spaces,
            "models": {
                name: getattr(section, "model", getattr(section, "engine", None))
                for name, section in self.profile.adapters
                if section is not None
            },
            "failures": [{"path": f.path, "error": f.error} for f in catalog.files("failed")],
        }

    def people(self) -> list[Person]:
        """The voices and faces of a people-profile index (biometric): each one's label
        (``voice:N``, ``face:N``), clips, seconds of footage and a sample clip."""
        return self._get_searcher().people.persons()

    def name_person(self, label: str, name: str) -> None:
        """Name a voice or face (``voice:3``): hits then say ``name``, ``search(person=name)``
        finds them, and the name stays with the voice or face when files are indexed again."""
        name = name.strip()
        if not name or ":" in name:
            raise ConfigError(f"a person's name is words without ':', got {name!r}")
        people = self._get_searcher().people
        channel, _, centre = people.members(label)
        with write_lock(self.index_dir / LOCK_FILE):
            self._open_catalog().name_person(channel, name, centre)
        people.refresh()

    def forget_person(self, label: str) -> int:
        """Delete a voice or face (``voice:3`` or its name) for good (right to erasure): its
        vectors in every clip, the clips' face tracks for a face, and its name; the clips, their
        text and other vectors stay. Returns how many clips held it."""
        channel, ids, _ = self._get_searcher().people.members(label)
        names = [label] if ":" not in label else []
        with write_lock(self.index_dir / LOCK_FILE):
            catalog = self._open_catalog()
            catalog.forget_person(channel, ids, names)
            store = self._open_store()
            left, vectors = catalog.channel_vectors(channel)
            if len(left):
                store.rebuild(channel, left, vectors)
            else:
                store.drop(channel)
            store.save(catalog.generation)
        self._get_searcher().people.refresh()
        return len(ids)

    def migrate(
        self,
        backend: str,
        uri: str | None = None,
        index: str = "auto",
        collection_prefix: str | None = None,
        source: str | None = None,
    ) -> dict:
        """Move the vectors to another store: ``backend`` ``faiss`` or ``milvus``, with ``uri``,
        ``index`` and ``collection_prefix`` as in a profile's ``store``. The new store is built
        from the catalog and recorded in the index's profile before the old one is deleted, so
        an interrupted migration leaves the index as it was. ``source``, when given, is the
        backend the caller expects the index to use now."""
        old = self.profile.store
        new = backends.migration_target(
            self.index_dir, old, backend, uri, index, collection_prefix, source
        )
        catalog = self._open_catalog()
        self._store = self._searcher = None
        report = backends.migrate(catalog, self.index_dir, old, new)
        self.profile = self.profile.model_copy(update={"store": new})
        return report

    def close(self) -> None:
        """Close the index (catalog, vector store); loaded models stay, so the Library can
        be used again and reopens the index as it is then."""
        if self._catalog is not None:
            self._catalog.close()
        if self._store is not None:
            self._store.close()
        self._catalog = self._store = self._searcher = None

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------------

    @contextmanager
    def _runner(self, workers: int, executor: str, ray_address: str | None) -> Iterator[Runner]:
        """Where ingest processes files; either way every model loads (and all missing ones are
        named at once) before an index directory is created."""
        models.require(self.profile)
        if workers == 1 and executor == "local":
            for name in REGISTRY:
                self.adapters.get(name)
            self.adapters.bridge()
            with InProcess(self.profile, self.adapters) as runner:
                yield runner
            return
        if self.profile.adapters.clip is not None and self.profile.adapters.clap is not None:
            self.adapters.bridge()  # fitted here once if missing, not by every worker at once
        if executor == "ray":
            with RayPool(self.profile, workers, ray_address) as pool:
                yield pool
            return
        with WorkerPool(self.profile, workers) as pool:
            yield pool

    def _resolve_profile(self, requested: str | Path | Profile | None) -> Profile:
        recorded = None
        if folder.has_index(self.index_dir):
            recorded = folder.recorded_profile(self._open_catalog())
        return folder.choose_profile(self.index_dir, recorded, requested)

    def _open_catalog(self, create: bool = False) -> Catalog:
        if self._catalog is None:
            self._catalog = folder.open_catalog(self.index_dir, create=create)
        if create and folder.recorded_profile(self._catalog) is None:
            self._catalog.set_meta(folder.PROFILE_KEY, self.profile.model_dump_json())
            self._catalog.set_meta(INDEX_ID, uuid.uuid4().hex)
        return self._catalog

    def _open_store(self, save_if_rebuilt: bool = False) -> VectorStore:
        """The vector store, rebuilt from the catalog if it lags behind it (after a kill);
        ``save_if_rebuilt``: the caller holds the write lock (``backends.open_current``)."""
        if self._store is None:
            self._store = backends.open_current(
                self._open_catalog(), self.profile.store, self.index_dir, writer=save_if_rebuilt
            )
        return self._store

    def _get_searcher(self) -> Searcher:
        if self._searcher is None:
            catalog = self._open_catalog()
            owner = catalog.get_meta(INDEX_ID)  # None: an index made before ids (not kept)
            saved = SavedPostings(self.index_dir / folder.POSTINGS_FILE, owner) if owner else None
            self._searcher = Searcher(
                catalog, self._open_store(), self.profile.search, self._same_person(), saved
            )
        return self._searcher

    def _named(self, person: str) -> EncodedQuery:
        """The query for a named person: the name's voice and face vectors."""
        catalog = self._open_catalog()
        vectors = {
            channels.CHANNEL_SPACE[channel]: named[person]
            for channel in (channels.VOICE, channels.FACE)
            if person in (named := catalog.person_names(channel))
        }
        if not vectors:
            raise ConfigError(
                f"no one is named {person!r} in this index: name a voice or face first "
                "(mmr people name voice:3 NAME)"
            )
        return EncodedQuery(vectors)

    def _same_person(self) -> dict[str, float]:
        """The people profile's thresholds: when two clips' voices or faces are one person."""
        voice, face = self.profile.adapters.voice, self.profile.adapters.face
        same = {channels.VOICE: voice.same_speaker} if voice else {}
        return same | ({channels.FACE: face.same_face} if face else {})
