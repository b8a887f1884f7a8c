"""Backtest a model on history: every metric from two score histograms (all leads, converted leads).

Knocked-out leads are never MQLs; in rankings (AUC, deciles) they sit below every score,
tied with each other. Ties in score are never broken by row order: AUC counts them as
half, and a decile boundary that cuts through a score splits its leads proportionally.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd

from lead_model.engine.intervals import wilson_interval
from lead_model.engine.metrics import roc_auc
from lead_model.data.leads import LeadSet
from lead_model.model.schema import Band, ScoringModel
from lead_model.engine.histograms import ScoreHistograms
from lead_model.engine.histograms import count_scores
from lead_model.engine.scoring import ScoringEngine


def score_histograms(leads: LeadSet, model: ScoringModel, engine: ScoringEngine | None = None) -> ScoreHistograms:
    """Score every lead and count them by score, incrementally from the last model the engine counted.

    Without a fitting ``engine`` the LeadSet's kept engine for the model's layout is used
    (``leads.engine(model)``), so a new model with the same layout does no set-up work.
    """
    engine = engine if engine is not None and engine.leads is leads and engine.matches(model) else leads.engine(model)
    return count_scores(engine, model)


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """How a model would have done on history.

    Counts are leads; rates, precision, recall, F1 and AUCs are fractions in [0, 1];
    lift is a ratio to the base conversion rate. DataFrames are tidy tables ready to show.
    """

    leads: int
    converted: int
    threshold: int
    mql: int
    mql_converted: int
    precision: float
    recall: float
    f1: float
    mql_rate: float
    lift_at_threshold: float
    conversion_mql: float
    conversion_rest: float
    auc: float
    pr_auc: float
    knocked_out: int
    knocked_out_converted: int
    histograms: ScoreHistograms
    grades: tuple[Band, ...]
    tiers: tuple[Band, ...]

    # The tables are built on first use: a slider move that redraws a few of them pays for those only.
    @cached_property
    def sweep(self) -> pd.DataFrame:
        """One row per integer threshold: threshold, mql, mql_rate, converted, precision, recall, f1, lift."""
        return _sweep(self.histograms)

    @cached_property
    def deciles(self) -> pd.DataFrame:
        """Decile 1 = the top 10% of leads by score: leads, converted, conversion_rate, lift, cumulative_*, score range."""
        return _deciles(self.histograms)

    @cached_property
    def by_grade(self) -> pd.DataFrame:
        """Leads, share and conversion (with a Wilson 95% interval) per fit grade."""
        h = self.histograms
        return _bands(h.fit_leads, h.fit_converted, h.fit_low, self.grades, "grade")

    @cached_property
    def by_tier(self) -> pd.DataFrame:
        """Leads, share and conversion (with a Wilson 95% interval) per tier; knocked-out leads last."""
        return _tiers(self.histograms, self.tiers)

    @cached_property
    def score_distribution(self) -> pd.DataFrame:
        """Leads, converted and not converted per total score (knocked-out leads left out)."""
        return _distribution(self.histograms)

    @property
    def base_rate(self) -> float:
        return self.converted / self.leads

    @property
    def confusion(self) -> pd.DataFrame:
        """2x2 counts: rows MQL / not MQL, columns converted / not converted."""
        tp, mql = self.mql_converted, self.mql
        fn = self.converted - tp
        tn = self.leads - mql - fn
        return pd.DataFrame(
            {"converted": [tp, fn], "not converted": [mql - tp, tn]}, index=pd.Index(["MQL", "not MQL"], name="")
        )

    @property
    def missed(self) -> int:
        """Converted leads that fell below the threshold (or were knocked out)."""
        return self.converted - self.mql_converted

    def at_threshold(self, threshold: int) -> BacktestResult:
        """The same backtest at another MQL threshold: no per-lead work."""
        moved = replace(self, **_threshold_metrics(self.histograms, int(threshold)))
        # the tables do not depend on the threshold
        moved.__dict__.update({k: v for k, v in self.__dict__.items() if k in _TABLES})
        return moved

    def summary(self) -> dict:
        """The headline numbers and tables as plain JSON-ready values (NaN becomes None)."""
        deciles = self.deciles[["decile", "leads", "converted", "conversion_rate", "lift", "cumulative_recall"]]
        return _json_ready(
            {
                "leads": self.leads,
                "converted": self.converted,
                "threshold": self.threshold,
                "mql": self.mql,
                "mql_rate": self.mql_rate,
                "precision": self.precision,
                "recall": self.recall,
                "f1": self.f1,
                "auc": self.auc,
                "pr_auc": self.pr_auc,
                "lift_at_threshold": self.lift_at_threshold,
                "conversion_mql": self.conversion_mql,
                "conversion_rest": self.conversion_rest,
                "knocked_out": self.knocked_out,
                "deciles": deciles.to_dict(orient="records"),
                "sweep": self.sweep[["threshold", "mql", "precision", "recall", "f1"]].to_dict(orient="records"),
                "by_grade": self.by_grade.to_dict(orient="records"),
                "by_tier": self.by_tier.to_dict(orient="records"),
            }
        )


_TABLES = ("sweep", "deciles", "by_grade", "by_tier", "score_distribution")


def backtest(leads: LeadSet, model: ScoringModel, engine: ScoringEngine | None = None) -> BacktestResult:
    """Backtest ``model`` on every lead of ``leads``: metrics at the model's threshold and at every threshold."""
    return backtest_histograms(score_histograms(leads, model, engine), model)


