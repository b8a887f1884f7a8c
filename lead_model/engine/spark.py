"""Scoring and backtests on Apache Spark: the exported SQL runs where the leads are, the metrics come back as histograms.

``spark_score`` writes every lead's scores (the same columns as ``lead-model score``) and
``spark_backtest`` counts leads per (score, fit score, outcome, knock-out) on Spark, a few
hundred rows, and hands those counts to ``engine.backtest.backtest_histograms``: every metric
is computed by the local engine's own code, so the result is the local engine's. What scores a
lead is ``export.sql.model_sql`` (the model compiled for Spark SQL); which leads converted is the
loader's rule (``data.leads.outcome_values``). pyspark is imported here only (an optional extra).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np

from lead_model.data.store import ROW_COLUMN
from lead_model.errors import LeadModelError, did_you_mean

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from lead_model.engine.backtest import BacktestResult
    from lead_model.engine.histograms import ScoreHistograms
    from lead_model.model.schema import ScoringModel

SPARK_MASTER_ENV = "SPARK_MASTER"  # a cluster's master URL (spark://..., yarn, k8s://...); default local mode
LOCAL_MASTER = "local[2]"  # this is a 2-core design (see PERFORMANCE.md)
LOCAL_SHUFFLE_PARTITIONS = 4  # local mode: a GROUP BY of a few hundred score cells needs no 200 tasks
MEMORY_ENV = "LEAD_MODEL_SPARK_MEMORY"  # local mode's JVM heap (default 4g)
JAVA_OPTIONS_ENV = "LEAD_MODEL_SPARK_JAVA_OPTIONS"  # local mode's JVM options (default LOCAL_JAVA_OPTIONS)
# The model's SQL compiles to one generated method past HotSpot's 8,000-byte JIT limit: left
# interpreted it runs ~5x slower (1M leads: 30 s, compiled 6 s). On a cluster, add this flag to
# spark.executor.extraJavaOptions.
LOCAL_JAVA_OPTIONS = "-XX:-DontCompileHugeMethods"
INSTALL_HINT = "--engine spark needs pyspark: pip install 'lead-model-studio[spark]'."
SCORE_COLUMNS = ("score", "fit_score", "engagement_score", "grade", "tier", "knocked_out", "is_mql")  # as export.scored writes them
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_LOG4J = """rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n%ex
logger.gateway.name = org.apache.spark.api.python.PythonGatewayServer
logger.gateway.level = error
logger.submit.name = org.apache.spark.deploy.SparkSubmit
logger.submit.level = error
logger.repl.name = org.apache.spark.repl.Main
logger.repl.level = error
"""


# ----- the session ---------------------------------------------------------------------
def _pyspark():
    try:
        import pyspark
    except ImportError:
        raise LeadModelError(INSTALL_HINT) from None
    return pyspark


def java_problem() -> str | None:
    """Why this machine's Java cannot run the installed Spark (one sentence), or None when it can.

    Spark runs the Java at ``$JAVA_HOME`` (else ``java`` on PATH). Spark 4 needs Java 17 or
    later, Spark 3.5 Java 8, 11 or 17.
    """
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    fix = "install Java 17 (apt-get install openjdk-17-jre-headless, or make java) and set JAVA_HOME to it"
    if not java or not Path(java).is_file():
        where = f"JAVA_HOME={home} has no bin/java" if home else "no java is on PATH and JAVA_HOME is not set"
        return f"--engine spark needs Java 17 but {where}; {fix}."
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"--engine spark needs Java 17 but {java} does not run ({exc}); {fix}."
    found = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not found:
        return None  # an unusual build: let Spark try it
    major = int(found.group(1)) if found.group(1) != "1" else int(found.group(2) or 0)  # "1.8.0" is Java 8
    spark_major = int(_pyspark().__version__.split(".")[0])
    ok = major >= 17 if spark_major >= 4 else major in (8, 11, 17)
    if not ok:
        return f"--engine spark (Spark {_pyspark().__version__}) cannot run on Java {major} ({java}); {fix}."
    return None


def spark_session(master: str | None = None) -> SparkSession:
    """The SparkSession to run on: the active one if any, else a new one on ``master``.

    ``master`` defaults to ``$SPARK_MASTER``, else local mode on two cores (``local[2]``) with
    few shuffle partitions, no web UI and only errors logged.
    """
    _pyspark()
    from pyspark.sql import SparkSession

    active = _active_session()
    if active is not None:
        return active
    problem = java_problem()
    if problem:
        raise LeadModelError(problem)
    master = master or os.environ.get(SPARK_MASTER_ENV) or LOCAL_MASTER
    if "SPARK_CONF_DIR" not in os.environ:  # Spark's launcher puts this folder's log4j2.properties first: errors only
        conf = Path(tempfile.gettempdir()) / f"lead_model_spark_conf_{os.getuid()}"
        conf.mkdir(exist_ok=True)
        log4j = conf / "log4j2.properties"
        if not log4j.is_file() or log4j.read_text() != _LOG4J:
            log4j.write_text(_LOG4J)
        os.environ["SPARK_CONF_DIR"] = str(conf)
    builder = (
        SparkSession.builder.master(master).appName("lead-model")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    if master.startswith("local"):  # this machine: the driver is the only JVM
        builder = (
            builder.config("spark.sql.shuffle.partitions", str(LOCAL_SHUFFLE_PARTITIONS))
            .config("spark.driver.memory", os.environ.get(MEMORY_ENV, "4g"))
            .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.extraJavaOptions", os.environ.get(JAVA_OPTIONS_ENV, LOCAL_JAVA_OPTIONS))
        )
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start: say why in one sentence
        raise LeadModelError(f"Spark did not start on {master} ({_first_line(exc)}); check JAVA_HOME (Java 17) and the master URL.") from None
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _active_session() -> SparkSession | None:
    from pyspark.sql import SparkSession

    return SparkSession.getActiveSession()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].rstrip(".") if text else exc.__class__.__name__


# ----- reading -------------------------------------------------------------------------
def _is_remote(path: str) -> bool:
    return bool(_URI.match(path)) and not path.startswith("file://")


def _local(path: str) -> Path:
    return Path(path[len("file://"):] if path.startswith("file://") else path)


def _is_parquet_path(data: str) -> bool:
    from lead_model.data.sources import is_parquet

    if _is_remote(data):
        return not data.rstrip("/").lower().endswith((".csv", ".tsv", ".txt", ".csv.gz"))
    path = _local(data)
    if path.is_dir():  # a folder Spark wrote: Parquet part files, unless it holds CSV ones
        return not any(p.suffix.lower() in (".csv", ".tsv", ".txt") or p.name.endswith(".csv.gz") for p in path.iterdir())
    return is_parquet(path)


def read_leads(spark: SparkSession, data: str | Path) -> DataFrame:
    """DATA (a CSV or Parquet file or folder, local or any URI Spark reads) with each row's position in ``__row``.

    CSV is read with every column as text, as the local loader reads a file before it types it
    (delimiter, escape and encoding sniffed by the same rule, ``data.sources.csv_dialect``);
    Parquet keeps its types. ``__row`` rises in file order (not consecutive on many partitions).
    """
    from pyspark.sql import functions as F

    data = str(data)
    if not _is_remote(data):
        path = _local(data)
        if not path.exists():
            raise LeadModelError(f"file {path} does not exist; check the path.")
        if path.is_file() and path.stat().st_size == 0:
            raise LeadModelError(f"{path.name} is empty; export the leads again with a header row and data.")
        data = str(path.resolve())
    if _is_parquet_path(data):
        df = spark.read.parquet(data)
    else:
        df = spark.read.options(**_csv_options(data)).csv(data)
    if ROW_COLUMN in df.columns:
        raise LeadModelError(f"{data} has a column named '{ROW_COLUMN}', which scoring reserves; rename it.")
    return df.withColumn(ROW_COLUMN, F.monotonically_increasing_id())


def _csv_options(data: str) -> dict[str, str]:
    """Spark's CSV reader set to RFC 4180 and the file's sniffed delimiter, escape and encoding; every value text."""
    from lead_model.data.sources import csv_dialect, sniff_encoding

    options = {
        "header": "true", "inferSchema": "false", "multiLine": "true", "mode": "PERMISSIVE",
        "quote": '"', "escape": '"', "sep": ",", "encoding": "UTF-8",
    }
    path = _local(data)
    if not _is_remote(data) and path.is_file():
        encoding = sniff_encoding(path)
        found = csv_dialect(path, encoding)
        if found is not None:
            options["sep"], options["escape"] = found
        options["encoding"] = {"utf-8": "UTF-8", "utf-16": "UTF-16", "latin-1": "ISO-8859-1"}.get(encoding, encoding)
    return options


def _check_columns(df: DataFrame, model: ScoringModel) -> None:
    """The model's attributes and knock-outs must be columns of the data: one sentence, not a Spark analysis error."""
    columns = [c for c in df.columns if c != ROW_COLUMN]
    for name in [a.name for a in model.attributes] + [r.attribute for r in model.knockouts]:
        if name not in columns:
            raise LeadModelError(f"the model names column '{name}' but the data has no such column{did_you_mean(name, columns)}; fix the model or use the right data.")


