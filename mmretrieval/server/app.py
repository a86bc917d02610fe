"""The HTTP API and web page over one index (FastAPI; OpenAPI at /docs).

Security model: media is served only for files in the catalog, looked up by id, and only while
the file on disk is still the one that was indexed (same size and mtime), so no request names a
path and a file swapped for a symlink afterwards is refused. Writes (``POST /index``) need the
token in an ``Authorization: Bearer`` header (never a cookie, so another site cannot make a
browser send it); reads are open on a loopback address and need the token (header or the
``mmr_token`` cookie the page sets) anywhere else. Uploads are size-limited while they stream.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import re
import secrets
import tempfile
import threading
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from mmretrieval import export
from mmretrieval.config import Profile
from mmretrieval.errors import ConfigError, IndexDirError, MediaError, MMRError, ModelMissingError
from mmretrieval.filters import ClipFilter
from mmretrieval.ingest import stat_key
from mmretrieval.library import Library
from mmretrieval.media.stills import still_jpeg
from mmretrieval.query import parse_spaces, parse_weights
from mmretrieval.search import Hit
from mmretrieval.server.jobs import JobRunner
from mmretrieval.server.view import IndexView

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
THUMBNAILS_DIR = "thumbnails"
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
UPLOAD_KINDS = ("audio", "image", "video")
MAX_K = 200
TOKEN_COOKIE = "mmr_token"
FORMAT_CHOICES = ("json", *export.FORMATS)
ERROR_STATUS = {ConfigError: 400, MediaError: 422, IndexDirError: 409, ModelMissingError: 503}


@dataclass
class ServerSettings:
    index_dir: Path
    profile: str | Path | Profile | None = None
    token: str | None = None
    host: str = "127.0.0.1"
    max_upload_bytes: int = 200 * 1024 * 1024
    media_roots: list[Path] = field(default_factory=list)  # POST /index only below these

    @property
    def reads_need_token(self) -> bool:
        return self.host not in LOOPBACK


class HitOut(BaseModel):
    """One hit, as ``mmr search --json`` prints it."""

    path: str
    start: float
    end: float
    score: float
    evidence: dict[str, float]
    text: str
    clip_id: int
    file_id: int
    frame_time: float | None = None
    text_time: float | None = None


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


class IndexRequest(BaseModel):
    paths: list[str] = Field(min_length=1, description="files or folders on the server's disk")


def search_filter(
    path: Annotated[list[str] | None, Query(description="file path globs (any of them)")] = None,
    after: Annotated[str | None, Query(description="files dated on or after, YYYY-MM-DD")] = None,
    before: Annotated[str | None, Query(description="files dated on or before")] = None,
    min_duration: Annotated[float | None, Query(ge=0, description="seconds")] = None,
    max_duration: Annotated[float | None, Query(ge=0, description="seconds")] = None,
    tag: Annotated[list[str] | None, Query(description="files with all these tags")] = None,
    any_tag: Annotated[list[str] | None, Query(description="files with any of these")] = None,
) -> ClipFilter | None:
    """The same filters as ``mmr search`` (README, "Filters"), from the query string of either
    search endpoint."""
    clip_filter = ClipFilter(
        paths=tuple(path or ()),
        date_from=after or None,
        date_to=before or None,
        min_duration=min_duration,
        max_duration=max_duration,
        tags=tuple(tag or ()),
        any_tags=tuple(any_tag or ()),
    )
    return clip_filter or None


Filter = Annotated[ClipFilter | None, Depends(search_filter)]


def create_app(settings: ServerSettings) -> FastAPI:
    view = IndexView(settings.index_dir, settings.profile)
    jobs = JobRunner(settings.index_dir, settings.profile, on_finished=view.refresh)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        view.close()

    app = FastAPI(
        lifespan=lifespan,
        title="mmretrieval",
        summary="Search footage by what is said, shown or sounds alike.",
        version="1",
    )
    app.state.view = view
    app.state.jobs = jobs
    app.add_middleware(UploadLimit, max_bytes=settings.max_upload_bytes)

    def reader(request: Request) -> None:
        if settings.reads_need_token:
            _check_token(settings, request.headers.get("authorization"), request)
        elif request.url.hostname not in LOOPBACK:
            # Open reads only for requests addressed to this machine: a web page whose domain
            # was rebound to 127.0.0.1 (DNS rebinding) sends its own name as the Host.
            raise HTTPException(
                403,
                f"this server answers reads addressed to localhost only, not "
                f"{request.url.hostname!r}: serve others with --host and --token",
            )

    def writer(request: Request) -> None:
        _check_token(settings, request.headers.get("authorization"), None)

    Read = Depends(reader)

    @app.exception_handler(MMRError)
    async def mmr_error(request: Request, exc: MMRError) -> JSONResponse:
        status = next((s for t, s in ERROR_STATUS.items() if isinstance(exc, t)), 400)
        return JSONResponse({"detail": str(exc)}, status_code=status)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/health")
    def health() -> dict:
        running = sum(job.state == "running" for job in jobs.listed())
        try:
            clips = view.run(lambda library: library.catalog.clip_count())
        except IndexDirError:
            clips = 0  # no index yet: the server is healthy all the same
        return {"status": "ok", "clips": clips, "jobs_running": running}

    @app.get("/stats", dependencies=[Read])
    def stats() -> dict:
        return view.run(Library.stats)

    @app.get(
        "/search",
        dependencies=[Read],
        response_model=list[HitOut],
        response_model_exclude_none=True,
        responses={200: {"content": {m: {} for m in export.MEDIA_TYPES.values()}}},
    )
    def search_text(
        q: Annotated[str, Query(min_length=1, description="what to look for, in words")],
        k: Annotated[int, Query(ge=1, le=MAX_K)] = 10,
        spaces: Annotated[str | None, Query(description="e.g. text,lexical")] = None,
        weights: Annotated[str | None, Query(description="e.g. text=1,lexical=0.5")] = None,
        format: Annotated[Literal[FORMAT_CHOICES], Query()] = "json",
        clip_filter: Filter = None,
    ):
        hits = view.run(
            lambda library: library.search(
                text=q,
                k=k,
                spaces=parse_spaces(spaces),
                weights=parse_weights(weights),
                filter=clip_filter,
            )
        )
        return _respond(hits, format, title=q)

    @app.post(
        "/search",
        dependencies=[Read],
        response_model=list[HitOut],
        response_model_exclude_none=True,
    )
    def search_file(
        file: Annotated[UploadFile, File(description="an audio, image or video file")],
        k: Annotated[int, Form(ge=1, le=MAX_K)] = 10,
        start: Annotated[float, Form(ge=0)] = 0.0,
        end: Annotated[float | None, Form(gt=0)] = None,
        spaces: Annotated[str | None, Form()] = None,
        weights: Annotated[str | None, Form()] = None,
        format: Annotated[Literal[FORMAT_CHOICES], Form()] = "json",
        clip_filter: Filter = None,
    ):
        kind = _upload_kind(file)
        with tempfile.TemporaryDirectory(prefix="mmr-query-") as folder:
            path = Path(folder) / f"query{_upload_suffix(file)}"
            with path.open("wb") as handle:
                while chunk := file.file.read(1 << 20):
                    handle.write(chunk)
            if path.stat().st_size == 0:
                raise HTTPException(400, "the uploaded query file is empty")
            hits = view.run(
                lambda library: library.search(
                    **{kind: path},
                    start=start,
                    end=end,
                    k=k,
                    spaces=parse_spaces(spaces),
                    weights=parse_weights(weights),
                    filter=clip_filter,
                )
            )
        return _respond(hits, format, title=file.filename or "query file")

    @app.get("/clips/{clip_id}", dependencies=[Read], response_model=ClipOut)
    def clip(clip_id: int) -> ClipOut:
        def details(library: Library) -> ClipOut | None:
            row = library.catalog.clips([clip_id]).get(clip_id)
            if row is None:
                return None
            texts = library.catalog.texts(row.file_id, row.start, row.end)
            return ClipOut(
                clip_id=row.id,
                file_id=row.file_id,
                path=row.path,
                start=row.start,
                end=row.end,
                speech=row.speech,
                ocr=row.ocr,
                texts=[
                    TextOut(source=t.source, start=t.start, end=t.end, text=t.text) for t in texts
                ],
                media_url=f"/media/{row.file_id}",
                thumbnail_url=f"/thumbnails/{row.id}",
            )

        return _found(view.run(details), f"no clip {clip_id} in the index")

    @app.get("/media/{file_id}", dependencies=[Read], response_class=FileResponse)
    def media(file_id: int) -> FileResponse:
        row = _found(
            view.run(lambda library: library.catalog.file_by_id(file_id)),
            f"no file {file_id} in the index",
        )
        path = _unchanged(row.path, row.size, row.mtime_ns)
        return FileResponse(path, media_type=mimetypes.guess_type(path.name)[0])

    @app.get(
        "/thumbnails/{clip_id}",
        dependencies=[Read],
        response_class=Response,
        responses={200: {"content": {"image/jpeg": {}}}},
    )
    def thumbnail(
        clip_id: int,
        t: Annotated[float | None, Query(ge=0, description="second of the file to show")] = None,
    ) -> Response:
        def find(library: Library):
            row = library.catalog.clips([clip_id]).get(clip_id)
            return None if row is None else (row, library.catalog.file_by_id(row.file_id))

        row, file_row = _found(view.run(find), f"no clip {clip_id} in the index")
        at = (row.start + row.end) / 2 if t is None else min(max(t, row.start), row.end)
        at = round(at, 1)  # a tenth of a second is finer than anyone sees; bounds the cache
        cache = settings.index_dir / THUMBNAILS_DIR / f"{clip_id}_{round(at * 1000)}.jpg"
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

    @app.post("/index", status_code=202, dependencies=[Depends(writer)])
    def index(request: IndexRequest) -> JSONResponse:
        paths = [_allowed_path(p, settings.media_roots) for p in request.paths]
        job = jobs.submit(paths)
        return JSONResponse(job.to_dict(), status_code=202, headers={"Location": f"/jobs/{job.id}"})

    @app.get("/jobs", dependencies=[Read])
    def job_list() -> list[dict]:
        return [job.to_dict() for job in jobs.listed()]

    @app.get("/jobs/{job_id}", dependencies=[Read])
    def job(job_id: str) -> dict:
        return _found(jobs.jobs.get(job_id), f"no job {job_id}").to_dict()

    return app


class UploadLimit:
    """Refuse request bodies over ``max_bytes`` with 413, by Content-Length up front and by
    counting while the body streams (chunked uploads carry no length)."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT"):
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            return await self._refuse(send)
        received = 0
        over = refused = False

        async def counted_receive():
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                over = True  # stop reading: the app sees the client go away
                return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            nonlocal refused
            if not over:
                await send(message)
            elif not refused:  # whatever the app answers to a cut-off body becomes the 413
                refused = True
                await self._refuse(send)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not over:
                raise
        if over and not refused:
            await self._refuse(send)

    async def _refuse(self, send) -> None:
        detail = f"request body over the limit of {self.max_bytes:,} bytes"
        response = JSONResponse({"detail": detail}, 413)
        await response({"type": "http"}, None, send)


