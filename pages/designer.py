"""Designer: points, caps and knock-outs in the sidebar, the threshold on top; what they do to the pipeline, on every move.

Slider moves rerun fragments, not the page: a threshold move reruns ``pipeline`` (what the
threshold changes), a points move reruns ``results`` (every tile and chart, through
``callbacks.on_points``). The sidebar is redrawn only by full reruns (undo, rules, bin edges...):
the browser re-renders every element on the page for each batch of messages, so each
element drawn on a move costs time whether or not it changed.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lead_model.charts import backtest as charts
from lead_model.data.roles import UNKNOWN_GROUP_LABEL, counted_as_fit
from lead_model.formatting import DASH, count
from lead_model.model.bands import unreachable_bands
from lead_model.formatting import markdown_escape as md
from lead_model.workbench.describe import capacity_advice as advise_capacity
from lead_model.workbench.describe import knockout_text, lead_story, level_caption, slider_limit, threshold_range
from lead_model.errors import LeadModelError
from pages import callbacks, loading, resume, versioning
from pages.messages import for_app, fragment_timing, no_traceback, show_flash
from pages.session import ATTRIBUTES_KEY, CAP_KEYS, CAPACITY_KEY, MONTHS_KEY, RESULTS_FRAGMENT, THRESHOLD_KEY, bind, edges_key, edges_text, points_key
from pages.session import require_workbench

CHART_HEIGHT = 320  # pixels, title and axes included: two charts a row, readable from the back of the room

wb = require_workbench()
leads = wb.leads
model = wb.model
result = wb.result()
baseline_model = wb.baseline

st.title("Designer")
st.caption(
    f"Model **{md(model.metadata.name)}** on **{md(leads.name)}**: {count(leads.n_leads)}, {leads.base_rate:.1%} converted. "
    f"Deltas compare with the baseline (**{md(baseline_model.metadata.name)}**, threshold {baseline_model.mql_threshold})."
)
# Always one container, messages or not: the elements below keep their places, so Streamlit
# keeps their fragments and charts instead of drawing every chart anew when a message goes.
with st.container(key="designer_messages"):
    show_flash()
    resume.banner()  # continue the last session's autosave?

# ----- controls ----------------------------------------------------------------------------
TONES = {"above": ":green[**{}**]", "below": ":red[**{}**]", "near": "**{}**"}


def attribute_editor(attr, expanded: bool) -> None:
    unknown = f" · group {UNKNOWN_GROUP_LABEL}" if counted_as_fit(leads.roles.get(attr.name), attr.group) else ""  # no clue in the name
    exp = st.expander(f"**{md(attr.name)}** · {attr.kind}{unknown}", expanded=expanded, key=f"exp::{attr.name}", on_change="rerun")
    if exp.open is False:  # collapsed: draw nothing inside (saves work on every move)
        return
    with exp:
        if attr.kind == "numeric":
            key = edges_key(attr.name)
            bind(key, edges_text(attr))
            st.text_input(
                f"{md(attr.name)} bin edges",  # a widget label is Markdown
                key=key,
                on_change=callbacks.on_edges,
                args=(attr.name, key),
                help="Lower bounds of the bins after the first, comma-separated (e.g. 10, 50, 200). Each bin keeps its points.",
            )
            show_flash(key)
        for value, label, listed, points, n_leads, rate in wb.level_rows(attr.name):
            key = points_key(attr.name, value)
            limit = slider_limit(points)
            bind(key, points)
            tag = " (*scores as other*)" if not listed else ""
            volume, rate_shown, tone = level_caption(label, n_leads, rate, leads.base_rate)
            st.markdown(f"**{md(str(label))}**{tag} · {volume} · {TONES[tone].format(rate_shown)}")
            st.slider(
                f"{md(attr.name)}: {md(str(label))}",  # collapsed, but still rendered as Markdown (its images would be fetched)
                -limit,
                limit,
                value=points,
                step=1,
                key=key,
                on_change=callbacks.on_points,
                args=(attr.name, value, key),
                label_visibility="collapsed",
            )


def caps_editor() -> None:
    st.markdown("**Caps**: the most points a group (or the total) can give; empty = no cap.")
    for col, (group, title) in zip(st.columns(3), (("fit", "Fit cap"), ("engagement", "Engagement cap"), ("total", "Total cap"))):
        key = CAP_KEYS[group]
        bind(key, getattr(model.caps, group))
        col.number_input(title, max_value=10_000, step=5, key=key, on_change=callbacks.on_caps, placeholder="no cap")
    show_flash("caps")


def bands_editor() -> None:
    """Grades (fit score) and tiers (total score): names and minimum scores, highest first; the last band has no minimum."""
    st.markdown("**Grades and tiers**: a lead is in the first band whose minimum its score reaches; leave the last minimum empty.")
    for kind, title, score in (("grades", "Grades", "fit score"), ("tiers", "Tiers", "total score")):
        bands = getattr(model, kind)
        # minimums as text: the last band's empty cell reads empty, not "None"
        rows = [{"name": b.name, "min_score": "" if b.min_score is None else str(b.min_score)} for b in bands]
        key = f"bands::{kind}::" + "|".join(f"{b.name}={b.min_score}" for b in bands)  # new bands, a fresh editor
        with st.form(f"bands_form::{kind}", border=False):
            st.data_editor(
                rows, key=key, num_rows="dynamic", hide_index=True, width="stretch",
                column_config={"name": st.column_config.TextColumn(title[:-1], required=True),
                               "min_score": st.column_config.TextColumn(f"Minimum {score}", help="A whole number; empty for the last band")},
            )
            st.form_submit_button(f"Save {title.lower()}", on_click=callbacks.on_bands, args=(kind, rows, key))
    show_flash("bands")


def knockout_editor() -> None:
    st.markdown(f"**Knock-outs**: never an MQL, whatever the score. {count(result.knocked_out)} knocked out now.")
    for i, rule in enumerate(model.knockouts):
        c1, c2 = st.columns([2.6, 1], vertical_alignment="center")  # "Remove" needs ~75 px of the 390 px sidebar
        c1.markdown(md(knockout_text(rule)))
        c2.button("Remove", key=f"ko_remove::{i}", on_click=callbacks.remove_knockout, args=(i,))
    names = list(leads.attributes)
    if not names:
        return
    c1, c2 = st.columns(2)
    name = c1.selectbox("Knock out leads by", names, key="ko_attribute")
    enc = leads.attributes[name]
    rule: dict = {"attribute": name}
    if enc.kind == "numeric":
        at_least = c1.number_input("Knock out at or above", value=None, key="ko_at_least", placeholder="no upper limit")
        below = c2.number_input("Knock out below", value=None, key="ko_below", placeholder="no lower limit")
        rule.update(below=below, at_least=at_least)
    else:
        options = list(enc.labels if enc.kind == "boolean" else enc.levels)
        values = c2.multiselect("Values to knock out", options, key="ko_values")
        rule["values"] = values or None
    c1, c2 = st.columns(2)
    rule["when_missing"] = c1.checkbox("Also when missing", key="ko_missing")
    rule["reason"] = c2.text_input("Reason", key="ko_reason", placeholder="e.g. students do not buy")
    form = ("ko_below", "ko_at_least", "ko_values", "ko_missing", "ko_reason")
    st.button("Add knock-out", key="ko_add", on_click=callbacks.add_knockout, args=(rule, form))
    show_flash("knockouts")


def attributes_editor() -> None:
    bind(ATTRIBUTES_KEY, list(model.attribute_names))
    st.multiselect(
        "Attributes in the model",
        list(leads.attributes),
        key=ATTRIBUTES_KEY,
        on_change=callbacks.on_attribute_set,
        args=(ATTRIBUTES_KEY,),
        help="Add a column at 0 points, or take one out of the model.",
    )


@st.fragment(key=RESULTS_FRAGMENT)
def results() -> None:
    """Everything the model changes, top to bottom: a points move reruns only this (``callbacks.on_points``)."""
    with no_traceback(), fragment_timing("results"):  # a fragment rerun does not pass through app.py
        pipeline()
        ranking_charts()
        lead_explorer()


@st.fragment
def pipeline() -> None:
    """KPI tiles, the threshold and what depends on it alone: a threshold move reruns only this."""
    with no_traceback(), fragment_timing("pipeline"):
        _pipeline()


def _pipeline() -> None:
    model = wb.model
    result = wb.result()
    with st.container(key="kpis"):  # the key scopes the tiles' projector-sized fonts (app.py)
        tiles = wb.tiles()
        widths = [1, 1, 2, 1, 1, 2][: len(tiles)]  # MQLs and Pipeline hold the longest values
        for col, tile in zip(st.columns(widths), tiles):
            col.metric(tile.label, tile.value, tile.delta, delta_color=tile.delta_color, border=True)
    st.markdown(f"##### {charts.confusion_sentence(result)}")
    # Always one container, note or not: the slider below keeps its place, so the browser keeps the
    # widget being dragged (a note appearing after the first move would otherwise make it anew).
    with st.container(key="undo_note"):
        undo_text = wb.undo_text()
        if undo_text:
            st.caption(f"Last change: {md(undo_text)}. Undo (in the sidebar) takes it back.")
    if result.histograms.leads.size == 1:
        st.info("Every lead has the same score, so no threshold separates them yet: give points to the levels that convert above average (green) and take points from those below (red).")
    slider_col, capacity_col, fit_col = st.columns([5, 2.4, 3], gap="medium")
    with slider_col:
        t = model.mql_threshold
        bind(THRESHOLD_KEY, t)
        lo, hi = threshold_range(result, t)
        st.slider(
            "MQL threshold",
            lo,
            hi,
            value=t,
            step=1,
            key=THRESHOLD_KEY,
            on_change=callbacks.on_threshold,
            help="Leads scoring at least this, and not knocked out, are MQLs. Arrow keys move it one point.",
        )
    with capacity_col:
        capacity = st.number_input(
            "Leads sales can work per month", min_value=0, value=None, step=50, key=CAPACITY_KEY, placeholder="e.g. 400"
        )
        months = wb.months()
        if capacity and months is None:
            months = st.number_input(
                "Months this file covers", min_value=1.0, value=1.0, step=1.0, format="%g", key=MONTHS_KEY,
                help="There is no created date column, so say over how many months these leads came in.",
            )
    with fit_col:
        capacity_advice(result, capacity, months)
    chart1, chart2 = st.columns(2, gap="medium")
    chart1.vega_lite_chart(spec=charts.threshold_spec(result.sweep, model.mql_threshold, height=CHART_HEIGHT), width="stretch")
    chart2.vega_lite_chart(spec=charts.distribution_spec(result.score_distribution, model.mql_threshold, height=CHART_HEIGHT), width="stretch")


def capacity_advice(result, capacity: int | None, months: float | None) -> None:
    """The threshold that fits sales capacity, with a button to use it."""
    if not capacity:
        st.caption("Type how many leads sales can work in a month to see the threshold that fits.")
        return
    advice = advise_capacity(result, capacity, months or 1.0, months_known=wb.months() is not None)
    if advice.choice.threshold is not None:
        st.button(f"Use threshold {advice.choice.threshold}", key="use_capacity", on_click=callbacks.use_threshold,
                  args=(advice.choice.threshold,), width="stretch")
    st.caption(advice.sentence())


def ranking_charts() -> None:
    """The charts only points change: lift, gains, conversion by tier and by grade."""
    result = wb.result()
    base = wb.baseline_result()
    baseline_deciles = base.deciles if base is not None else None
    c1, c2 = st.columns(2, gap="medium")
    c1.vega_lite_chart(spec=charts.lift_spec(result.deciles, baseline_deciles, height=CHART_HEIGHT), width="stretch")
    c2.vega_lite_chart(spec=charts.gains_spec(result.deciles, baseline_deciles, height=CHART_HEIGHT), width="stretch")
    c3, c4 = st.columns(2, gap="medium")
    c3.vega_lite_chart(spec=charts.bands_spec(result.by_tier, "tier", "Conversion by tier (total score)", leads.base_rate, height=CHART_HEIGHT), width="stretch")
    c4.vega_lite_chart(spec=charts.bands_spec(result.by_grade, "grade", "Conversion by grade (fit score)", leads.base_rate, height=CHART_HEIGHT), width="stretch")


@st.fragment
def lead_explorer() -> None:
    """The lead explorer; a fragment of its own: opening it or searching reruns it alone, not every tile and chart."""
    with no_traceback(), fragment_timing("lead_explorer"):
        _lead_explorer()


def _lead_explorer() -> None:
    """Why did a lead get its score: the points behind one lead's total (follows every points move)."""
    explorer = st.expander("Lead explorer: why did a lead get its score?", key="exp::explorer", on_change="rerun")
    if not explorer.open:
        return
    model = wb.model
    with explorer:
        text = st.text_input("Find a lead", key="lead_search", placeholder="lead id (or any text in the row)")
        try:
            found = loading.find_leads(leads, text.strip())
        except LeadModelError as exc:
            st.error(for_app(exc))
            found = None
        if found is not None and found.empty:
            st.info(f"No lead matches '{md(text)}'.")
        elif found is not None:
            id_col = leads.lead_id_column
            labels = {int(r): (str(v) if id_col else f"row {int(r) + 1}") for r, v in zip(found["__row"], found[id_col] if id_col else found["__row"])}
            row = st.selectbox("Lead", list(labels), format_func=lambda r: labels[r], key="lead_pick")
            position = wb.memo(("position", row), lambda: int(leads.lead_positions([row])[0])) if row is not None else -1
            if position < 0:
                st.warning("This row has no outcome value, so it was left out of the backtest.")
            else:
                story = lead_story(leads, model, position, wb.scores(model))
                st.markdown(f"#### {md(story.sentence)}")
                c1, c2 = st.columns(2)
                c1.dataframe(story.breakdown, hide_index=True, width="stretch", column_config={
                    "attribute": "Attribute", "group": "Group", "value": "Value", "points": st.column_config.NumberColumn("Points", format="%d"),
                })
                values = found[found["__row"] == row].drop(columns="__row").iloc[0]
                c2.dataframe(  # the row as the file has it, one column a line; an empty cell is "–", not "None"
                    {"Column": [str(c) for c in values.index], "Value": [DASH if pd.isna(v) else str(v) for v in values]},
                    hide_index=True, width="stretch", column_config={"Column": st.column_config.TextColumn("Column", width="medium")},
                )


