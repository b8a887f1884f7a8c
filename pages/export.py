"""Export: the model as JSON or YAML, the scored leads as CSV, and continuing from a model file."""

from __future__ import annotations

import streamlit as st

from lead_model.errors import LeadModelError
from lead_model.formatting import count, file_stem
from lead_model.formatting import markdown_escape as md
from lead_model.workbench.describe import caps_text, points_table
from pages import callbacks, loading
from pages import ship_section
from pages import sql_section
from pages.messages import flash, for_app, show_flash
from pages.session import bind, require_workbench

wb = require_workbench()
leads = wb.leads
model = wb.model

st.title("Export")
show_flash()
slug = file_stem(model.metadata.name)

c1, c2 = st.columns(2, gap="large")
with c1:
    st.subheader("The model")
    st.caption("Downloading the model makes it the baseline the Designer compares with.")
    d1, d2 = st.columns(2)
    d1.download_button(
        "Download model (JSON)", model.to_json(), file_name=f"{slug}.json", mime="application/json",
        on_click=callbacks.set_baseline, key="download_json", width="stretch", icon=":material/data_object:",
    )
    d2.download_button(
        "Download model (YAML)", model.to_yaml(), file_name=f"{slug}.yaml", mime="application/yaml",
        on_click=callbacks.set_baseline, key="download_yaml", width="stretch", icon=":material/description:",
    )
try:
    replaced = loading.replaced_by(leads)  # the scored files read the stored rows: gone once another load replaced them
except LeadModelError:
    replaced = None  # a busy or unreadable store: the download says so itself
rows_gone = None if replaced is None else (
    f"The stored rows of '{md(leads.name)}' were replaced by a newer load ({replaced.rows:,} rows, loaded"
    f" {replaced.loaded_at[:16].replace('T', ' ')}); open the dataset again on the Data page to download scored leads."
)
with c2:
    st.subheader("The scored leads")
    st.caption(f"All {count(leads.summary.rows, 'row')} in file order with score, fit_score, engagement_score, grade, tier, knocked_out and is_mql appended.")
    st.download_button(
        "Download scored leads (CSV)",
        lambda: loading.scored_csv(leads, model),
        file_name=f"{leads.name}_scored.csv",
        mime="text/csv",
        on_click="ignore",
        key="download_scored",
        icon=":material/table_view:",
        disabled=rows_gone is not None,
    )
    gone = st.empty()  # always drawn: the page below keeps its place
    if rows_gone is not None:
        gone.warning(rows_gone, icon=":material/sync_problem:")

ship_section.draw(wb, rows_gone is None)  # sign-off, shipping config, scored leads with reasons, the workshop report
sql_section.draw(model)  # the model as one SELECT for the warehouse

st.divider()
st.subheader("Model details")
META_KEYS = {"name": "meta_name", "author": "meta_author", "notes": "meta_notes"}
with st.form("model_details", border=False):
    for field, key in META_KEYS.items():
        bind(key, getattr(model.metadata, field))
    m1, m2 = st.columns(2)
    m1.text_input("Name", key=META_KEYS["name"], help="Shown on every page and used for the file names.")
    m2.text_input("Author", key=META_KEYS["author"])
    st.text_area("Notes", key=META_KEYS["notes"], height=90, help="What the model is for, what the room agreed, where the data came from.")
    st.form_submit_button("Save details", on_click=callbacks.on_metadata, args=(META_KEYS,))
show_flash("metadata")

st.divider()
st.subheader("Continue from a model file")
upload = st.file_uploader("Upload a model file (JSON or YAML)", type=["json", "yaml", "yml"], key="model_upload")
if upload is not None and st.session_state.get("model_upload_done") != upload.file_id:
    st.session_state["model_upload_done"] = upload.file_id
    try:
        loaded = loading.model_from_upload(upload.name, upload.getvalue())
        callbacks.adopt_model(loaded)
    except LeadModelError as exc:
        st.error(for_app(exc))
    else:
        flash("success", f"Loaded '{md(loaded.metadata.name)}' from {md(upload.name)}; it is now the current model and the baseline.")
        st.rerun()

st.divider()
st.subheader(f"{md(model.metadata.name)}: points at a glance")
st.dataframe(points_table(model), hide_index=True, width="stretch", height=420, column_config={
    "attribute": "Attribute", "group": "Group", "level": "Level", "points": st.column_config.NumberColumn("Points", format="%d"),
})
st.caption(md(caps_text(model)) + ".")
with st.expander("The model file (YAML)"):
    st.code(model.to_yaml(), language="yaml")
