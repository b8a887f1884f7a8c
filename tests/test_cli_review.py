"""`lead-model review` and `lead-model compare`: JSON keys and numbers, the text report, saved versions, and one-sentence errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import BANK_CSV, SAMPLE_MODEL, TINY_HEADER, TINY_MODEL, TINY_ROWS, write_csv
from lead_model.cli.main import main

PERIOD_KEYS = {"period", "leads", "converted", "mql", "mql_rate", "precision", "recall", "mql_conversion", "rest_conversion"}


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture()
def env(tmp_path: Path) -> Path:
    write_csv(tmp_path / "tiny.csv", TINY_HEADER, TINY_ROWS)
    (tmp_path / "model.json").write_text(json.dumps(TINY_MODEL))
    other = json.loads(json.dumps(TINY_MODEL))
    other["mql_threshold"] = 30
    (tmp_path / "other.json").write_text(json.dumps(other))
    return tmp_path


def test_review_json_keys_and_numbers(env):
    result = run("review", env / "tiny.csv", "--model", env / "model.json", "--by", "month", "--json", "--store", env / "s.duckdb")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert {"by", "reference", "recent", "periods", "score_psi", "attributes", "summary"} <= set(out)
    assert (out["by"], out["reference"], out["recent"]) == ("month", "2024-01", "2024-06")
    assert [p["period"] for p in out["periods"]] == [f"2024-0{m}" for m in range(1, 7)]
    assert all(PERIOD_KEYS <= set(p) for p in out["periods"])
    # by hand from TINY_ROWS: two leads a month, except three in March and one in June
    assert [p["leads"] for p in out["periods"]] == [2, 2, 3, 2, 2, 1]
    assert [p["converted"] for p in out["periods"]] == [1, 1, 1, 0, 1, 0]
    assert all({"attribute", "psi", "verdict", "levels"} <= set(a) for a in out["attributes"])
    assert all({"level", "reference_share", "recent_share"} <= set(lv) for a in out["attributes"] for lv in a["levels"])
    assert isinstance(out["summary"], list) and all(isinstance(s, str) for s in out["summary"])


def test_review_text_report_on_the_sample(sample_leads_fair, data_store):
    result = run("review", sample_leads_fair.name, "--model", SAMPLE_MODEL, "--store", data_store, "--exclude", "opportunity_amount",
                 "--reference", "2024-Q1", "--recent", "2025-q4")
    assert result.exit_code == 0, result.output
    text = result.output
    assert "drift from 2024-Q1 (reference) to 2025-Q4 (recent)" in text
    assert "2025-Q4  7,194" in text  # the periods table
    lead_source = next(line for line in text.splitlines() if line.startswith("lead_source"))
    assert "watch" in lead_source and "Purchased List: 20% -> 9.7%" in lead_source
    assert "- Conversion rose from 7.6% to 10% between 2024-Q1 and 2025-Q4." in text
    assert "- lead_source drift PSI 0.13 (watch)" in text


def test_review_a_saved_version(env):
    from lead_model.model.schema import ScoringModel
    from lead_model.model.versions import VersionRegistry

    store = env / "s.duckdb"
    saved = VersionRegistry(store).save(ScoringModel.from_dict(TINY_MODEL), "first cut", author="test")
    result = run("review", env / "tiny.csv", "--version", saved.id, "--json", "--store", store)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert any(s.startswith(f"Precision of version {saved.id} 'first cut'") or s.startswith(f"Recall of version {saved.id}") for s in out["summary"])


def test_compare_json_and_report(env):
    args = ["compare", env / "tiny.csv", "--model", env / "other.json", "--against", env / "model.json", "--store", env / "s.duckdb"]
    out = json.loads(run(*args, "--json").output)
    assert out["changes"] == ["MQL threshold 40 -> 30"]
    kpis = {k["key"]: k for k in out["kpis"]}
    assert kpis["threshold"]["before"] == 40 and kpis["threshold"]["after"] == 30 and kpis["threshold"]["delta"] == -10
    # a lower threshold only adds MQLs: by hand, L07 (35), L03 and L12 (30) enter, and none of them converted
    assert out["crossers"] == {"entered": 3, "entered_converted": 0, "left": 0, "left_converted": 0}
    assert {e["lead_id"] for e in out["examples"]} == {"L03", "L07", "L12"}
    text = run(*args).output
    assert "What changed from model.json to other.json:" in text and "- MQL threshold 40 -> 30" in text
    assert "MQL threshold" in text and "Leads crossing the MQL line: 3 leads become MQLs (0 of them converted)" in text


@pytest.mark.parametrize("extra, message", [
    ([], "Error: give the model to review with --model FILE or --version ID."),
    (["--model", "model.json", "--version", "3"], "Error: give --model FILE or --version ID, not both."),
    (["--model", "model.json", "--reference", "2024-Q7"], "Error: '2024-Q7' is not a quarter; write it like 2024-Q1 (the data runs from 2024-Q1 to 2024-Q2)."),
    (["--model", "model.json", "--recent", "2023-Q4"], "Error: 2023-Q4 is outside the data, which runs from 2024-Q1 to 2024-Q2; pick a quarter in that range."),
    (["--model", "model.json", "--by", "month", "--recent", "2024-Q2"], "Error: '2024-Q2' is a quarter but the review is by month"),
])
def test_review_errors_are_one_sentence(env, monkeypatch, extra, message):
    monkeypatch.chdir(env)
    result = run("review", "tiny.csv", *extra, "--store", env / "s.duckdb")
    assert result.exit_code == 1
    assert result.output.startswith(message) and result.output.count("\n") == 1


def test_compare_errors_are_one_sentence(env, monkeypatch):
    monkeypatch.chdir(env)
    result = run("compare", "tiny.csv", "--model", "model.json", "--store", env / "s.duckdb")
    assert result.exit_code == 1 and result.output == "Error: give the model to compare against with --against FILE or --against-version ID.\n"
    result = run("compare", "tiny.csv", "--model", "model.json", "--against", "other.json", "--against-version", "1", "--store", env / "s.duckdb")
    assert result.exit_code == 1 and result.output == "Error: give --against FILE or --against-version ID, not both.\n"


def test_review_without_a_created_date_is_one_sentence(tmp_path, bank_leads, data_store):
    assert BANK_CSV.is_file()
    (tmp_path / "bank.json").write_text(json.dumps(
        {"attributes": [{"name": "job", "kind": "categorical", "group": "fit", "levels": [{"value": "management", "points": 10}]}]}))
    result = run("review", bank_leads.name, "--model", tmp_path / "bank.json", "--outcome", "y", "--store", data_store)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: '{bank_leads.name}' has no created date column, so its leads cannot be put in periods; pick one on the Data page")
    assert result.output.count("\n") == 1


def test_load_created_names_the_date_column_a_review_puts_leads_in_periods_by(tmp_path):
    """The sentence above points at `lead-model load FILE --created COLUMN`; that command works, and a non-date column is one sentence."""
    rows = [[f"L{i}", f"2025-{1 + i % 6:02d}-15", f"2024-{1 + i % 3:02d}-01", "ab"[i % 2], "yes" if i % 3 == 0 else "no"] for i in range(120)]
    write_csv(tmp_path / "dates.csv", ["lead_id", "signup", "first_touch", "segment", "converted"], rows)
    store = tmp_path / "store.duckdb"
    model = {"attributes": [{"name": "segment", "kind": "categorical", "group": "fit", "levels": [{"value": "a", "points": 10}]}], "mql_threshold": 5}
    (tmp_path / "m.json").write_text(json.dumps(model))
    assert run("load", tmp_path / "dates.csv", "--created", "first_touch", "--store", store).exit_code == 0
    result = run("review", "dates", "--model", tmp_path / "m.json", "--by", "month", "--json", "--store", store)
    assert result.exit_code == 0, result.output
    periods = [p["period"] for p in json.loads(result.output)["periods"]]
    assert periods == ["2024-01", "2024-02", "2024-03"]  # first_touch's months, not signup's six
    bad = run("load", tmp_path / "dates.csv", "--created", "segment", "--store", store)
    assert bad.exit_code == 1
    assert bad.output == ("Error: column 'segment' is not a date column (it holds values such as 'a'), so it cannot be the created date; "
                          "choose a column of dates (e.g. 2025-03-31) or none.\n")
