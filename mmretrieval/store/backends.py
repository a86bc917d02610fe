"""Which vector store an index uses, keeping it in step with the catalog, and moving its vectors
from one store to another.

The profile's ``store`` section names the backend: ``faiss`` (index files under
``<index>/vectors``, the default) or ``milvus`` (collections in Milvus Lite at ``<index>/milvus.db``
unless ``store.uri`` names another file or a server). Either is a cache of the catalog, which holds
every vector, so a store is (re)built from the catalog whenever it lags or moves.
"""

from __future__ import annotations

import logging
import shutil
import time
import uuid
from pathlib import Path

from pydantic import ValidationError

from mmretrieval.config import Profile, StoreConfig
from mmretrieval.errors import ConfigError, IndexDirError
from mmretrieval.store.catalog import Catalog
from mmretrieval.store.faiss import FaissStore
from mmretrieval.store.lock import LOCK_FILE, write_lock
from mmretrieval.store.protocol import ExactVectors, VectorStore

log = logging.getLogger(__name__)

FAISS_DIR = "vectors"
MILVUS_FILE = "milvus.db"
INDEX_ID = "index_id"  # catalog meta: marks the Milvus collections this index owns


def open_store(
    config: StoreConfig,
    index_dir: Path,
    owner: str | None = None,
    exact: ExactVectors | None = None,
) -> VectorStore:
    """The store ``config`` names for the index in ``index_dir``; ``owner`` (the index's id)
    marks the Milvus collections it creates and refuses ones another index created; ``exact``
    (the catalog's ``vector_matrix``) lets FAISS re-score lossy (IVF-PQ) candidates exactly."""
    if config.backend == "faiss":
        return FaissStore.from_config(index_dir / FAISS_DIR, config, exact)
    try:
        from mmretrieval.store.milvus import MilvusStore  # pymilvus loads only when it is used
    except ImportError as exc:
        raise ConfigError(
            f"store backend milvus needs {exc.name}: pip install 'mmretrieval[milvus]'"
        ) from exc
    return MilvusStore(milvus_uri(config, index_dir), config.index, config.collection_prefix, owner)


def open_current(
    catalog: Catalog, config: StoreConfig, index_dir: Path, writer: bool = False
) -> VectorStore:
    """The store of the index in ``index_dir``, rebuilt from its catalog if it lags behind it
    (after a kill); ``writer``: the caller holds the write lock.

    FAISS is rebuilt in memory (and saved by a writer). Milvus lives on its server, so a
    rebuild there is a write: done under the write lock, or skipped while an ingest holds it,
    since Milvus then has every vector that ingest has added so far."""
    store = open_store(config, index_dir, catalog.get_meta(INDEX_ID), exact=catalog.vector_matrix)
    if store.generation != catalog.generation:
        if writer or config.backend == "faiss":
            _catch_up(catalog, store, save=writer)
        else:
            with write_lock(index_dir / LOCK_FILE, required=False) as held:
                if held:
                    _catch_up(catalog, store, save=True)
                else:
                    log.info("an ingest is writing the Milvus store: searched as it is")
    return store


def migration_target(
    index_dir: Path,
    old: StoreConfig,
    backend: str,
    uri: str | None,
    index: str,
    collection_prefix: str | None,
    source: str | None,
) -> StoreConfig:
    """The store an index now on ``old`` is to move to (arguments as ``Library.migrate``'s);
    refused when ``source`` is not where it is, the new store is invalid, or is ``old``."""
    if source is not None and source != old.backend:
        raise IndexDirError(f"index {index_dir} keeps its vectors in {old.backend}, not {source}")
    prefix = collection_prefix or old.collection_prefix
    try:
        new = StoreConfig(backend=backend, index=index, uri=uri, collection_prefix=prefix)
    except ValidationError as exc:
        problems = "; ".join(e["msg"] for e in exc.errors())
        raise ConfigError(f"cannot migrate to store {backend}: {problems}") from exc
    if new == old:
        raise ConfigError(f"index {index_dir} already uses that store: nothing to move")
    return new


