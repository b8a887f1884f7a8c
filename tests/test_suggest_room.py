"""Suggestions a room can follow: what the kept caps and knock-outs cost, bands out of reach, bands for the new scale,
notes on points that disagree with the raw rate, the current model's own bins, and the bands and details edits."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lead_model.data.leads import leads_from_table
from lead_model.engine.backtest import backtest
from lead_model.errors import LeadModelError
from lead_model.model.bands import band_table, bands_text, parse_bands, suggest_bands, unreachable_bands
from lead_model.model.schema import DEFAULT_GRADES, DEFAULT_TIERS, Band, Caps, ScoringModel
from lead_model.suggest.fit import JOINT_NOTE, KeptRules, current_bins, suggest, suggest_points, suggestion_report, with_current_points
from lead_model.suggest.validation import subset
from lead_model.workbench.workshop import Workbench
from pages.callbacks import bands_from_editor


def model_with(**changes) -> ScoringModel:
    return ScoringModel().replace(**changes)


# ----- bands out of reach ------------------------------------------------------------------------
def test_no_caps_nothing_out_of_reach():
    assert unreachable_bands(ScoringModel()) == []


def test_fit_cap_below_a_grade_and_total_cap_below_a_tier():
    m = model_with(caps={"fit": 30, "engagement": None, "total": 60}, mql_threshold=50)
    out = unreachable_bands(m)
    # default grades A 40, B 25, C 10: only A is out of reach at fit 30; default tiers hot 80, warm 50: only hot at total 60
    assert len(out) == 2
    assert out[0].startswith("Grade A is out of reach") and "at least 40" in out[0] and "fit cap is 30" in out[0]
    assert out[1].startswith("Tier hot is out of reach") and "at least 80" in out[1] and "total cap is 60" in out[1]


def test_fit_and_engagement_caps_together_bound_the_total_and_the_threshold():
    m = model_with(caps={"fit": 20, "engagement": 25, "total": None}, mql_threshold=50)
    out = unreachable_bands(m)
    # grades A (40) and B (25) need more than the fit cap 20; C (10) does not
    assert [s.split(" ")[1] for s in out if s.startswith("Grade")] == ["A", "B"]
    # 20 + 25 = 45 < warm 50 and < hot 80, and the threshold 50 cannot be reached either
    assert any(s.startswith("Tier hot") and "add up to 45" in s for s in out)
    assert any(s.startswith("Tier warm") for s in out)
    assert any(s.startswith("No lead can become an MQL") and "threshold is 50" in s for s in out)
    assert all(s.endswith(".") for s in out)


def test_a_band_at_the_cap_is_reachable():
    m = model_with(caps={"fit": 40, "engagement": None, "total": 80}, mql_threshold=80)
    assert unreachable_bands(m) == []


# ----- bands for a scale ------------------------------------------------------------------------
def test_suggested_grades_follow_fit_shares_and_tiers_the_threshold():
    fit = np.arange(100)  # 0..99: the top 20% reach 80, the top 50% reach 50, the top 80% reach 20
    total = np.arange(100)
    ko = np.zeros(100, bool)
    m = model_with(mql_threshold=60)
    grades, tiers = suggest_bands(m, fit, total, ko)
    assert [b.name for b in grades] == ["A", "B", "C", "D"]
    assert [b.min_score for b in grades] == [80, 50, 20, None]  # multiples of 5: the span is 99 points
    # warm at the threshold 60; hot at the top half of the 40 MQLs (60..99): 80
    assert [(b.name, b.min_score) for b in tiers] == [("hot", 80), ("warm", 60), ("cold", None)]
    t = band_table(m.replace(grades=grades, tiers=tiers), fit, total, fit >= 50)
    assert t.loc[t["kind"] == "grade", "leads"].tolist() == [20, 30, 30, 20]
    assert t.loc[t["kind"] == "grade", "conversion_rate"].tolist() == [1.0, 1.0, 0.0, 0.0]
    assert t.loc[t["kind"] == "tier", "leads"].tolist() == [20, 20, 60]


def test_small_scales_round_to_whole_points_and_bands_stay_strictly_decreasing():
    fit = np.array([0] * 50 + [1] * 30 + [2] * 20)  # three scores only
    grades, _ = suggest_bands(ScoringModel(), fit, fit, np.zeros(fit.size, bool))
    mins = [b.min_score for b in grades[:-1]]
    assert all(b < a for a, b in zip(mins, mins[1:]))
    assert grades[0].min_score == 2  # the top 20%
    ScoringModel().replace(grades=grades)  # the schema accepts them


def test_no_spread_or_no_mql_keeps_the_models_bands():
    m = ScoringModel()
    grades, tiers = suggest_bands(m, np.zeros(10), np.zeros(10), np.zeros(10, bool))
    assert grades == DEFAULT_GRADES and tiers == DEFAULT_TIERS  # threshold 50: no MQLs


def test_other_band_names_and_counts_are_kept():
    m = model_with(grades=[{"name": "gold", "min_score": 30}, {"name": "rest", "min_score": None}],
                   tiers=[{"name": "now", "min_score": 90}, {"name": "soon", "min_score": 70}, {"name": "later", "min_score": 60},
                          {"name": "never", "min_score": None}], mql_threshold=50)
    s = np.arange(100)
    grades, tiers = suggest_bands(m, s, s, np.zeros(100, bool))
    assert [b.name for b in grades] == ["gold", "rest"] and grades[0].min_score == 50  # two grades: halves
    assert [b.name for b in tiers] == ["now", "soon", "later", "never"]
    assert tiers[2].min_score == 50 and tiers[0].min_score > tiers[1].min_score > 50  # thirds of the MQLs above the threshold


def test_parse_bands_uses_the_schema_rule_in_one_sentence():
    assert parse_bands("grades", [("A", 50), ("B", 20.0), ("C", float("nan"))]) == (
        Band(name="A", min_score=50), Band(name="B", min_score=20), Band(name="C", min_score=None))
    assert parse_bands("tiers", [{"name": "hot", "min_score": " 70 "}, {"name": "cold", "min_score": ""}]) == (
        Band(name="hot", min_score=70), Band(name="cold", min_score=None))
    with pytest.raises(LeadModelError, match="whole number, not 'lots'"):
        parse_bands("tiers", [("hot", "lots"), ("cold", "")])
    with pytest.raises(LeadModelError, match=r"^the last of the tiers must have min_score null.*\.$"):
        parse_bands("tiers", [("hot", 80), ("cold", 10)])
    with pytest.raises(LeadModelError, match="highest min_score to lowest"):
        parse_bands("tiers", [("hot", 50), ("warm", 80), ("cold", None)])
    with pytest.raises(LeadModelError, match="repeat a name"):
        parse_bands("grades", [("A", 50), ("A", None)])
    with pytest.raises(LeadModelError, match="grade 2 has no name"):
        parse_bands("grades", [("A", 50), ("", None)])
    with pytest.raises(LeadModelError, match="whole number"):
        parse_bands("grades", [("A", 2.5), ("B", None)])
    with pytest.raises(LeadModelError, match="'grades' or 'tiers'"):
        parse_bands("levels", [("A", None)])
    assert bands_text(DEFAULT_TIERS) == "hot >= 80, warm >= 50, cold below"


def test_the_bands_editor_state_becomes_bands_highest_first():
    rows = [{"name": "A", "min_score": 40}, {"name": "B", "min_score": 25}, {"name": "C", "min_score": None}]
    edits = {"edited_rows": {1: {"min_score": 30}}, "added_rows": [{"name": "A+", "min_score": 60}, {}], "deleted_rows": [0]}
    assert bands_from_editor(rows, edits) == [{"name": "A+", "min_score": 60}, {"name": "B", "min_score": 30}, {"name": "C", "min_score": None}]
    assert bands_from_editor(rows, None) == rows
    typed = [{"name": "hot", "min_score": "80"}, {"name": "cold", "min_score": ""}]
    assert bands_from_editor(typed, {"added_rows": [{"name": "warm", "min_score": "50"}]}) == [
        {"name": "hot", "min_score": "80"}, {"name": "warm", "min_score": "50"}, {"name": "cold", "min_score": ""}]
    assert bands_from_editor(typed, {"edited_rows": {0: {"min_score": "x"}}})[0]["min_score"] == "x"  # the band rule names it


# ----- small hand-checkable data ----------------------------------------------------------------------
def confounded_leads(n: int = 4000, seed: int = 1):
    """'channel' Events converts above average only because its leads are mostly VPs; within each seniority, Events
    converts a little worse than Web. Seniority drives conversion; 'size' is noise. Numeric 'visits' adds a weak signal."""
    rng = np.random.default_rng(seed)
    channel = rng.choice(["Web", "Events"], n, p=[0.6, 0.4])
    vp = np.where(channel == "Events", rng.random(n) < 0.8, rng.random(n) < 0.1)
    seniority = np.where(vp, "VP", "Staff")
    visits = rng.poisson(3, n).astype(float)
    p = np.where(vp, 0.30, 0.04) * np.where(channel == "Events", 0.8, 1.0) * (1 + 0.05 * visits)
    converted = rng.random(n) < p
    return leads_from_table(pd.DataFrame({
        "channel": channel, "seniority": seniority, "size": rng.choice(["S", "M", "L"], n), "visits": visits,
        "converted": np.where(converted, "yes", "no"),
    }), "converted")


@pytest.fixture(scope="module")
def confounded():
    return confounded_leads()


def test_a_point_that_disagrees_with_its_raw_rate_says_which_attribute_explains_it(confounded):
    p = suggest_points(confounded, max_attributes=3, min_iv=0.0)
    t = p.table.set_index(["attribute", "level"])
    events, web = t.loc[("channel", "Events")], t.loc[("channel", "Web")]
    assert events["conversion_rate"] > confounded.base_rate > web["conversion_rate"]
    assert events["suggested_points"] < web["suggested_points"]  # jointly, Events is the worse channel
    assert "fitted jointly" in events["why"] and "seniority VP" in events["why"] and "more points" in events["why"]
    assert "fitted jointly" in web["why"] and "seniority Staff" in web["why"] and "fewer points" in web["why"]
    # the shares in the note are the data's: VPs among Events leads, VPs among all leads
    codes = confounded.attribute("channel")
    share = float(np.mean(confounded.attribute("seniority").codes[codes.codes == 1 + codes.levels.index("Events")]
                          == 1 + confounded.attribute("seniority").levels.index("VP")))
    assert f"{share:.0%} of these leads have seniority VP" in events["why"]
    # seniority's points agree with its rates: no note there
    assert not t.loc["seniority"]["why"].str.contains("jointly").any()


def test_without_another_attribute_the_note_is_the_generic_one():
    from lead_model.suggest.fit import _joint_note

    scored = {"a": (np.array([1, 1, 2, 2]), np.array([0.0, 5.0, 0.0]), ["(missing)", "x", "y"])}
    assert _joint_note("a", "x", 1.0, scored) == JOINT_NOTE


def test_current_bins_are_shown_as_they_are(confounded):
    current = suggest_points(confounded, max_attributes=4, min_iv=0.0).model
    visits = current.attribute("visits")
    other = visits.model_copy(update={"bins": (visits.bins[0].model_copy(update={"points": 1}),
                                                visits.bins[0].model_copy(update={"min": 100.0, "points": 7})),
                                      "missing": visits.missing.model_copy(update={"points": 0})})
    current = current.with_attribute(other)  # two bins: < 100 (1 point) and >= 100 (7 points); missing 0 points
    p = suggest_points(confounded, current, max_attributes=4, min_iv=0.0)
    assert p.model.attribute("visits").edges != current.attribute("visits").edges
    table = with_current_points(p, confounded, current)
    assert table.loc[table["attribute"] == "visits", "current_points"].isna().all()  # not mapped onto the suggested bins
    own = current_bins(confounded, current, p.model, "visits")
    # every bin with leads or points: no lead has >= 100 visits, but that bin gives 7 points; no lead misses visits
    assert own["level"].tolist() == ["< 100", ">= 100"] and own["current_points"].tolist() == [1, 7]
    assert own["leads"].tolist() == [confounded.n_leads, 0]
    assert own["conversion_rate"].iat[0] == pytest.approx(confounded.base_rate)
    assert current_bins(confounded, current, p.model, "channel") is None  # not numeric
    assert current_bins(confounded, p.model, p.model, "visits") is None  # the same bins
    assert current_bins(confounded, None, p.model, "visits") is None
    same = with_current_points(p, confounded, p.model)
    assert (same["current_points"] == same["suggested_points"]).all()


def test_kept_caps_and_knockouts_and_their_cost(confounded):
    base = suggest_points(confounded, max_attributes=4, min_iv=0.0).model
    current = base.replace(caps={"fit": 5, "engagement": 50, "total": None},
                           knockouts=[{"attribute": "size", "values": ["S"]}, {"attribute": "visits", "at_least": 9}])
    s = suggest(confounded, current, holdout="random", max_attributes=4, min_iv=0.0)
    k = s.kept
    assert isinstance(k, KeptRules) and k.part == "held-out" and k.threshold == s.model.mql_threshold
    assert s.model.caps == current.caps and s.model.knockouts == current.knockouts  # the fit keeps them
    assert k.kept_sentence() == "Fit with your caps (fit 5, engagement 50) and 2 knock-outs"
    test = subset(confounded, s.split.holdout)
    free = backtest(test, s.model.replace(caps=Caps(), knockouts=()))
    kept = backtest(test, s.model)
    assert (k.auc, k.precision) == pytest.approx((kept.auc, kept.precision))
    assert (k.auc_without, k.precision_without) == pytest.approx((free.auc, free.precision))
    assert f"without them: AUC {free.auc:.3f} instead of {kept.auc:.3f}" in k.sentence()
    assert k.sentence() in suggestion_report(s)
    # without caps or knock-outs there is nothing to report; with nothing held out, the training leads
    assert suggest(confounded, base, holdout="random", max_attributes=4, min_iv=0.0).kept is None
    one = suggest(confounded, base.replace(knockouts=[{"attribute": "size", "values": ["S"]}]), holdout="none", max_attributes=4, min_iv=0.0).kept
    assert one.part == "training" and one.kept_sentence() == "Fit with your 1 knock-out"


def test_the_suggested_model_carries_bands_on_its_own_scale(sample_leads_fair, sample_model):
    s = suggest(sample_leads_fair, sample_model)
    m = s.model
    assert [b.name for b in m.grades] == [b.name for b in sample_model.grades]
    assert m.tiers[-2].min_score == m.mql_threshold  # warm starts at the threshold
    bands = s.points.bands
    grades = bands[bands["kind"] == "grade"]
    assert grades["leads"].sum() == s.split.n_train and grades["share"].sum() == pytest.approx(1.0)
    assert grades["min_score"].iloc[:-1].tolist() == [b.min_score for b in m.grades[:-1]]
    assert all(v % 5 == 0 for v in grades["min_score"].iloc[:-1])  # numbers people say
    assert grades["conversion_rate"].is_monotonic_decreasing  # better grades convert better
    assert unreachable_bands(m) == []
    # the report says what the fit kept (the sample model's engagement cap and knock-out) and shows the bands
    report = suggestion_report(s)
    assert report.startswith("Fit with your caps (engagement 50) and 1 knock-out; without them: AUC")
    assert "Grades and tiers for the suggested scale" in report


# ----- workbench edits ---------------------------------------------------------------------------------
def test_set_bands_and_metadata_are_undoable_edits(sample_leads_fair, sample_model):
    wb = Workbench(sample_leads_fair, sample_model)
    wb.set_bands("tiers", [("hot", 90), ("warm", 60), ("cold", None)])
    assert wb.model.tiers == (Band(name="hot", min_score=90), Band(name="warm", min_score=60), Band(name="cold", min_score=None))
    assert wb.undo_text() == "tiers changed"
    assert wb.result().by_tier["tier"].tolist()[:1] == ["hot"]
    before = wb.model
    with pytest.raises(LeadModelError, match="the last of the grades"):
        wb.set_bands("grades", [("A", 50), ("B", 20)])
    assert wb.model is before
    wb.set_metadata(name="  Inbound 2026 ", notes="agreed on Tuesday")
    assert wb.model.metadata.name == "Inbound 2026" and wb.model.metadata.notes == "agreed on Tuesday"
    assert wb.model.metadata.author == sample_model.metadata.author and wb.model.attributes == sample_model.attributes
    with pytest.raises(LeadModelError, match="needs a name"):
        wb.set_metadata(name=" ")
    n = len(wb.history._past) if hasattr(wb.history, "_past") else None
    wb.set_metadata(name="Inbound 2026")  # nothing changes: no new undo step
    assert n is None or len(wb.history._past) == n
    wb.undo()
    wb.undo()
    assert wb.model == sample_model


def test_only_levels_shown_green_or_red_get_a_note():
    from lead_model.suggest.fit import _with_joint_notes

    # base rate 10%: 'hi' converts at 15% (green) with 1 point, 'lo' at 9% (near: black) with 5 points, 'low' at 5% (red) with 0
    table = pd.DataFrame({"attribute": "a", "level": ["hi", "lo", "low"], "suggested_points": [1, 5, 0], "leads": [100, 100, 100],
                          "conversion_rate": [0.15, 0.09, 0.05], "why": ["x", "y", "z"]})
    scored = {"a": (np.repeat([0, 1, 2], 100), np.array([1.0, 5.0, 0.0]), ["hi", "lo", "low"])}
    why = _with_joint_notes(table, scored, 0.10, 90)
    assert why == ["x; " + JOINT_NOTE, "y", "z"]  # 'hi' gets fewer points than 'lo', which converts below the base rate
    assert _with_joint_notes(table, scored, 0.10, 101) == ["x", "y", "z"]  # too few leads: the shrinkage note says enough


def test_the_cli_report_prints_the_why_of_points_that_disagree(confounded):
    """The notes the Suggestions page shows beside a disagreeing point, in the text report too (one line per level)."""
    from lead_model.suggest.fit import point_notes

    s = suggest(confounded, max_attributes=3, min_iv=0.0, holdout="none")
    t = s.points.table.set_index(["attribute", "level"])
    noted = {(a, lv) for a, lv, *_ in point_notes(s.points.table)}
    assert noted == {k for k, why in t["why"].items() if "fitted jointly" in why} and ("channel", "Events") in noted
    report = suggestion_report(s)
    events = t.loc[("channel", "Events")]
    line = next(x for x in report.splitlines() if x.startswith("  channel Events: "))
    assert line.startswith(f"  channel Events: {events['suggested_points']} points, converts at {events['conversion_rate']:.1%}: fitted jointly: ")
    assert line.endswith(events["why"][events["why"].index("fitted jointly"):])
    assert "Why some points differ from the raw conversion rate" in report