# ----- scoring -------------------------------------------------------------------------
def scored_frame(spark: SparkSession, data: str | Path, model: ScoringModel) -> DataFrame:
    """DATA's rows with the exported SQL's columns added (``__row`` kept): nothing is computed until it is read."""
    from lead_model.export.sql import model_sql

    df = read_leads(spark, data)
    _check_columns(df, model)
    view = f"lead_model_leads_{uuid.uuid4().hex}"
    df.createOrReplaceTempView(view)
    try:
        return _spark_call(lambda: spark.sql(model_sql(model, dialect="spark", table=view)))
    finally:  # the SELECT is analysed: it holds the view's plan, the session need not keep the name
        spark.catalog.dropTempView(view)


def _spark_call(fn):
    """Run ``fn``; Spark's analysis and runtime errors become one LeadModelError sentence."""
    from pyspark.errors import PySparkException
    from py4j.protocol import Py4JJavaError

    try:
        return fn()
    except (PySparkException, Py4JJavaError) as exc:
        raise LeadModelError(f"Spark could not run the model's SQL ({_first_line(exc)}); check the data's columns and values.") from None


@dataclass(frozen=True)
class SparkScored:
    """What ``spark_score`` wrote: the file (or folder, for a URI) and how many rows."""

    path: str
    rows: int
    fmt: str


