"""The Spark engine: the exported SQL on Spark scores every lead exactly as the Python engine, and backtests equal.

One local-mode SparkSession (``local[2]``) serves the module; the CLI commands run in-process
(click's CliRunner) and pick that session up. Without pyspark or Java 17 these tests are
skipped with the reason, except under CI=true, where they fail: ``make test`` installs both.
"""

from __future__ import annotations

import csv
import json
import math
import os
import random
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import BANK_CSV, SAMPLE_CSV, SAMPLE_MODEL, needs_bank, needs_sample
from lead_model.cli.main import main
from lead_model.data.store import ROW_COLUMN
from lead_model.errors import LeadModelError

_IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _missing_reason() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install -e '.[spark]', or make test)"
    from lead_model.engine.spark import java_problem

    return java_problem()


_MISSING = _missing_reason()
pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(_MISSING is not None and not _IN_CI, reason=f"Spark tests need pyspark and Java 17: {_MISSING}"),
    # pyspark's own notes about pandas 3 (its toPandas, used here to read results)
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]
SCORES = ["score", "fit_score", "engagement_score", "grade", "tier", "knocked_out", "is_mql"]


@pytest.fixture(scope="module")
def spark():
    if _MISSING:  # only reached under CI=true (skipped otherwise)
        pytest.fail(f"CI=true but the Spark tests cannot run: {_MISSING}")
    from lead_model.engine.spark import spark_session

    session = spark_session()
    yield session
    session.stop()


def spark_scores(spark, path, model) -> pd.DataFrame:
    """The exported SQL's columns per lead, in file order."""
    from lead_model.engine.spark import scored_frame

    frame = scored_frame(spark, path, model).select(ROW_COLUMN, *SCORES).toPandas()
    return frame.sort_values(ROW_COLUMN, kind="stable").reset_index(drop=True)


def python_scores(path, model, store) -> pd.DataFrame:
    from lead_model import load_leads
    from lead_model.engine.scoring import score_leads

    leads = load_leads(path, store=store, model=model, require_outcome=False)
    return score_leads(leads, model)


