"""review(): the sample's documented drift and rising conversion, the summary's sentences, to_json's keys, and errors."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from lead_model.errors import LeadModelError
from lead_model.review import cohorts, review
from lead_model.review.summary import changed, rate_sentence, volume_sentence

ISSUE_KEYS = {"by", "reference", "recent", "periods", "score_psi", "attributes", "summary"}
PERIOD_KEYS = {"period", "leads", "converted", "mql", "mql_rate", "precision", "recall", "mql_conversion", "rest_conversion"}
ATTRIBUTE_KEYS = {"attribute", "psi", "verdict", "levels"}
LEVEL_KEYS = {"level", "reference_share", "recent_share"}


@pytest.fixture(scope="module")
def sample_review(sample_leads_fair, sample_model):
    return review(sample_leads_fair, sample_model)


def test_the_sample_review_reports_the_documented_drift_and_rising_conversion(sample_review):
    r = sample_review
    assert (r.by, r.reference, r.recent) == ("quarter", "2024-Q1", "2025-Q4")
    # sample_data/README.md: conversion about 7.6% in 2024-Q1 and 10.1% in 2025-Q4; the lead_source mix shifts
    conversion = r.periods.set_index("period")["conversion"]
    assert conversion["2024-Q1"] == pytest.approx(0.076, abs=0.002) and conversion["2025-Q4"] == pytest.approx(0.101, abs=0.002)
    assert "Conversion rose from 7.6% to 10% between 2024-Q1 and 2025-Q4." in r.summary
    assert r.attributes[0].attribute == "lead_source" and r.attributes[0].verdict == "watch"
    drift = [s for s in r.summary if "drift PSI" in s]
    assert drift == [f"lead_source drift PSI {r.attributes[0].psi:.2f} (watch), driven by Purchased List falling from 20% to 9.7% of leads."]
    assert r.score_psi == r.score.psi and r.score.verdict == "stable"
    assert any(s.startswith("Score distribution PSI") for s in r.summary)
    assert r.summary[0] == "Leads per quarter rose from 5,279 in 2024-Q1 to 7,194 in 2025-Q4 (+36%)."
    assert r.undated == 0 and not any("no created date" in s for s in r.summary)
    assert all("\n" not in s and s.endswith(".") for s in r.summary)


def test_review_tables_are_the_cohort_tables(sample_review, sample_leads_fair, sample_model):
    pd.testing.assert_frame_equal(sample_review.periods, cohorts(sample_leads_fair, sample_model))
    tiers = sample_review.tiers
    assert set(tiers["band"]) == {t.name for t in sample_model.tiers} | {"knocked out"}
    assert tiers.groupby("period")["leads"].sum().tolist() == sample_review.periods["leads"].tolist()
    assert sample_review.grades.groupby("period")["leads"].sum().tolist() == sample_review.periods["leads"].tolist()
    top = sample_review.drift_table.iloc[0]
    assert (top["attribute"], top["moved_most"]) == ("lead_source", "Purchased List")


def test_to_json_has_the_issue_keys(sample_review):
    out = sample_review.to_json()
    assert ISSUE_KEYS <= set(out)
    assert [p["period"] for p in out["periods"]] == list(sample_review.periods["period"])
    assert all(PERIOD_KEYS <= set(p) for p in out["periods"])
    assert list(out["periods"][0])[: len(PERIOD_KEYS)] == ["period", "leads", "converted", "mql", "mql_rate", "precision", "recall", "mql_conversion", "rest_conversion"]
    assert all(ATTRIBUTE_KEYS <= set(a) for a in out["attributes"])
    assert all(LEVEL_KEYS <= set(lv) for a in out["attributes"] for lv in a["levels"])
    assert out["attributes"][0]["attribute"] == "lead_source"
    assert out["summary"] == sample_review.summary
    assert isinstance(out["periods"][0]["leads"], int) and isinstance(out["score_psi"], float)
    json.dumps(out, allow_nan=False)  # NaN would not be JSON


def test_reference_and_recent_are_chosen_and_checked(sample_leads_fair, sample_model):
    r = review(sample_leads_fair, sample_model, by="month", reference="2025-01", recent="2025-6", model_label="the live model")
    assert (r.reference, r.recent) == ("2025-01", "2025-06") and len(r.periods) == 24
    assert any(s.startswith("Precision of the live model") for s in r.summary)
    with pytest.raises(LeadModelError, match=r"^2026-01 is outside the data, which runs from 2024-01 to 2025-12"):
        review(sample_leads_fair, sample_model, by="month", recent="2026-01")
    with pytest.raises(LeadModelError, match="is a quarter but the review is by month"):
        review(sample_leads_fair, sample_model, by="month", reference="2024-Q1")
    same = review(sample_leads_fair, sample_model, reference="2024-Q3", recent="2024-Q3")
    assert same.summary[0].startswith("The reference and recent periods are both 2024-Q3")
    assert same.score_psi == 0.0 and all(a.psi == 0.0 for a in same.attributes)


def test_data_without_created_dates_is_one_sentence(bank_leads_fair):
    from lead_model.model.schema import ScoringModel

    model = ScoringModel.from_dict({"attributes": [{"name": "job", "kind": "categorical", "group": "fit", "levels": [{"value": "management", "points": 10}]}]})
    with pytest.raises(LeadModelError) as err:
        review(bank_leads_fair, model)
    assert str(err.value).startswith(f"'{bank_leads_fair.name}' has no created date column, so its leads cannot be put in periods; pick one on the Data page")


def test_undated_leads_are_said(tiny_model):
    from conftest import TINY_HEADER, TINY_ROWS
    from lead_model.data.leads import leads_from_table

    rows = [list(r) for r in TINY_ROWS]
    rows[1][1] = None
    rows[4][1] = None
    frame = pd.DataFrame(rows, columns=TINY_HEADER)
    frame["created"] = pd.to_datetime(frame["created"]).dt.date
    leads = leads_from_table(frame, "converted", model=tiny_model)
    r = review(leads, tiny_model, by="quarter")
    assert r.undated == 2 and r.periods["leads"].sum() == 10
    assert r.summary[-1] == "2 leads have no created date (created): counted apart, in no period."
    assert r.to_json()["undated"] == 2


def test_rates_rise_or_fall_only_beyond_chance():
    assert changed(0.076, 5279, 0.101, 7194) == 1
    assert changed(0.30, 500, 0.33, 500) == 0  # 3 points on 500 MQLs each is within chance
    assert changed(0.30, 50_000, 0.33, 50_000) == 1
    assert changed(0.41, 2000, 0.33, 2000) == -1
    assert changed(math.nan, 10, 0.2, 10) == 0 and changed(0.1, 0, 0.2, 10) == 0
    assert rate_sentence("Precision of the live model", 0.41, 2000, 0.33, 2000, "2025-Q1", "2025-Q3", "no MQLs") == (
        "Precision of the live model fell from 41% to 33% between 2025-Q1 and 2025-Q3.")
    assert rate_sentence("Precision", math.nan, 0, 0.3, 10, "2025-Q1", "2025-Q3", "no MQLs") == "Precision is not defined in 2025-Q1 (no MQLs)."
    assert "held steady (30% in 2025-Q1, 33% in 2025-Q3" in rate_sentence("Precision", 0.30, 500, 0.33, 500, "2025-Q1", "2025-Q3", "no MQLs")
    assert volume_sentence("month", 100, 100, "2024-01", "2024-02") == "Leads per month stayed at 100 (2024-01 and 2024-02)."
    assert volume_sentence("quarter", 200, 150, "2024-Q1", "2024-Q2") == "Leads per quarter fell from 200 in 2024-Q1 to 150 in 2024-Q2 (-25%)."


def test_a_period_without_leads_cannot_be_a_drift_end():
    from lead_model.data.leads import leads_from_table
    from lead_model.model.schema import ScoringModel

    frame = pd.DataFrame({"created": pd.to_datetime(["2024-01-03", "2024-01-09", "2024-03-02", "2024-03-20"]).date,
                          "segment": ["a", "b", "a", "b"], "converted": ["yes", "no", "no", "yes"]})
    leads = leads_from_table(frame, "converted")
    model = ScoringModel.from_dict({"attributes": [{"name": "segment", "kind": "categorical", "group": "fit", "levels": [{"value": "a", "points": 10}]}]})
    with pytest.raises(LeadModelError, match=r"^2024-02 holds no leads, so drift cannot be measured from or to it; pick a month with leads\.$"):
        review(leads, model, by="month", reference="2024-02")
    r = review(leads, model, by="month")
    assert r.periods["leads"].tolist() == [2, 0, 2]
    assert r.summary[0] == "Leads per month stayed at 2 (2024-01 and 2024-03)."
