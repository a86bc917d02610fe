"""Which vector store an index uses, and moving its vectors from one store to another.

The profile's ``store`` section names the backend: ``faiss`` (index files under
``<index>/vectors``, the default) or ``milvus`` (collections in Milvus Lite at ``<index>/milvus.db``
unless ``store.uri`` names another file or a server). Either is a cache of the catalog, which holds
every vector, so a store is (re)built from the catalog whenever it lags or moves.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from mmretrieval.config import StoreConfig
from mmretrieval.errors import ConfigError
from mmretrieval.store.catalog import Catalog
from mmretrieval.store.vectors import ExactVectors, FaissStore, VectorStore

log = logging.getLogger(__name__)

FAISS_DIR = "vectors"
MILVUS_FILE = "milvus.db"


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


def rebuild_from(catalog: Catalog, store: VectorStore) -> None:
    """Make every channel of ``store`` hold exactly the catalog's vectors (not saved)."""
    for channel in set(store.channels()) - set(catalog.channels()):
        store.drop(channel)
    for channel in catalog.channels():
        store.rebuild(channel, *catalog.channel_vectors(channel))


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
