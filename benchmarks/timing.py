"""Timing helpers shared by the benchmark scripts (they run as scripts, with benchmarks/ on sys.path)."""

from __future__ import annotations

import time


def best(fn, repeat: int = 3) -> float:
    """The fastest of ``repeat`` runs of ``fn()``, in seconds."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)