def assert_same_scores(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert len(got) == len(want)
    for column in SCORES:
        a, b = got[column].to_numpy(), want[column].to_numpy()
        if column in ("knocked_out", "is_mql"):
            a, b = a.astype(bool), b.astype(bool)
        elif column not in ("grade", "tier"):
            a, b = a.astype(np.int64), b.astype(np.int64)
        else:
            a, b = a.astype(str), b.astype(str)
        bad = np.flatnonzero(a != b)
        assert bad.size == 0, f"{column}: {bad.size} leads differ, first at row {bad[0]}: Spark {a[bad[0]]!r}, Python {b[bad[0]]!r}"


def assert_same_backtest(got: dict, want: dict, path: str = "") -> None:
    """Counts exactly, rates and AUCs to 1e-9 (NaN as None), tables row by row."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and got.keys() == want.keys(), path
        for k in want:
            assert_same_backtest(got[k], want[k], f"{path}.{k}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same_backtest(g, w, f"{path}[{i}]")
    elif isinstance(want, float):
        assert isinstance(got, (int, float)) and math.isclose(got, want, rel_tol=0, abs_tol=1e-9), f"{path}: {got} != {want}"
    else:
        assert got == want and type(got) is type(want), f"{path}: {got!r} != {want!r}"


# ----- the sample --------------------------------------------------------------------------
def test_backtest_json_on_spark_equals_local(spark, tmp_path):
    needs_sample()
    runner = CliRunner()
    args = ["backtest", str(SAMPLE_CSV), "--model", str(SAMPLE_MODEL), "--json", "--store", str(tmp_path / "s.duckdb")]
    local = runner.invoke(main, args)
    on_spark = runner.invoke(main, args + ["--engine", "spark"])
    assert local.exit_code == 0, local.output
    assert on_spark.exit_code == 0, on_spark.output
    want, got = json.loads(local.output), json.loads(on_spark.output)
    assert want["leads"] == 50_000 and want["knocked_out"] > 0
    assert_same_backtest(got, want)
    assert on_spark.output == local.output  # the same histograms give the same floats, bit for bit


def test_sample_scored_on_spark_row_for_row_as_local(spark, tmp_path):
    """`score --engine spark` writes the local file: input rows in order and every lead's seven scores (score_leads')."""
    needs_sample()
    runner = CliRunner()
    common = [str(SAMPLE_CSV), "--model", str(SAMPLE_MODEL), "--store", str(tmp_path / "s.duckdb")]
    local = runner.invoke(main, ["score", *common, "-o", str(tmp_path / "local.csv")])
    on_spark = runner.invoke(main, ["score", *common, "-o", str(tmp_path / "spark.csv"), "--engine", "spark"])
    assert local.exit_code == 0, local.output
    assert on_spark.exit_code == 0, on_spark.output
    assert "Wrote" in on_spark.output and "50,000 rows" in on_spark.output
    with open(tmp_path / "local.csv", newline="", encoding="utf-8") as a, open(tmp_path / "spark.csv", newline="", encoding="utf-8") as b:
        want, got = list(csv.reader(a)), list(csv.reader(b))
    assert got[0] == want[0] and got[0][-7:] == SCORES  # the input's columns, then the scores
    assert len(got) == len(want) == 50_001
    bad = [i for i, (g, w) in enumerate(zip(got, want)) if g != w]
    assert not bad, f"{len(bad)} rows differ, first {bad[0]}: Spark {got[bad[0]]} vs local {want[bad[0]]}"
    assert not list(tmp_path.glob(".spark.csv*"))  # no parts left behind


# ----- the bank data: a starter model given points --------------------------------------------
def with_points(model, seed: int):
    """``model`` (a starter model, every point 0) with varied points, a knock-out, a cap, grades and tiers that split the leads."""
    rng = random.Random(seed)
    data = model.to_dict()
    for a in data["attributes"]:
        for part in a.get("levels") or ():
            part["points"] = rng.randint(-15, 20)
        for part in a.get("bins") or ():
            part["points"] = rng.randint(-10, 15)
        a["missing"] = {"points": rng.randint(-5, 5)}
        if a["kind"] == "categorical":
            a["other"] = {"points": rng.randint(-5, 5)}
    first_level = next(a for a in data["attributes"] if a["kind"] == "categorical" and len(a["levels"]) > 2)
    data["knockouts"] = [{"attribute": first_level["name"], "values": [first_level["levels"][1]["value"]]}]
    data["caps"] = {"engagement": 15}
    data["grades"] = [{"name": "A", "min_score": 20}, {"name": "B", "min_score": 5}, {"name": "C", "min_score": None}]
    data["tiers"] = [{"name": "hot", "min_score": 30}, {"name": "warm", "min_score": 10}, {"name": "cold", "min_score": None}]
    data["mql_threshold"] = 20
    return type(model).from_dict(data)


@pytest.fixture(scope="module")
def bank_model(tmp_path_factory):
    from lead_model import load_leads
    from lead_model.model.starter import starter_model

    needs_bank()
    folder = tmp_path_factory.mktemp("bank")
    leads = load_leads(BANK_CSV, "y", store=folder / "s.duckdb", exclude=["duration"])
    return with_points(starter_model(leads), seed=11)


def test_bank_scores_every_lead_as_python(spark, bank_model, tmp_path):
    want = python_scores(BANK_CSV, bank_model, tmp_path / "s.duckdb")
    assert want["knocked_out"].any() and want["is_mql"].any() and want["grade"].nunique() == 3
    assert_same_scores(spark_scores(spark, BANK_CSV, bank_model), want)


def test_bank_backtest_on_spark_equals_local(spark, bank_model, tmp_path):
    from lead_model import load_leads
    from lead_model.engine.backtest import backtest
    from lead_model.engine.spark import spark_backtest

    want = backtest(load_leads(BANK_CSV, store=tmp_path / "s.duckdb", model=bank_model), bank_model)
    got = spark_backtest(BANK_CSV, bank_model, spark=spark)
    assert got.leads == 45_211 and got.converted == want.converted == 5_289
    assert json.dumps(got.summary()) == json.dumps(want.summary())
    for field in ("low", "fit_low", "knocked_out", "knocked_out_converted"):
        assert getattr(got.histograms, field) == getattr(want.histograms, field)
    for field in ("leads", "converted", "fit_leads", "fit_converted"):
        assert np.array_equal(getattr(got.histograms, field), getattr(want.histograms, field)), field


# ----- a hostile dataset: names and values made of quotes, semicolons and SQL -----------------------
JOB = "it's \"job\"; DROP TABLE leads; --"
AMOUNT = "semi;colon `amount`"
FLAG = "SELECT"
DOTTED = "web.visits (count)"
OUTCOME = "won?; DELETE FROM t --"
JOB_VALUES = ["VP", "Director", "O'Brien \"the\" boss", "a;b;c", "`tick`", "SELECT * FROM t; --", "  padded  ", "x.y.z",
              "back\\slash", "N/A", "", "Ünïcode ß", "DROP TABLE leads", "tab\tinside", "null", "' OR '1'='1", "$1 {x}", "100%_"]
AMOUNT_VALUES = ["1,234", "56", "-3.5", "n/a", "", " 42 ", "0.5", "1000000", "7", "12.25", "-", "3,000.5"]
FLAG_VALUES = ["Yes", "no", " YES ", "No\t", "", "N/A", "yes", "NO"]  # the loader takes two spellings, any case
VISITS_VALUES = ["0", "1", "2", "5", "10", "", "3", "25"]
NOTE_VALUES = ["plain", "line one\nline two", "a,b", "\"quoted\"", "'single'", "; --"]


def hostile_csv(path: Path, rows: int = 400, seed: int = 5) -> Path:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["id", JOB, AMOUNT, FLAG, DOTTED, "note; --", OUTCOME])
        for i in range(rows):
            job = rng.choice(JOB_VALUES)
            won = "yes" if (job in ("VP", "a;b;c", "`tick`") and rng.random() < 0.6) or rng.random() < 0.15 else "no"
            if rng.random() < 0.03:
                won = ""  # no outcome: left out of a backtest, scored all the same
            w.writerow([f"H{i:04d}", job, rng.choice(AMOUNT_VALUES), rng.choice(FLAG_VALUES), rng.choice(VISITS_VALUES), rng.choice(NOTE_VALUES), won])
    return path


def hostile_model():
    from lead_model import ScoringModel

    levels = [{"value": v, "points": p} for v, p in zip(
        ["VP", "Director", "O'Brien \"the\" boss", "a;b;c", "`tick`", "SELECT * FROM t; --", "padded", "x.y.z", "back\\slash", "Ünïcode ß",
         "DROP TABLE leads", "tab\tinside", "' OR '1'='1", "$1 {x}", "100%_"],
        [20, 15, 12, 9, 7, -8, 5, 4, 3, 2, -4, 6, 11, 13, 1])]
    return ScoringModel.from_dict({
        "metadata": {"name": "hostile; DROP TABLE models; --", "outcome": OUTCOME},
        "attributes": [
            {"name": JOB, "kind": "categorical", "group": "fit", "levels": levels, "missing": {"points": -3}, "other": {"points": -1}},
            {"name": AMOUNT, "kind": "numeric", "group": "fit", "bins": [{"min": None, "points": -5}, {"min": 0, "points": 2}, {"min": 50, "points": 8},
                                                                           {"min": 1000, "points": 14}], "missing": {"points": -2}},
            {"name": FLAG, "kind": "boolean", "group": "engagement", "levels": [{"value": True, "points": 9}, {"value": False, "points": -2}], "missing": {"points": 1}},
            {"name": DOTTED, "kind": "numeric", "group": "engagement", "bins": [{"min": None, "points": 0}, {"min": 2, "points": 6}, {"min": 10, "points": 12}]},
        ],
        "knockouts": [{"attribute": JOB, "values": ["SELECT * FROM t; --", "DROP TABLE leads"]}, {"attribute": AMOUNT, "below": -1}],
        "caps": {"engagement": 15, "total": 40},
        "grades": [{"name": "A'; --", "min_score": 15}, {"name": "B \"b\"", "min_score": 0}, {"name": "C;", "min_score": None}],
        "tiers": [{"name": "hot`", "min_score": 25}, {"name": "warm", "min_score": 5}, {"name": "cold", "min_score": None}],
        "mql_threshold": 12,
    })


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    return hostile_csv(folder / "hostile leads; --.csv"), hostile_model()


@pytest.mark.parametrize("ansi", ["true", "false"])  # Spark 4 reads SQL in ANSI mode, Spark 3.5 clusters often do not
def test_hostile_names_and_values_score_as_python(spark, hostile, tmp_path, ansi):
    path, model = hostile
    before = spark.conf.get("spark.sql.ansi.enabled")
    spark.conf.set("spark.sql.ansi.enabled", ansi)
    try:
        got = spark_scores(spark, path, model)
    finally:
        spark.conf.set("spark.sql.ansi.enabled", before)
    want = python_scores(path, model, tmp_path / "s.duckdb")
    assert want["knocked_out"].any() and want["is_mql"].any() and want["tier"].nunique() == 4
    assert_same_scores(got, want)


def test_hostile_backtest_and_scored_file(spark, hostile, tmp_path):
    from lead_model import load_leads
    from lead_model.engine.backtest import backtest
    from lead_model.engine.spark import spark_backtest, spark_score
    from lead_model.export.scored import write_scored

    path, model = hostile
    leads = load_leads(path, store=tmp_path / "s.duckdb", model=model)
    assert leads.summary.dropped_no_outcome > 0
    assert json.dumps(spark_backtest(path, model, spark=spark).summary()) == json.dumps(backtest(leads, model).summary())
    written = spark_score(path, model, tmp_path / "spark.csv", spark=spark)
    assert written.rows == 400
    write_scored(load_leads(path, store=tmp_path / "s.duckdb", model=model, require_outcome=False), model, tmp_path / "local.csv")
    with open(tmp_path / "local.csv", newline="", encoding="utf-8") as a, open(tmp_path / "spark.csv", newline="", encoding="utf-8") as b:
        want, got = list(csv.reader(a)), list(csv.reader(b))
    assert got[0] == ["id", JOB, AMOUNT, FLAG, DOTTED, "note; --", OUTCOME, *SCORES]
    assert [r[0] for r in got[1:]] == [f"H{i:04d}" for i in range(400)]
    assert any(r[2] == "'-" for r in got)  # a cell a spreadsheet would run is neutralised, as the local file does
    assert got == want


# ----- Parquet ----------------------------------------------------------------------------------
def test_parquet_in_and_out(spark, tmp_path):
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from lead_model import ScoringModel, load_leads
    from lead_model.engine.backtest import backtest
    from lead_model.engine.spark import spark_backtest, spark_score

    needs_sample()
    model = ScoringModel.from_file(SAMPLE_MODEL)
    typed = pacsv.read_csv(SAMPLE_CSV).slice(0, 20_000)  # Parquet keeps its types: integers, booleans, dates
    parquet = tmp_path / "leads.parquet"
    pq.write_table(typed, parquet, row_group_size=4_000)
    leads = load_leads(parquet, store=tmp_path / "s.duckdb", model=model)
    assert json.dumps(spark_backtest(parquet, model, spark=spark).summary()) == json.dumps(backtest(leads, model).summary())
    written = spark_score(parquet, model, tmp_path / "scored.parquet", spark=spark)
    assert written.rows == 20_000 and written.fmt == "parquet"
    got = pq.read_table(tmp_path / "scored.parquet").to_pandas()
    assert list(got.columns) == typed.column_names + SCORES
    assert list(got["lead_id"]) == typed.column("lead_id").to_pylist()  # input order
    assert_same_scores(got, python_scores(parquet, model, tmp_path / "s.duckdb"))


# ----- errors people read -------------------------------------------------------------------------
def test_a_model_column_the_data_lacks_is_one_sentence(spark, tmp_path):
    from lead_model import ScoringModel

    needs_sample()
    data = ScoringModel.from_file(SAMPLE_MODEL).to_dict()
    data["attributes"][0]["name"] = "job_levl"
    (tmp_path / "m.json").write_text(json.dumps(data))
    result = CliRunner().invoke(main, ["backtest", str(SAMPLE_CSV), "--model", str(tmp_path / "m.json"), "--engine", "spark"])
    assert result.exit_code == 1
    assert result.output.strip() == ("Error: the model names column 'job_levl' but the data has no such column (did you mean 'job_level'?); "
                                     "fix the model or use the right data.")


def test_without_pyspark_the_cli_says_how_to_install_it(monkeypatch, tmp_path):
    needs_sample()
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark now raises ImportError
    for args in (["backtest", str(SAMPLE_CSV)], ["score", str(SAMPLE_CSV), "-o", str(tmp_path / "o.csv")]):
        result = CliRunner().invoke(main, [*args, "--model", str(SAMPLE_MODEL), "--engine", "spark"])
        assert result.exit_code == 1
        assert result.output.strip() == "Error: --engine spark needs pyspark: pip install 'lead-model-studio[spark]'."


def test_without_java_the_cli_says_so(monkeypatch, tmp_path):
    from lead_model.engine import spark as engine

    needs_sample()
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-java"))
    monkeypatch.setattr(engine, "_active_session", lambda: None)  # as in a fresh process
    result = CliRunner().invoke(main, ["backtest", str(SAMPLE_CSV), "--model", str(SAMPLE_MODEL), "--engine", "spark"])
    assert result.exit_code == 1
    assert result.output.strip().startswith(f"Error: --engine spark needs Java 17 but JAVA_HOME={tmp_path / 'no-java'} has no bin/java;")
