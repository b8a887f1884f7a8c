"""Data: load leads (the sample, an upload, a path or a stored dataset), check their quality and set column roles."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from lead_model.errors import LeadModelError
from lead_model.data.access import MAX_LISTED
from lead_model.data.leaks import leak_check
from lead_model.data.quality import column_quality, overview
from lead_model.formatting import DASH
from lead_model.formatting import markdown_escape as md
from lead_model.workbench.reconcile import GROUP_OPTIONS, KIND_OPTIONS, ROLE_OPTIONS
from pages import loading, session
from pages.messages import callback, flash, for_app, show_flash

session.ensure_app()
st.title("Data")
show_flash()


def run_load(what: str, fn, *args, **kwargs) -> None:
    """Load with a progress bar naming each step; a LeadModelError is shown as one sentence and nothing changes."""
    bar = st.empty()
    try:
        with st.spinner(f"Loading {md(what)}…", show_time=True):  # spinner and progress texts are Markdown: file names escaped
            message = fn(*args, **kwargs, progress=lambda fraction, text: bar.progress(fraction, text=md(text)))
    except LeadModelError as exc:
        bar.empty()
        st.error(for_app(exc))
        return
    flash("success", f"Loaded {md(what)}. {md(message)}")
    st.rerun()


# ----- sources -----------------------------------------------------------------------------
sample_col, upload_col, stored_col = st.columns(3, gap="large")
with sample_col:
    st.subheader("Sample")
    st.caption("50,000 B2B leads with a RevOps model to start from.")
    if st.button("Use the bundled sample", disabled=not session.SAMPLE_DATA.is_file()):
        run_load("the bundled sample", loading.load_file, session.SAMPLE_DATA)

def load_upload(upload, outcome: str | None, name: str, replacing: bool = False) -> None:
    st.session_state["upload_done"] = upload.file_id  # load each upload once, not on every rerun
    what = f"{upload.name} as '{name}'" + (" (it replaced the stored one)" if replacing else "")
    run_load(what, loading.load_upload, upload.name, upload.getvalue(), outcome, name=name)


def ask_replace(upload, outcome: str | None, name: str, stored) -> None:
    """An upload named like a stored dataset replaces it for everyone on this store only when someone says so."""
    when = stored.loaded_at[:16].replace("T", " ")
    st.warning(
        f"A dataset named '{md(name)}' is already stored ({stored.rows:,} rows, loaded {when} from {md(Path(stored.source).name)}). "
        "Replacing it changes it for everyone who uses this store.",
        icon=":material/warning:",
    )
    free = loading.free_name(name)
    if st.button(f"Load as '{md(free)}'", key="upload_as_new", type="primary", width="stretch"):
        load_upload(upload, outcome, free)
    if st.button(f"Replace '{md(name)}'", key="upload_replace", width="stretch"):
        load_upload(upload, outcome, name, replacing=True)
    if st.button("Cancel", key="upload_cancel", width="stretch"):
        st.session_state["upload_done"] = upload.file_id
        flash("info", f"Nothing loaded: '{md(name)}' stays as it was.")
        st.rerun()


try:
    access = loading.file_access()
except LeadModelError as exc:
    access = None
    st.error(for_app(exc))
BIGGER = {
    "any": "load it by path, or gzip it (.csv.gz)",
    "folder": "ask whoever runs the app to put it in the data folder, or gzip it (.csv.gz)",
}

with upload_col:
    st.subheader("Upload")
    limit_mb = st.get_option("server.maxUploadSize")
    bigger = BIGGER.get(access.by_path if access is not None else "", "gzip it (.csv.gz) or leave out columns you do not score")
    upload = st.file_uploader(
        # Excel too, so that its one sentence (export it as CSV) is the app's, not the uploader's "not allowed"
        "Upload leads (CSV or Parquet)", type=["csv", "parquet", "pq", "txt", "gz", "xlsx", "xls"], key="upload",
        help=f"Up to {limit_mb:,} MB a file. A bigger file: {bigger}.",
    )
    outcome = st.text_input(
        "Outcome column", key="upload_outcome", placeholder="detected (e.g. converted)",
        help="The converted yes/no column of the next file you load; leave empty to detect it.",
    ).strip() or None
    question = st.container()  # drawn on every run: the page below keeps its place
    if upload is not None and st.session_state.get("upload_done") != upload.file_id:
        name = loading.upload_name(upload.name)
        try:
            stored = loading.stored_info(name)
        except LeadModelError as exc:
            stored = None
            st.error(for_app(exc))
        with question:
            if stored is None:
                load_upload(upload, outcome, name)
            else:
                ask_replace(upload, outcome, name, stored)

with sample_col:
    if access is not None and access.by_path == "any":
        with st.popover("Load a file by path"):
            st.caption("For big files: read straight from this machine's disk, no upload.")
            path = st.text_input("Path of a CSV or Parquet file", key="load_path", placeholder="/data/leads.parquet")
            if st.button("Load file", key="load_path_button") and path.strip():
                run_load(path.strip(), loading.load_path, path.strip(), outcome)
    elif access is not None and access.by_path == "folder":
        with st.popover("Load a file from the data folder"):
            files = access.files()
            where = "" if access.hosted else f" {md(str(access.data_dir))}"  # a hosted app does not show its server's paths
            st.caption(
                f"For big files: read straight from the server's data folder{where}, no upload"
                + (f" (the first {len(files):,} files)." if len(files) >= MAX_LISTED else ".")
            )
            if files:
                # No default: a quick click loads nothing, and a file gone from the folder is not swapped for the first one.
                picked = st.selectbox("File", files, key="load_folder_file", index=None, placeholder="Pick a file")  # options: plain text
                if st.button("Load file", key="load_path_button") and picked:
                    run_load(picked, loading.load_path, picked, outcome)
            else:
                st.caption("No CSV or Parquet files in it yet.")

with stored_col:
    st.subheader("Stored datasets")
    try:
        stored = loading.stored_datasets()
    except LeadModelError as exc:
        st.error(for_app(exc))
        stored = []
    if stored:
        names = [d.name for d in stored]
        info = {d.name: d for d in stored}
        choice = st.selectbox(
            "Reopen a stored dataset",
            names,
            key="stored_choice",
            format_func=lambda n: f"{n} ({info[n].rows:,} rows, loaded {info[n].loaded_at[:16].replace('T', ' ')})",
        )
        if st.button("Open dataset", key="open_stored"):
            run_load(f"'{choice}'", loading.reopen, choice)
    else:
        st.caption("Nothing stored yet: every file you load is kept here.")

wb = session.workbench()
leads = wb.leads if wb is not None else None
if leads is None:
    st.info("Load the sample or your own leads to start.")
    st.stop()

# ----- overview ----------------------------------------------------------------------------
spec = session.dataset()
st.divider()
st.header(md(leads.name), anchor=False)
newer = next((d for d in stored if d.name == leads.name and d.table != leads.info.table), None)
if newer is not None:
    st.warning(
        f"'{md(leads.name)}' in the store was replaced by a newer load ({newer.rows:,} rows, loaded {newer.loaded_at[:16].replace('T', ' ')}"
        f" from {md(Path(newer.source).name)}). This session still works on its own copy of {leads.summary.rows:,} rows; "
        "open the dataset again above to work on the new rows.",
        icon=":material/sync_problem:",
    )
st.caption(f"Source: {md(spec.source if spec else leads.info.source)} · outcome '{md(leads.outcome)}' (converted = '{md(leads.summary.positive_value)}')")
ov = overview(leads)
c = st.columns(5)
c[0].metric(
    "Rows", f"{ov.rows:,}", border=True,
    help=f"Each row is a lead; {ov.leads:,} have an outcome and are scored"
    + (f", {ov.dropped_no_outcome:,} without one are left out." if ov.dropped_no_outcome else "."),
)
c[1].metric("Conversion rate", f"{ov.conversion_rate:.1%}", border=True)
c[2].metric("Converted", f"{ov.converted:,}", border=True)
c[3].metric(
    "History",
    f"{wb.months():.0f} months" if wb.months() is not None else "no dates",
    help=f"Created {ov.first_created} to {ov.last_created} ('{md(ov.created_column)}')" if ov.first_created is not None else "No created date column.",
    border=True,
)
c[4].metric("Duplicate leads", "no id column" if ov.duplicate_leads is None else f"{ov.duplicate_leads:,}", border=True)
if ov.first_created is not None:
    st.caption(f"Created {ov.first_created} to {ov.last_created} ('{md(ov.created_column)}').")
for note in leads.summary.notes:
    st.caption(md(note))

def change_roles(fn, *args) -> None:
    """Apply a roles change; a LeadModelError is one sentence and nothing changes."""
    try:
        with st.spinner("Encoding the leads with the new roles…"):
            message = fn(*args)
    except LeadModelError as exc:
        st.error(for_app(exc))
    else:
        st.session_state["roles_version"] = st.session_state.get("roles_version", 0) + 1  # a fresh editor showing the applied roles
        flash("success", md(message))
        st.rerun()


power = wb.power()
# answers memoised: no store read per run; a column with levels recorded after contact is judged again without them
verdicts = leak_check(leads, power, loading.leak_answers(leads), loading.leak_levels(leads))
ANSWERS = {"Known before sales contact": True, "Filled in after sales contact": False}


def on_answer(column: str, key: str) -> None:
    """Store the room's answer with the dataset; the verdicts (here, Suggestions, CLI) follow it."""
    choice = st.session_state.get(key)
    callback()(lambda: loading.save_leak_answer(leads, column, ANSWERS.get(choice)))()


