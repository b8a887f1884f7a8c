"""Time the SQL export: `python benchmarks/bench_sql.py --rows 1000000`.

Compiling the sample model (sample_data/sample_model.yaml) for each dialect, then scoring the
sample's generator leads (sample_data/generate_leads.py) two ways: the Python engine's
``score_leads`` on leads encoded in memory (encoding timed apart), and DuckDB running the
exported SQL over the same rows in an in-memory table (typed as the generator gives them, and
all VARCHAR), materialised into a table. The scores of both are checked equal.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from timing import best  # noqa: E402

import duckdb  # noqa: E402
import numpy as np  # noqa: E402

from lead_model.data.leads import leads_from_table  # noqa: E402
from lead_model.engine.scoring import score_leads  # noqa: E402
from lead_model.export.sql import DIALECTS, model_sql  # noqa: E402
from lead_model.model.schema import ScoringModel  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads (the machine's cores by default: 2)")
    args = parser.parse_args()
    model = ScoringModel.from_file(ROOT / "sample_data" / "sample_model.yaml")

    model_sql(model, "duckdb")  # sqlglot's first use imports its generator
    for dialect in DIALECTS:
        model_sql(model, dialect)  # each dialect's module is imported on first use
        compile_s = best(lambda: model_sql(model, dialect), repeat=5)
        print(f"compile {dialect:<9} {compile_s * 1000:7.1f} ms  ({len(model_sql(model, dialect)):,} characters)")

    spec = importlib.util.spec_from_file_location("generate_leads", ROOT / "sample_data" / "generate_leads.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    frame = gen.generate_leads(args.rows)
    t = time.perf_counter()
    leads = leads_from_table(frame, "converted", model=model)
    encode_s = time.perf_counter() - t
    t = time.perf_counter()
    python = score_leads(leads, model)
    first_s = time.perf_counter() - t
    python_s = best(lambda: score_leads(leads, model))
    print(f"{args.rows:,} leads")
    print(f"python  encode (leads_from_table)   {encode_s:7.3f} s")
    print(f"python  score_leads, first / warm   {first_s:7.3f} s / {python_s:.3f} s")

    con = duckdb.connect()
    con.execute(f"SET threads = {int(args.threads)}")
    con.register("frame", frame.assign(position=np.arange(len(frame))))  # SQL keeps no row order: compare by position
    con.execute("CREATE TABLE typed AS SELECT * FROM frame")
    con.execute("CREATE TABLE text AS SELECT position, " + ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' for c in frame.columns) + " FROM frame")
    expected = python.sort_values("row")["score"].to_numpy()
    for table in ("typed", "text"):
        for what, columns in (("every column", None), ("lead_id only", ["position", "lead_id"])):
            sql = model_sql(model, "duckdb", table=table, columns=columns)
            duck_s = best(lambda: con.execute(f"CREATE OR REPLACE TEMP TABLE scored AS {sql}"))
            scores = con.execute("SELECT score FROM scored ORDER BY position").fetchnumpy()["score"]
            same = scores.shape == expected.shape and bool(np.array_equal(scores, expected))
            print(f"duckdb  SQL on {table:<5}, {what:<12} ({args.threads} threads) {duck_s:7.3f} s  "
                  f"{duck_s / python_s:5.1f}x score_leads warm, {duck_s / (encode_s + first_s):4.2f}x encode + score; same scores: {same}")


if __name__ == "__main__":
    main()
