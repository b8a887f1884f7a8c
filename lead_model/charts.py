"""Charts of a backtest for a room full of people: Altair charts built only from the small result tables.

Every chart comes in three parts:

- ``<chart>_data(...)`` shapes the result tables (deciles, sweep, score distribution,
  grade/tier bands; never per-lead rows) into small named DataFrames;
- ``<chart>_chart(...)`` returns an ``alt.Chart`` (or layer) holding that data, with
  tooltips on hover and fonts readable on a projector: use it anywhere Altair is welcome;
- ``<chart>_spec(...)`` returns the same chart as a Vega-Lite dict for
  ``st.vega_lite_chart``. Building and validating Altair objects costs 20-100 ms per chart,
  far too slow for every slider move, and only the data changes between moves; so the
  chart is compiled once per layout (with named data) and each move only swaps the
  datasets in.

Channels are typed objects (``alt.X("threshold", type="quantitative")``), never shorthand
strings (the shorthand parser costs ~12 ms per chart).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from functools import lru_cache

import altair as alt
import numpy as np
import pandas as pd

CURRENT = "current model"
BASELINE = "baseline"
RANDOM = "random"
CURRENT_COLOR = "#2563eb"
BASELINE_COLOR = "#f59e0b"
RANDOM_COLOR = "#9ca3af"
RECALL_COLOR = "#f97316"
CONVERTED_COLOR = "#16a34a"
NOT_CONVERTED_COLOR = "#9ca3af"
THRESHOLD_COLOR = "#dc2626"
MAX_SWEEP_POINTS = 300  # a line gains nothing from more points than it has pixels
MAX_SCORE_BARS = 60

Datasets = dict[str, pd.DataFrame]
_MODEL_SCALE = alt.Scale(domain=[CURRENT, BASELINE, RANDOM], range=[CURRENT_COLOR, BASELINE_COLOR, RANDOM_COLOR])


# ----- plumbing -----------------------------------------------------------------------
def _finish(chart: alt.TopLevelMixin, title: str, height: int) -> alt.TopLevelMixin:
    """Title, height and projector-sized fonts."""
    return (
        chart.properties(title=alt.Title(title, fontSize=20, anchor="start", offset=12), height=height)
        .configure_axis(labelFontSize=14, titleFontSize=14, titleFontWeight="normal", labelLimit=220)
        .configure_legend(labelFontSize=14, titleFontSize=14, orient="top", title=None, symbolSize=160)
        .configure_view(strokeWidth=0)
    )


def _named(names: tuple[str, ...]) -> dict[str, alt.NamedData]:
    return {n: alt.NamedData(name=n) for n in names}


@lru_cache(maxsize=64)
def _template(builder: Callable, names: tuple[str, ...], options: tuple) -> dict:
    """``builder`` compiled once with named data: the Vega-Lite dict every move reuses."""
    spec = builder(_named(names), **dict(options)).to_dict()
    view = spec.get("config", {}).get("view", {})
    view.pop("continuousWidth", None)  # Altair's default theme; the app stretches charts to their column
    view.pop("continuousHeight", None)
    return spec


def _spec(builder: Callable, data: Datasets, **options) -> dict:
    spec = copy.deepcopy(_template(builder, tuple(sorted(data)), tuple(sorted(options.items()))))
    spec["datasets"] = data
    return spec


def _thin(df: pd.DataFrame, max_rows: int) -> pd.DataFrame:
    """At most ``max_rows`` evenly spaced rows, always keeping the first and last."""
    if len(df) <= max_rows:
        return df
    idx = np.unique(np.linspace(0, len(df) - 1, max_rows).round().astype(int))
    return df.iloc[idx]


def _rule_data(threshold: int, label: str = "MQL threshold") -> pd.DataFrame:
    return pd.DataFrame({"threshold": [int(threshold)], "label": [f"{label} {int(threshold)}"]})


def _threshold_rule(data) -> alt.Chart:
    return (
        alt.Chart(data)
        .mark_rule(color=THRESHOLD_COLOR, strokeWidth=3)
        .encode(x=alt.X("threshold", type="quantitative"), tooltip=[alt.Tooltip("label", type="nominal", title="")])
    )


def _hline(data, color: str = RANDOM_COLOR) -> alt.Chart:
    """A dashed horizontal reference line from a one-row frame (value, label)."""
    return (
        alt.Chart(data)
        .mark_rule(strokeDash=[6, 4], color=color, strokeWidth=2)
        .encode(y=alt.Y("value", type="quantitative"), tooltip=[alt.Tooltip("label", type="nominal", title="")])
    )


# ----- lift by decile -----------------------------------------------------------------
_DECILE_COLS = ["decile", "leads", "converted", "conversion_rate", "lift", "max_score", "min_score"]


def lift_data(deciles: pd.DataFrame, baseline: pd.DataFrame | None = None) -> Datasets:
    data = {"current": deciles[_DECILE_COLS].assign(model=CURRENT), "one": pd.DataFrame({"value": [1.0], "label": ["random (1x)"]})}
    if baseline is not None:
        data["baseline"] = baseline[_DECILE_COLS].assign(model=BASELINE)
    return data


def _lift(data: dict, height: int = 300) -> alt.LayerChart:
    tooltip = [
        alt.Tooltip("model", type="nominal"),
        alt.Tooltip("decile", type="ordinal"),
        alt.Tooltip("lift", type="quantitative", format=".2f", title="lift (x)"),
        alt.Tooltip("conversion_rate", type="quantitative", format=".1%", title="conversion rate"),
        alt.Tooltip("leads", type="quantitative", format=",.0f"),
        alt.Tooltip("converted", type="quantitative", format=",.0f"),
        alt.Tooltip("max_score", type="quantitative", title="highest score"),
        alt.Tooltip("min_score", type="quantitative", title="lowest score"),
    ]
    x = alt.X("decile", type="ordinal", title="Decile of leads by score (1 = highest)", axis=alt.Axis(labelAngle=0))
    color = alt.Color("model", type="nominal", scale=_MODEL_SCALE)
    layers = [
        alt.Chart(data["current"]).mark_bar(opacity=0.9).encode(
            x=x, y=alt.Y("lift", type="quantitative", title="Lift (x average conversion)"), color=color, tooltip=tooltip
        )
    ]
    if "baseline" in data:
        layers.append(
            alt.Chart(data["baseline"]).mark_line(point=alt.OverlayMarkDef(size=90), strokeWidth=3).encode(
                x=x, y=alt.Y("lift", type="quantitative"), color=color, tooltip=tooltip
            )
        )
    layers.append(_hline(data["one"]))
    return _finish(alt.layer(*layers), "Lift by decile", height)


def lift_chart(deciles: pd.DataFrame, baseline: pd.DataFrame | None = None, height: int = 300) -> alt.LayerChart:
    """Lift per score decile (bars), the baseline model's lift as a line, 1x (random) as a dashed rule."""
    return _lift(lift_data(deciles, baseline), height=height)


