"""``GET /people``: the voices and faces of an index made with the people profile (biometric;
README, "People")."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter
from pydantic import BaseModel

from mmretrieval.library import Library
from mmretrieval.server.state import IndexParam, View

router = APIRouter()


class PersonOut(BaseModel):
    label: str  # voice:N, face:N, or the name given to it: what hits show as speaker/on_screen
    clips: int
    seconds: float
    sample_path: str
    sample_start: float


@router.get("/people", response_model=list[PersonOut])
def people(view: View, index: IndexParam = None) -> list[PersonOut]:
    """Every voice and face of the index, most clips first (as ``mmr people``): its label,
    how many clips hold it, the seconds they cover and a sample clip. Empty for an index made
    without the people profile. Clusters are per index: a server of several names one."""
    return [PersonOut(**asdict(person)) for person in view.run_on(index, Library.people)]
