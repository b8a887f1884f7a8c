"""The one-line offer to continue the last session's autosaved model (after a reload, F5 or a reconnect)."""

from __future__ import annotations

import streamlit as st

from lead_model.engine.scoring import fits
from lead_model.formatting import markdown_escape as md
from lead_model.workbench.autosave import offer_text
from pages import callbacks
from pages.session import RESUME, ss, workbench


def banner() -> None:
    """'Continue where the last session stopped? Saved 14:05 UTC, 7 changes: …' with Continue and Start over; nothing without an offer."""
    saved = ss.get(RESUME)
    wb = workbench()
    if saved is None or wb is None:
        return
    if not fits(wb.leads, saved.model):  # the roles changed since it was offered
        ss.pop(RESUME, None)
        return
    text, go, skip = st.columns([6.5, 1.5, 1.7], vertical_alignment="center")  # at 1280 px with the sidebar open the buttons read whole
    # Markdown, not st.info: one line of text, and the page's message boxes stay the page's own.
    text.markdown(f":material/history: {md(offer_text(saved, wb.model))}")  # what Continue would change
    go.button("Continue", key="resume_continue", on_click=callbacks.resume, type="primary", width="stretch",
              help="Restore the saved model and its baseline (undoable)")
    skip.button("Start over", key="resume_start_over", on_click=callbacks.dismiss_resume, width="stretch",
                help="Keep the model this session started with")
