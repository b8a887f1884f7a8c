"""The lead-model CLI: commands, JSON output, scored files, and one-line errors."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lead_model.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
BANK = Path(__file__).resolve().parents[2] / "shared" / "data" / "bank-marketing" / "bank-full.csv"

LEADS_CSV = """lead_id,title,visits,demo,converted
L1,VP,10,yes,yes
L2,VP,2,no,no
L3,Manager,0,no,no
L4,Student,7,yes,yes
L5,Manager,12,yes,no
L6,,3,no,no
L7,Director,5,yes,yes
L8,Manager,1,no,no
"""

MODEL = {
    "metadata": {"name": "cli test", "outcome": "converted"},
    "attributes": [
        {"name": "title", "kind": "categorical", "group": "fit", "levels": [{"value": "VP", "points": 20}, {"value": "Director", "points": 15}], "missing": {"points": -5}},
        {"name": "visits", "kind": "numeric", "group": "engagement", "bins": [{"min": None, "points": 0}, {"min": 3, "points": 10}, {"min": 10, "points": 20}]},
        {"name": "demo", "kind": "boolean", "group": "engagement", "levels": [{"value": True, "points": 25}]},
    ],
    "knockouts": [{"attribute": "title", "values": ["Student"]}],
    "mql_threshold": 30,
}
# Expected scores by hand: title + visits bin + demo
EXPECTED_SCORES = {"L1": 20 + 20 + 25, "L2": 20 + 0 + 0, "L3": 0, "L4": 0 + 10 + 25, "L5": 0 + 20 + 25, "L6": -5 + 10 + 0, "L7": 15 + 10 + 25, "L8": 0}


@pytest.fixture()
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("LEAD_MODEL_STORE", str(tmp_path / "store.duckdb"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "leads.csv").write_text(LEADS_CSV)
    (tmp_path / "model.json").write_text(json.dumps(MODEL))
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def commands() -> list[str]:
    return sorted(main.commands)


def test_every_command_has_help_and_is_in_readme():
    readme = (ROOT / "README.md").read_text()
    for name in commands():
        cmd = main.commands[name]
        assert cmd.help and len(cmd.help.strip()) > 10, f"{name} lacks help text"
        assert re.search(rf"lead-model {name}\b", readme), f"README.md does not document 'lead-model {name}'"


def test_backtest_json_keys_and_numbers(env):
    result = run("backtest", "leads.csv", "--model", "model.json", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    for key in ("leads", "converted", "threshold", "mql", "mql_rate", "precision", "recall", "f1", "auc", "pr_auc", "lift_at_threshold", "deciles", "sweep"):
        assert key in out
    # By hand: MQL = score >= 30 and not knocked out (L4 is a Student) -> L1, L5, L7; converted among them L1, L7.
    assert out["mql"] == 3 and out["converted"] == 3
    assert out["precision"] == pytest.approx(2 / 3, abs=1e-12)
    assert out["recall"] == pytest.approx(2 / 3, abs=1e-12)
    assert out["mql_rate"] == pytest.approx(3 / 8, abs=1e-12)
    assert set(out["deciles"][0]) == {"decile", "leads", "converted", "conversion_rate", "lift", "cumulative_recall"}
    assert set(out["sweep"][0]) >= {"threshold", "mql", "precision", "recall"}
    row30 = next(r for r in out["sweep"] if r["threshold"] == 30)
    assert row30["mql"] == 3


def test_backtest_threshold_override_and_report(env):
    result = run("backtest", "leads.csv", "--model", "model.json", "--threshold", "60")
    assert result.exit_code == 0
    assert "MQL threshold 60: 1 MQLs" in result.output
    assert "Of 1 MQLs, 1 converted" in result.output


def test_score_keeps_input_rows_and_order(env):
    result = run("score", "leads.csv", "--model", "model.json", "-o", "scored.csv")
    assert result.exit_code == 0, result.output
    with open(env / "scored.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["lead_id"] for r in rows] == [f"L{i}" for i in range(1, 9)]
    assert list(rows[0])[:5] == ["lead_id", "title", "visits", "demo", "converted"]
    assert list(rows[0])[5:] == ["score", "fit_score", "engagement_score", "grade", "tier", "knocked_out", "is_mql"]
    assert {r["lead_id"]: int(r["score"]) for r in rows} == EXPECTED_SCORES
    assert rows[0]["demo"] == "yes" and rows[0]["converted"] == "yes"  # values echoed as in the file
    assert [r["knocked_out"] for r in rows].count("true") == 1
    assert rows[3]["is_mql"] == "false" and rows[3]["tier"] == "knocked out"


def test_score_new_leads_without_outcome(env):
    (env / "new.csv").write_text("lead_id,title,visits,demo\nN1,VP,11,yes\nN2,Manager,0,no\n")
    result = run("score", "new.csv", "--model", "model.json", "-o", "new_scored.csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(open(env / "new_scored.csv", newline="")))
    assert [int(r["score"]) for r in rows] == [65, 0]


def test_init_writes_a_valid_starter_model(env):
    result = run("init", "leads.csv", "--outcome", "converted", "--exclude", "visits", "-o", "starter.yaml")
    assert result.exit_code == 0, result.output
    from lead_model.model.schema import ScoringModel

    model = ScoringModel.from_file(env / "starter.yaml")
    assert set(model.attribute_names) == {"title", "demo"}
    assert all(lv.points == 0 for a in model.attributes for lv in a.levels)


def test_load_and_datasets(env):
    result = run("load", "leads.csv", "--name", "q3 leads")
    assert result.exit_code == 0
    assert "8 leads, 3 converted" in result.output
    listing = run("datasets")
    assert "q3 leads" in listing.output
    # the stored dataset can be used by name
    again = run("backtest", "q3 leads", "--model", "model.json", "--json")
    assert json.loads(again.output)["mql"] == 3


def test_schema_is_json_schema(env):
    result = run("schema")
    schema = json.loads(result.output)
    assert schema["title"].startswith("Lead Model Studio")
    assert "attributes" in schema["properties"]


@pytest.mark.parametrize(
    "args, message",
    [
        (("backtest", "nope.csv", "--model", "model.json"), "does not exist"),
        (("backtest", "leads.csv", "--model", "nope.json"), "does not exist"),
        (("load", "leads.csv", "--outcome", "convrted"), "did you mean 'converted'"),
        (("load", "leads.csv", "--outcome", "title"), "not two"),
        (("load", "empty.csv"), "is empty"),
        (("backtest", "leads.csv", "--model", "bad_field.json"), "field 'mql_threshold'"),
        (("backtest", "leads.csv", "--model", "bad_column.json"), "did you mean 'title'"),
        (("backtest", "leads.csv", "--model", "broken.yaml"), "not valid"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(env, args, message):
    (env / "empty.csv").write_text("")
    (env / "bad_field.json").write_text(json.dumps({**MODEL, "mql_threshold": "high"}))
    bad_col = json.loads(json.dumps(MODEL))
    bad_col["attributes"][0]["name"] = "titel"
    (env / "bad_column.json").write_text(json.dumps(bad_col))
    (env / "broken.yaml").write_text("attributes: [\n  - {")
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = [ln for ln in result.output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert message in lines[0]


@pytest.mark.skipif(not BANK.exists(), reason="shared bank-marketing data not beside the repo")
def test_bank_marketing_as_a_new_user(env):
    assert run("init", BANK, "--outcome", "y", "--exclude", "duration", "-o", "bank.json").exit_code == 0
    result = run("backtest", "bank-full", "--model", "bank.json", "--json")
    out = json.loads(result.output)
    assert out["leads"] == 45211 and out["converted"] == 5289


def test_python_dash_m_runs_the_same_cli():
    result = subprocess.run([sys.executable, "-m", "lead_model.cli", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Usage: lead-model" in result.stdout
    assert all(name in result.stdout for name in commands())


def test_help_does_not_import_the_heavy_libraries():
    # `lead-model --help` stays fast only while commands import pandas, scipy and DuckDB where they use them.
    code = (
        "import sys, lead_model.cli, lead_model.cli.main; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'scipy', 'duckdb', 'pyarrow', 'numpy', 'altair', 'streamlit'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_load_report_says_unknown_for_a_group_the_name_does_not_tell(env):
    (env / "sources.csv").write_text("lead_source,title,visits,converted\n" + "".join(
        f"{'Web' if i % 3 else 'Event'},{'VP' if i % 2 else 'Manager'},{i % 5},{'yes' if i % 4 == 0 else 'no'}\n" for i in range(40)))
    result = run("load", "sources.csv")
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split()[:4] for line in result.output.splitlines() if line.split()[:1] in (["lead_source"], ["title"], ["visits"])}
    assert rows == {"lead_source": ["lead_source", "attribute", "categorical", "unknown"], "title": ["title", "attribute", "categorical", "fit"],
                    "visits": ["visits", "attribute", "numeric", "engagement"]}
    assert "no clue in the name; choose fit or engagement" in result.output