@callback()
def on_level(column: str, level: str, after: bool) -> None:
    """Store (or forget) "only ``level`` of ``column`` is recorded after sales contact"; the verdicts and the suggester follow."""
    loading.save_leak_level(leads, column, level, after)


with st.container(key="leak_checks"):  # always drawn: the answers below come and go without moving the rest of the page
    if not any(v.leaky or v.needs_answer for v in verdicts.values()):
        st.success("No column looks like it leaks the outcome.")
    for v in verdicts.values():
        if not (v.leaky or v.needs_answer or v.answer is not None or v.ignored_levels):
            continue
        text, answer_col, button = st.columns([5, 2, 1.6], vertical_alignment="center")
        if v.leaky:
            text.warning(f"**Possible leak: {md(v.column)}.** {md(v.evidence)} A column filled in after a lead converts makes history "
                         "look better than the future will be: it stays out of suggestions unless it is known before sales contact.")
        elif v.needs_answer:
            text.info(f"**Question: {md(v.column)}.** {md(v.question)}")
        else:
            text.success(md(v.evidence))
        key = f"known::{v.column}"
        current = next((label for label, known in ANSWERS.items() if known == v.answer), None)
        if st.session_state.get(key) != current:
            st.session_state[key] = current
        answer_col.radio(f"Is {md(v.column)} known before sales contact?", list(ANSWERS), key=key, index=None, label_visibility="collapsed",
                         on_change=on_answer, args=(v.column, key))
        if v.leaky and button.button("Ignore column", key=f"ignore_leak::{v.column}", type="primary", width="stretch",
                                     help=md(f"Set '{v.column}' to ignore: it leaves the model and the suggestions.")):
            change_roles(loading.ignore_columns, [v.column])
        if v.leaky and v.answer is None and v.pure_level is not None:  # the evidence is one level: answer for it alone
            button.button(md(v.level_offer), key=f"ignore_level::{v.column}", width="stretch", help=md(v.level_offer_help),
                          on_click=on_level, args=(v.column, v.pure_level, True))
        for level in v.ignored_levels:
            button.button(md(f"Count '{level}' again"), key=f"count_level::{v.column}::{level}", width="stretch",
                          help=md(f"Forget that '{level}' is recorded after sales contact: it counts in the leak check and the points again."),
                          on_click=on_level, args=(v.column, level, False))

