"""Drift: PSI against a direct computation, verdict edges, attribute levels as the model defines them, score drift, and the sample's lead_source drift."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import SAMPLE_CSV, TINY_HEADER, TINY_MODEL, TINY_ROWS, brute_scores, is_missing
from lead_model.errors import LeadModelError
from lead_model.review import attribute_drift, periods, psi, score_drift, verdict
from lead_model.review.drift import AttributeDrift, LevelShift


def direct_psi(ref: list[float], rec: list[float]) -> float:
    """The issue's formula, term by term: shares, a share of 0 counted as 0.0001."""
    total_ref, total_rec = sum(ref), sum(rec)
    out = 0.0
    for a, b in zip(ref, rec):
        r = a / total_ref or 0.0001
        q = b / total_rec or 0.0001
        out += (q - r) * math.log(q / r)
    return out


def test_psi_by_hand():
    # two levels, 50/50 -> 25/75: (0.25 - 0.5) ln(0.5) + (0.75 - 0.5) ln(1.5)
    assert psi([50, 50], [25, 75]) == pytest.approx(-0.25 * math.log(0.5) + 0.25 * math.log(1.5), abs=1e-15)
    assert psi([10, 20, 30], [10, 20, 30]) == 0.0
    assert psi([1, 2, 3], [2, 4, 6]) == pytest.approx(0.0, abs=1e-15)  # shares, not counts
    # a level that vanishes: its recent share counts as 0.0001
    assert psi([50, 50], [100, 0]) == pytest.approx((1 - 0.5) * math.log(1 / 0.5) + (0.0001 - 0.5) * math.log(0.0001 / 0.5), abs=1e-12)


@given(st.lists(st.tuples(st.integers(0, 500), st.integers(0, 500)), min_size=1, max_size=12))
def test_psi_equals_the_direct_formula(pairs):
    ref, rec = [a for a, _ in pairs], [b for _, b in pairs]
    if sum(ref) == 0 or sum(rec) == 0:
        with pytest.raises(LeadModelError, match="needs leads in both periods"):
            psi(ref, rec)
        return
    assert psi(ref, rec) == pytest.approx(direct_psi(ref, rec), rel=1e-12, abs=1e-12)
    assert psi(ref, rec) >= 0


def test_psi_rejects_mismatched_or_negative_counts():
    with pytest.raises(LeadModelError, match="over the same levels"):
        psi([1, 2], [1, 2, 3])
    with pytest.raises(LeadModelError, match="cannot be negative"):
        psi([1, -2], [1, 2])


@pytest.mark.parametrize("value, expected", [
    (0.0, "stable"), (0.0999999, "stable"), (0.1, "watch"), (0.2499999, "watch"), (0.25, "act"), (3.0, "act"),
])
def test_verdict_edges(value, expected):
    assert verdict(value) == expected


def test_verdict_of_nan_is_one_sentence():
    with pytest.raises(LeadModelError, match="NaN"):
        verdict(math.nan)


# ----- attribute levels as the model defines them ----------------------------------------------
def tiny_level(attr: dict, raw) -> str:
    """The model level a raw cell scores, by direct lookup in the model dict."""
    if is_missing(raw):
        return "(missing)"
    if attr["kind"] == "numeric":
        mins = [b["min"] for b in attr["bins"]]
        i = max(j for j, m in enumerate(mins) if m is None or float(raw) >= m)
        lo, hi = mins[i], mins[i + 1] if i + 1 < len(mins) else None
        return f"< {hi:g}" if lo is None else f">= {lo:g}" if hi is None else f"{lo:g} to < {hi:g}"
    if attr["kind"] == "boolean":
        return "true" if str(raw).strip().lower() in {"yes", "true", "1", "y", "t"} else "false"
    listed = [str(lv["value"]) for lv in attr["levels"]]
    return str(raw).strip() if str(raw).strip() in listed else "(other)"


def test_tiny_attribute_drift_equals_a_brute_force(tiny, tiny_model):
    p = periods(tiny, "quarter")
    drifts = attribute_drift(tiny, tiny_model, p.mask("2024-Q1"), p.mask("2024-Q2"))
    rows = [dict(zip(TINY_HEADER, r)) for r in TINY_ROWS]
    q = ["2024-Q1" if r["created"] < "2024-04" else "2024-Q2" for r in rows]
    assert [d.psi for d in drifts] == sorted((d.psi for d in drifts), reverse=True)
    for attr in TINY_MODEL["attributes"]:
        d = next(x for x in drifts if x.attribute == attr["name"])
        labels = [lv.level for lv in d.levels]
        if attr["kind"] == "categorical":
            assert labels == ["Software", "Retail", "Education", "(other)", "(missing)"]
        elif attr["kind"] == "boolean":
            assert labels == ["false", "true", "(missing)"]
        else:
            assert labels[-1] == "(missing)" and len(labels) == len(attr["bins"]) + 1
        levels = pd.Series([tiny_level(attr, r[attr["name"]]) for r in rows])
        ref = levels[[x == "2024-Q1" for x in q]].value_counts()
        rec = levels[[x == "2024-Q2" for x in q]].value_counts()
        ref_counts = [int(ref.get(lv, 0)) for lv in labels]
        rec_counts = [int(rec.get(lv, 0)) for lv in labels]
        assert [lv.reference_leads for lv in d.levels] == ref_counts
        assert [lv.recent_leads for lv in d.levels] == rec_counts
        assert [lv.reference_share for lv in d.levels] == pytest.approx([c / sum(ref_counts) for c in ref_counts], abs=1e-12)
        assert d.psi == pytest.approx(direct_psi(ref_counts, rec_counts), abs=1e-12)
        assert d.verdict == verdict(d.psi)
    industry = next(x for x in drifts if x.attribute == "industry")
    # Government is not listed: it is (other); 'Select' and 'N/A' are placeholders: (missing)
    assert {lv.level: (lv.reference_leads, lv.recent_leads) for lv in industry.levels}["(other)"] == (0, 1)
    assert {lv.level: (lv.reference_leads, lv.recent_leads) for lv in industry.levels}["(missing)"] == (1, 1)