def backtest_histograms(h: ScoreHistograms, model: ScoringModel) -> BacktestResult:
    """All metrics from the histograms (a few array ops over scores, none over leads)."""
    n, p = h.n_leads, h.n_converted
    return BacktestResult(
        leads=n,
        converted=p,
        knocked_out=h.knocked_out,
        knocked_out_converted=h.knocked_out_converted,
        auc=_auc(h),
        pr_auc=_average_precision(h),
        histograms=h,
        grades=model.grades,
        tiers=model.tiers,
        **_threshold_metrics(h, model.mql_threshold),
    )


# ----- metrics -----------------------------------------------------------------------
def _safe_div(a: float, b: float) -> float:
    return a / b if b else math.nan


def _threshold_metrics(h: ScoreHistograms, threshold: int) -> dict:
    n, p = h.n_leads, h.n_converted
    start = max(threshold - h.low, 0)
    mql = int(h.leads[start:].sum())
    tp = int(h.converted[start:].sum())
    precision = _safe_div(tp, mql)
    recall = _safe_div(tp, p)
    return {
        "threshold": int(threshold),
        "mql": mql,
        "mql_converted": tp,
        "precision": precision,
        "recall": recall,
        "f1": _safe_div(2 * tp, mql + p),
        "mql_rate": _safe_div(mql, n),
        "lift_at_threshold": _safe_div(precision, p / n) if mql and p else math.nan,  # NaN, not a crash, for a period without conversions
        "conversion_mql": precision,
        "conversion_rest": _safe_div(p - tp, n - mql),
    }


def _levels_ascending(h: ScoreHistograms) -> tuple[np.ndarray, np.ndarray]:
    """Lead and converted counts per rank level, lowest first: the knocked-out bucket, then each score."""
    leads = np.concatenate(([h.knocked_out], h.leads)).astype(np.float64)
    conv = np.concatenate(([h.knocked_out_converted], h.converted)).astype(np.float64)
    return leads, conv


def _auc(h: ScoreHistograms) -> float:
    """ROC AUC: P(score of a converted lead > score of another), ties counted as half; knocked-out leads rank lowest."""
    return roc_auc(*_levels_ascending(h))


def _average_precision(h: ScoreHistograms) -> float:
    """PR AUC as average precision: sum over score levels (high to low) of recall gained x precision there."""
    leads, conv = _levels_ascending(h)
    keep = leads > 0
    leads, conv = leads[keep][::-1], conv[keep][::-1]
    p = conv.sum()
    if p == 0:
        return math.nan
    tp, mql = np.cumsum(conv), np.cumsum(leads)
    return float(np.dot(conv / p, tp / mql))