results()

# ----- points: the sidebar scrolls on its own, so the numbers above stay in view -------------
with st.sidebar:
    # Always enabled (a no-op when there is nothing to undo): slider moves rerun only the
    # results, not the sidebar, so a disabled state here could be out of date.
    b1, b2 = st.columns(2)
    b1.button("Undo", on_click=callbacks.undo, width="stretch", icon=":material/undo:", help="Undo the last change")
    b2.button("Redo", on_click=callbacks.redo, width="stretch", icon=":material/redo:", help="Redo what you undid")
    b3, b4 = st.columns(2)
    b3.button("Reset to baseline", on_click=callbacks.reset_to_baseline, width="stretch", icon=":material/restart_alt:", help="Back to the baseline model (undoable)")
    b4.button("Set as baseline", on_click=callbacks.set_baseline, width="stretch", icon=":material/flag:", help="Compare from now on with the current model")
    v1, v2 = st.columns(2)
    with v1.popover("Save version", icon=":material/save:", width="stretch", help="Save this model as a named version (and publish it)"):
        versioning.save_form(wb, "designer")
    v2.page_link("pages/review.py", label="Compare, review", icon=":material/history:", help="Compare with the live model, review it over time")
    show_flash("versions")
    for group, title in (("fit", "Fit: who they are"), ("engagement", "Engagement: what they did")):
        st.subheader(title)
        attrs = [a for a in model.attributes if a.group == group]
        if not attrs:
            st.caption("No attributes in this group yet: add them under Caps, knock-outs and attributes.")
        for i, attr in enumerate(attrs):
            attribute_editor(attr, expanded=i == 0)  # one open per group: every element on the page costs browser time on every move
    st.subheader("Rules")
    with st.container(key="unreachable_bands"):  # always drawn: the expander below keeps its place
        for sentence in unreachable_bands(model):
            st.warning(md(sentence))
    rules = st.expander("Caps, knock-outs and attributes", key="exp::rules", on_change="rerun")
    if rules.open:
        with rules:
            caps_editor()
            st.divider()
            bands_editor()
            st.divider()
            knockout_editor()
            st.divider()
            attributes_editor()
