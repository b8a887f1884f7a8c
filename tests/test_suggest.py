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
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from conftest import BANK_CSV, ROOT, SAMPLE_CSV, SAMPLE_MODEL, needs_bank, needs_sample
from lead_model.suggest.stats import level_codes
from lead_model.cli.main import main
from lead_model.errors import LeadModelError
from lead_model.suggest.validation import subset
from lead_model.data.leads import load_leads
from lead_model.model.schema import ScoringModel
from lead_model.engine.scoring import ScoringEngine
from lead_model.suggest.fit import lockable_levels, suggest, suggest_points, with_current_points


@pytest.fixture(scope="module")
def sample(sample_leads_fair):
    return sample_leads_fair


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


def test_max_score_and_points_to_double_scales(sample):
    # max score: scale = 100 / (sum of each attribute's coefficient range); each level gets
    # round((coefficient - the attribute's lowest) * scale), so the best lead scores about 100
    unmerged = suggest_points(sample, merge_equal_bins=False)
    t = unmerged.table
    scale = 100 / t.groupby("attribute")["coefficient"].agg(np.ptp).sum()
    assert unmerged.points_per_doubling == pytest.approx(scale * math.log(2))
    for _, g in t.groupby("attribute"):
        c = g["coefficient"].to_numpy()
        np.testing.assert_array_equal(g["suggested_points"], np.rint((c - c.min()) * scale).astype(int))
    best = t.groupby("attribute")["suggested_points"].max().sum()
    assert abs(best - 100) <= len(unmerged.chosen) / 2  # each attribute rounds by at most half a point
    s = suggest_points(sample, points_to_double=20, merge_equal_bins=False)
    assert s.points_per_doubling == pytest.approx(20)
    for _, t in s.table.groupby("attribute"):
        c = t["coefficient"].to_numpy()
        np.testing.assert_array_equal(t["suggested_points"], np.rint((c - c.min()) * 20 / math.log(2)).astype(int))


def test_merging_bins_with_equal_points_changes_no_score(sample, sample_points):
    unmerged = suggest_points(sample, merge_equal_bins=False)
    assert unmerged.chosen == sample_points.chosen
    a = ScoringEngine(sample, unmerged.model).scores(unmerged.model).total
    b = ScoringEngine(sample, sample_points.model).scores(sample_points.model).total
    np.testing.assert_array_equal(a, b)
    merged_any = False
    for attr in sample_points.model.attributes:
        if attr.kind != "numeric":
            continue
        points = [bin_.points for bin_ in attr.bins]
        assert all(x != y for x, y in zip(points, points[1:]))  # no two neighbours left with the same points
        before = unmerged.model.attribute(attr.name)
        assert set(attr.edges) <= set(before.edges)
        merged_any |= len(attr.bins) < len(before.bins)
        t = sample_points.table[sample_points.table["attribute"] == attr.name]
        assert t["leads"].sum() == sample.n_leads
    assert merged_any


def test_most_common_baseline_keeps_negative_points(sample):
    s = suggest_points(sample, baseline="most_common", max_attributes=5, merge_equal_bins=False)
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
    assert "country" not in current.attribute_names
    with pytest.raises(LeadModelError, match="no attribute 'country'"):
        suggest_points(sample, current, locked_attributes=["country"])


def test_fit_is_the_penalised_logistic_regression_sklearn_finds(sample):
    """Unshrunk coefficients equal scikit-learn's L2 logistic regression on the same one-hot levels
    (C = 1 / l2, intercept not penalised), up to one constant per attribute."""
    for l2 in (1.0, 50.0):
        s = suggest_points(sample, max_attributes=4, shrink_leads=0, l2=l2, merge_equal_bins=False)
        X = np.column_stack([level_codes(sample, a, s.stats.edges.get(a))[0] for a in s.chosen])
        enc = OneHotEncoder().fit(X)
        lr = LogisticRegression(C=1 / l2, tol=1e-10, max_iter=10_000).fit(enc.transform(X), sample.converted)
        coef = np.split(lr.coef_[0], np.cumsum([len(c) for c in enc.categories_])[:-1])
        for a, cats, want in zip(s.chosen, enc.categories_, coef):
            labels = level_codes(sample, a, s.stats.edges.get(a))[1]
            got = s.table[s.table["attribute"] == a].set_index("level").loc[[labels[c] for c in cats], "coefficient"].to_numpy()
            np.testing.assert_allclose(got - got.mean(), want - want.mean(), atol=2e-4)