# ----- roles -------------------------------------------------------------------------------
st.subheader("Column roles")
st.caption(
    "One outcome (converted yes/no), lead ids (a CRM id, a row number) and at most one created date; attributes are scored, "
    "as fit (who they are) or engagement (what they did). Set a column to ignore to leave it out."
)
version = st.session_state.get("roles_version", 0)
ignorable = [c for c, r in leads.roles.items() if r.role != "outcome"]
ignored = [c for c in ignorable if leads.roles[c].role == "ignore"]
picked = st.multiselect("Ignore these columns", ignorable, default=ignored, key=f"ignored_{version}",
                        help="Columns left out of the model and the suggestions; take one out of this list to score it again.")
if sorted(picked) != sorted(ignored) and st.button("Apply", key="apply_ignored", type="primary"):
    change_roles(loading.set_ignored, picked)
editor_key = f"roles_editor_{version}"
roles = loading.roles_table(leads)
edited = st.data_editor(
    roles,
    key=editor_key,
    hide_index=True,
    width="stretch",
    height=35 * (len(roles) + 1) + 3,
    disabled=["column", "missing", "distinct", "reason"],
    column_config={
        "column": st.column_config.TextColumn("Column"),
        "role": st.column_config.SelectboxColumn("Role", options=list(ROLE_OPTIONS), required=True),
        "kind": st.column_config.SelectboxColumn("Kind", options=list(KIND_OPTIONS)),
        "group": st.column_config.SelectboxColumn("Group", options=list(GROUP_OPTIONS), width=270,
                                                  help="Fit: who they are; engagement: what they did. Unknown is counted as fit until you choose."),
        "missing": st.column_config.ProgressColumn("Missing", format="percent", min_value=0.0, max_value=1.0),
        "distinct": st.column_config.NumberColumn("Values", format="localized", help="Distinct values"),
        "reason": st.column_config.TextColumn("Why", width="medium", help="Hover a cell for all of it"),
    },
)
if st.button("Apply roles", type="primary", key="apply_roles"):
    change_roles(loading.apply_roles, edited)

