"""The workshop report: one self-contained HTML file with the agreed model, its backtest and charts, that opens offline.

The charts are the app's own Altair charts (lead_model.charts.backtest), drawn in the browser
by Vega with the JavaScript Altair's inline save embeds (``chart.save(..., inline=True)`` takes
it from vl-convert's bundle); here it is embedded once for the whole page instead of once per
chart. Nothing is fetched: no CDN, no font, no image, and vega-embed's action links are off.

Everything from the data or the model (names, levels, notes, the sign-off) goes through
``html.escape``; chart specs sit in ``<script type="application/json">`` blocks with ``<``, ``>``
and ``&`` written as JSON escapes, so a level named ``</script>`` stays text (Altair's own page
template pastes the spec into a script as it is).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from lead_model.errors import LeadModelError
from lead_model.model.schema import write_text_atomically

if TYPE_CHECKING:
    import altair as alt

    from lead_model.data.leads import LeadSet
    from lead_model.engine.backtest import BacktestResult
    from lead_model.export.config import DatasetRef, Signoff
    from lead_model.model.schema import ScoringModel
    from lead_model.review.compare import Comparison

CHART_WIDTH = 470  # pixels: two charts side by side on a laptop, one per row when printed
SECTIONS = ("summary", "signoff", "points", "rules", "bands", "backtest", "charts", "comparison", "dataset")


def _e(value: object) -> str:
    """Text from a file or a person, safe inside HTML text and attribute values."""
    return html.escape(str(value), quote=True)


@lru_cache(maxsize=1)
def vega_bundle() -> str:
    """vega, vega-lite and vega-embed as one script: the bundle Altair's inline HTML save uses (vl-convert's, for Altair's Vega-Lite).

    Built once per process (vl-convert takes a few seconds the first time).
    """
    try:
        import vl_convert as vlc
        from altair.utils._importers import vl_version_for_vl_convert
    except ImportError:  # pragma: no cover - a dependency of the package
        raise LeadModelError("the workshop report needs vl-convert-python; install it with 'pip install vl-convert-python'.") from None
    script = vlc.javascript_bundle(vl_version=vl_version_for_vl_convert())
    return re.sub(r"</(script)", r"<\\/\1", script, flags=re.IGNORECASE)


def _json_for_script(data: object) -> str:
    """JSON that cannot end or open a tag inside a <script> block."""
    text = json.dumps(data, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def chart_spec(chart: alt.TopLevelMixin) -> dict:
    """The Vega-Lite dict of one report chart: fixed width, no $schema (nothing to look up)."""
    spec = chart.properties(width=CHART_WIDTH).to_dict()
    spec.pop("$schema", None)
    return spec


# ----- the content ------------------------------------------------------------------------------
def report_charts(result: BacktestResult, model: ScoringModel, baseline: BacktestResult | None = None) -> list[tuple[str, alt.TopLevelMixin]]:
    """The report's charts as (id, Altair chart): precision and recall by threshold, lift, gains, scores, tiers and grades."""
    from lead_model.charts import backtest as charts

    base = baseline.deciles if baseline is not None else None
    return [
        ("threshold", charts.threshold_chart(result.sweep, model.mql_threshold)),
        ("lift", charts.lift_chart(result.deciles, base)),
        ("gains", charts.gains_chart(result.deciles, base)),
        ("distribution", charts.distribution_chart(result.score_distribution, model.mql_threshold)),
        ("tiers", charts.bands_chart(result.by_tier, "tier", "Conversion by tier (95% interval)", result.base_rate)),
        ("grades", charts.bands_chart(result.by_grade, "grade", "Conversion by fit grade (95% interval)", result.base_rate)),
    ]


