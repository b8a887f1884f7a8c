"""Attribute statistics checked against scipy and brute force, numeric binning rules, and leak flags."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2_contingency, pearsonr

from lead_model.suggest.stats import WOE_SMOOTHING, attribute_statistics, stats_report, woe_iv
from lead_model.suggest.binning import nice_round, quantile_edges, supervised_edges
from lead_model.data.leads import load_leads


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """300 leads: colour drives conversion, visits a little, flag not at all; some cells missing."""
    rng = np.random.default_rng(3)
    n = 300
    colour = rng.choice(["red", "blue", "green"], n, p=[0.5, 0.3, 0.2]).astype(object)
    colour[rng.random(n) < 0.05] = ""
    visits = rng.poisson(3, n).astype(float)
    visits[rng.random(n) < 0.1] = np.nan
    flag = rng.choice(["yes", "no"], n)
    p = 0.1 + 0.3 * (colour == "red") + 0.02 * np.nan_to_num(visits)
    converted = rng.random(n) < p
    frame = pd.DataFrame({"colour": colour, "visits": visits, "flag": flag, "converted": np.where(converted, "yes", "no")})
    path = tmp_path_factory.mktemp("small") / "small.csv"
    frame.to_csv(path, index=False)
    leads = load_leads(path, "converted", store=path.with_suffix(".duckdb"))
    return leads, attribute_statistics(leads)


def brute(leads, name, edges=None):
    """Per-level counts straight from the encoded arrays, one level at a time."""
    enc = leads.attributes[name]
    codes = enc.codes if edges is None else leads.bin_codes(name, edges)
    rows = []
    for c in np.unique(codes):
        mask = codes == c
        rows.append((int(c), int(mask.sum()), int(leads.converted[mask].sum())))
    return rows


def test_level_counts_rates_and_wilson_match_brute_force(small):
    leads, stats = small
    for name in ("colour", "flag", "visits"):
        table = stats.level_table(name)
        expected = brute(leads, name, stats.edges.get(name))
        assert [tuple(r) for r in table[["code", "leads", "converted"]].itertuples(index=False)] == expected
        z = 1.959963984540054
        for r in table.itertuples():
            p, n = r.converted / r.leads, r.leads
            centre = (p + z * z / (2 * n)) / (1 + z * z / n)
            half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
            assert r.conversion_rate == pytest.approx(p)
            assert r.ci_low == pytest.approx(max(0, centre - half)) and r.ci_high == pytest.approx(min(1, centre + half))
            assert r.lift == pytest.approx(p / leads.base_rate)


def test_woe_and_iv_match_the_formula(small):
    leads, stats = small
    table = stats.level_table("colour")
    c, n = table["converted"].to_numpy(float), table["leads"].to_numpy(float)
    u, m, a = n - c, len(n), WOE_SMOOTHING
    for i in range(m):
        woe = math.log(((c[i] + a) / (c.sum() + a * m)) / ((u[i] + a) / (u.sum() + a * m)))
        assert table["woe"].iat[i] == pytest.approx(woe)
        assert table["iv"].iat[i] == pytest.approx((c[i] / c.sum() - u[i] / u.sum()) * woe)
    row = stats.attributes.set_index("attribute").loc["colour"]
    assert row["information_value"] == pytest.approx(table["iv"].sum())


def test_woe_is_finite_when_a_level_never_converts():
    woe, iv = woe_iv(np.array([10, 90]), np.array([0, 30]))
    assert np.isfinite(woe).all() and np.isfinite(iv).all() and woe[0] < 0


def test_chi_square_cramers_v_and_point_biserial_match_scipy(small):
    leads, stats = small
    attrs = stats.attributes.set_index("attribute")
    for name in ("colour", "flag", "visits"):
        codes = leads.attributes[name].codes if name != "visits" else leads.bin_codes(name, stats.edges[name])
        table = pd.crosstab(leads.converted, codes).to_numpy()
        res = chi2_contingency(table, correction=False)
        assert attrs.loc[name, "chi2"] == pytest.approx(res.statistic)
        assert attrs.loc[name, "p_value"] == pytest.approx(res.pvalue)
        assert attrs.loc[name, "cramers_v"] == pytest.approx(math.sqrt(res.statistic / (table.sum() * (min(table.shape) - 1))))
    values = leads.attributes["visits"].values
    ok = ~np.isnan(values)
    assert attrs.loc["visits", "point_biserial"] == pytest.approx(pearsonr(leads.converted[ok].astype(float), values[ok]).statistic)
    assert math.isnan(attrs.loc["colour", "point_biserial"])


def test_attributes_are_ranked_by_information_value_with_verdicts(small):
    _, stats = small
    ivs = stats.attributes["information_value"].to_numpy()
    assert (np.diff(ivs) <= 0).all() and stats.attributes["rank"].tolist() == [1, 2, 3]
    assert stats.attributes["attribute"].iat[0] == "colour"
    flag = stats.attributes.set_index("attribute").loc["flag"]
    assert flag["strength"] == "weak" and flag["verdict"].startswith("weak")
    assert "colour" in stats_report(stats)


def test_missing_is_its_own_level_not_a_bin(small):
    leads, stats = small
    visits = stats.level_table("visits")
    assert visits["level"].iat[0] == "(missing)" and visits["code"].iat[0] == 0
    assert visits["leads"].iat[0] == int(np.isnan(leads.attributes["visits"].values).sum())
    assert math.isnan(visits["min"].iat[0])


def test_supervised_bins_hold_five_percent_and_use_nice_edges():
    rng = np.random.default_rng(1)
    values = rng.lognormal(5, 1.5, 20_000)
    y = rng.random(values.size) < 0.05 + 0.1 * (values > 300)
    edges = supervised_edges(values, y, n_quantiles=10, min_share=0.05)
    assert set(edges) <= set(quantile_edges(values, 10))
    assert all(nice_round(e) == e for e in edges)
    counts = np.bincount(np.searchsorted(edges, values, side="right"))
    assert (counts >= 0.05 * values.size).all()


def test_monotonic_merging_makes_rates_monotonic():
    rng = np.random.default_rng(2)
    values = rng.integers(0, 100, 30_000).astype(float)
    y = rng.random(values.size) < 0.05 + 0.002 * values + 0.05 * (values % 20 < 3)
    edges = supervised_edges(values, y, n_quantiles=10, monotonic=True)
    bins = np.searchsorted(edges, values, side="right")
    rates = np.bincount(bins, weights=y) / np.bincount(bins)
    assert len(edges) >= 1 and (np.diff(rates) >= 0).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.floats(-1e6, 1e6), st.just(float("nan"))), min_size=1, max_size=200), st.integers(0, 2**31))
def test_supervised_edges_never_break_the_bin_rules(raw, seed):
    values = np.array(raw)
    y = np.random.default_rng(seed).random(values.size) < 0.3
    edges = supervised_edges(values, y, min_share=0.05)
    assert list(edges) == sorted(set(edges))
    finite = values[~np.isnan(values)]
    if edges:
        counts = np.bincount(np.searchsorted(edges, finite, side="right"), minlength=len(edges) + 1)
        assert (counts >= 0.05 * finite.size).all()


@pytest.fixture(scope="module")
def sample_stats(sample_leads):
    return attribute_statistics(sample_leads)


def test_sample_flags_opportunity_amount_as_leaky(sample_stats):
    attrs = sample_stats.attributes.set_index("attribute")
    assert sample_stats.leaky() == ["opportunity_amount"]
    assert "leak" in attrs.loc["opportunity_amount", "verdict"]
    assert attrs.loc["demo_requested", "strength"] == "strong"
    assert set(attrs.index[attrs["strength"] == "weak"]) == {"department", "country"}


def test_bank_flags_duration_as_suspicious_when_not_excluded(bank_leads):
    stats = attribute_statistics(bank_leads)
    assert "duration" in stats.leaky()
    assert stats.attributes["attribute"].iat[0] == "duration"
    report = stats_report(stats)
    duration = next(line for line in report.splitlines() if " duration " in line)
    assert "< 1e-300" in duration and "looks leaky, left out" in duration  # p underflows to 0: not printed as "0"
    assert report.splitlines()[-1].startswith("Suspicious (left out of suggestions unless you opt in): duration.")


def test_stats_report_prints_point_biserial_for_numeric_attributes_only(small):
    leads, stats = small
    report = stats_report(stats, "training leads")
    assert report.startswith(f"{leads.n_leads:,} training leads, base conversion rate")
    attrs = stats.attributes.set_index("attribute")
    visits = next(line for line in report.splitlines() if " visits " in line)
    colour = next(line for line in report.splitlines() if " colour " in line)
    assert f"{attrs.loc['visits', 'point_biserial']:+.3f}" in visits
    assert f"{attrs.loc['colour', 'p_value']:.2g}" in colour and "+0." not in colour and "-0." not in colour


def test_verdicts_and_the_leak_rule_on_a_rare_outcome(tmp_path):
    """2% converted. 'stage' is filled in after contact: 'lost' (8% of leads) never converts. 'role' is a real but
    weak-converting level: students (10%) convert at 0.3%, which is not a leak at a 2% base rate."""
    rng = np.random.default_rng(11)
    n = 40_000
    role = rng.choice(["student", "staff", "lead"], n, p=[0.1, 0.6, 0.3])
    p = np.select([role == "student", role == "staff"], [0.003, 0.015], 0.035)
    converted = rng.random(n) < p
    stage = np.where(converted, rng.choice(["open", "won"], n), rng.choice(["open", "lost"], n, p=[0.9, 0.1]))
    noise = rng.choice(["a", "b"], n)
    path = tmp_path / "rare.csv"
    pd.DataFrame({"role": role, "stage": stage, "noise": noise, "converted": np.where(converted, "yes", "no")}).to_csv(path, index=False)
    leads = load_leads(path, "converted", store=tmp_path / "s.duckdb")
    stats = attribute_statistics(leads)
    attrs = stats.attributes.set_index("attribute")
    students = stats.level_table("role").set_index("level").loc["student"]
    assert students["conversion_rate"] <= 0.005 and students["share"] > 0.05  # would pass a plain "<= 0.5%" rule
    assert not attrs.loc["role", "leaky"] and attrs.loc["role", "strength"] in ("useful", "strong")
    assert attrs.loc["stage", "leaky"] and "'lost'" in attrs.loc["stage", "verdict"] and "converts at 0.0%" in attrs.loc["stage", "verdict"]
    assert attrs.loc["noise", "strength"] == "weak" and attrs.loc["noise", "verdict"].startswith("weak: information value")
    assert stats.leaky() == ["stage"]


def test_strong_but_plausible_columns_are_called_suspicious_and_kept(bank_leads_fair):
    """Bank marketing, all rows: the previous campaign's outcome has IV just over 0.5, and no level near 0% or 100%."""
    poutcome = attribute_statistics(bank_leads_fair, ["poutcome", "age"]).attributes.set_index("attribute").loc["poutcome"]
    assert poutcome["information_value"] > 0.5
    assert poutcome["strength"] == "suspicious" and not poutcome["leaky"]
    assert poutcome["verdict"].startswith("suspiciously strong, kept")
