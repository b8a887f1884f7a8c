"""The Suggestions page in AppTest: statistics tables, the conversion chart with intervals, proposed beside current
points, locks, and 'apply' (per attribute, all at once, a threshold) through the undo history."""

from __future__ import annotations

import re
import json
import math
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import yaml
from conftest import start_app, plain
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "leads.csv"
SAMPLE_MODEL = ROOT / "sample_data" / "sample_model.yaml"
Z = 1.959963984540054

pytestmark = pytest.mark.skipif(not (SAMPLE.is_file() and SAMPLE_MODEL.is_file()), reason="the bundled sample is missing")


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("suggestions") / "store.duckdb"


@pytest.fixture
def app(store, monkeypatch):
    at = start_app(monkeypatch, store, timeout=120)
    at.switch_page("pages/suggestions.py")
    at.run()
    assert not at.exception, at.exception
    for name in at.session_state["suggestion"][1].points.chosen:  # open every suggested attribute (drawn only when open)
        at.session_state[f"exp::points::{name}"] = True
    at.session_state["exp::ranking"] = at.session_state["exp::association"] = True
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="module")
def training_rows() -> pd.DataFrame:
    """The raw sample rows the page trains on: created before the time cut (2025-07-01), read with pandas."""
    raw = pd.read_csv(SAMPLE, keep_default_na=False, dtype=str)
    return raw[raw["created_date"] < "2025-07-01"]



def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    frames = [d.value for d in at.dataframe if column in d.value.columns]
    assert frames, f"no table with a '{column}' column"
    return frames[0]


def chart_data(chart) -> tuple[dict, pd.DataFrame]:
    spec = json.loads(chart.proto.spec)
    first = chart.proto.datasets[0]
    return spec, pa.ipc.open_stream(first.data.data).read_all().to_pandas()


def wilson(k: int, n: int) -> tuple[float, float]:
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def test_page_shows_validation_points_thresholds_and_statistics(app, training_rows):
    assert app.title[0].value == "Suggestions"
    subheaders = [s.value for s in app.subheader]
    assert subheaders == ["Train and holdout", "Suggested points", "MQL threshold suggestions", "Attribute statistics (training leads)"]
    assert "by time" in " ".join(c.value for c in app.caption)
    # the app loads the sample with opportunity_amount; the page says it leaks and leaves it out
    assert any("opportunity_amount" in plain(w.value) and "leaky" in plain(w.value) for w in app.warning)
    s = app.session_state["suggestion"][1]
    assert "opportunity_amount" not in s.points.chosen

    validation = frame_with(app, "gap").set_index("metric")
    assert validation.loc["leads", "train"] == f"{len(training_rows):,}"
    assert validation.loc["leads", "holdout"] == f"{50_000 - len(training_rows):,}"
    train_rate = (training_rows["converted"] == "Yes").mean()
    assert validation.loc["base rate", "train"] == f"{train_rate:.1%}"
    assert validation.loc["ROC AUC", "holdout"] == f"{s.validation.holdout.auc:.3f}"

    stats = frame_with(app, "cramers_v")
    assert stats["attribute"].iat[0] == "opportunity_amount" and bool(stats["leaky"].iat[0])
    assert (stats["information_value"].diff().dropna() <= 0).all()
    assert {"p_value", "cramers_v", "point_biserial", "verdict"} <= set(stats.columns)

    ranking = frame_with(app, "joint_spread")
    assert ranking["attribute"].tolist()[: len(s.points.chosen)] == list(s.points.chosen) and ranking["chosen"].sum() == len(s.points.chosen)

    thresholds = frame_with(app, "holdout_precision")
    assert thresholds["rule"].iat[0] == "max F1" and thresholds["threshold"].iat[0] == s.model.mql_threshold
    assert {"mql_per_month", "mql_rate", "precision", "recall", "holdout_mql_per_month", "holdout_recall"} <= set(thresholds.columns)


