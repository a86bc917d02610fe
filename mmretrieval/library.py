"""``Library``: one index directory, with the profile it was built with. The CLI calls only this."""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from mmretrieval import channels
from mmretrieval.adapters.base import AdapterSet
from mmretrieval.adapters.bridge import Bridge
from mmretrieval.config import Profile, load_profile
from mmretrieval.errors import ConfigError, IndexDirError
from mmretrieval.ingest import FileOutcome, Ingestor, IngestReport, Pipeline, collect_media
from mmretrieval.query import Query, QueryEncoder
from mmretrieval.search import EncodedQuery, Hit, Searcher
from mmretrieval.store.catalog import Catalog
from mmretrieval.store.vectors import FaissStore

log = logging.getLogger(__name__)

CATALOG_FILE = "catalog.sqlite"
VECTORS_DIR = "vectors"
LOCK_FILE = "write.lock"
DEFAULT_PROFILE = "offline"


class Library:
    """A searchable collection of media in ``index_dir``.

    ``profile`` (a bundled name, a YAML path or a ``Profile``) is needed only to create an
    index; an existing index remembers its own. Models load on first use.
    """

    def __init__(self, index_dir: str | Path, profile: str | Path | Profile | None = None):
        self.index_dir = Path(index_dir)
        self._requested_profile = profile
        self._catalog: Catalog | None = None
        self._store: FaissStore | None = None
        self._searcher: Searcher | None = None
        self.profile = self._resolve_profile(profile)
        self.adapters = AdapterSet(self.profile)
        self._pipeline = Pipeline(self.profile, self.adapters)

    # -- public API ---------------------------------------------------------------------------

    def add(
        self,
        paths: Iterable[str | Path],
        prune: bool = False,
        on_file: Callable[[FileOutcome], None] | None = None,
        files: Sequence[Path] | None = None,
    ) -> IngestReport:
        """Index new and changed media under ``paths`` (folders recurse); skip unchanged files.

        ``files`` may pass the result of ``collect_media(paths)`` when the caller already
        listed them (the CLI does, to size its progress bar).
        """
        files = list(files) if files is not None else collect_media(Path(p) for p in paths)
        for name in ("text", "speech", "ocr", "clip", "clap"):  # a missing model fails first,
            self.adapters.get(name)  # before an empty index is left behind
        self.adapters.bridge()
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with _write_lock(self.index_dir / LOCK_FILE):
            catalog = self._open_catalog(create=True)
            store = self._open_store(save_if_rebuilt=True)
            ingestor = Ingestor(catalog, store, self._pipeline)
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
    ) -> list[Hit]:
        """Best ``k`` time spans for one query: text, or an audio, image or video file
        ([start, end) of it), encoded into every space the profile's models reach."""
        files = (None if p is None else Path(p) for p in (audio, image, video))
        query = Query(text, *files, start=start, end=end)
        if k < 1:
            raise ConfigError(f"k must be at least 1, got {k}")
        searcher = self._get_searcher()  # a missing index fails before any model loads
        return searcher.search(self.encode_query(query), k=k, spaces=spaces, weights=weights)

    def encode_query(self, query: Query) -> EncodedQuery:
        return QueryEncoder(self._pipeline).encode(query)

    def fit_bridge(self, out: Path | None = None, mlp_epochs: int = 0) -> tuple[Bridge, Path]:
        """Fit and save the CLAP -> CLIP bridge for this profile's models."""
        return self.adapters.fit_bridge(out, mlp_epochs)

    def stats(self) -> dict:
        catalog = self._open_catalog()
        stats = catalog.stats()
        spaces: dict[str, list[str]] = {}
        for channel in sorted(stats["vectors"]):
            spaces.setdefault(channels.CHANNEL_SPACE.get(channel, channel), []).append(channel)
        return {
            "index": str(self.index_dir),
            "profile": self.profile.name,
            **stats,
            "spaces": spaces,
            "models": {
                name: getattr(section, "model", getattr(section, "engine", None))
                for name, section in self.profile.adapters
                if section is not None
            },
            "failures": [{"path": f.path, "error": f.error} for f in catalog.files("failed")],
        }

    def close(self) -> None:
        if self._catalog is not None:
            self._catalog.close()
        self._catalog = self._store = self._searcher = None

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------------

    def _resolve_profile(self, requested: str | Path | Profile | None) -> Profile:
        recorded = None
        if (self.index_dir / CATALOG_FILE).exists():
            stored = self._open_catalog().get_meta("profile")
            recorded = Profile.model_validate_json(stored) if stored else None
        if requested is None:
            return recorded or load_profile(DEFAULT_PROFILE)
        profile = requested if isinstance(requested, Profile) else load_profile(requested)
        if recorded is not None:
            _check_compatible(recorded, profile, self.index_dir)
        return profile

    def _open_catalog(self, create: bool = False) -> Catalog:
        if self._catalog is None:
            path = self.index_dir / CATALOG_FILE
            if not create and not path.exists():
                raise IndexDirError(
                    f"no index at {self.index_dir}: create one with `mmr index PATH --index "
                    f"{self.index_dir}`"
                )
            self._catalog = Catalog(path, create=create)
        if create and self._catalog.get_meta("profile") is None:
            self._catalog.set_meta("profile", self.profile.model_dump_json())
        return self._catalog

    def _open_store(self, save_if_rebuilt: bool = False) -> FaissStore:
        """The vector indexes, rebuilt from the catalog if they lag behind it (after a kill)."""
        if self._store is None:
            catalog = self._open_catalog()
            store = FaissStore(self.index_dir / VECTORS_DIR, self.profile.store.index)
            if store.generation != catalog.generation:
                log.info("vector indexes are behind the catalog: rebuilding them from it")
                for channel in set(store.channels()) - set(catalog.channels()):
                    store.drop(channel)
                for channel in catalog.channels():
                    store.rebuild(channel, *catalog.channel_vectors(channel))
                if save_if_rebuilt:
                    store.save(catalog.generation)
            self._store = store
        return self._store

    def _get_searcher(self) -> Searcher:
        if self._searcher is None:
            self._searcher = Searcher(self._open_catalog(), self._open_store(), self.profile.search)
        return self._searcher


def _check_compatible(recorded: Profile, requested: Profile, index_dir: Path) -> None:
    """Vectors from different models cannot share an index: refuse before mixing them."""
    for name in ("text", "clip", "clap"):
        old, new = getattr(recorded.adapters, name), getattr(requested.adapters, name)
        if old is not None and new is not None and old.model != new.model:
            raise IndexDirError(
                f"index {index_dir} was built with {name} model {old.model}, profile "
                f"{requested.name} uses {new.model}: use the same model or index into a new folder"
            )


@contextmanager
def _write_lock(path: Path) -> Iterator[None]:
    """An exclusive lock so two ingests never write one index at once."""
    with path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IndexDirError(
                f"another process is writing to the index {path.parent}: wait for it to finish"
            ) from exc
        yield
