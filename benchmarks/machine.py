"""Machine facts recorded beside benchmark timings; standard library only.

Scripts run as ``python benchmarks/X.py``, so ``from machine import describe`` finds this file.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version


def package_version(name: str) -> str | None:
    """The installed distribution's version, or None where it is not installed."""
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def speed_check_ms(repeats: int = 3) -> float:
    """CPU ms of a fixed pure-Python loop (best of ``repeats``). A shared host runs the same
    code at different speeds on different days (2026-12-03: ingest 28-29 CPU s one night,
    33-37 the next morning, nothing else running), so two runs' timings compare only after
    their speed checks do."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        total = 0
        for n in range(1_000_000):
            total += n * n
        best = min(best, time.process_time() - start)
    return round(best * 1000, 1)


def describe(packages: Sequence[str] = ()) -> dict[str, object]:
    """What the timings depend on: the load average (a busy machine inflates them) and the
    machine's own speed at the time (``speed_check_ms``)."""
    return {
        "cpu_count": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "load_average": os.getloadavg(),  # 1, 5 and 15 minutes
        "speed_check_ms": speed_check_ms(),
        "versions": {name: package_version(name) for name in packages},
    }
