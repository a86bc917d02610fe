"""``Archive``: several index folders (shards) searched as one.

An archive too big for one machine is indexed in shards, each machine its own folder (or its own
collection prefix on one Milvus server). Searching them one by one and interleaving the lists
would rank wrongly: weighted fusion divides by the spaces the query reached anywhere, RRF
ranks within a space over every clip, and keyword scores weigh words by how rare they are in
the whole collection. So the shards are merged *before* fusion: ``ShardCatalog`` and
``ShardStore`` show the ordinary ``Searcher`` one catalog and one vector store. Each shard
answers its own top candidates per channel, the store keeps the best over all of them, the
lexical search counts words over every shard, and the ranking, scores and spans come out as one
index over the union would give them.

Ids: shard ``s`` of ``n`` has its clip (and file) ``i`` seen as ``i * n + s``; hits are given
back with their shard's own ids and its folder in ``Hit.index``.

Exactly as one index, given exact vector indexes (``auto`` up to 100k vectors per channel) and
shards whose matches for a quoted phrase fit in ``search.candidates`` each (words are ranked
over every shard's clips at once: ``store.postings``); beyond that each shard picks its phrase
matches by its own BM25, and an approximate index its own neighbours.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from mmretrieval import channels
from mmretrieval.copies import Copy, CopyFinder
from mmretrieval.errors import ConfigError, IndexDirError
from mmretrieval.filters import ClipFilter
from mmretrieval.library import Library, make_query
from mmretrieval.query import Query
from mmretrieval.search import Hit, Searcher
from mmretrieval.store.catalog import Catalog, ClipRow, TimedText
from mmretrieval.store.folder import has_index
from mmretrieval.store.protocol import VectorStore

log = logging.getLogger(__name__)

SUMMED_STATS = ("files", "failed", "clips", "hours")  # the stats an archive's summary adds up


class ShardIds:
    """Local ids of ``n`` shards interleaved into one id space: ``local * n + shard``."""

    def __init__(self, n: int):
        self.n = n

    def join(self, shard: int, ids: Iterable[int]) -> list[int]:
        return [int(i) * self.n + shard for i in ids]

    def split(self, ids: Iterable[int]) -> dict[int, list[int]]:
        """Shard -> its local ids, in the order given."""
        per_shard: dict[int, list[int]] = {}
        for i in ids:
            per_shard.setdefault(int(i) % self.n, []).append(int(i) // self.n)
        return per_shard

    def local(self, i: int) -> tuple[int, int]:
        """(shard, local id)."""
        return int(i) % self.n, int(i) // self.n


class ShardCatalog:
    """The catalogs of the shards, read as one by ``Searcher`` and ``LexicalSearch`` (only the
    reads they make): clips, texts, frames (CLIP, visual, faces), phrase matches and the clips'
    texts for keyword postings. Voices and faces are not labelled across shards (the
    ``Searcher`` is given no ``same_person``)."""

    def __init__(self, catalogs: Sequence[Catalog]):
        self.shards = list(catalogs)
        self.ids = ShardIds(len(self.shards))

    @property
    def generation(self) -> tuple[int, ...]:
        return tuple(c.generation for c in self.shards)

    def clips(self, ids: Iterable[int]) -> dict[int, ClipRow]:
        rows: dict[int, ClipRow] = {}
        for shard, local in self.ids.split(ids).items():
            for row in self.shards[shard].clips(local).values():
                clip_id, file_id = self.ids.join(shard, (row.id, row.file_id))
                rows[clip_id] = dataclasses.replace(row, id=clip_id, file_id=file_id)
        return rows

    def texts(self, file_id: int, start: float, end: float) -> list[TimedText]:
        shard, local = self.ids.local(file_id)
        return self.shards[shard].texts(local, start, end)

    def spans_texts(self, spans: Sequence[tuple[int, float, float]]) -> list[list[TimedText]]:
        """The texts during each span (file id, start, end): one statement per shard."""
        found: list[list[TimedText]] = [[] for _ in spans]
        per_shard: dict[int, list[tuple[int, tuple[int, float, float]]]] = {}
        for n, (file_id, start, end) in enumerate(spans):
            shard, local = self.ids.local(file_id)
            per_shard.setdefault(shard, []).append((n, (local, start, end)))
        for shard, numbered in per_shard.items():
            texts = self.shards[shard].spans_texts([span for _, span in numbered])
            for (n, _), span_texts in zip(numbered, texts, strict=True):
                found[n] = span_texts
        return found

    def frames(self, clip_ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """The CLIP frames of clips of one file (a hit's), hence of one shard."""
        catalog, local = self._one_shard(clip_ids)
        return catalog.frames(local)

    def visual_frames(self, clip_ids: Sequence[int]):
        """The visual channel's frames of clips of one file (a hit's)."""
        catalog, local = self._one_shard(clip_ids)
        return catalog.visual_frames(local)

    def faces(self, clip_ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """The face tracks of clips of one file (a hit's)."""
        catalog, local = self._one_shard(clip_ids)
        return catalog.faces(local)

    def _one_shard(self, clip_ids: Sequence[int]) -> tuple[Catalog, list[int]]:
        [(shard, local)] = self.ids.split(clip_ids).items()
        return self.shards[shard], local

    def match(
        self, expression: str, limit: int, clip_filter: ClipFilter | None = None
    ) -> list[int]:
        """Each shard's best ``limit`` matches by its own BM25 (all of them are rescored)."""
        return [
            i
            for shard, catalog in enumerate(self.shards)
            for i in self.ids.join(shard, catalog.match(expression, limit, clip_filter))
        ]

    def clip_ids(self, clip_filter: ClipFilter) -> np.ndarray:
        joined = [
            self.ids.join(shard, catalog.clip_ids(clip_filter))
            for shard, catalog in enumerate(self.shards)
        ]
        return np.sort(np.array([i for ids in joined for i in ids], dtype=np.int64))

    def all_clip_ids(self) -> np.ndarray:
        joined = [c.all_clip_ids() * self.ids.n + shard for shard, c in enumerate(self.shards)]
        return np.sort(np.concatenate(joined))

    def clip_texts(self, ids: np.ndarray | None = None) -> Iterator[tuple[int, str, str]]:
        per_shard = dict.fromkeys(range(len(self.shards))) if ids is None else self.ids.split(ids)
        for shard, local in per_shard.items():
            chosen = None if local is None else np.array(local, np.int64)
            for clip_id, speech, ocr in self.shards[shard].clip_texts(chosen):
                yield clip_id * self.ids.n + shard, speech, ocr


class ShardStore(VectorStore):
    """The shards' vector stores as one, for searching: a channel's best ``k`` are the best
    ``k`` of every shard's best ``k``. Written to only through each shard's ``Library``."""

    def __init__(self, stores: Sequence[VectorStore]):
        self.shards = list(stores)
        self.ids = ShardIds(len(self.shards))
        self.generation = -1  # never saved: each shard keeps its own

    def channels(self) -> list[str]:
        return sorted({c for store in self.shards for c in store.channels()})

    def count(self, channel: str) -> int:
        return sum(store.count(channel) for store in self.shards)

    def describe(self, channel: str) -> str:
        return ", ".join(store.describe(channel) for store in self.shards)

    def search(
        self, channel: str, query: np.ndarray, k: int, ids: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        allowed = None if ids is None else self.ids.split(ids)
        found = []
        for shard, store in enumerate(self.shards):
            local = None
            if allowed is not None:
                local = np.array(allowed.get(shard, []), dtype=np.int64)
                if len(local) == 0:
                    continue
            hits = store.search(channel, query, k, ids=local)
            joined = self.ids.join(shard, (i for i, _ in hits))
            found += zip(joined, (score for _, score in hits), strict=True)
        return sorted(found, key=lambda hit: hit[1], reverse=True)[:k]

    def vectors(self, channel: str, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        found, matrices = [], []
        for shard, local in self.ids.split(ids).items():
            ids_found, matrix = self.shards[shard].vectors(channel, np.array(local, np.int64))
            if len(ids_found):
                found += self.ids.join(shard, ids_found)
                matrices.append(matrix)
        if not found:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        return np.array(found, dtype=np.int64), np.concatenate(matrices)

    def add(self, channel: str, ids: np.ndarray, vectors: np.ndarray) -> None:
        raise IndexDirError("an archive of several indexes is read-only: add to one of them")

    def remove(self, ids: np.ndarray) -> None:
        raise IndexDirError("an archive of several indexes is read-only: remove from one of them")

    def drop(self, channel: str) -> None:
        raise IndexDirError("an archive of several indexes is read-only")

    def save(self, generation: int) -> None:
        raise IndexDirError("an archive of several indexes is read-only")

    def close(self) -> None:
        """The shards' stores belong to their libraries, which close them."""


class Archive:
    """Index folders searched as one (``Library.open_many``): ``search`` as ``Library.search``,
    over all of them. The folders must share the embedding models of every space (their
    vectors are compared with each other); the first folder's profile encodes the query and
    sets the search options (fusion, weights, candidates).

    ``indexes``: folders, ``@FILE`` entries (a shard list: ``expand_shard_lists``), or open
    ``Library`` objects (the server's, pinned to a snapshot; closing the archive closes them)."""

    def __init__(self, indexes: Sequence[str | Path | Library]):
        libraries = [i for i in indexes if isinstance(i, Library)]
        if libraries and len(libraries) < len(indexes):
            raise ConfigError("give an archive index folders or open libraries, not both")
        dirs = [lib.index_dir for lib in libraries] if libraries else expand_shard_lists(indexes)
        if not dirs:
            raise ConfigError("an archive needs at least one index folder")
        if len(set(d.resolve() for d in dirs)) < len(dirs):
            raise ConfigError("an index folder is given twice: each shard once")
        if not libraries:
            for folder in dirs:
                if not has_index(folder):
                    raise IndexDirError(
                        f"no index at {folder}: create one with `mmr index PATH --index {folder}`"
                    )
            libraries = [Library(d) for d in dirs]
        self.libraries = libraries
        lead = self.libraries[0]
        for library in self.libraries[1:]:
            _check_same_spaces(lead, library)
        self._searcher: Searcher | None = None

    @property
    def index_dirs(self) -> list[Path]:
        return [library.index_dir for library in self.libraries]

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
        """As ``Library.search``, over every shard; each hit names its shard's folder in
        ``index`` and carries that shard's clip and file ids. Names given to people belong to
        one index, so ``person`` is refused here."""
        if person is not None:
            raise ConfigError("a named person belongs to one index: search it with one --index")
        query = make_query(text, audio, image, video, start, end, voice, face, face_box)
        if k < 1:
            raise ConfigError(f"k must be at least 1, got {k}")
        searcher = self._get_searcher()  # a missing index fails before any model loads
        hits = searcher.search(
            self.libraries[0].encode_query(query),
            k=k,
            spaces=spaces,
            weights=weights,
            clip_filter=filter,
            candidates=candidates,
        )
        ids = ShardIds(len(self.libraries))
        for hit in hits:
            shard, hit.clip_id = ids.local(hit.clip_id)
            hit.file_id = ids.local(hit.file_id)[1]
            hit.clip_ids = [ids.local(i)[1] for i in hit.clip_ids]
            hit.index = str(self.libraries[shard].index_dir)
        return hits

    def copies(
        self,
        video: str | Path,
        start: float = 0.0,
        end: float | None = None,
        min_seconds: float = 2.0,
    ) -> list[tuple[str, Copy]]:
        """As ``Library.copies`` for a query video, in every shard: (shard folder, copy), best
        first. Each shard centres frames on its own mean, so scores from different shards
        compare only as closely as their footage is alike (a copy is found either way)."""
        encoder = self.libraries[0].adapters.get("visual")
        if encoder is None:
            raise ConfigError(
                "finding reused footage needs the visual channel: index with a profile that "
                "has a visual section (e.g. --profile offline)"
            )
        found = [
            (str(library.index_dir), copy)
            for library in self.libraries
            for copy in CopyFinder(library.catalog, encoder).find(
                Path(video), start, end, min_seconds
            )
        ]
        return sorted(found, key=lambda pair: pair[1].score, reverse=True)

    def stats(self) -> dict:
        """``Library.stats`` of every shard under ``indexes``, with the totals of files, clips
        and hours and the lead shard's profile."""
        shards = [library.stats() for library in self.libraries]
        totals = {key: round(sum(s[key] for s in shards), 3) for key in SUMMED_STATS}
        return {
            "index": [s["index"] for s in shards],
            "profile": shards[0]["profile"],
            **totals,
            "indexes": shards,
        }

    def prepare(self) -> None:
        """Open every shard and load what a text query needs now (the models, the keyword
        postings)."""
        self._get_searcher().lexical.refresh()
        self.libraries[0].encode_query(Query("warm up"))

    def close(self) -> None:
        for library in self.libraries:
            library.close()
        self._searcher = None

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _get_searcher(self) -> Searcher:
        if self._searcher is None:
            catalog = ShardCatalog([library.catalog for library in self.libraries])
            store = ShardStore([library.store for library in self.libraries])
            self._searcher = Searcher(catalog, store, self.libraries[0].profile.search)
        return self._searcher


def expand_shard_lists(entries: Iterable[str | Path]) -> list[Path]:
    """Index folders, with each ``@FILE`` entry replaced by the folders its file lists: one a
    line, blank lines and ``#`` comments skipped, relative paths taken from the file's folder."""
    dirs: list[Path] = []
    for entry in entries:
        text = str(entry)
        if not text.startswith("@"):
            dirs.append(Path(entry))
            continue
        listing = Path(text[1:])
        try:
            lines = listing.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigError(
                f"cannot read the shard list {listing}: {exc.strerror}. Give a file with one "
                f"index folder a line"
            ) from exc
        for line in lines:
            line = line.split("#", 1)[0].strip()
            if line:
                dirs.append(listing.parent / Path(line).expanduser())
    return dirs


def _check_same_spaces(lead: Library, other: Library) -> None:
    """Refuse shards whose vectors could not be compared: another model (or none) in a space."""
    for space in sorted(set(channels.CHANNEL_SPACE.values())):
        ours, theirs = (
            getattr(getattr(lib.profile.adapters, space, None), "model", None)
            for lib in (lead, other)
        )
        if ours != theirs:
            raise IndexDirError(
                f"index {other.index_dir} has {theirs or 'no model'} in the {space} space, "
                f"{lead.index_dir} has {ours or 'none'}: an archive's indexes must be made with "
                f"the same models (the same profile)"
            )
