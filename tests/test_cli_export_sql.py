"""lead-model export-sql (lead_model/cli/export_sql.py): the SQL file, its table and columns, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import duckdb
import pytest
from click.testing import CliRunner

from lead_model.cli.main import main
from lead_model.export.sql import DIALECTS, model_sql
from lead_model.model.schema import ScoringModel
from test_cli import EXPECTED_SCORES, LEADS_CSV, MODEL


@pytest.fixture()
def files(tmp_path):
    (tmp_path / "leads.csv").write_text(LEADS_CSV)
    (tmp_path / "model.json").write_text(json.dumps(MODEL))
    return tmp_path


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_the_file_scores_the_leads_as_worked_out_by_hand(files):
    out = files / "score.sql"
    result = run("export-sql", "--model", files / "model.json", "--dialect", "duckdb", "-o", out)
    assert result.exit_code == 0, result.output
    sql = out.read_text(encoding="utf-8")
    assert sql == model_sql(ScoringModel.from_file(files / "model.json"), "duckdb") + "\n"
    con = duckdb.connect()
    con.execute(f"CREATE TABLE leads AS SELECT * FROM read_csv('{files / 'leads.csv'}', all_varchar=true)")
    rows = con.execute(f"SELECT lead_id, score, knocked_out, is_mql, tier FROM ({sql}) ORDER BY lead_id").fetchall()
    assert {r[0]: r[1] for r in rows} == EXPECTED_SCORES
    assert [r[0] for r in rows if r[2]] == ["L4"] and dict((r[0], r[4]) for r in rows)["L4"] == "knocked out"
    assert [r[0] for r in rows if r[3]] == [k for k, v in sorted(EXPECTED_SCORES.items()) if v >= 30 and k != "L4"]


def test_every_dialect_prints_to_stdout_with_the_table_and_columns_asked(files):
    for dialect in DIALECTS:
        result = run("export-sql", "--model", files / "model.json", "--dialect", dialect, "--table", "crm.leads", "--column", "lead_id")
        assert result.exit_code == 0, result.output
        quoted = "`crm`.`leads`" if dialect in ("bigquery", "spark") else '"crm"."leads"'
        assert f"FROM {quoted} AS" in result.output and result.output.startswith("SELECT")
    result = run("export-sql", "--model", files / "model.json", "--dialect", "postgres", "--table", 'crm."Lead Table; --"')
    assert 'FROM "crm"."Lead Table; --" AS "t"' in result.output


@pytest.mark.parametrize("args, message", [
    (["--dialect", "mysql"], "Error: 'mysql' is not a dialect the SQL export writes; choose one of duckdb, postgres, snowflake, bigquery, spark."),
    (["--dialect", "duckdb", "--table", "a b"], "Error: 'a b' is not a table name; write name, schema.name or catalog.schema.name"),
    (["--dialect", "duckdb", "--column", "score"], "Error: the leads column 'score' is passed through and has the name of a column the SQL adds"),
    (["--dialect", "duckdb", "-o", "no/such/folder/x.sql"], "Error: cannot write no/such/folder/x.sql: the folder no/such/folder does not exist"),
])
def test_bad_input_is_one_line_and_exit_1(files, monkeypatch, args, message):
    monkeypatch.chdir(files)
    result = run("export-sql", "--model", "model.json", *args)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), result.output


def test_help_does_not_import_sqlglot():
    code = "import sys; from lead_model.cli.main import main; assert 'sqlglot' not in sys.modules and 'export-sql' in main.commands"
    subprocess.run([sys.executable, "-c", code], check=True)
