"""The Export page's SQL section in AppTest (pages/sql_section.py): a dialect, a table, the SQL shown, copied and downloaded."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import SAMPLE_CSV, needs_sample, start_app, plain
from streamlit.testing.v1 import AppTest

from lead_model import score_leads
from lead_model.export.sql import model_sql


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("export_sql") / "store.duckdb"


@pytest.fixture
def app(store, monkeypatch) -> AppTest:
    needs_sample()
    at = start_app(monkeypatch, store)
    at.switch_page("pages/export.py").run()
    assert not at.exception, at.exception
    return at


def shown_sql(at: AppTest) -> str:
    blocks = [c for c in at.code if c.language == "sql"]
    assert len(blocks) == 1
    return blocks[0].value


def test_the_section_shows_the_designers_model_as_duckdb_sql_that_scores_the_sample(app):
    assert "SQL for your warehouse" in [s.value for s in app.subheader]
    wb = app.session_state["workbench"]
    sql = shown_sql(app)
    assert sql == model_sql(wb.model, "duckdb")
    assert "Download SQL" in [b.label for b in app.get("download_button")]
    con = duckdb.connect()
    con.execute(f"CREATE TABLE leads AS SELECT row_number() OVER () AS position, * FROM read_csv('{SAMPLE_CSV}', all_varchar=true, parallel=false)")
    got = con.execute(f"SELECT score, tier FROM ({sql}) ORDER BY position").df()
    expected = score_leads(wb.leads, wb.model).sort_values("row")
    assert got["score"].tolist() == expected["score"].tolist() and got["tier"].tolist() == expected["tier"].tolist()


def test_choosing_a_warehouse_and_a_table_changes_the_sql(app):
    model = app.session_state["workbench"].model
    app.selectbox(key="sql_dialect").set_value("snowflake").run()
    app.text_input(key="sql_table").input('crm."Lead Table"').run()
    assert not app.exception
    assert shown_sql(app) == model_sql(model, "snowflake", table=("crm", "Lead Table"))
    assert [o for o in app.selectbox(key="sql_dialect").options] == ["DuckDB", "PostgreSQL", "Snowflake", "BigQuery", "Spark SQL"]


def test_a_table_name_that_is_no_name_says_how_to_write_one(app):
    app.text_input(key="sql_table").input("my leads").run()
    assert not app.exception
    from pages.messages import for_app

    sentence = "'my leads' is not a table name; write name, schema.name or catalog.schema.name, quoting a part that holds dots, spaces or quotes."
    assert [plain(e.value) for e in app.error] == [plain(for_app(sentence))] == [sentence]  # the core's sentence, the app's way
    assert not [c for c in app.code if c.language == "sql"]
