"""An index folder on disk: its catalog file, and the profile the index was built with.

Anything that reads an index (the ``Library``, a moderation scan that reuses what an index
already knows) opens it here, so "no index there" and "these models do not fit that index" are
decided in one place, before any model loads.
"""

from __future__ import annotations

import logging
from pathlib import Path

from mmretrieval.config import DEFAULT_PROFILE, Profile, load_profile
from mmretrieval.errors import IndexDirError
from mmretrieval.store.catalog import Catalog

log = logging.getLogger(__name__)

CATALOG_FILE = "catalog.sqlite"
POSTINGS_FILE = "keywords.npz"  # the keyword postings, kept between opens (``store.postings``)
PROFILE_KEY = "profile"  # catalog meta: the profile's JSON


def has_index(index_dir: Path) -> bool:
    return (index_dir / CATALOG_FILE).exists()


def open_catalog(index_dir: Path, create: bool = False) -> Catalog:
    """The index's catalog; a missing one is an error that says how to make it, unless
    ``create``."""
    if not create and not has_index(index_dir):
        raise IndexDirError(
            f"no index at {index_dir}: create one with `mmr index PATH --index {index_dir}`"
        )
    return Catalog(index_dir / CATALOG_FILE, create=create)


def recorded_profile(catalog: Catalog) -> Profile | None:
    """The profile an index was created with (None for a catalog not yet given one)."""
    stored = catalog.get_meta(PROFILE_KEY)
    return Profile.model_validate_json(stored) if stored else None


def choose_profile(
    index_dir: Path, recorded: Profile | None, requested: str | Path | Profile | None
) -> Profile:
    """The profile to work with: the requested one, checked against what the index was built
    with; else the recorded one; else the default."""
    if requested is None:
        return recorded or load_profile(DEFAULT_PROFILE)
    profile = requested if isinstance(requested, Profile) else load_profile(requested)
    if recorded is not None:
        check_compatible(recorded, profile, index_dir)
        profile = _recorded_visual_layout(recorded, profile)
    return profile


def _recorded_visual_layout(recorded: Profile, requested: Profile) -> Profile:
    """``requested``, describing frames as the index's stored ones are (with or without their
    colours: an index made before ``visual.colour`` existed has none)."""
    old, new = recorded.adapters.visual, requested.adapters.visual
    if old is None or new is None or old.colour == new.colour:
        return requested
    log.info("visual colour %s as the index was built (profile: %s)", old.colour, new.colour)
    adapters = requested.adapters.model_copy(
        update={"visual": new.model_copy(update={"colour": old.colour})}
    )
    return requested.model_copy(update={"adapters": adapters})


def check_compatible(recorded: Profile, requested: Profile, index_dir: Path) -> None:
    """Vectors from different models cannot share an index, nor can one index's vectors be
    looked for in another store: refuse before mixing them."""
    old, new = recorded.store.backend, requested.store.backend
    if old != new:
        raise IndexDirError(
            f"index {index_dir} keeps its vectors in {old}, profile {requested.name} names "
            f"{new}: move them with `mmr migrate --index {index_dir} --from {old} --to {new}`, "
            f"or leave the profile out (an index remembers its own)"
        )
    for name in ("text", "clip", "clap"):
        old, new = getattr(recorded.adapters, name), getattr(requested.adapters, name)
        if old is not None and new is not None and old.model != new.model:
            raise IndexDirError(
                f"index {index_dir} was built with {name} model {old.model}, profile "
                f"{requested.name} uses {new.model}: use the same model or index into a new folder"
            )
