"""Suggestions: attribute statistics, suggested points fit on older leads and checked on held-out ones, and applying them."""

from __future__ import annotations

import streamlit as st

from lead_model.data.leaks import ignored_levels_sentence, leak_check
from lead_model.errors import LeadModelError
from lead_model.suggest.fit import Suggestion, current_bins, lockable_levels, with_current_points
from lead_model.model.bands import bands_text, unreachable_bands
from lead_model.charts.suggestions import level_rate_chart, points_comparison_chart
from lead_model.formatting import DASH, count
from lead_model.formatting import markdown_escape as md
from pages import callbacks, loading
from pages.messages import callback, flash, for_app, show_flash
from pages.session import require_workbench

RESULT_KEY = "suggestion"
SCALES = ("best lead scores about", "points double the odds")


def number(label: str, fmt: str = "localized", help: str | None = None):
    """A number column headed in words people say; ``fmt`` as Streamlit's (default: thousands separators)."""
    return st.column_config.NumberColumn(label, format=fmt, help=help)


def percent(label: str, help: str | None = None):
    return st.column_config.NumberColumn(label, format="percent", help=help)


def as_text(values, fmt: str) -> list[str]:
    """Numbers as text for a table, "–" where there is none (a blank number cell would read "None")."""
    return [DASH if v is None or v != v else format(v, fmt) for v in values]


wb = require_workbench()
leads = wb.leads
model = wb.model
st.title("Suggestions")
st.caption(f"Points suggested from **{md(leads.name)}** ({count(leads.n_leads)}, {leads.base_rate:.1%} converted), fit on one part of the "
           "history and reported on a held-out part (the newest leads when there is a created date), so the numbers are what to expect on new leads.")
show_flash()

with st.form("suggest_options"):
    c1, c2, c3, c4 = st.columns(4)
    n_attrs = len(leads.attributes)
    k = c1.slider("At most this many attributes", 1, max(n_attrs, 2), min(10, max(n_attrs, 1)), help="Start with 5-10: fewer points are easier to agree on.")
    holdout = c1.selectbox("Hold out", ["auto", "time", "random", "none"], help="time: the newest quarter(s); random: 25% of leads, stratified; auto: time when there is a created date.")
    scale = c2.radio("Scale", SCALES, key="suggest_scale")
    max_score = c2.number_input("Best lead scores about (points)", min_value=1, max_value=1000, value=100, key="suggest_max_score")
    doubling = c2.number_input("Points that double the odds", min_value=1, max_value=200, value=20, key="suggest_doubling")
    include_leaky = c3.checkbox("Use attributes that look leaky", help="Left out by default: columns filled in after sales contact predict the past, not new leads.")
    monotonic = c3.checkbox("Monotonic numeric bins", help="Merge bins until conversion rises or falls steadily (off: U shapes such as age stay).")
    locked = c3.multiselect("Keep these attributes as they are", model.attribute_names, help="Their current points stay; the rest is fit around them.")
    level_options = [f"{a}: {lv}" for a, lv in lockable_levels(leads, model)]
    locked_levels = c3.multiselect("Keep these levels as they are", level_options, help="These levels keep their current points; the other levels of the attribute are fit around them.")
    precision = c4.number_input("Target precision (%)", 1, 100, int(min(95, max(1, round(200 * leads.base_rate)))), help="The lowest threshold whose MQLs convert at least this often.")
    recall = c4.number_input("Target recall (%)", 1, 100, 70, help="The highest threshold that still catches this share of conversions.")
    share = c4.number_input("Share of converted leads reached (%)", 1, 100, 90, help="The score this share of past converted leads reached.")
    capacity = c4.number_input("Sales capacity (MQLs per month, 0 = 10% of leads)", 0, 10_000_000, 0)
    run = st.form_submit_button("Suggest points", type="primary")

split_levels = tuple(tuple(o.split(": ", 1)) for o in locked_levels)
options = dict(
    holdout=holdout, max_attributes=int(k), include_leaky=include_leaky, monotonic_bins=monotonic, locked_attributes=tuple(locked),
    locked_levels=split_levels, target_precision=precision / 100, target_recall=recall / 100, converted_share=share / 100,
    capacity_per_month=float(capacity) if capacity else None,
    **({"max_score": float(max_score)} if scale == SCALES[0] else {"points_to_double": float(doubling)}),
)
hit = st.session_state.get(RESULT_KEY)
answers = loading.leak_key(leads)  # the Data page's answers (known before sales contact? levels recorded after?) decide what leaks
if run or hit is None or hit[0] is not leads or hit[2] != answers:
    try:
        with st.spinner("Fitting points..."):
            s = loading.suggestion(leads, model, options, answers)  # fit once for every session (loading.py), often ahead of the visit
    except LeadModelError as exc:
        st.error(for_app(exc))
        st.stop()
    st.session_state[RESULT_KEY] = (leads, s, answers)
