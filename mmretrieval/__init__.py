"""mmretrieval: cross-modal retrieval over audio, video and text.

from mmretrieval import Library
with Library("index/", profile="offline") as library:
    library.add(["footage/"])
    for hit in library.search(text="minister talks about flood defences", k=5):
        print(hit.path, hit.start, hit.end, hit.score, hit.evidence, hit.text)
"""

from mmretrieval.config import Profile, load_profile
from mmretrieval.errors import ConfigError, IndexDirError, MediaError, MMRError, ModelMissingError
from mmretrieval.filters import ClipFilter
from mmretrieval.ingest import IngestReport
from mmretrieval.library import Library
from mmretrieval.search import Hit

__all__ = [
    "ClipFilter",
    "ConfigError",
    "Hit",
    "IndexDirError",
    "IngestReport",
    "Library",
    "MediaError",
    "MMRError",
    "ModelMissingError",
    "Profile",
    "load_profile",
]
__version__ = "0.1.0"