def spark_score(data_path: str | Path, model: ScoringModel, output: str | Path, fmt: str | None = None, *, raw: bool = False,
                spark: SparkSession | None = None, master: str | None = None) -> SparkScored:
    """Score DATA on Spark and write its rows in input order with score, fit_score, engagement_score, grade, tier, knocked_out, is_mql.

    ``fmt`` is "csv" or "parquet" (default: by ``output``'s suffix, ``.parquet``/``.pq`` for
    Parquet). A local ``output`` is one file, written only when complete; a URI (``s3://...``)
    is a folder of part files written by the cluster, in input order by part name. CSV text cells
    are neutralised for spreadsheets unless ``raw``, by ``export.scored``'s rule.
    """
    _pyspark()
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType

    from lead_model.export.scored import FORMULA_START, PLAIN_NUMBER, SCORED_TEXT

    fmt = (fmt or ("parquet" if str(output).lower().endswith((".parquet", ".pq")) else "csv")).lower()
    if fmt not in ("csv", "parquet"):
        raise LeadModelError(f"cannot write scored leads as '{fmt}'; choose csv or parquet.")
    spark = spark or spark_session(master)
    scored = scored_frame(spark, data_path, model)
    data_columns = [c for c in scored.columns if c != ROW_COLUMN and c not in SCORE_COLUMNS and not c.startswith("points_")]
    # The input's columns (as read), then the scores: the columns of the local `score` command.
    types = {f.name: f.dataType for f in scored.schema.fields}

    def cell(c: str):
        col = _col(c)
        if raw or fmt == "parquet" or not isinstance(types[c], StringType) or (c in SCORE_COLUMNS and c not in SCORED_TEXT):
            return col
        return F.when(col.rlike(FORMULA_START) & ~col.rlike(PLAIN_NUMBER), F.concat(F.lit("'"), col)).otherwise(col).alias(c)

    out = scored.select(*[cell(c) for c in data_columns], _col(ROW_COLUMN), *[cell(c) for c in SCORE_COLUMNS])
    if _is_remote(str(output)):
        target = str(output)
        writer = out.orderBy(ROW_COLUMN).drop(ROW_COLUMN).write.mode("overwrite")
        _spark_call(lambda: (writer.option("header", "true").option("escape", '"').csv(target) if fmt == "csv" else writer.parquet(target)))
        return SparkScored(target, int(_spark_call(lambda: spark.read.parquet(target).count() if fmt == "parquet" else out.count())), fmt)
    path = Path(output)
    if not path.parent.is_dir():
        raise LeadModelError(f"cannot write {path}: the folder {path.parent} does not exist; create it first or write somewhere else.")
    parts = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        # No shuffle: each task scores its split of the file into a Parquet part, and the parts
        # are put in input order (by __row) on this machine as they are joined into one file.
        _spark_call(lambda: out.write.mode("overwrite").parquet(str(parts / "parts")))
        rows = _join_parts(sorted((parts / "parts").glob("*.parquet")), path, fmt, data_columns)
    finally:
        shutil.rmtree(parts, ignore_errors=True)
    return SparkScored(str(path), rows, fmt)


