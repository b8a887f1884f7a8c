"""Scores per lead: hand-worked answers, a per-lead brute force, caps, knock-outs, bands and the packed engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import (
    TINY_KINDS,
    RANDOM_KINDS,
    TINY_CONVERTED,
    TINY_FIT_ENG,
    TINY_HEADER,
    TINY_KNOCKED_OUT,
    TINY_MODEL,
    TINY_ROWS,
    band_of,
    brute_scores,
    kept_rows,
    load_random,
    random_leads,
    random_models,
    write_csv,
)
from hypothesis import given

from lead_model import LeadModelError, ScoringEngine, ScoringModel, load_leads, score_leads
from lead_model.model.schema import KnockOut
from lead_model.engine.scoring import band_names, knock_out_mask, points_breakdown



def tiny_rows() -> list[dict]:
    return [dict(zip(TINY_HEADER, r)) for r in TINY_ROWS]


def with_changes(base: dict, **changes) -> dict:
    import copy

    out = copy.deepcopy(base)
    out.update(changes)
    return out


# ----- the hand-built fixture ----------------------------------------------------------
def test_tiny_scores_by_hand(tiny, tiny_model):
    # Lead by lead (fit = industry + employees, engagement = page_views + newsletter):
    # L01 Software 20 + 250->200 bin 20 = 40 | 12 views->10 bin 30 + yes 10 = 40
    # L04 Retail 5 + missing employees -3 = 2 | 7 views 15 + no 0 = 15
    # L05 Education -10 + 15 employees 0 = -10 | 1 view 5 + missing newsletter 1 = 6
    # L06 'Select' is a placeholder -> missing -5, + 300 -> 20 = 15 | 20 views 30 + yes 10 = 40
    # L08 'N/A' is a placeholder -> -5, + 80 -> 10 = 5 | 4 views 5 + yes 10 = 15
    # L09 Government is not listed -> other 2, + 60 -> 10 = 12 | 9 views 15 = 15, knocked out
    out = score_leads(tiny, tiny_model)
    assert list(out["row"]) == list(range(12))
    assert list(zip(out["fit_score"], out["engagement_score"])) == TINY_FIT_ENG
    assert list(out["score"]) == [80, 25, 30, 17, -4, 55, 35, 20, 27, 80, -10, 30]
    assert list(out["knocked_out"]) == TINY_KNOCKED_OUT
    assert list(out["converted"]) == TINY_CONVERTED
    assert list(out["is_mql"]) == [True, False, False, False, False, True, False, False, False, True, False, False]
    assert list(out["grade"]) == ["A", "B", "B", "C", "C", "B", "A", "C", "B", "A", "C", "B"]
    assert list(out["tier"]) == ["hot", "warm", "warm", "cold", "cold", "warm", "warm", "cold", "knocked out", "hot", "cold", "warm"]


def test_tiny_matches_brute_force(tiny, tiny_model):
    expected = brute_scores(TINY_MODEL, tiny_rows(), TINY_KINDS)
    out = score_leads(tiny, tiny_model)
    assert list(zip(out["score"], out["fit_score"], out["engagement_score"], out["knocked_out"])) == expected


def test_engine_scores_follow_leadset_order(tiny, tiny_model):
    """Scores come in LeadSet order (converted first); row_index maps them back to the file."""
    s = ScoringEngine(tiny, tiny_model).scores(tiny_model)
    expected = brute_scores(TINY_MODEL, tiny_rows(), TINY_KINDS)
    assert tiny.converted[: tiny.n_converted].all() and not tiny.converted[tiny.n_converted :].any()
    for pos, row in enumerate(tiny.row_index):
        total, fit, eng, ko = expected[row]
        assert (s.total[pos], s.fit[pos], s.engagement[pos], s.knocked_out[pos]) == (total, fit, eng, ko)
    assert s.total.dtype == np.int32 and s.fit.dtype == np.int32 and s.knocked_out.dtype == bool


def test_caps_are_a_minimum_per_group_then_on_the_total(tiny):
    model = with_changes(TINY_MODEL, caps={"fit": 25, "engagement": 20, "total": 42})
    out = score_leads(tiny, ScoringModel.from_dict(model))
    fit = [min(f, 25) for f, _ in TINY_FIT_ENG]
    eng = [min(e, 20) for _, e in TINY_FIT_ENG]
    assert list(out["fit_score"]) == fit
    assert list(out["engagement_score"]) == eng
    assert list(out["score"]) == [min(f + e, 42) for f, e in zip(fit, eng)]
    assert list(zip(out["score"], out["fit_score"], out["engagement_score"], out["knocked_out"])) == brute_scores(model, tiny_rows(), TINY_KINDS)


def test_zero_caps_below_every_score_and_negative_points(tiny):
    model = with_changes(TINY_MODEL, caps={"fit": 0, "engagement": None, "total": 0})
    out = score_leads(tiny, ScoringModel.from_dict(model))
    assert (out["fit_score"] <= 0).all() and (out["score"] <= 0).all() and (out["fit_score"] < 0).any()
    assert list(zip(out["score"], out["fit_score"], out["engagement_score"], out["knocked_out"])) == brute_scores(model, tiny_rows(), TINY_KINDS)


def test_other_and_missing_points(tiny):
    """A value the model does not list takes 'other'; empty and placeholder cells take 'missing'."""
    industry = {"name": "industry", "kind": "categorical", "group": "fit", "levels": [{"value": "Software", "points": 1}],
                "other": {"points": 100}, "missing": {"points": -1000}}
    model = ScoringModel.from_dict({"attributes": [industry]})
    out = score_leads(tiny, model)
    values = [r[2] for r in TINY_ROWS]
    expected = [1 if v == "Software" else -1000 if v in ("Select", "N/A") else 100 for v in values]
    assert list(out["score"]) == expected


@pytest.mark.parametrize(
    ("rule", "knocked"),
    [
        ({"attribute": "industry", "values": ["Government", "Retail"]}, {"L03", "L04", "L09", "L12"}),
        ({"attribute": "industry", "values": ["Select"]}, set()),  # a placeholder is missing, not a value
        ({"attribute": "industry", "when_missing": True}, {"L06", "L08"}),
        ({"attribute": "employees", "below": 50}, {"L02", "L05", "L11"}),
        ({"attribute": "employees", "at_least": 1200}, {"L03", "L07"}),
        ({"attribute": "employees", "below": 20, "at_least": 1000, "when_missing": True}, {"L03", "L04", "L05", "L07", "L11"}),
        ({"attribute": "employees", "values": ["300"]}, {"L06"}),
        ({"attribute": "newsletter", "values": [True]}, {"L01", "L03", "L06", "L08", "L10", "L12"}),
        ({"attribute": "newsletter", "values": ["no"]}, {"L02", "L04", "L07", "L09", "L11"}),
        ({"attribute": "newsletter", "values": ["N"]}, {"L02", "L04", "L07", "L09", "L11"}),
        ({"attribute": "newsletter", "values": ["YES"]}, {"L01", "L03", "L06", "L08", "L10", "L12"}),
        ({"attribute": "newsletter", "when_missing": True}, {"L05"}),
    ],
)
def test_knock_outs(tiny, rule, knocked):
    model = with_changes(TINY_MODEL, knockouts=[rule])
    out = score_leads(tiny, ScoringModel.from_dict(model))
    ids = [r[0] for r in TINY_ROWS]
    assert {ids[i] for i in np.flatnonzero(out["knocked_out"])} == knocked
    assert list(out["knocked_out"]) == [b[3] for b in brute_scores(model, tiny_rows(), TINY_KINDS)]
    # a knocked-out lead is never an MQL and its tier says so, whatever its score
    assert not out.loc[out["knocked_out"], "is_mql"].any()
    assert (out.loc[out["knocked_out"], "tier"] == "knocked out").all()


def test_knock_out_mask_combines_rules_with_or(tiny):
    a = KnockOut(attribute="employees", below=50)
    b = KnockOut(attribute="industry", values=("Government",))
    both = knock_out_mask(tiny, (a, b))
    assert (both == (knock_out_mask(tiny, (a,)) | knock_out_mask(tiny, (b,)))).all()
    assert not knock_out_mask(tiny, ()).any()


def test_band_names():
    bands = ScoringModel.from_dict(TINY_MODEL).tiers  # hot >= 60, warm >= 25, cold
    scores = np.array([-5, 24, 25, 59, 60, 1000], dtype=np.int32)
    assert list(band_names(scores, bands)) == ["cold", "cold", "warm", "warm", "hot", "hot"]
    one = ScoringModel.from_dict({"tiers": [{"name": "all", "min_score": None}]}).tiers
    assert list(band_names(scores, one)) == ["all"] * 6


def test_points_breakdown(tiny, tiny_model):
    rows = tiny_rows()
    for pos in range(tiny.n_leads):
        row = rows[int(tiny.row_index[pos])]
        table = points_breakdown(tiny, tiny_model, pos)
        assert list(table.columns) == ["attribute", "group", "value", "points"]
        assert list(table["attribute"]) == ["industry", "employees", "page_views", "newsletter"]
        from conftest import attribute_points

        assert list(table["points"]) == [attribute_points(a, row[a["name"]]) for a in TINY_MODEL["attributes"]]
        shown = dict(zip(table["attribute"], table["value"]))
        if row["industry"] in ("Select", "N/A"):
            assert shown["industry"] == "(missing)"
        else:
            assert shown["industry"] == row["industry"]
        if row["employees"] is None:
            assert shown["employees"] == "(missing)"
        else:
            assert shown["employees"].startswith(f"{row['employees']:g} (")


def test_engine_reused_across_moves_matches_fresh_engine(tiny, tiny_model):
    engine = ScoringEngine(tiny, tiny_model)
    model = tiny_model
    moves = [("industry", "Retail", 33), ("employees", "bin:2", -7), ("newsletter", True, 0), ("industry", "__other__", 9),
             ("industry", "__missing__", 4), ("page_views", "__missing__", 3), ("newsletter", "__missing__", -2)]
    for attribute, value, points in moves:
        model = model.with_points(attribute, value, points)
        assert engine.matches(model)
        reused = score_leads(tiny, model, engine)
        fresh = score_leads(tiny, model)
        pd.testing.assert_frame_equal(reused, fresh)
        expected = brute_scores(model.to_dict(), tiny_rows(), TINY_KINDS)
        assert list(zip(reused["score"], reused["fit_score"], reused["engagement_score"], reused["knocked_out"])) == expected


def test_engine_layout_change_is_detected(tiny, tiny_model):
    engine = ScoringEngine(tiny, tiny_model)
    moved = tiny_model.with_attribute(tiny_model.attribute("employees").model_copy(update={"group": "engagement"}))
    assert not engine.matches(moved)
    out = score_leads(tiny, moved, engine)  # a stale engine is not used
    expected = brute_scores(moved.to_dict(), tiny_rows(), TINY_KINDS)
    assert list(zip(out["score"], out["fit_score"], out["engagement_score"], out["knocked_out"])) == expected


def test_model_naming_a_missing_column(tiny, tiny_model):
    attr = tiny_model.attribute("industry").model_copy(update={"name": "industy"})
    model = tiny_model.without_attribute("industry").with_attribute(attr)
    with pytest.raises(LeadModelError, match="no such column.*did you mean 'industry'"):
        score_leads(tiny, model)
    with pytest.raises(LeadModelError, match="did you mean 'industry'"):
        knock_out_mask(tiny, (KnockOut(attribute="Industry", values=("x",)),))


def test_model_naming_a_non_attribute_column(tiny, tiny_model):
    attr = tiny_model.attribute("industry").model_copy(update={"name": "lead_id"})
    with pytest.raises(LeadModelError, match="'lead_id' is id"):
        score_leads(tiny, tiny_model.with_attribute(attr))


def test_kind_mismatch_names_the_kind(tiny, tiny_model):
    as_categorical = {"name": "employees", "kind": "categorical", "group": "fit", "levels": [{"value": "40", "points": 1}]}
    with pytest.raises(LeadModelError, match="'employees'.*numeric"):
        score_leads(tiny, ScoringModel.from_dict({"attributes": [as_categorical]}))
    as_numeric = {"name": "industry", "kind": "numeric", "group": "fit", "bins": [{"min": None, "points": 1}]}
    with pytest.raises(LeadModelError, match="'industry'"):
        score_leads(tiny, ScoringModel.from_dict({"attributes": [as_numeric]}))


def test_empty_model_scores_zero(tiny):
    out = score_leads(tiny, ScoringModel())
    assert (out["score"] == 0).all() and (out["fit_score"] == 0).all() and not out["knocked_out"].any()


def test_many_attributes_pack_into_several_keys(tmp_path):
    """More attributes than one dense table can hold: every packed key must still add up per lead."""
    rng = np.random.default_rng(3)
    n = 400
    names = [f"c{i}" for i in range(9)]
    header = names + ["visits", "converted"]
    levels = [f"v{j}" for j in range(12)]
    rows = []
    for i in range(n):
        cells = [str(rng.choice(levels + ["", "N/A"])) for _ in names]
        rows.append(cells + [int(rng.integers(0, 30)), "yes" if i % 7 == 0 else "no"])
    path = write_csv(tmp_path / "wide.csv", header, rows)
    leads = load_leads(path, "converted", store=tmp_path / "s.duckdb")
    attrs = []
    for k, name in enumerate(names):
        attrs.append({"name": name, "kind": "categorical", "group": "fit" if k % 3 else "engagement",
                      "levels": [{"value": v, "points": int(rng.integers(-9, 10))} for v in levels[: 6 + k % 6]],
                      "other": {"points": int(rng.integers(-5, 5))}, "missing": {"points": int(rng.integers(-5, 5))}})
    attrs.append({"name": "visits", "kind": "numeric", "group": "engagement",
                  "bins": [{"min": None, "points": -2}] + [{"min": m, "points": m} for m in (1, 3, 7, 12, 20)]})
    model_dict = {"attributes": attrs}
    model = ScoringModel.from_dict(model_dict)
    kinds = {n: "categorical" for n in names} | {"visits": "numeric"}
    expected = brute_scores(model_dict, [dict(zip(header, r)) for r in rows], kinds)
    out = score_leads(leads, model)
    assert list(zip(out["score"], out["fit_score"], out["engagement_score"], out["knocked_out"])) == expected


@given(data=random_leads(), model_dict=random_models())
def test_random_models_match_brute_force(tmp_path_factory, data, model_dict):
    leads = load_random(data, tmp_path_factory.mktemp("score"))
    model = ScoringModel.from_dict(model_dict)
    kept, converted = kept_rows(data)
    expected = brute_scores(model_dict, kept, RANDOM_KINDS)
    out = score_leads(leads, model)
    assert list(zip(out["score"], out["fit_score"], out["engagement_score"], out["knocked_out"])) == expected
    assert list(out["converted"]) == converted
    assert list(out["grade"]) == [band_of(f, model_dict["grades"]) for _, f, _, _ in expected]
    assert list(out["tier"]) == ["knocked out" if ko else band_of(t, model_dict["tiers"]) for t, _, _, ko in expected]
    assert list(out["is_mql"]) == [t >= model_dict["mql_threshold"] and not ko for t, _, _, ko in expected]


def test_an_engine_built_for_other_leads_is_not_used(tmp_path, tiny, tiny_model):
    rows = tiny_rows()[::-1][:9]
    path = write_csv(tmp_path / "other.csv", TINY_HEADER, [[r[h] for h in TINY_HEADER] for r in rows])
    other = load_leads(path, "converted", store=tmp_path / "s.duckdb")
    out = score_leads(other, tiny_model, ScoringEngine(tiny, tiny_model))
    assert list(zip(out["score"], out["fit_score"], out["engagement_score"], out["knocked_out"])) == brute_scores(TINY_MODEL, rows, TINY_KINDS)