def _sweep(h: ScoreHistograms) -> pd.DataFrame:
    """One row per integer threshold from the lowest to the highest score any lead has."""
    nz = np.flatnonzero(h.leads)
    n, p = h.n_leads, h.n_converted
    if nz.size == 0:
        return pd.DataFrame(columns=["threshold", "mql", "mql_rate", "converted", "precision", "recall", "f1", "lift"])
    first, last = nz[0], nz[-1]
    mql = np.cumsum(h.leads[first : last + 1][::-1])[::-1]
    tp = np.cumsum(h.converted[first : last + 1][::-1])[::-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(mql > 0, tp / np.maximum(mql, 1), np.nan)
        recall = tp / p
        f1 = 2 * tp / (mql + p)
    return pd.DataFrame(
        {
            "threshold": np.arange(first, last + 1) + h.low,
            "mql": mql,
            "mql_rate": mql / n,
            "converted": tp,
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "lift": precision / (p / n),
        }
    )


def _deciles(h: ScoreHistograms) -> pd.DataFrame:
    """Deciles of leads by score, highest first; a boundary inside a tied score splits it proportionally."""
    leads, conv = _levels_ascending(h)
    scores = np.concatenate(([np.nan], np.arange(h.leads.size, dtype=np.float64) + h.low))
    leads, conv, scores = leads[::-1], conv[::-1], scores[::-1]
    n, p = int(leads.sum()), conv.sum()
    ends = np.concatenate(([0.0], np.cumsum(leads)))
    cum_conv = np.concatenate(([0.0], np.cumsum(conv)))
    bounds = (n * np.arange(11)) // 10
    conv_at = np.interp(bounds, ends, cum_conv)
    decile_leads = np.diff(bounds)
    decile_conv = np.diff(conv_at)
    # score of the first and last lead of each decile (position -> level)
    first_pos = bounds[:-1]
    last_pos = np.maximum(bounds[1:] - 1, first_pos)
    lvl_first = np.clip(np.searchsorted(ends, first_pos, side="right") - 1, 0, leads.size - 1)
    lvl_last = np.clip(np.searchsorted(ends, last_pos, side="right") - 1, 0, leads.size - 1)
    base = p / n
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = decile_conv / decile_leads
        cum_leads = bounds[1:]
        cum_c = conv_at[1:]
        out = pd.DataFrame(
            {
                "decile": np.arange(1, 11),
                "leads": decile_leads,
                "converted": decile_conv,
                "conversion_rate": rate,
                "lift": rate / base,
                "cumulative_leads": cum_leads,
                "cumulative_converted": cum_c,
                "cumulative_share": cum_leads / n,
                "cumulative_recall": cum_c / p,
                "cumulative_lift": (cum_c / cum_leads) / base,
                "max_score": np.where(decile_leads > 0, scores[lvl_first], np.nan),
                "min_score": np.where(decile_leads > 0, scores[lvl_last], np.nan),
            }
        )
    return out


def _band_table(names: list[str], mins: list[int | None], leads: np.ndarray, conv: np.ndarray, label: str) -> pd.DataFrame:
    low, high = wilson_interval(conv, leads)
    total = leads.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame(
            {
                label: names,
                "min_score": pd.array(mins, dtype="Int64"),
                "leads": leads.astype(np.int64),
                "share": leads / total,
                "converted": conv.astype(np.int64),
                "conversion_rate": conv / leads,
                "ci_low": low,
                "ci_high": high,
            }
        )


def _band_counts(leads: np.ndarray, conv: np.ndarray, low: int, bands: tuple[Band, ...]) -> tuple[np.ndarray, np.ndarray]:
    rev_leads = np.concatenate((np.cumsum(leads[::-1])[::-1], [0]))
    rev_conv = np.concatenate((np.cumsum(conv[::-1])[::-1], [0]))
    size = leads.size

    def at_least(score: int | None) -> tuple[int, int]:
        i = 0 if score is None else int(np.clip(score - low, 0, size))
        return int(rev_leads[i]), int(rev_conv[i])

    cum = [at_least(b.min_score) for b in bands]
    above = [(0, 0)] + cum[:-1]
    return (np.array([c[0] - a[0] for c, a in zip(cum, above)]), np.array([c[1] - a[1] for c, a in zip(cum, above)]))


def _bands(leads: np.ndarray, conv: np.ndarray, low: int, bands: tuple[Band, ...], label: str) -> pd.DataFrame:
    bl, bc = _band_counts(leads, conv, low, bands)
    return _band_table([b.name for b in bands], [b.min_score for b in bands], bl, bc, label)


def _tiers(h: ScoreHistograms, tiers: tuple[Band, ...]) -> pd.DataFrame:
    bl, bc = _band_counts(h.leads, h.converted, h.low, tiers)
    names, mins = [b.name for b in tiers], [b.min_score for b in tiers]
    if h.knocked_out:
        bl, bc = np.append(bl, h.knocked_out), np.append(bc, h.knocked_out_converted)
        names, mins = names + ["knocked out"], mins + [None]
    return _band_table(names, mins, bl, bc, "tier")


def _distribution(h: ScoreHistograms) -> pd.DataFrame:
    nz = np.flatnonzero(h.leads)
    if nz.size == 0:
        return pd.DataFrame(columns=["score", "leads", "converted", "not_converted"])
    sl = slice(nz[0], nz[-1] + 1)
    return pd.DataFrame(
        {
            "score": np.arange(nz[0], nz[-1] + 1) + h.low,
            "leads": h.leads[sl],
            "converted": h.converted[sl],
            "not_converted": h.leads[sl] - h.converted[sl],
        }
    )


def _json_ready(value):
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if value is pd.NA:
        return None
    return value
