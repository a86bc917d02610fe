"""A clip's details, the media files themselves and thumbnails, by catalog id only.

Media is served only for files in the catalog, and only while the file on disk is still the one
that was indexed (same size and mtime): no request names a path, and a file swapped for a
symlink afterwards is refused. On a server of several indexes, ids repeat between them: each
route takes the hit's ``index`` too, and the links it gives carry it."""

from __future__ import annotations

import mimetypes
import os
import threading
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel

from mmretrieval.library import Library
from mmretrieval.media.files import stat_key
from mmretrieval.media.stills import still_jpeg
from mmretrieval.server.state import IndexParam, View, found, index_query
from mmretrieval.shotlist import MEDIA_TYPES as SHOTLIST_TYPES
from mmretrieval.shotlist import write_shot_lists

THUMBNAILS_DIR = "thumbnails"

router = APIRouter()


class TextOut(BaseModel):
    source: str
    start: float
    end: float
    text: str


class ClipOut(BaseModel):
    clip_id: int
    file_id: int
    path: str
    start: float
    end: float
    speech: str
    ocr: str
    texts: list[TextOut]
    media_url: str
    thumbnail_url: str
    shotlist_url: str | None  # None: no shots recorded (no pictures, or indexed before shots)


@router.get("/clips/{clip_id}", response_model=ClipOut)
def clip(clip_id: int, view: View, index: IndexParam = None) -> ClipOut:
    def details(library: Library) -> ClipOut | None:
        row = library.catalog.clips([clip_id]).get(clip_id)
        if row is None:
            return None
        texts = library.catalog.texts(row.file_id, row.start, row.end)
        at = index_query(index)
        shots = library.catalog.shots(row.file_id)
        return ClipOut(
            clip_id=row.id,
            file_id=row.file_id,
            path=row.path,
            start=row.start,
            end=row.end,
            speech=row.speech,
            ocr=row.ocr,
            texts=[TextOut(source=t.source, start=t.start, end=t.end, text=t.text) for t in texts],
            media_url=f"/media/{row.file_id}{at}",
            thumbnail_url=f"/thumbnails/{row.id}{at}",
            shotlist_url=f"/shotlist/{row.file_id}{at}" if shots else None,
        )

    return found(view.run_on(index, details), f"no clip {clip_id} in the index")


@router.get("/media/{file_id}", response_class=FileResponse)
def media(file_id: int, view: View, index: IndexParam = None) -> FileResponse:
    row = found(
        view.run_on(index, lambda library: library.catalog.file_by_id(file_id)),
        f"no file {file_id} in the index",
    )
    path = _unchanged(row.path, row.size, row.mtime_ns)
    return FileResponse(path, media_type=mimetypes.guess_type(path.name)[0])


@router.get(
    "/thumbnails/{clip_id}",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def thumbnail(
    clip_id: int,
    view: View,
    t: Annotated[float | None, Query(ge=0, description="second of the file to show")] = None,
    index: IndexParam = None,
) -> Response:
    def find(library: Library):
        row = library.catalog.clips([clip_id]).get(clip_id)
        if row is None:
            return None
        return row, library.catalog.file_by_id(row.file_id), library.index_dir

    row, file_row, index_dir = found(view.run_on(index, find), f"no clip {clip_id} in the index")
    at = (row.start + row.end) / 2 if t is None else min(max(t, row.start), row.end)
    at = round(at, 1)  # a tenth of a second is finer than anyone sees; bounds the cache
    cache = index_dir / THUMBNAILS_DIR / f"{clip_id}_{round(at * 1000)}.jpg"
    if not cache.exists():
        path = _unchanged(file_row.path, file_row.size, file_row.mtime_ns)
        cache.parent.mkdir(exist_ok=True)
        # one name per thread: two requests for one new thumbnail must not share a file
        partial = cache.with_suffix(f".{os.getpid()}-{threading.get_ident()}.part")
        partial.write_bytes(still_jpeg(path, row.start, row.end, at))
        partial.replace(cache)
    return Response(
        cache.read_bytes(),
        media_type="image/jpeg",
        headers={"Cache-Control": "private, max-age=86400"},
    )


@router.get(
    "/shotlist/{file_id}",
    response_class=Response,
    responses={200: {"content": {t: {} for t in SHOTLIST_TYPES.values()}}},
)
def shotlist(
    file_id: int,
    view: View,
    format: Annotated[str, Query(pattern="^(html|csv|edl)$")] = "html",  # noqa: A002
    index: IndexParam = None,
) -> Response:
    """The file's shot list (``mmr shotlist``); the page links each result card to it."""

    def shots(library: Library):
        row = library.catalog.file_by_id(file_id)
        return None if row is None else (row, library.shot_list([row.path]))

    row, listed = found(view.run_on(index, shots), f"no file {file_id} in the index")
    if format == "html":  # its thumbnails are decoded from the file
        _unchanged(row.path, row.size, row.mtime_ns)
    text = write_shot_lists(listed, format, f"Shot list: {Path(row.path).name}")
    return Response(text, media_type=SHOTLIST_TYPES[format])


def _unchanged(path_text: str, size: int, mtime_ns: int) -> Path:
    """The catalogued file, if what is on disk now is still what was indexed."""
    path = Path(path_text)
    try:
        unchanged = path.is_file() and stat_key(path) == (size, mtime_ns)
    except FileNotFoundError:
        unchanged = False
    if not path.exists():
        raise HTTPException(410, f"{path.name} is no longer on disk")
    if not unchanged:
        raise HTTPException(409, f"{path.name} changed since it was indexed: re-index it")
    return path
