"""Scored leads out (lead_model.export.scored): CSV and Parquet by suffix, reasons appended, and cells a spreadsheet would run neutralised."""

from __future__ import annotations

import csv

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import TINY_HEADER, TINY_MODEL, TINY_ROWS, write_csv

from lead_model import LeadModelError, ScoringModel, load_leads, score_leads
from lead_model.export.reasons import lead_reasons
from lead_model.export.scored import SCORE_COLUMNS, write_scored

# Cells OWASP's CSV-injection advice names, and plain numbers that only look like them.
HOSTILE = ["=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tTAB", "=1", "-", "--"]
NUMBERS = ["-5", "+3.5", "-0.25", "1e3"]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    cells = HOSTILE + NUMBERS
    rows = [[f"L{i:02}", cell, "=Software" if i % 2 else "Retail", "yes" if i % 3 == 0 else "no"] for i, cell in enumerate(cells)]
    path = write_csv(folder / "h.csv", ["lead_id", "note", "industry", "converted"], rows)
    leads = load_leads(path, "converted", store=folder / "s.duckdb")
    model = ScoringModel.from_dict({
        "attributes": [{"name": "industry", "kind": "categorical", "group": "fit", "levels": [{"value": "=Software", "points": -20}, {"value": "Retail", "points": 5}]}],
        "tiers": [{"name": "+top", "min_score": 0}, {"name": "@rest", "min_score": None}],
    })
    return leads, model, cells, folder


def read_cells(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_csv_cells_a_spreadsheet_would_run_get_a_quote(hostile, tmp_path):
    leads, model, cells, _ = hostile
    out = read_cells(write_scored(leads, model, tmp_path / "s.csv", reasons=True))
    assert [r["note"] for r in out] == ["'" + c for c in HOSTILE] + NUMBERS  # plain numbers stay numbers
    assert {r["industry"] for r in out} == {"'=Software", "Retail"}
    assert {r["tier"] for r in out} == {"'+top", "'@rest"}  # band names come from a model file
    assert [r["score"] for r in out] == ["-20" if i % 2 else "5" for i in range(len(cells))]  # numbers untouched, minus and all
    assert [r["points_industry"] for r in out] == ["-20" if i % 2 else "5" for i in range(len(cells))]
    # reasons start with the attribute's name, so they need no quote; the value inside is as written
    assert [r["reasons"] for r in out] == ["industry is =Software: -20" if i % 2 else "industry is Retail: +5" for i in range(len(cells))]


def test_raw_keeps_every_cell_as_it_is(hostile, tmp_path):
    leads, model, cells, _ = hostile
    out = read_cells(write_scored(leads, model, tmp_path / "s.csv", reasons=True, raw=True))
    assert [r["note"] for r in out] == cells
    assert {r["tier"] for r in out} == {"+top", "@rest"}


def test_parquet_by_suffix_keeps_values_and_types(hostile, tmp_path):
    leads, model, cells, _ = hostile
    table = pq.read_table(write_scored(leads, model, tmp_path / "s.parquet", reasons=True)).to_pandas()
    assert table["note"].tolist() == cells
    assert list(table.columns) == ["lead_id", "note", "industry", "converted", *SCORE_COLUMNS, "points_industry", "reasons"]
    expected = score_leads(leads, model)
    assert table["score"].tolist() == expected["score"].tolist()
    assert table["reasons"].astype(str).tolist() == lead_reasons(leads, model)["reasons"].astype(str).tolist()


def test_an_attribute_named_like_a_formula_neutralises_its_reasons(tmp_path):
    path = write_csv(tmp_path / "f.csv", ["=cmd", "converted"], [["a", "yes"], ["b", "no"]])
    leads = load_leads(path, "converted", store=tmp_path / "s.duckdb")
    model = ScoringModel.from_dict({"attributes": [{"name": "=cmd", "kind": "categorical", "group": "fit", "levels": [{"value": "a", "points": 3}]}]})
    out = pd.read_csv(write_scored(leads, model, tmp_path / "s.csv", reasons=True), dtype=str, keep_default_na=False)
    assert out["reasons"].tolist() == ["'=cmd is a: +3", ""]


def test_input_order_and_every_row_with_reasons(tmp_path, tiny_csv, tiny_model):
    leads = load_leads(tiny_csv, "converted", store=tmp_path / "s.duckdb")
    out = pd.read_csv(write_scored(leads, tiny_model, tmp_path / "s.csv", reasons=True), dtype={"lead_id": str})
    assert out["lead_id"].tolist() == [r[0] for r in TINY_ROWS]
    assert list(out.columns[: len(TINY_HEADER)]) == TINY_HEADER
    assert out["reasons"][0] == "page_views >= 10: +30; industry is Software: +20; employees 200 to < 1000: +20"
    assert [c for c in out.columns if c.startswith("points_")] == [f"points_{a['name']}" for a in TINY_MODEL["attributes"]]


def test_a_bad_format_or_folder_is_one_sentence(tmp_path, tiny, tiny_model):
    with pytest.raises(LeadModelError, match="CSV or Parquet"):
        write_scored(tiny, tiny_model, tmp_path / "s.xlsx", format="xlsx")
    with pytest.raises(LeadModelError, match="does not exist"):
        write_scored(tiny, tiny_model, tmp_path / "no" / "s.csv")
