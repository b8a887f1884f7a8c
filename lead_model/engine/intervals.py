"""Confidence intervals for conversion rates."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.stats import norm


@lru_cache(maxsize=8)
def _z(confidence: float) -> float:
    return float(norm.ppf(0.5 + confidence / 2))  # scipy's ppf costs ~0.4 ms a call; a move needs two


def wilson_interval(converted, leads, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for converted/leads (arrays or scalars); NaN where leads is 0.

    Returns (low, high) as rates in [0, 1]. Unlike the normal approximation it stays inside
    [0, 1] and behaves for small counts and rates near 0 or 1, which lead levels often have.
    """
    k = np.asarray(converted, dtype=np.float64)
    n = np.asarray(leads, dtype=np.float64)
    z = _z(confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
        # at 0 or all converted the bound is exactly 0 or 1; rounding would leave it just off the rate
        low = np.where(n > 0, np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0)), np.nan)
        high = np.where(n > 0, np.where(k == n, 1.0, np.clip(centre + half, 0.0, 1.0)), np.nan)
    return low, high
