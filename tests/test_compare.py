"""Model comparison: changes, KPI deltas, crossers against a brute force over per-lead scores, and examples with their points."""

from __future__ import annotations

import copy
import math

import pytest

from conftest import TINY_KINDS, TINY_HEADER, TINY_MODEL, TINY_ROWS, attribute_points, brute_scores
from lead_model.engine.backtest import backtest
from lead_model.engine.revenue import pipeline
from lead_model.errors import LeadModelError
from lead_model.model.diff import describe_changes
from lead_model.model.schema import ScoringModel
from lead_model.review import compare
from lead_model.review.compare import KPIS



def tiny_variant() -> dict:
    m = copy.deepcopy(TINY_MODEL)
    m["attributes"][0]["levels"][1]["points"] = 35  # Retail 5 -> 35: three Retail leads enter
    m["attributes"][3]["levels"][0]["points"] = 0  # newsletter true 10 -> 0
    m["mql_threshold"] = 46  # L06 (45 once its newsletter scores 0) leaves
    return m


def brute_mql(model: dict, rows: list[dict]) -> list[bool]:
    return [total >= model["mql_threshold"] and not ko for total, _, _, ko in brute_scores(model, rows, TINY_KINDS)]


def test_crossers_equal_a_brute_force(tiny, tiny_model):
    after = ScoringModel.from_dict(tiny_variant())
    c = compare(tiny, tiny_model, after)
    rows = [dict(zip(TINY_HEADER, r)) for r in TINY_ROWS]
    before_mql, after_mql = brute_mql(TINY_MODEL, rows), brute_mql(tiny_variant(), rows)
    conv = [r["converted"] == "yes" for r in rows]
    entered = [i for i in range(len(rows)) if after_mql[i] and not before_mql[i]]
    left = [i for i in range(len(rows)) if before_mql[i] and not after_mql[i]]
    assert entered and left  # the variant moves leads both ways
    assert (c.crossers.entered, c.crossers.left) == (len(entered), len(left))
    assert c.crossers.entered_converted == sum(conv[i] for i in entered)
    assert c.crossers.left_converted == sum(conv[i] for i in left)
    table = c.crossers.table().set_index("direction")
    assert table.loc["become MQL", "leads"] == len(entered)
    # the examples are exactly the crossing leads (fewer than 20), with their raw ids and brute-force points
    assert sorted(c.examples["row"]) == sorted(entered + left)
    assert c.examples["lead_id"].tolist() == [rows[r]["lead_id"] for r in c.examples["row"]]
    for ex in c.examples.to_dict("records"):
        raw = rows[ex["row"]]
        assert ex["mql_before"] == before_mql[ex["row"]] and ex["mql_after"] == after_mql[ex["row"]]
        assert ex["mql_before"] != ex["mql_after"]
        for tag, model in (("before", TINY_MODEL), ("after", tiny_variant())):
            for attr in model["attributes"]:
                assert ex[f"{attr['name']} ({tag})"] == attribute_points(attr, raw[attr["name"]]), (tag, attr["name"], raw)
        assert ex["converted"] == (raw["converted"] == "yes")
    # entering and leaving take turns
    assert c.examples["mql_after"].tolist()[:2] == [True, False]


def test_kpis_are_both_backtests_and_their_delta(tiny, tiny_model):
    after = ScoringModel.from_dict(tiny_variant())
    c = compare(tiny, tiny_model, after)
    rb, ra = backtest(tiny, tiny_model), backtest(tiny, after)
    kpis = c.kpis.set_index("key")
    assert list(kpis.index) == [k for k, _, _ in KPIS]  # tiny has no amount column: no pipeline rows
    for key, _, _ in KPIS:
        before, after_value = float(getattr(rb, key)), float(getattr(ra, key))
        assert kpis.loc[key, "before"] == pytest.approx(before, nan_ok=True)
        assert kpis.loc[key, "after"] == pytest.approx(after_value, nan_ok=True)
        assert kpis.loc[key, "delta"] == pytest.approx(after_value - before, nan_ok=True)
    assert c.changes == describe_changes(tiny_model, after)
    assert "industry: Retail 5 -> 35" in c.changes and "MQL threshold 40 -> 46" in c.changes
    assert c.before_pipeline is None and c.after_pipeline is None
    assert c.before_result.deciles["lift"].notna().any()  # the overlaid lift and gains charts read these


def test_the_same_model_changes_nothing(tiny, tiny_model):
    c = compare(tiny, tiny_model, tiny_model)
    assert c.changes == [] and (c.crossers.entered, c.crossers.left) == (0, 0)
    assert c.examples.empty and (c.kpis["delta"].fillna(0) == 0).all()
    assert math.isnan(c.crossers.table()["conversion"][0])
    with pytest.raises(LeadModelError, match="cannot be negative"):
        compare(tiny, tiny_model, tiny_model, examples=-1)


def test_sample_comparison_with_pipeline(sample_leads, sample_model):
    after = sample_model.with_points("job_level", "Manager", 5).replace(mql_threshold=55)
    c = compare(sample_leads, sample_model, after, examples=6)
    sb, sa = sample_leads.engine(sample_model).scores(sample_model), sample_leads.engine(after).scores(after)
    # brute force over per-lead scores: the MQL rule written out here
    mb = (sb.total >= 60) & ~sb.knocked_out
    ma = (sa.total >= 55) & ~sa.knocked_out
    assert c.crossers.entered == int((ma & ~mb).sum()) and c.crossers.left == int((mb & ~ma).sum())
    assert c.crossers.entered_converted == int((ma & ~mb & sample_leads.converted).sum())
    kpis = c.kpis.set_index("key")
    amount = sample_leads.amount
    captured_before = float(amount[mb & ~(amount != amount)].sum())
    assert kpis.loc["pipeline_captured", "before"] == pytest.approx(captured_before)
    assert kpis.loc["pipeline_missed", "after"] == pytest.approx(pipeline(sample_leads, ma).missed)
    assert kpis.loc["mql", "delta"] == c.crossers.entered - c.crossers.left
    assert len(c.examples) == 6 and c.examples["lead_id"].str.match(r"L\d{7}").all()
    assert {"job_level", "job_level (before)", "job_level (after)"} <= set(c.examples.columns)
    out = c.to_json()
    assert set(out) >= {"changes", "kpis", "crossers", "examples"}
    assert out["crossers"]["entered"] == c.crossers.entered