def test_masks_must_fit_and_hold_leads(tiny, tiny_model):
    p = periods(tiny, "quarter")
    with pytest.raises(LeadModelError, match="the recent period holds no leads"):
        attribute_drift(tiny, tiny_model, p.mask("2024-Q1"), np.zeros(tiny.n_leads, bool))
    with pytest.raises(LeadModelError, match="the reference mask has 3 entries"):
        score_drift(tiny, tiny_model, np.ones(3, bool), p.mask("2024-Q1"))


def test_moved_most_sentences():
    d = AttributeDrift("company_size", 0.31, "act", (
        LevelShift("1 to < 11", 0.12, 0.30, 12, 30), LevelShift("11 to < 50", 0.40, 0.35, 40, 35), LevelShift("(missing)", 0.48, 0.35, 48, 35),
    ))
    assert d.sentence() == "company_size: 1 to < 11 rose from 12% to 30% of leads"
    assert d.moved_phrase() == "1 to < 11 rising from 12% to 30%"
    assert [lv.level for lv in d.moved_most(2)] == ["1 to < 11", "(missing)"]
    small = AttributeDrift("x", 0.2, "watch", (LevelShift("a", 0.034, 0.081, 1, 2), LevelShift("b", 0.966, 0.919, 3, 4)))
    assert small.sentence() == "x: a rose from 3.4% to 8.1% of leads"  # one decimal below 10%
    assert AttributeDrift("y", 0.0, "stable", (LevelShift("a", 1.0, 1.0, 5, 7),)).sentence() == "y: no level changed its share of leads"


# ----- the score ------------------------------------------------------------------------------
def test_score_drift_equals_a_direct_computation(sample_leads, sample_model):
    p = periods(sample_leads, "quarter")
    ref, rec = p.mask("2024-Q1"), p.mask("2025-Q4")
    d = score_drift(sample_leads, sample_model, ref, rec)
    raw = pd.read_csv(SAMPLE_CSV, keep_default_na=False, na_values=[""])
    kinds = {a.name: a.kind for a in sample_model.attributes}
    scored = pd.DataFrame(brute_scores(sample_model.to_dict(), raw.to_dict("records"), kinds), columns=["score", "fit", "eng", "ko"])
    quarter = raw["created_date"].str[:4] + "-Q" + ((raw["created_date"].str[5:7].astype(int) - 1) // 3 + 1).astype(str)
    edges = list(d.edges)
    assert 5 <= len(edges) <= 12 and edges == sorted(edges)

    def counts(mask: pd.Series) -> list[int]:
        part = scored[mask]
        live = part[~part["ko"]]["score"]
        out = [int(((live >= lo) & (live < hi)).sum()) for lo, hi in zip([-math.inf, *edges], [*edges, math.inf])]
        return out + [int(part["ko"].sum())]

    ref_counts, rec_counts = counts(quarter == "2024-Q1"), counts(quarter == "2025-Q4")
    assert [lv.reference_leads for lv in d.levels] == ref_counts
    assert [lv.recent_leads for lv in d.levels] == rec_counts
    assert d.levels[-1].level == "knocked out"
    assert d.psi == pytest.approx(direct_psi(ref_counts, rec_counts), abs=1e-12)
    # the bins are the reference period's deciles: each holds roughly a tenth of its leads (ties make some fuller)
    shares = [lv.reference_share for lv in d.levels[:-1]]
    assert max(shares) < 0.25 and d.verdict == "stable"


def test_the_sample_lead_source_drift_is_found(sample_leads, sample_model):
    p = periods(sample_leads, "quarter")
    drifts = attribute_drift(sample_leads, sample_model, p.mask("2024-Q1"), p.mask("2025-Q4"))
    top = drifts[0]
    # sample_data/README.md: Purchased List 20% -> 10%, Partner 6% -> 10%, Paid Search 14% -> 18%: PSI about 0.12
    assert top.attribute == "lead_source"
    assert 0.10 <= top.psi < 0.25 and top.verdict == "watch"
    moved = top.moved_most(1)[0]
    assert moved.level == "Purchased List"
    assert moved.reference_share == pytest.approx(0.20, abs=0.015) and moved.recent_share == pytest.approx(0.10, abs=0.015)
    assert all(d.verdict == "stable" for d in drifts[1:])  # nothing else changes in the generator
