"""Memory: about how much a FAISS channel index takes, and how much the machine has free.

``auto`` chooses IVF-PQ over ``IVF,Flat`` by ``estimate_bytes`` (``store.policy``), and a memory
estimate is logged before every build, a warning when it exceeds ``available_memory`` then.
"""

from __future__ import annotations

import functools
import os

import faiss

ID_BYTES = 8  # an id in an IVF list or an IndexIDMap2
MAP_ENTRY_BYTES = 48  # a hash map entry (IVF direct map, IndexIDMap2 reverse map), measured


def estimate_bytes(factory: str, dim: int, n: int) -> int:
    """About how much memory a channel index of type ``factory`` over ``n`` vectors takes:
    codes, ids and id map per vector, plus what does not grow with ``n`` (centroids)."""
    per_vector, fixed = _footprint(factory, dim)
    return int(fixed + per_vector * n)


@functools.cache
def _footprint(factory: str, dim: int) -> tuple[float, int]:
    """(bytes per vector, fixed bytes) of an index type, from an empty one."""
    index = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        return ivf.code_size + ID_BYTES + MAP_ENTRY_BYTES, 4 * dim * ivf.nlist
    per_vector = ID_BYTES + MAP_ENTRY_BYTES  # IndexIDMap2's ids and reverse map
    if isinstance(index, faiss.IndexHNSW):
        per_vector += 4 * index.hnsw.nb_neighbors(0) * 1.1  # level-0 links and the levels above
        index = faiss.downcast_index(index.storage)
    code_size = index.code_size if isinstance(index, faiss.IndexFlatCodes) else 4 * dim
    return per_vector + code_size, 0


def available_memory() -> int:
    """Bytes of memory available now (Linux: MemAvailable; elsewhere the free pages, or all)."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    pages = os.sysconf_names.get("SC_AVPHYS_PAGES", os.sysconf_names["SC_PHYS_PAGES"])
    return os.sysconf(pages) * os.sysconf("SC_PAGE_SIZE")


def gib(n: int) -> str:
    """Bytes as GiB, for people."""
    return f"{n / 2**30:.2f} GiB"
