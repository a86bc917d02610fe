"""What the routes share: the server's settings, and the app's state (settings, index view,
job runner) as FastAPI dependencies, so a router needs no closure over ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, TypeVar
from urllib.parse import urlencode

from fastapi import Depends, HTTPException, Query, Request

from mmretrieval.config import Profile
from mmretrieval.server.jobs import JobRunner
from mmretrieval.server.view import IndexView

LOOPBACK = {"127.0.0.1", "::1", "localhost"}

T = TypeVar("T")


@dataclass
class ServerSettings:
    index_dir: Path | list[Path]  # one index, or several served as one archive (read-only)
    profile: str | Path | Profile | None = None
    token: str | None = None
    host: str = "127.0.0.1"
    max_upload_bytes: int = 200 * 1024 * 1024
    media_roots: list[Path] = field(default_factory=list)  # POST /index only below these

    @property
    def index_dirs(self) -> list[Path]:
        return list(self.index_dir) if isinstance(self.index_dir, list) else [self.index_dir]

    @property
    def reads_need_token(self) -> bool:
        return self.host not in LOOPBACK


def _settings(request: Request) -> ServerSettings:
    return request.app.state.settings


def _view(request: Request) -> IndexView:
    return request.app.state.view


def _jobs(request: Request) -> JobRunner:
    return request.app.state.jobs


Settings = Annotated[ServerSettings, Depends(_settings)]
View = Annotated[IndexView, Depends(_view)]
Jobs = Annotated[JobRunner, Depends(_jobs)]


# On a server of several indexes, routes that take a clip or file id (ids repeat between
# indexes) take the hit's ``index`` too; a server of one needs none.
IndexParam = Annotated[
    str | None,
    Query(description="on a server of several indexes: the one the id is from (a hit's index)"),
]


def index_query(index: str | None) -> str:
    """The query string that names ``index`` in a link (empty on a server of one)."""
    return "" if index is None else "?" + urlencode({"index": index})


def found(value: T | None, message: str) -> T:
    """``value``, or 404 with ``message`` when there is none."""
    if value is None:
        raise HTTPException(404, message)
    return value
