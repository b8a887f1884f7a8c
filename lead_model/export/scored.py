"""Scored leads out: the input rows, in input order, with the model's scores appended."""

from __future__ import annotations

import os
from pathlib import Path


from lead_model.errors import LeadModelError
from lead_model.data.leads import LeadSet
from lead_model.model.schema import ScoringModel
from lead_model.engine.scoring import ScoringEngine, score_leads
from lead_model.data.store import ROW_COLUMN, LeadStore, literal, quote

SCORE_COLUMNS = ("score", "fit_score", "engagement_score", "grade", "tier", "knocked_out", "is_mql")


def _scored_sql(leads: LeadSet) -> str:
    appended = ", ".join(f"s.{c} AS {quote(c)}" for c in SCORE_COLUMNS)
    return (
        f"SELECT t.* EXCLUDE ({ROW_COLUMN}), {appended} FROM {quote(leads.info.table)} t "
        f"LEFT JOIN scored s ON t.{ROW_COLUMN} = s.row ORDER BY t.{ROW_COLUMN}"
    )


def write_scored_csv(leads: LeadSet, model: ScoringModel, out: str | Path, engine: ScoringEngine | None = None) -> Path:
    """Write the scored rows as CSV; written to a temporary file first, so a failure leaves no half file."""
    out = Path(out)
    if not out.parent.is_dir():
        raise LeadModelError(f"cannot write {out}: the folder {out.parent} does not exist; create it first or write somewhere else.")
    tmp = out.with_name(f".{out.name}.tmp")
    scored = score_leads(leads, model, engine)
    con = LeadStore(leads.store_path).connect()
    try:
        con.register("scored", scored)
        con.execute(f"COPY ({_scored_sql(leads)}) TO {literal(str(tmp))} (HEADER, DELIMITER ',')")
    finally:
        con.close()
    os.replace(tmp, out)
    return out
