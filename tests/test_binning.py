"""Bin edges: rounding people can say out loud, heavy values, parsing typed edges, rebinning."""

from __future__ import annotations

import numpy as np
import pytest

from lead_model.suggest.binning import nice_round, parse_edges, quantile_edges, rebinned
from lead_model.errors import LeadModelError
from lead_model.model.schema import Attribute, Bin


@pytest.mark.parametrize("x, want", [(3.4, 3), (33, 35), (39, 40), (48, 50), (1234, 1000), (2600, 2500), (0.123, 0.12), (-33, -35), (0, 0)])
def test_nice_round(x, want):
    assert nice_round(x) == want


def test_a_heavy_value_keeps_its_own_bin():
    # 82% of leads were never contacted (-1); the quantiles all land on -1
    values = np.concatenate([np.full(820, -1.0), np.arange(1, 181, dtype=float)])
    edges = quantile_edges(values, 5)
    assert edges[0] == 1.0  # the cut just above -1 separates "never" from the rest
    assert all(b > a for a, b in zip(edges, edges[1:]))
    assert all(-1 < e <= 180 for e in edges)


def test_parse_edges_and_errors():
    assert parse_edges(" 10, 50;200 ", "visits") == (10.0, 50.0, 200.0)
    assert parse_edges("", "visits") == ()
    with pytest.raises(LeadModelError, match="not a number"):
        parse_edges("10, lots", "visits")
    with pytest.raises(LeadModelError, match="must increase"):
        parse_edges("50, 10", "visits")


def test_rebinned_keeps_points_of_the_bin_each_new_bound_falls_in():
    attr = Attribute(name="v", kind="numeric", group="engagement", bins=(Bin(min=None, points=0), Bin(min=10, points=5), Bin(min=50, points=20)))
    new = rebinned(attr, (5.0, 20.0, 100.0))
    assert [b.min for b in new.bins] == [None, 5.0, 20.0, 100.0]
    assert [b.points for b in new.bins] == [0, 0, 5, 20]