def migrate(catalog: Catalog, index_dir: Path, old: StoreConfig, new: StoreConfig) -> dict:
    """Move the vectors of the index in ``index_dir`` from store ``old`` to ``new`` under the
    write lock. The new store is built from the catalog and recorded in the index's profile
    before the old one is deleted, so an interrupted migration leaves the index as it was.
    Returns a report: index, from, to, uri (Milvus), vectors per channel, seconds."""
    started = time.perf_counter()
    with write_lock(index_dir / LOCK_FILE):
        if catalog.get_meta(INDEX_ID) is None:  # an index made before Milvus support
            catalog.set_meta(INDEX_ID, uuid.uuid4().hex)
        owner = catalog.get_meta(INDEX_ID)
        store = open_store(new, index_dir, owner)
        rebuild_from(catalog, store, save=True)
        recorded = Profile.model_validate_json(catalog.get_meta("profile"))
        catalog.set_meta("profile", recorded.model_copy(update={"store": new}).model_dump_json())
        if not same_place(old, new, index_dir):
            discard(old, index_dir, owner)
    return {
        "index": str(index_dir),
        "from": old.backend,
        "to": new.backend,
        "uri": milvus_uri(new, index_dir) if new.backend == "milvus" else None,
        "vectors": catalog.stats()["vectors"],
        "seconds": time.perf_counter() - started,
    }


def milvus_uri(config: StoreConfig, index_dir: Path) -> str:
    """A server address as given; a Milvus Lite file relative to the index folder."""
    uri = config.uri or MILVUS_FILE
    if uri.endswith(".db"):
        return str(index_dir / uri)  # an absolute uri stays as it is
    return uri


def where(config: StoreConfig, index_dir: Path) -> str:
    """Where a store keeps the vectors, for people: ``faiss: <index>/vectors`` or
    ``milvus: <uri> (<prefix>_*)``."""
    if config.backend == "faiss":
        return f"faiss: {index_dir / FAISS_DIR}"
    return f"milvus: {milvus_uri(config, index_dir)} ({config.collection_prefix}_*)"


def same_place(a: StoreConfig, b: StoreConfig, index_dir: Path) -> bool:
    """Whether two store configs keep their vectors in one place (building one replaces the
    other's data there)."""
    if a.backend != b.backend:
        return False
    if a.backend == "faiss":
        return True
    where = (milvus_uri(a, index_dir), a.collection_prefix)
    return where == (milvus_uri(b, index_dir), b.collection_prefix)


def rebuild_from(catalog: Catalog, store: VectorStore, save: bool) -> None:
    """Make every channel of ``store`` hold exactly the catalog's vectors; ``save``: and record
    the catalog generation it now matches."""
    for channel in set(store.channels()) - set(catalog.channels()):
        store.drop(channel)
    for channel in catalog.channels():
        store.rebuild(channel, *catalog.channel_vectors(channel))
    if save:
        store.save(catalog.generation)


def _catch_up(catalog: Catalog, store: VectorStore, save: bool) -> None:
    log.info("vector indexes are behind the catalog: rebuilding them from it")
    rebuild_from(catalog, store, save)


def discard(config: StoreConfig, index_dir: Path, owner: str | None) -> None:
    """Delete a store's data, once another store holds the vectors: FAISS files, or this
    index's Milvus collections (and the Milvus Lite file when nothing else is left in it)."""
    if config.backend == "faiss":
        shutil.rmtree(index_dir / FAISS_DIR, ignore_errors=True)
        return
    from mmretrieval.store.milvus import MilvusStore

    uri = milvus_uri(config, index_dir)
    store = MilvusStore(uri, config.index, config.collection_prefix, owner)
    for channel in store.channels():
        store.drop(channel)
    empty = not store.client.list_collections()
    store.close()
    if uri.endswith(".db") and empty:
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(uri)  # the engine runs in this process
        shutil.rmtree(uri, ignore_errors=True)
    log.info("removed the %s store at %s", config.backend, uri)
