"""Which index a channel gets, on either backend: the profile's ``store.index`` (``index_spec``).

- ``auto`` (default) picks by size, per channel, with the same rule and numbers on FAISS and
  Milvus, so both answer alike at every size:

  - up to ``exact_limit`` (100k) vectors: exact (FAISS ``Flat``, Milvus ``FLAT``);
  - above: IVF (``IVF{nlist},Flat``, ``IVF_FLAT``) with ``nlist`` the power of two nearest
    ``2 * sqrt(n)`` (2048 at 1M), searched with ``nprobe = nlist / 64``. Measured on 1M x 512-d
    clustered vectors (``benchmarks/index_bench.py``): recall@10 1.0 against exact search at
    about 3 ms per query on 2 cores, where HNSW (``HNSW32,Flat``) takes minutes to build, recalls
    less at equal latency and cannot remove vectors. Uniform random vectors, which have no
    clusters for IVF to use, recall only 0.07 at that nprobe; neither do sentence vectors of
    topic-less generated texts (``benchmarks/query.py --index-recall``: 1M, ``IVF1024``,
    recall@200 0.21 at nprobe 16, 0.93 at 512 for ~70 CPU ms). Embeddings of real media are
    clustered, but a corpus that is not needs a larger ``nprobe`` (``auto|nprobe=...``) or exact
    search; for its top 10, fast-scan PQ re-scored exactly does better
    (``PQ96x4fs,RFlat|k_factor_rf=4`` for 384-d: recall@10 0.96, recall@200 0.69 at ~9 ms at 1M;
    ``PQ192x4fs,RFlat|k_factor_rf=8``: recall@200 0.99 at ~8-13 ms at 1M). Graphs do not: HNSW
    (``HNSW32,Flat``, as a factory string builds it) recalls 0.95 of the top 200 only at
    ``efSearch`` 4000 at 250k, ~26 CPU ms a query (0.88 at 2000, ~14 ms), and less at a given
    ``efSearch`` as the channel grows, where the fast-scan PQ scan grows with the channel but
    keeps its recall;
  - FAISS only, above ``memory_budget`` (2 GiB by default: about 1M 512-d or 1.3M 384-d vectors
    as ``IVF,Flat``): ``IVF{nlist},PQ{d/8}x8``, one byte per 8 dimensions (64 bytes for a 512-d
    vector instead of 2048; about 140 with ids and the id map), its candidates re-scored with the
    exact vectors (``store.faiss``).

- Growth: when an ``add`` takes an ``auto`` channel over ``exact_limit`` it is rebuilt as IVF, and
  again whenever it holds more than ``nlist ** 2`` vectors (4x the size its ``nlist`` suits: at
  262k, 1.05M, 4.2M...), so lists stay short. FAISS rebuilds from the vectors its index holds
  (and as IVF-PQ once ``IVF,Flat`` outgrows the memory budget), Milvus re-indexes the vectors it
  stores. An IVF-PQ channel is never rebuilt from its own codes (they are lossy): it keeps its
  trained quantizer and grows by adding; a rebuild from the catalog retrains it for its size.
  Removals never turn a channel back into a smaller type.
- Otherwise a FAISS factory string (``HNSW32,Flat``, ``IVF4096,PQ64x8``) or a Milvus index type
  (``HNSW``, ``IVF_FLAT``...), each backend's own.
- Search-time parameters: append ``|`` and parameters: a FAISS ``ParameterSpace`` string
  (``auto|nprobe=64``, ``HNSW32,Flat|efSearch=256``) or Milvus ``key=value`` pairs
  (``HNSW|M=16,efConstruction=200,ef=128``). Unset, IVF types search ``nlist / 64`` lists and
  HNSW types use ``efSearch`` (``ef``) 128. Changing search parameters needs no rebuild.
"""

from __future__ import annotations

import math

from mmretrieval.config import StoreConfig
from mmretrieval.store.memory import estimate_bytes

AUTO = "auto"
EXACT_LIMIT = 100_000  # auto: exact search up to this many vectors per channel
# auto on FAISS: IVF,Flat while it takes at most this many bytes, IVF-PQ above (2 GiB)
MEMORY_BUDGET = StoreConfig.model_fields["memory_budget"].default
PQ_DIMS_PER_BYTE = 8  # auto's IVF-PQ codes: one byte (sub-quantizer) per this many dimensions
NPROBE_FRACTION = 64  # IVF searches nlist / 64 lists unless told otherwise
HNSW_EF_SEARCH = 128


def split_spec(spec: str) -> tuple[str, str]:
    """``TYPE|parameters`` -> (type, parameters); an empty type is ``auto``."""
    index_type, _, params = spec.partition("|")
    return index_type.strip() or AUTO, params.strip()


def parse_params(params: str) -> dict[str, int | float | str]:
    """``key=value,...`` -> {key: value}, numbers as numbers."""
    parsed = {}
    for pair in filter(None, (p.strip() for p in params.split(","))):
        key, _, value = pair.partition("=")
        parsed[key.strip()] = _number(value.strip())
    return parsed


def nlist_for(n: int) -> int:
    """The IVF list count ``auto`` builds a channel of ``n`` vectors with."""
    return 2 ** round(math.log2(2 * math.sqrt(n)))


def auto_lists(n: int, exact_limit: int) -> int:
    """The IVF list count ``auto`` gives a channel of ``n`` vectors; 0: exact search."""
    return 0 if n <= exact_limit else nlist_for(n)


def outgrown(nlist: int, n: int, exact_limit: int) -> bool:
    """Whether an ``auto`` channel built with ``nlist`` lists (0: exact) is to be rebuilt when
    it holds ``n`` vectors: exact past ``exact_limit``, IVF past ``nlist ** 2``."""
    return n > (nlist**2 if nlist else exact_limit)


def nprobe_for(nlist: int) -> int:
    """The lists an IVF index of ``nlist`` lists searches unless told otherwise."""
    return max(1, nlist // NPROBE_FRACTION)


def pq_bytes(dim: int) -> int:
    """The code size (sub-quantizers) of ``auto``'s IVF-PQ for ``dim`` dimensions: the largest
    divisor of ``dim`` at most ``dim / PQ_DIMS_PER_BYTE``."""
    top = max(1, dim // PQ_DIMS_PER_BYTE)
    return next(m for m in range(top, 0, -1) if dim % m == 0)


def auto_factory(dim: int, n: int, exact_limit: int, memory_budget: int) -> str:
    """The FAISS factory string ``auto`` gives a channel of ``n`` vectors of ``dim``
    dimensions."""
    nlist = auto_lists(n, exact_limit)
    if not nlist:
        return "Flat"
    flat = f"IVF{nlist},Flat"
    if estimate_bytes(flat, dim, n) <= memory_budget:
        return flat
    return f"IVF{nlist},PQ{pq_bytes(dim)}x8np"  # np: no polysemous training (slow)


def _number(value: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value
