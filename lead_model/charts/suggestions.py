"""Charts for the Suggestions page: conversion rate by level with Wilson intervals, suggested against current points."""

from __future__ import annotations

import altair as alt
import pandas as pd

LEVEL_LABEL_LIMIT = 320  # pixels: level names such as 'Individual Contributor' in full (Vega cuts at 180 px by default)


def level_rate_chart(levels: pd.DataFrame, base_rate: float) -> alt.Chart:
    """Conversion rate per level of one attribute (a ``AttributeStats.level_table``), with its 95% Wilson
    interval as an error bar and the base rate as a dashed rule. Rates are shown as percentages."""
    data = levels[["level", "leads", "conversion_rate", "ci_low", "ci_high"]].copy()
    order = data["level"].tolist()
    y = alt.Y("level:N", sort=order, title=None, axis=alt.Axis(labelLimit=LEVEL_LABEL_LIMIT))
    bars = alt.Chart(data).mark_bar(opacity=0.7).encode(
        y=y, x=alt.X("conversion_rate:Q", title="conversion rate", axis=alt.Axis(format="%", tickCount=8)),
        tooltip=["level", alt.Tooltip("leads:Q", format=","), alt.Tooltip("conversion_rate:Q", format=".1%"),
                 alt.Tooltip("ci_low:Q", format=".1%", title="95% low"), alt.Tooltip("ci_high:Q", format=".1%", title="95% high")],
    )
    errors = alt.Chart(data).mark_errorbar(ticks=True).encode(y=y, x=alt.X("ci_low:Q", title="conversion rate"), x2="ci_high:Q")
    base = alt.Chart(pd.DataFrame({"base_rate": [base_rate]})).mark_rule(strokeDash=[4, 4], color="gray").encode(x="base_rate:Q")
    # explicit heights: the x axis takes ~50 px, each level gets a readable row
    return alt.layer(bars, errors, base).properties(height=60 + 30 * len(data))


def points_comparison_chart(table: pd.DataFrame, attribute: str) -> alt.Chart:
    """Suggested and current points per level of one attribute, side by side (a ``PointsSuggestion.table``).

    Levels no lead has (an empty 'other', a 'missing' that never occurs) are left out when the
    table has a ``leads`` column: their points only matter for future leads and the table shows them.
    """
    t = table[table["attribute"] == attribute]
    if "leads" in t:
        t = t[t["leads"] > 0]
    long = pd.concat([
        pd.DataFrame({"level": t["level"], "which": "suggested", "points": t["suggested_points"].astype(float)}),
        pd.DataFrame({"level": t["level"], "which": "current", "points": t["current_points"].astype(float)}),
    ]).dropna()
    return alt.Chart(long).mark_bar().encode(
        y=alt.Y("level:N", sort=t["level"].tolist(), title=None, axis=alt.Axis(labelLimit=LEVEL_LABEL_LIMIT)), x=alt.X("points:Q"), yOffset="which:N",
        color=alt.Color("which:N", title=None), tooltip=["level", "which", "points"],
    ).properties(height=50 + 40 * len(t))
