"""Suggested points: scaling and rounding rules, locks, K, groups, leaks, thresholds, the CLI, and the ground-truth bars."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import OneHotEncoder

from lead_model.attribute_stats import level_codes
from lead_model.cli import main
from lead_model.errors import LeadModelError
from lead_model.leads import load_leads
from lead_model.suggest import suggest, suggest_points

BANK = "/work/shared/data/bank-marketing/bank-full.csv"


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return load_leads("sample_data/leads.csv", "converted", store=tmp_path_factory.mktemp("s") / "s.duckdb", exclude=["opportunity_amount"])


@pytest.fixture(scope="module")
def sample_points(sample):
    return suggest_points(sample)


def sklearn_holdout_auc(leads, s) -> float:
    """Logistic regression on the same one-hot levels and the same split (test-only reference)."""
    X = np.column_stack([level_codes(leads, a, s.points.stats.edges.get(a))[0] for a in s.points.chosen])
    y, tr, ho = leads.converted, s.split.train, s.split.holdout
    enc = OneHotEncoder(handle_unknown="ignore").fit(X[tr])
    lr = LogisticRegression(C=1.0, max_iter=5000).fit(enc.transform(X[tr]), y[tr])
    return roc_auc_score(y[ho], lr.decision_function(enc.transform(X[ho])))


def test_k_groups_and_lowest_level_zero(sample, sample_points):
    m = sample_points.model
    assert len(m.attributes) == 10 and len(sample_points.chosen) == 10
    for a in m.attributes:
        assert a.group == sample.attributes[a.name].group
        pts = sample_points.table.loc[sample_points.table["attribute"] == a.name, "suggested_points"]
        assert pts.min() == 0
    assert len(suggest_points(sample, max_attributes=3).model.attributes) == 3
    assert set(sample_points.left_out["attribute"]) >= {"department", "country"}


def test_rounding_keeps_the_ranking_within_each_attribute(sample_points):
    for _, t in sample_points.table.groupby("attribute"):
        c, p = t["coefficient"].to_numpy(), t["suggested_points"].to_numpy()
        order = np.argsort(c, kind="stable")
        assert (np.diff(p[order]) >= 0).all()


def test_max_score_and_points_to_double_scales(sample, sample_points):
    best = sample_points.table.groupby("attribute")["suggested_points"].max().sum()
    assert abs(best - 100) <= 5
    s = suggest_points(sample, points_to_double=20)
    assert s.points_per_doubling == pytest.approx(20)
    for _, t in s.table.groupby("attribute"):
        c = t["coefficient"].to_numpy()
        np.testing.assert_array_equal(t["suggested_points"], np.rint((c - c.min()) * 20 / math.log(2)).astype(int))


def test_most_common_baseline_keeps_negative_points(sample):
    s = suggest_points(sample, baseline="most_common", max_attributes=5)
    t = s.table[s.table["leads"] > 0]
    for name, g in t.groupby("attribute"):
        assert g.loc[g["leads"].idxmax(), "suggested_points"] == 0
    assert (s.table["suggested_points"] < 0).any()


def test_locks_are_respected(sample, sample_points):
    current = sample_points.model
    job = current.attribute("job_level")
    locked = suggest_points(sample, current, locked_attributes=["job_level"], locked_levels=[("lead_source", "Referral")])
    assert locked.model.attribute("job_level") == job
    table = locked.table.set_index(["attribute", "level"])
    assert table.loc[("lead_source", "Referral"), "suggested_points"] == current.attribute("lead_source").level_points()["Referral"]
    assert table.loc[("lead_source", "Referral"), "why"].startswith("locked")
    with pytest.raises(LeadModelError, match="no attribute 'company_size'"):
        suggest_points(sample, current, locked_attributes=["company_size"])


def test_sparse_levels_are_shrunk(sample):
    a = suggest_points(sample, shrink_leads=0, max_attributes=5).table
    b = suggest_points(sample, shrink_leads=5000, max_attributes=5).table
    assert b["suggested_points"].abs().sum() < a["suggested_points"].abs().sum()


def test_leaky_attributes_are_left_out_unless_opted_in(tmp_path):
    leads = load_leads("sample_data/leads.csv", "converted", store=tmp_path / "s.duckdb")
    s = suggest_points(leads, max_attributes=3)
    assert "opportunity_amount" not in s.chosen
    assert "leaky" in s.left_out.set_index("attribute").loc["opportunity_amount", "why"]
    assert "opportunity_amount" in suggest_points(leads, max_attributes=3, include_leaky=True).chosen


def test_sample_recovers_ground_truth_and_matches_sklearn(sample):
    """Bars: Spearman >= 0.9 between suggested points and true effects (categorical + boolean levels,
    placeholders and missing left out, both shifted so each attribute's lowest level is 0, pooled),
    and holdout AUC within 0.01 of a logistic regression on the same levels and split."""
    truth = json.load(open("sample_data/ground_truth.json"))["attributes"]
    s = suggest(sample, max_attributes=20, min_iv=0)
    true_fx, points = [], []
    for name, spec in truth.items():
        if spec["kind"] == "numeric":
            continue
        t = s.table[s.table["attribute"] == name].set_index("level")["suggested_points"]
        pairs = [(e, t[{"Yes": "true", "No": "false"}.get(v, v)]) for v, e in spec["effects"].items() if v not in spec.get("placeholders", ())]
        e, p = np.array(pairs, dtype=float).T
        true_fx += list(e - e.min())
        points += list(p - p.min())
    assert spearmanr(true_fx, points).statistic >= 0.9
    assert s.split.method == "time"
    assert s.validation.holdout.auc >= sklearn_holdout_auc(sample, s) - 0.01
    default = suggest(sample)
    assert default.validation.holdout.auc >= sklearn_holdout_auc(sample, default) - 0.01


def test_bank_matches_sklearn_on_holdout(tmp_path):
    leads = load_leads(BANK, "y", store=tmp_path / "s.duckdb", exclude=["duration"])
    s = suggest(leads)
    assert s.split.method == "random"
    assert s.validation.holdout.auc >= sklearn_holdout_auc(leads, s) - 0.01
    assert "duration" not in s.points.stats.attributes["attribute"].tolist()


def test_threshold_suggestions_and_model_threshold(sample):
    s = suggest(sample, max_attributes=5)
    rules = s.thresholds["rule"].tolist()
    assert len(rules) == 5 and rules[0] == "max F1"
    assert s.thresholds["threshold"].iat[0] == s.model.mql_threshold
    assert {"mql", "precision", "recall", "holdout_precision", "holdout_recall"} <= set(s.thresholds.columns)


def test_cli_stats_and_suggest(tmp_path):
    rng = np.random.default_rng(0)
    n = 2000
    colour = rng.choice(["red", "blue", "green"], n)
    visits = rng.poisson(3, n)
    converted = rng.random(n) < 0.05 + 0.2 * (colour == "red") + 0.02 * visits
    data = tmp_path / "leads.csv"
    pd.DataFrame({"colour": colour, "visits": visits, "converted": np.where(converted, "yes", "no")}).to_csv(data, index=False)
    store = str(tmp_path / "s.duckdb")
    runner = CliRunner()
    r = runner.invoke(main, ["stats", str(data), "--outcome", "converted", "--store", store])
    assert r.exit_code == 0, r.output
    assert "colour" in r.output and "information value" in r.output
    out = tmp_path / "model.json"
    r = runner.invoke(main, ["suggest", str(data), "--outcome", "converted", "--store", store, "--points-to-double", "20", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "holdout" in r.output and "max F1" in r.output and out.exists()
    r = runner.invoke(main, ["suggest", str(data), "--outcome", "converted", "--store", store, "--holdout", "time", "-o", str(out)])
    assert r.exit_code == 1 and "Error: the data has no created-date column" in r.output
    r = runner.invoke(main, ["suggest", str(data), "--store", store, "--points-to-double", "20", "--max-score", "80", "-o", str(out)])
    assert r.exit_code != 0 and "not both" in r.output