def lift_spec(deciles: pd.DataFrame, baseline: pd.DataFrame | None = None, height: int = 300) -> dict:
    return _spec(_lift, lift_data(deciles, baseline), height=height)


# ----- cumulative gains ---------------------------------------------------------------
def _gains_rows(deciles: pd.DataFrame, model: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": model,
            "share": np.concatenate(([0.0], deciles["cumulative_share"].to_numpy(dtype=float))),
            "recall": np.concatenate(([0.0], deciles["cumulative_recall"].to_numpy(dtype=float))),
            "decile": np.arange(len(deciles) + 1),
        }
    )


def gains_data(deciles: pd.DataFrame, baseline: pd.DataFrame | None = None) -> Datasets:
    frames = [_gains_rows(deciles, CURRENT)]
    if baseline is not None:
        frames.append(_gains_rows(baseline, BASELINE))
    frames.append(pd.DataFrame({"model": RANDOM, "share": [0.0, 1.0], "recall": [0.0, 1.0], "decile": [0, 10]}))
    return {"gains": pd.concat(frames, ignore_index=True)}


def _gains(data: dict, height: int = 300) -> alt.Chart:
    chart = (
        alt.Chart(data["gains"])
        .mark_line(point=alt.OverlayMarkDef(size=60), strokeWidth=3)
        .encode(
            x=alt.X("share", type="quantitative", title="Share of leads worked (highest scores first)", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("recall", type="quantitative", title="Share of conversions captured", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("model", type="nominal", scale=_MODEL_SCALE),
            strokeDash=alt.StrokeDash("model", type="nominal", scale=alt.Scale(domain=[CURRENT, BASELINE, RANDOM], range=[[1, 0], [1, 0], [6, 4]]), legend=None),
            tooltip=[
                alt.Tooltip("model", type="nominal"),
                alt.Tooltip("decile", type="quantitative", title="top deciles"),
                alt.Tooltip("share", type="quantitative", format=".0%", title="leads worked"),
                alt.Tooltip("recall", type="quantitative", format=".1%", title="conversions captured"),
            ],
        )
    )
    return _finish(chart, "Cumulative gains", height)


def gains_chart(deciles: pd.DataFrame, baseline: pd.DataFrame | None = None, height: int = 300) -> alt.Chart:
    """Share of conversions captured vs share of leads worked (highest scores first), against random and the baseline."""
    return _gains(gains_data(deciles, baseline), height=height)


def gains_spec(deciles: pd.DataFrame, baseline: pd.DataFrame | None = None, height: int = 300) -> dict:
    return _spec(_gains, gains_data(deciles, baseline), height=height)


# ----- thresholds ---------------------------------------------------------------------
def threshold_data(sweep: pd.DataFrame, threshold: int) -> Datasets:
    sw = _thin(sweep[["threshold", "mql", "mql_rate", "precision", "recall", "f1", "lift"]], MAX_SWEEP_POINTS)
    long = pd.DataFrame(
        {
            "threshold": np.tile(sw["threshold"].to_numpy(), 2),
            "metric": np.repeat(["precision", "recall"], len(sw)),
            "value": np.concatenate((sw["precision"].to_numpy(dtype=float), sw["recall"].to_numpy(dtype=float))),
        }
    )
    return {"sweep": sw, "rates": long, "rule": _rule_data(threshold)}


def _threshold(data: dict, height: int = 300) -> alt.LayerChart:
    x = alt.X("threshold", type="quantitative", title="MQL threshold (score)")
    volume = (
        alt.Chart(data["sweep"])
        .mark_area(opacity=0.18, color=CURRENT_COLOR, interpolate="step-after")
        .encode(x=x, y=alt.Y("mql", type="quantitative", title="MQLs (shaded)", axis=alt.Axis(orient="right", format="~s")))
    )
    lines = (
        alt.Chart(data["rates"])
        .mark_line(strokeWidth=3)
        .encode(
            x=x,
            y=alt.Y("value", type="quantitative", title="Precision / recall", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("metric", type="nominal", scale=alt.Scale(domain=["precision", "recall"], range=[CURRENT_COLOR, RECALL_COLOR])),
        )
    )
    # invisible full-height rules: hovering anywhere shows that threshold's numbers
    hover = (
        alt.Chart(data["sweep"])
        .mark_rule(opacity=0.0, strokeWidth=6)
        .encode(
            x=x,
            tooltip=[
                alt.Tooltip("threshold", type="quantitative"),
                alt.Tooltip("mql", type="quantitative", format=",", title="MQLs"),
                alt.Tooltip("mql_rate", type="quantitative", format=".1%", title="share of leads"),
                alt.Tooltip("precision", type="quantitative", format=".1%"),
                alt.Tooltip("recall", type="quantitative", format=".1%"),
                alt.Tooltip("lift", type="quantitative", format=".2f", title="lift (x)"),
            ],
        )
    )
    chart = alt.layer(volume, lines, hover, _threshold_rule(data["rule"])).resolve_scale(y="independent")
    return _finish(chart, "Precision, recall and MQLs by threshold", height)


def threshold_chart(sweep: pd.DataFrame, threshold: int, height: int = 300) -> alt.LayerChart:
    """Precision and recall (left axis) and MQL volume (right axis, shaded) at every threshold; a red rule at the current one."""
    return _threshold(threshold_data(sweep, threshold), height=height)


def threshold_spec(sweep: pd.DataFrame, threshold: int, height: int = 300) -> dict:
    return _spec(_threshold, threshold_data(sweep, threshold), height=height)


# ----- score distribution -------------------------------------------------------------
def score_bin_width(low: int, high: int, max_bars: int = MAX_SCORE_BARS) -> int:
    """The smallest of 1, 2, 5, 10, 20, 25, 50, ... points that draws low..high in at most ``max_bars`` bars."""
    span = max(high - low + 1, 1)
    for magnitude in (1, 10, 100, 1000, 10000, 100000):
        for step in (1, 2, 5) if magnitude == 1 else (1, 2, 2.5, 5):
            width = int(step * magnitude)
            if math.ceil(span / width) + 1 <= max_bars:
                return width
    return int(math.ceil(span / max_bars)) + 1


def distribution_data(distribution: pd.DataFrame, threshold: int) -> Datasets:
    scores = distribution["score"].to_numpy(dtype=np.int64)
    if scores.size == 0:
        bars = pd.DataFrame({"start": [], "end": [], "outcome": [], "leads": [], "share": [], "range": []})
    else:
        width = score_bin_width(int(scores.min()), int(scores.max()))
        starts, inverse = np.unique(np.floor_divide(scores, width) * width, return_inverse=True)
        conv = np.bincount(inverse, weights=distribution["converted"].to_numpy(dtype=float))
        rest = np.bincount(inverse, weights=distribution["not_converted"].to_numpy(dtype=float))
        label = [str(s) if width == 1 else f"{s} to {s + width - 1}" for s in starts]
        bars = pd.DataFrame(
            {
                "start": np.tile(starts, 2),
                "end": np.tile(starts + width, 2),
                "outcome": np.repeat(["converted", "not converted"], len(starts)),
                "leads": np.concatenate((conv, rest)),
                "share": np.concatenate((conv / max(conv.sum(), 1), rest / max(rest.sum(), 1))),
                "range": label * 2,
            }
        )
    return {"bars": bars, "rule": _rule_data(threshold)}


def _distribution(data: dict, height: int = 300) -> alt.LayerChart:
    bars = (
        alt.Chart(data["bars"])
        .mark_bar(opacity=0.55, binSpacing=0)
        .encode(
            x=alt.X("start", type="quantitative", title="Score (knocked-out leads not shown)"),
            x2=alt.X2("end"),
            y=alt.Y("share", type="quantitative", stack=None, title="Share of the group's leads", axis=alt.Axis(format="%")),
            color=alt.Color("outcome", type="nominal", scale=alt.Scale(domain=["converted", "not converted"], range=[CONVERTED_COLOR, NOT_CONVERTED_COLOR])),
            tooltip=[
                alt.Tooltip("range", type="nominal", title="score"),
                alt.Tooltip("outcome", type="nominal"),
                alt.Tooltip("leads", type="quantitative", format=",.0f"),
                alt.Tooltip("share", type="quantitative", format=".1%", title="share of group"),
            ],
        )
    )
    return _finish(alt.layer(bars, _threshold_rule(data["rule"])), "Scores: converted vs not converted", height)


def distribution_chart(distribution: pd.DataFrame, threshold: int, height: int = 300) -> alt.LayerChart:
    """Score distribution of converted vs not-converted leads, each as a share of its own group, with the threshold."""
    return _distribution(distribution_data(distribution, threshold), height=height)


def distribution_spec(distribution: pd.DataFrame, threshold: int, height: int = 300) -> dict:
    return _spec(_distribution, distribution_data(distribution, threshold), height=height)


# ----- grades and tiers ---------------------------------------------------------------
def bands_data(table: pd.DataFrame, name_column: str, base_rate: float | None = None) -> Datasets:
    data = table[[name_column, "leads", "share", "converted", "conversion_rate", "ci_low", "ci_high"]].rename(columns={name_column: "band"})
    data = data.assign(label=[f"{b} ({s:.0%})" if s == s else str(b) for b, s in zip(data["band"], data["share"])])
    out = {"bands": data}
    if base_rate is not None:
        out["average"] = pd.DataFrame({"value": [base_rate], "label": [f"average {base_rate:.1%}"]})
    return out


def _bands(data: dict, title: str = "", name: str = "band", height: int = 280) -> alt.LayerChart:
    # the bands keep the table's order (highest first); nominal sort by the label's position
    x = alt.X("label", type="nominal", sort=None, title=None, axis=alt.Axis(labelAngle=0))
    tooltip = [
        alt.Tooltip("band", type="nominal", title=name),
        alt.Tooltip("leads", type="quantitative", format=","),
        alt.Tooltip("share", type="quantitative", format=".1%", title="share of leads"),
        alt.Tooltip("converted", type="quantitative", format=","),
        alt.Tooltip("conversion_rate", type="quantitative", format=".1%", title="conversion rate"),
        alt.Tooltip("ci_low", type="quantitative", format=".1%", title="95% low"),
        alt.Tooltip("ci_high", type="quantitative", format=".1%", title="95% high"),
    ]
    bars = alt.Chart(data["bands"]).mark_bar(color=CURRENT_COLOR, opacity=0.85).encode(
        x=x, y=alt.Y("conversion_rate", type="quantitative", title="Conversion rate", axis=alt.Axis(format="%")), tooltip=tooltip
    )
    errors = alt.Chart(data["bands"]).mark_rule(color="#111827", strokeWidth=2).encode(
        x=x, y=alt.Y("ci_low", type="quantitative"), y2=alt.Y2("ci_high"), tooltip=tooltip
    )
    layers = [bars, errors]
    if "average" in data:
        layers.append(_hline(data["average"]))
    return _finish(alt.layer(*layers), title, height)


def bands_chart(table: pd.DataFrame, name_column: str, title: str, base_rate: float | None = None, height: int = 280) -> alt.LayerChart:
    """Conversion rate per grade or tier (``BacktestResult.by_grade``/``by_tier``) with 95% interval error bars, in the table's order."""
    return _bands(bands_data(table, name_column, base_rate), title=title, name=name_column, height=height)


def bands_spec(table: pd.DataFrame, name_column: str, title: str, base_rate: float | None = None, height: int = 280) -> dict:
    return _spec(_bands, bands_data(table, name_column, base_rate), title=title, name=name_column, height=height)


# ----- words --------------------------------------------------------------------------
def confusion_sentence(result) -> str:
    """The confusion matrix of a ``BacktestResult`` in words: 'Of 1,240 MQLs, 310 converted (25.0%); 95 conversions were missed ...'."""
    mql, tp = result.mql, result.mql_converted
    rate = f" ({tp / mql:.1%})" if mql else ""
    below = result.missed - result.knocked_out_converted
    text = f"Of {mql:,} MQLs, {tp:,} converted{rate}; {below:,} conversion{'s were' if below != 1 else ' was'} missed below the threshold"
    if result.knocked_out:
        text += f", and {result.knocked_out_converted:,} of the {result.knocked_out:,} knocked-out leads converted"
    return text + "."
