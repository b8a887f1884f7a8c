"""Pipeline figures: which column is the deal amount, the MQLs' share of it, the Designer's tile, and subsets of leads."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from conftest import SAMPLE_CSV, brute_scores
from lead_model.data.leads import leads_from_table
from lead_model.data.roles import ColumnProfile, ColumnRole, guess_amount_column
from lead_model.engine.backtest import backtest
from lead_model.engine.revenue import pipeline
from lead_model.errors import LeadModelError
from lead_model.formatting import money
from lead_model.workbench.describe import pipeline_tile


def _profile(name: str, dtype: str, numeric_share: float = 1.0) -> ColumnProfile:
    return ColumnProfile(name, dtype, 100, 0, 0, {}, 50, numeric_share, ())


@pytest.mark.parametrize(
    "name, dtype, share, expected",
    [
        ("opportunity_amount", "integer", 1.0, True),
        ("Deal Value", "float", 1.0, True),
        ("pipeline", "text", 0.99, True),
        ("ACV", "integer", 1.0, True),
        ("annual_revenue", "integer", 1.0, False),  # a company's size: a fit attribute
        ("amount_notes", "text", 0.1, False),  # text, not numbers
        ("paramount_visits", "integer", 1.0, False),  # 'amount' inside another word
    ],
)
def test_amount_column_is_found_by_name_and_numbers(name, dtype, share, expected):
    profiles = {name: _profile(name, dtype, share), "x": _profile("x", "integer")}
    roles = {name: ColumnRole(name, "attribute", "numeric", "fit"), "x": ColumnRole("x", "attribute", "numeric", "fit")}
    assert (guess_amount_column(profiles, roles) == name) is expected


def test_outcome_or_id_is_never_the_amount():
    profiles = {"amount": _profile("amount", "integer")}
    assert guess_amount_column(profiles, {"amount": ColumnRole("amount", "outcome")}) is None




def test_pipeline_is_the_amount_of_mqls_brute_force():
    rng = np.random.default_rng(5)
    n = 400
    frame = pd.DataFrame({
        "industry": rng.choice(["Software", "Retail", "Education", ""], n),
        "page_views": rng.integers(0, 20, n),
        "deal amount": np.where(rng.random(n) < 0.3, rng.integers(1, 100_000, n).astype(float), np.nan),
        "converted": rng.choice(["yes", "no"], n),
    })
    from lead_model.model.schema import ScoringModel

    model = ScoringModel.from_dict({
        "metadata": {"name": "m"}, "mql_threshold": 15,
        "attributes": [
            {"name": "industry", "kind": "categorical", "group": "fit", "levels": [{"value": "Software", "points": 10}, {"value": "Retail", "points": 5}]},
            {"name": "page_views", "kind": "numeric", "group": "engagement", "bins": [{"min": None, "points": 0}, {"min": 5, "points": 10}, {"min": 10, "points": 20}]},
        ],
        "knockouts": [{"attribute": "industry", "values": ["Education"]}],
    })
    leads = leads_from_table(frame, "converted", model=model)
    assert leads.amount_column == "deal amount"
    s = leads.engine(model).scores(model)
    got = pipeline(leads, s.is_mql(model.mql_threshold))
    # brute force on the raw rows, in file order
    rows = frame.to_dict(orient="records")
    kinds = {"industry": "categorical", "page_views": "numeric"}
    scored = brute_scores(model.to_dict(), [{**r, "industry": r["industry"] or None} for r in rows], kinds)
    captured = sum(r["deal amount"] for r, (total, _, _, ko) in zip(rows, scored) if total >= 15 and not ko and not math.isnan(r["deal amount"]))
    total = float(np.nansum(frame["deal amount"]))
    assert got.captured == pytest.approx(captured, rel=1e-12)
    assert got.missed == pytest.approx(total - captured, rel=1e-12)
    assert got.captured_share == pytest.approx(captured / total, rel=1e-12)
    # the backtest's MQL count is the same rule
    assert int(s.is_mql(15).sum()) == backtest(leads, model).mql


def test_no_amount_column_means_no_pipeline(tiny):
    assert tiny.amount is None and pipeline(tiny, np.zeros(tiny.n_leads, dtype=bool)) is None


def test_pipeline_tile_text_and_delta():
    from lead_model.engine.revenue import Pipeline

    now, then = Pipeline(12_345_678.0, 7_000_000.0, 19_345_678.0), Pipeline(10_000_000.0, 9_345_678.0, 19_345_678.0)
    tile = pipeline_tile(now, then)
    assert tile.label == "Pipeline" and tile.value == "12.3M (64%)"
    assert tile.delta == f"{(now.captured - then.captured) / now.total * 100:+.1f} pts"
    assert pipeline_tile(None, then) is None
    assert pipeline_tile(Pipeline(0.0, 0.0, 0.0), None).value == "0 (–)"


@pytest.mark.parametrize("x, text", [(950, "950"), (999.4, "999"), (45_600, "45.6k"), (999_600, "1.0M"), (12_345_678, "12.3M"), (-2_500, "-2.5k"), (float("nan"), "–")])
def test_money(x, text):
    assert money(x) == text


def test_sample_designer_tiles_show_pipeline(sample_leads, sample_model):
    from lead_model.workbench.workshop import Workbench

    wb = Workbench(sample_leads, sample_model)
    tiles = {t.label: t for t in wb.tiles()}
    raw = pd.read_csv(SAMPLE_CSV, usecols=["opportunity_amount"])
    assert wb.pipeline().total == pytest.approx(float(raw["opportunity_amount"].sum()))
    assert tiles["Pipeline"].value.endswith(f"({wb.pipeline().captured_share:.0%})")


def test_subset_backtests_like_the_leads_loaded_alone(sample_leads, sample_model):
    cut = np.datetime64("2025-01-01")
    early = sample_leads.subset(sample_leads.created < cut)
    raw = pd.read_csv(SAMPLE_CSV, keep_default_na=False, dtype=str)
    alone = leads_from_table(raw[raw["created_date"] < "2025-01-01"].reset_index(drop=True), "converted", model=sample_model)
    a, b = backtest(early, sample_model), backtest(alone, sample_model)
    assert (a.leads, a.converted, a.mql, a.mql_converted, a.knocked_out) == (b.leads, b.converted, b.mql, b.mql_converted, b.knocked_out)
    assert a.auc == pytest.approx(b.auc, abs=1e-12)
    assert np.array_equal(np.sort(early.row_index), np.flatnonzero(raw["created_date"] < "2025-01-01"))
    assert early.amount.shape == (early.n_leads,) and early.created.max() < cut


def test_subset_refuses_a_wrong_mask(tiny):
    with pytest.raises(LeadModelError, match="one True/False per lead"):
        tiny.subset(np.ones(3, dtype=bool))
    with pytest.raises(LeadModelError, match="no leads"):
        tiny.subset(np.zeros(tiny.n_leads, dtype=bool))


def test_scoring_only_the_leads_with_an_amount_gives_the_same_pipeline(sample_leads, sample_model):
    from lead_model.engine.revenue import amount_leads, model_pipeline

    carriers = amount_leads(sample_leads)
    assert carriers.n_leads == int((np.nan_to_num(sample_leads.amount) != 0).sum()) < sample_leads.n_leads
    for model in (sample_model, sample_model.replace(mql_threshold=40), sample_model.with_points("job_level", "VP", 45)):
        every = pipeline(sample_leads, sample_leads.engine(model).scores(model).is_mql(model.mql_threshold))
        fast = model_pipeline(sample_leads, carriers, model)
        assert (fast.captured, fast.total) == pytest.approx((every.captured, every.total), rel=1e-12)


def test_no_amount_at_all_is_a_zero_pipeline():
    frame = pd.DataFrame({"deal_amount": [np.nan, 0.0, np.nan], "industry": ["a", "b", "a"], "converted": ["yes", "no", "no"]})
    from lead_model.engine.revenue import amount_leads, model_pipeline
    from lead_model.model.starter import starter_model

    leads = leads_from_table(frame, "converted")
    assert amount_leads(leads) is None
    got = model_pipeline(leads, None, starter_model(leads))
    assert (got.captured, got.missed, got.total) == (0.0, 0.0, 0.0) and math.isnan(got.captured_share)