def _table(header: list[str], rows: list[list[object]], numeric: tuple[int, ...] = ()) -> str:
    head = "".join(f"<th{' class=num' if i in numeric else ''}>{_e(h)}</th>" for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(f"<td{' class=num' if i in numeric else ''}>{_e(c)}</td>" for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _list(items: list[str], empty: str) -> str:
    if not items:
        return f"<p class=muted>{_e(empty)}</p>"
    return "<ul>" + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>"


def _band_rule(bands, i: int, score_name: str) -> str:
    b = bands[i]
    if b.min_score is not None:
        return f"{score_name} {b.min_score} or more" + (f" (below {bands[i - 1].min_score})" if i else "")
    return f"{score_name} below {bands[i - 1].min_score}" if i else f"every {score_name}"


def _section(id_: str, title: str, body: str) -> str:
    return f'<section id="{id_}"><h2>{_e(title)}</h2>{body}</section>'


def _summary(model: ScoringModel, result: BacktestResult) -> str:
    from lead_model.charts.backtest import confusion_sentence
    from lead_model.workbench.describe import kpi_tiles

    tiles = "".join(f'<div class=tile><div class=label>{_e(t.label)}</div><div class=value>{_e(t.value)}</div></div>' for t in kpi_tiles(result, None))
    meta = model.metadata
    notes = f"<p class=notes>{_e(meta.notes)}</p>" if meta.notes else ""
    return (f"<div class=tiles>{tiles}</div><p>MQL threshold <strong>{model.mql_threshold}</strong>: {_e(confusion_sentence(result))}</p>"
            f"<p class=muted>Model version {_e(meta.version)}{' by ' + _e(meta.author) if meta.author else ''}.</p>{notes}")


def _signoff(signed: Signoff | None) -> str:
    if signed is None:
        return "<p class=warning>Not signed off yet: sales and marketing sign off on the Export page (or with lead-model export-config).</p>"
    rows = [["Sales", signed.sales], ["Marketing", signed.marketing], ["Date", signed.date.isoformat()]]
    notes = f"<p class=notes>{_e(signed.notes)}</p>" if signed.notes else ""
    return _table(["Who", ""], rows) + notes


def _points(model: ScoringModel) -> str:
    from lead_model.export.reasons import model_points

    table = model_points(model)
    if table.empty:
        return "<p class=muted>The model scores no attribute.</p>"
    out = []
    for (attribute, group), part in table.groupby(["attribute", "group"], sort=False):
        items = "".join(f"<li><span class=pts>{_e(t)}</span></li>" for t in part["text"])
        out.append(f"<div class=attribute><h3>{_e(attribute)} <span class=group>{_e(group)}</span></h3><ul class=points>{items}</ul></div>")
    return "<div class=attributes>" + "".join(out) + "</div>"


def _rules(model: ScoringModel) -> str:
    from lead_model.model.diff import knockout_text
    from lead_model.workbench.describe import caps_text

    caps = [f"{g} cap: {'none' if getattr(model.caps, g) is None else f'{getattr(model.caps, g)} points at most'}" for g in ("fit", "engagement", "total")]
    return (f"<p>A lead is an MQL when its score is {model.mql_threshold} or more and no knock-out rule disqualifies it. {_e(caps_text(model))}.</p>"
            f"<h3>Caps</h3>{_list(caps, '')}<h3>Knock-outs</h3>{_list([knockout_text(k) for k in model.knockouts], 'No knock-out rules.')}")


def _bands(model: ScoringModel, result: BacktestResult) -> str:
    from lead_model.formatting import pct

    out = []
    for title, bands, table, column, score_name in (("Tiers (total score)", model.tiers, result.by_tier, "tier", "score"),
                                                    ("Grades (fit score)", model.grades, result.by_grade, "grade", "fit score")):
        rules = {b.name: _band_rule(bands, i, score_name) for i, b in enumerate(bands)}
        rows = [[r[column], rules.get(r[column], "knocked out, whatever the score"), f"{int(r['leads']):,}", pct(r["share"]), pct(r["conversion_rate"]),
                 f"{pct(r['ci_low'])} to {pct(r['ci_high'])}"] for r in table.to_dict(orient="records")]
        out.append(f"<h3>{_e(title)}</h3>" + _table([column.capitalize(), "Rule", "Leads", "Share", "Conversion", "95% interval"], rows, (2, 3, 4, 5)))
    return "".join(out)


def _backtest(result: BacktestResult) -> str:
    from lead_model.formatting import lift, pct, score

    rows = [["Leads", f"{result.leads:,}"], ["Converted", f"{result.converted:,} ({pct(result.base_rate)})"],
            ["MQLs", f"{result.mql:,} ({pct(result.mql_rate)})"], ["Precision (MQLs that converted)", pct(result.precision)],
            ["Recall (conversions caught)", pct(result.recall)], ["F1", score(result.f1)], ["Lift at threshold", lift(result.lift_at_threshold)],
            ["Conversion of the rest", pct(result.conversion_rest)], ["ROC AUC", score(result.auc)], ["PR AUC", score(result.pr_auc)],
            ["Knocked out", f"{result.knocked_out:,} ({result.knocked_out_converted:,} converted)"]]
    deciles = [[int(d["decile"]), f"{int(d['leads']):,}", f"{d['converted']:,.1f}", pct(d["conversion_rate"]), lift(d["lift"]), pct(d["cumulative_recall"])]
               for d in result.deciles.to_dict(orient="records")]
    return (_table(["Metric", "Value"], rows, (1,)) + "<h3>Deciles (1 = the top 10% of scores)</h3>"
            + _table(["Decile", "Leads", "Converted", "Conversion", "Lift", "Cumulative recall"], deciles, (0, 1, 2, 3, 4, 5)))


def _charts(charts: list[tuple[str, alt.TopLevelMixin]]) -> tuple[str, str]:
    """The chart boxes and the JSON blocks holding their specs."""
    boxes, specs = [], []
    for i, (name, chart) in enumerate(charts):
        boxes.append(f'<figure class=chart><div class=vega id="chart-{i}" data-chart="{_e(name)}"></div></figure>')
        specs.append(f'<script type="application/json" id="spec-{i}">{_json_for_script(chart_spec(chart))}</script>')
    return "<div class=charts>" + "".join(boxes) + "</div>", "".join(specs)


def _comparison(c: Comparison, label: str) -> str:
    from lead_model.review.describe import kpi_rows

    kpis = kpi_rows(c.kpis)
    crossers = c.crossers.table()
    from lead_model.formatting import pct

    rows = [[r.direction, f"{int(r.leads):,}", f"{int(r.converted):,}", pct(r.conversion)] for r in crossers.itertuples()]
    return (f"<p>Against {_e(label)} on the same leads.</p><h3>What changed</h3>{_list(c.changes, 'Nothing: the two models are the same.')}"
            f"<h3>Every KPI</h3>{_table(list(kpis.columns), kpis.values.tolist(), (1, 2, 3))}"
            f"<h3>Leads that cross the MQL line</h3><p>{_e(c.crossers.sentence())}</p>"
            + _table(["Direction", "Leads", "Converted", "Conversion"], rows, (1, 2, 3))
            + "<p class=muted>The lift and gains charts draw the earlier model as the baseline.</p>")


def _dataset(leads: LeadSet, dataset: DatasetRef | None) -> str:
    rows = [["Name", leads.name], ["Rows", f"{leads.summary.rows:,}"], ["Leads with an outcome", f"{leads.n_leads:,}"],
            ["Outcome", f"{leads.outcome} = {leads.summary.positive_value}"]]
    if dataset is not None:
        rows.append(["Content hash (rows, in any order)", dataset.hash or "none: the data is not in a lead store"])
    return _table(["", ""], rows)


# ----- the page -----------------------------------------------------------------------------------
def workshop_report(leads: LeadSet, model: ScoringModel, previous: ScoringModel | None = None, signed: Signoff | None = None,
                    previous_label: str | None = None, dataset: DatasetRef | None = None, generated: str | None = None) -> str:
    """The report as one HTML page (text): the model in words, its rules, bands, backtest and charts, optionally compared with ``previous``.

    ``signed``: the sign-off to show (None: 'not signed off yet'); ``dataset``: its fingerprint
    (default: read from the store ``leads`` came from); ``previous_label``: how to name the
    earlier model ('version 3 'Q2'', default its name). Raises LeadModelError without an outcome.
    """
    from lead_model.engine.backtest import backtest
    from lead_model.engine.scoring import check_fits
    from lead_model.export.config import dataset_ref

    if not leads.has_outcome:
        raise LeadModelError(f"the report backtests the model, but '{leads.name}' has no outcome column; load history with its outcome (--outcome COLUMN).")
    check_fits(leads, model)
    comparison = None
    if previous is not None:
        from lead_model.review.compare import compare

        check_fits(leads, previous)
        comparison = compare(leads, previous, model, examples=0)
        result = comparison.after_result
    else:
        result = backtest(leads, model)
    dataset = dataset if dataset is not None else dataset_ref(leads)
    boxes, specs = _charts(report_charts(result, model, comparison.before_result if comparison else None))
    generated = generated or dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    meta = model.metadata
    parts = [
        _section("summary", "At a glance", _summary(model, result)),
        _section("signoff", "Sign-off", _signoff(signed)),
        _section("points", "The points, in words", _points(model)),
        _section("rules", "Threshold, caps and knock-outs", _rules(model)),
        _section("bands", "Tiers and grades", _bands(model, result)),
        _section("backtest", "Backtest on the history", _backtest(result)),
        _section("charts", "Charts", boxes),
    ]
    if comparison is not None:
        label = previous_label or f"'{previous.metadata.name}'"
        parts.append(_section("comparison", f"Compared with {label}", _comparison(comparison, label)))
    parts.append(_section("dataset", "The data it was agreed on", _dataset(leads, dataset)))
    title = f"{meta.name}: workshop report"
    return PAGE.format(title=_e(title), heading=_e(meta.name), subtitle=_e(f"Workshop report on '{leads.name}', made {generated}"),
                       body="".join(parts), specs=specs, bundle=vega_bundle(), style=STYLE, script=SCRIPT)


def write_report(path: str | Path, leads: LeadSet, model: ScoringModel, **options) -> Path:
    """Write ``workshop_report(leads, model, **options)`` to ``path`` atomically."""
    return write_text_atomically(Path(path), workshop_report(leads, model, **options))


STYLE = """
:root { color-scheme: light; --ink: #111827; --muted: #6b7280; --line: #e5e7eb; --accent: #2563eb; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 0 auto; max-width: 1160px; padding: 24px; }
header h1 { margin: 0; font-size: 2rem; }
header p { margin: 4px 0 0; color: var(--muted); }
section { border-top: 1px solid var(--line); margin-top: 28px; padding-top: 8px; }
h2 { font-size: 1.4rem; margin: 8px 0 12px; }
h3 { font-size: 1.05rem; margin: 16px 0 6px; }
table { border-collapse: collapse; margin: 6px 0 12px; }
th, td { text-align: left; padding: 4px 12px 4px 0; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
th { font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: var(--muted); }
.warning { color: #92400e; background: #fef3c7; padding: 8px 12px; border-radius: 6px; }
.notes { white-space: pre-wrap; border-left: 3px solid var(--line); padding-left: 12px; }
.tiles { display: flex; gap: 12px; flex-wrap: wrap; }
.tile { border: 1px solid var(--line); border-radius: 8px; padding: 8px 16px; min-width: 150px; }
.tile .label { color: var(--muted); }
.tile .value { font-size: 1.7rem; font-weight: 600; }
.attributes { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 4px 24px; }
.attribute h3 { overflow-wrap: anywhere; }
.group { font-weight: normal; color: var(--muted); font-size: 0.9rem; }
ul.points { list-style: none; padding: 0; margin: 0; }
ul.points li, li { overflow-wrap: anywhere; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(540px, 1fr)); gap: 16px; }
figure.chart { margin: 0; min-height: 320px; }
.chart-error { color: #b91c1c; }
@media print { .charts { display: block; } figure.chart { break-inside: avoid; } }
"""

# Draw every chart; a chart that cannot be drawn says so in its box (the browser test looks for these).
SCRIPT = """
document.querySelectorAll('div.vega').forEach(function (box) {
  var spec = JSON.parse(document.getElementById(box.id.replace('chart-', 'spec-')).textContent);
  vegaEmbed(box, spec, {mode: 'vega-lite', actions: false, renderer: 'canvas'}).then(function () {
    box.setAttribute('data-drawn', 'true');
  }).catch(function (err) {
    box.classList.add('chart-error');
    box.textContent = 'This chart could not be drawn: ' + err;
  });
});
"""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data: blob:">
<title>{title}</title>
<style>{style}</style>
<script>{bundle}</script>
</head>
<body>
<header><h1>{heading}</h1><p>{subtitle}</p></header>
{body}
<footer class=muted><p>Made with Lead Model Studio. This file is self-contained: it opens offline and fetches nothing.</p></footer>
{specs}
<script>{script}</script>
</body>
</html>
"""

__all__ = ["SECTIONS", "chart_spec", "report_charts", "vega_bundle", "workshop_report", "write_report"]