else:
    s = hit[1]
s: Suggestion
stats = s.points.stats

verdicts = leak_check(leads, wb.power(), loading.leak_answers(leads), loading.leak_levels(leads))  # for the per-level choice
with st.container(key="leak_warnings"):  # always drawn: warnings come and go with the Data page's answers
    for name in stats.leaky():
        evidence = stats.attributes.set_index("attribute").loc[name, "leak_evidence"]
        level = verdicts[name].level_question if name in verdicts else ""
        level = f" {level.rstrip('.')} (on the Data page: {verdicts[name].level_offer})." if level else ""
        st.warning(f"**Possible leak: {md(name)}.** {md(evidence)} Left out of the suggestions unless you tick 'Use attributes that look leaky'."
                   + md(level))
    for name, levels in stats.ignored_levels.items():
        st.caption(f"**{md(name)}**: {md(ignored_levels_sentence(levels))}")

# ----- validation ---------------------------------------------------------------------------
st.subheader("Train and holdout")
st.caption(s.split.description)
for w in s.validation.warnings:
    st.warning(w)
st.dataframe(s.validation.display_table(), hide_index=True, key="validation_table", column_config={
    "metric": "Measure", "train": "Training leads", "holdout": "Held-out leads", "gap": "Gap (held-out − training)",
})
if s.kept is not None:  # what the current caps and knock-outs, kept by the fit, cost
    st.info(f"**{s.kept.kept_sentence()}**; {s.kept.cost_sentence()}.")


# ----- apply -----------------------------------------------------------------------------------
@callback()
def apply_all() -> None:
    dropped = [a for a in wb.model.attribute_names if a not in s.points.chosen]
    wb.apply(s.model)
    text = f"Applied all suggested points and MQL threshold {s.model.mql_threshold}"
    if dropped:
        text += f"; {md(', '.join(dropped))} left the model (not among the suggested attributes)"
    flash("success", text + ". Undo on the Designer takes it back.")


@callback()
def apply_one(name: str) -> None:
    wb.apply_attribute(s.model, name)
    flash("success", f"Applied the suggested points of '{md(name)}'; Undo on the Designer takes it back.")


@callback()
def apply_threshold(threshold: int) -> None:
    wb.set_threshold(threshold)
    flash("success", f"MQL threshold set to {threshold}.")


st.subheader("Suggested points")
st.caption(f"{s.points.points_per_doubling:.1f} points double the odds of converting; fit on {count(s.split.n_train, 'training lead')}. "
           f"MQL threshold {s.model.mql_threshold} (max F1 on the training leads). Current points are the Designer's model now.")
st.button("Apply all to the Designer", on_click=apply_all, type="primary", key="apply_all")
table = with_current_points(s.points, leads, wb.model)
for name in s.points.chosen:
    t = table[table["attribute"] == name]
    same = bool((t["current_points"] == t["suggested_points"]).all())
    # Drawn only when open (a rerun on opening): ten collapsed tables and charts cost the browser ~1 s on every visit.
    # The label is part of the expander's identity, so "· applied" makes a new one: ``opened`` keeps it open.
    opened = st.session_state.setdefault("suggestion_open", set())
    exp = st.expander(f"**{md(name)}** · {t['group'].iat[0]}" + (" · applied" if same else ""), expanded=name in opened,
                      key=f"exp::points::{name}", on_change="rerun")
    with exp:
        if not exp.open:
            opened.discard(name)
            continue
        opened.add(name)
        left, right = st.columns([3, 2])  # the table's six columns on screen at 1280 px
        own_bins = current_bins(leads, wb.model, s.model, name)  # the Designer bins it differently: its bins as they are
        new = bool(t["current_points"].isna().all())  # not in the Designer's model (or in other bins): no "Now" column of "None"s
        if new and own_bins is None:
            left.caption("Not in the Designer's model yet.")
        shown = t[["level", "current_points", "suggested_points", "leads", "conversion_rate", "why"]]
        shown = shown.assign(conversion_rate=as_text(shown["conversion_rate"], ".1%"))  # a level no lead holds: "–"
        left.dataframe(shown, hide_index=True,
                       key=f"points_table::{name}", column_order=[c for c in ("level", "current_points", "suggested_points", "leads",
                                                                            "conversion_rate", "why") if not (new and c == "current_points")],
                       column_config={
                           "level": "Level", "current_points": number("Now", "%d", "Points in the Designer's model now"),
                           "suggested_points": number("Suggested", "%d"), "leads": number("Leads"),
                           "conversion_rate": st.column_config.TextColumn("Conversion", alignment="right"),
                           "why": st.column_config.TextColumn("Why", width="medium", help="Hover a cell for all of it"),
                       })
        current_attr = next((a for a in wb.model.attributes if a.name == name), None)  # the chart's "current" bars
        right.altair_chart(wb.memo(("points_chart", s, name, current_attr), lambda: points_comparison_chart(table, name)), width="stretch")
        if own_bins is not None:
            left.caption("Now, in the Designer's own bins (other bins than the suggestion's):")
            left.dataframe(own_bins.assign(conversion_rate=as_text(own_bins["conversion_rate"], ".1%")), hide_index=True,
                           key=f"current_bins::{name}", column_config={
                               "level": "Level", "current_points": number("Now", "%d"), "leads": number("Leads"),
                               "conversion_rate": st.column_config.TextColumn("Conversion", alignment="right"),
                           })
        st.button(f"Apply '{md(name)}'", on_click=apply_one, args=(name,), key=f"apply::{name}", disabled=same)
