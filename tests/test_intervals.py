"""Wilson intervals against scipy's binomtest, and the properties a conversion-rate interval must have."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binomtest

from lead_model.engine.intervals import wilson_interval


def scipy_wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    return ci.low, ci.high


def by_formula(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The textbook Wilson score interval, written out."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(centre - half, 0.0), min(centre + half, 1.0)


@pytest.mark.parametrize(("k", "n"), [(0, 1), (1, 1), (0, 10), (10, 10), (3, 12), (50, 1000), (1, 1_000_000), (999_999, 1_000_000)])
def test_matches_scipy_and_the_formula(k, n):
    low, high = wilson_interval(k, n)
    for want_low, want_high in (scipy_wilson(k, n), by_formula(k, n)):
        assert abs(float(low) - want_low) <= 1e-9 and abs(float(high) - want_high) <= 1e-9


@pytest.mark.parametrize("confidence", [0.8, 0.9, 0.99])
def test_other_confidence_levels(confidence):
    low, high = wilson_interval(7, 40, confidence)
    want = scipy_wilson(7, 40, confidence)
    assert abs(float(low) - want[0]) <= 1e-9 and abs(float(high) - want[1]) <= 1e-9


def test_arrays_and_empty_groups():
    k = np.array([0, 2, 5, 0])
    n = np.array([4, 10, 5, 0])
    low, high = wilson_interval(k, n)
    assert low.shape == (4,) and np.isnan(low[3]) and np.isnan(high[3])
    for i in range(3):
        want = scipy_wilson(int(k[i]), int(n[i]))
        assert abs(low[i] - want[0]) <= 1e-9 and abs(high[i] - want[1]) <= 1e-9


@given(n=st.integers(1, 100_000), data=st.data())
def test_interval_properties(n, data):
    k = data.draw(st.integers(0, n))
    low, high = (float(x) for x in wilson_interval(k, n))
    assert 0.0 <= low <= k / n <= high <= 1.0
    want = scipy_wilson(k, n)
    assert abs(low - want[0]) <= 1e-9 and abs(high - want[1]) <= 1e-9
    # more leads at the same rate never widen the interval
    low2, high2 = (float(x) for x in wilson_interval(4 * k, 4 * n))
    assert high2 - low2 <= high - low + 1e-12
