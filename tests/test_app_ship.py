"""The Export page's shipping section in AppTest: sign off (a new version carrying it), the config, reasons and report downloads."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pandas as pd
import pytest
from conftest import start_app, plain

from lead_model import ScoringModel, VersionRegistry
from lead_model.export.config import ShippingConfig, Signoff
from lead_model.export.reasons import lead_reasons

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "leads.csv"
SAMPLE_MODEL = ROOT / "sample_data" / "sample_model.yaml"

pytestmark = pytest.mark.skipif(not (SAMPLE.is_file() and SAMPLE_MODEL.is_file()), reason="the bundled sample is missing")

DOWNLOADS = ["Download config (YAML)", "Download config (JSON)", "Download scored leads with reasons (CSV)", "Download workshop report (HTML)"]


@pytest.fixture
def app(tmp_path, monkeypatch):
    at = start_app(monkeypatch, tmp_path / "store.duckdb")
    at.switch_page("pages/export.py").run()
    assert not at.exception, at.exception
    return at


def sign(app, sales: str, marketing: str, notes: str = ""):
    app.text_input(key="signoff_sales").set_value(sales)
    app.text_input(key="signoff_marketing").set_value(marketing)
    app.date_input(key="signoff_date").set_value(dt.date(2025, 6, 30))
    app.text_area(key="signoff_notes").set_value(notes)
    next(b for b in app.button if b.label == "Sign off and save a version").click().run()
    assert not app.exception, app.exception
    return app


def test_the_section_offers_sign_off_and_four_downloads(app):
    labels = [b.label for b in app.get("download_button")]
    assert [b for b in labels if b in DOWNLOADS] == DOWNLOADS  # the Export page has other downloads too (the SQL)
    assert any("not signed off yet" in plain(i.value) for i in app.info)
    assert [s.label for s in app.selectbox if s.key == "report_compare"] == ["Compare the report with"]


def test_signing_off_saves_a_version_that_the_config_carries(app, tmp_path):
    from pages import ship_section

    sign(app, "Priya *Shah*", "Tom Berg", "Agreed in the Q3 workshop.")
    assert not app.error, [plain(e.value) for e in app.error]
    versions = VersionRegistry(tmp_path / "store.duckdb").list()
    assert len(versions) == 1
    saved = versions[0]
    assert Signoff.model_validate(saved.signoff) == Signoff(sales="Priya *Shah*", marketing="Tom Berg", date="2025-06-30", notes="Agreed in the Q3 workshop.")
    wb = app.session_state["workbench"]
    assert saved.model == wb.model and saved.dataset == wb.leads.name and saved.summary["leads"] == 50_000
    assert any("Signed off: saved" in plain(s.value) for s in app.success)
    assert any("signed off by Priya \\*Shah\\* (sales)" in s.value for s in app.success)  # Markdown escaped
    config = ship_section._config(wb, ship_section._signed(wb))
    assert config.version_id == saved.id and config.signoff.sales == "Priya *Shah*"
    assert ShippingConfig.from_text(config.to_yaml()) == config
    page = ship_section._report(wb, ship_section._signed(wb), ship_section.NO_COMPARISON).decode("utf-8")
    assert "<td>Priya *Shah*</td>" in page and "Not signed off yet" not in page and '<section id="comparison">' not in page
    # a second sign-off is another version: none is overwritten
    sign(app, "Ana Ruiz", "Tom Berg")
    assert [v.signoff["sales"] for v in VersionRegistry(tmp_path / "store.duckdb").list()] == ["Ana Ruiz", "Priya *Shah*"]


def test_a_blank_name_is_one_sentence_and_saves_nothing(app, tmp_path):
    sign(app, "Priya", "  ")
    assert [plain(e.value) for e in app.error] == ["A sign-off needs the name of who agreed for marketing; type it and sign off again."]
    assert VersionRegistry(tmp_path / "store.duckdb").list() == []


def test_a_changed_model_is_not_signed_off_until_signed_again(app):
    sign(app, "Priya", "Tom")
    assert not any("not signed off yet" in plain(i.value) for i in app.info)
    app.switch_page("pages/designer.py").run()
    app.slider(key="mql_threshold").set_value(55).run()
    app.switch_page("pages/export.py").run()
    assert any("not signed off yet" in plain(i.value) for i in app.info)


def test_the_downloads_hold_reasons_and_the_report(app):
    from pages import ship_section

    wb = app.session_state["workbench"]
    scored = pd.read_csv(io.BytesIO(ship_section._scored_with_reasons(wb)), dtype={"lead_id": str}, keep_default_na=False)
    assert len(scored) == 50_000 and scored["lead_id"].iloc[0] == "L0000001"
    assert scored["reasons"].tolist() == lead_reasons(wb.leads, wb.model)["reasons"].astype(str).tolist()
    page = ship_section._report(wb, None, ship_section.BASELINE).decode("utf-8")
    assert '<section id="comparison">' in page and "Compared with the baseline" in page and "Not signed off yet" in page


def test_a_downloaded_config_continues_the_work(app):
    edited = ScoringModel.from_file(SAMPLE_MODEL).with_points("job_level", "VP", 33)
    config = ShippingConfig(model=edited, signoff=Signoff(sales="P", marketing="T", date="2025-06-30"))
    app.file_uploader(key="model_upload").set_value(("agreed_config.yaml", config.to_yaml().encode(), "application/yaml")).run()
    assert not app.exception and not app.error, [plain(e.value) for e in app.error]
    assert app.session_state["workbench"].model == edited