if len(s.points.left_out):
    st.caption("Left out: " + "; ".join(f"{md(r.attribute)} ({md(r.why)})" for r in s.points.left_out.itertuples()))
ranking_exp = st.expander("How the attributes were chosen", key="exp::ranking", on_change="rerun")  # drawn when open, as above
if ranking_exp.open:
    with ranking_exp:
        st.caption("Joint spread: how much an attribute moves a lead's log-odds on average when all candidates are fit together. "
                   "An attribute that only echoes another scores low here even with a high information value (IV) on its own.")
        ranking = s.points.ranking
        joint = bool(ranking["joint_spread"].notna().any())  # no joint fit when every candidate had room: no column of "None"s
        st.dataframe(ranking.assign(joint_spread=as_text(ranking["joint_spread"], ".2f")), hide_index=True, key="ranking_table",
                     column_order=[c for c in ranking.columns if joint or c != "joint_spread"], column_config={
            "attribute": "Attribute", "information_value": number("Strength alone (IV)", "%.3f"),
            "joint_spread": st.column_config.TextColumn("Joint spread", alignment="right"), "chosen": "Chosen", "why": "Why",
        })

# ----- grades and tiers -------------------------------------------------------------------------------
@callback()
def use_bands(kind: str) -> None:
    wb.set_bands(kind, getattr(s.model, kind))
    flash("success", f"{kind.capitalize()} set to {md(bands_text(getattr(s.model, kind)))}; Undo on the Designer takes it back.")


st.markdown("##### Grades and tiers for the suggested scale")  # part of the suggested points, not a section of its own
st.caption("The suggested points run on their own scale, so the suggested model brings its own bands: grades from the fit scores of "
           "the training leads (A the top 20%, B the next 30%, C the next 30%, D the rest, rounded to multiples of 5), tiers from the "
           "total score (warm from the MQL threshold, hot the top half of the MQLs, cold below). 'Apply all' takes them too.")
with st.container(key="unreachable_suggestions"):
    for who, m in (("The suggested model", s.model), ("The Designer's model", wb.model)):
        for sentence in unreachable_bands(m):
            st.warning(f"{who}: {md(sentence)}")
if s.points.bands is not None:
    bands = s.points.bands.assign(kind=s.points.bands["kind"].map({"grade": "grade (fit score)", "tier": "tier (total score)"}),
                                  min_score=as_text(s.points.bands["min_score"].astype(float), ",.0f"),
                                  conversion_rate=as_text(s.points.bands["conversion_rate"], ".1%"))
    st.dataframe(bands, hide_index=True, key="bands_table", column_config={
        "kind": "Band of", "band": "Name", "min_score": st.column_config.TextColumn("Score ≥", alignment="right"), "leads": number("Training leads"),
        "share": percent("Share"), "conversion_rate": st.column_config.TextColumn("Conversion", alignment="right"),
    })
b1, b2, _ = st.columns([1, 1, 2])
b1.button("Use these grades", on_click=use_bands, args=("grades",), key="use_grades", help=f"Grades {md(bands_text(s.model.grades))}",
          disabled=s.model.grades == wb.model.grades, width="stretch")
b2.button("Use these tiers", on_click=use_bands, args=("tiers",), key="use_tiers", help=f"Tiers {md(bands_text(s.model.tiers))}",
          disabled=s.model.tiers == wb.model.tiers, width="stretch")

# ----- thresholds --------------------------------------------------------------------------------
st.subheader("MQL threshold suggestions")
st.caption("Chosen on the training leads; the held-out columns show what each threshold did on the held-out leads. "
           "Hover a Use button for how its rule picks the threshold.")
