"""Time shipping the model: reasons for 1M leads and the workshop report. `python benchmarks/bench_ship.py [--rows 1000000] [--files]`.

Reasons (lead_model.export.reasons.lead_reasons) run on the sample's generator encoded in
memory, against plain scoring in file order (``score_leads``) measured in the same run as the
baseline. With ``--files`` the end-to-end writes are timed too: the rows are loaded into a
temporary store and ``write_scored`` writes CSV and Parquet with and without reasons (the
``lead-model score [--reasons]`` work after loading). The report is timed on the bundled
sample: the first one in a process (vl-convert builds the Vega bundle) and the next ones.
Target: reasons for 1M leads well under a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from lead_model.data.leads import leads_from_table, load_leads  # noqa: E402
from lead_model.engine.scoring import score_leads  # noqa: E402
from lead_model.export.reasons import lead_reasons  # noqa: E402
from lead_model.model.schema import ScoringModel  # noqa: E402

BAR_SECONDS = 60.0


def timed(fn, repeat: int = 3) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def generated(rows: int) -> pd.DataFrame:
    spec = importlib.util.spec_from_file_location("generate_leads", ROOT / "sample_data" / "generate_leads.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return gen.generate_leads(rows)


def bench_reasons(frame: pd.DataFrame, model: ScoringModel) -> float:
    leads = leads_from_table(frame, "converted", model=model, exclude=["opportunity_amount"])
    engine = leads.engine(model)
    engine.scores(model)  # set-up (packed keys) is not part of either figure
    base, _ = timed(lambda: score_leads(leads, model, engine))
    took, table = timed(lambda: lead_reasons(leads, model, engine=engine))
    distinct = table["reasons"].cat.categories.size
    print(f"{leads.n_leads:,} leads: score_leads (baseline) {base:.2f} s; lead_reasons {took:.2f} s = {took / base:.1f}x the baseline "
          f"({distinct:,} distinct reason texts, {leads.n_leads / took / 1e6:.2f}M leads/s)")
    return took


def bench_files(frame: pd.DataFrame, model: ScoringModel) -> None:
    from lead_model.export.scored import write_scored

    with tempfile.TemporaryDirectory(prefix="bench-ship-") as tmp:
        folder = Path(tmp)
        frame.to_csv(folder / "leads.csv", index=False)
        t = time.perf_counter()
        leads = load_leads(folder / "leads.csv", "converted", store=folder / "s.duckdb", model=model)
        print(f"load {len(frame):,} rows into a store: {time.perf_counter() - t:.1f} s (not part of the figures below)")
        for suffix in ("csv", "parquet"):
            base, _ = timed(lambda: write_scored(leads, model, folder / f"plain.{suffix}"), repeat=1)
            took, _ = timed(lambda: write_scored(leads, model, folder / f"reasons.{suffix}", reasons=True), repeat=1)
            size = (folder / f"reasons.{suffix}").stat().st_size / 1e6
            print(f"write_scored {suffix}: plain {base:.1f} s, with reasons {took:.1f} s = {took / base:.1f}x ({size:.0f} MB)")


def bench_report(model: ScoringModel) -> None:
    from lead_model.export.report import workshop_report

    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        leads = load_leads(ROOT / "sample_data" / "leads.csv", "converted", store=Path(tmp) / "s.duckdb")
        t = time.perf_counter()
        page = workshop_report(leads, model)
        first = time.perf_counter() - t
        warm, _ = timed(lambda: workshop_report(leads, model))
        earlier = model.with_points("job_level", "VP", 30).replace(mql_threshold=55)
        compared, _ = timed(lambda: workshop_report(leads, model, previous=earlier))
        from lead_model.engine.backtest import backtest

        moves = iter(range(21, 100))  # new points each time, so the backtest counts every lead again (what `backtest --json` does)
        base, _ = timed(lambda: backtest(leads, model.with_points("job_level", "VP", next(moves))).summary())
    print(f"report on the sample ({leads.n_leads:,} leads, {len(page) / 1e6:.1f} MB): first in a process {first:.2f} s (Vega bundle built), "
          f"then {warm:.2f} s = {warm / base:.0f}x a backtest with its summary tables ({base * 1000:.0f} ms, the baseline), "
          f"with a comparison {compared:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--files", action="store_true", help="also load the rows into a store and time write_scored (CSV and Parquet)")
    args = parser.parse_args()
    model = ScoringModel.from_file(ROOT / "sample_data" / "sample_model.yaml")
    frame = generated(args.rows)
    took = bench_reasons(frame, model)
    print(f"bar: reasons for {args.rows:,} leads well under {BAR_SECONDS:.0f} s: {'met' if took < BAR_SECONDS / 4 else 'MISSED'} ({took:.1f} s)")
    if args.files:
        bench_files(frame, model)
    bench_report(model)


if __name__ == "__main__":
    main()
