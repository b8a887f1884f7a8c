"""Bin edges for numeric attributes: quantile starts rounded to numbers people say out loud."""

from __future__ import annotations

import math
import re

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


def quantile_edges(values: np.ndarray, n_bins: int = 5, heavy_share: float = 0.05) -> tuple[float, ...]:
    """Cut points splitting non-missing ``values`` into about ``n_bins`` equally full bins, nicely rounded.

    A value held by at least ``heavy_share`` of leads (a column of mostly 0, or -1 for "never")
    also gets a cut just above it, so it keeps a bin of its own even when every quantile lands
    on it. Duplicate and empty-making edges are dropped.
    """
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return ()
    uniq, counts = np.unique(finite, return_counts=True)
    lo, hi = float(uniq[0]), float(uniq[-1])
    integer = bool(np.all(uniq == np.round(uniq)))
    candidates: set[float] = set()
    for q in np.quantile(finite, np.linspace(0, 1, n_bins + 1)[1:-1]):
        e = nice_round(float(q))
        candidates.add(float(math.ceil(e)) if integer and e != math.floor(e) else e)
    for i in np.flatnonzero(counts >= heavy_share * finite.size):
        if i + 1 < uniq.size:
            after = float(uniq[i + 1])
            e = nice_round(after)
            # the rounded cut must still fall between the heavy value and the next one
            candidates.add(e if uniq[i] < e <= after else after)
    # an edge at or below the minimum, or above the maximum, would leave a bin empty
    return tuple(sorted(e for e in candidates if lo < e <= hi))


def supervised_edges(
    values: np.ndarray,
    converted: np.ndarray,
    n_quantiles: int = 10,
    min_share: float = 0.05,
    monotonic: bool = False,
) -> tuple[float, ...]:
    """Cut points for a numeric attribute: quantile start, then adjacent bins merged.

    ``values`` are float64 (NaN = missing, which is its own level and never a bin);
    ``converted`` is a bool per value. Starts from ``n_quantiles`` nicely rounded quantile
    edges, then removes edges until every bin holds >= ``min_share`` of the non-missing
    leads, and (``monotonic=True``) until conversion rates rise or fall steadily across
    bins (the direction of the first-to-last bin). Edges stay values people say out loud
    because merging only ever removes edges. Off by default: U shapes (age) are common.
    """
    edges = list(quantile_edges(values, n_quantiles))
    ok = ~np.isnan(values)
    v, y = values[ok], converted[ok]
    if not edges or v.size == 0:
        return tuple(edges)
    bin_of = np.searchsorted(np.asarray(edges), v, side="right")
    counts = np.bincount(bin_of, minlength=len(edges) + 1).astype(np.float64)
    conv = np.bincount(bin_of, weights=y.astype(np.float64), minlength=len(edges) + 1)
    need = min_share * v.size

    def merge(i: int) -> None:  # merge bin i with bin i + 1 (drops edges[i])
        counts[i] += counts[i + 1]
        conv[i] += conv[i + 1]
        del edges[i]

    while edges:
        counts_, conv_ = counts[: len(edges) + 1], conv[: len(edges) + 1]
        small = np.flatnonzero(counts_ < need)
        if small.size == 0:
            break
        i = int(small[np.argmin(counts_[small])])
        rates = conv_ / np.maximum(counts_, 1)
        if i == 0:
            j = 0
        elif i == len(edges):
            j = i - 1
        else:  # join the neighbour whose conversion rate is closest
            j = i - 1 if abs(rates[i] - rates[i - 1]) <= abs(rates[i] - rates[i + 1]) else i
        merge(j)
        counts, conv = np.delete(counts, j + 1), np.delete(conv, j + 1)
        counts, conv = np.append(counts, 0.0), np.append(conv, 0.0)
    if monotonic:
        while edges:
            k = len(edges) + 1
            rates = conv[:k] / np.maximum(counts[:k], 1)
            sign = 1.0 if rates[-1] >= rates[0] else -1.0
            steps = sign * np.diff(rates)
            bad = np.flatnonzero(steps < 0)
            if bad.size == 0:
                break
            j = int(bad[np.argmin(steps[bad])])
            merge(j)
            counts, conv = np.append(np.delete(counts, j + 1), 0.0), np.append(np.delete(conv, j + 1), 0.0)
    return tuple(edges)


def parse_edges(text: str, attribute: str) -> tuple[float, ...]:
    """'10, 50, 200' -> (10.0, 50.0, 200.0); a LeadModelError sentence for anything else."""
    from lead_model.errors import LeadModelError

    parts = [p for p in re.split(r"[,;\s]+", text.strip()) if p]
    edges = []
    for p in parts:
        try:
            v = float(p)
        except ValueError:
            raise LeadModelError(f"bin edge '{p}' of '{attribute}' is not a number; type edges like 10, 50, 200.") from None
        if not math.isfinite(v):
            raise LeadModelError(f"bin edge '{p}' of '{attribute}' is not a finite number; type edges like 10, 50, 200.")
        edges.append(v)
    for a, b in zip(edges, edges[1:]):
        if b <= a:
            raise LeadModelError(f"the bin edges of '{attribute}' must increase, but {b:g} comes after {a:g}.")
    return tuple(edges)


def rebinned(attr, edges: tuple[float, ...]):
    """A numeric model attribute with new bin edges; each new bin keeps the points of the old bin its lower bound fell in."""
    from lead_model.model.schema import Bin

    old_mins = [-math.inf] + [float(b.min) for b in attr.bins[1:]]

    def points_at(x: float) -> int:
        i = int(np.searchsorted(old_mins, x, side="right")) - 1
        return attr.bins[max(i, 0)].points

    bins = (Bin(min=None, points=attr.bins[0].points),) + tuple(Bin(min=e, points=points_at(e)) for e in edges)
    return attr.model_copy(update={"bins": bins})  # validated when a model takes it (with_attribute)
