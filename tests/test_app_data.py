"""The Data page in AppTest: quality and leak panels, uploads (good and bad), roles, stored datasets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import start_app, plain
from streamlit.testing.v1 import AppTest

from lead_model import ScoringModel, backtest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "leads.csv"
SAMPLE_MODEL = ROOT / "sample_data" / "sample_model.yaml"
BANK = Path("/work/shared/data/bank-marketing/bank-full.csv")

pytestmark = pytest.mark.skipif(not (SAMPLE.is_file() and SAMPLE_MODEL.is_file()), reason="the bundled sample is missing")


def start(monkeypatch, store: Path, data: Path = SAMPLE) -> AppTest:
    at = start_app(monkeypatch, store, data)
    at.switch_page("pages/data.py").run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def app(tmp_path, monkeypatch) -> AppTest:
    # A store per test: the roles a test sets stay with its stored dataset, and a new session opens them so.
    return start(monkeypatch, tmp_path / "store.duckdb")


def mini_csv(rows: int = 200) -> bytes:
    lines = ["lead_id,segment,visits,converted"]
    for i in range(rows):
        lines.append(f"M{i:03d},{'abc'[i % 3]},{i % 7},{'yes' if i % 5 == 0 else 'no'}")
    return ("\n".join(lines) + "\n").encode()




def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def edit_roles(at: AppTest, changes: dict[str, dict]) -> None:
    """Seed the roles editor with cell edits ({column: {field: value}}) and press Apply roles."""
    leads = at.session_state["workbench"].leads
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
    assert metric(app, "Rows") == "50,000"
    assert metric(app, "Conversion rate") == f"{app.session_state['workbench'].leads.base_rate:.1%}"
    assert metric(app, "Duplicate leads") == "150"
    assert metric(app, "History") == "24 months"
    warnings = [plain(w.value) for w in app.warning]
    assert len(warnings) == 1 and warnings[0].startswith("**Possible leak: opportunity_amount.**")
    assert not app.error
    roles = app.data_editor[0].value
    assert roles.set_index("column").loc["converted", "role"] == "outcome"
    assert any(plain(c.value) == "Created 2024-01-01 to 2025-12-31 ('created_date')." for c in app.caption)  # the date range
    quality = next(d.value for d in app.dataframe if "placeholder_share" in d.value.columns).set_index("column")  # the data-quality table
    assert quality.loc["job_level", "placeholder_share"] > 0 and "'Select'" in quality.loc["job_level", "placeholders"]
    assert quality.loc["job_level", "missing_share"] > quality.loc["job_level", "placeholder_share"]
    assert quality.loc["lead_id", "high_cardinality"] and quality.loc["email", "high_cardinality"]
    assert not quality.loc["industry", "high_cardinality"]
    assert any(plain(c.value).startswith("Many distinct values (hard to score level by level): lead_id, email") for c in app.caption)
    assert len(app.dataframe) >= 3  # roles editor, quality table, attribute AUCs


@pytest.mark.skipif(not BANK.is_file(), reason="bank-marketing data not available")
def test_bank_marketing_data_and_designer(tmp_path, monkeypatch):
    at = start(monkeypatch, tmp_path / "store.duckdb", BANK)
    assert metric(at, "Rows") == "45,211"
    assert metric(at, "Duplicate leads") == "no id column"
    warnings = [plain(w.value) for w in at.warning]
    assert any("Possible leak: duration." in w for w in warnings)
    at.button(key="ignore_leak::duration").click().run()  # duration is known only after the call
    assert not at.exception, at.exception
    assert "duration" not in at.session_state["workbench"].leads.attributes
    model = at.session_state["workbench"].model
    assert "duration" not in model.attribute_names and "poutcome" in model.attribute_names
    assert all(lv.points == 0 for a in model.attributes for lv in a.levels)  # a starter model: the sample model does not fit
    at.switch_page("pages/designer.py").run()
    assert not at.exception, at.exception
    r = backtest(at.session_state["workbench"].leads, model)
    assert {m.label: m.value for m in at.metric}["MQLs"] == f"{r.mql:,} ({r.mql_rate:.1%})"
    # give a previous success points, raise the threshold: the tiles follow the core
    at.session_state["exp::poutcome"] = True
    at.run()
    at.slider(key="points::poutcome::success").set_value(30).run()
    at.slider(key="mql_threshold").set_value(10).run()
    model = model.with_points("poutcome", "success", 30).replace(mql_threshold=10)
    assert at.session_state["workbench"].model == model
    r = backtest(at.session_state["workbench"].leads, model)
    shown = {m.label: m.value for m in at.metric}
    assert shown["Precision"] == f"{r.precision:.1%}" and shown["Recall"] == f"{r.recall:.1%}" and r.mql < r.leads


@pytest.mark.parametrize(
    ("name", "content", "outcome", "message"),
    [
        ("empty.csv", b"", "", "empty.csv is empty; export the leads again with a header row and data."),
        ("header.csv", b"a,b,converted\n", "", "header.csv has a header but no rows"),
        ("nooutcome.csv", b"a,b\n1,2\n3,4\n", "", "Cannot tell which column is the converted outcome; type the outcome's name in 'Outcome column'"),
        ("allyes.csv", b"x,converted\n1,yes\n2,yes\n", "converted", "Outcome column 'converted' has 1 distinct values"),
        ("typo.csv", b"x,converted\n1,yes\n2,no\n", "convrted", "The data has no column 'convrted'"),
        ("binary.parquet", b"PAR1 not really parquet", "", "binary.parquet could not be read"),
    ],
)
def test_bad_upload_shows_one_sentence_and_keeps_state(app, name, content, outcome, message):
    leads, model = app.session_state["workbench"].leads, app.session_state["workbench"].model
    app.text_input(key="upload_outcome").set_value(outcome).run()
    app.file_uploader(key="upload").set_value((name, content, "text/csv")).run()
    assert not app.exception, app.exception
    errors = [plain(e.value) for e in app.error]
    assert len(errors) == 1 and message in errors[0], errors
    assert "--" not in errors[0]  # no CLI options in the app
    assert app.session_state["workbench"].leads is leads
    assert app.session_state["workbench"].model == model


def test_upload_switches_dataset_and_starts_a_model(app):
    app.file_uploader(key="upload").set_value(("mini leads.csv", mini_csv(), "text/csv")).run()
    assert not app.exception, app.exception
    leads = app.session_state["workbench"].leads
    assert leads.name == "mini leads" and leads.n_leads == 200
    assert any("Loaded mini leads.csv as 'mini leads'." in plain(s.value) for s in app.success)
    model = app.session_state["workbench"].model
    assert set(model.attribute_names) == {"segment", "visits"}
    assert app.session_state["workbench"].baseline == model
    app.switch_page("pages/designer.py").run()
    assert not app.exception, app.exception
    # the stored sample can be reopened without uploading it again; it brings its model back
    app.switch_page("pages/data.py").run()
    app.selectbox(key="stored_choice").set_value("leads").run()
    app.button(key="open_stored").click().run()
    assert not app.exception, app.exception
    assert app.session_state["workbench"].leads.name == "leads"
    assert app.session_state["workbench"].model == ScoringModel.from_file(SAMPLE_MODEL)


def test_ignore_a_leaky_column_and_move_a_group(app):
    sample_model = ScoringModel.from_file(SAMPLE_MODEL)
    edit_roles(app, {"opportunity_amount": {"role": "ignore"}, "job_level": {"group": "engagement"}})
    assert not app.exception, app.exception
    assert not app.error, [plain(e.value) for e in app.error]
    leads = app.session_state["workbench"].leads
    assert "opportunity_amount" not in leads.attributes
    assert leads.roles["job_level"].group == "engagement"
    assert not [w for w in app.warning if "Possible leak" in w.value]
    model = app.session_state["workbench"].model
    assert model.attribute("job_level").group == "engagement"
    assert model.attribute("job_level").levels == sample_model.attribute("job_level").levels
    assert any(plain(s.value).startswith("Roles applied:") for s in app.success)
    roles = app.data_editor[0].value.set_index("column")  # a fresh editor shows the applied roles
    assert roles.loc["opportunity_amount", "role"] == "ignore"
    app.switch_page("pages/designer.py").run()
    assert not app.exception, app.exception
    r = backtest(leads, model)
    assert {m.label: m.value for m in app.metric}["Precision"] == f"{r.precision:.1%}"


def test_change_the_outcome(app):
    edit_roles(app, {"demo_requested": {"role": "outcome"}})
    assert not app.error, [plain(e.value) for e in app.error]
    leads = app.session_state["workbench"].leads
    assert leads.outcome == "demo_requested"
    assert leads.roles["converted"].role == "ignore"
    assert "demo_requested" not in app.session_state["workbench"].model.attribute_names


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"industry": {"kind": "numeric"}}, "Column 'industry' holds text, not numbers, so it cannot be numeric; make it categorical."),
        ({"lead_id": {"role": "outcome"}, "job_level": {"role": "outcome"}}, "Mark exactly one column as the outcome"),
        ({"created_date": {"role": "created"}, "lead_id": {"role": "created"}}, "Mark at most one column as created; lead_id, created_date are."),
    ],
)
def test_impossible_roles_show_one_sentence_and_keep_state(app, changes, message):
    leads, model = app.session_state["workbench"].leads, app.session_state["workbench"].model
    edit_roles(app, changes)
    assert not app.exception, app.exception
    errors = [plain(e.value) for e in app.error]
    assert len(errors) == 1 and errors[0].startswith(message), errors
    assert app.session_state["workbench"].leads is leads
    assert app.session_state["workbench"].model == model


def test_upload_parquet(app, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "leads.parquet"
    pq.write_table(pa.table({"segment": ["a", "b", "c", "a"] * 25, "visits": list(range(100)), "won": [True, False, False, False] * 25}), path)
    app.text_input(key="upload_outcome").set_value("won").run()
    app.file_uploader(key="upload").set_value(("leads.parquet", path.read_bytes(), "application/octet-stream")).run()
    app.button(key="upload_replace").click().run()  # 'leads' is the stored sample's name: the page asks first
    assert not app.exception, app.exception
    assert not app.error, [plain(e.value) for e in app.error]
    leads = app.session_state["workbench"].leads
    assert leads.name == "leads" and leads.outcome == "won" and leads.n_leads == 100 and leads.n_converted == 25
    assert metric(app, "Rows") == "100" and metric(app, "Conversion rate") == "25.0%"


def test_load_by_path_errors_in_one_sentence(app, tmp_path):
    missing = tmp_path / "nope.csv"
    app.text_input(key="load_path").set_value(str(missing)).run()
    app.button(key="load_path_button").click().run()
    assert not app.exception, app.exception
    assert [plain(e.value) for e in app.error] == [f"File {missing} does not exist; check the path."]


def test_ignore_a_leak_in_one_click(app):
    button = app.button(key="ignore_leak::opportunity_amount")
    assert button.label == "Ignore column"
    button.click().run()
    assert not app.exception, app.exception
    assert not app.error, [plain(e.value) for e in app.error]
    leads = app.session_state["workbench"].leads
    assert "opportunity_amount" not in leads.attributes and leads.roles["opportunity_amount"].role == "ignore"
    assert not [w for w in app.warning if "Possible leak" in w.value]
    assert any(s.value == "No column looks like it leaks the outcome." for s in app.success)
    assert app.data_editor[0].value.set_index("column").loc["opportunity_amount", "role"] == "ignore"


def test_a_file_loaded_under_the_same_name_does_not_leave_a_stale_dataset(tmp_path, monkeypatch):
    """Upload a file called leads.csv (it replaces the stored sample, also 'leads'), then pick the sample again."""
    at = start(monkeypatch, tmp_path / "store.duckdb")
    at.file_uploader(key="upload").set_value(("leads.csv", mini_csv(), "text/csv")).run()
    at.button(key="upload_replace").click().run()
    assert at.session_state["workbench"].leads.n_leads == 200
    at.button[0].click().run()  # Use the bundled sample
    assert not at.exception, at.exception
    assert not at.error, [plain(e.value) for e in at.error]
    leads = at.session_state["workbench"].leads
    assert leads.n_leads == 50_000 and "opportunity_amount" in leads.attributes
    at.button(key="ignore_leak::opportunity_amount").click().run()  # reads the stored rows again
    assert not at.error, [plain(e.value) for e in at.error]
    assert at.session_state["workbench"].leads.n_leads == 50_000 and "opportunity_amount" not in at.session_state["workbench"].leads.attributes


def test_loading_reports_each_step(tmp_path, monkeypatch):
    """load_file / load_upload tell the progress bar every step, in order, ending at 100%."""
    monkeypatch.setenv("LEAD_MODEL_STORE", str(tmp_path / "store.duckdb"))

    def script():
        import streamlit as st

        from pages import loading

        steps = []
        loading.load_upload("mini.csv", st.session_state["csv"], progress=lambda f, t: steps.append((f, t)))
        st.session_state["steps"] = steps

    at = AppTest.from_function(script, default_timeout=60)
    at.session_state["csv"] = mini_csv()
    at.run()
    assert not at.exception, at.exception
    steps = at.session_state["steps"]
    fractions = [f for f, _ in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(steps) >= 4
    texts = " ".join(t for _, t in steps)
    assert "Saving the upload" in texts and "Reading and encoding mini.csv" in texts and "lead store" in texts


def test_ignore_these_columns_multiselect(tmp_path, monkeypatch):
    """Ignoring columns needs no grid: pick them, apply; take one out of the list to score it again."""
    app = start(monkeypatch, tmp_path / "store.duckdb")  # its own store: the roles other tests chose stay with theirs
    version = app.session_state["roles_version"] if "roles_version" in app.session_state else 0
    box = app.multiselect(key=f"ignored_{version}")
    assert "opportunity_amount" not in box.value and "converted" not in box.options
    box.set_value([*box.value, "webinar_attended"]).run()
    app.button(key="apply_ignored").click().run()
    assert not app.exception, app.exception
    assert "webinar_attended" not in app.session_state["workbench"].leads.attributes
    assert "webinar_attended" not in app.session_state["workbench"].model.attribute_names
    version = app.session_state["roles_version"]
    box = app.multiselect(key=f"ignored_{version}")
    assert "webinar_attended" in box.value
    box.set_value([c for c in box.value if c != "webinar_attended"]).run()
    app.button(key="apply_ignored").click().run()
    assert not app.exception, app.exception
    assert app.session_state["workbench"].leads.attributes["webinar_attended"].kind == "boolean"


def test_ignore_one_level_only_and_count_it_again(tmp_path, monkeypatch):
    """A lead source flagged over one small level set after contact: 'Ignore level ... only' keeps the column, the
    Suggestions page follows the stored answer (0 points, the note), and 'Count ... again' undoes it."""
    from test_leaks import sales_call_export

    from lead_model.data.leaks import LEVEL_NOTE, leak_check, stored_levels

    sales_call_export(tmp_path / "calls.csv")
    at = start(monkeypatch, tmp_path / "store.duckdb", tmp_path / "calls.csv")
    assert any(plain(w.value).startswith("**Possible leak: lead_source.**") for w in at.warning)
    offer = at.button(key="ignore_level::lead_source")
    assert plain(offer.label) == "Ignore level 'Sales call' only" and at.button(key="ignore_leak::lead_source").label == "Ignore column"
    at.switch_page("pages/suggestions.py").run()
    assert not at.exception, at.exception
    warning = next(plain(w.value) for w in at.warning if "Possible leak: lead_source" in plain(w.value))
    assert "If only 'Sales call' is recorded after sales contact, answer for that level alone" in warning
    assert "lead_source" not in at.session_state["suggestion"][1].points.chosen

    at.switch_page("pages/data.py").run()
    at.button(key="ignore_level::lead_source").click().run()
    assert not at.exception, at.exception
    assert not at.error, [plain(e.value) for e in at.error]
    leads = at.session_state["workbench"].leads
    assert stored_levels(leads) == {"lead_source": ("Sales call",)} and "lead_source" in leads.attributes  # the column stays
    assert not [w for w in at.warning if "Possible leak: lead_source" in plain(w.value)]
    expected = leak_check(leads)["lead_source"].evidence
    assert any(plain(s.value) == expected for s in at.success) and "'Sales call' is recorded after sales contact" in expected
    again = at.button(key="count_level::lead_source::Sales call")
    assert plain(again.label) == "Count 'Sales call' again"

    at.switch_page("pages/suggestions.py").run()
    assert not at.exception, at.exception
    s = at.session_state["suggestion"][1]
    assert "lead_source" in s.points.chosen
    row = s.points.table.set_index(["attribute", "level"]).loc[("lead_source", "Sales call")]
    assert row["suggested_points"] == 0 and row["why"].startswith(LEVEL_NOTE)
    assert any("recorded after sales contact" in plain(c.value) and "lead_source" in plain(c.value) for c in at.caption)

    at.switch_page("pages/data.py").run()
    at.button(key="count_level::lead_source::Sales call").click().run()
    assert not at.exception, at.exception
    assert stored_levels(at.session_state["workbench"].leads) == {}
    assert any("Possible leak: lead_source" in plain(w.value) for w in at.warning)


def test_role_picker_says_unknown_until_a_group_is_chosen(app):
    from lead_model.data.roles import UNKNOWN_GROUP_LABEL

    roles = app.data_editor[0].value.set_index("column")
    assert roles.loc["lead_source", "group"] == UNKNOWN_GROUP_LABEL and roles.loc["job_level", "group"] == "fit"
    quality = next(d.value for d in app.dataframe if "placeholder_share" in d.value.columns).set_index("column")
    assert quality.loc["lead_source", "group"] == "unknown"
    edit_roles(app, {"lead_source": {"group": "engagement"}})
    assert not app.exception, app.exception
    leads = app.session_state["workbench"].leads
    assert (leads.roles["lead_source"].group, leads.roles["lead_source"].shown_group) == ("engagement", "engagement")
    assert app.session_state["workbench"].model.attribute("lead_source").group == "engagement"
    assert app.data_editor[0].value.set_index("column").loc["lead_source", "group"] == "engagement"


# ----- an upload named like a stored dataset, and loading by path on a hosted server -----------------
def stored_rows(store: Path) -> dict[str, int]:
    from lead_model.data.store import LeadStore

    return {d.name: d.rows for d in LeadStore(store).datasets()}


def test_an_upload_named_like_a_stored_dataset_asks_first(tmp_path, monkeypatch):
    """A second user's leads.csv must not silently replace the stored 'leads' (the sample's 50,000 rows)."""
    store = tmp_path / "store.duckdb"
    at = start(monkeypatch, store)
    at.file_uploader(key="upload").set_value(("leads.csv", mini_csv(), "text/csv")).run()
    assert not at.exception, at.exception
    question = [plain(w.value) for w in at.warning if "already stored" in w.value]
    assert len(question) == 1 and "A dataset named 'leads' is already stored (50,000 rows" in question[0], question
    assert at.session_state["workbench"].leads.n_leads == 50_000  # nothing loaded yet
    assert stored_rows(store) == {"leads": 50_000}
    assert plain(at.button(key="upload_as_new").label) == "Load as 'leads-2'"

    at.button(key="upload_as_new").click().run()
    assert not at.exception and not at.error, [plain(e.value) for e in at.error]
    assert at.session_state["workbench"].leads.name == "leads-2" and at.session_state["workbench"].leads.n_leads == 200
    assert stored_rows(store) == {"leads": 50_000, "leads-2": 200}
    assert not [w for w in at.warning if "already stored" in w.value]  # answered once, not asked again on every run

    # the same file again, answered with Cancel: nothing changes
    at.file_uploader(key="upload").set_value(("leads.csv", mini_csv(150), "text/csv")).run()
    assert [w for w in at.warning if "already stored" in w.value]
    at.button(key="upload_cancel").click().run()
    assert not [w for w in at.warning if "already stored" in w.value]
    assert stored_rows(store) == {"leads": 50_000, "leads-2": 200}


def test_replacing_a_dataset_tells_the_session_that_had_it_open(tmp_path, monkeypatch):
    store = tmp_path / "store.duckdb"
    first = start(monkeypatch, store)  # works on the sample, 'leads'
    second = start(monkeypatch, store)
    second.file_uploader(key="upload").set_value(("leads.csv", mini_csv(), "text/csv")).run()
    second.button(key="upload_replace").click().run()
    assert not second.exception and not second.error, [plain(e.value) for e in second.error]
    assert stored_rows(store) == {"leads": 200}
    first.run()
    notes = [plain(w.value) for w in first.warning if "replaced by a newer load" in w.value]
    assert len(notes) == 1 and "(200 rows" in notes[0] and "its own copy of 50,000 rows" in notes[0], notes
    assert first.session_state["workbench"].leads.n_leads == 50_000  # the session keeps working on what it had


def test_hosted_without_a_data_folder_has_no_load_by_path(tmp_path, monkeypatch):
    monkeypatch.setenv("LEAD_MODEL_HOSTED", "1")
    monkeypatch.delenv("LEAD_MODEL_DATA_DIR", raising=False)
    at = start(monkeypatch, tmp_path / "store.duckdb")
    assert not at.error, [plain(e.value) for e in at.error]
    assert not [t for t in at.text_input if t.key == "load_path"]
    assert not [b for b in at.button if b.key == "load_path_button"]
    assert at.file_uploader(key="upload") is not None  # uploads stay on


def test_hosted_with_a_data_folder_offers_only_its_files(tmp_path, monkeypatch):
    folder = tmp_path / "leads folder"
    (folder / "2025").mkdir(parents=True)
    (folder / "2025" / "q3 leads.csv").write_bytes(mini_csv(120))
    (folder / "notes.md").write_text("not data")
    (folder / ".hidden.csv").write_bytes(mini_csv(10))
    (tmp_path / "outside.csv").write_bytes(mini_csv(30))
    (folder / "link.csv").symlink_to(tmp_path / "outside.csv")  # a link out of the folder is not offered
    monkeypatch.setenv("LEAD_MODEL_HOSTED", "1")
    monkeypatch.setenv("LEAD_MODEL_DATA_DIR", str(folder))
    at = start(monkeypatch, tmp_path / "store.duckdb")
    assert not [t for t in at.text_input if t.key == "load_path"]  # no free-text path on a hosted app
    picker = at.selectbox(key="load_folder_file")
    assert picker.options == ["2025/q3 leads.csv"] and picker.value is None  # nothing picked until someone picks
    at.button(key="load_path_button").click().run()
    assert at.session_state["workbench"].leads.name == "leads"  # a click without a pick loads nothing
    picker.set_value("2025/q3 leads.csv").run()
    at.button(key="load_path_button").click().run()
    assert not at.exception and not at.error, [plain(e.value) for e in at.error]
    assert at.session_state["workbench"].leads.name == "q3 leads" and at.session_state["workbench"].leads.n_leads == 120


def test_a_bad_hosting_setting_is_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setenv("LEAD_MODEL_DATA_DIR", str(tmp_path / "no such folder"))
    at = start(monkeypatch, tmp_path / "store.duckdb")
    errors = [plain(e.value) for e in at.error]
    assert errors == [f"LEAD_MODEL_DATA_DIR={str(tmp_path / 'no such folder')!r} is not a folder on this server; set it to the folder that holds the lead files, or unset it."], errors


def test_an_upload_is_stored_under_its_whole_name_with_its_name_as_source(tmp_path, monkeypatch):
    """A browser's file name is a name, not a path: 'q<b>4</b>.csv' is not stored as dataset 'b' from 'b>.csv', and the
    store records "upload: …", not the temporary file the app wrote it to (a reopened upload showed /tmp/lead-model-upload-…)."""
    from lead_model.data.store import LeadStore

    store = tmp_path / "store.duckdb"
    at = start(monkeypatch, store)
    at.file_uploader(key="upload").set_value(("q<b>4</b>.csv", mini_csv(), "text/csv")).run()
    assert not at.exception and not at.error, [plain(e.value) for e in at.error]
    info = {d.name: d for d in LeadStore(store).datasets()}
    assert "q_b_4__b" in info and info["q_b_4__b"].source == "upload: q<b>4<_b>.csv", info.keys()
