"""Saved versions in the app: the save form, publish / rename / archive / open, shared by the Review page and the Designer.

The registry is lead_model.model.versions, on the store of the session's dataset; every call
opens the store for its own span (another app server or a CLI may be writing to it).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lead_model.errors import LeadModelError
from lead_model.formatting import markdown_escape as md
from lead_model.model.versions import VersionRegistry
from lead_model.review.describe import version_label
from pages.messages import callback, flash, for_app
from pages.session import dataset, workbench

ss = st.session_state


def registry() -> VersionRegistry:
    spec = dataset()
    return VersionRegistry(spec.store if spec is not None else None)


def versions() -> list:
    """Every saved version, newest first (archived ones too: they stay readable and comparable)."""
    try:
        return registry().list(include_archived=True)
    except LeadModelError as exc:
        st.warning(for_app(exc))
        return []


def live_history() -> pd.DataFrame:
    rows = registry().live_history()
    return pd.DataFrame(
        [{"Published": r.published_at.replace("T", " ")[:16], "Version": f"#{r.version_id} {r.name}", "By": r.published_by or "–"} for r in rows]
    )


def periods(wb, by: str):
    """The dataset's periods by quarter or month (LeadModelError without created dates), once per dataset."""
    from lead_model.review import periods as make_periods

    return wb.memo(("periods", by), lambda: make_periods(wb.leads, by))


def charts():
    """lead_model.charts.review, imported when a chart is drawn."""
    from lead_model.charts import review as review_charts

    return review_charts


@callback(where="versions")
def _save(prefix: str, publish: bool = False) -> None:
    wb = workbench()
    name = (ss.get(f"{prefix}_version_name") or "").strip() or wb.model.metadata.name
    saved = registry().save(wb.model, name, ss.get(f"{prefix}_version_author") or "", ss.get(f"{prefix}_version_notes") or "", leads=wb.leads)
    if publish:
        saved = registry().publish(saved.id, by=ss.get(f"{prefix}_version_author") or "")
    flash("success", f"Saved {md(version_label(saved))}{' and published it: it is the live model now' if publish else ''}.", "versions")


def save_form(wb, prefix: str) -> None:
    """Name, author and notes, then Save (a new version every time) or Save and publish."""
    with st.form(f"{prefix}_save_version", border=True):
        st.markdown("**Save the Designer's model as a new version**")
        n1, n2 = st.columns(2)
        n1.text_input("Version name", value=wb.model.metadata.name, key=f"{prefix}_version_name", max_chars=100)
        n2.text_input("Author", value=wb.model.metadata.author or "", key=f"{prefix}_version_author", max_chars=100)
        st.text_area("Notes", key=f"{prefix}_version_notes", height=68, placeholder="What changed and why: the room's decision in a sentence.")
        b1, b2 = st.columns(2)
        b1.form_submit_button("Save version", on_click=_save, args=(prefix,), icon=":material/save:", width="stretch")
        b2.form_submit_button("Save and publish", on_click=_save, args=(prefix, True), icon=":material/publish:", width="stretch",
                              help="Publishing marks this version as the live model (the one the CRM scores with).")


@callback(where="versions")
def _publish(prefix: str) -> None:
    v = registry().publish(ss[f"{prefix}_version_pick"], by=ss.get(f"{prefix}_version_author") or "")
    flash("success", f"{md(version_label(v))} is the live model now.", "versions")


@callback(where="versions")
def _rename(prefix: str) -> None:
    v = registry().rename(ss[f"{prefix}_version_pick"], ss.get(f"{prefix}_version_rename") or "")
    flash("success", f"Renamed to {md(version_label(v))}.", "versions")


@callback(where="versions")
def _archive(prefix: str) -> None:
    v = registry().archive(ss[f"{prefix}_version_pick"])
    flash("success", f"Archived {md(version_label(v))}: it stays readable, out of the way.", "versions")


@callback(where="versions")
def _open(prefix: str) -> None:
    v = registry().get(ss[f"{prefix}_version_pick"])
    workbench().adopt(v.model)
    flash("success", f"The Designer now works on {md(version_label(v))} (and compares with it).", "versions")


def version_actions(versions: list, prefix: str) -> None:
    """Pick a version, then publish, open in the Designer, rename or archive it."""
    ids = [v.id for v in versions]
    by_id = {v.id: v for v in versions}
    with st.container(border=True):
        p1, p2 = st.columns([2, 3], vertical_alignment="bottom")
        p1.selectbox("Version", ids, format_func=lambda i: version_label(by_id[i]), key=f"{prefix}_version_pick")
        a1, a2, a3 = p2.columns(3)
        a1.button("Publish", on_click=_publish, args=(prefix,), key=f"{prefix}_publish", icon=":material/publish:", width="stretch",
                  help="Make this version the live model; the one live before stays in the history.")
        a2.button("Open in Designer", on_click=_open, args=(prefix,), key=f"{prefix}_open", icon=":material/tune:", width="stretch")
        a3.button("Archive", on_click=_archive, args=(prefix,), key=f"{prefix}_archive", icon=":material/archive:", width="stretch")
        r1, r2 = st.columns([3, 1], vertical_alignment="bottom")
        r1.text_input("New name", key=f"{prefix}_version_rename", max_chars=100)
        r2.button("Rename", on_click=_rename, args=(prefix,), key=f"{prefix}_rename", icon=":material/edit:", width="stretch")


__all__ = ["charts", "live_history", "periods", "registry", "save_form", "version_actions", "versions"]
