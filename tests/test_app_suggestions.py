"""The Suggestions page in AppTest: it draws on the sample, and 'apply' goes through the undo history."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("LEAD_MODEL_STORE", str(tmp_path / "store.duckdb"))
    monkeypatch.setenv("LEAD_MODEL_DATA", str(ROOT / "sample_data" / "leads.csv"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/suggestions.py")
    at.run()
    return at


def test_page_shows_statistics_validation_and_points(app):
    assert not app.exception, app.exception
    assert app.title[0].value == "Suggestions"
    subheaders = [s.value for s in app.subheader]
    assert {"Train and holdout", "Suggested points", "MQL threshold suggestions", "Attribute statistics (training leads)"} <= set(subheaders)
    assert "by time" in " ".join(c.value for c in app.caption)


def test_apply_all_and_one_go_through_undo(app):
    from pages import state  # noqa: F401 - the app's state keys

    history = app.session_state["history"]
    before = history.current
    suggestion = app.session_state["suggestion"][1]
    app.button(key="apply_all").click().run()
    assert not app.exception, app.exception
    history = app.session_state["history"]
    assert history.current.attributes == suggestion.model.attributes
    assert history.can_undo
    history.undo()
    assert history.current == before
    name = suggestion.points.chosen[0]
    app.button(key=f"apply::{name}").click().run()
    assert app.session_state["history"].current.attribute(name) == suggestion.model.attribute(name)
