"""Review: saved versions, the live model over time, drift, and any two models side by side, with a summary for the meeting notes."""

from __future__ import annotations

import streamlit as st

from lead_model.engine.scoring import fits
from lead_model.errors import LeadModelError
from lead_model.formatting import count
from lead_model.formatting import markdown_escape as md
from lead_model.review import compare, review, time_shifted_backtest
from lead_model.review.describe import (
    band_rows,
    cohort_rows,
    drift_rows,
    kpi_rows,
    level_rows,
    summary_text,
    version_label,
    version_rows,
)
from pages import versioning
from pages.messages import for_app, show_flash
from pages.session import require_workbench

wb = require_workbench()
leads = wb.leads
CURRENT = "current"  # the model being edited in the Designer, among the version ids

st.title("Review")
show_flash()
versions = versioning.versions()
by_id = {v.id: v for v in versions}
# A version of other data (it names columns this data lacks) cannot be backtested here: listed on the Versions tab only.
usable = [v for v in versions if fits(leads, v.model)]
live = next((v for v in usable if v.live), None)
choices = [CURRENT] + [v.id for v in usable]


def label(choice) -> str:
    return f"The Designer's model ('{wb.model.metadata.name}')" if choice == CURRENT else version_label(by_id[choice])


def model_of(choice):
    return wb.model if choice == CURRENT else by_id[choice].model


def model_name(choice) -> str:
    return "the Designer's model" if choice == CURRENT else ("the live model" if by_id[choice].live else f"version #{choice}")


# The live version until someone picks another model (the widget's own value would stay on the first default).
if st.session_state.get("review_model") not in choices or (live and not st.session_state.get("review_model_picked")):
    st.session_state["review_model"] = live.id if live else CURRENT
c1, c2 = st.columns([3, 1.2], vertical_alignment="bottom")
reviewed = c1.selectbox(
    "Model to review", choices, format_func=label, key="review_model", on_change=lambda: st.session_state.update(review_model_picked=True),
    help="The live version by default: the model the CRM scores with today.",
)
by = c2.segmented_control("Periods", ["quarter", "month"], default="quarter", key="review_by", format_func=str.title) or "quarter"
model = model_of(reviewed)
other_data = len(versions) - len(usable)
if other_data:
    st.caption(f"{count(other_data, 'saved version')} of other data (naming columns '{md(leads.name)}' lacks) "
               f"{'is' if other_data == 1 else 'are'} listed on the Versions tab only.")

tabs = st.tabs(["Summary and trends", "Drift", "Compare", "Versions"])

# ----- over time ---------------------------------------------------------------------
with tabs[0]:
    try:
        periods = versioning.periods(wb, by)
    except LeadModelError as exc:
        periods = None
        st.info(for_app(exc))
    if periods is not None:
        labels = list(periods.labels)
        r1, r2 = st.columns(2)
        reference = r1.selectbox("Reference period", labels, index=0, key=f"review_reference_{by}", help="Drift and the summary compare the recent period with this one.")
        recent = r2.selectbox("Recent period", labels, index=len(labels) - 1, key=f"review_recent_{by}")
        with st.container(key="review_summary"):
            try:
                result = wb.memo(("review", model, by, reference, recent, model_name(reviewed)),
                                 lambda: review(leads, model, by, reference, recent, model_label=model_name(reviewed)))
            except LeadModelError as exc:
                result = None
                st.warning(for_app(exc))
            if result is not None:
                st.subheader("Summary for the meeting notes")
                st.code(summary_text(result.summary), language=None, wrap_lines=True)
                st.subheader(f"{md(model.metadata.name)}, {by} by {by}")
                st.altair_chart(versioning.charts().cohort_trend(result.periods), width="stretch")
                st.dataframe(cohort_rows(result.periods), hide_index=True, width="stretch")
                band = st.segmented_control("Conversion by", ["tier", "grade"], default="tier", key="review_band", format_func=str.title) or "tier"
                st.dataframe(band_rows(result.tiers if band == "tier" else result.grades), hide_index=True, width="stretch")
        st.subheader("Time-shifted backtest")
        st.caption("Judge a model only on leads that came after the period it was designed on: design (or suggest) on the leads up to the cutoff, judge on the rest.")
        t1, t2, t3 = st.columns([1.3, 1.6, 1], vertical_alignment="bottom")
        cutoff = t1.selectbox("Design on leads up to", labels[:-1] or labels, index=max(len(labels) - 3, 0), key=f"review_cutoff_{by}")
        suggest = t2.toggle("Suggest points on those leads", key="review_shift_suggest", help="Off: judge the reviewed model as it is.")
        if t3.button("Run", key="review_shift_run", icon=":material/play_arrow:", width="stretch"):
            try:
                with st.spinner("Backtesting on the later leads..."):
                    shifted = wb.memo(("shifted", model, by, cutoff, suggest), lambda: time_shifted_backtest(leads, model, cutoff, by, suggest=suggest))
                st.session_state["review_shifted"] = (model, by, cutoff, suggest)
            except LeadModelError as exc:
                st.warning(for_app(exc))
        with st.container(key="review_shifted_result"):
            done = st.session_state.get("review_shifted")
            if done and done[0] == model and done[1] == by:
                shifted = wb.memo(("shifted", *done), lambda: time_shifted_backtest(leads, *done))
                st.markdown(md(shifted.sentence()))
                st.dataframe(shifted.table(), hide_index=True, width="stretch")

