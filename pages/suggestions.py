"""Suggestions: attribute statistics, suggested points fit on older leads and checked on held-out ones, and applying them."""

from __future__ import annotations

import streamlit as st

from lead_model.errors import LeadModelError
from lead_model.suggest import Suggestion, suggest
from lead_model.suggestion_charts import level_rate_chart, points_comparison_chart
from pages import state

RESULT_KEY = "suggestion"

leads = state.require_leads()
model = state.model()
st.title("Suggestions")
st.caption(f"Points suggested from **{leads.name}** ({leads.n_leads:,} leads, {leads.base_rate:.1%} converted), "
           "fit on older leads and reported on the newest ones, so the numbers are what to expect on new leads.")
state.show_flash()

with st.form("suggest_options"):
    c1, c2, c3, c4 = st.columns(4)
    n_attrs = len(leads.attributes)
    k = c1.slider("At most this many attributes", 1, max(n_attrs, 1), min(10, n_attrs), help="Start with 5-10: fewer points are easier to agree on.")
    scale = c2.radio("Scale", ["best lead scores about", "points double the odds"], horizontal=False)
    value = c2.number_input("points", min_value=1, max_value=1000, value=100 if scale.startswith("best") else 20)
    holdout = c3.selectbox("Hold out", ["auto", "time", "random", "none"], help="time: the newest quarter(s); random: 25% of leads.")
    include_leaky = c3.checkbox("Use attributes that look leaky")
    locked = c4.multiselect("Keep these attributes as they are", model.attribute_names, help="Their current points stay; the rest is fit around them.")
    run = st.form_submit_button("Suggest points", type="primary")

options = dict(holdout=holdout, max_attributes=int(k), include_leaky=include_leaky, locked_attributes=tuple(locked),
               **({"max_score": float(value)} if scale.startswith("best") else {"points_to_double": float(value)}))
key = (id(leads), leads.info.table, tuple(sorted(options.items())), model if locked else None)
hit = st.session_state.get(RESULT_KEY)
if run or hit is None or hit[0][0] != id(leads):
    try:
        with st.spinner("Fitting points..."):
            s = suggest(leads, model, **options)
    except LeadModelError as exc:
        st.error(str(exc))
        st.stop()
    st.session_state[RESULT_KEY] = (key, s)
else:
    s = hit[1]
s: Suggestion

# ----- validation ---------------------------------------------------------------------------
st.subheader("Train and holdout")
st.caption(s.split.description)
for w in s.validation.warnings:
    st.warning(w)
st.dataframe(s.validation.table, hide_index=True, column_config={"train": st.column_config.NumberColumn(format="%.3f"),
             "holdout": st.column_config.NumberColumn(format="%.3f"), "gap": st.column_config.NumberColumn(format="%+.3f")})


# ----- apply -----------------------------------------------------------------------------------
def apply_all() -> None:
    state.edit(s.model)
    state.flash("success", f"Applied all suggested points and MQL threshold {s.model.mql_threshold}; Undo on the Designer takes it back.")


def apply_one(name: str) -> None:
    state.edit(state.model().with_attribute(s.model.attribute(name)))
    state.flash("success", f"Applied the suggested points of '{name}'.")


st.subheader("Suggested points")
st.caption(f"{s.points.points_per_doubling:.1f} points double the odds of converting. MQL threshold {s.model.mql_threshold} (max F1 on the training leads).")
st.button("Apply all to the Designer", on_click=apply_all, type="primary", key="apply_all")
for name in s.points.chosen:
    with st.expander(f"**{name}**", expanded=False):
        t = s.table[s.table["attribute"] == name]
        left, right = st.columns(2)
        left.dataframe(t[["level", "current_points", "suggested_points", "leads", "conversion_rate", "why"]], hide_index=True,
                       column_config={"conversion_rate": st.column_config.NumberColumn(format="percent")})
        right.altair_chart(points_comparison_chart(s.table, name), use_container_width=True)
        st.button(f"Apply '{name}'", on_click=apply_one, args=(name,), key=f"apply::{name}")
if len(s.points.left_out):
    st.caption("Left out: " + "; ".join(f"{r.attribute} ({r.why})" for r in s.points.left_out.itertuples()))

# ----- thresholds --------------------------------------------------------------------------------
st.subheader("MQL threshold suggestions")
st.dataframe(s.thresholds, hide_index=True, column_config={c: st.column_config.NumberColumn(format="percent")
             for c in ("mql_rate", "precision", "recall", "holdout_precision", "holdout_recall")})

# ----- statistics ----------------------------------------------------------------------------------
st.subheader("Attribute statistics (training leads)")
stats = s.points.stats
st.dataframe(stats.attributes, hide_index=True)
pick = st.selectbox("Conversion rate by level", stats.attributes["attribute"].tolist(), key="stats_attribute")
st.altair_chart(level_rate_chart(stats.level_table(pick), stats.base_rate), use_container_width=True)
st.dataframe(stats.level_table(pick), hide_index=True)