# ----- quality -----------------------------------------------------------------------------
st.subheader("Data quality")
quality = column_quality(leads)
st.dataframe(
    quality.drop(columns=["reason"]).fillna({"kind": DASH, "group": DASH}),  # an id or ignored column has neither: "–", not "None"
    hide_index=True,
    width="stretch",
    height=35 * (len(quality) + 1) + 3,
    column_config={
        # widths in pixels: the grid sizes a column by its first rows only ("engagement" came later and was cut),
        # and all eleven columns fit 1,216 px (the page at 1280 px)
        "column": "Column", "role": "Role", "kind": "Kind", "group": st.column_config.TextColumn("Group", width=100), "dtype": "Type",
        "missing_share": st.column_config.ProgressColumn("Missing", format="percent", min_value=0.0, max_value=1.0, width=110),
        "placeholder_share": st.column_config.ProgressColumn("Placeholders", format="percent", min_value=0.0, max_value=1.0, width=110,
                                                             help="Share of rows holding a stand-in such as 'N/A', '--' or 'Select'"),
        "missing": st.column_config.NumberColumn("Rows missing", format="localized"),
        "placeholders": st.column_config.TextColumn("Placeholder values", width=260),
        "distinct": st.column_config.NumberColumn("Values", format="localized", help="Distinct values"),
        "high_cardinality": st.column_config.CheckboxColumn("Many values"),
    },
)
high = quality.loc[quality["high_cardinality"], "column"].tolist()
if high:
    st.caption(f"Many distinct values (hard to score level by level): {md(', '.join(high))}.")

st.subheader("How well each attribute separates on its own")
st.caption("AUC of ranking leads by that attribute's conversion rate alone: 0.5 = no signal; above 0.8 is suspicious for lead data.")
st.dataframe(
    power[["column", "kind", "group", "auc", "present_converted", "present_not_converted"]].fillna({"kind": DASH, "group": DASH}),
    hide_index=True,
    width="stretch",
    height=35 * (len(power) + 1) + 3,
    column_config={
        "column": "Column", "kind": "Kind", "group": "Group",
        "auc": st.column_config.ProgressColumn("Strength alone (AUC)", format="%.3f", min_value=0.5, max_value=1.0),
        "present_converted": st.column_config.NumberColumn("Filled in: converted", format="percent"),
        "present_not_converted": st.column_config.NumberColumn("Filled in: others", format="percent"),
    },
)
