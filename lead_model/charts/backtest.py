"""Charts of a backtest for a room full of people: Altair charts built only from the small result tables.

Every chart comes in three parts:

- ``<chart>_data(...)`` shapes the result tables (deciles, sweep, score distribution,
  grade/tier bands; never per-lead rows) into small named tables (column name -> values);
- ``<chart>_chart(...)`` returns an ``alt.Chart`` (or layer) holding that data, with
  tooltips on hover and fonts readable on a projector: use it anywhere Altair is welcome;
- ``<chart>_spec(...)`` returns the same chart as a Vega-Lite dict for
  ``st.vega_lite_chart``. Building and validating Altair objects costs 20-100 ms per chart,
  far too slow for every slider move, and only the data changes between moves; so the
  chart is compiled once per layout (with named data) and each move only swaps in the
  datasets, as Arrow tables built straight from the result columns. An unchanged spec
  also lets the browser update the drawn chart's data instead of drawing a new chart.

Channels are typed objects (``alt.X("threshold", type="quantitative")``), never shorthand
strings (the shorthand parser costs ~12 ms per chart).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa

from lead_model.formatting import count, pct

CURRENT = "current"
BASELINE = "baseline"
RANDOM = "random"
SOLID = "solid"
DASHED = "dashed"
CURRENT_COLOR = "#2563eb"
BASELINE_COLOR = "#f59e0b"
RANDOM_COLOR = "#9ca3af"
RECALL_COLOR = "#f97316"
CONVERTED_COLOR = "#16a34a"
NOT_CONVERTED_COLOR = "#9ca3af"
THRESHOLD_COLOR = "#dc2626"
MAX_SWEEP_POINTS = 300  # a line gains nothing from more points than it has pixels
MAX_HOVER_RULES = 80  # invisible rules that carry the threshold chart's tooltips
MAX_SCORE_BARS = 60
BAND_LABEL_ROW = 32  # pixels between a grade/tier chart's title and plot: the row of conversion rates

Columns = dict[str, "np.ndarray | list"]
Datasets = dict[str, Columns]
_MODEL_SCALE = alt.Scale(domain=[CURRENT, BASELINE, RANDOM], range=[CURRENT_COLOR, BASELINE_COLOR, RANDOM_COLOR])
_MODEL_LEGEND = alt.Legend(orient="top", values=[CURRENT, BASELINE])  # random is the dashed line, named in its tooltip


# ----- plumbing -----------------------------------------------------------------------
def _finish(chart: alt.TopLevelMixin, title: str, height: int, title_offset: int = 12) -> alt.TopLevelMixin:
    """Title, height, projector-sized fonts, and the canvas renderer.

    ``title_offset``: pixels between the title and the plot (room for a row of labels above it).

    Canvas, not SVG: on every move the browser redraws six charts, and an SVG redraw
    rewrites hundreds of DOM nodes (Streamlit reads the renderer from usermeta.embedOptions).
    """
    return (
        chart.properties(
            title=alt.Title(title, fontSize=20, anchor="start", offset=title_offset), height=height, usermeta={"embedOptions": {"renderer": "canvas"}}
        )
        .configure_axis(labelFontSize=15, titleFontSize=15, titleFontWeight="normal", labelLimit=220)
        .configure_legend(labelFontSize=15, titleFontSize=15, orient="top", title=None, symbolSize=140, columnPadding=8)
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


def _arrow(columns: Columns) -> pa.Table:
    return pa.table({k: v if isinstance(v, np.ndarray) else pa.array(v) for k, v in columns.items()})


def _spec(builder: Callable, data: Datasets, **options) -> dict:
    # Only the datasets change between moves, so the frontend keeps the chart and swaps
    # its data instead of embedding a new chart. Streamlit copies the top level only.
    template = _template(builder, tuple(sorted(data)), tuple(sorted(options.items())))
    return {**template, "datasets": {name: _arrow(cols) for name, cols in data.items()}}


def _chart(builder: Callable, data: Datasets, **options):
    return builder({name: pd.DataFrame(cols) for name, cols in data.items()}, **options)


def _col(df: pd.DataFrame, name: str) -> np.ndarray:
    return df[name].to_numpy()


def _thin_index(n: int, max_rows: int) -> np.ndarray | slice:
    """At most ``max_rows`` evenly spaced positions out of ``n``, always keeping the first and last."""
    if n <= max_rows:
        return slice(None)
    return np.unique(np.linspace(0, n - 1, max_rows).round().astype(int))


def _rule_data(threshold: int, label: str = "MQL threshold") -> Columns:
    return {"threshold": [int(threshold)], "label": [f"{label} {int(threshold)}"]}


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


def _decile_columns(deciles: pd.DataFrame, model: str) -> Columns:
    cols: Columns = {c: _col(deciles, c) for c in _DECILE_COLS}
    cols["model"] = [model] * len(deciles)
    return cols


def lift_data(deciles: pd.DataFrame, baseline: pd.DataFrame | None = None) -> Datasets:
    data = {"current": _decile_columns(deciles, CURRENT), "one": {"value": [1.0], "label": ["random (1x)"]}}
    if baseline is not None:
        data["baseline"] = _decile_columns(baseline, BASELINE)
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
    x = alt.X("decile", type="ordinal", title="Decile (1 = top scores)", axis=alt.Axis(labelAngle=0))
    color = alt.Color("model", type="nominal", scale=_MODEL_SCALE, legend=_MODEL_LEGEND)
    layers = [
        alt.Chart(data["current"]).mark_bar(opacity=0.9, clip=True).encode(
            x=x, y=alt.Y("lift", type="quantitative", title="Lift (x average)"), color=color, tooltip=tooltip
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
    return _chart(_lift, lift_data(deciles, baseline), height=height)


def lift_spec(deciles: pd.DataFrame, baseline: pd.DataFrame | None = None, height: int = 300) -> dict:
    return _spec(_lift, lift_data(deciles, baseline), height=height)


# ----- cumulative gains ---------------------------------------------------------------
def gains_data(deciles: pd.DataFrame, baseline: pd.DataFrame | None = None) -> Datasets:
    # random first and the current model last, so the current line is drawn on top
    models, shares, recalls, steps = [RANDOM, RANDOM], [0.0, 1.0], [0.0, 1.0], [0, 10]
    for table, name in ((baseline, BASELINE), (deciles, CURRENT)):
        if table is None:
            continue
        models += [name] * (len(table) + 1)
        shares += [0.0, *_col(table, "cumulative_share").tolist()]
        recalls += [0.0, *_col(table, "cumulative_recall").tolist()]
        steps += list(range(len(table) + 1))
    lines = [DASHED if m == RANDOM else SOLID for m in models]
    return {"gains": {"model": models, "line": lines, "share": shares, "recall": recalls, "decile": steps}}


def _gains(data: dict, height: int = 300) -> alt.Chart:
    chart = (
        alt.Chart(data["gains"])
        .mark_line(point=alt.OverlayMarkDef(size=60), strokeWidth=3)
        .encode(
            x=alt.X("share", type="quantitative", title="Leads worked (top first)", axis=alt.Axis(format="~%"), scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("recall", type="quantitative", title="Conversions captured", axis=alt.Axis(format="~%"), scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("model", type="nominal", scale=_MODEL_SCALE, legend=_MODEL_LEGEND),
            # dashes from a field of their own: a second channel on "model" with legend=None would
            # share the colour legend, and Vega warns of a conflicting "disable" on every draw
            strokeDash=alt.StrokeDash("line", type="nominal", scale=alt.Scale(domain=[SOLID, DASHED], range=[[1, 0], [6, 4]]), legend=None),
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
    return _chart(_gains, gains_data(deciles, baseline), height=height)


def gains_spec(deciles: pd.DataFrame, baseline: pd.DataFrame | None = None, height: int = 300) -> dict:
    return _spec(_gains, gains_data(deciles, baseline), height=height)


# ----- thresholds ---------------------------------------------------------------------
def threshold_data(sweep: pd.DataFrame, threshold: int) -> Datasets:
    keep = _thin_index(len(sweep), MAX_SWEEP_POINTS)
    sw = {c: _col(sweep, c)[keep] for c in ("threshold", "mql", "mql_rate", "precision", "recall", "lift")}
    n = len(sw["threshold"])
    rates = {
        "threshold": np.concatenate((sw["threshold"], sw["threshold"])),
        "metric": ["precision"] * n + ["recall"] * n,
        "value": np.concatenate((sw["precision"].astype(float), sw["recall"].astype(float))),
    }
    hover = _thin_index(n, MAX_HOVER_RULES)
    return {"sweep": sw, "hover": {c: v[hover] for c, v in sw.items()}, "rates": rates, "rule": _rule_data(threshold)}


def _threshold(data: dict, height: int = 300) -> alt.LayerChart:
    x = alt.X("threshold", type="quantitative", title="MQL threshold", axis=alt.Axis(format="d"))
    volume = (
        alt.Chart(data["sweep"])
        .mark_area(opacity=0.18, color=CURRENT_COLOR, interpolate="step-after", clip=True)
        .encode(x=x, y=alt.Y("mql", type="quantitative", title="MQLs (shaded)", axis=alt.Axis(orient="right", format="~s")))
    )
    lines = (
        alt.Chart(data["rates"])
        .mark_line(strokeWidth=3)
        .encode(
            x=x,
            y=alt.Y("value", type="quantitative", title="Precision / recall", axis=alt.Axis(format="~%"), scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("metric", type="nominal", scale=alt.Scale(domain=["precision", "recall"], range=[CURRENT_COLOR, RECALL_COLOR])),
        )
    )
    # invisible full-height rules: hovering anywhere shows that threshold's numbers
    hover = (
        alt.Chart(data["hover"])
        .mark_rule(opacity=0.0, strokeWidth=8)
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
    return _finish(chart, "Precision & recall by threshold", height)


def threshold_chart(sweep: pd.DataFrame, threshold: int, height: int = 300) -> alt.LayerChart:
    """Precision and recall (left axis) and MQL volume (right axis, shaded) at every threshold; a red rule at the current one."""
    return _chart(_threshold, threshold_data(sweep, threshold), height=height)


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
    scores = _col(distribution, "score").astype(np.int64)
    if scores.size == 0:
        return {"bars": {"start": [], "end": [], "outcome": [], "leads": [], "share": [], "range": []}, "rule": _rule_data(threshold)}
    width = score_bin_width(int(scores.min()), int(scores.max()))
    starts, inverse = np.unique(np.floor_divide(scores, width) * width, return_inverse=True)
    conv = np.bincount(inverse, weights=_col(distribution, "converted").astype(float))
    rest = np.bincount(inverse, weights=_col(distribution, "not_converted").astype(float))
    label = [str(s) if width == 1 else f"{s} to {s + width - 1}" for s in starts.tolist()]
    n = len(starts)
    bars = {
        "start": np.tile(starts, 2),
        "end": np.tile(starts + width, 2),
        "outcome": ["converted"] * n + ["not converted"] * n,
        "leads": np.concatenate((conv, rest)),
        "share": np.concatenate((conv / max(conv.sum(), 1), rest / max(rest.sum(), 1))),
        "range": label * 2,
    }
    return {"bars": bars, "rule": _rule_data(threshold)}


def _distribution(data: dict, height: int = 300) -> alt.LayerChart:
    bars = (
        alt.Chart(data["bars"])
        .mark_bar(opacity=0.55, binSpacing=0, clip=True)
        .encode(
            x=alt.X("start", type="quantitative", title="Score", axis=alt.Axis(format="d")),
            x2=alt.X2("end"),
            y=alt.Y("share", type="quantitative", stack=None, title="Share of group", axis=alt.Axis(format="~%")),
            y2=alt.datum(0),  # bars from zero: with a ranged x, Vega-Lite would otherwise draw each bar as a thin tick
            color=alt.Color("outcome", type="nominal", scale=alt.Scale(domain=["converted", "not converted"], range=[CONVERTED_COLOR, NOT_CONVERTED_COLOR])),
            tooltip=[
                alt.Tooltip("range", type="nominal", title="score"),
                alt.Tooltip("outcome", type="nominal"),
                alt.Tooltip("leads", type="quantitative", format=",.0f"),
                alt.Tooltip("share", type="quantitative", format=".1%", title="share of group"),
            ],
        )
    )
    return _finish(alt.layer(bars, _threshold_rule(data["rule"])), "Scores by outcome", height)


def distribution_chart(distribution: pd.DataFrame, threshold: int, height: int = 300) -> alt.LayerChart:
    """Score distribution of converted vs not-converted leads, each as a share of its own group, with the threshold."""
    return _chart(_distribution, distribution_data(distribution, threshold), height=height)


def distribution_spec(distribution: pd.DataFrame, threshold: int, height: int = 300) -> dict:
    return _spec(_distribution, distribution_data(distribution, threshold), height=height)


# ----- grades and tiers ---------------------------------------------------------------
def bands_data(table: pd.DataFrame, name_column: str, base_rate: float | None = None) -> Datasets:
    bands: Columns = {c: _col(table, c) for c in ("leads", "share", "converted", "conversion_rate", "ci_low", "ci_high")}
    bands["band"] = [str(b) for b in table[name_column].tolist()]
    bands["rate_text"] = [pct(float(r)) for r in bands["conversion_rate"]]  # an empty band reads "–", not Vega's "NaN%"
    bands["label"] = bands["band"]
    bands["order"] = np.arange(len(table))  # the model's order (highest first), whatever order Vega met the bands in
    out = {"bands": bands}
    if base_rate is not None:
        out["average"] = {"value": [float(base_rate)], "label": [f"average {base_rate:.1%}"]}
    return out


def _bands(data: dict, title: str = "", name: str = "band", height: int = 280) -> alt.LayerChart:
    # the bands keep the model's order (highest first) after every move: sorted by their position
    # in the table. (Unsorted, Vega keeps the order it first met the bands in, so a band that
    # comes back after a move would be drawn last.) One word per line: 'knocked out' fits under a narrow bar.
    x = alt.X("label", type="nominal", sort=alt.EncodingSortField("order", op="min"), title=None, axis=alt.Axis(labelAngle=0, labelOverlap=False, labelFontSize=14, labelExpr="split(datum.label, ' ')"))
    tooltip = [
        alt.Tooltip("band", type="nominal", title=name),
        alt.Tooltip("leads", type="quantitative", format=","),
        alt.Tooltip("share", type="quantitative", format=".1%", title="share of leads"),
        alt.Tooltip("converted", type="quantitative", format=","),
        alt.Tooltip("conversion_rate", type="quantitative", format=".1%", title="conversion rate"),
        alt.Tooltip("ci_low", type="quantitative", format=".1%", title="95% low"),
        alt.Tooltip("ci_high", type="quantitative", format=".1%", title="95% high"),
    ]
    bars = alt.Chart(data["bands"]).mark_bar(color=CURRENT_COLOR, opacity=0.85, clip=True).encode(
        x=x, y=alt.Y("conversion_rate", type="quantitative", title="Conversion rate", axis=alt.Axis(format="~%")), tooltip=tooltip
    )
    errors = alt.Chart(data["bands"]).mark_rule(color="#111827", strokeWidth=2, clip=True).encode(
        x=x, y=alt.Y("ci_low", type="quantitative"), y2=alt.Y2("ci_high"), tooltip=tooltip
    )
    # the rate written in a row above the plot, over each bar, readable without hovering: above
    # the whiskers it would leave the plot on the tallest bar and sit on the average line on others
    labels = alt.Chart(data["bands"]).mark_text(fontSize=15, fontWeight="bold", color="#111827", baseline="bottom").encode(
        x=x, y=alt.value(-6), text=alt.Text("rate_text", type="nominal"), tooltip=tooltip
    )
    layers = [bars, errors, labels]
    if "average" in data:
        layers.append(_hline(data["average"]))
    return _finish(alt.layer(*layers), title, height, title_offset=BAND_LABEL_ROW)


def bands_chart(table: pd.DataFrame, name_column: str, title: str, base_rate: float | None = None, height: int = 280) -> alt.LayerChart:
    """Conversion rate per grade or tier (``BacktestResult.by_grade``/``by_tier``) with 95% interval error bars, in the table's order."""
    return _chart(_bands, bands_data(table, name_column, base_rate), title=title, name=name_column, height=height)


def bands_spec(table: pd.DataFrame, name_column: str, title: str, base_rate: float | None = None, height: int = 280) -> dict:
    return _spec(_bands, bands_data(table, name_column, base_rate), title=title, name=name_column, height=height)


# ----- words --------------------------------------------------------------------------
def confusion_sentence(result) -> str:
    """The confusion matrix of a ``BacktestResult`` in words: 'Of 1,240 MQLs, 310 converted (25.0%); 95 conversions were missed ...'."""
    mql, tp = result.mql, result.mql_converted
    rate = f" ({tp / mql:.1%})" if mql else ""
    below = result.missed - result.knocked_out_converted
    text = f"Of {count(mql, 'MQL')}, {tp:,} converted{rate}; {below:,} conversion{'s were' if below != 1 else ' was'} missed below the threshold"
    if result.knocked_out:
        text += f", and {result.knocked_out_converted:,} of the {count(result.knocked_out, 'knocked-out lead')} converted"
    return text + "."
