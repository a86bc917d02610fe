"""The HTTP API and web page over one index, or several searched as one archive (FastAPI;
OpenAPI at /docs).

``create_app`` builds the app: its state (settings, the index view, the job runner), the
routers (``server.routes``) behind the security dependencies, the upload limit and errors.

Security model: media is served only for files in the catalog, looked up by id, and only while
the file on disk is still the one that was indexed (``routes.media``). Writes (``POST /index``)
need the token in an ``Authorization: Bearer`` header (never a cookie, so another site cannot
make a browser send it); reads are open on a loopback address and need the token (header or the
``mmr_token`` cookie the page sets) anywhere else. Uploads are size-limited while they stream.

Several indexes (shards): searches go over all of them as one ``Archive``, and routes that take a
clip or file id take the hit's ``index`` too (ids repeat between shards). Such a server is
read-only: POST /index answers 409 (index into a shard with ``mmr index``; the server follows).
"""

from __future__ import annotations

import logging
import secrets
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from mmretrieval.errors import (
    ConfigError,
    IndexDirError,
    MediaError,
    MMRError,
    ModelMissingError,
    StoreUnavailableError,
)
from mmretrieval.server.jobs import JobRunner
from mmretrieval.server.routes import copies, jobs, media, people, search
from mmretrieval.server.state import LOOPBACK, Jobs, ServerSettings, Settings, View
from mmretrieval.server.view import IndexView

__all__ = ["ServerSettings", "create_app"]

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
TOKEN_COOKIE = "mmr_token"
ERROR_STATUS = {  # the first that fits: subclasses before their bases
    StoreUnavailableError: 503,
    ConfigError: 400,
    MediaError: 422,
    IndexDirError: 409,
    ModelMissingError: 503,
}


def create_app(settings: ServerSettings) -> FastAPI:
    view = IndexView(settings.index_dirs, settings.profile)
    runner = JobRunner(settings.index_dirs[0], settings.profile, on_finished=view.refresh)

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
    app.state.settings = settings
    app.state.view = view
    app.state.jobs = runner
    app.add_middleware(UploadLimit, max_bytes=settings.max_upload_bytes)
    app.add_exception_handler(MMRError, _mmr_error)
    app.add_api_route("/", page, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_api_route("/health", health)
    read, write = [Depends(reader)], [Depends(writer)]
    app.add_api_route("/stats", stats, dependencies=read)
    app.include_router(search.router, dependencies=read)
    app.include_router(media.router, dependencies=read)
    app.include_router(copies.router, dependencies=read)
    app.include_router(people.router, dependencies=read)
    if view.is_archive:
        app.add_api_route("/index", read_only, methods=["POST"], dependencies=write)
    else:
        app.include_router(jobs.writes, dependencies=write)
    app.include_router(jobs.reads, dependencies=read)
    return app


def reader(request: Request, settings: Settings) -> None:
    """Reads: the token off loopback; on loopback, only requests addressed to this machine."""
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


def writer(request: Request, settings: Settings) -> None:
    """Writes: the token, from the Authorization header only."""
    _check_token(settings, request.headers.get("authorization"), None)


async def _mmr_error(request: Request, exc: MMRError) -> JSONResponse:
    status = next((s for t, s in ERROR_STATUS.items() if isinstance(exc, t)), 400)
    return JSONResponse({"detail": str(exc)}, status_code=status)


def page() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html")


def health(view: View, runner: Jobs) -> dict:
    running = sum(job.state == "running" for job in runner.listed())
    try:
        clips = sum(view.each(lambda library: library.catalog.clip_count()))
    except IndexDirError:
        clips = 0  # no index yet: the server is healthy all the same
    return {"status": "ok", "clips": clips, "jobs_running": running}


def stats(view: View) -> dict:
    """``Library.stats``; on a server of several indexes, ``Archive.stats`` (totals, and each
    index's own under ``indexes``)."""
    return view.run(lambda whole: whole.stats())


def read_only(view: View) -> None:
    served = ", ".join(str(d) for d in view.index_dirs)
    raise HTTPException(
        409,
        f"this server searches several indexes as one and does not index: add media to one of "
        f"them with `mmr index PATH --index DIR` ({served}); the server follows within seconds",
    )


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
