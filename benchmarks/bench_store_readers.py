"""Time readers sharing the lead store: `python benchmarks/bench_store_readers.py` prints 6 parallel readers against the same 6 serialised.

Each reader is a process that opens the store ``--reads`` times and each time reads one dataset's
rows (``--rows`` synthetic leads, benchmarks/synthetic.py) into Arrow, as ``open_dataset`` does for a
backtest, then closes it; the second figure opens it ``--lists`` times for the list of datasets
(the store's own cost: open, a small query, close). Each figure starts ``--readers`` such
processes at once on one store:

- parallel: they read with ``LeadStore.connect(read_only=True)``, which shares the store;
- serial (the baseline, same run, same processes): they open it with ``LeadStore.connect()``, a
  writer's connection, so they take turns on the store as every operation did before readers
  shared it.

The processes start and import first; wall time runs from the moment all of them are told to go
to the last one done. Each read is mostly CPU (DuckDB's scan and the Arrow copy), so on a machine
of N cores the gain is bounded by about N: the store no longer is the bound, the cores are.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from lead_model.data.store import LeadStore  # noqa: E402
from synthetic import generate  # noqa: E402

READER = """
import sys
from lead_model.data.store import LeadStore, quote
store, mode, reads, what = LeadStore(sys.argv[1], lock_wait=600), sys.argv[2], int(sys.argv[3]), sys.argv[4]
table = store.info("leads").table
sql = f"SELECT * FROM {quote(table)} ORDER BY __row" if what == "rows" else "SELECT * FROM lead_datasets"
print("ready", flush=True)
sys.stdin.readline()  # every reader starts reading at the same moment
for _ in range(reads):
    con = store.connect(read_only=mode == "read")
    try:
        rows = con.sql(sql).to_arrow_table().num_rows
    finally:
        con.close()
print(rows)
"""


def wall(store: Path, mode: str, readers: int, reads: int, what: str, rows: int) -> float:
    """Seconds from telling ``readers`` reader processes to go at once to the last one done (``what``: rows or list)."""
    procs = [subprocess.Popen([sys.executable, "-c", READER, str(store), mode, str(reads), what], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, cwd=ROOT) for _ in range(readers)]
    for p in procs:
        if p.stdout.readline().strip() != "ready":
            raise SystemExit(f"a {mode} reader did not start")
    started = time.perf_counter()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    outs = [p.communicate()[0].strip() for p in procs]
    took = time.perf_counter() - started
    if any(p.returncode for p in procs) or outs != [str(rows)] * readers:
        raise SystemExit(f"a {mode} reader failed: {outs}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=6)
    parser.add_argument("--reads", type=int, default=3, help="store reads per reader process")
    parser.add_argument("--lists", type=int, default=20, help="store listings per reader process (the second figure)")
    parser.add_argument("--rows", type=int, default=100_000, help="leads in the dataset each read reads")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each figure (the best is shown)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "s.duckdb"
        table = generate(args.rows).table
        import pyarrow as pa

        LeadStore(store).ingest(table.append_column("__row", pa.array(range(table.num_rows), pa.int64())), "leads", "synthetic")
        for what, reads, rows, title in (("rows", args.reads, args.rows, f"reads of a dataset's {args.rows:,} leads"),
                                          ("list", args.lists, 1, "listings of the datasets (open, one small query, close)")):
            serial = parallel = float("inf")
            for _ in range(args.repeat):  # interleaved, so a busy moment of the machine hits both
                serial = min(serial, wall(store, "write", args.readers, reads, what, rows))
                parallel = min(parallel, wall(store, "read", args.readers, reads, what, rows))
            print(f"{args.readers} readers x {reads} {title}, started at once:")
            print(f"{args.readers} parallel readers: {parallel:.2f} s (serial {serial:.2f} s, {serial / parallel:.1f}x)")


if __name__ == "__main__":
    main()
