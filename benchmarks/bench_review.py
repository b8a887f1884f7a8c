"""Time the quarterly review on the sample's generator: `python benchmarks/bench_review.py --rows 1000000` (bar: < 1 s beyond scoring for 1M leads).

Leads come from sample_data/generate_leads.py (the sample's columns, drift and dates) encoded
in memory; scoring once (``engine.scores``) is timed apart, then periods, per-period backtests
(cohorts and bands), drift, the whole ``review`` and a ``compare`` of two models.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from timing import best  # noqa: E402

import pandas as pd  # noqa: E402

from lead_model.data.leads import leads_from_table  # noqa: E402
from lead_model.model.schema import ScoringModel  # noqa: E402
from lead_model.review import attribute_drift, compare, period_backtests, periods, review, score_drift  # noqa: E402

BAR_SECONDS = 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    spec = importlib.util.spec_from_file_location("generate_leads", ROOT / "sample_data" / "generate_leads.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    frame = gen.generate_leads(args.rows)
    frame["created_date"] = pd.to_datetime(frame["created_date"]).dt.date
    model = ScoringModel.from_file(ROOT / "sample_data" / "sample_model.yaml")
    leads = leads_from_table(frame, "converted", model=model, exclude=["opportunity_amount"])
    engine = leads.engine(model)
    scoring = best(lambda: engine.scores(model))
    print(f"{args.rows:,} leads; scoring once: {scoring * 1000:.0f} ms (not part of the bar)")
    for by in ("quarter", "month"):
        p = periods(leads, by)
        t_periods = best(lambda: periods(leads, by))
        t_backtests = best(lambda: period_backtests(leads, model, periods=p)) - scoring
        pb = period_backtests(leads, model, periods=p)
        t_tables = best(lambda: (pb.table(), pb.bands("tier"), pb.bands("grade")))
        print(f"by {by} ({len(p.labels)} periods): periods {t_periods * 1000:.0f} ms, per-period backtests {t_backtests * 1000:.0f} ms "
              f"beyond scoring, cohort and band tables {t_tables * 1000:.0f} ms")
    ref, rec = p.index == 0, p.index == len(p.labels) - 1
    print(f"attribute drift: {best(lambda: attribute_drift(leads, model, ref, rec)) * 1000:.0f} ms, "
          f"score drift: {best(lambda: score_drift(leads, model, ref, rec)) * 1000:.0f} ms")
    whole = best(lambda: review(leads, model))
    after = model.with_points("job_level", "Manager", 5).replace(mql_threshold=55)
    print(f"review (quarters, everything): {whole * 1000:.0f} ms; compare two models: {best(lambda: compare(leads, model, after)) * 1000:.0f} ms")
    verdict = "met" if whole - scoring < BAR_SECONDS else "MISSED"
    print(f"bar {BAR_SECONDS:.0f} s beyond scoring for the whole review: {verdict} ({whole - scoring:.2f} s)")


if __name__ == "__main__":
    main()
