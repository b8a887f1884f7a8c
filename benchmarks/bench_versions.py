"""Time model versions in the store: `python benchmarks/bench_versions.py` prints what a save, a list and a fingerprint cost.

Figures, each with a baseline measured in the same run:

- baseline: a bare ``duckdb.connect(file)`` + ``close()`` on the store (every store operation pays it);
- save: one ``VersionRegistry.save`` of the bundled sample model (no data: open, one transaction, close), median;
- list: ``VersionRegistry.list()`` with 400 versions in the store, median;
- fingerprint: ``table_fingerprint`` of 1,000,000 hostile leads (benchmarks/hostile.py) inside DuckDB, and
  ``LeadStore.fingerprint`` when the store already keeps it;
- contention: ``--procs`` processes x ``--saves`` saves at once on one store (wall time, from the first
  process started to the last one done, and per save), against one process making the same saves alone.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
import pyarrow as pa  # noqa: E402

from benchmarks.hostile import generate  # noqa: E402
from lead_model import ScoringModel, VersionRegistry  # noqa: E402
from lead_model.data.store import FINGERPRINT_KEY, LeadStore, table_fingerprint  # noqa: E402

SAVER = r"""
import json, sys
from lead_model.model.schema import ScoringModel
from lead_model.model.versions import VersionRegistry
store, base, k, n = sys.argv[1], ScoringModel.from_dict(json.loads(sys.argv[2])), int(sys.argv[3]), int(sys.argv[4])
registry = VersionRegistry(store)
for i in range(n):
    registry.save(base.replace(mql_threshold=(1000 * k + i) % 500), f"p{k} #{i}", author=f"process {k}")
"""


def ms(xs: list[float]) -> str:
    xs = sorted(xs)
    return f"median {statistics.median(xs) * 1000:.1f} ms, p90 {xs[int(len(xs) * 0.9)] * 1000:.1f} ms"


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def contention(store: Path, model: ScoringModel, procs: int, saves: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LEAD_MODEL_LOCK_WAIT": "300"}
    started = time.perf_counter()
    running = [subprocess.Popen([sys.executable, "-c", SAVER, str(store), json.dumps(model.to_dict()), str(k), str(saves)], env=env)
               for k in range(procs)]
    for p in running:
        if p.wait() != 0:
            raise SystemExit(f"a saver failed (exit {p.returncode})")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="leads to fingerprint")
    parser.add_argument("--procs", type=int, default=8)
    parser.add_argument("--saves", type=int, default=50, help="saves per process")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench_versions_"))
    model = ScoringModel.from_file(ROOT / "sample_data" / "sample_model.yaml")
    print(f"duckdb {duckdb.__version__}; model JSON {len(model.to_json()):,} bytes; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    store = folder / "versions.duckdb"
    registry = VersionRegistry(store)
    registry.save(model, "warm-up")
    print(f"baseline duckdb.connect + close: {ms(timed(lambda: duckdb.connect(str(store)).close(), 30))}")
    print(f"save (no data): {ms(timed(lambda: registry.save(model, 'bench'), 60))}")
    while len(registry.list()) < 400:
        registry.save(model, "filler")
    print(f"list with {len(registry.list())} versions: {ms(timed(registry.list, 20))}")
    print(f"get one of them: {ms(timed(lambda: registry.get(200), 20))}")

    table = generate(args.rows).table
    table = table.append_column("__row", pa.array(range(table.num_rows), type=pa.int64()))
    leads_store = LeadStore(folder / "leads.duckdb")
    staged = leads_store.stage(table)
    started = time.perf_counter()
    leads_store.publish(staged, "hostile", "hostile.py", table.num_rows)
    publish = time.perf_counter() - started
    con = leads_store.connect()
    try:
        fp = table_fingerprint(con, staged)
        scan = timed(lambda: table_fingerprint(con, staged), 5)
        con.execute("UPDATE lead_datasets SET settings = '{}' WHERE name = 'hostile'")
    finally:
        con.close()
    lazy = timed(lambda: leads_store.fingerprint("hostile"), 1)  # the first call takes it and keeps it
    assert FINGERPRINT_KEY in leads_store.info("hostile").settings
    kept = timed(lambda: leads_store.fingerprint("hostile"), 10)
    print(f"fingerprint of {fp.rows:,} rows x {table.num_columns} columns in DuckDB: {ms(scan)}; "
          f"first LeadStore.fingerprint (scan + remember) {lazy[0] * 1000:.0f} ms; kept: {ms(kept)}; publish with it {publish * 1000:.0f} ms")

    alone = contention(folder / "alone.duckdb", model, 1, args.procs * args.saves)
    together = contention(folder / "together.duckdb", model, args.procs, args.saves)
    total = args.procs * args.saves
    listed = len(VersionRegistry(folder / "together.duckdb").list())
    print(f"contention: {args.procs} processes x {args.saves} saves at once {together:.1f} s ({together / total * 1000:.0f} ms a save, "
          f"{listed} of {total} listed); one process making {total} saves alone {alone:.1f} s ({alone / total * 1000:.0f} ms a save)")


if __name__ == "__main__":
    main()
