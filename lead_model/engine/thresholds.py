"""Choosing an MQL threshold from a backtest's sweep: best F1, a target precision or recall, sales capacity."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lead_model.engine.backtest import BacktestResult


@dataclass(frozen=True)
class ThresholdChoice:
    """A suggested threshold, why, and what it does to volume and quality."""

    rule: str
    threshold: int | None
    mql: int
    mql_rate: float
    precision: float
    recall: float
    f1: float
    explanation: str


def _choice(result: BacktestResult, rule: str, threshold: int | None, explanation: str) -> ThresholdChoice:
    if threshold is None:
        return ThresholdChoice(rule, None, 0, math.nan, math.nan, math.nan, math.nan, explanation)
    r = result.at_threshold(threshold)
    return ThresholdChoice(rule, int(threshold), r.mql, r.mql_rate, r.precision, r.recall, r.f1, explanation)


def best_f1(result: BacktestResult) -> ThresholdChoice:
    """The threshold with the highest F1 (the highest such threshold on ties, for fewer MQLs)."""
    sw = result.sweep
    if sw.empty:
        return _choice(result, "max F1", None, "no lead has a score")
    f1 = sw["f1"].to_numpy()
    i = len(f1) - 1 - int(np.nanargmax(f1[::-1]))
    return _choice(result, "max F1", int(sw["threshold"].iat[i]), f"balances precision and recall best (F1 {f1[i]:.3f})")


def for_precision(result: BacktestResult, target: float) -> ThresholdChoice:
    """The lowest threshold whose MQLs convert at >= ``target`` (a fraction)."""
    sw = result.sweep
    ok = sw[(sw["precision"] >= target) & (sw["mql"] > 0)]
    if ok.empty:
        return _choice(result, f"precision >= {target:.0%}", None, f"no threshold reaches {target:.0%} precision")
    t = int(ok["threshold"].min())
    return _choice(result, f"precision >= {target:.0%}", t, f"the lowest threshold whose MQLs convert at {target:.0%} or more")


def for_recall(result: BacktestResult, target: float) -> ThresholdChoice:
    """The highest threshold that still catches >= ``target`` of converted leads."""
    sw = result.sweep
    ok = sw[sw["recall"] >= target]
    if ok.empty:
        return _choice(result, f"recall >= {target:.0%}", None, f"no threshold catches {target:.0%} of conversions (knock-outs miss some)")
    t = int(ok["threshold"].max())
    return _choice(result, f"recall >= {target:.0%}", t, f"the highest threshold that still catches {target:.0%} of conversions")


def for_capacity(result: BacktestResult, leads_per_period: float, periods: float = 1.0) -> ThresholdChoice:
    """The lowest threshold whose MQL volume fits sales capacity.

    ``leads_per_period`` is how many leads sales can work per period; ``periods`` is how many
    periods the history covers (e.g. months between the first and last created date).
    """
    capacity = leads_per_period * periods
    sw = result.sweep
    ok = sw[sw["mql"] <= capacity]
    if ok.empty:
        return _choice(result, "capacity", None, "even the highest score gives more MQLs than sales can work")
    t = int(ok["threshold"].min())
    per = f"{leads_per_period:,.0f} leads per period"
    return _choice(result, "capacity", t, f"the lowest threshold whose MQL volume fits {per}")


def for_converted_share(result: BacktestResult, share: float) -> ThresholdChoice:
    """The score that ``share`` of past converted leads reached (e.g. 0.8 = 80% of them scored at least this)."""
    choice = for_recall(result, share)
    return ThresholdChoice(
        f"{share:.0%} of converted reached", choice.threshold, choice.mql, choice.mql_rate, choice.precision, choice.recall, choice.f1,
        f"{share:.0%} of past converted leads scored at least this" if choice.threshold is not None else choice.explanation,
    )


def months_covered(created: np.ndarray | None) -> float | None:
    """How many months of history a created-date array spans (at least 1), or None without dates.

    The one definition of "months of history": the days from the first to the last created
    date, both counted, over the mean month length (30.4375 days).
    """
    if created is None:
        return None
    valid = created[~np.isnat(created)]
    if valid.size == 0:
        return None
    days = (valid.max() - valid.min()).astype("timedelta64[D]").astype(float) + 1
    return max(days / 30.4375, 1.0)


def threshold_table(choices: list[ThresholdChoice]) -> pd.DataFrame:
    """The choices as a table to show."""
    return pd.DataFrame([c.__dict__ for c in choices])
