"""Time suggested points on synthetic leads: `python benchmarks/bench_suggest.py --rows 1000000` (bar: <= 10 s)."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synthetic import write_csv  # noqa: E402

from lead_model.attribute_stats import attribute_statistics  # noqa: E402
from lead_model.leads import load_leads  # noqa: E402
from lead_model.suggest import suggest, suggest_points  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--max-attributes", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "leads.csv"
        write_csv(args.rows, path)
        t = time.perf_counter()
        leads = load_leads(path, "converted", store=Path(tmp) / "store.duckdb")
        print(f"load {args.rows:,} leads x {len(leads.attributes)} attributes: {time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        stats = attribute_statistics(leads)
        print(f"attribute statistics: {time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        suggest_points(leads, stats=stats, max_attributes=args.max_attributes)
        print(f"suggest points (K={args.max_attributes}, statistics given): {time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        suggest_points(leads, max_attributes=len(leads.attributes))
        print(f"suggest points (all {len(leads.attributes)} attributes, statistics included): {time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        s = suggest(leads, max_attributes=args.max_attributes)
        print(f"suggest with holdout split, validation and thresholds: {time.perf_counter() - t:.2f} s "
              f"(holdout AUC {s.validation.holdout.auc:.3f})")


if __name__ == "__main__":
    main()
