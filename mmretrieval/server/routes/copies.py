"""``GET /copies``: where else the footage of a clip was used (README, "Reused footage")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from mmretrieval.archive import Archive
from mmretrieval.copies import Copy
from mmretrieval.library import Library
from mmretrieval.server.state import IndexParam, View, found

router = APIRouter()


class CopyOut(BaseModel):
    path: str
    start: float
    end: float
    query_start: float
    query_end: float
    score: float
    clip_id: int | None
    file_id: int
    index: str | None = None  # the index it is in, on a server of several (else null)


@router.get("/copies", response_model=list[CopyOut])
def copies(
    clip_id: Annotated[int, Query(description="the clip whose footage to look for")],
    view: View,
    min_seconds: Annotated[float, Query(gt=0, description="shortest stretch reported")] = 2.0,
    index: IndexParam = None,
) -> list[CopyOut]:
    """The other stretches of the archive (of every index, on a server of several) that show
    the clip's pictures, best first (the clip itself left out)."""
    row = found(
        view.run_on(index, lambda library: library.catalog.clips([clip_id]).get(clip_id)),
        f"no clip {clip_id} in the index",
    )

    def where(whole: Library | Archive) -> list[tuple[str | None, Copy]]:
        if isinstance(whole, Archive):
            return whole.copies(row.path, row.start, row.end, min_seconds)
        return [(None, copy) for copy in whole.copies(row.path, row.start, row.end, min_seconds)]

    return [
        CopyOut(**{k: v for k, v in copy.to_dict().items() if k != "query_path"}, index=shard)
        for shard, copy in view.run(where)
        if not (shard in (None, index) and copy.file_id == row.file_id and copy.overlaps(row))
    ]
