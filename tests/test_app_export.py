"""The Export page in AppTest: model downloads, scored leads, and continuing from a model file (good or bad)."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import start_app, plain
from streamlit.testing.v1 import AppTest

from lead_model import ScoringModel, score_leads

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "leads.csv"
SAMPLE_MODEL = ROOT / "sample_data" / "sample_model.yaml"

pytestmark = pytest.mark.skipif(not (SAMPLE.is_file() and SAMPLE_MODEL.is_file()), reason="the bundled sample is missing")


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("export") / "store.duckdb"


@pytest.fixture
def app(store, monkeypatch) -> AppTest:
    at = start_app(monkeypatch, store)
    at.switch_page("pages/export.py").run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="module")
def sample_model() -> ScoringModel:
    return ScoringModel.from_file(SAMPLE_MODEL)


def test_export_page_offers_the_three_downloads(app):
    assert app.title[0].value == "Export"
    labels = [b.label for b in app.get("download_button")]
    assert labels[:3] == ["Download model (JSON)", "Download model (YAML)", "Download scored leads (CSV)"]  # the shipping section's follow
    table = app.dataframe[0].value
    assert {"attribute", "group", "level", "points"} <= set(table.columns)
    assert table[(table["attribute"] == "job_level") & (table["level"] == "VP")]["points"].tolist() == [20]


def test_model_text_round_trips(app, sample_model):
    current = app.session_state["workbench"].model
    assert ScoringModel.from_text(current.to_json(), yaml_format=False) == current
    assert ScoringModel.from_text(current.to_yaml(), yaml_format=True) == current == sample_model


def test_scored_csv_is_the_raw_rows_with_scores_in_file_order(app, sample_model):
    from pages import loading

    leads = app.session_state["workbench"].leads
    data = loading.scored_csv(leads, sample_model)
    out = pd.read_csv(io.BytesIO(data), dtype={"lead_id": str})
    raw = pd.read_csv(SAMPLE, dtype={"lead_id": str})
    assert len(out) == len(raw) == 50_000
    assert out["lead_id"].tolist() == raw["lead_id"].tolist()
    assert list(out.columns[: len(raw.columns)]) == list(raw.columns)
    expected = score_leads(leads, sample_model)
    assert out["score"].tolist() == expected["score"].tolist()
    assert out["is_mql"].tolist() == expected["is_mql"].tolist()
    assert {"fit_score", "engagement_score", "grade", "tier", "knocked_out"} <= set(out.columns)


def test_upload_a_model_to_continue_from_it(app, sample_model):
    edited = sample_model.with_points("job_level", "VP", 33).replace(mql_threshold=55)
    app.file_uploader(key="model_upload").set_value(("workshop.yaml", edited.to_yaml().encode(), "application/yaml")).run()
    assert not app.exception, app.exception
    assert not app.error, [plain(e.value) for e in app.error]
    assert app.session_state["workbench"].model == edited
    assert app.session_state["workbench"].baseline == edited
    assert any("Loaded 'RevOps lead score' from workshop.yaml" in s.value.replace('\\', '') for s in app.success)
    assert app.session_state["workbench"].history.can_undo  # loading a model is a change like any other
    app.switch_page("pages/designer.py").run()
    assert app.slider(key="mql_threshold").value == 55
    assert app.slider(key="points::job_level::VP").value == 33


def _broken(model: ScoringModel) -> bytes:
    data = model.to_dict()
    data["attributes"][0]["levels"][0]["points"] = "lots"
    return yaml.safe_dump(data).encode()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.yaml", b"", "empty.yaml is empty"),
        ("broken.yaml", b"attributes: [\n  - name: x\n", "broken.yaml is not valid YAML/JSON"),
        ("broken.json", b"{not json", "broken.json is not valid JSON"),
        ("list.json", b"[1, 2]", "list.json is not a model"),
        ("extra.yaml", b"mql_threshold: 10\ncolour: red\n", "extra.yaml: field 'colour' is not a field of the model schema"),
        ("points.yaml", None, "points.yaml: field 'attributes.0.levels.0.points'"),
        ("other_data.yaml", b"attributes:\n  - {name: balance, kind: numeric, group: fit, bins: [{min: null, points: 3}]}\n", "The model names column 'balance' but the data has no such column"),
        ("binary.json", b"\xff\xfe\x00\x81", "binary.json is not a text file"),
    ],
)
def test_bad_model_file_shows_one_sentence_and_keeps_the_model(app, sample_model, name, content, message):
    if content is None:
        content = _broken(sample_model)
    app.file_uploader(key="model_upload").set_value((name, content, "application/octet-stream")).run()
    assert not app.exception, app.exception
    errors = [plain(e.value) for e in app.error]
    assert len(errors) == 1 and errors[0].startswith(message), errors
    assert app.session_state["workbench"].model == sample_model
    assert app.session_state["workbench"].baseline == sample_model


def test_a_replaced_dataset_turns_the_stored_row_downloads_off_with_one_sentence(tmp_path, monkeypatch):
    """Another session loads a file under this dataset's name: the scored files (they read the stored rows) say so, not fail."""
    from lead_model.data.leads import load_leads

    store = tmp_path / "store.duckdb"
    at = start_app(monkeypatch, store)
    at.switch_page("pages/export.py").run()
    buttons = {b.key: b for b in at.get("download_button")}
    assert not buttons["download_scored"].disabled and not buttons["download_reasons"].disabled
    other = tmp_path / "leads.csv"
    other.write_text("lead_id,segment,converted\n" + "".join(f"R{i},{'ab'[i % 2]},{'yes' if i % 4 == 0 else 'no'}\n" for i in range(80)))
    load_leads(other, store=store, name="leads")  # what a second user's Replace does
    at.run()
    assert not at.exception, at.exception
    buttons = {b.key: b for b in at.get("download_button")}
    assert buttons["download_scored"].disabled and buttons["download_reasons"].disabled
    assert not buttons["download_json"].disabled and not buttons["download_report"].disabled  # the model's own files stay
    notes = [plain(w.value) for w in at.warning if "were replaced" in w.value]
    assert len(notes) == 1 and notes[0].startswith("The stored rows of 'leads' were replaced by a newer load (80 rows, loaded "), notes
    assert at.session_state["workbench"].leads.n_leads == 50_000
