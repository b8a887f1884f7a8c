"""Every backtest number against an independent brute force: direct counts per threshold, sklearn, pairwise AUC, per-lead deciles."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pandas as pd
import pytest
from conftest import (
    RANDOM_KINDS,
    TINY_HEADER,
    TINY_MODEL,
    TINY_ROWS,
    band_of,
    brute_scores,
    build_random,
    kept_rows,
    random_leads,
    random_models,
    write_csv,
)
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binomtest
from sklearn.metrics import average_precision_score, roc_auc_score

from lead_model import ScoringEngine, ScoringModel, backtest, load_leads
from lead_model.data.roles import RoleOverride

TOL = 1e-9


def close(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= TOL


# ----- brute force ----------------------------------------------------------------------
def brute_threshold(scores, ko, y, t: int) -> dict:
    """Counts at one threshold by walking every lead."""
    n, p = len(y), sum(y)
    mql = tp = 0
    for s, k, c in zip(scores, ko, y):
        if not k and s >= t:
            mql += 1
            tp += c
    precision = tp / mql if mql else math.nan
    return {
        "mql": mql, "mql_converted": tp, "precision": precision, "recall": tp / p, "f1": 2 * tp / (mql + p),
        "mql_rate": mql / n, "lift_at_threshold": precision / (p / n) if mql else math.nan,
        "conversion_mql": precision, "conversion_rest": (p - tp) / (n - mql) if n - mql else math.nan,
    }


def rank_scores(scores, ko) -> np.ndarray:
    """Scores for ranking: knocked-out leads below every score, tied with each other."""
    live = [s for s, k in zip(scores, ko) if not k]
    floor = (min(live) if live else 0) - 1
    return np.array([floor if k else s for s, k in zip(scores, ko)], dtype=float)


def pairwise_auc(scores, ko, y) -> float:
    r = rank_scores(scores, ko)
    pos = [r[i] for i in range(len(y)) if y[i]]
    neg = [r[i] for i in range(len(y)) if not y[i]]
    wins = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in pos for b in neg)
    return wins / (len(pos) * len(neg))


def brute_deciles(scores, ko, y) -> pd.DataFrame:
    """Per-lead expected conversions: a lead in a tie group of m leads with c converted counts c/m at its position."""
    r = rank_scores(scores, ko)
    order = sorted(range(len(y)), key=lambda i: -r[i])
    n = len(y)
    expected, shown = [], []
    i = 0
    while i < n:
        j = i
        while j < n and r[order[j]] == r[order[i]]:
            j += 1
        group = order[i:j]
        c = sum(y[g] for g in group)
        for g in group:
            expected.append(c / len(group))
            shown.append(math.nan if ko[g] else float(scores[g]))
        i = j
    bounds = [n * k // 10 for k in range(11)]
    rows = []
    p = sum(y)
    for d in range(10):
        a, b = bounds[d], bounds[d + 1]
        conv = sum(expected[a:b])
        cum = sum(expected[:b])
        rows.append({
            "decile": d + 1, "leads": b - a, "converted": conv,
            "conversion_rate": conv / (b - a) if b > a else math.nan,
            "cumulative_leads": b, "cumulative_converted": cum, "cumulative_share": b / n, "cumulative_recall": cum / p,
            "max_score": shown[a] if b > a else math.nan, "min_score": shown[b - 1] if b > a else math.nan,
        })
    out = pd.DataFrame(rows)
    out["lift"] = out["conversion_rate"] / (p / n)
    out["cumulative_lift"] = (out["cumulative_converted"] / out["cumulative_leads"]) / (p / n)
    return out


def wilson(k: int, n: int) -> tuple[float, float]:
    if n == 0:
        return math.nan, math.nan
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return ci.low, ci.high


def check_band_table(table: pd.DataFrame, label: str, names: list[str], members: list[list[int]], y) -> None:
    total = sum(len(m) for m in members)
    assert list(table[label]) == names
    for row, m in zip(table.itertuples(index=False), members):
        k = sum(y[i] for i in m)
        assert row.leads == len(m) and row.converted == k
        assert close(row.share, len(m) / total)
        assert close(row.conversion_rate, k / len(m) if m else math.nan)
        low, high = wilson(k, len(m))
        assert close(row.ci_low, low) and close(row.ci_high, high)


def assert_backtest_matches(r, model: dict, expected: list[tuple[int, int, int, bool]], y: list[bool]) -> None:
    """Every number of a BacktestResult against the brute force on per-lead scores."""
    scores = [e[0] for e in expected]
    fits = [e[1] for e in expected]
    ko = [e[3] for e in expected]
    n, p = len(y), sum(y)
    assert (r.leads, r.converted) == (n, p)
    assert (r.knocked_out, r.knocked_out_converted) == (sum(ko), sum(c for c, k in zip(y, ko) if k))
    t = model["mql_threshold"]
    want = brute_threshold(scores, ko, y, t)
    assert r.threshold == t
    for key, value in want.items():
        got = getattr(r, key)
        assert close(got, value) if isinstance(value, float) else got == value, key
    conf = r.confusion
    assert conf.loc["MQL", "converted"] == want["mql_converted"]
    assert conf.loc["MQL", "not converted"] == want["mql"] - want["mql_converted"]
    assert conf.loc["not MQL", "converted"] == p - want["mql_converted"]
    assert conf.loc["not MQL", "not converted"] == n - want["mql"] - (p - want["mql_converted"])
    assert r.missed == p - want["mql_converted"]

    # every threshold from the lowest to the highest live score
    live = [s for s, k in zip(scores, ko) if not k]
    sweep = r.sweep
    if not live:
        assert sweep.empty
    else:
        assert list(sweep["threshold"]) == list(range(min(live), max(live) + 1))
        for row in sweep.itertuples(index=False):
            w = brute_threshold(scores, ko, y, row.threshold)
            assert (row.mql, row.converted) == (w["mql"], w["mql_converted"])
            assert close(row.precision, w["precision"]) and close(row.recall, w["recall"]) and close(row.f1, w["f1"])
            assert close(row.mql_rate, w["mql_rate"]) and close(row.lift, w["lift_at_threshold"])

    ranked = rank_scores(scores, ko)
    assert close(r.auc, roc_auc_score(y, ranked))
    assert close(r.auc, pairwise_auc(scores, ko, y))
    assert close(r.pr_auc, average_precision_score(y, ranked))

    want_dec = brute_deciles(scores, ko, y)
    for col in want_dec.columns:
        got, exp = r.deciles[col].to_numpy(dtype=float), want_dec[col].to_numpy(dtype=float)
        assert np.allclose(got, exp, rtol=0, atol=TOL, equal_nan=True), col

    grades = model["grades"]
    check_band_table(r.by_grade, "grade", [b["name"] for b in grades],
                     [[i for i in range(n) if band_of(fits[i], grades) == b["name"]] for b in grades], y)
    tiers = model["tiers"]
    tier_names = [b["name"] for b in tiers]
    members = [[i for i in range(n) if not ko[i] and band_of(scores[i], tiers) == name] for name in tier_names]
    if any(ko):
        tier_names, members = tier_names + ["knocked out"], members + [[i for i in range(n) if ko[i]]]
    check_band_table(r.by_tier, "tier", tier_names, members, y)

    dist = r.score_distribution
    if live:
        assert list(dist["score"]) == list(range(min(live), max(live) + 1))
        for row in dist.itertuples(index=False):
            at = [i for i in range(n) if not ko[i] and scores[i] == row.score]
            assert (row.leads, row.converted, row.not_converted) == (len(at), sum(y[i] for i in at), len(at) - sum(y[i] for i in at))


def tiny_expected():
    rows = [dict(zip(TINY_HEADER, r)) for r in TINY_ROWS]
    kinds = {"industry": "categorical", "employees": "numeric", "page_views": "numeric", "newsletter": "boolean"}
    return brute_scores(TINY_MODEL, rows, kinds), [r["converted"] == "yes" for r in rows]


# ----- the hand-built fixture ------------------------------------------------------------
def test_tiny_headline_numbers_by_hand(tiny, tiny_model):
    # Live scores: 80c 80c 55c 35 30 30 25 20 17c -4 -10; knocked out: 27 (not converted).
    r = backtest(tiny, tiny_model)
    assert (r.leads, r.converted, r.threshold) == (12, 4, 40)
    assert (r.mql, r.mql_converted, r.knocked_out, r.knocked_out_converted) == (3, 3, 1, 0)
    assert r.precision == 1.0 and r.recall == 0.75 and r.f1 == 6 / 7
    assert r.mql_rate == 0.25 and r.lift_at_threshold == 3.0 and r.conversion_rest == 1 / 9
    # AUC: 32 pairs; the two 80s and the 55 beat all 8 negatives, the 17 beats -4, -10 and the knocked-out lead.
    assert r.auc == pytest.approx(27 / 32, abs=1e-12)
    # AP: recall 2/4 at precision 2/2, 3/4 at 3/3, 4/4 at 4/9.
    assert r.pr_auc == pytest.approx(0.5 + 0.25 + 0.25 * 4 / 9, abs=1e-12)
    assert list(r.deciles["leads"]) == [1, 1, 1, 1, 2, 1, 1, 1, 1, 2]
    assert list(r.deciles["converted"]) == [1, 1, 1, 0, 0, 0, 0, 1, 0, 0]
    assert list(r.by_tier["leads"]) == [2, 5, 4, 1] and list(r.by_tier["converted"]) == [2, 1, 1, 0]
    assert list(r.by_grade["leads"]) == [3, 5, 4] and list(r.by_grade["converted"]) == [2, 1, 1]


def test_tiny_matches_brute_force(tiny, tiny_model):
    expected, y = tiny_expected()
    assert_backtest_matches(backtest(tiny, tiny_model), TINY_MODEL, expected, y)


def test_at_threshold_needs_no_rescoring(tiny, tiny_model):
    expected, y = tiny_expected()
    r = backtest(tiny, tiny_model)
    for t in range(-20, 100, 3):
        moved = r.at_threshold(t)
        fresh = backtest(tiny, tiny_model.replace(mql_threshold=t))
        want = brute_threshold([e[0] for e in expected], [e[3] for e in expected], y, t)
        for key, value in want.items():
            assert close(getattr(moved, key), value) if isinstance(value, float) else getattr(moved, key) == value
            assert close(getattr(moved, key), getattr(fresh, key))
        assert moved.threshold == t and moved.auc == r.auc


def test_engine_reused_across_moves(tiny, tiny_model):
    engine = ScoringEngine(tiny, tiny_model)
    rows = [dict(zip(TINY_HEADER, row)) for row in TINY_ROWS]
    kinds = {"industry": "categorical", "employees": "numeric", "page_views": "numeric", "newsletter": "boolean"}
    y = [row["converted"] == "yes" for row in rows]
    model = tiny_model
    for attribute, value, points in [("industry", "Software", -3), ("employees", "bin:0", 40), ("newsletter", False, 25)]:
        model = model.with_points(attribute, value, points)
        r = backtest(tiny, model, engine)
        assert_backtest_matches(r, model.to_dict(), brute_scores(model.to_dict(), rows, kinds), y)


def test_summary_is_json_ready(tiny, tiny_model):
    r = backtest(tiny, tiny_model.replace(mql_threshold=1000))  # no MQLs: precision is NaN -> None
    s = r.summary()
    text = json.dumps(s, allow_nan=False)
    assert json.loads(text)["precision"] is None
    assert s["mql"] == 0 and s["leads"] == 12 and len(s["deciles"]) == 10
    assert s["auc"] == pytest.approx(27 / 32)


def test_deciles_split_a_tie_proportionally(tmp_path):
    """20 leads; the top score is shared by 5 leads (2 converted) across deciles 1-3."""
    scores = [10] * 5 + [8, 7, 6, 5, 4, 3, 2, 1, 0, -1, -2, -3, -4, -5, -6]
    conv = [True, True, False, False, False, True] + [False] * 14
    rows = [[f"v{s}", "yes" if c else "no"] for s, c in zip(scores, conv)]
    path = write_csv(tmp_path / "ties.csv", ["level", "converted"], rows)
    leads = load_leads(path, "converted", store=tmp_path / "s.duckdb")
    model = ScoringModel.from_dict({"attributes": [{"name": "level", "kind": "categorical", "group": "fit",
                                                    "levels": [{"value": f"v{s}", "points": s} for s in set(scores)]}]})
    d = backtest(leads, model).deciles
    # deciles are 2 leads each; the 5-lead tie covers decile 1, decile 2 and half of decile 3
    assert list(d["leads"]) == [2] * 10
    assert np.allclose(d["converted"], [0.8, 0.8, 0.4 + 1, 0, 0, 0, 0, 0, 0, 0], atol=1e-12)
    assert list(d["max_score"][:4]) == [10, 10, 10, 7]
    assert list(d["min_score"][:4]) == [10, 10, 8, 6]
    assert abs(d["converted"].sum() - 3) < 1e-12


def test_deciles_with_distinct_scores_match_a_plain_sort(tmp_path):
    rng = np.random.default_rng(5)
    n = 37
    pts = rng.permutation(np.arange(-50, 50))[:n]
    conv = rng.random(n) < 0.3
    conv[:2] = True, False
    path = write_csv(tmp_path / "d.csv", ["level", "converted"], [[f"v{i}", "yes" if c else "no"] for i, c in enumerate(conv)])
    # 37 distinct values in 37 rows would be inferred as free text: make it an attribute explicitly
    leads = load_leads(path, "converted", store=tmp_path / "s.duckdb", roles={"level": RoleOverride(role="attribute", kind="categorical")})
    model = ScoringModel.from_dict({"attributes": [{"name": "level", "kind": "categorical", "group": "fit",
                                                    "levels": [{"value": f"v{i}", "points": int(p)} for i, p in enumerate(pts)]}]})
    d = backtest(leads, model).deciles
    ranked = conv[np.argsort(-pts)]
    bounds = [n * k // 10 for k in range(11)]
    assert list(d["converted"]) == [int(ranked[bounds[k] : bounds[k + 1]].sum()) for k in range(10)]
    assert list(d["max_score"]) == [int(np.sort(pts)[::-1][bounds[k]]) for k in range(10)]


def test_everyone_knocked_out(tiny, tiny_model):
    model = tiny_model.replace(knockouts=[{"attribute": "page_views", "at_least": 0, "when_missing": True}])
    r = backtest(tiny, model)
    assert r.knocked_out == 12 and r.mql == 0 and r.sweep.empty and r.score_distribution.empty
    assert r.auc == 0.5  # all tied
    assert math.isnan(r.precision)
    assert list(r.by_tier["tier"]) == ["hot", "warm", "cold", "knocked out"] and list(r.by_tier["leads"]) == [0, 0, 0, 12]
    expected, y = tiny_expected()
    assert_backtest_matches(r, model.to_dict(), [(t, f, e, True) for t, f, e, _ in expected], y)


def test_all_leads_tied(tiny):
    r = backtest(tiny, ScoringModel(mql_threshold=0))
    assert r.auc == 0.5 and r.pr_auc == pytest.approx(4 / 12)
    assert r.mql == 12 and list(r.sweep["threshold"]) == [0]
    assert np.allclose(r.deciles["conversion_rate"], 4 / 12)


@given(data=random_leads(), model_dict=random_models())
def test_random_backtests_match_brute_force(data, model_dict):
    leads = build_random(data)
    kept, y = kept_rows(data)
    expected = brute_scores(model_dict, kept, RANDOM_KINDS)
    assert_backtest_matches(backtest(leads, ScoringModel.from_dict(model_dict)), model_dict, expected, y)


@given(data=random_leads(min_rows=4, max_rows=25), model_dict=random_models(), seed=st.integers(0, 2**32 - 1))
def test_row_order_never_matters(data, model_dict, seed):
    model = ScoringModel.from_dict(model_dict)
    a = backtest(build_random(data), model)
    shuffled = dict(data, rows=random.Random(seed).sample(data["rows"], len(data["rows"])))
    b = backtest(build_random(shuffled), model)
    for field in ("leads", "converted", "mql", "mql_converted", "knocked_out", "knocked_out_converted"):
        assert getattr(a, field) == getattr(b, field)
    for field in ("precision", "recall", "f1", "mql_rate", "lift_at_threshold", "conversion_rest", "auc", "pr_auc"):
        assert close(getattr(a, field), getattr(b, field)), field
    for table in ("sweep", "deciles", "by_grade", "by_tier", "score_distribution"):
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table), check_exact=False, rtol=0, atol=TOL)


def test_an_engine_built_for_other_leads_is_not_used(tmp_path, tiny, tiny_model):
    """Same columns, same layout, different rows: the stale engine must not score the new leads."""
    rows = [dict(zip(TINY_HEADER, r)) for r in TINY_ROWS][::-1][:9]
    path = write_csv(tmp_path / "other.csv", TINY_HEADER, [[r[h] for h in TINY_HEADER] for r in rows])
    other = load_leads(path, "converted", store=tmp_path / "s.duckdb")
    stale = ScoringEngine(tiny, tiny_model)
    kinds = {"industry": "categorical", "employees": "numeric", "page_views": "numeric", "newsletter": "boolean"}
    expected = brute_scores(TINY_MODEL, rows, kinds)
    assert_backtest_matches(backtest(other, tiny_model, stale), TINY_MODEL, expected, [r["converted"] == "yes" for r in rows])
