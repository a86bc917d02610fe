"""``GET /copies``: where else the footage of a clip was used (README, "Reused footage")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from mmretrieval.library import Library
from mmretrieval.server.state import View, found

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


@router.get("/copies", response_model=list[CopyOut])
def copies(
    clip_id: Annotated[int, Query(description="the clip whose footage to look for")],
    view: View,
    min_seconds: Annotated[float, Query(gt=0, description="shortest stretch reported")] = 2.0,
) -> list[CopyOut]:
    """The other stretches of the archive that show the clip's pictures, best first (the clip
    itself left out)."""

    def where(library: Library) -> list[CopyOut] | None:
        row = library.catalog.clips([clip_id]).get(clip_id)
        if row is None:
            return None
        return [
            CopyOut(**{k: v for k, v in copy.to_dict().items() if k != "query_path"})
            for copy in library.copies(row.path, row.start, row.end, min_seconds)
            if not (copy.file_id == row.file_id and copy.overlaps(row))
        ]

    return found(view.run(where), f"no clip {clip_id} in the index")
