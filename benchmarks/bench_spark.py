"""Benchmark: rows per second of `score` and `backtest` on the local engine and on Spark local mode, CSV and Parquet.

    python benchmarks/bench_spark.py --rows 1000000
    python benchmarks/bench_spark.py --rows 1000000 --rows 10000000

Leads come from sample_data/generate_leads.py (the sample's generator), written once per size
as CSV and Parquet under /tmp/lead_model_bench_spark (never into the repository) and reused.
Each figure is one command's work as the CLI does it, in this process: the local engine loads
the file (DuckDB read, encoding, the store write) and scores or backtests it; Spark runs the
model's exported SQL over the file (``lead_model.engine.spark``) in one session, started and
warmed up on the sample once (both printed apart: a `lead-model ... --engine spark` run pays them). Scored
output goes to a file of the input's format. The two engines' backtests are checked equal.
Prints figures and the local/Spark ratios of this run only.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA_DIR = Path(tempfile.gettempdir()) / "lead_model_bench_spark"
CHUNK = 1_000_000  # generated and written a million leads at a time (memory stays flat at 10M)


def _generator():
    spec = importlib.util.spec_from_file_location("generate_leads", ROOT / "sample_data" / "generate_leads.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return gen


def bench_files(rows: int) -> tuple[Path, Path]:
    """leads_<rows>.parquet and .csv under DATA_DIR, written once: the sample's columns, a seed per million leads.

    The CSV is written by DuckDB from the Parquet file (quotes only where needed, as an export
    would); personal_email is true/false text in both, as the generator's own CSV has it.
    """
    import duckdb
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from lead_model.data.store import literal

    DATA_DIR.mkdir(exist_ok=True)
    csv_path, parquet_path = DATA_DIR / f"leads_{rows}.csv", DATA_DIR / f"leads_{rows}.parquet"
    if csv_path.is_file() and parquet_path.is_file():
        return csv_path, parquet_path
    gen = _generator()
    t = time.perf_counter()
    csv_tmp, pq_tmp = DATA_DIR / f".leads_{rows}.csv.tmp", DATA_DIR / f".leads_{rows}.parquet.tmp"
    writer = None
    try:
        for start in range(0, rows, CHUNK):
            frame = gen.generate_leads(min(CHUNK, rows - start), seed=gen.DEFAULT_SEED + start // CHUNK)
            frame["personal_email"] = np.where(frame["personal_email"], "true", "false")
            table = pa.Table.from_pandas(frame, preserve_index=False)
            writer = writer or pq.ParquetWriter(pq_tmp, table.schema)
            writer.write_table(table, row_group_size=250_000)
    finally:
        if writer is not None:
            writer.close()
    con = duckdb.connect()
    try:
        con.execute(f"COPY (SELECT * FROM read_parquet({literal(str(pq_tmp))})) TO {literal(str(csv_tmp))} (HEADER, DELIMITER ',')")
    finally:
        con.close()
    os.replace(csv_tmp, csv_path)
    os.replace(pq_tmp, parquet_path)
    print(f"  wrote {rows:,} leads to {csv_path} ({csv_path.stat().st_size / 1e6:,.0f} MB) and .parquet "
          f"({parquet_path.stat().st_size / 1e6:,.0f} MB) in {time.perf_counter() - t:.0f} s", flush=True)
    return csv_path, parquet_path


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def local_backtest(path: Path, model, work: Path):
    from lead_model import load_leads
    from lead_model.engine.backtest import backtest

    leads = load_leads(path, store=work / f"bt_{path.suffix[1:]}.duckdb", model=model)
    return backtest(leads, model)


def local_score(path: Path, model, work: Path) -> None:
    from lead_model import load_leads
    from lead_model.export.scored import write_scored

    leads = load_leads(path, store=work / f"sc_{path.suffix[1:]}.duckdb", model=model, require_outcome=False)
    write_scored(leads, model, work / f"local_scored{path.suffix}")


def rate(rows: int, seconds: float) -> str:
    return f"{seconds:7.1f} s {rows / seconds / 1000:8,.0f}k rows/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="leads per run (repeatable; default 1,000,000)")
    parser.add_argument("--skip-local", action="store_true", help="Spark only (the local engine's figures are not measured)")
    args = parser.parse_args()
    sizes = args.rows or [1_000_000]
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")

    from lead_model import ScoringModel
    from lead_model.engine.spark import JAVA_OPTIONS_ENV, LOCAL_JAVA_OPTIONS, spark_backtest, spark_score, spark_session

    model = ScoringModel.from_file(ROOT / "sample_data" / "sample_model.yaml")
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}; model: sample_model.yaml "
          f"({len(model.attributes)} attributes); Spark local[2], JVM options {os.environ.get(JAVA_OPTIONS_ENV, LOCAL_JAVA_OPTIONS)!r}")
    start, spark = timed(spark_session)
    warm, _ = timed(lambda: spark_backtest(ROOT / "sample_data" / "leads.csv", model, spark=spark))
    print(f"Spark {spark.version}: session start {start:.1f} s, then the first backtest (the 50,000-lead sample) {warm:.1f} s "
          "while the JVM warms up: a fixed cost each `--engine spark` command pays")
    for rows in sizes:
        csv_path, parquet_path = bench_files(rows)
        work = Path(tempfile.mkdtemp(prefix="bench_spark_", dir=DATA_DIR))
        try:
            figures: dict[tuple[str, str, str], float] = {}
            for fmt, path in (("CSV", csv_path), ("Parquet", parquet_path)):
                if not args.skip_local:
                    figures[("backtest", fmt, "local")], local_result = timed(lambda: local_backtest(path, model, work))
                    figures[("score", fmt, "local")], _ = timed(lambda: local_score(path, model, work))
                figures[("backtest", fmt, "spark")], spark_result = timed(lambda: spark_backtest(path, model, spark=spark))
                figures[("score", fmt, "spark")], _ = timed(lambda: spark_score(path, model, work / f"spark_scored{path.suffix}", spark=spark))
                if not args.skip_local:
                    same = json.dumps(local_result.summary()) == json.dumps(spark_result.summary())
                    print(f"  {rows:,} leads, {fmt}: the two backtests are {'identical' if same else 'DIFFERENT'}", flush=True)
                    if not same:
                        raise SystemExit("the Spark backtest differs from the local one")
            print(f"\n{rows:,} leads ({csv_path.stat().st_size / 1e6:,.0f} MB CSV, {parquet_path.stat().st_size / 1e6:,.0f} MB Parquet)")
            for command in ("backtest", "score"):
                for fmt in ("CSV", "Parquet"):
                    s = figures[(command, fmt, "spark")]
                    line = f"  {command:8} {fmt:7}  spark {rate(rows, s)}"
                    if not args.skip_local:
                        lo = figures[(command, fmt, "local")]
                        line = f"  {command:8} {fmt:7}  local {rate(rows, lo)}   spark {rate(rows, s)}   local is {s / lo:4.1f}x faster"
                    print(line, flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    spark.stop()


if __name__ == "__main__":
    main()
