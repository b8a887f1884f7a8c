"""The Data page in AppTest: quality and leak panels, uploads (good and bad), roles, stored datasets."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lead_model import ScoringModel, backtest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "leads.csv"
SAMPLE_MODEL = ROOT / "sample_data" / "sample_model.yaml"
BANK = Path("/work/shared/data/bank-marketing/bank-full.csv")

pytestmark = pytest.mark.skipif(not (SAMPLE.is_file() and SAMPLE_MODEL.is_file()), reason="the bundled sample is missing")


def start(monkeypatch, store: Path, data: Path = SAMPLE) -> AppTest:
    monkeypatch.setenv("LEAD_MODEL_STORE", str(store))
    monkeypatch.setenv("LEAD_MODEL_DATA", str(data))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/data.py").run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("data_page") / "store.duckdb"


@pytest.fixture
def app(shared_store, monkeypatch) -> AppTest:
    return start(monkeypatch, shared_store)


def mini_csv(rows: int = 200) -> bytes:
    lines = ["lead_id,segment,visits,converted"]
    for i in range(rows):
        lines.append(f"M{i:03d},{'abc'[i % 3]},{i % 7},{'yes' if i % 5 == 0 else 'no'}")
    return ("\n".join(lines) + "\n").encode()


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def edit_roles(at: AppTest, changes: dict[str, dict]) -> None:
    """Seed the roles editor with cell edits ({column: {field: value}}) and press Apply roles."""
    leads = at.session_state["leads"]
    names = list(leads.roles)
    version = at.session_state["roles_version"] if "roles_version" in at.session_state else 0
    at.session_state[f"roles_editor_{version}"] = {
        "edited_rows": {names.index(col): change for col, change in changes.items()},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    at.button(key="apply_roles").click().run()


def test_sample_quality_and_leak_panel(app):
    assert app.title[0].value == "Data"
    assert metric(app, "Leads") == "50,000"
    assert metric(app, "Conversion rate") == f"{app.session_state['leads'].base_rate:.1%}"
    assert metric(app, "Duplicate leads") == "150"
    assert metric(app, "History") == "24 months"
    warnings = [w.value for w in app.warning]
    assert len(warnings) == 1 and warnings[0].startswith("**Possible leak: opportunity_amount.**")
    assert not app.error
    roles = app.data_editor[0].value
    assert roles.set_index("column").loc["converted", "role"] == "outcome"
    assert len(app.dataframe) >= 3  # roles editor, quality table, attribute AUCs


@pytest.mark.skipif(not BANK.is_file(), reason="bank-marketing data not available")
def test_bank_marketing_data_and_designer(tmp_path, monkeypatch):
    at = start(monkeypatch, tmp_path / "store.duckdb", BANK)
    assert metric(at, "Leads") == "45,211"
    assert metric(at, "Duplicate leads") == "no id column"
    warnings = [w.value for w in at.warning]
    assert any("Possible leak: duration." in w for w in warnings)
    model = at.session_state["history"].current
    assert all(lv.points == 0 for a in model.attributes for lv in a.levels)  # a starter model: the sample model does not fit
    at.switch_page("pages/designer.py").run()
    assert not at.exception, at.exception
    r = backtest(at.session_state["leads"], model)
    assert {m.label: m.value for m in at.metric}["MQLs"] == f"{r.mql:,} ({r.mql_rate:.1%})"


@pytest.mark.parametrize(
    ("name", "content", "outcome", "message"),
    [
        ("empty.csv", b"", "", "empty.csv is empty; export the leads again with a header row and data."),
        ("header.csv", b"a,b,converted\n", "", "header.csv has a header but no rows"),
        ("nooutcome.csv", b"a,b\n1,2\n3,4\n", "", "cannot tell which column is the converted outcome; type the outcome's name in 'Outcome column'"),
        ("allyes.csv", b"x,converted\n1,yes\n2,yes\n", "converted", "outcome column 'converted' has 1 distinct values"),
        ("typo.csv", b"x,converted\n1,yes\n2,no\n", "convrted", "the data has no column 'convrted'"),
        ("binary.parquet", b"PAR1 not really parquet", "", "binary.parquet could not be read"),
    ],
)
def test_bad_upload_shows_one_sentence_and_keeps_state(app, name, content, outcome, message):
    leads, model = app.session_state["leads"], app.session_state["history"].current
    app.text_input(key="upload_outcome").set_value(outcome).run()
    app.file_uploader(key="upload").set_value((name, content, "text/csv")).run()
    assert not app.exception, app.exception
    errors = [e.value for e in app.error]
    assert len(errors) == 1 and message in errors[0], errors
    assert "--" not in errors[0]  # no CLI options in the app
    assert app.session_state["leads"] is leads
    assert app.session_state["history"].current == model


def test_upload_switches_dataset_and_starts_a_model(app):
    app.file_uploader(key="upload").set_value(("mini leads.csv", mini_csv(), "text/csv")).run()
    assert not app.exception, app.exception
    leads = app.session_state["leads"]
    assert leads.name == "mini leads" and leads.n_leads == 200
    assert any("Loaded mini leads.csv." in s.value for s in app.success)
    model = app.session_state["history"].current
    assert set(model.attribute_names) == {"segment", "visits"}
    assert app.session_state["baseline"] == model
    app.switch_page("pages/designer.py").run()
    assert not app.exception, app.exception
    # the stored sample can be reopened without uploading it again; it brings its model back
    app.switch_page("pages/data.py").run()
    app.selectbox(key="stored_choice").set_value("leads").run()
    app.button(key="open_stored").click().run()
    assert not app.exception, app.exception
    assert app.session_state["leads"].name == "leads"
    assert app.session_state["history"].current == ScoringModel.from_file(SAMPLE_MODEL)


def test_ignore_a_leaky_column_and_move_a_group(app):
    sample_model = ScoringModel.from_file(SAMPLE_MODEL)
    edit_roles(app, {"opportunity_amount": {"role": "ignore"}, "job_level": {"group": "engagement"}})
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    leads = app.session_state["leads"]
    assert "opportunity_amount" not in leads.attributes
    assert leads.roles["job_level"].group == "engagement"
    assert not [w for w in app.warning if "Possible leak" in w.value]
    model = app.session_state["history"].current
    assert model.attribute("job_level").group == "engagement"
    assert model.attribute("job_level").levels == sample_model.attribute("job_level").levels
    assert any(s.value.startswith("Roles applied:") for s in app.success)
    roles = app.data_editor[0].value.set_index("column")  # a fresh editor shows the applied roles
    assert roles.loc["opportunity_amount", "role"] == "ignore"
    app.switch_page("pages/designer.py").run()
    assert not app.exception, app.exception
    r = backtest(leads, model)
    assert {m.label: m.value for m in app.metric}["Precision"] == f"{r.precision:.1%}"


def test_change_the_outcome(app):
    edit_roles(app, {"demo_requested": {"role": "outcome"}})
    assert not app.error, [e.value for e in app.error]
    leads = app.session_state["leads"]
    assert leads.outcome == "demo_requested"
    assert leads.roles["converted"].role == "ignore"
    assert "demo_requested" not in app.session_state["history"].current.attribute_names


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"industry": {"kind": "numeric"}}, "column 'industry' holds text, not numbers, so it cannot be numeric; make it categorical."),
        ({"lead_id": {"role": "outcome"}, "job_level": {"role": "outcome"}}, "mark exactly one column as the outcome"),
        ({"email": {"role": "id"}}, "mark at most one column as id; lead_id, email are."),
    ],
)
def test_impossible_roles_show_one_sentence_and_keep_state(app, changes, message):
    leads, model = app.session_state["leads"], app.session_state["history"].current
    edit_roles(app, changes)
    assert not app.exception, app.exception
    errors = [e.value for e in app.error]
    assert len(errors) == 1 and errors[0].startswith(message), errors
    assert app.session_state["leads"] is leads
    assert app.session_state["history"].current == model


def test_load_by_path_errors_in_one_sentence(app, tmp_path):
    missing = tmp_path / "nope.csv"
    app.text_input(key="load_path").set_value(str(missing)).run()
    app.button(key="load_path_button").click().run()
    assert not app.exception, app.exception
    assert [e.value for e in app.error] == [f"file {missing} does not exist; check the path."]
