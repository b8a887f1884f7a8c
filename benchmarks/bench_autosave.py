"""Time autosave on the bundled sample: `python benchmarks/bench_autosave.py` prints what one save costs.

Three figures, each the median (and 90th percentile) over ``--moves`` slider moves on a store
holding the 50,000-lead sample:

- hook: a points move's ``Workbench.set_points`` with the ``Autosaver`` hook, minus the same move
  without it (describing the change and queueing it: what a slider move waits for);
- write: one ``save_autosave`` (open the store, upsert the row in a transaction, close), as the
  background writer does it;
- burst: ``--moves`` moves queued at a user's fastest pace, then ``latest_autosave`` (the next
  session's read, which waits for queued writes): how long until a reload sees the last move.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lead_model import ScoringModel, load_leads  # noqa: E402
from lead_model.workbench.autosave import WRITER, Autosave, Autosaver, dataset_fingerprint, latest_autosave, now_iso, save_autosave  # noqa: E402
from lead_model.workbench.workshop import Workbench  # noqa: E402


def ms(xs: list[float]) -> str:
    xs = sorted(xs)
    return f"median {statistics.median(xs) * 1000:.2f} ms, p90 {xs[int(len(xs) * 0.9)] * 1000:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=40)
    args = parser.parse_args()
    store = Path(tempfile.mkdtemp(prefix="bench_autosave_")) / "lead_store.duckdb"
    leads = load_leads(ROOT / "sample_data" / "leads.csv", store=store)
    model = ScoringModel.from_file(ROOT / "sample_data" / "sample_model.yaml")
    print(f"model JSON {len(model.to_json()):,} bytes; store {store.stat().st_size / 1e6:.1f} MB")
    content = dataset_fingerprint(store, leads.name)  # autosaves are keyed by the dataset's content

    plain, hooked = Workbench(leads, model), Workbench(leads, model, on_change=Autosaver(store, leads.name, content))
    base = model.attribute("job_level").level_points()["VP"]
    t_plain, t_hook = [], []
    for i in range(args.moves):
        for bench, out in ((plain, t_plain), (hooked, t_hook)):
            started = time.perf_counter()
            bench.set_points("job_level", "VP", base + 1 + i)
            out.append(time.perf_counter() - started)
    WRITER.flush()
    print(f"hook (describe + queue): {ms([h - p for h, p in zip(t_hook, t_plain)])} on top of the edit ({ms(t_plain)})")

    writes = []
    for i in range(args.moves):
        s = Autosave(leads.name, content, model.replace(mql_threshold=i), model, now_iso(), i, "bench")
        started = time.perf_counter()
        save_autosave(store, s)
        writes.append(time.perf_counter() - started)
    print(f"write (open, upsert in a transaction, close): {ms(writes)}")

    before = WRITER.writes
    started = time.perf_counter()
    for i in range(args.moves):
        hooked.set_points("job_level", "VP", base - 1 - i)
    got = latest_autosave(store, leads.name, content)
    elapsed = time.perf_counter() - started
    assert got is not None and got.model == hooked.model, "the last move was not saved"
    print(f"burst: {args.moves} moves, {WRITER.writes - before} writes, last move readable after {elapsed * 1000:.0f} ms")


if __name__ == "__main__":
    main()
