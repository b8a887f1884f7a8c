"""lead-model export-config, check-config, report and score --reasons: files written, what they hold, one-line errors."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner
from conftest import TINY_HEADER, TINY_MODEL, TINY_ROWS, write_csv

from lead_model import ScoringModel, VersionRegistry
from lead_model.cli.main import main
from lead_model.data.store import LeadStore
from lead_model.export.config import ShippingConfig, Signoff
from lead_model.export.reasons import lead_reasons

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LEAD_MODEL_STORE", str(tmp_path / "s.duckdb"))
    write_csv(tmp_path / "tiny.csv", TINY_HEADER, TINY_ROWS)
    ScoringModel.from_dict({**TINY_MODEL, "metadata": {"name": "tiny", "outcome": "converted"}}).to_file(tmp_path / "a.yaml")
    ScoringModel.from_dict({**TINY_MODEL, "metadata": {"name": "tiny"}, "mql_threshold": 35}).to_file(tmp_path / "b.json")
    return tmp_path


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


SIGN = ["--signed-sales", "Priya Shah", "--signed-marketing", "Tom Berg", "--signoff-date", "2025-06-30", "--signoff-notes", "Agreed."]


def test_the_ship_commands_have_help_and_are_in_readme():
    readme = (ROOT / "README.md").read_text()
    for name in ("export-config", "check-config", "report"):
        cmd = main.commands[name]
        assert cmd.help and len(cmd.help.strip()) > 10, name
        assert re.search(rf"lead-model {name}\b", readme), f"README.md does not document 'lead-model {name}'"
    assert re.search(r"lead-model score \S+ .*--reasons", readme)


# ----- export-config and check-config -------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_export_config_with_data_and_a_sign_off(env, suffix):
    out = run("export-config", "--model", "a.yaml", "--data", "tiny.csv", *SIGN, "-o", f"config{suffix}")
    assert out.exit_code == 0, out.output
    assert out.output.startswith(f"Wrote config{suffix} from a.yaml:\n")
    assert "Signed off by Priya Shah (sales) and Tom Berg (marketing) on 2025-06-30. Notes: Agreed." in out.output
    config = ShippingConfig.from_file(env / f"config{suffix}")
    assert config.model == ScoringModel.from_file(env / "a.yaml")
    assert config.signoff == Signoff(sales="Priya Shah", marketing="Tom Berg", date="2025-06-30", notes="Agreed.")
    fp = LeadStore(env / "s.duckdb").fingerprint("tiny")
    assert (config.dataset.name, config.dataset.rows, config.dataset.hash) == ("tiny", 12, fp.hash)
    assert config.backtest["leads"] == 12 and config.backtest["mql"] == 3  # L01, L06 and L10 score 40 or more (conftest)
    checked = run("check-config", f"config{suffix}")
    assert checked.exit_code == 0 and checked.output.startswith(f"config{suffix} is a valid shipping config, config version 1:\n")
    assert "Agreed on dataset 'tiny': 12 rows, content hash" in checked.output


def test_a_config_saved_as_a_version_keeps_its_sign_off(env):
    assert run("export-config", "--model", "a.yaml", *SIGN, "-o", "config.yaml").exit_code == 0
    version_id = run("versions", "save", "--model", "config.yaml", "--name", "Q3 agreed").output.strip()
    version = VersionRegistry(env / "s.duckdb").get(int(version_id))
    assert version.signoff == {"sales": "Priya Shah", "marketing": "Tom Berg", "date": "2025-06-30", "notes": "Agreed."}
    assert (version.author, version.notes) == ("Priya Shah", "Agreed.")  # unless --author / --notes say otherwise
    assert version.model == ScoringModel.from_file(env / "a.yaml")
    plain_id = run("versions", "save", "--model", "a.yaml", "--name", "draft", "--author", "Ana").output.strip()
    plain = VersionRegistry(env / "s.duckdb").get(int(plain_id))
    assert plain.signoff in ({}, None) and plain.author == "Ana"


def test_a_config_without_data_or_sign_off_says_so(env):
    out = run("export-config", "--model", "b.json", "-o", "c.yml")
    assert out.exit_code == 0, out.output
    assert "Not signed off yet." in out.output and "No dataset recorded." in out.output and "No backtest recorded." in out.output
    again = run("export-config", "--model", "c.yml", "-o", "d.json", *SIGN)  # a config as --model: its model, a new sign-off
    assert again.exit_code == 0 and ShippingConfig.from_file(env / "d.json").model == ShippingConfig.from_file(env / "c.yml").model
    kept = run("export-config", "--model", "d.json", "-o", "e.yaml")  # ... and a config keeps its sign-off
    assert ShippingConfig.from_file(env / "e.yaml").signoff.sales == "Priya Shah", kept.output


def test_check_config_names_the_field_and_the_allowed_values(env):
    run("export-config", "--model", "a.yaml", "-o", "config.yaml", *SIGN)
    text = (env / "config.yaml").read_text()
    (env / "config.yaml").write_text(text.replace("group: engagement", "group: engagment", 1))
    out = run("check-config", "config.yaml")
    assert out.exit_code == 1
    assert out.output == ("Error: config.yaml: field 'model.attributes.2.group' (attribute 'page_views') is 'engagment'; "
                          "allowed: fit, engagement; fix it and load the model again.\n")
    data = yaml.safe_load(text)
    data["signoff"]["date"] = "next Tuesday"
    (env / "bad.yaml").write_text(yaml.safe_dump(data))
    out = run("check-config", "bad.yaml")
    assert out.exit_code == 1 and out.output.startswith("Error: bad.yaml: field 'signoff.date' is 'next Tuesday', not a date") and out.output.count("\n") == 1


def test_check_config_says_when_a_model_migrated(env):
    old = yaml.safe_load((DATA / "sample_model_v1.yaml").read_text())
    (env / "old.yaml").write_text(yaml.safe_dump({"config_version": 1, "model": old}))
    out = run("check-config", "old.yaml")
    assert out.exit_code == 0, out.output
    assert "its model was written in schema version 1 and reads as version 2" in out.output
    assert "Model 'RevOps lead score' (version 3, schema version 2)" in out.output


@pytest.mark.parametrize(("args", "words"), [
    (["check-config", "a.yaml"], "a.yaml is a model file, not a shipping config"),
    (["check-config", "nope.yaml"], "config file nope.yaml does not exist"),
    (["export-config", "--model", "a.yaml", "--signed-sales", "Priya", "-o", "c.yaml"], "give --signed-marketing NAME too"),
    (["export-config", "--model", "a.yaml", "--signoff-notes", "x", "-o", "c.yaml"], "give --signed-sales NAME and --signed-marketing NAME too"),
    (["export-config", "--model", "a.yaml", "-o", "c.txt"], "a config is written as .json, .yaml or .yml"),
    (["export-config", "-o", "c.yaml"], "give the model with --model FILE or --version ID"),
    (["export-config", "--model", "a.yaml", "--version", "1", "-o", "c.yaml"], "give the model with --model FILE or --version ID"),
    (["export-config", "--model", "a.yaml", "--signed-sales", "P", "--signed-marketing", "T", "--signoff-date", "06/30", "-o", "c.yaml"],
     "field 'signoff.date' is '06/30', not a date"),
    (["export-config", "--version", "9", "-o", "c.yaml"], "no version 9 in the store"),
    (["report", "tiny.csv", "--model", "a.yaml", "--compare", "b.json", "--compare-version", "1", "-o", "r.html"], "not both"),
])
def test_errors_are_one_line(env, args, words):
    out = run(*args)
    assert out.exit_code == 1, out.output
    assert out.output.startswith("Error: ") and words in out.output and out.output.count("\n") == 1, out.output


def test_export_a_saved_version_and_sign_it_off_as_a_new_version(env):
    assert run("versions", "save", "--model", "a.yaml", "--name", "Q3 model", "--data", "tiny.csv").output == "1\n"
    plain = run("export-config", "--version", 1, "-o", "v1.yaml")
    assert plain.exit_code == 0 and "from version 1 'Q3 model'" in plain.output and "Not signed off yet." in plain.output
    assert ShippingConfig.from_file(env / "v1.yaml").version_id == 1
    assert "give --data only with --model" in run("export-config", "--version", 1, "--data", "tiny.csv", "-o", "x.yaml").output
    signed = run("export-config", "--version", 1, *SIGN, "-o", "v2.yaml")
    assert signed.exit_code == 0, signed.output
    assert signed.output.startswith("Saved version 2 'tiny (signed off 2025-06-30)' with the sign-off (version 1 is kept as it was).\n")
    registry = VersionRegistry(env / "s.duckdb")
    assert [v.id for v in registry.list()] == [2, 1]
    assert registry.get(1).signoff == {} and registry.get(2).signoff["marketing"] == "Tom Berg"
    config = ShippingConfig.from_file(env / "v2.yaml")
    assert config.version_id == 2 and config.signoff.sales == "Priya Shah" and config.dataset.hash == registry.get(1).dataset_hash
    assert config.backtest == registry.get(1).summary


# ----- report -------------------------------------------------------------------------------------
def test_report_with_a_comparison_and_a_signed_config(env):
    run("export-config", "--model", "a.yaml", "-o", "signed.yaml", *SIGN)
    out = run("report", "tiny.csv", "--model", "signed.yaml", "--compare", "b.json", "-o", "report.html")
    assert out.exit_code == 0, out.output
    assert re.fullmatch(r"Wrote report\.html \(\d\.\d MB\): 'tiny' from signed\.yaml on 'tiny', compared with b\.json; signed off\. "
                        r"It opens offline in any browser\.\n", out.output), out.output
    page = (env / "report.html").read_text()
    assert '<section id="comparison">' in page and "MQL threshold 35 -&gt; 40" in page and "<td>Priya Shah</td>" in page


def test_report_of_saved_versions(env):
    run("versions", "save", "--model", "b.json", "--name", "Q2 model", "--data", "tiny.csv")
    run("versions", "save", "--model", "a.yaml", "--name", "Q3 model", "--data", "tiny.csv")
    out = run("report", "tiny", "--version", 2, "--compare-version", 1, "-o", "r.html")
    assert out.exit_code == 0, out.output
    assert "from version 2 'Q3 model'" in out.output and "compared with version 1 'Q2 model'; not signed off yet" in out.output
    assert "Compared with version 1 &#x27;Q2 model&#x27;" in (env / "r.html").read_text()


# ----- score --reasons ----------------------------------------------------------------------------
def test_score_with_reasons_to_csv_and_parquet(env):
    out = run("score", "tiny.csv", "--model", "a.yaml", "-o", "scored.csv", "--reasons")
    assert out.exit_code == 0, out.output
    csv_out = pd.read_csv(env / "scored.csv", dtype={"lead_id": str})
    assert csv_out["lead_id"].tolist() == [r[0] for r in TINY_ROWS]
    assert csv_out["reasons"][0] == "page_views >= 10: +30; industry is Software: +20; employees 200 to < 1000: +20"
    assert csv_out["points_industry"].tolist()[:3] == [20, 20, 5]
    assert run("score", "tiny.csv", "--model", "a.yaml", "-o", "scored.parquet", "--reasons").exit_code == 0
    table = pq.read_table(env / "scored.parquet").to_pandas()
    from lead_model import load_leads

    leads = load_leads("tiny", store=env / "s.duckdb")
    assert table["reasons"].astype(str).tolist() == lead_reasons(leads, ScoringModel.from_file(env / "a.yaml"))["reasons"].astype(str).tolist()
    plain = run("score", "tiny.csv", "--model", "a.yaml", "-o", "plain.csv")
    assert "reasons" not in pd.read_csv(env / "plain.csv").columns, plain.output


def test_score_neutralises_formula_cells_unless_raw(env):
    write_csv(env / "f.csv", TINY_HEADER + ["note"], [r + ["=1+1" if i % 2 else "@x"] for i, r in enumerate(TINY_ROWS)])
    assert run("score", "f.csv", "--model", "a.yaml", "-o", "n.csv").exit_code == 0
    assert set(pd.read_csv(env / "n.csv")["note"]) == {"'=1+1", "'@x"}
    assert run("score", "f.csv", "--model", "a.yaml", "-o", "r.csv", "--raw").exit_code == 0
    assert set(pd.read_csv(env / "r.csv")["note"]) == {"=1+1", "@x"}
    assert "--raw" in run("score", "--help").output and "--reasons" in run("score", "--help").output
