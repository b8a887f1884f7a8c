"""The bundled sample dataset: reproducible, shaped as documented, and consistent with its ground truth."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
CSV = SAMPLE / "leads.csv"
GROUND_TRUTH = SAMPLE / "ground_truth.json"


@pytest.fixture(scope="module")
def gen():
    """The generator module, imported by path (sample_data is not a package)."""
    spec = importlib.util.spec_from_file_location("generate_leads", SAMPLE / "generate_leads.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def leads() -> pd.DataFrame:
    # Read every cell as text so placeholders like "N/A" and "null" stay visible; only "" is missing.
    return pd.read_csv(CSV, dtype=str, keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads(GROUND_TRUTH.read_text())


def _rate(frame: pd.DataFrame) -> float:
    return float((frame["converted"] == "Yes").mean())


def test_committed_files_equal_a_fresh_generation(gen, tmp_path):
    out = tmp_path / "leads.csv"
    gen.main(["-o", str(out)])
    assert out.read_bytes() == CSV.read_bytes(), "leads.csv is stale: run python sample_data/generate_leads.py"
    assert (tmp_path / "ground_truth.json").read_bytes() == GROUND_TRUTH.read_bytes()


def test_generate_leads_is_deterministic_and_sized(gen):
    a, b = gen.generate_leads(2_000), gen.generate_leads(2_000)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 2_000 and list(a.columns) == gen.COLUMNS
    assert not gen.generate_leads(2_000, seed=1).equals(a)


def test_shape_and_columns(leads, gen):
    assert len(leads) == 50_000
    assert list(leads.columns) == gen.COLUMNS
    assert leads["created_date"].min() >= "2024-01-01" and leads["created_date"].max() <= "2025-12-31"
    assert set(leads["personal_email"]) == {"true", "false"}
    assert 0.12 <= (leads["personal_email"] == "true").mean() <= 0.18


def test_conversion_rate_in_range(leads):
    assert 0.08 <= _rate(leads) <= 0.10


def test_exact_duplicates_exist_and_are_scattered(leads):
    repeated = leads.duplicated(keep="first")
    assert 100 <= repeated.sum() <= 250  # ~0.3% of 50,000
    # A repeated lead_id is always a full-row repeat, never a different lead with the same id.
    assert leads["lead_id"].duplicated().sum() == repeated.sum()
    first_pos = leads.reset_index().drop_duplicates("lead_id").set_index("lead_id")["index"]
    gaps = leads.index[repeated] - first_pos[leads.loc[repeated, "lead_id"]].to_numpy()
    assert (gaps > 1).mean() > 0.9  # copies sit elsewhere in the file, not next to the original


def test_engagement_counts(leads):
    counts = leads[["website_visits", "pricing_page_views", "email_opens", "email_clicks", "content_downloads"]].astype(int)
    assert (counts >= 0).all().all()
    assert (counts["email_clicks"] <= counts["email_opens"]).all()
    assert counts["website_visits"].median() < counts["website_visits"].mean()  # right-skewed


def test_opportunity_amount_present_iff_converted(leads):
    has_amount = leads["opportunity_amount"].notna()
    assert (has_amount == (leads["converted"] == "Yes")).all()
    assert (leads.loc[has_amount, "opportunity_amount"].astype(float) > 0).all()


def test_the_mess_is_there(leads, truth):
    for column in ("job_level", "industry", "company_size", "department", "country"):
        assert 0.03 <= leads[column].isna().mean() <= 0.08, column
    for column, spec in truth["attributes"].items():
        for placeholder in spec.get("placeholders", []):
            assert 0.002 <= (leads[column] == placeholder).mean() <= 0.01, (column, placeholder)


def test_strong_levels_move_conversion_in_the_documented_direction(leads, truth):
    effects = {name: spec["effects"] for name, spec in truth["attributes"].items() if spec["kind"] != "numeric"}
    assert effects["demo_requested"]["Yes"] > 0
    demo = leads.groupby("demo_requested").apply(_rate, include_groups=False)
    assert demo["Yes"] > 2.5 * demo["No"]
    assert effects["job_level"]["Student"] < 0
    assert _rate(leads[leads["job_level"] == "Student"]) < _rate(leads) / 2
    assert _rate(leads[leads["lead_source"] == "Purchased List"]) < _rate(leads[leads["lead_source"] == "Referral"])


def _ground_truth_logit(leads: pd.DataFrame, truth: dict) -> np.ndarray:
    """An independent reading of ground_truth.json, applied to the CSV."""
    created = pd.to_datetime(leads["created_date"])
    quarter = ((created.dt.year - 2024) * 4 + (created.dt.month - 1) // 3).to_numpy()
    logit = truth["intercept"] + truth["drift"]["intercept_per_quarter"] * quarter
    for name, spec in truth["attributes"].items():
        missing = spec.get("missing", 0.0)
        values = leads[name]
        if spec["kind"] == "numeric":
            x = pd.to_numeric(values).to_numpy(float)
            band = np.searchsorted(spec["edges"], np.nan_to_num(x), side="right")
            logit = logit + np.where(np.isnan(x), missing, np.asarray(spec["effects"])[band])
        else:
            seen = set(values.dropna())
            assert seen <= set(spec["effects"]), f"{name} has values the ground truth does not cover: {seen - set(spec['effects'])}"
            logit = logit + values.map(spec["effects"]).astype(float).fillna(missing).to_numpy()
    return logit


def test_ground_truth_reproduces_the_conversion_rates(leads, truth):
    p = 1 / (1 + np.exp(-_ground_truth_logit(leads, truth)))
    converted = (leads["converted"] == "Yes").to_numpy()
    assert abs(p.mean() - converted.mean()) < 0.005
    for level in ("Yes", "No"):
        rows = (leads["demo_requested"] == level).to_numpy()
        assert abs(p[rows].mean() - converted[rows].mean()) < 0.02, level
    # Calibration by decile of predicted probability: observed tracks predicted.
    decile = pd.qcut(p, 10, labels=False)
    by_decile = pd.DataFrame({"p": p, "y": converted}).groupby(decile).mean()
    assert (by_decile["y"] - by_decile["p"]).abs().max() < 0.03
    assert by_decile["y"].is_monotonic_increasing or by_decile["y"].diff().min() > -0.01


def test_sample_model_loads(leads):
    from lead_model.model.schema import ScoringModel

    model = ScoringModel.from_file(SAMPLE / "sample_model.yaml")
    assert set(model.attribute_names) <= set(leads.columns)
    assert "opportunity_amount" not in model.attribute_names  # the leaky column stays out
    assert any(ko.attribute == "job_level" and "Student" in (ko.values or ()) for ko in model.knockouts)
