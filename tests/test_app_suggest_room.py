"""The app's side of suggestions a room can follow (AppTest): what the kept caps and knock-outs cost, bands for the new
scale, the current model's own bins, bands out of reach beside the caps, the bands editor and the model details form."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import start_app, plain
from streamlit.testing.v1 import AppTest

from lead_model.model.bands import unreachable_bands

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "leads.csv"
SAMPLE_MODEL = ROOT / "sample_data" / "sample_model.yaml"

pytestmark = pytest.mark.skipif(not (SAMPLE.is_file() and SAMPLE_MODEL.is_file()), reason="the bundled sample is missing")


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("suggest_room") / "store.duckdb"


@pytest.fixture
def app(store, monkeypatch) -> AppTest:
    return start_app(monkeypatch, store, timeout=120)




def test_suggestions_say_what_the_fit_kept_and_bring_bands(app):
    app.session_state["exp::points::website_visits"] = True  # a suggested attribute's tables are drawn only when it is open
    app.switch_page("pages/suggestions.py").run()
    assert not app.exception, app.exception
    s = app.session_state["suggestion"][1]
    info = [plain(i.value) for i in app.info]
    assert any(t.startswith("**Fit with your caps (engagement 50) and 1 knock-out**; without them: AUC") for t in info)
    assert s.kept is not None and s.kept.cost_sentence() in " ".join(info)
    bands = [d.value for d in app.dataframe if "band" in d.value.columns]
    assert len(bands) == 1 and bands[0]["band"].tolist() == [b.name for b in s.model.grades + s.model.tiers]
    # the sample model bins website_visits differently: its own bins, labels and points, in a table of their own
    current = app.session_state["workbench"].model.attribute("website_visits")
    assert current.edges != s.model.attribute("website_visits").edges
    app.session_state["exp::points::website_visits"] = True  # the points expanders draw their tables only when open
    app.run()
    own = [d.value for d in app.dataframe if "current_points" in d.value.columns and "suggested_points" not in d.value.columns]
    labels = [current.bin_label(i) for i in range(len(current.bins))]
    assert any(t["level"].tolist() == labels and t["current_points"].tolist() == [b.points for b in current.bins] for t in own)
    # the grades button takes the suggested grades only, undoably
    before = app.session_state["workbench"].model
    app.button(key="use_grades").click().run()
    assert not app.exception, app.exception
    now = app.session_state["workbench"].model
    assert now.grades == s.model.grades and now.tiers == before.tiers and now.attributes == before.attributes
    assert app.button(key="use_grades").disabled
    assert any("Grades set to" in plain(m.value) for m in app.success)


def test_designer_warns_next_to_the_caps_when_a_grade_is_out_of_reach(app):
    assert not [w for w in app.sidebar.warning]
    app.session_state["exp::rules"] = True
    app.run()
    app.number_input(key="cap_fit").set_value(30).run()
    assert not app.exception, app.exception
    model = app.session_state["workbench"].model
    expected = unreachable_bands(model)
    assert expected and expected[0].startswith("Grade A is out of reach")  # the sample's grade A needs fit 50
    assert [plain(w.value) for w in app.sidebar.warning] == expected
    # the bands editor is there, one form per kind; saving it unchanged changes nothing
    assert {b.label for b in app.sidebar.button} >= {"Save grades", "Save tiers"}
    next(b for b in app.sidebar.button if b.label == "Save tiers").click().run()
    assert not app.exception, app.exception
    assert app.session_state["workbench"].model == model


def test_export_edits_the_models_details(app):
    app.switch_page("pages/export.py").run()
    assert not app.exception, app.exception
    before = app.session_state["workbench"].model
    app.text_input(key="meta_name").set_value("Inbound 2026")
    app.text_input(key="meta_author").set_value("Revenue team")
    app.text_area(key="meta_notes").set_value("agreed in the room")
    next(b for b in app.button if b.label == "Save details").click().run()
    assert not app.exception, app.exception
    meta = app.session_state["workbench"].model.metadata
    assert (meta.name, meta.author, meta.notes) == ("Inbound 2026", "Revenue team", "agreed in the room")
    assert app.session_state["workbench"].model.attributes == before.attributes
    app.text_input(key="meta_name").set_value("  ")
    next(b for b in app.button if b.label == "Save details").click().run()
    assert any("needs a name" in plain(e.value) for e in app.error)
    assert app.session_state["workbench"].model.metadata.name == "Inbound 2026"
    assert app.text_input(key="meta_name").value == "Inbound 2026"  # the box shows the model's name again
