"""The Export page's shipping section: the sign-off, the shipping config, scored leads with reasons and the workshop report.

Called by pages/export.py (``draw(wb)``). Signing off saves a new version carrying the sign-off
(lead_model.export.config.save_signed_version); the downloads build their files when clicked.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import streamlit as st

from lead_model.errors import LeadModelError
from lead_model.export.config import Signoff, build_config, config_from_version, make_signoff, save_signed_version, signed_version_for
from lead_model.formatting import file_stem
from lead_model.formatting import markdown_escape as md
from lead_model.review.describe import version_label
from pages import versioning
from pages.messages import callback, flash, show_flash
from pages.session import workbench

ss = st.session_state
KEYS = {"sales": "signoff_sales", "marketing": "signoff_marketing", "date": "signoff_date", "notes": "signoff_notes"}
COMPARE_KEY = "report_compare"
NO_COMPARISON, BASELINE = "none", "baseline"


@callback(where="signoff")
def _sign_off() -> None:
    wb = workbench()
    signed = make_signoff(ss.get(KEYS["sales"]) or "", ss.get(KEYS["marketing"]) or "", ss.get(KEYS["date"]), ss.get(KEYS["notes"]) or "")
    saved = save_signed_version(versioning.registry(), wb.model, signed, wb.leads)
    flash("success", f"Signed off: saved {md(version_label(saved))} with the sign-off. The config and the report carry it.", "signoff")


def _signed(wb):
    """The newest saved version of the Designer's model that was signed off, or None."""
    try:
        return signed_version_for(versioning.registry(), wb.model)
    except LeadModelError as exc:
        st.warning(str(exc))
        return None


def _config(wb, signed):
    return config_from_version(signed) if signed is not None else build_config(wb.model, wb.leads)


def _scored_with_reasons(wb) -> bytes:
    from lead_model.export.scored import write_scored

    with tempfile.TemporaryDirectory(prefix="lead-model-export-") as tmp:
        return write_scored(wb.leads, wb.model, Path(tmp) / "scored.csv", reasons=True).read_bytes()


def _report(wb, signed, choice) -> bytes:
    from lead_model.export.report import workshop_report

    previous, label = None, None
    if choice == BASELINE:
        previous, label = wb.baseline, "the baseline"
    elif isinstance(choice, int):
        saved = versioning.registry().get(choice)
        previous, label = saved.model, version_label(saved)
    signoff = Signoff.model_validate(signed.signoff) if signed is not None else None
    return workshop_report(wb.leads, wb.model, previous=previous, signed=signoff, previous_label=label).encode("utf-8")


def draw(wb, rows_stored: bool = True) -> None:
    """The section: sign-off form on the left, what ships and the downloads on the right.

    ``rows_stored`` False: another load replaced the dataset's stored rows, which the reasons CSV reads; its download is off."""
    st.divider()
    st.subheader("Ship the agreed model")
    signed = _signed(wb)
    left, right = st.columns(2, gap="large")
    with left:
        with st.form("signoff_form", border=True):
            st.markdown("**Sign off**: who agreed to ship this model")
            n1, n2 = st.columns(2)
            n1.text_input("For sales", key=KEYS["sales"], max_chars=100)
            n2.text_input("For marketing", key=KEYS["marketing"], max_chars=100)
            st.date_input("Date", value=dt.date.today(), key=KEYS["date"], format="YYYY-MM-DD")
            st.text_area("Notes", key=KEYS["notes"], height=68, placeholder="What was agreed, conditions, follow-ups.")
            st.form_submit_button("Sign off and save a version", on_click=_sign_off, icon=":material/verified:", width="stretch",
                                  help="Saves the Designer's model as a new version carrying the sign-off; no version is overwritten.")
        show_flash("signoff")
    with right:
        if signed is not None:
            s = signed.signoff
            st.success(f"{md(version_label(signed))}: signed off by {md(s.get('sales', ''))} (sales) and {md(s.get('marketing', ''))} "
                       f"(marketing) on {md(s.get('date', ''))}.", icon=":material/verified:")
        else:
            st.info("The Designer's model is not signed off yet; the config and the report say so until it is.", icon=":material/pending:")
        slug = file_stem(wb.model.metadata.name)
        d1, d2 = st.columns(2)
        d1.download_button("Download config (YAML)", lambda: _config(wb, signed).to_yaml(), file_name=f"{slug}_config.yaml", mime="application/yaml",
                           on_click="ignore", key="download_config_yaml", width="stretch", icon=":material/description:")
        d2.download_button("Download config (JSON)", lambda: _config(wb, signed).to_json(), file_name=f"{slug}_config.json", mime="application/json",
                           on_click="ignore", key="download_config_json", width="stretch", icon=":material/data_object:")
        st.caption("The config is the model file with the sign-off, the dataset's fingerprint and the backtest headline; "
                   "'Continue from a model file' below reads it back.")
        st.download_button("Download scored leads with reasons (CSV)", lambda: _scored_with_reasons(wb), file_name=f"{wb.leads.name}_scored_reasons.csv",
                           mime="text/csv", on_click="ignore", key="download_reasons", width="stretch", icon=":material/table_view:",
                           disabled=not rows_stored,
                           help="Every row in file order with its scores, points_<attribute> per attribute and its top reasons in words.")
        labels = {NO_COMPARISON: "No comparison", BASELINE: "The baseline (what the Designer compares with)"}
        by_id = {v.id: v for v in versioning.versions()}
        choice = st.selectbox("Compare the report with", [*labels, *by_id], key=COMPARE_KEY,
                              format_func=lambda o: labels[o] if o in labels else version_label(by_id[o]))
        st.download_button("Download workshop report (HTML)", lambda: _report(wb, signed, choice), file_name=f"{slug}_report.html", mime="text/html",
                           on_click="ignore", key="download_report", width="stretch", icon=":material/summarize:",
                           help="One HTML file that opens offline: the points in words, rules, backtest, charts and the sign-off.")


__all__ = ["draw"]