# ----- drift ------------------------------------------------------------------------
with tabs[1]:
    result = None
    if periods is not None:
        try:
            result = wb.memo(("review", model, by, reference, recent, model_name(reviewed)),
                             lambda: review(leads, model, by, reference, recent, model_label=model_name(reviewed)))
        except LeadModelError as exc:
            st.warning(for_app(exc))
    if result is None:
        st.info("Drift needs a created date column and two periods with leads.")
    else:
        s = result.score
        st.metric(f"Score distribution PSI, {reference} to {recent}", f"{s.psi:.3f}", s.verdict, delta_color="off", delta_arrow="off", border=True,
                  width=420)
        st.caption("PSI under 0.10: stable; 0.10 to 0.25: watch; 0.25 or more: act (re-check the points of that attribute).")
        st.dataframe(drift_rows(result.drift_table), hide_index=True, width="stretch")
        names = [d.attribute for d in result.attributes]
        if names:
            picked = st.selectbox("Levels of", names, key="review_drift_attribute", format_func=str)
            drift = next(d for d in result.attributes if d.attribute == picked)
            st.markdown(md(drift.sentence()))
            st.altair_chart(versioning.charts().drift_bars(drift.table(), reference, recent), width="stretch")
            st.dataframe(level_rows(drift.table()), hide_index=True, width="stretch")

# ----- compare ----------------------------------------------------------------------
with tabs[2]:
    others = [c for c in choices if c != reviewed]
    if not others:
        st.info("Nothing to compare with yet: save a version (Versions tab) or change the model in the Designer.")
    else:
        default = CURRENT if reviewed != CURRENT else (live.id if live and live.id in others else others[0])
        if st.session_state.get("review_against") not in others:
            st.session_state["review_against"] = default
        against = st.selectbox("Compare with", others, format_func=label, key="review_against")
        other = model_of(against)
        cmp = wb.memo(("compare", model, other), lambda: compare(leads, model, other))
        st.caption(f"Before: {md(label(reviewed))}. After: {md(label(against))}. Both backtested on the {len(leads.converted):,} leads of '{md(leads.name)}'.")
        k1, k2 = st.columns([1, 1.2], gap="large")
        with k1:
            st.subheader("What changed")
            with st.container(height=320, border=True):
                if cmp.changes:
                    st.markdown("\n".join(f"- {md(c)}" for c in cmp.changes))
                else:
                    st.markdown("The two models are the same.")
        with k2:
            st.subheader("Every KPI")
            st.dataframe(kpi_rows(cmp.kpis), hide_index=True, width="stretch", height=320)
        st.subheader("Leads that cross the MQL line")
        st.markdown(md(cmp.crossers.sentence()))
        st.caption("In the charts the model compared with is 'current' and the reviewed model is 'baseline'.")
        g1, g2 = st.columns(2)
        g1.altair_chart(versioning.charts().lift_overlay(cmp), width="stretch")
        g2.altair_chart(versioning.charts().gains_overlay(cmp), width="stretch")
        if len(cmp.examples):
            st.caption("Examples, with each attribute's points under both models:")
            st.dataframe(cmp.examples, hide_index=True, width="stretch", height=300)

# ----- versions ---------------------------------------------------------------------
with tabs[3]:
    versioning.save_form(wb, "review")
    show_flash("versions")
    if not versions:
        st.info("No saved versions yet. Save the Designer's model above; publish one to mark it live.")
    else:
        st.dataframe(version_rows(versions), hide_index=True, width="stretch")
        versioning.version_actions(versions, "review")
        history = versioning.live_history()
        if not history.empty:
            with st.expander("What was live when"):
                st.dataframe(history, hide_index=True, width="stretch")
