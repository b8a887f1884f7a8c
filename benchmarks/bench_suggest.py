"""Time suggested points on synthetic leads: `python benchmarks/bench_suggest.py --rows 1000000` (bar: <= 10 s for 1M leads x 18 attributes).

The bar is measured on ``suggest``, the whole suggestion a user waits for: the holdout split,
attribute statistics and binning on the training part, the points fit, the backtests of both
parts and the threshold rules. Loading the file is timed separately (it is not part of suggesting).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synthetic import write_csv  # noqa: E402

from lead_model.suggest.stats import attribute_statistics  # noqa: E402
from lead_model.data.leads import load_leads  # noqa: E402
from lead_model.suggest.fit import suggest, suggest_points  # noqa: E402

BAR_SECONDS = 10.0


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
        n_attrs = len(leads.attributes)
        print(f"load {args.rows:,} leads x {n_attrs} attributes: {time.perf_counter() - t:.2f} s (not part of the bar)")
        t = time.perf_counter()
        stats = attribute_statistics(leads)
        print(f"attribute statistics, all leads: {time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        suggest_points(leads, stats=stats, max_attributes=args.max_attributes)
        print(f"suggest points (K={args.max_attributes}, statistics given): {time.perf_counter() - t:.2f} s")
        timings = {}
        # the default; K of all attributes, weak ones too (the joint ranking fit runs); every attribute in the fit
        cases = (
            ("default", {"max_attributes": args.max_attributes}),
            (f"K={args.max_attributes} of all {n_attrs}", {"max_attributes": args.max_attributes, "min_iv": 0.0}),
            ("every attribute", {"max_attributes": n_attrs, "min_iv": 0.0}),
        )
        for label, options in cases:
            t = time.perf_counter()
            s = suggest(leads, **options)
            timings[label] = time.perf_counter() - t
            print(f"suggest, {label} ({len(s.points.chosen)} attributes used): split, statistics, fit, validation, thresholds: {timings[label]:.2f} s "
                  f"(train AUC {s.validation.train.auc:.3f}, holdout AUC {s.validation.holdout.auc:.3f}, {s.split.method} split)")
        worst = max(timings.values())
        verdict = "met" if worst <= BAR_SECONDS else "MISSED"
        print(f"bar: suggest on {args.rows:,} leads x {n_attrs} attributes takes {worst:.2f} s at most (<= {BAR_SECONDS:.0f} s): {verdict}")


if __name__ == "__main__":
    main()
