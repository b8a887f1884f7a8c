"""Cohorts over time: how a model did on the leads of each quarter or month, and a time-shifted backtest.

Every per-period number is a ``BacktestResult`` (lead_model.engine.backtest) built from score
histograms counted per period: the leads are scored once, and one ``bincount`` over
(period, score) counts every period at once. So a period's precision, recall, MQL rate and
grade or tier conversion follow exactly the rules of the Designer's backtest (an MQL scores at
least the threshold and is not knocked out), and the periods add up to the whole backtest when
every lead has a created date.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lead_model.data.leads import LeadSet
from lead_model.engine.backtest import BacktestResult, backtest_histograms
from lead_model.engine.histograms import ScoreHistograms
from lead_model.engine.revenue import pipeline
from lead_model.engine.scoring import Scores
from lead_model.errors import LeadModelError
from lead_model.model.schema import ScoringModel
from lead_model.review.periods import Periods, periods as make_periods

COHORT_COLUMNS = [
    "period", "leads", "converted", "conversion", "mql", "mql_converted", "mql_rate", "precision", "recall",
    "mql_conversion", "rest_conversion", "auc", "knocked_out",
]
PIPELINE_COLUMNS = ["pipeline_captured", "pipeline_missed"]
BANDS = ("tier", "grade")


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def _resolve(leads: LeadSet, by: str, periods: Periods | None) -> Periods:
    if periods is None:
        return make_periods(leads, by)
    if periods.index.shape != (leads.n_leads,):
        raise LeadModelError("the periods were built from other leads; build them from the same LeadSet with review.periods(leads).")
    return periods


def histograms_by_group(scores: Scores, n_converted: int, group: np.ndarray, n_groups: int) -> list[ScoreHistograms]:
    """The ScoreHistograms of each group of leads (``group``: int per lead, 0..n_groups-1, -1 = in none).

    ``scores`` are the leads' scores (LeadSet order, converted first: the first ``n_converted``
    leads converted). Counted with one bincount over (group, score): no loop over leads, none
    over groups.
    """
    total, fit, ko = scores.total, scores.fit, scores.knocked_out
    empty = np.zeros(1, dtype=np.int64)
    if total.size == 0:
        return [ScoreHistograms(0, empty, empty, 0, 0, 0, empty, empty) for _ in range(n_groups)]
    group = group.astype(np.int64)
    placed = group >= 0
    t_low, f_low = int(total.min()), int(fit.min())
    t_size, f_size = int(total.max()) - t_low + 1, int(fit.max()) - f_low + 1
    live = placed & ~ko
    out_ko = placed & ko
    key = group * t_size + (total - t_low)
    fkey = group * f_size + (fit - f_low)
    c = slice(0, n_converted)

    def grid(keys: np.ndarray, mask: np.ndarray, size: int) -> np.ndarray:
        return np.bincount(keys[mask], minlength=n_groups * size).reshape(n_groups, size)

    leads_h, conv_h = grid(key, live, t_size), grid(key[c], live[c], t_size)
    fit_h, fit_conv_h = grid(fkey, placed, f_size), grid(fkey[c], placed[c], f_size)
    ko_all = np.bincount(group[out_ko], minlength=n_groups)
    ko_conv = np.bincount(group[c][out_ko[c]], minlength=n_groups)
    return [
        ScoreHistograms(t_low, leads_h[i], conv_h[i], int(ko_all[i]), int(ko_conv[i]), f_low, fit_h[i], fit_conv_h[i])
        for i in range(n_groups)
    ]


def merged(histograms: list[ScoreHistograms]) -> ScoreHistograms:
    """Histograms of several groups as one (the groups' leads together); all must share their bounds, as ``histograms_by_group`` gives them."""
    first = histograms[0]
    return ScoreHistograms(
        first.low, sum(h.leads for h in histograms), sum(h.converted for h in histograms),
        sum(h.knocked_out for h in histograms), sum(h.knocked_out_converted for h in histograms),
        first.fit_low, sum(h.fit_leads for h in histograms), sum(h.fit_converted for h in histograms),
    )


@dataclass(frozen=True, eq=False)
class PeriodBacktests:
    """One model backtested period by period: ``results[i]`` is the BacktestResult of ``periods.labels[i]``."""

    model: ScoringModel
    periods: Periods
    histograms: tuple[ScoreHistograms, ...]
    results: tuple[BacktestResult, ...]
    pipelines: tuple | None  # lead_model.engine.revenue.Pipeline per period, None without an amount column

    def result(self, label: str) -> BacktestResult:
        """The BacktestResult of one period (a label a person typed is validated)."""
        return self.results[self.periods.position(label)]

    def span(self, first: str | None, last: str | None) -> BacktestResult:
        """The backtest of the leads from period ``first`` to period ``last`` (inclusive; None = the data's first or last)."""
        lo = 0 if first is None else self.periods.position(first)
        hi = len(self.results) - 1 if last is None else self.periods.position(last)
        if lo > hi:
            raise LeadModelError(f"{self.periods.labels[lo]} comes after {self.periods.labels[hi]}; give the earlier period first.")
        return backtest_histograms(merged(list(self.histograms[lo : hi + 1])), self.model)

    def table(self) -> pd.DataFrame:
        """One row per period: see ``cohorts``."""
        rows = []
        for label, r in zip(self.periods.labels, self.results):
            rows.append({
                "period": label, "leads": r.leads, "converted": r.converted, "conversion": _ratio(r.converted, r.leads),
                "mql": r.mql, "mql_converted": r.mql_converted, "mql_rate": r.mql_rate, "precision": r.precision, "recall": r.recall,
                "mql_conversion": r.conversion_mql, "rest_conversion": r.conversion_rest, "auc": r.auc, "knocked_out": r.knocked_out,
            })
        out = pd.DataFrame(rows, columns=COHORT_COLUMNS)
        if self.pipelines is not None:
            out["pipeline_captured"] = [p.captured for p in self.pipelines]
            out["pipeline_missed"] = [p.missed for p in self.pipelines]
        out.attrs["undated"] = self.periods.undated
        return out

    def bands(self, band: str = "tier") -> pd.DataFrame:
        """One row per (period, band): see ``cohort_bands``."""
        if band not in BANDS:
            raise LeadModelError(f"band '{band}' is not 'tier' or 'grade'; pick one of them.")
        frames = []
        for label, r in zip(self.periods.labels, self.results):
            table = r.by_tier if band == "tier" else r.by_grade
            frames.append(pd.DataFrame({"period": label, "band": table[band].astype(str), "leads": table["leads"], "converted": table["converted"]}))
        names = [b.name for b in (self.model.tiers if band == "tier" else self.model.grades)]
        if band == "tier" and any(r.knocked_out for r in self.results):
            names.append("knocked out")  # every period gets the row, 0 where none was knocked out
        index = pd.MultiIndex.from_product([list(self.periods.labels), names], names=["period", "band"])
        out = pd.concat(frames).groupby(["period", "band"], sort=False)[["leads", "converted"]].sum().reindex(index, fill_value=0).reset_index()
        out["leads"] = out["leads"].astype(np.int64)
        out["converted"] = out["converted"].astype(np.int64)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["conversion"] = np.where(out["leads"] > 0, out["converted"] / out["leads"].clip(lower=1), np.nan)
        return out


def period_backtests(leads: LeadSet, model: ScoringModel, by: str = "quarter", periods: Periods | None = None, scores=None) -> PeriodBacktests:
    """Backtest ``model`` on the leads of each period (``by`` quarter or month; or the given ``periods``).

    The leads are scored once (``leads.engine(model).scores(model)``, or the ``scores`` a caller
    already has of them); each period's BacktestResult comes from its own score histograms. Leads
    without a created date are in no period (``periods.undated`` counts them).
    """
    p = _resolve(leads, by, periods)
    scores = scores if scores is not None else leads.engine(model).scores(model)
    hists = histograms_by_group(scores, leads.n_converted, p.index, len(p.labels))
    results = tuple(backtest_histograms(h, model) for h in hists)
    return PeriodBacktests(model, p, tuple(hists), results, _pipelines(leads, p, scores.is_mql(model.mql_threshold)))


class _Amounts:
    """The amounts of some leads, as ``revenue.pipeline`` reads them (it reads ``.amount`` only)."""

    def __init__(self, amount: np.ndarray):
        self.amount = amount


def _pipelines(leads: LeadSet, p: Periods, is_mql: np.ndarray) -> tuple | None:
    amount = getattr(leads, "amount", None)
    if amount is None:
        return None
    # leads grouped by period with one stable (radix) sort of the int16 index; each period is then a slice
    order = np.argsort(p.index, kind="stable")
    starts = np.searchsorted(p.index[order], np.arange(len(p.labels) + 1))
    amount, is_mql = amount[order], is_mql[order]
    return tuple(pipeline(_Amounts(amount[a:b]), is_mql[a:b]) for a, b in zip(starts[:-1], starts[1:]))


def cohorts(leads: LeadSet, model: ScoringModel, by: str = "quarter", periods: Periods | None = None) -> pd.DataFrame:
    """One row per period (time order, ``by`` quarter or month) of how ``model`` did on that period's leads.

    Columns: period ('2024-Q1' / '2024-01'), leads, converted (leads), conversion (converted /
    leads), mql (leads), mql_converted, mql_rate (MQLs / leads), precision (converted MQLs /
    MQLs), recall (converted MQLs / converted leads), mql_conversion (= precision),
    rest_conversion (converted non-MQLs / non-MQLs), auc, knocked_out (leads); with an amount
    column also pipeline_captured and pipeline_missed (the file's currency; see
    ``lead_model.engine.revenue``). Rates are fractions, NaN where the denominator is 0 (a
    period without leads, MQLs or conversions). ``DataFrame.attrs["undated"]`` counts the leads
    without a created date, which are in no row.
    """
    return period_backtests(leads, model, by, periods).table()


def cohort_bands(leads: LeadSet, model: ScoringModel, by: str = "quarter", band: str = "tier", periods: Periods | None = None) -> pd.DataFrame:
    """Conversion per tier or grade (``band``) and period: period, band, leads, converted, conversion.

    Bands in the model's order (highest first), every band in every period (0 leads where none);
    tiers end with 'knocked out' when any lead is knocked out. Grades describe the fit score,
    so they count knocked-out leads too, as the backtest's grade table does.
    """
    return period_backtests(leads, model, by, periods).bands(band)


# ----- the time-shifted backtest ------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ShiftedBacktest:
    """A model designed (or suggested) on the leads up to the end of period ``cutoff`` and judged on the leads after it.

    ``before`` is the BacktestResult on the leads created up to the end of ``cutoff`` (where the
    model was designed or fit), ``after`` on the leads created after it; leads without a
    created date are in neither (``undated``). ``suggestion`` is the Suggestion when
    ``suggested`` (its model is ``model``).
    """

    by: str
    cutoff: str
    first: str  # the first and last period of the data
    last: str
    model: ScoringModel
    suggested: bool
    before: BacktestResult
    after: BacktestResult
    undated: int
    suggestion: object | None = None

    def table(self) -> pd.DataFrame:
        """metric, before, after, delta: every headline KPI on the two parts (see ``compare.kpi_table``)."""
        from lead_model.review.compare import kpi_table

        return kpi_table(self.before, self.after)

    def sentence(self) -> str:
        """'Designed on 2024-Q1 to 2024-Q4 (22,831 leads): precision 31.0%, recall 42.0%; on 2025-Q1 to 2025-Q4 (27,169 leads): precision 33.1%, recall 40.2%.'"""
        from lead_model.formatting import count, pct

        how = "Suggested" if self.suggested else "Designed"
        nxt = _next_label(self)
        return (
            f"{how} on {self.first} to {self.cutoff} ({count(self.before.leads)}): precision {pct(self.before.precision)}, recall {pct(self.before.recall)}; "
            f"judged on {nxt} to {self.last} ({count(self.after.leads)}): precision {pct(self.after.precision)}, recall {pct(self.after.recall)}."
        )


def _next_label(s: ShiftedBacktest) -> str:
    from lead_model.review.periods import parse_period, period_label

    return period_label(parse_period(s.cutoff, s.by) + 1, s.by)


def time_shifted_backtest(
    leads: LeadSet, model: ScoringModel, cutoff: str, by: str = "quarter", suggest: bool = False, **suggest_options
) -> ShiftedBacktest:
    """Design (``model`` as given) or suggest (``suggest=True``: ``lead_model.suggest.fit.suggest`` fit
    on the leads created up to the end of period ``cutoff``, ``model`` as the current model) and
    judge the model on the leads created after ``cutoff``.

    ``suggest_options`` go to ``suggest`` (default ``holdout="none"``: the leads after the cutoff
    are the held-out part). One sentence (LeadModelError) when ``cutoff`` is malformed, outside
    the data or its last period.
    """
    p = make_periods(leads, by)
    pos = p.position(cutoff)
    label = p.labels[pos]
    if pos == len(p.labels) - 1:
        raise LeadModelError(f"{label} is the last {by} of the data, so no lead comes after it; pick an earlier cutoff (the data runs from {p.span[0]} to {p.span[1]}).")
    suggestion = None
    if suggest:
        from lead_model.suggest.fit import suggest as fit_suggestion

        train = (p.index >= 0) & (p.index <= pos)
        suggest_options.setdefault("holdout", "none")
        suggestion = fit_suggestion(leads.subset(train), model, **suggest_options)
        model = suggestion.model
    pb = period_backtests(leads, model, periods=p)
    return ShiftedBacktest(
        by, label, p.span[0], p.span[1], model, suggest,
        backtest_histograms(merged(list(pb.histograms[: pos + 1])), model),
        backtest_histograms(merged(list(pb.histograms[pos + 1 :])), model),
        p.undated, suggestion,
    )
