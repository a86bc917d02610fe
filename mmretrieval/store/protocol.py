"""``VectorStore``: what ingest, search and the library need of a vector store, whichever it is.

A store holds one index per channel (e.g. ``speech`` and ``ocr`` in the ``text`` space), keyed by
catalog clip ids. It is derived data: the catalog holds every vector, so a store whose
``generation`` differs from the catalog's is rebuilt from it (``store.backends``).

``FaissStore`` (embedded, the default) and ``MilvusStore`` (a server, or Milvus Lite) subclass the
protocol: each must implement every abstract method (or cannot be instantiated) and shares the
one written here, ``rebuild``.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np

# (channel, ids) -> (the ids found, their exact vectors), e.g. read from the catalog
ExactVectors = Callable[[str, np.ndarray], tuple[np.ndarray, np.ndarray]]


@runtime_checkable
class VectorStore(Protocol):
    generation: int  # the catalog generation the store was saved at (-1: none, or stale)

    @abstractmethod
    def channels(self) -> list[str]:
        """The channels that hold an index, sorted."""

    @abstractmethod
    def count(self, channel: str) -> int:
        """How many vectors the channel holds (0 for an unknown one)."""

    @abstractmethod
    def describe(self, channel: str) -> str:
        """The channel's index type, for people (empty when there is none)."""

    @abstractmethod
    def add(self, channel: str, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under their clip ids; the index type follows the channel's size."""

    @abstractmethod
    def remove(self, ids: np.ndarray) -> None:
        """Remove these clip ids from every channel (unknown ones are ignored)."""

    @abstractmethod
    def search(
        self, channel: str, query: np.ndarray, k: int, ids: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """The ``k`` nearest clip ids by inner product, best first, only among ``ids`` when
        given."""

    @abstractmethod
    def vectors(self, channel: str, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The stored vectors of those ``ids`` that the channel holds: (found ids, matrix)."""

    @abstractmethod
    def drop(self, channel: str) -> None:
        """Delete the channel's index."""

    @abstractmethod
    def save(self, generation: int) -> None:
        """Make every change durable and record the catalog generation it matches."""

    @abstractmethod
    def close(self) -> None:
        """Release what the store holds open (a connection, a database file)."""

    def rebuild(self, channel: str, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Replace one channel's index with one built from scratch over ``vectors``, of the type
        their number calls for."""
        self.drop(channel)
        if len(ids):
            self.add(channel, ids, vectors)
