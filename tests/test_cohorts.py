"""Cohorts over time: per-period counts and rates against a brute force over raw rows (pandas groupby), bands, and the time-shifted backtest."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from conftest import TINY_KINDS, SAMPLE_CSV, TINY_HEADER, TINY_MODEL, TINY_ROWS, band_of, brute_scores
from lead_model.data.leads import leads_from_table
from lead_model.engine.backtest import backtest
from lead_model.errors import LeadModelError
from lead_model.model.schema import ScoringModel
from lead_model.review import cohort_bands, cohorts, period_backtests, time_shifted_backtest

RATES = ["conversion", "mql_rate", "precision", "recall", "mql_conversion", "rest_conversion"]
COUNTS = ["leads", "converted", "mql", "mql_converted", "knocked_out"]


def quarter(date: str) -> str:
    y, m = int(date[:4]), int(date[5:7])
    return f"{y}-Q{(m - 1) // 3 + 1}"


def month(date: str) -> str:
    return date[:7]


def brute_frame(model: dict, rows: list[dict], kinds: dict, converted: list[bool], dates: list[str]) -> pd.DataFrame:
    """One row per raw lead: its brute-force score, knock-out, MQL flag, outcome and created date."""
    scored = brute_scores(model, rows, kinds)
    frame = pd.DataFrame(scored, columns=["score", "fit", "engagement", "ko"])
    frame["converted"] = converted
    frame["mql"] = (frame["score"] >= model.get("mql_threshold", 50)) & ~frame["ko"]
    frame["created"] = dates
    return frame


def brute_cohorts(frame: pd.DataFrame, label) -> pd.DataFrame:
    """Per-period counts and rates by pandas groupby; NaN where a denominator is 0."""
    f = frame.assign(period=[label(d) for d in frame["created"]], mql_converted=frame["mql"] & frame["converted"],
                     rest_converted=~frame["mql"] & frame["converted"], rest=~frame["mql"])
    g = f.groupby("period").agg(leads=("score", "size"), converted=("converted", "sum"), mql=("mql", "sum"),
                                mql_converted=("mql_converted", "sum"), rest=("rest", "sum"), rest_converted=("rest_converted", "sum"),
                                knocked_out=("ko", "sum"))
    div = lambda a, b: np.where(b > 0, a / np.maximum(b, 1), np.nan)  # noqa: E731
    g["conversion"] = div(g["converted"], g["leads"])
    g["mql_rate"] = div(g["mql"], g["leads"])
    g["precision"] = div(g["mql_converted"], g["mql"])
    g["recall"] = div(g["mql_converted"], g["converted"])
    g["mql_conversion"] = g["precision"]
    g["rest_conversion"] = div(g["rest_converted"], g["rest"])
    return g


def assert_matches(table: pd.DataFrame, expected: pd.DataFrame) -> None:
    got = table.set_index("period")
    got = got[got["leads"] > 0]  # periods in a gap have no raw rows
    assert list(got.index) == sorted(expected.index)
    for col in COUNTS:
        assert got[col].tolist() == expected.loc[got.index, col].astype(int).tolist(), col
    for col in RATES:
        np.testing.assert_allclose(got[col].to_numpy(float), expected.loc[got.index, col].to_numpy(float), rtol=0, atol=1e-9, err_msg=col)


# ----- the hand-built leads -----------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_frame():
    rows = [dict(zip(TINY_HEADER, r)) for r in TINY_ROWS]
    return brute_frame(TINY_MODEL, rows, TINY_KINDS, [r["converted"] == "yes" for r in rows], [r["created"] for r in rows])


@pytest.mark.parametrize("by, label", [("quarter", quarter), ("month", month)])
def test_tiny_periods_equal_a_brute_force(tiny, tiny_model, tiny_frame, by, label):
    table = cohorts(tiny, tiny_model, by=by)
    assert_matches(table, brute_cohorts(tiny_frame, label))
    assert table.attrs["undated"] == 0


def test_an_empty_denominator_is_nan_never_a_crash(tiny, tiny_model):
    # a threshold no lead reaches: no MQLs, so precision is undefined in every period; recall is 0 where leads converted
    table = cohorts(tiny, tiny_model.replace(mql_threshold=500), by="month")
    assert table["mql"].sum() == 0
    assert table["precision"].isna().all() and table["mql_conversion"].isna().all()
    assert (table.loc[table["converted"] > 0, "recall"] == 0).all()
    assert table.loc[table["converted"] == 0, "recall"].isna().all()
    # 2024-04 has two leads, neither converted: conversion 0, recall undefined, lift undefined (no ZeroDivisionError)
    april = table.set_index("period").loc["2024-04"]
    assert april["leads"] == 2 and april["conversion"] == 0 and math.isnan(april["recall"])


def test_a_month_without_leads_is_a_row_of_zeros_and_nans():
    frame = pd.DataFrame({
        "created": pd.to_datetime(["2024-01-03", "2024-01-09", "2024-03-02", "2024-03-20"]).date,
        "segment": ["a", "b", "a", "b"], "converted": ["yes", "no", "no", "yes"],
    })
    leads = leads_from_table(frame, "converted")
    model = ScoringModel.from_dict({"attributes": [{"name": "segment", "kind": "categorical", "group": "fit", "levels": [{"value": "a", "points": 10}]}],
                                    "mql_threshold": 5})
    table = cohorts(leads, model, by="month").set_index("period")
    assert list(table.index) == ["2024-01", "2024-02", "2024-03"]
    feb = table.loc["2024-02"]
    assert feb["leads"] == 0 and feb["mql"] == 0
    assert all(math.isnan(feb[c]) for c in RATES + ["auc"])
    assert table.loc["2024-01", "mql"] == 1 and table.loc["2024-01", "precision"] == 1.0


def test_tiny_bands_equal_a_brute_force(tiny, tiny_model, tiny_frame):
    for band, column, bands in (("tier", "score", TINY_MODEL["tiers"]), ("grade", "fit", TINY_MODEL["grades"])):
        got = cohort_bands(tiny, tiny_model, by="quarter", band=band)
        f = tiny_frame.assign(period=[quarter(d) for d in tiny_frame["created"]])
        f["band"] = [band_of(s, bands) for s in f[column]]
        if band == "tier":  # knocked-out leads have a tier of their own
            f.loc[f["ko"], "band"] = "knocked out"
        expected = f.groupby(["period", "band"]).agg(leads=("score", "size"), converted=("converted", "sum"))
        for row in got.itertuples(index=False):
            want = expected.loc[(row.period, row.band)] if (row.period, row.band) in expected.index else None
            assert row.leads == (0 if want is None else int(want["leads"])), (band, row)
            assert row.converted == (0 if want is None else int(want["converted"])), (band, row)
            if row.leads:
                assert abs(row.conversion - row.converted / row.leads) < 1e-12
            else:
                assert math.isnan(row.conversion)
        names = [b["name"] for b in bands] + (["knocked out"] if band == "tier" else [])
        assert got["band"].tolist() == names * 2  # every band in every period, in the model's order
    with pytest.raises(LeadModelError, match="'tier' or 'grade'"):
        cohort_bands(tiny, tiny_model, band="decile")


def test_periods_add_up_to_the_whole_backtest(tiny, tiny_model):
    pb = period_backtests(tiny, tiny_model, by="month")
    whole = backtest(tiny, tiny_model)
    spanned = pb.span(None, None)
    for key in ("leads", "converted", "mql", "mql_converted", "knocked_out", "precision", "recall", "auc"):
        assert getattr(spanned, key) == pytest.approx(getattr(whole, key), abs=1e-12), key
    assert sum(r.mql for r in pb.results) == whole.mql
    with pytest.raises(LeadModelError, match="give the earlier period first"):
        pb.span("2024-05", "2024-02")


# ----- the bundled sample ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample_frame(sample_leads, sample_model):
    raw = pd.read_csv(SAMPLE_CSV, keep_default_na=False, na_values=[""])
    assert len(raw) == sample_leads.n_leads  # every row has an outcome: each one is a lead
    kinds = {a.name: a.kind for a in sample_model.attributes}
    frame = brute_frame(sample_model.to_dict(), raw.to_dict("records"), kinds, (raw["converted"] == "Yes").tolist(), raw["created_date"].tolist())
    frame["amount"] = raw["opportunity_amount"].fillna(0.0).to_numpy()
    return frame


def test_sample_quarters_equal_a_brute_force(sample_leads, sample_model, sample_frame):
    table = cohorts(sample_leads, sample_model)
    assert_matches(table, brute_cohorts(sample_frame, quarter))
    # the documented volume per quarter (sample_data/README.md)
    assert table["leads"].tolist() == [5279, 5523, 5862, 6167, 6216, 6656, 7103, 7194]


def test_sample_months_and_pipeline_equal_a_brute_force(sample_leads, sample_model, sample_frame):
    table = cohorts(sample_leads, sample_model, by="month")
    assert len(table) == 24
    assert_matches(table, brute_cohorts(sample_frame, month))
    assert sample_leads.amount_column == "opportunity_amount"
    f = sample_frame.assign(period=[month(d) for d in sample_frame["created"]])
    captured = f[f["mql"]].groupby("period")["amount"].sum()
    missed = f[~f["mql"]].groupby("period")["amount"].sum()
    got = table.set_index("period")
    np.testing.assert_allclose(got["pipeline_captured"], captured.loc[got.index], rtol=1e-12)
    np.testing.assert_allclose(got["pipeline_missed"], missed.loc[got.index], rtol=1e-12)


def test_time_shifted_backtest_counts_and_judges_the_leads_after_the_cutoff(sample_leads, sample_model, sample_frame):
    s = time_shifted_backtest(sample_leads, sample_model, "2024-Q4")
    q = pd.Series([quarter(d) for d in sample_frame["created"]])
    before, after = q <= "2024-Q4", q > "2024-Q4"
    assert s.before.leads == int(before.sum()) == 5279 + 5523 + 5862 + 6167
    assert s.after.leads == int(after.sum())
    f = sample_frame
    for part, mask in ((s.before, before), (s.after, after)):
        mql = f["mql"][mask]
        assert part.mql == int(mql.sum())
        assert part.precision == pytest.approx((mql & f["converted"][mask]).sum() / mql.sum(), abs=1e-9)
        assert part.recall == pytest.approx((mql & f["converted"][mask]).sum() / f["converted"][mask].sum(), abs=1e-9)
    assert not s.suggested and s.model is sample_model
    assert s.sentence().startswith("Designed on 2024-Q1 to 2024-Q4 (22,831 leads)")
    assert "judged on 2025-Q1 to 2025-Q4 (27,169 leads)" in s.sentence()
    table = s.table().set_index("key")
    assert table.loc["mql", "before"] == s.before.mql and table.loc["mql", "delta"] == s.after.mql - s.before.mql


def test_time_shifted_backtest_errors(tiny, tiny_model, bank_leads):
    with pytest.raises(LeadModelError, match="2024-Q2 is the last quarter of the data, so no lead comes after it"):
        time_shifted_backtest(tiny, tiny_model, "2024-Q2")
    with pytest.raises(LeadModelError, match="is not a quarter"):
        time_shifted_backtest(tiny, tiny_model, "Q1")
    with pytest.raises(LeadModelError, match="has no created date column"):
        time_shifted_backtest(bank_leads, tiny_model, "2024-Q1")


def test_time_shifted_suggestion_is_fit_only_on_the_leads_up_to_the_cutoff(sample_leads_fair, sample_model):
    s = time_shifted_backtest(sample_leads_fair, sample_model, "2025-Q2", suggest=True, max_attributes=4)
    assert s.suggested and s.suggestion is not None and s.model is s.suggestion.model
    # the suggestion trained on every dated lead up to 2025-Q2, and nothing after it
    assert s.suggestion.split.n_train == s.before.leads == 5279 + 5523 + 5862 + 6167 + 6216 + 6656
    assert s.after.leads == 7103 + 7194
    assert s.after.auc > 0.7  # a fit on six quarters still ranks the next two
    assert s.sentence().startswith("Suggested on 2024-Q1 to 2025-Q2")
