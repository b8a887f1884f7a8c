"""Reasons per lead (lead_model.export.reasons) against a brute force over the raw rows and the model dict.

The brute force words each cell from its raw value and the model dict alone ('job_level is VP',
'company_size 50 to < 200', 'industry (missing)'), looks its points up with conftest's
attribute_points, orders by absolute points (ties in model order), and says caps and the first
knock-out that hits; the module under test works from the engine's codes and packed keys.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from conftest import (
    TINY_KINDS,
    FALSE_WORDS,
    RANDOM_KINDS,
    SAMPLE_CSV,
    TINY_HEADER,
    TINY_MODEL,
    TINY_ROWS,
    TRUE_WORDS,
    attribute_points,
    brute_scores,
    is_knocked_out,
    is_missing,
    kept_rows,
    load_random,
    random_leads,
    random_models,
    write_csv,
)
from hypothesis import given

from lead_model import LeadModelError, ScoringModel, load_leads
from lead_model.export.reasons import SEPARATOR, lead_reasons, model_points, points_columns
from lead_model.model.diff import knockout_text
from lead_model.model.schema import KnockOut



# ----- the brute force ---------------------------------------------------------------------------
def _label(bins: list[dict], i: int) -> str:
    lo = bins[i]["min"] if i > 0 else None
    hi = bins[i + 1]["min"] if i + 1 < len(bins) else None
    if lo is None and hi is None:
        return "(any value)"
    if lo is None:
        return f"< {float(hi):g}"
    if hi is None:
        return f">= {float(lo):g}"
    return f"{float(lo):g} to < {float(hi):g}"


def brute_phrase(attr: dict, raw) -> str:
    name = attr["name"]
    if is_missing(raw):
        return f"{name} (missing)"
    if attr["kind"] == "numeric":
        x = float(raw)
        i = max(k for k, b in enumerate(attr["bins"]) if b["min"] is None or x >= b["min"])
        return f"{name} {_label(attr['bins'], i)}"
    if attr["kind"] == "boolean":
        low = str(raw).strip().lower()
        assert low in TRUE_WORDS | FALSE_WORDS
        return f"{name} is {'true' if low in TRUE_WORDS else 'false'}"
    value = str(raw).strip()
    listed = {str(lv["value"]) for lv in attr.get("levels", [])}
    return f"{name} is {value}" if value in listed else f"{name} is {value} (other)"


def sign(points: int) -> str:
    return f"+{points}" if points > 0 else str(points) if points < 0 else "0"


def brute_reasons(model: dict, row: dict, kinds: dict[str, str], top: int | None = 3) -> str:
    cells = [(attribute_points(a, row[a["name"]]), j, brute_phrase(a, row[a["name"]])) for j, a in enumerate(model["attributes"])]
    said = sorted([c for c in cells if c[0] != 0], key=lambda c: (-abs(c[0]), c[1]))[: top if top is not None else None]
    parts = []
    for rule in model.get("knockouts", []):
        if is_knocked_out({"knockouts": [rule]}, row, kinds):
            parts.append(f"knocked out: {knockout_text(KnockOut(**rule))}")
            break
    parts += [f"{phrase}: {sign(points)}" for points, _, phrase in said]
    caps = model.get("caps", {})
    raw = {g: sum(p for (p, j, _) in cells if model["attributes"][j]["group"] == g) for g in ("fit", "engagement")}
    got = {g: raw[g] if caps.get(g) is None else min(raw[g], caps[g]) for g in raw}
    total = got["fit"] + got["engagement"]
    taken = {"fit": raw["fit"] - got["fit"], "engagement": raw["engagement"] - got["engagement"],
             "total": 0 if caps.get("total") is None else total - min(total, caps["total"])}
    parts += [f"capped: {g} cap {caps[g]} took {t} off" for g, t in taken.items() if t > 0]
    return SEPARATOR.join(parts)


def tiny_rows() -> list[dict]:
    return [dict(zip(TINY_HEADER, r)) for r in TINY_ROWS]


# ----- the hand-built fixture --------------------------------------------------------------------
def test_tiny_reasons_by_hand(tiny, tiny_model):
    out = lead_reasons(tiny, tiny_model)
    assert list(out["row"]) == list(range(12))  # input order
    assert list(out.columns) == ["row", "points_industry", "points_employees", "points_page_views", "points_newsletter", "reasons"]
    # L01 Software 250 employees, 12 views, newsletter yes: 30 views first, then the two 20s in model order
    assert out["reasons"][0] == "page_views >= 10: +30; industry is Software: +20; employees 200 to < 1000: +20"
    # L05 Education, 15 employees (0 points: not said), 1 view, newsletter missing (+1)
    assert out["reasons"][4] == "industry is Education: -10; page_views 1 to < 5: +5; newsletter (missing): +1"
    # L09 Government (not listed: other +2) is knocked out, said first
    assert out["reasons"][8] == ("knocked out: industry is 'Government' (public sector is not served); page_views 5 to < 10: +15; "
                                 "employees 50 to < 200: +10; industry is Government (other): +2")
    assert out["reasons"][10] == "industry is Education: -10"  # 2 employees, 0 views and newsletter no: 0 points each
    assert out[points_columns(tiny_model)].iloc[0].tolist() == [20, 20, 30, 10]


def test_tiny_reasons_match_the_brute_force(tiny, tiny_model):
    out = lead_reasons(tiny, tiny_model)
    rows = tiny_rows()
    assert list(out["reasons"]) == [brute_reasons(TINY_MODEL, r, TINY_KINDS) for r in rows]
    for attr in TINY_MODEL["attributes"]:
        assert list(out[f"points_{attr['name']}"]) == [attribute_points(attr, r[attr["name"]]) for r in rows]


@pytest.mark.parametrize("caps", [{"engagement": 30}, {"fit": 25, "total": 45}, {"fit": 0, "engagement": 0, "total": 0}])
def test_caps_are_said_with_the_points_they_took(tiny, caps):
    model_dict = copy.deepcopy(TINY_MODEL) | {"caps": caps}
    out = lead_reasons(tiny, ScoringModel.from_dict(model_dict))
    assert list(out["reasons"]) == [brute_reasons(model_dict, r, TINY_KINDS) for r in tiny_rows()]
    capped = [r for r in out["reasons"] if "capped:" in r]
    assert capped, "these caps take points off some tiny leads"
    if caps == {"engagement": 30}:  # L01: page_views 30 + newsletter 10 = 40, capped at 30
        assert out["reasons"][0].endswith("; capped: engagement cap 30 took 10 off")


def test_every_reason_and_more_knock_outs(tiny):
    model_dict = copy.deepcopy(TINY_MODEL)
    model_dict["knockouts"] = [{"attribute": "employees", "below": 10}, {"attribute": "newsletter", "when_missing": True},
                               {"attribute": "industry", "values": ["Education"], "reason": "schools buy elsewhere"}]
    model = ScoringModel.from_dict(model_dict)
    out = lead_reasons(tiny, model, top=None)
    assert list(out["reasons"]) == [brute_reasons(model_dict, r, TINY_KINDS, top=None) for r in tiny_rows()]
    # L11: 2 employees (first rule) and Education (third): the first rule that hits is said
    assert out["reasons"][10].startswith("knocked out: employees is below 10; ")
    assert out["reasons"][4].startswith("knocked out: newsletter is missing; ")
    one = lead_reasons(tiny, model, top=1)
    assert list(one["reasons"]) == [brute_reasons(model_dict, r, TINY_KINDS, top=1) for r in tiny_rows()]


@pytest.mark.parametrize("top", [0, -1, 2.5, True])
def test_a_bad_number_of_reasons_is_one_sentence(tiny, tiny_model, top):
    with pytest.raises(LeadModelError, match="number of reasons per lead"):
        lead_reasons(tiny, tiny_model, top=top)


def test_a_model_without_attributes_gives_empty_reasons(tiny):
    out = lead_reasons(tiny, ScoringModel.from_dict({"attributes": [], "knockouts": TINY_MODEL["knockouts"]}))
    assert list(out.columns) == ["row", "reasons"]
    assert [r for r in out["reasons"] if r] == ["knocked out: industry is 'Government' (public sector is not served)"]


def test_the_model_points_in_words(tiny_model):
    table = model_points(tiny_model)
    texts = table["text"].tolist()
    assert texts[:5] == ["industry is Software: +20", "industry is Retail: +5", "industry is Education: -10", "industry (other): +2", "industry (missing): -5"]
    assert "employees < 50: 0" in texts and "employees >= 1000: +15" in texts and "newsletter is true: +10" in texts
    assert table.groupby("attribute", sort=False).size().tolist() == [5, 5, 5, 3]  # levels + other + missing; bins + missing


# ----- generated data and models ---------------------------------------------------------------
@given(data=random_leads(), model_dict=random_models())
def test_random_models_match_the_brute_force(tmp_path_factory, data, model_dict):
    leads = load_random(data, tmp_path_factory.mktemp("reasons"))
    model = ScoringModel.from_dict(model_dict)
    kept, _ = kept_rows(data)
    out = lead_reasons(leads, model)
    assert list(out["reasons"]) == [brute_reasons(model_dict, r, RANDOM_KINDS) for r in kept]
    for attr in model_dict["attributes"]:
        assert list(out[f"points_{attr['name']}"]) == [attribute_points(attr, r[attr["name"]]) for r in kept]
    # the points of each group add up to its score before caps (the brute force's sums)
    uncapped = copy.deepcopy(model_dict) | {"caps": {}}
    fit_cols = [f"points_{a['name']}" for a in model_dict["attributes"] if a["group"] == "fit"]
    assert list(out[fit_cols].sum(axis=1)) == [f for _, f, _, _ in brute_scores(uncapped, kept, RANDOM_KINDS)]


# ----- the sample --------------------------------------------------------------------------------
def test_sample_points_and_reasons_in_input_order(sample_leads, sample_model):
    out = lead_reasons(sample_leads, sample_model)
    raw = pd.read_csv(SAMPLE_CSV, dtype=str, keep_default_na=False)
    assert len(out) == len(raw) == 50_000
    assert list(out["row"]) == list(range(50_000))
    model_dict = sample_model.to_dict()
    kinds = {a["name"]: a["kind"] for a in model_dict["attributes"]}
    rows = raw.to_dict(orient="records")
    for attr in model_dict["attributes"]:
        assert out[f"points_{attr['name']}"].tolist() == [attribute_points(attr, r[attr["name"]]) for r in rows], attr["name"]
    picks = np.r_[np.arange(0, 50_000, 97), np.flatnonzero(out["reasons"].str.contains("knocked out|capped"))[:300]]
    assert [out["reasons"][i] for i in picks] == [brute_reasons(model_dict, rows[i], kinds) for i in picks]
    assert out["reasons"].str.startswith("knocked out: job_level is 'Student'").sum() == sum(r["job_level"].strip() == "Student" for r in rows)
    assert out["reasons"].str.contains("capped: engagement cap 50 took").any()
    assert not out["reasons"].str.match(r"^[=+\-@]").any()  # reasons never read as a spreadsheet formula


def test_leads_the_store_dropped_are_absent_and_order_holds(tmp_path):
    rows = [list(r) for r in TINY_ROWS]
    rows[3][-1] = ""  # no outcome: dropped at load
    path = write_csv(tmp_path / "t.csv", TINY_HEADER, rows)
    leads = load_leads(path, "converted", store=tmp_path / "s.duckdb")
    out = lead_reasons(leads, ScoringModel.from_dict(TINY_MODEL))
    assert list(out["row"]) == [i for i in range(12) if i != 3]
    kept = [dict(zip(TINY_HEADER, r)) for i, r in enumerate(rows) if i != 3]
    assert list(out["reasons"]) == [brute_reasons(TINY_MODEL, r, TINY_KINDS) for r in kept]