def _join_parts(files: list[Path], out: Path, fmt: str, data_columns: list[str]) -> int:
    """Spark's Parquet parts as one CSV or Parquet file in __row order, written by DuckDB as the local `score` writes
    (``export.scored``: header, ',' and quotes where needed), to a temporary name first; returns the rows written."""
    import duckdb

    from lead_model.data.store import literal, quote

    names = data_columns + list(SCORE_COLUMNS)
    tmp = out.with_name(f".{out.name}.tmp")
    if not files:  # no rows: the header alone
        import csv

        with tmp.open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh, lineterminator="\n").writerow(names)
        os.replace(tmp, out)
        return 0
    con = duckdb.connect()
    try:
        con.execute(f"SET temp_directory = {literal(str(files[0].parent))}")
        parts = "[" + ", ".join(literal(str(f)) for f in files) + "]"
        options = "(FORMAT PARQUET)" if fmt == "parquet" else "(HEADER, DELIMITER ',')"
        sql = f"SELECT {', '.join(quote(c) for c in names)} FROM read_parquet({parts}) ORDER BY {ROW_COLUMN}"
        rows = con.execute(f"COPY ({sql}) TO {literal(str(tmp))} {options}").fetchone()[0]
    finally:
        con.close()
    os.replace(tmp, out)
    return int(rows)


# ----- backtests -----------------------------------------------------------------------
def _outcome_column(spark_df: DataFrame, model: ScoringModel, outcome: str | None) -> str:
    """The outcome column: given, else the model's, else guessed by the loader's rule from the columns' few values."""
    from lead_model.data.leads import profile_from_counts
    from lead_model.data.roles import _guess_outcome

    columns = [c for c in spark_df.columns if c != ROW_COLUMN]
    name = outcome or model.metadata.outcome
    if name is not None:
        if name not in columns:
            raise LeadModelError(f"the data has no column '{name}'{did_you_mean(name, columns)}; pass the outcome with --outcome.")
        return name
    # The loader guesses from every column's profile; columns with more than a few values can
    # never be the outcome, so only those are counted exactly.
    from pyspark.sql import functions as F

    approx = spark_df.agg(*[F.approx_count_distinct(_col(c), 0.01).alias(str(i)) for i, c in enumerate(columns)]).first()
    few = [c for i, c in enumerate(columns) if approx[str(i)] <= 64]
    profiles = {c: SimpleNamespace(n_distinct=approx[str(i)], lowered_values=set()) for i, c in enumerate(columns)}
    for c in few:
        values, counts = _value_counts(spark_df, c)
        profiles[c] = profile_from_counts(c, values, counts, model.semantics.missing_values)
    return _guess_outcome(profiles)


def _col(name: str):
    from pyspark.sql import functions as F

    return F.col(f"`{name.replace('`', '``')}`")


def _value_counts(df: DataFrame, column: str):
    """A column's distinct values (an Arrow array, nulls included) and how many rows hold each."""
    import pyarrow as pa

    rows = _spark_call(lambda: df.groupBy(_col(column).alias("v")).count().collect())
    return pa.array([r["v"] for r in rows]), np.array([r["count"] for r in rows], dtype=np.int64)


