"""The Review page in AppTest: the summary and cohorts on the sample, saving and publishing versions, comparing models, data without dates."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import BANK_CSV, SAMPLE_CSV, needs_bank, start_app
from streamlit.testing.v1 import AppTest

from lead_model.model.versions import VersionRegistry


@pytest.fixture
def app(tmp_path, monkeypatch) -> AppTest:
    at = start_app(monkeypatch, tmp_path / "store.duckdb")
    at.switch_page("pages/review.py").run()
    assert not at.exception, at.exception
    return at


def frame(at: AppTest, columns: list[str]) -> pd.DataFrame:
    """The first table on the page with these columns."""
    for df in at.dataframe:
        if list(df.value.columns)[: len(columns)] == columns:
            return df.value
    raise AssertionError(f"no table with columns {columns}: {[list(d.value.columns) for d in at.dataframe]}")


def test_summary_and_cohorts_on_the_sample_match_a_brute_force(app):
    assert [t.label for t in app.tabs] == ["Summary and trends", "Drift", "Compare", "Versions"]
    summary = app.code[0].value
    assert "Conversion rose" in summary and "lead_source drift PSI" in summary  # the sample's documented drift
    raw = pd.read_csv(SAMPLE_CSV, usecols=["created_date", "converted"])
    quarter = pd.PeriodIndex(raw["created_date"], freq="Q").astype(str).str.replace("Q", "-Q")
    brute = raw.assign(period=quarter).groupby("period")["converted"].agg(leads="size", converted=lambda s: int((s == "Yes").sum()))
    shown = frame(app, ["Period", "Leads", "Converted", "Conversion"]).set_index("Period")
    assert list(shown.index) == list(brute.index)
    assert [int(x.replace(",", "")) for x in shown["Leads"]] == brute["leads"].tolist()
    assert [int(x.replace(",", "")) for x in shown["Converted"]] == brute["converted"].tolist()
    assert shown["Conversion"].tolist() == [f"{c / n:.1%}" for c, n in zip(brute["converted"], brute["leads"])]
    assert "Pipeline captured" in shown.columns  # the sample has opportunity_amount


def test_month_periods_and_drift_tab(app):
    app.segmented_control(key="review_by").set_value("month").run()
    assert not app.exception, app.exception
    shown = frame(app, ["Period", "Leads", "Converted", "Conversion"])
    assert len(shown) == 24 and shown["Period"].iloc[0] == "2024-01"
    drift = frame(app, ["Attribute", "PSI", "Verdict"])
    assert drift["Attribute"].iloc[0] == "lead_source"  # the attribute that drifts most in the sample
    assert app.metric[0].label.startswith("Score distribution PSI, 2024-01 to 2025-12")


def test_save_publish_and_review_the_live_version(app, tmp_path):
    app.text_input(key="review_version_name").input("Q1 agreed model")
    app.text_input(key="review_version_author").input("Dana")
    app.text_area(key="review_version_notes").input("Agreed with sales.")
    next(b for b in app.button if b.label == "Save and publish").click().run()
    assert not app.exception, app.exception
    saved = VersionRegistry(tmp_path / "store.duckdb").list()
    assert [(v.name, v.author, v.notes, v.live) for v in saved] == [("Q1 agreed model", "Dana", "Agreed with sales.", True)]
    assert saved[0].model == app.session_state["workbench"].model
    assert saved[0].summary["mql"] == frame(app, ["Period", "Leads"])["MQLs"].str.replace(",", "").astype(int).sum()
    assert any("is the live model now" in s.value for s in app.success)
    versions = frame(app, ["Id", "Name", "Live"])
    assert versions[["Name", "Live"]].values.tolist() == [["Q1 agreed model", "live"]]
    # the live version is what the page reviews from now on
    app.switch_page("pages/review.py").run()
    assert app.selectbox(key="review_model").value == saved[0].id


def test_compare_the_designer_model_with_the_live_one(app, tmp_path):
    next(b for b in app.button if b.label == "Save and publish").click().run()
    wb = app.session_state["workbench"]
    live = wb.model
    wb.set_threshold(live.mql_threshold - 5)
    app.run()
    assert not app.exception, app.exception
    assert app.selectbox(key="review_model").value != "current"
    assert app.selectbox(key="review_against").value == "current"
    texts = " ".join(m.value for m in app.markdown).replace("\\", "")  # file strings are Markdown-escaped
    assert "MQL threshold 60 -> 55" in texts
    # crossers against a brute force over per-lead scores
    s = wb.leads.engine(live).scores(live)
    entered = (s.total >= 55) & (s.total < 60) & ~s.knocked_out
    assert f"{int(entered.sum()):,} leads become MQLs ({int(wb.leads.converted[entered].sum()):,} of them converted)" in texts
    kpis = frame(app, ["Metric", "Before", "After", "Change"]).set_index("Metric")
    assert kpis.loc["MQL threshold", "Change"] == "-5"
    assert kpis.loc["MQLs", "Change"] == f"{int(entered.sum()):+,}"


def test_archived_and_renamed_versions(app, tmp_path):
    reg = VersionRegistry(tmp_path / "store.duckdb")
    first = reg.save(app.session_state["workbench"].model, "first")
    app.switch_page("pages/review.py").run()
    app.text_input(key="review_version_rename").input("first, renamed")
    next(b for b in app.button if b.key == "review_rename").click().run()
    assert reg.get(first.id).name == "first, renamed"
    next(b for b in app.button if b.key == "review_archive").click().run()
    assert reg.get(first.id).archived and not app.exception


def test_data_without_dates_says_so_and_keeps_versions(tmp_path, monkeypatch):
    needs_bank()
    at = start_app(monkeypatch, tmp_path / "store.duckdb", data=BANK_CSV)
    at.switch_page("pages/review.py").run()
    assert not at.exception, at.exception
    assert any("no created date column" in i.value for i in at.info)
    assert not at.error
    assert [t.label for t in at.tabs][-1] == "Versions"


def test_nothing_to_compare_before_any_version(app):
    assert any("Nothing to compare with yet" in i.value for i in app.info)
    assert any("No saved versions yet" in i.value for i in app.info)


def test_a_live_version_of_other_data_is_listed_not_reviewed(app, tmp_path):
    """A colleague's live version names columns this data lacks: the page still works on this data, and says so."""
    from conftest import plain

    from lead_model import ScoringModel

    registry = VersionRegistry(tmp_path / "store.duckdb")
    bank = ScoringModel.from_dict({"attributes": [{"name": "month", "kind": "categorical", "group": "fit", "levels": [{"value": "may", "points": 5}]}],
                                   "mql_threshold": 3})
    registry.publish(registry.save(bank, "bank model").id)
    app.switch_page("pages/review.py").run()
    assert not app.exception, app.exception
    assert app.selectbox(key="review_model").value == "current"  # not the live version: it cannot be backtested here
    assert any(plain(c.value).startswith("1 saved version of other data (naming columns 'leads' lacks) is listed on the Versions tab only")
               for c in app.caption), [c.value for c in app.caption]
    assert frame(app, ["Id", "Name", "Live"])["Name"].tolist() == ["bank model"]
