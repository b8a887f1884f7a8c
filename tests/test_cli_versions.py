"""lead-model versions: save prints only the id, list (text and JSON), show, diff, publish, rename, archive, one-line errors,
and the one 'Waiting for the lead store' line while another process holds the store."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import TINY_HEADER, TINY_MODEL, TINY_ROWS, write_csv

from lead_model import ScoringModel, VersionRegistry
from lead_model.cli.main import main
from lead_model.model.diff import describe_changes

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LEAD_MODEL_STORE", str(tmp_path / "s.duckdb"))
    write_csv(tmp_path / "tiny.csv", TINY_HEADER, TINY_ROWS)
    ScoringModel.from_dict({**TINY_MODEL, "metadata": {"name": "tiny", "outcome": "converted"}}).to_file(tmp_path / "a.json")
    ScoringModel.from_dict({**TINY_MODEL, "metadata": {"name": "tiny", "outcome": "converted"}, "mql_threshold": 35}).to_file(tmp_path / "b.yaml")
    return tmp_path


def run(*args):
    return CliRunner().invoke(main, ["versions", *map(str, args)], catch_exceptions=False)


def test_every_versions_command_has_help_and_is_in_readme():
    readme = (ROOT / "README.md").read_text()
    group = main.commands["versions"]
    assert set(group.commands) == {"save", "list", "show", "diff", "publish", "rename", "archive"}
    for name, cmd in group.commands.items():
        assert cmd.help and len(cmd.help.strip()) > 10, f"versions {name} lacks help text"
        assert re.search(rf"lead-model versions {name}\b", readme), f"README.md does not document 'lead-model versions {name}'"


def test_save_prints_only_the_id_and_list_shows_it(env):
    first = run("save", "--model", "a.json", "--name", "Q1 model", "--author", "Ana", "--notes", "first cut", "--data", "tiny.csv")
    assert first.exit_code == 0, first.output
    assert first.stdout == "1\n"
    second = run("save", "--model", "b.yaml", "--name", "Q2 model", "--data", "tiny")  # a stored dataset's name
    assert second.stdout == "2\n"
    assert run("save", "--model", "a.json", "--name", "no data").stdout == "3\n"
    listed = json.loads(run("list", "--json").stdout)
    assert [v["id"] for v in listed] == [3, 2, 1]
    v1 = listed[2]
    registry = VersionRegistry(env / "s.duckdb")
    saved = registry.get(1)
    assert {k: v1[k] for k in ("id", "name", "author", "notes", "created", "live", "archived", "dataset")} == {
        "id": 1, "name": "Q1 model", "author": "Ana", "notes": "first cut", "created": saved.created, "live": False, "archived": False,
        "dataset": "tiny"}
    assert (v1["precision"], v1["recall"], v1["mql"]) == (saved.summary["precision"], saved.summary["recall"], saved.summary["mql"])
    assert v1["dataset_rows"] == 12 and v1["summary"] == saved.summary
    assert listed[0]["dataset"] is None and listed[0]["precision"] is None
    text = run("list").stdout.splitlines()
    assert text[0].split()[:2] == ["id", "name"] and len(text) == 4
    assert re.match(r"\s+1\s+Q1 model\s+Ana\s+\S+\s+tiny\s+\d+\.\d%\s+\d+\.\d%\s+\d+$", text[3]), text[3]


def test_show_diff_publish_rename_archive(env):
    for model, name in (("a.json", "a"), ("b.yaml", "b")):
        run("save", "--model", model, "--name", name)
    shown = run("show", "1")
    assert ScoringModel.from_text(shown.stdout, yaml_format=False) == ScoringModel.from_file(env / "a.json")
    assert json.loads(shown.stdout) == json.loads((env / "a.json").read_text())
    assert run("show", "2", "-o", "out.yaml").stdout == "Wrote out.yaml: version 2 'b'.\n"
    assert yaml.safe_load((env / "out.yaml").read_text()) == ScoringModel.from_file(env / "b.yaml").to_dict()
    run("show", "2", "-o", "out.json")
    assert ScoringModel.from_file(env / "out.json") == ScoringModel.from_file(env / "b.yaml")

    want = describe_changes(ScoringModel.from_file(env / "a.json"), ScoringModel.from_file(env / "b.yaml"))
    assert want == ["MQL threshold 40 -> 35"]
    assert run("diff", "1", "2").stdout.splitlines() == want
    assert run("diff", "2", "2").stdout == "no differences\n"

    assert run("publish", "2", "--by", "Bo").stdout == "Version 2 'b' is the live model.\n"
    assert [v["id"] for v in json.loads(run("list", "--json").stdout) if v["live"]] == [2]
    assert run("rename", "1", "better").stdout == "Version 1 is now 'better'.\n"
    assert run("archive", "1").stdout == "Version 1 'better' is archived.\n"
    assert [v["id"] for v in json.loads(run("list", "--json").stdout)] == [2]
    assert [v["id"] for v in json.loads(run("list", "--json", "--all").stdout)] == [2, 1]
    assert run("archive", "1", "--restore").stdout == "Version 1 'better' is back in the list.\n"
    assert VersionRegistry(env / "s.duckdb").live_history()[0][:2] == (2, "b")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "7"), r"no version 7 in the store .*s\.duckdb \(versions: 1\); list them with 'lead-model versions list'\."),
        (("diff", "1", "9"), r"no version 9 in the store"),
        (("publish", "0"), r"version id 0 is not usable"),
        (("rename", "1", "  "), r"a version name cannot be blank"),
        (("archive", "1"), r"version 1 'a' is the live model; publish another version first"),
        (("show", "1", "-o", "model.txt"), r"cannot tell the format of model\.txt; end the file name with \.json, \.yaml or \.yml\."),
        (("save", "--model", "missing.json", "--name", "x"), r"model file missing\.json does not exist"),
        (("save", "--model", "a.json", "--name", "x", "--data", "nope"), r"no dataset 'nope' in the store"),
    ],
)
def test_errors_are_one_line(env, args, message):
    run("save", "--model", "a.json", "--name", "a")
    run("publish", "1")
    result = CliRunner().invoke(main, ["versions", *args])
    assert result.exit_code == 1
    assert re.match(rf"Error: {message}", result.output) and result.output.endswith(".\n") and result.output.count("\n") == 1, result.output


def test_an_empty_store_lists_nothing(env):
    assert run("list").stdout.startswith("The store has no saved versions yet")
    assert json.loads(run("list", "--json").stdout) == []
    assert not (env / "s.duckdb").exists()


def test_a_busy_store_is_waited_for_and_said_once(env):
    run("save", "--model", "a.json", "--name", "a")
    store = env / "s.duckdb"
    holder = subprocess.Popen(  # holds the store until told to let go
        [sys.executable, "-c", f"import duckdb, sys; c = duckdb.connect({str(store)!r}); print('locked', flush=True); sys.stdin.readline(); c.close()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        cli = subprocess.Popen([sys.executable, "-m", "lead_model.cli", "versions", "save", "--model", "a.json", "--name", "b", "--store", str(store)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=env)
        said = cli.stderr.readline()
        assert said == f"Waiting for the lead store {store} (another lead-model or app is using it) ...\n"
    finally:
        holder.communicate("go\n", timeout=30)
    out, err = cli.communicate(timeout=60)
    assert cli.returncode == 0, err
    assert out == "2\n" and err == ""  # said once, and only the id on stdout
    assert VersionRegistry(store).get(2).name == "b"