def test_sparse_levels_are_shrunk_toward_the_attributes_average(sample):
    """coefficient = average + (unshrunk - average) * n / (n + shrink_leads), average weighted by leads."""
    a = suggest_points(sample, shrink_leads=0, max_attributes=5, merge_equal_bins=False).table
    b = suggest_points(sample, shrink_leads=300, max_attributes=5, merge_equal_bins=False).table
    assert a["attribute"].tolist() == b["attribute"].tolist()
    for name, g in a.groupby("attribute"):
        n, raw = g["leads"].to_numpy(float), g["coefficient"].to_numpy()
        average = (n * raw).sum() / n.sum()
        want = np.where(n > 0, average + (raw - average) * n / (n + 300), average)
        np.testing.assert_allclose(b.loc[g.index, "coefficient"], want, atol=1e-9)
    assert (b.loc[b["leads"] == 0, "why"] == "no lead has it: average points").all()


def test_leaky_attributes_are_left_out_unless_opted_in(sample_leads):
    leads = sample_leads
    s = suggest_points(leads, max_attributes=3)
    assert "opportunity_amount" not in s.chosen
    assert "leaky" in s.left_out.set_index("attribute").loc["opportunity_amount", "why"]
    assert "opportunity_amount" in suggest_points(leads, max_attributes=3, include_leaky=True).chosen


@pytest.fixture(scope="module")
def raw_sample() -> pd.DataFrame:
    return pd.read_csv(SAMPLE_CSV, keep_default_na=False, dtype=str)


def true_effects(raw: pd.DataFrame, name: str, spec: dict) -> np.ndarray:
    """Each raw row's documented log-odds effect of one attribute (README: empty cells and placeholders take 'missing')."""
    cells = raw[name]
    missing = (cells == "") | cells.isin(spec.get("placeholders", ()))
    if spec["kind"] == "numeric":
        x = pd.to_numeric(cells.where(~missing), errors="coerce").to_numpy(float)
        fx = np.asarray(spec["effects"])[np.searchsorted(spec["edges"], np.nan_to_num(x), side="right")]
    else:
        fx = cells.map(spec["effects"]).to_numpy(float)
    return np.where(missing, spec.get("missing", 0.0), fx)


def ground_truth_correlation(s, sample, raw) -> float:
    """Spearman between suggested points and true effects over every suggested level and bin with leads.

    A level's true effect is the average documented effect of the training leads in it (a bin
    can straddle true bands). Both sides are shifted so each attribute's lowest level is 0,
    then pooled: this checks the order within attributes and the sizes across them.
    """
    truth = json.loads((ROOT / "sample_data" / "ground_truth.json").read_text())["attributes"]
    train = subset(sample, s.split.train)
    rows = raw.iloc[train.row_index]
    true_fx, points = [], []
    for name in s.points.chosen:
        attr = s.model.attribute(name)
        codes, labels, _ = level_codes(train, name, attr.edges if attr.kind == "numeric" else None)
        n = np.bincount(codes, minlength=len(labels))
        mean = np.bincount(codes, weights=true_effects(rows, name, truth[name]), minlength=len(labels)) / np.maximum(n, 1)
        t = s.table[s.table["attribute"] == name]
        assert t["level"].tolist() == labels
        e, p = mean[n > 0], t["suggested_points"].to_numpy()[n > 0]
        true_fx += list(e - e.min())
        points += list(p - p.min())
    assert len(points) >= 40
    return spearmanr(true_fx, points).statistic


def test_sample_recovers_ground_truth_and_matches_sklearn(sample, raw_sample):
    """Bars: rank correlation >= 0.9 between suggested points and the documented effects, and holdout AUC
    within 0.01 of a logistic regression on the same levels and split (default K and every attribute)."""
    for s in (suggest(sample), suggest(sample, max_attributes=20, min_iv=0)):
        assert s.split.method == "time"
        assert ground_truth_correlation(s, sample, raw_sample) >= 0.9
        assert s.validation.holdout.auc >= sklearn_holdout_auc(sample, s) - 0.01


def test_bank_matches_sklearn_on_holdout(bank_leads_fair, bank_raw):
    """Bar: holdout AUC within 0.01 of a logistic regression on the same levels, and on the same attributes as
    they are in the file (categories one-hot, numbers standardised), chosen ones and every candidate, on the same split."""
    leads = bank_leads_fair
    s = suggest(leads)
    assert s.split.method == "random"
    assert "duration" not in s.points.stats.attributes["attribute"].tolist()
    assert s.validation.holdout.auc >= sklearn_holdout_auc(leads, s) - 0.01
    raw = bank_raw.iloc[leads.row_index].reset_index(drop=True)
    assert (raw["y"].eq("yes").to_numpy() == leads.converted).all()
    # the chosen attributes, and every candidate attribute (the K=10 points model must not lose much to using them all)
    for cols in (list(s.points.chosen), list(leads.attributes)):
        numeric = [c for c in cols if pd.api.types.is_numeric_dtype(raw[c])]
        lr = make_pipeline(
            ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), [c for c in cols if c not in numeric]), ("num", StandardScaler(), numeric)]),
            LogisticRegression(max_iter=5000),
        ).fit(raw.loc[s.split.train, cols], leads.converted[s.split.train])
        reference = roc_auc_score(leads.converted[s.split.holdout], lr.decision_function(raw.loc[s.split.holdout, cols]))
        assert s.validation.holdout.auc >= reference - 0.01, (len(cols), reference)


