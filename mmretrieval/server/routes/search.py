"""``GET /search`` (text, or a named person) and ``POST /search`` (an uploaded audio, image or
video file; or, on a people index, a recording of a voice or a photo of a face)."""

from __future__ import annotations

import mimetypes
import re
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Response, UploadFile

from mmretrieval import export
from mmretrieval.errors import MMRError
from mmretrieval.filters import ClipFilter
from mmretrieval.query import parse_box, parse_spaces, parse_weights
from mmretrieval.search import Hit
from mmretrieval.server.state import View

UPLOAD_KINDS = ("audio", "image", "video")
# the form fields that carry a query file: the content types each takes, a curl example
QUERY_FIELDS = {
    "file": (UPLOAD_KINDS, "clip.mp3;type=audio/mpeg"),
    "voice": (("audio", "video"), "speech.wav;type=audio/wav"),
    "face": (("image",), "photo.jpg;type=image/jpeg"),
}
MAX_K = 200
FORMAT_CHOICES = ("json", *export.FORMATS)

router = APIRouter()


def search_filter(
    path: Annotated[list[str] | None, Query(description="file path globs (any of them)")] = None,
    after: Annotated[str | None, Query(description="files dated on or after, YYYY-MM-DD")] = None,
    before: Annotated[str | None, Query(description="files dated on or before")] = None,
    min_duration: Annotated[float | None, Query(ge=0, description="seconds")] = None,
    max_duration: Annotated[float | None, Query(ge=0, description="seconds")] = None,
    tag: Annotated[list[str] | None, Query(description="files with all these tags")] = None,
    any_tag: Annotated[list[str] | None, Query(description="files with any of these")] = None,
    lang: Annotated[
        list[str] | None, Query(description="clips spoken in any of these, ISO 639-1")
    ] = None,
) -> ClipFilter | None:
    """The same filters as ``mmr search`` (README, "Filters"), from the query string of either
    search endpoint; a blank date (an empty form field) sets none."""
    return ClipFilter.from_options(
        paths=path,
        after=after or None,
        before=before or None,
        min_duration=min_duration,
        max_duration=max_duration,
        tags=tag,
        any_tags=any_tag,
        languages=lang,
    )


Filter = Annotated[ClipFilter | None, Depends(search_filter)]


@router.get(
    "/search",
    response_model=list[Hit],
    response_model_exclude_none=True,
    responses={200: {"content": {m: {} for m in export.MEDIA_TYPES.values()}}},
)
def search_text(
    view: View,
    q: Annotated[str | None, Query(min_length=1, description="what to look for, in words")] = None,
    person: Annotated[
        str | None,
        Query(min_length=1, description="a name given to a voice or face (people profile)"),
    ] = None,
    k: Annotated[int, Query(ge=1, le=MAX_K)] = 10,
    spaces: Annotated[str | None, Query(description="e.g. text,lexical")] = None,
    weights: Annotated[str | None, Query(description="e.g. text=1,lexical=0.5")] = None,
    format: Annotated[Literal[FORMAT_CHOICES], Query()] = "json",
    clip_filter: Filter = None,
):
    """Clips that say or show ``q``; or, with ``person``, where the person of that name speaks
    or is on screen."""
    if (q is None) == (person is None):
        raise HTTPException(
            422, "give q (what to look for, in words) or person (a name), one of them"
        )
    hits = view.run(
        lambda library: library.search(
            text=q,
            person=person,
            k=k,
            spaces=parse_spaces(spaces),
            weights=parse_weights(weights),
            filter=clip_filter,
        )
    )
    return _respond(hits, format, title=q or person)


@router.post("/search", response_model=list[Hit], response_model_exclude_none=True)
def search_file(
    view: View,
    file: Annotated[
        UploadFile | None, File(description="an audio, image or video file: what it says or shows")
    ] = None,
    voice: Annotated[
        UploadFile | None,
        File(description="a recording of someone speaking: where that voice speaks (people)"),
    ] = None,
    face: Annotated[
        UploadFile | None,
        File(description="a photo of someone: where that face is on screen (people profile)"),
    ] = None,
    face_box: Annotated[
        str | None, Form(description="x,y,width,height in pixels: which face of the photo")
    ] = None,
    k: Annotated[int, Form(ge=1, le=MAX_K)] = 10,
    start: Annotated[float, Form(ge=0)] = 0.0,
    end: Annotated[float | None, Form(gt=0)] = None,
    spaces: Annotated[str | None, Form()] = None,
    weights: Annotated[str | None, Form()] = None,
    format: Annotated[Literal[FORMAT_CHOICES], Form()] = "json",
    clip_filter: Filter = None,
):
    """Clips like an uploaded query file (``file``), or, on an index made with the people
    profile, where the ``voice`` of a recording speaks or the ``face`` of a photo is on screen
    (its largest face, or the one in ``face_box``)."""
    uploads = {"file": file, "voice": voice, "face": face}
    given = [(name, upload) for name, upload in uploads.items() if upload is not None]
    if len(given) != 1:
        raise HTTPException(
            400,
            "send one query file: file (audio, image or video), voice (a recording of someone "
            f"speaking) or face (a photo); got {' and '.join(n for n, _ in given) or 'none'}",
        )
    field, upload = given[0]
    kind = _upload_kind(upload, field)
    box = parse_box(face_box)
    with tempfile.TemporaryDirectory(prefix="mmr-query-") as folder:
        path = Path(folder) / f"query{_upload_suffix(upload)}"
        with path.open("wb") as handle:
            while chunk := upload.file.read(1 << 20):
                handle.write(chunk)
        if path.stat().st_size == 0:
            raise HTTPException(400, "the uploaded query file is empty")
        try:
            hits = view.run(
                lambda library: library.search(
                    **{kind if field == "file" else field: path},
                    face_box=box,
                    start=start,
                    end=end,
                    k=k,
                    spaces=parse_spaces(spaces),
                    weights=parse_weights(weights),
                    filter=clip_filter,
                )
            )
        except MMRError as exc:  # say which upload, not where it was saved for the query
            raise type(exc)(str(exc).replace(str(path), repr(upload.filename or field))) from None
    return _respond(hits, format, title=upload.filename or "query file")


def _upload_kind(file: UploadFile, field: str) -> str:
    kind = (file.content_type or "").partition("/")[0]
    wanted, example = QUERY_FIELDS[field]
    if kind not in wanted:
        raise HTTPException(
            415,
            f"a {field} query must be {' or '.join(w + '/*' for w in wanted)}, got "
            f"{file.content_type!r} (with curl: -F '{field}=@{example}')",
        )
    return kind


def _upload_suffix(file: UploadFile) -> str:
    """The upload's extension if it is a plain one (decoders use it as a hint), else one for
    its content type; never anything path-like."""
    suffix = Path(file.filename or "").suffix.lower()
    if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix):
        return suffix
    return mimetypes.guess_extension(file.content_type or "") or ""


def _respond(hits: list[Hit], format: str, title: str):
    if format == "json":
        return hits
    body = export.export_hits(hits, format, title=title)
    return Response(
        body,
        media_type=export.MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="mmr-results.{format}"'},
    )
