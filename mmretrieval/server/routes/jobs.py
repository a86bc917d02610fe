"""Ingest jobs: ``POST /index`` starts one (a write), ``GET /jobs`` lists them (reads)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from mmretrieval.server.state import Jobs, Settings, found

reads = APIRouter()
writes = APIRouter()


class IndexRequest(BaseModel):
    paths: list[str] = Field(min_length=1, description="files or folders on the server's disk")


@writes.post("/index", status_code=202)
def index(request: IndexRequest, jobs: Jobs, settings: Settings) -> JSONResponse:
    paths = [_allowed_path(p, settings.media_roots) for p in request.paths]
    job = jobs.submit(paths)
    return JSONResponse(job.to_dict(), status_code=202, headers={"Location": f"/jobs/{job.id}"})


@reads.get("/jobs")
def job_list(jobs: Jobs) -> list[dict]:
    return [job.to_dict() for job in jobs.listed()]


@reads.get("/jobs/{job_id}")
def job(job_id: str, jobs: Jobs) -> dict:
    return found(jobs.jobs.get(job_id), f"no job {job_id}").to_dict()


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