def test_bank_suggest_leaves_duration_out_when_not_excluded(tmp_path):
    needs_bank()
    out = tmp_path / "model.json"
    r = CliRunner().invoke(main, ["suggest", str(BANK_CSV), "--outcome", "y", "--store", str(tmp_path / "s.duckdb"), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "left out duration: looks leaky" in r.output
    assert "Suspicious (left out of suggestions unless you opt in): duration" in r.output
    assert "duration" not in ScoringModel.from_file(out).attribute_names


def test_threshold_suggestions_volume_per_month_and_targets(sample, raw_sample):
    s = suggest(sample, max_attributes=5, target_precision=0.3, target_recall=0.5, converted_share=0.8, capacity_per_month=150)
    t = s.thresholds.set_index("rule")
    assert t.index.tolist() == ["max F1", "precision >= 30%", "recall >= 50%", "capacity 150/month", "80% of converted reached"]
    assert t["threshold"].iat[0] == s.model.mql_threshold
    # months from the raw created dates of each part, counted by hand
    created = pd.to_datetime(raw_sample["created_date"]).to_numpy()
    def months(mask):
        d = created[np.sort(sample.row_index[mask])]
        return ((d.max() - d.min()) / np.timedelta64(1, "D") + 1) / 30.4375
    train_months, holdout_months = months(s.split.train), months(s.split.holdout)
    np.testing.assert_allclose(t["mql_per_month"], t["mql"] / train_months)
    np.testing.assert_allclose(t["holdout_mql_per_month"], t["holdout_mql"] / holdout_months)
    # each rule against the training sweep, threshold by threshold
    sweep = s.validation.train.sweep
    assert t.loc["capacity 150/month", "threshold"] == sweep.loc[sweep["mql"] <= 150 * train_months, "threshold"].min()
    assert t.loc["precision >= 30%", "threshold"] == sweep.loc[(sweep["precision"] >= 0.3) & (sweep["mql"] > 0), "threshold"].min()
    assert t.loc["recall >= 50%", "threshold"] == sweep.loc[sweep["recall"] >= 0.5, "threshold"].max()
    assert t.loc["80% of converted reached", "recall"] >= 0.8
    with pytest.raises(LeadModelError, match="target recall must be a fraction"):
        suggest(sample, max_attributes=2, target_recall=70)


def test_thresholds_without_dates_count_capacity_against_all_training_leads(tmp_path):
    rng = np.random.default_rng(4)
    n = 3000
    colour = rng.choice(["red", "blue", "green"], n)
    converted = rng.random(n) < np.where(colour == "red", 0.3, 0.05)
    path = tmp_path / "leads.csv"
    pd.DataFrame({"colour": colour, "converted": np.where(converted, "yes", "no")}).to_csv(path, index=False)
    leads = load_leads(path, "converted", store=tmp_path / "s.duckdb")
    s = suggest(leads)
    cap = s.thresholds.iloc[3]
    assert cap["rule"] == f"capacity {round(0.1 * s.split.n_train):,}" and "no created date" in cap["explanation"]
    assert s.thresholds["mql_per_month"].isna().all()


def test_current_points_follow_the_model_and_levels_can_be_locked(sample, sample_points, sample_model):
    current = sample_model
    s = suggest_points(sample, current, max_attributes=6)
    table = s.table.set_index(["attribute", "level"])
    assert table.loc[("demo_requested", "true"), "current_points"] == 30  # sample_model.yaml
    applied = current.with_attribute(s.model.attribute("lead_source"))
    fresh = with_current_points(s, sample, applied).set_index(["attribute", "level"])
    ls = fresh.loc["lead_source"]
    assert (ls["current_points"] == ls["suggested_points"]).all()
    assert fresh.loc[("demo_requested", "true"), "current_points"] == 30
    levels = lockable_levels(sample, current)
    assert ("job_level", "Student") in levels and ("company_size", "< 50") in levels
    locked = suggest_points(sample, current, max_attributes=6, locked_levels=[("job_level", "Student"), ("company_size", "< 50")])
    lt = locked.table.set_index(["attribute", "level"])
    assert lt.loc[("job_level", "Student"), "suggested_points"] == current.attribute("job_level").level_points()["Student"]
    assert lt.loc[("company_size", "< 50"), "suggested_points"] == current.attribute("company_size").bins[0].points
    assert locked.model.attribute("company_size").edges == current.attribute("company_size").edges  # locked bins keep the model's edges
    with pytest.raises(LeadModelError, match="has no level 'Astronaut'"):
        suggest_points(sample, current, locked_levels=[("job_level", "Astronaut")])


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
    r = runner.invoke(main, ["suggest", str(data), "--store", store, "--lock", "colour", "-o", str(out)])
    assert r.exit_code != 0 and "give that model with --model FILE" in r.output
    r = runner.invoke(main, ["suggest", str(data), "--store", store, "--target-recall", "70", "-o", str(out)])
    assert r.exit_code != 0 and "--target-recall" in r.output


def test_cli_suggest_with_a_current_model_locks_and_targets(tmp_path):
    needs_sample()
    out = tmp_path / "model.json"
    args = ["suggest", str(SAMPLE_CSV), "--outcome", "converted", "--exclude", "opportunity_amount", "--store", str(tmp_path / "s.duckdb"),
            "--model", str(SAMPLE_MODEL), "--lock", "job_level", "--lock", "demo_requested=true", "--max-attributes", "6",
            "--target-precision", "0.25", "--capacity", "150", "-o", str(out)]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    current, model = ScoringModel.from_file(SAMPLE_MODEL), ScoringModel.from_file(out)
    assert model.attribute("job_level") == current.attribute("job_level")
    assert model.attribute("demo_requested").level_points()["true"] == 30
    assert "training leads (the points are fit on these)" in r.output
    assert "precision >= 25%" in r.output and "capacity 150/month" in r.output and "MQLs/month" in r.output
    r = CliRunner().invoke(main, args[:-2] + ["--lock", "job_level=Astronaut", "-o", str(out)])
    assert r.exit_code == 1 and r.output.startswith("Error: 'job_level' has no level 'Astronaut' to lock")


def test_joint_selection_prefers_attributes_with_an_effect_of_their_own(tmp_path):
    """'echo' copies 'driver' for 85% of leads and has no effect of its own; 'region' has a smaller but real effect.
    Alone, echo looks stronger than region (higher IV); in a joint fit it adds almost nothing."""
    rng = np.random.default_rng(8)
    n = 30_000
    driver = rng.choice(["a", "b", "c"], n)
    echo = np.where(rng.random(n) < 0.85, driver, rng.choice(["a", "b", "c"], n))
    region = rng.choice(["north", "south"], n)
    logit = -2.5 + np.select([driver == "a", driver == "b"], [1.2, 0.4], 0.0) + 0.35 * (region == "north")
    converted = rng.random(n) < 1 / (1 + np.exp(-logit))
    path = tmp_path / "echo.csv"
    pd.DataFrame({"driver": driver, "echo": echo, "region": region, "converted": np.where(converted, "yes", "no")}).to_csv(path, index=False)
    leads = load_leads(path, "converted", store=tmp_path / "s.duckdb")
    s = suggest_points(leads, max_attributes=2)
    iv = s.ranking.set_index("attribute")["information_value"]
    assert iv["echo"] > iv["region"]
    assert s.chosen == ("driver", "region")
    spread = s.ranking.set_index("attribute")["joint_spread"]
    assert spread["echo"] < spread["region"] < spread["driver"]
    assert "not among the 2 strongest in a joint fit" in s.left_out.set_index("attribute").loc["echo", "why"]
    assert suggest_points(leads, max_attributes=2, selection="iv").chosen == ("driver", "echo")
    assert list(s.ranking.columns) == ["attribute", "information_value", "joint_spread", "chosen", "why"]


def test_sample_default_picks_the_documented_medium_effects_over_weak_ones(sample, sample_points):
    """README: every medium effect (company_size, personal_email, webinar_attended, ...) outranks the weak ones;
    ranked by IV alone, one of company_size and personal_email loses its place to email or download counts."""
    medium = {"lead_source", "industry", "company_size", "personal_email", "website_visits", "webinar_attended"}
    assert medium <= set(sample_points.chosen)
    weak = {"email_clicks", "content_downloads", "email_opens", "department", "country"}
    assert len(weak & set(sample_points.chosen)) == 1  # ten places: 3 strong + 6 medium + the best of the weak
    assert sample_points.chosen[-1] in weak
    by_iv = suggest_points(sample, selection="iv")
    assert not {"company_size", "personal_email"} <= set(by_iv.chosen)
