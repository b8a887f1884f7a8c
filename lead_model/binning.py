"""Bin edges for numeric attributes: quantile starts rounded to numbers people say out loud."""

from __future__ import annotations

import math

import numpy as np

def nice_round(x: float) -> float:
    """Round to a value people say out loud: 3, 15, 35, 50, 150, 500, 1000, 2500...

    Below 10: the nearest whole number (two decimals below 1). From 10 up: the nearest
    multiple of half the power of ten (35, 40, 450, 1500, 2500). The sign is kept.
    """
    if x == 0 or not math.isfinite(x):
        return x
    sign = -1.0 if x < 0 else 1.0
    ax = abs(x)
    if ax < 1:
        return sign * round(ax, 2)
    if ax < 10:
        return sign * float(round(ax))
    step = 10 ** math.floor(math.log10(ax)) / 2
    return sign * float(round(ax / step) * step)


def quantile_edges(values: np.ndarray, n_bins: int = 5) -> tuple[float, ...]:
    """Cut points splitting non-missing ``values`` into about ``n_bins`` equally full bins, nicely rounded.

    Duplicate and empty-making edges are dropped, so a column of mostly zeros gets fewer bins.
    """
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return ()
    qs = np.quantile(finite, np.linspace(0, 1, n_bins + 1)[1:-1])
    lo, hi = float(finite.min()), float(finite.max())
    edges: list[float] = []
    integer = bool(np.all(finite == np.round(finite)))
    for q in qs:
        e = nice_round(float(q))
        if integer and e != math.floor(e):
            e = float(math.ceil(e))
        # an edge at or below the minimum would leave the first bin empty
        if e <= lo or e > hi or (edges and e <= edges[-1]):
            continue
        edges.append(e)
    return tuple(edges)
