"""Machine facts recorded beside benchmark timings; standard library only.

Scripts run as ``python benchmarks/X.py``, so ``from machine import describe`` finds this file.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version


def package_version(name: str) -> str | None:
    """The installed distribution's version, or None where it is not installed."""
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def describe(packages: Sequence[str] = ()) -> dict[str, object]:
    """What the timings depend on, load average included: a busy machine inflates them."""
    return {
        "cpu_count": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "load_average": os.getloadavg(),  # 1, 5 and 15 minutes
        "versions": {name: package_version(name) for name in packages},
    }