def test_conversion_chart_has_wilson_intervals_from_the_training_rows(app, training_rows):
    app.selectbox(key="stats_attribute").select("demo_requested").run()
    assert not app.exception, app.exception
    spec, data = chart_data(app.get("vega_lite_chart")[-1])
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["bar", "errorbar", "rule"]
    errorbar = spec["layer"][1]["encoding"]
    assert errorbar["x"]["field"] == "ci_low" and errorbar["x2"]["field"] == "ci_high"
    data = data.set_index("level")
    for level, word in (("true", "Yes"), ("false", "No")):
        rows = training_rows[training_rows["demo_requested"] == word]
        n, k = len(rows), int((rows["converted"] == "Yes").sum())
        assert data.loc[level, "leads"] == n
        assert data.loc[level, "conversion_rate"] == pytest.approx(k / n)
        assert (data.loc[level, "ci_low"], data.loc[level, "ci_high"]) == pytest.approx(wilson(k, n))
    levels = frame_with(app, "woe")
    assert levels["level"].tolist() == ["false", "true"]


def test_proposed_points_sit_beside_the_current_ones(app):
    s = app.session_state["suggestion"][1]
    current = {a["name"]: a for a in yaml.safe_load(SAMPLE_MODEL.read_text())["attributes"]}
    tables = [d.value for d in app.dataframe if "suggested_points" in d.value.columns]
    assert len(tables) == len(s.points.chosen)
    demo = tables[s.points.chosen.index("demo_requested")].set_index("level")
    by_value = {lv["value"]: lv["points"] for lv in current["demo_requested"]["levels"]}
    assert demo.loc["true", "current_points"] == by_value[True] and demo.loc["false", "current_points"] == by_value[False]
    suggested = s.model.attribute("demo_requested").level_points()
    assert demo.loc["true", "suggested_points"] == suggested["true"] and demo.loc["false", "suggested_points"] == suggested["false"]
    # an attribute the current model lacks has no current points
    new = [a for a in s.points.chosen if a not in current]
    assert new and tables[s.points.chosen.index(new[0])]["current_points"].isna().all()
    assert len(app.get("vega_lite_chart")) == len(s.points.chosen) + 1  # a points chart per attribute and the rate chart


def test_apply_one_then_all_go_through_undo(app):
    history = app.session_state["workbench"].history
    before = history.current
    s = app.session_state["suggestion"][1]
    app.button(key="apply::job_level").click().run()
    assert not app.exception, app.exception
    now = app.session_state["workbench"].model
    assert now.attribute("job_level") == s.model.attribute("job_level")
    assert now.without_attribute("job_level") == before.without_attribute("job_level")
    assert app.button(key="apply::job_level").disabled  # applied: current and suggested now agree
    job = [d.value for d in app.dataframe if "suggested_points" in d.value.columns][s.points.chosen.index("job_level")]
    assert (job["current_points"] == job["suggested_points"]).all()
    assert any("job_level" in plain(m.value) for m in app.success)

    app.button(key="apply_all").click().run()
    assert not app.exception, app.exception
    history = app.session_state["workbench"].history
    assert history.current.attributes == s.model.attributes and history.current.mql_threshold == s.model.mql_threshold
    dropped = [a for a in before.attribute_names if a not in s.points.chosen]
    message = next(plain(m.value) for m in app.success if m.value.startswith("Applied all"))
    assert history.current.metadata == before.metadata  # apply all keeps the name, author and notes
    assert ("left the model" in message) == bool(dropped) and all(a in message for a in dropped)
    history.undo()
    history.undo()
    assert history.current == before


def test_threshold_button_sets_the_models_threshold(app):
    s = app.session_state["suggestion"][1]
    row = s.thresholds.iloc[3]  # capacity
    app.button(key=f"use_threshold::{row['rule']}").click().run()
    assert app.session_state["workbench"].model.mql_threshold == int(row["threshold"])


def test_locked_attribute_keeps_its_points_and_the_scale_option_is_used(app):
    before = app.session_state["workbench"].model
    app.multiselect[0].select("job_level")
    app.radio(key="suggest_scale").set_value("points double the odds")
    app.number_input(key="suggest_doubling").set_value(10)
    app.button[0].click().run()  # the form's submit button
    assert not app.exception, app.exception
    s = app.session_state["suggestion"][1]
    assert s.model.attribute("job_level") == before.attribute("job_level")
    assert s.points.points_per_doubling == pytest.approx(10)
    job = s.table[s.table["attribute"] == "job_level"]
    assert (job["why"] == "locked: kept as it is").all()