usable = s.thresholds.dropna(subset=["threshold"])
per_month = ("mql_per_month", "holdout_mql_per_month")
usable = usable.assign(**{c: usable[c].round() for c in per_month})  # whole leads a month, shown "1,225"
# Every column on screen at 1280 px: the training and held-out figures people decide with; the
# table keeps the rest (MQL share, F1, held-out counts) for the CSV download and the tests.
# Without created dates there is no "per month": those columns go rather than read "None".
shown = ("rule", "threshold", "mql", "mql_per_month", "precision", "recall", "holdout_mql_per_month", "holdout_precision", "holdout_recall")
st.dataframe(usable, hide_index=True, key="threshold_table", column_order=[
    c for c in shown if not (c in per_month and usable[c].isna().all())
], column_config={
    "rule": st.column_config.TextColumn("Rule", width="medium"), "threshold": number("Score ≥", "%d"), "mql": number("MQLs"),
    "mql_per_month": number("MQLs/month"), "precision": percent("Precision"), "recall": percent("Recall"),
    "holdout_mql_per_month": number("Held-out MQLs/month"), "holdout_precision": percent("Held-out precision"),
    "holdout_recall": percent("Held-out recall"),
})
for r in s.thresholds[s.thresholds["threshold"].isna()].itertuples():
    st.caption(f"No threshold for '{md(r.rule)}': {md(r.explanation)}")
for col, r in zip(st.columns(max(len(usable), 1)), usable.itertuples()):
    col.button(f"Use {int(r.threshold)} ({r.rule})", on_click=apply_threshold, args=(int(r.threshold),), key=f"use_threshold::{r.rule}",
               help=r.explanation, width="stretch")

# ----- statistics ----------------------------------------------------------------------------------
st.subheader("Attribute statistics (training leads)")
st.caption(f"{count(stats.n_leads, 'training lead')}, {stats.base_rate:.1%} converted. Information value (IV): < 0.02 weak, "
           "0.02-0.1 useful, 0.1-0.5 strong, > 0.5 suspiciously strong (check it is known before sales contact).")
# The statistics people read first, every column on screen; the tests of association below, in an expander.
st.dataframe(stats.attributes, hide_index=True, key="stats_table", column_order=(
    "attribute", "group", "rank", "information_value", "strength", "levels", "missing_share", "verdict",
), column_config={
    "attribute": "Attribute", "group": "Group", "rank": number("Rank", "%d"), "information_value": number("Strength (IV)", "%.3f"),
    "strength": "Strength", "levels": number("Levels", "%d"), "missing_share": percent("Missing"),
    "verdict": st.column_config.TextColumn("Verdict", width="large"),
})
association_exp = st.expander("Tests of association (chi-square, Cramér's V, point-biserial)", key="exp::association", on_change="rerun")
if association_exp.open:  # drawn when open: every table on the page costs the browser time on each visit
    with association_exp:
        a = stats.attributes
        st.dataframe({
            "Attribute": a["attribute"], "Kind": a["kind"], "Chi-square": as_text(a["chi2"], ",.1f"), "p-value": as_text(a["p_value"], ".2g"),
            "Cramér's V": as_text(a["cramers_v"], ".3f"), "Point-biserial r (numeric)": as_text(a["point_biserial"], "+.3f"),
        }, hide_index=True, key="association_table")
names = stats.attributes["attribute"].tolist()
pick = st.selectbox("Conversion rate by level", names, index=names.index(s.points.chosen[0]) if s.points.chosen[0] in names else 0, key="stats_attribute")
st.altair_chart(level_rate_chart(stats.level_table(pick), stats.base_rate), width="stretch")
st.caption("Bars: conversion rate per level; whiskers: 95% Wilson interval; dashed line: the base rate.")
level_table = stats.level_table(pick).drop(columns=["attribute", "code"])
if level_table["min"].isna().all():  # only numeric bins have a lower bound
    level_table = level_table.drop(columns=["min"])
else:
    level_table["min"] = as_text(level_table["min"], ",g")  # the first bin has none: "–", not "None"
st.dataframe(level_table, hide_index=True, key="level_table", column_config={
    "level": "Level", "min": st.column_config.TextColumn("From"), "leads": number("Leads"), "share": percent("Share of leads"),
    "converted": number("Converted"), "conversion_rate": percent("Conversion"), "ci_low": percent("95% low"), "ci_high": percent("95% high"),
    "lift": number("Lift", "%.2fx"), "woe": number("WoE", "%+.3f"), "iv": number("IV", "%.4f"),
})
