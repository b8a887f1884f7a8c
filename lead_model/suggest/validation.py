"""Honest validation: split leads into a training and a held-out part, and compare a model on both."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lead_model.formatting import signed
from lead_model.engine.backtest import BacktestResult, backtest
from lead_model.errors import LeadModelError
from lead_model.data.leads import LeadSet
from lead_model.model.schema import ScoringModel

AUC_GAP_WARNING = 0.05
BASE_RATE_DRIFT = 0.25  # warn when the held-out base rate differs from training by more than this share of it
METHODS = ("auto", "time", "random", "none")


@dataclass(frozen=True, eq=False)
class HoldoutSplit:
    """Which leads train a suggestion and which are held out to report on it (bool masks per lead)."""

    method: str  # time, random or none
    train: np.ndarray
    holdout: np.ndarray
    description: str

    @property
    def n_train(self) -> int:
        return int(self.train.sum())

    @property
    def n_holdout(self) -> int:
        return int(self.holdout.sum())


def subset(leads: LeadSet, mask: np.ndarray) -> LeadSet:
    """The leads where ``mask`` is true, as a LeadSet (still converted first: a subsequence keeps the order)."""
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (leads.n_leads,):
        raise LeadModelError(f"the lead mask has {mask.size:,} entries but the data has {leads.n_leads:,} leads; build it from the same LeadSet.")
    attrs = {}
    for name, enc in leads.attributes.items():
        codes = enc.codes[mask] if enc.codes is not None else None
        values = enc.values[mask] if enc.values is not None else None
        n_missing = int(np.isnan(values).sum()) if values is not None else int((codes == 0).sum())
        attrs[name] = dataclasses.replace(enc, codes=codes, values=values, n_missing=n_missing)
    converted = leads.converted[mask]
    summary = dataclasses.replace(leads.summary, leads=int(mask.sum()), converted=int(converted.sum()))
    return dataclasses.replace(
        leads, converted=converted, row_index=leads.row_index[mask], attributes=attrs, summary=summary,
        created=leads.created[mask] if leads.created is not None else None, _bin_cache={},
    )


def split_leads(leads: LeadSet, method: str = "auto", share: float = 0.25, seed: int = 0) -> HoldoutSplit:
    """Split ``leads`` for validation.

    time: leads created in the newest ~``share`` of the date range, cut at a quarter start,
    are held out (leads with no date train). random: a seeded split stratified by outcome,
    ``share`` of converted and of unconverted leads held out. none: everything trains and
    nothing is held out. auto: time when the data has a created date, else random.
    """
    if method not in METHODS:
        raise LeadModelError(f"holdout '{method}' is not one of {', '.join(METHODS)}; pick one of them.")
    if not 0 < share < 1:
        raise LeadModelError(f"the holdout share must be between 0 and 1, not {share}; use e.g. 0.25.")
    n = leads.n_leads
    if method == "none":
        return HoldoutSplit("none", np.ones(n, bool), np.zeros(n, bool), "no holdout: fit and reported on all leads (numbers are optimistic)")
    if method in ("auto", "time") and leads.created is not None:
        split = _time_split(leads, share)
        if split is not None:
            return split
        if method == "time":
            raise LeadModelError("the created dates do not span enough time to hold out the newest leads; use --holdout random.")
    elif method == "time":
        raise LeadModelError("the data has no created-date column, so it cannot be split by time; use --holdout random.")
    return _random_split(leads, share, seed)


def _time_split(leads: LeadSet, share: float) -> HoldoutSplit | None:
    created = leads.created
    valid = ~np.isnat(created)
    if valid.sum() < 2:
        return None
    lo, hi = created[valid].min(), created[valid].max()
    span = (hi - lo).astype(int)
    target = lo + np.timedelta64(int(round(span * (1 - share))), "D")
    months = target.astype("datetime64[M]").astype(int)
    q_start = (months // 3) * 3
    candidates = [np.datetime64(int(q_start), "M").astype("datetime64[D]"), np.datetime64(int(q_start + 3), "M").astype("datetime64[D]")]
    cut = min(candidates, key=lambda d: abs((d - target).astype(int)))
    if not lo < cut <= hi:
        cut = target  # less than a quarter of history: cut at the date itself
        if not lo < cut <= hi:
            return None
    holdout = valid & (created >= cut)
    train = ~holdout
    if not _both_outcomes(leads, train) or not _both_outcomes(leads, holdout):
        return None
    cut_s = str(cut)
    return HoldoutSplit("time", train, holdout, f"by time: leads created before {cut_s} train, leads from {cut_s} to {hi} are held out")


def _random_split(leads: LeadSet, share: float, seed: int) -> HoldoutSplit:
    rng = np.random.default_rng(seed)
    holdout = np.zeros(leads.n_leads, dtype=bool)
    npos = leads.n_converted
    for start, stop in ((0, npos), (npos, leads.n_leads)):
        size = stop - start
        take = int(round(size * share))
        holdout[start + rng.choice(size, take, replace=False)] = True
    train = ~holdout
    if not _both_outcomes(leads, train) or not _both_outcomes(leads, holdout):
        raise LeadModelError("too few converted leads to hold some out; load more history or use --holdout none.")
    return HoldoutSplit("random", train, holdout, f"random: {share:.0%} of leads held out, stratified by outcome (seed {seed})")


def _both_outcomes(leads: LeadSet, mask: np.ndarray) -> bool:
    k = int(mask[: leads.n_converted].sum())
    return 0 < k < int(mask.sum())


@dataclass(frozen=True, eq=False)
class Validation:
    """A model's metrics on the training and held-out leads, side by side, with warnings in words."""

    table: pd.DataFrame  # metric, train, holdout, gap
    warnings: tuple[str, ...]
    train: BacktestResult
    holdout: BacktestResult | None

    def display_table(self) -> pd.DataFrame:
        """The table as text people read: leads with separators, rates in %, AUC and lift to 3 decimals,
        the gap (holdout - train) in percentage points for rates; 'n/a' where nothing was held out."""

        def fmt(metric: str, x: float, gap: bool = False) -> str:
            if x != x:
                return "n/a"
            if metric == "leads":
                return "" if gap else f"{x:,.0f}"
            if metric in ("ROC AUC", "lift at threshold"):
                return (signed(x, "+.3f") or "+0.000") if gap else f"{x:.3f}"
            return (signed(x, "+.1f", " pts", 100) or "+0.0 pts") if gap else f"{x:.1%}"

        return pd.DataFrame({
            "metric": self.table["metric"],
            "train": [fmt(m, x) for m, x in zip(self.table["metric"], self.table["train"])],
            "holdout": [fmt(m, x) for m, x in zip(self.table["metric"], self.table["holdout"])],
            "gap": [fmt(m, x, gap=True) for m, x in zip(self.table["metric"], self.table["gap"])],
        })


