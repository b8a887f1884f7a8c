"""Train/holdout splits, LeadSet subsets and side-by-side validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from lead_model.engine.backtest import backtest
from lead_model.errors import LeadModelError
from lead_model.suggest.validation import split_leads, subset, validate
from lead_model.data.leads import load_leads
from lead_model.model.schema import Attribute, Level, ScoringModel
from lead_model.engine.scoring import ScoringEngine


@pytest.fixture(scope="module")
def sample(sample_leads_fair):
    return sample_leads_fair


@pytest.fixture
def flip(tmp_path):
    """40 leads: red converts in the first 20 rows and blue in the last 20 (no date column)."""
    colour = ["red", "blue"] * 20
    converted = [("yes" if c == "red" else "no") if i < 20 else ("no" if c == "red" else "yes") for i, c in enumerate(colour)]
    path = tmp_path / "flip.csv"
    pd.DataFrame({"colour": colour, "converted": converted}).to_csv(path, index=False)
    return load_leads(path, "converted", store=tmp_path / "s.duckdb")


def test_subset_keeps_converted_first_and_counts(sample):
    mask = np.random.default_rng(0).random(sample.n_leads) < 0.3
    part = subset(sample, mask)
    assert part.n_leads == mask.sum() and part.n_converted == sample.converted[mask].sum()
    k = part.n_converted
    assert part.converted[:k].all() and not part.converted[k:].any()
    assert (part.attributes["job_level"].codes == sample.attributes["job_level"].codes[mask]).all()
    np.testing.assert_array_equal(part.row_index, sample.row_index[mask])


def test_backtest_on_a_subset_matches_sklearn_auc(sample):
    model = ScoringModel(attributes=(Attribute(name="demo_requested", kind="boolean", group="engagement", levels=(Level(value=True, points=30),)),
                                     Attribute(name="job_level", kind="categorical", group="fit", levels=(Level(value="VP", points=10), Level(value="Student", points=-5)))))
    mask = np.random.default_rng(1).random(sample.n_leads) < 0.5
    part = subset(sample, mask)
    scores = ScoringEngine(sample, model).scores(model).total[mask]  # scored on all leads, then masked
    result = backtest(part, model)
    assert result.auc == pytest.approx(roc_auc_score(part.converted, scores))
    assert result.leads == part.n_leads and result.converted == part.n_converted


def test_time_split_holds_out_the_newest_quarters(sample):
    split = split_leads(sample, "auto")
    assert split.method == "time"
    cut = sample.created[split.holdout].min()
    assert str(cut) == "2025-07-01"
    assert (sample.created[split.train] < cut).all()
    assert 0.2 < split.n_holdout / sample.n_leads < 0.4
    assert "2025-07-01" in split.description


def test_random_split_is_stratified_and_seeded(sample):
    a, b = split_leads(sample, "random", 0.25, seed=5), split_leads(sample, "random", 0.25, seed=5)
    np.testing.assert_array_equal(a.holdout, b.holdout)
    assert a.holdout[: sample.n_converted].sum() == round(0.25 * sample.n_converted)
    assert a.n_holdout == round(0.25 * sample.n_converted) + round(0.25 * (sample.n_leads - sample.n_converted))
    assert not (a.train & a.holdout).any()


def test_no_date_falls_back_to_random_and_time_says_why(flip):
    assert split_leads(flip, "auto").method == "random"
    with pytest.raises(LeadModelError, match="no created-date column"):
        split_leads(flip, "time")
    with pytest.raises(LeadModelError, match="not one of"):
        split_leads(flip, "sideways")
    none = split_leads(flip, "none")
    assert none.train.all() and not none.holdout.any()


def test_validation_warns_when_holdout_diverges(flip):
    model = ScoringModel(attributes=(Attribute(name="colour", kind="categorical", group="fit", levels=(Level(value="red", points=10),)),), mql_threshold=5)
    v = validate(model, subset(flip, flip.row_index < 20), subset(flip, flip.row_index >= 20))
    t = v.table.set_index("metric")
    assert t.loc["ROC AUC", "train"] == 1.0 and t.loc["ROC AUC", "holdout"] == 0.0
    assert any("overfit" in w for w in v.warnings)
    assert list(v.table.columns) == ["metric", "train", "holdout", "gap"]
    alone = validate(model, flip, None)
    assert any("optimistic" in w for w in alone.warnings)
    shown = v.display_table().set_index("metric")
    assert shown.loc["leads"].tolist() == ["20", "20", ""]
    assert shown.loc["ROC AUC"].tolist() == ["1.000", "0.000", "-1.000"]
    assert shown.loc["base rate"].tolist() == ["50.0%", "50.0%", "+0.0 pts"]
    assert alone.display_table().set_index("metric").loc["recall", "holdout"] == "n/a"


def test_validation_warns_when_holdout_leads_convert_at_another_rate(sample):
    model = ScoringModel(attributes=(Attribute(name="demo_requested", kind="boolean", group="engagement", levels=(Level(value=True, points=30),)),))
    rng = np.random.default_rng(2)
    same = validate(model, subset(sample, rng.random(sample.n_leads) < 0.5), subset(sample, rng.random(sample.n_leads) < 0.5))
    assert not any("convert at" in w for w in same.warnings)
    richer = subset(sample, sample.converted | (rng.random(sample.n_leads) < 0.5))  # about 16% converted against 8.9%
    v = validate(model, sample, richer)
    assert any(w.startswith(f"held-out leads convert at {richer.base_rate:.1%} against {sample.base_rate:.1%}") for w in v.warnings)
