"""Scored leads out: the input rows, in input order, with the model's scores appended.

CSV cells are neutralised for spreadsheets (OWASP "CSV injection"): a text cell that starts
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, and is not a plain number such as
``-5`` or ``+3.5``, is written with a leading ``'`` so Excel, LibreOffice and Google Sheets show
it as text instead of running it as a formula (``raw=True`` writes every cell as it is). The
file's own cells, the model's band names in grade and tier, and the reasons (which start with
an attribute's name, see lead_model.export.reasons) all follow that one rule. Numbers are
typed columns and never touched; Parquet keeps every value as it is (no spreadsheet runs it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from lead_model.errors import LeadModelError
from lead_model.data.leads import LeadSet
from lead_model.model.schema import ScoringModel
from lead_model.engine.scoring import ScoringEngine, score_leads
from lead_model.data.store import ROW_COLUMN, LeadStore, literal, quote

SCORE_COLUMNS = ("score", "fit_score", "engagement_score", "grade", "tier", "knocked_out", "is_mql")


def write_scored_csv(leads: LeadSet, model: ScoringModel, out: str | Path, engine: ScoringEngine | None = None, raw: bool = False) -> Path:
    """Write the scored rows as CSV (``write_scored``); written to a temporary file first, so a failure leaves no half file."""
    return write_scored(leads, model, out, engine=engine, raw=raw, format="csv")


# A cell a spreadsheet would run as a formula, and the plain numbers that only look like one.
FORMULA_START = r"^[=+\-@\t\r]"
PLAIN_NUMBER = r"^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$"
SCORED_TEXT = ("grade", "tier", "reasons")  # appended text columns (band names come from the model file)


def neutralised(expression: str) -> str:
    """DuckDB SQL: the text ``expression`` with a leading ' where a spreadsheet would run it (the module docstring's rule)."""
    return (
        f"CASE WHEN regexp_matches({expression}, {literal(FORMULA_START)}) AND NOT regexp_matches({expression}, {literal(PLAIN_NUMBER)}) "
        f"THEN chr(39) || {expression} ELSE {expression} END"
    )


def write_scored(leads: LeadSet, model: ScoringModel, out: str | Path, *, reasons: bool = False, raw: bool = False, top: int = 3,
                 engine: ScoringEngine | None = None, format: str | None = None) -> Path:
    """Write every input row, in input order, with the scores appended: CSV, or Parquet for a ``.parquet`` name (or ``format``).

    With ``reasons`` the points of every attribute (``points_<attribute>``) and each lead's
    ``top`` reasons in words (``reasons``, see lead_model.export.reasons) follow the scores. CSV
    text cells are neutralised for spreadsheets unless ``raw`` (see the module docstring).
    Written to a temporary file first, so a failure leaves no half file.
    """
    out = Path(out)
    fmt = format or ("parquet" if out.suffix.lower() in (".parquet", ".pq") else "csv")
    if fmt not in ("csv", "parquet"):
        raise LeadModelError(f"scored leads are written as CSV or Parquet, not {fmt!r}; name the file .csv or .parquet.")
    if not out.parent.is_dir():
        raise LeadModelError(f"cannot write {out}: the folder {out.parent} does not exist; create it first or write somewhere else.")
    tmp = out.with_name(f".{out.name}.tmp")
    scored = score_leads(leads, model, engine)
    appended = list(SCORE_COLUMNS)
    if reasons:
        from lead_model.export.reasons import lead_reasons

        extra = lead_reasons(leads, model, top=top, engine=engine).drop(columns="row")
        scored = pd.concat([scored, extra], axis=1)
        appended += list(extra.columns)
    plain = raw or fmt == "parquet"
    table = quote(leads.info.table)  # before connecting: it may wait for this process's store write, which waits for readers
    con = LeadStore(leads.store_path).connect(read_only=True)  # a reader: parallel `score` runs share the store
    try:
        con.register("scored", scored)
        described = con.execute(f"SELECT * FROM {table} LIMIT 0").description
        text = {d[0] for d in described if str(d[1]).upper() == "VARCHAR"}
        cells = [_cell("t", c, not plain and c in text) for c, *_ in described if c != ROW_COLUMN]
        cells += [_cell("s", c, not plain and c in SCORED_TEXT) for c in appended]
        sql = f"SELECT {', '.join(cells)} FROM {table} t LEFT JOIN scored s ON t.{ROW_COLUMN} = s.row ORDER BY t.{ROW_COLUMN}"
        options = "(FORMAT PARQUET)" if fmt == "parquet" else "(HEADER, DELIMITER ',')"
        con.execute(f"COPY ({sql}) TO {literal(str(tmp))} {options}")
    finally:
        con.close()
    os.replace(tmp, out)
    return out


def _cell(table: str, column: str, neutralise: bool) -> str:
    expression = f"{table}.{quote(column)}"
    return f"{neutralised(expression) if neutralise else expression} AS {quote(column)}"