def spark_histograms(spark: SparkSession, data_path: str | Path, model: ScoringModel, outcome: str | None = None) -> ScoreHistograms:
    """The backtest's histograms, counted on Spark: leads and conversions per score, per fit score, knocked out.

    Rows with no outcome are left out and converted is decided as ``load_leads`` decides it.
    The histograms span the scores the local engine's span (every possible score of the
    model's points on this data), so the metrics read off them are the local engine's bit for bit.
    """
    import pyarrow as pa
    from pyspark.sql import functions as F

    from lead_model.data.leads import outcome_values
    from lead_model.engine.histograms import ScoreHistograms

    scored = scored_frame(spark, data_path, model)
    name = _outcome_column(scored, model, outcome)
    categorical = [a for a in model.attributes if a.kind == "categorical"]
    aggs = [F.count(F.lit(1)).alias("n")]
    for i, a in enumerate(categorical):  # the points the data's levels score: the engine's points vector spans them
        col = _col(f"points_{a.name}")
        aggs += [F.min(col).alias(f"lo{i}"), F.max(col).alias(f"hi{i}")]
    # One pass: the outcome's raw value is a grouping key (an outcome has few values), so
    # which value means converted is decided here, from the same counts, by the loader's rule.
    cells = _spark_call(lambda: scored.groupBy(
        F.col("score").alias("score"), F.col("fit_score").alias("fit"), F.col("knocked_out").alias("ko"), _col(name).alias("outcome"),
    ).agg(*aggs).collect())
    keys = {}
    for r in cells:
        keys.setdefault(_value_key(r["outcome"]), (len(keys), r["outcome"]))
    counts = np.zeros(len(keys), dtype=np.int64)
    which = [keys[_value_key(r["outcome"])][0] for r in cells]
    np.add.at(counts, which, [int(r["n"]) for r in cells])
    rule = outcome_values(name, pa.array([v for _, v in sorted(keys.values(), key=lambda iv: iv[0])]), counts, model.semantics.missing_values)
    seen = {a.name: (min(r[f"lo{i}"] for r in cells), max(r[f"hi{i}"] for r in cells)) for i, a in enumerate(categorical)}
    keep = [(r, bool(rule.converted[w])) for r, w in zip(cells, which) if rule.valid[w]]
    if any(r["score"] is None or r["fit"] is None for r, _ in keep):
        raise LeadModelError("some leads got no score on Spark (a yes/no attribute holds a value that is neither); make that attribute categorical.")
    low, high, fit_low, fit_high = _score_bounds(model, seen)
    leads = np.zeros(high - low + 1, dtype=np.int64)
    conv = np.zeros_like(leads)
    fit_leads = np.zeros(fit_high - fit_low + 1, dtype=np.int64)
    fit_conv = np.zeros_like(fit_leads)
    n_ko = n_ko_conv = 0
    for r, c in keep:
        n = int(r["n"])
        fit_leads[r["fit"] - fit_low] += n
        fit_conv[r["fit"] - fit_low] += n * c
        if r["ko"]:
            n_ko += n
            n_ko_conv += n * c
        else:
            leads[r["score"] - low] += n
            conv[r["score"] - low] += n * c
    n_all, n_conv = int(leads.sum()) + n_ko, int(conv.sum()) + n_ko_conv
    if n_conv == 0 or n_conv == n_all:
        raise LeadModelError(
            f"outcome '{name}' has no {'converted' if n_conv == 0 else 'unconverted'} leads, so nothing can be backtested; "
            "load history with both outcomes."
        )
    return ScoreHistograms(low, leads, conv, n_ko, n_ko_conv, fit_low, fit_leads, fit_conv)


def _value_key(value):
    """A dict key for one outcome value: NaN is one value (Spark groups NaN together; NaN != NaN in Python)."""
    return ("NaN",) if isinstance(value, float) and value != value else (type(value).__name__, value)


def _score_bounds(model: ScoringModel, seen: dict[str, tuple[int, int]]) -> tuple[int, int, int, int]:
    """(low, high) of the total and of the fit score as the local engine's histograms span them.

    The engine spans every entry of each attribute's points vector (``scoring.points_vector``):
    missing, other and every bin or yes/no value from the model; for a categorical attribute
    also the points of each level the data holds (``seen``: the lowest and highest on Spark).
    """
    from lead_model.data.leads import EncodedAttribute
    from lead_model.engine.scoring import points_vector

    bounds = {"fit": [0, 0], "engagement": [0, 0]}
    for a in model.attributes:
        levels = ("false", "true") if a.kind == "boolean" else ()
        stand_in = SimpleNamespace(attribute=lambda name, levels=levels: EncodedAttribute(name, a.kind, a.group, None, levels, None, 0))
        vec = [int(v) for v in points_vector(stand_in, a)] + list(seen.get(a.name, ()) if a.kind == "categorical" else ())
        bounds[a.group][0] += min(vec)
        bounds[a.group][1] += max(vec)

    def capped(lo: int, hi: int, cap: int | None) -> tuple[int, int]:
        return (lo, hi) if cap is None else (min(lo, cap), min(hi, cap))

    (flo, fhi), (elo, ehi) = capped(*bounds["fit"], model.caps.fit), capped(*bounds["engagement"], model.caps.engagement)
    low, high = capped(flo + elo, fhi + ehi, model.caps.total)
    return low, high, flo, fhi


def spark_backtest(data_path: str | Path, model: ScoringModel, *, outcome: str | None = None,
                   spark: SparkSession | None = None, master: str | None = None) -> BacktestResult:
    """Backtest ``model`` on DATA with Spark counting and the local engine computing: ``backtest``'s result exactly."""
    from lead_model.engine.backtest import backtest_histograms

    spark = spark or spark_session(master)
    return backtest_histograms(spark_histograms(spark, data_path, model, outcome), model)
