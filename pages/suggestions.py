"""Suggestions: attribute statistics, suggested points fit on older leads and checked on held-out ones, and applying them."""

from __future__ import annotations

import streamlit as st

from lead_model.errors import LeadModelError
from lead_model.suggest.fit import Suggestion, lockable_levels, suggest, with_current_points
from lead_model.charts.suggestions import level_rate_chart, points_comparison_chart
from lead_model.data.leaks import stored_answers
from lead_model.formatting import markdown_escape as md
from pages import callbacks
from pages.messages import callback, flash, for_app, show_flash
from pages.session import require_workbench

RESULT_KEY = "suggestion"
SCALES = ("best lead scores about", "points double the odds")
PERCENT = st.column_config.NumberColumn(format="percent")

wb = require_workbench()
leads = wb.leads
model = wb.model
st.title("Suggestions")
st.caption(f"Points suggested from **{leads.name}** ({leads.n_leads:,} leads, {leads.base_rate:.1%} converted), fit on one part of the "
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
answers = stored_answers(leads)  # the Data page's "known before sales contact?" answers decide what leaks
if run or hit is None or hit[0] is not leads or hit[2] != answers:
    try:
        with st.spinner("Fitting points..."):
            s = suggest(leads, model, **options)
    except LeadModelError as exc:
        st.error(for_app(exc))
        st.stop()
    st.session_state[RESULT_KEY] = (leads, s, answers)
else:
    s = hit[1]
s: Suggestion
stats = s.points.stats

for name in stats.leaky():
    evidence = stats.attributes.set_index("attribute").loc[name, "leak_evidence"]
    st.warning(f"**Possible leak: {md(name)}.** {md(evidence)} Left out of the suggestions unless you tick 'Use attributes that look leaky'.")

# ----- validation ---------------------------------------------------------------------------
st.subheader("Train and holdout")
st.caption(s.split.description)
for w in s.validation.warnings:
    st.warning(w)
st.dataframe(s.validation.display_table(), hide_index=True, key="validation_table", column_config={"gap": "gap (holdout - train)"})


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
st.caption(f"{s.points.points_per_doubling:.1f} points double the odds of converting; fit on {s.split.n_train:,} training leads. "
           f"MQL threshold {s.model.mql_threshold} (max F1 on the training leads). Current points are the Designer's model now.")
st.button("Apply all to the Designer", on_click=apply_all, type="primary", key="apply_all")
table = with_current_points(s.points, leads, wb.model)
for name in s.points.chosen:
    t = table[table["attribute"] == name]
    same = bool((t["current_points"] == t["suggested_points"]).all())
    with st.expander(f"**{md(name)}** · {t['group'].iat[0]}" + (" · applied" if same else ""), expanded=False):
        left, right = st.columns(2)
        left.dataframe(t[["level", "current_points", "suggested_points", "leads", "conversion_rate", "why"]], hide_index=True,
                       key=f"points_table::{name}", column_config={"conversion_rate": PERCENT})
        right.altair_chart(points_comparison_chart(table, name), width="stretch")
        st.button(f"Apply '{name}'", on_click=apply_one, args=(name,), key=f"apply::{name}", disabled=same)
if len(s.points.left_out):
    st.caption("Left out: " + "; ".join(f"{r.attribute} ({r.why})" for r in s.points.left_out.itertuples()))
with st.expander("How the attributes were chosen"):
    st.caption("Joint spread: how much an attribute moves a lead's log-odds on average when all candidates are fit together. "
               "An attribute that only echoes another scores low here even with a high information value (IV) on its own.")
    st.dataframe(s.points.ranking, hide_index=True, key="ranking_table", column_config={
        "information_value": st.column_config.NumberColumn("IV", format="%.3f"),
        "joint_spread": st.column_config.NumberColumn("joint spread", format="%.2f"),
    })

# ----- thresholds --------------------------------------------------------------------------------
st.subheader("MQL threshold suggestions")
st.caption("Chosen on the training leads; the holdout columns show what each threshold did on the held-out leads.")
st.dataframe(s.thresholds, hide_index=True, key="threshold_table", column_config={
    "threshold": st.column_config.NumberColumn("score >=", format="%d"), "mql": st.column_config.NumberColumn("MQLs", format="localized"),
    "mql_per_month": st.column_config.NumberColumn("MQLs/month", format="%.0f"), "mql_rate": st.column_config.NumberColumn("MQL share", format="percent"),
    "precision": PERCENT, "recall": PERCENT, "f1": st.column_config.NumberColumn("F1", format="%.3f"),
    "holdout_mql": st.column_config.NumberColumn("holdout MQLs", format="localized"),
    "holdout_mql_per_month": st.column_config.NumberColumn("holdout MQLs/month", format="%.0f"),
    "holdout_mql_rate": st.column_config.NumberColumn("holdout MQL share", format="percent"),
    "holdout_precision": st.column_config.NumberColumn("holdout precision", format="percent"),
    "holdout_recall": st.column_config.NumberColumn("holdout recall", format="percent"),
})
usable = s.thresholds.dropna(subset=["threshold"])
for col, r in zip(st.columns(max(len(usable), 1)), usable.itertuples()):
    col.button(f"Use {int(r.threshold)} ({r.rule})", on_click=apply_threshold, args=(int(r.threshold),), key=f"use_threshold::{r.rule}")

# ----- statistics ----------------------------------------------------------------------------------
st.subheader("Attribute statistics (training leads)")
st.caption(f"{stats.n_leads:,} training leads, {stats.base_rate:.1%} converted. Information value (IV): < 0.02 weak, "
           "0.02-0.1 useful, 0.1-0.5 strong, > 0.5 suspiciously strong (check it is known before sales contact).")
st.dataframe(stats.attributes, hide_index=True, key="stats_table", column_config={
    "information_value": st.column_config.NumberColumn("IV", format="%.3f"), "chi2": st.column_config.NumberColumn(format="%.1f"),
    "p_value": st.column_config.NumberColumn(format="%.2g"), "cramers_v": st.column_config.NumberColumn(format="%.3f"),
    "point_biserial": st.column_config.NumberColumn(format="%+.3f"), "missing_share": PERCENT,
})
names = stats.attributes["attribute"].tolist()
pick = st.selectbox("Conversion rate by level", names, index=names.index(s.points.chosen[0]) if s.points.chosen[0] in names else 0, key="stats_attribute")
st.altair_chart(level_rate_chart(stats.level_table(pick), stats.base_rate), width="stretch")
st.caption("Bars: conversion rate per level; whiskers: 95% Wilson interval; dashed line: the base rate.")
st.dataframe(stats.level_table(pick).drop(columns=["attribute", "code"]), hide_index=True, key="level_table", column_config={
    **{c: PERCENT for c in ("share", "conversion_rate", "ci_low", "ci_high")},
    "lift": st.column_config.NumberColumn(format="%.2fx"), "woe": st.column_config.NumberColumn(format="%+.3f"),
    "iv": st.column_config.NumberColumn(format="%.4f"),
})
