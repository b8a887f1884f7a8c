"""Threshold rules against a brute force that recounts MQLs lead by lead at every threshold."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import RANDOM_KINDS, brute_scores, build_random, kept_rows, random_leads, random_models
from hypothesis import given
from hypothesis import strategies as st

from lead_model import ScoringModel, backtest
from lead_model.engine.thresholds import (
    best_f1,
    for_capacity,
    for_converted_share,
    for_precision,
    for_recall,
    months_covered,
    threshold_table,
)


def table(scores, ko, y) -> list[dict]:
    """Per threshold (lowest to highest live score): MQLs, converted MQLs, precision, recall, F1, counted lead by lead."""
    live = [s for s, k in zip(scores, ko) if not k]
    p = sum(y)
    rows = []
    for t in range(min(live), max(live) + 1) if live else ():
        mql = sum(1 for s, k in zip(scores, ko) if not k and s >= t)
        tp = sum(1 for s, k, c in zip(scores, ko, y) if not k and s >= t and c)
        rows.append({"t": t, "mql": mql, "precision": tp / mql if mql else math.nan, "recall": tp / p, "f1": 2 * tp / (mql + p)})
    return rows


def brute_best_f1(rows):
    best = max(r["f1"] for r in rows)
    return max(r["t"] for r in rows if r["f1"] == best)


def brute_for_precision(rows, target):
    ok = [r["t"] for r in rows if r["mql"] > 0 and r["precision"] >= target]
    return min(ok) if ok else None


def brute_for_recall(rows, target):
    ok = [r["t"] for r in rows if r["recall"] >= target]
    return max(ok) if ok else None


def brute_for_capacity(rows, capacity):
    ok = [r["t"] for r in rows if r["mql"] <= capacity]
    return min(ok) if ok else None


def tiny_rows_and_result(tiny, tiny_model):
    from conftest import TINY_HEADER, TINY_MODEL, TINY_ROWS

    rows = [dict(zip(TINY_HEADER, r)) for r in TINY_ROWS]
    kinds = {"industry": "categorical", "employees": "numeric", "page_views": "numeric", "newsletter": "boolean"}
    expected = brute_scores(TINY_MODEL, rows, kinds)
    y = [r["converted"] == "yes" for r in rows]
    return table([e[0] for e in expected], [e[3] for e in expected], y), backtest(tiny, tiny_model)


def test_tiny_choices_by_hand(tiny, tiny_model):
    _, r = tiny_rows_and_result(tiny, tiny_model)
    # live scores 80c 80c 55c 35 30 30 25 20 17c -4 -10: F1 is 6/7 from 36 to 55 -> the highest such threshold
    f1 = best_f1(r)
    assert (f1.threshold, f1.mql, f1.precision, f1.recall) == (55, 3, 1.0, 0.75) and f1.f1 == pytest.approx(6 / 7)
    assert for_precision(r, 0.5).threshold == 26  # 3 of the 6 leads >= 26 converted; at 25 it is 3 of 7
    assert for_recall(r, 1.0).threshold == 17
    assert for_capacity(r, 4).threshold == 31
    assert for_capacity(r, 2, periods=2).threshold == 31
    assert for_converted_share(r, 0.75).threshold == 55
    none = for_precision(r, 1.01)
    assert none.threshold is None and none.mql == 0 and math.isnan(none.precision) and "no threshold" in none.explanation
    assert for_capacity(r, 1).threshold is None  # the two 80s already exceed one lead
    t = threshold_table([f1, none])
    assert list(t["rule"]) == ["max F1", "precision >= 101%"] and list(t.columns)[:2] == ["rule", "threshold"]


def test_tiny_choices_match_brute_force(tiny, tiny_model):
    rows, r = tiny_rows_and_result(tiny, tiny_model)
    assert best_f1(r).threshold == brute_best_f1(rows)
    for target in (0.1, 0.3, 0.5, 0.75, 0.9, 1.0):
        assert for_precision(r, target).threshold == brute_for_precision(rows, target)
        assert for_recall(r, target).threshold == brute_for_recall(rows, target)
        assert for_converted_share(r, target).threshold == brute_for_recall(rows, target)
    for capacity in range(0, 14):
        assert for_capacity(r, capacity).threshold == brute_for_capacity(rows, capacity)


@given(data=random_leads(), model_dict=random_models(), target=st.sampled_from([0.0, 0.2, 0.5, 0.8, 1.0]), capacity=st.integers(0, 45))
def test_random_choices_match_brute_force(data, model_dict, target, capacity):
    leads = build_random(data)
    kept, y = kept_rows(data)
    expected = brute_scores(model_dict, kept, RANDOM_KINDS)
    rows = table([e[0] for e in expected], [e[3] for e in expected], y)
    r = backtest(leads, ScoringModel.from_dict(model_dict))
    if not rows:
        assert best_f1(r).threshold is None
        return
    choice = best_f1(r)
    assert choice.threshold == brute_best_f1(rows)
    at = next(row for row in rows if row["t"] == choice.threshold)
    assert choice.mql == at["mql"] and abs(choice.f1 - at["f1"]) <= 1e-9
    assert for_precision(r, target).threshold == brute_for_precision(rows, target)
    assert for_recall(r, target).threshold == brute_for_recall(rows, target)
    assert for_capacity(r, capacity).threshold == brute_for_capacity(rows, capacity)


def test_months_covered():
    d = np.array(["2024-01-05", "NaT", "2024-06-30"], dtype="datetime64[D]")
    assert months_covered(d) == pytest.approx(178 / 30.4375)
    assert months_covered(None) is None
    assert months_covered(np.array(["NaT"], dtype="datetime64[D]")) is None
    assert months_covered(np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]")) == 1.0  # at least a month


def test_months_covered_from_tiny(tiny):
    assert months_covered(tiny.created) == pytest.approx(178 / 30.4375)