def validate(model: ScoringModel, train: LeadSet, holdout: LeadSet | None) -> Validation:
    """Backtest ``model`` on both parts; warn when the holdout AUC trails training by > 0.05 (overfitting),
    when holdout precision falls below 3/4 of training, or when the base rates differ by > 25%."""
    r_train = backtest(train, model)
    r_hold = backtest(holdout, model) if holdout is not None and holdout.n_leads else None
    rows = []
    for metric, get in (
        ("leads", lambda r: r.leads), ("base rate", lambda r: r.base_rate), ("ROC AUC", lambda r: r.auc),
        ("MQL share", lambda r: r.mql_rate), ("precision", lambda r: r.precision), ("recall", lambda r: r.recall),
        ("lift at threshold", lambda r: r.lift_at_threshold),
    ):
        a = float(get(r_train))
        b = float(get(r_hold)) if r_hold is not None else math.nan
        rows.append({"metric": metric, "train": a, "holdout": b, "gap": b - a})
    table = pd.DataFrame(rows)
    warnings = []
    if r_hold is not None:
        gap = r_train.auc - r_hold.auc
        if gap > AUC_GAP_WARNING:
            warnings.append(f"holdout AUC {r_hold.auc:.3f} is {gap:.3f} below training ({r_train.auc:.3f}): the points overfit the training leads; use fewer attributes.")
        if r_train.precision > 0 and r_hold.precision < 0.75 * r_train.precision:
            warnings.append(f"holdout precision {r_hold.precision:.1%} is well below training ({r_train.precision:.1%}): newer leads convert differently; recheck the threshold.")
        if r_train.base_rate > 0 and abs(r_hold.base_rate / r_train.base_rate - 1) > BASE_RATE_DRIFT:
            warnings.append(f"held-out leads convert at {r_hold.base_rate:.1%} against {r_train.base_rate:.1%} in training: the lead mix or the market moved, so expect MQL volume and precision to move too.")
    else:
        warnings.append("nothing was held out, so these numbers are measured on the leads the points were fit on and are optimistic.")
    return Validation(table, tuple(warnings), r_train, r_hold)
