"""Charts of a review: the model's rates period by period, one attribute's level shares then and now, two models' lift and gains.

Built from the review's small tables (one row per period or level), never from per-lead rows.
The overlaid lift and gains of a comparison are the backtest charts with the earlier model as
their baseline line (lead_model.charts.backtest: one home for those charts).
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from lead_model.charts.backtest import BASELINE_COLOR, CURRENT_COLOR, CONVERTED_COLOR, RECALL_COLOR, _finish, gains_chart, lift_chart

# (column of the cohorts table, legend name, colour)
TREND_LINES = (
    ("precision", "Precision", CURRENT_COLOR),
    ("recall", "Recall", RECALL_COLOR),
    ("mql_rate", "MQL rate", "#7c3aed"),
    ("conversion", "Conversion", CONVERTED_COLOR),
)


def cohort_trend_data(periods: pd.DataFrame) -> pd.DataFrame:
    """Long table: period, measure, value (a fraction; NaN rows dropped) for the cohort trend."""
    frames = [pd.DataFrame({"period": periods["period"], "measure": name, "value": periods[col]}) for col, name, _ in TREND_LINES if col in periods]
    return pd.concat(frames, ignore_index=True).dropna(subset=["value"])


def cohort_trend(periods: pd.DataFrame, height: int = 300) -> alt.Chart:
    """Precision, recall, MQL rate and conversion per period (``review.cohorts`` table): is the model decaying?"""
    data = cohort_trend_data(periods)
    names = [n for c, n, _ in TREND_LINES if c in periods]
    colors = [col for c, _, col in TREND_LINES if c in periods]
    order = list(periods["period"])
    chart = (
        alt.Chart(data)
        .mark_line(point=alt.OverlayMarkDef(size=70), strokeWidth=3)
        .encode(
            x=alt.X("period", type="ordinal", sort=order, title=None, axis=alt.Axis(labelAngle=0 if len(order) <= 12 else -45)),
            y=alt.Y("value", type="quantitative", title=None, axis=alt.Axis(format="%")),
            color=alt.Color("measure", type="nominal", scale=alt.Scale(domain=names, range=colors), sort=names),
            tooltip=[alt.Tooltip("period", type="ordinal", title="Period"), alt.Tooltip("measure", type="nominal", title="Measure"),
                     alt.Tooltip("value", type="quantitative", title="Value", format=".1%")],
        )
    )
    return _finish(chart, "The model period by period", height)


def drift_bars_data(levels: pd.DataFrame, reference: str, recent: str) -> pd.DataFrame:
    """Long table: level, period (the reference or recent label), share, for one attribute's ``AttributeDrift.table()``."""
    ref = pd.DataFrame({"level": levels["level"], "period": reference, "share": levels["reference_share"]})
    rec = pd.DataFrame({"level": levels["level"], "period": recent, "share": levels["recent_share"]})
    return pd.concat([ref, rec], ignore_index=True)


def drift_bars(levels: pd.DataFrame, reference: str, recent: str, height: int | None = None) -> alt.Chart:
    """Each level's share of leads in the reference and the recent period, side by side (horizontal bars, levels in the model's order)."""
    data = drift_bars_data(levels, reference, recent)
    order = list(dict.fromkeys(levels["level"]))
    height = height or max(160, 26 * 2 * len(order))
    chart = (
        alt.Chart(data)
        .mark_bar(clip=True)
        .encode(
            y=alt.Y("level", type="nominal", sort=order, title=None, axis=alt.Axis(labelLimit=320)),
            yOffset=alt.YOffset("period", type="nominal", sort=[reference, recent]),
            x=alt.X("share", type="quantitative", title="Share of leads", axis=alt.Axis(format="%")),
            color=alt.Color("period", type="nominal", scale=alt.Scale(domain=[reference, recent], range=[BASELINE_COLOR, CURRENT_COLOR])),
            tooltip=[alt.Tooltip("level", type="nominal", title="Level"), alt.Tooltip("period", type="nominal", title="Period"),
                     alt.Tooltip("share", type="quantitative", title="Share of leads", format=".1%")],
        )
    )
    return _finish(chart, "Share of leads per level", height)


def lift_overlay(comparison, height: int = 300):
    """Lift per decile of the later model (bars) with the earlier model's lift as a line (``review.compare`` result)."""
    return lift_chart(comparison.after_result.deciles, comparison.before_result.deciles, height=height)


def gains_overlay(comparison, height: int = 300):
    """Cumulative gains of both models of a comparison, the earlier one as the baseline line."""
    return gains_chart(comparison.after_result.deciles, comparison.before_result.deciles, height=height)