def _check_token(settings: ServerSettings, header: str | None, request: Request | None) -> None:
    """Accept the token from the Authorization header, or (reads only) the page's cookie."""
    if settings.token is None:
        raise HTTPException(
            403, "this server was started without a token: start it with --token or MMR_TOKEN"
        )
    given = header.removeprefix("Bearer ").strip() if header else None
    if given is None and request is not None:
        given = request.cookies.get(TOKEN_COOKIE)
    # as bytes: compare_digest refuses str with non-ASCII characters (a 500, not a 401)
    if not given or not secrets.compare_digest(given.encode(), settings.token.encode()):
        raise HTTPException(401, "missing or wrong token", {"WWW-Authenticate": "Bearer"})


def _found(value, message: str):
    if value is None:
        raise HTTPException(404, message)
    return value


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


def _allowed_path(text: str, roots: list[Path]) -> Path:
    path = Path(text).expanduser()
    if not path.is_absolute():
        raise HTTPException(400, f"give absolute paths on the server, got {text!r}")
    resolved = path.resolve()
    if roots and not any(resolved.is_relative_to(root.resolve()) for root in roots):
        allowed = ", ".join(str(r) for r in roots)
        raise HTTPException(
            403, f"{text} is outside the media roots this server indexes: {allowed}"
        )
    if not resolved.exists():
        raise HTTPException(400, f"{text} does not exist on the server")
    return resolved


def _upload_kind(file: UploadFile) -> str:
    kind = (file.content_type or "").partition("/")[0]
    if kind not in UPLOAD_KINDS:
        raise HTTPException(
            415,
            f"query files must be audio/*, image/* or video/*, got {file.content_type!r} "
            "(with curl: -F 'file=@clip.mp3;type=audio/mpeg')",
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
        return [hit.to_dict() for hit in hits]
    body = export.export_hits(hits, format, title=title)
    return Response(
        body,
        media_type=export.MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="mmr-results.{format}"'},
    )
