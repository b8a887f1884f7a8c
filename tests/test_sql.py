"""The SQL export (lead_model.export.sql): it parses in all five dialects, and on DuckDB it scores every lead exactly as score_leads.

Each dataset is scored twice by DuckDB: the raw CSV loaded as all VARCHAR, and with DuckDB's
own type detection. The Python side is the engine itself (score_leads, and points_vector per
attribute for the points_ columns), on leads loaded with the model as the CLI loads them.
"""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest
import sqlglot
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from conftest import BANK_CSV, SAMPLE_CSV, needs_bank
from lead_model import LeadModelError, ScoringModel, load_leads, score_leads
from lead_model.data.leads import leads_from_table
from lead_model.data.roles import RoleOverride
from lead_model.engine.scoring import attribute_codes, points_vector
from lead_model.export.sql import DIALECTS, check_dialect, model_expression, model_sql, output_columns, points_column, table_parts
from lead_model.model.semantics import DEFAULT_SEMANTICS, parse_number
from lead_model.model.starter import starter_model

POS = "__pos"  # the file position, added on the DuckDB side to line rows up (SQL keeps no order)
COMPARED = ["score", "fit_score", "engagement_score", "grade", "tier", "knocked_out", "is_mql"]


# ----- helpers ---------------------------------------------------------------------------
def python_scores(leads, model) -> dict[str, np.ndarray]:
    """What the Python engine gives per lead, in file order: score_leads' columns and each attribute's points."""
    scored = score_leads(leads, model)
    order = np.argsort(leads.row_index, kind="stable")
    assert np.array_equal(scored["row"].to_numpy(), leads.row_index[order])
    out = {c: scored[c].to_numpy() for c in COMPARED}
    out["row"] = scored["row"].to_numpy()
    for attr in model.attributes:
        codes, _ = attribute_codes(leads, attr)
        out[points_column(attr.name)] = points_vector(leads, attr)[codes][order]
    return out


def sql_scores(con, model, table, rows: np.ndarray) -> dict[str, np.ndarray]:
    """The exported SQL run by DuckDB, its rows lined up with ``rows`` (file positions) by POS."""
    df = con.execute(model_sql(model, "duckdb", table=table)).df()
    df = df.set_index(POS).loc[rows]
    return {c: df[c].to_numpy() for c in [*COMPARED, *(points_column(a.name) for a in model.attributes)]}


def assert_same(py: dict, sql: dict, model) -> None:
    for col in [*COMPARED, *(points_column(a.name) for a in model.attributes)]:
        a, b = np.asarray(py[col]), np.asarray(sql[col])
        if a.dtype.kind in "iub":
            b = b.astype(a.dtype)
        bad = np.flatnonzero(a != b)
        assert bad.size == 0, f"{col}: {bad.size} leads differ, first at file row {py['row'][bad[0]]}: python {a[bad[0]]!r}, sql {b[bad[0]]!r}"


def load_csv(con, path: Path, table: str = "leads", all_varchar: bool = True, schema: str | None = None, **options) -> str:
    """The CSV into a DuckDB table with its file position in POS (read sequentially, so row_number is the file order)."""
    opts = ", ".join(f"{k}={v}" for k, v in {"header": "true", "parallel": "false", "all_varchar": str(all_varchar).lower(), **options}.items())
    target = f'"{table}"' if schema is None else f'"{schema}"."{table}"'
    con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT row_number() OVER () - 1 AS {POS}, * FROM read_csv('{path}', {opts})")
    return target


def both_readings(path: Path, model, leads, **options):
    """Compare DuckDB over the raw CSV (all VARCHAR, then typed by DuckDB) with the engine, lead by lead."""
    py = python_scores(leads, model)
    con = duckdb.connect()
    try:
        for all_varchar in (True, False):
            load_csv(con, path, all_varchar=all_varchar, **options)
            assert_same(py, sql_scores(con, model, "leads", py["row"]), model)
        return con.execute('SELECT * FROM "leads" LIMIT 0').description
    finally:
        con.close()


def seeded(model: ScoringModel, seed: int, **changes) -> ScoringModel:
    """``model`` with points from a seeded random generator on every level, bin, missing and other."""
    rng = random.Random(seed)
    data = model.to_dict()
    for a in data["attributes"]:
        a["missing"] = {"points": rng.randint(-10, 10)}
        if a["kind"] == "numeric":
            a["bins"] = [{**b, "points": rng.randint(-15, 25)} for b in a["bins"]]
        else:
            a["levels"] = [{**lv, "points": rng.randint(-15, 25)} for lv in a["levels"]]
            a["other"] = {"points": rng.randint(-5, 5)}
    data.update(changes)
    return ScoringModel.from_dict(data)


# ----- every dialect ---------------------------------------------------------------------
def test_every_dialect_parses_back_with_every_name_and_value(sample_model):
    for model in (sample_model, hostile_model()):
        for dialect in DIALECTS:
            schema = "an_alytics" if dialect == "bigquery" else "an.alytics"  # BigQuery reads a dot in backticks as a path
            sql = model_sql(model, dialect, table=(schema, 'le"ads'))
            tree = sqlglot.parse_one(sql, read=dialect)
            assert isinstance(tree, exp.Select)
            names = {i.name for i in tree.find_all(exp.Identifier)}
            assert set(output_columns(model)) <= names and {schema, 'le"ads'} <= names
            assert set(model.attribute_names) <= names
            strings = {lit.this for lit in tree.find_all(exp.Literal) if lit.is_string}
            printable = {str(lv.value) for a in model.attributes if a.kind == "categorical" for lv in a.levels if str(lv.value).isprintable()}
            assert printable <= strings, printable - strings
            assert {b.name for b in model.grades + model.tiers if b.name.isprintable()} <= strings


def test_each_dialect_writes_its_own_sql(sample_model):
    sql = {d: model_sql(sample_model, d) for d in DIALECTS}
    assert '"t"."job_level"' in sql["duckdb"] and "`t`.`job_level`" in sql["spark"] and "`t`.`job_level`" in sql["bigquery"]
    assert "LATERAL" in sql["duckdb"] and "LATERAL" not in sql["bigquery"] and "UNNEST" in sql["bigquery"]
    assert "SAFE_CAST" in sql["bigquery"] and "TRY_CAST" in sql["snowflake"] and "DOUBLE PRECISION" in sql["postgres"]
    assert "REGEXP_LIKE" in sql["snowflake"] and "RLIKE" in sql["spark"] and " ~ " in sql["postgres"] and "REGEXP_CONTAINS" in sql["bigquery"]
    for text in sql.values():  # nothing that does not print reaches the text: tabs and line separators are CHR(...)
        assert all(ch.isprintable() or ch == "\n" for ch in text)
    assert model_sql(sample_model, "PostgreSQL") == sql["postgres"]


def test_unknown_dialect_is_one_sentence_listing_the_five(sample_model):
    with pytest.raises(LeadModelError, match=r"^'mysql' is not a dialect the SQL export writes; choose one of duckdb, postgres, snowflake, bigquery, spark\.$"):
        model_sql(sample_model, "mysql")
    assert check_dialect(" Spark ") == "spark"


# ----- DuckDB gives the engine's answer ---------------------------------------------------
def test_sample_on_duckdb_equals_score_leads(sample_model, tmp_path):
    leads = load_leads(SAMPLE_CSV, model=sample_model, store=tmp_path / "s.duckdb")
    description = both_readings(SAMPLE_CSV, sample_model, leads)
    assert dict((d[0], d[1]) for d in description)["company_size"] == "BIGINT"  # the typed reading was typed


def test_sample_with_caps_knockouts_on_every_kind_and_new_bands(sample_model, tmp_path):
    model = seeded(sample_model, 3, caps={"fit": 35, "engagement": 20, "total": 45}, mql_threshold=30, knockouts=[
        {"attribute": "job_level", "values": ["Student"]},
        {"attribute": "company_size", "below": 10, "at_least": 20000, "values": ["1000", " 77 "]},
        {"attribute": "personal_email", "values": ["yes"]},
        {"attribute": "country", "values": ["Germany"], "when_missing": True},  # a column the model does not score
        {"attribute": "website_visits", "when_missing": True},
    ], grades=[{"name": "A", "min_score": 30}, {"name": "B", "min_score": 0}, {"name": "C", "min_score": None}])
    leads = load_leads(SAMPLE_CSV, model=model, store=tmp_path / "s.duckdb")
    py = python_scores(leads, model)
    assert py["knocked_out"].any() and not py["knocked_out"].all() and (py["fit_score"] == 35).any() and (py["score"] == 45).any()
    both_readings(SAMPLE_CSV, model, leads)


def test_bank_on_duckdb_equals_score_leads(bank_leads, data_store):
    needs_bank()
    model = seeded(starter_model(bank_leads), 11, caps={"fit": 60, "engagement": None, "total": 80}, mql_threshold=25, knockouts=[
        {"attribute": "job", "values": ["student"]},
        {"attribute": "balance", "below": -500},
        {"attribute": "loan", "values": [True]},
        {"attribute": "education", "when_missing": True},  # 'unknown' is a missing value
    ], tiers=[{"name": "hot", "min_score": 45}, {"name": "warm", "min_score": 25}, {"name": "cold", "min_score": None}])
    leads = load_leads(bank_leads.name, "y", store=data_store, model=model)
    py = python_scores(leads, model)
    assert len(set(py["score"])) > 30 and py["knocked_out"].sum() > 100 and py["is_mql"].any()
    both_readings(BANK_CSV, model, leads)


# ----- a dataset that tries to break the SQL ----------------------------------------------
CAT = "it's; DROP TABLE leads; --"
NUM = 'size.employees "#" (`x`)'
FLAG = "Yes/No\tflag"
KEYWORD = "select"
UNI = "naïve ünïcode 列 ⅓"
OUTCOME = "converted"
HOSTILE_VALUES = [
    "O'Brien & Co", 'say "hi"', "x'; DROP TABLE leads; --", "SELECT * FROM t", "back`tick", "a\\b", "100%_sure", "UPPER", "upper",
    "Société Générale", "İstanbul", "tab\tinside", "new\nline", "two  spaces", " Leading and trailing ", "nbsp\xa0", "\u2028sep\u2029",
    "N/A", " -- ", "", "unknown", "NULL", "-- select --", "K\u212aelvin", "emoji 🎉", "semi;colon", "dot.ted",
]
HOSTILE_NUMBERS = ["1,200", " 7 ", "1e3", "-5", "N/A", "", "12abc", "1_000", "+3.5", ".5", "5.", "1,2,3", "--", "999999999999", "١٢", "0x10",
                   "inf", "nan", "1e400", "-0", "2,5", "\t42\t", "3 000", "-1,234.5"]
HOSTILE_FLAGS = ["Yes", "no", " yes ", "NO", "N/A", "", "\tYES\xa0"]  # the engine takes two spellings of yes/no per column, in any case


def hostile_model() -> ScoringModel:
    return ScoringModel.from_dict({
        "metadata": {"name": "hostile; DROP TABLE models; --"},
        "attributes": [
            {"name": CAT, "kind": "categorical", "group": "fit", "missing": {"points": -3}, "other": {"points": 1},
             "levels": [{"value": v.strip(), "points": 3 * i - 20} for i, v in enumerate(HOSTILE_VALUES) if v.strip()]},
            {"name": NUM, "kind": "numeric", "group": "fit", "missing": {"points": -7},
             "bins": [{"min": None, "points": 1}, {"min": -1.5, "points": 4}, {"min": 0.5, "points": 9}, {"min": 7, "points": 13}, {"min": 1000, "points": 17}]},
            {"name": FLAG, "kind": "boolean", "group": "engagement", "missing": {"points": 2},
             "levels": [{"value": True, "points": 11}, {"value": False, "points": -4}]},
            {"name": KEYWORD, "kind": "categorical", "group": "engagement",
             "levels": [{"value": "from", "points": 6}, {"value": "where", "points": -6}, {"value": "None", "points": 8}]},
            {"name": UNI, "kind": "categorical", "group": "fit", "levels": [{"value": "ja ✓", "points": 5}, {"value": "日本", "points": 7}]},
        ],
        "caps": {"fit": 30, "engagement": None, "total": 40},
        "knockouts": [
            {"attribute": CAT, "values": ["x'; DROP TABLE leads; --", 'say "hi"', "new\nline"]},
            {"attribute": NUM, "at_least": 100000},
            {"attribute": FLAG, "values": ["no"]},
            {"attribute": KEYWORD, "when_missing": True, "values": ["where"]},
        ],
        "mql_threshold": 12,
        "grades": [{"name": "A'; DROP", "min_score": 15}, {"name": 'B "q"', "min_score": 0}, {"name": "C`--;", "min_score": None}],
        "tiers": [{"name": "hot\u2028line", "min_score": 20}, {"name": "warm; --", "min_score": 5}, {"name": "cold 'n'", "min_score": None}],
    })


def hostile_rows(n: int, seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        rows.append([
            rng.choice(HOSTILE_VALUES), rng.choice(HOSTILE_NUMBERS), rng.choice(HOSTILE_FLAGS),
            rng.choice(["from", "where", " None ", "NULL", "n/a", "FROM", "select"]), rng.choice(["ja ✓", "日本", "nein", "", "?"]),
            "yes" if i % 3 == 0 else "no",
        ])
    return rows


def test_hostile_names_and_values_on_duckdb_equal_score_leads(tmp_path):
    model = hostile_model()
    path = tmp_path / "hostile.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n", quoting=csv.QUOTE_ALL)  # quoted: every cell keeps its spaces
        writer.writerow([CAT, NUM, FLAG, KEYWORD, UNI, OUTCOME])
        writer.writerows(hostile_rows(400, 5))
    leads = load_leads(path, OUTCOME, model=model, store=tmp_path / "s.duckdb")
    assert leads.n_leads == 400
    py = python_scores(leads, model)
    assert py["knocked_out"].any() and (py["tier"] == "hot\u2028line").any() and (py[points_column(NUM)] == -7).any()
    con = duckdb.connect()
    schema, table = "an.al'ytics; --", 'le"ads; DROP TABLE x; --'
    con.execute(f'CREATE SCHEMA "{schema}"')
    for all_varchar in (True, False):
        load_csv(con, path, table=table.replace('"', '""'), schema=schema, all_varchar=all_varchar, delim="','", quote="'\"'", escape="'\"'")
        assert_same(py, sql_scores(con, model, (schema, table), py["row"]), model)
    assert con.execute("SELECT count(*) FROM duckdb_tables()").fetchone()[0] == 1  # nothing was dropped or added


def test_every_white_space_character_is_trimmed_as_the_engine_trims(tmp_path):
    from lead_model.model.semantics import WHITESPACE

    k = len(WHITESPACE)
    values = [f"{ch}VP" for ch in WHITESPACE] + [f"VP{ch}" for ch in WHITESPACE] + list(WHITESPACE) + ["\u200bVP", "VP\u00ad"]  # zero-width: no space
    nums = [f"12{ch}" for ch in WHITESPACE] + [f"{ch}12" for ch in WHITESPACE] + ["\u200b12"] * k + ["12\u00ad", "12"]
    model = ScoringModel.from_dict({"attributes": [
        {"name": "title", "kind": "categorical", "group": "fit", "levels": [{"value": "VP", "points": 10}], "missing": {"points": -1}, "other": {"points": 3}},
        {"name": "n", "kind": "numeric", "group": "fit", "bins": [{"min": None, "points": 0}, {"min": 10, "points": 100}], "missing": {"points": 1000}},
    ]})
    rows = len(values)
    table = pa.table({"title": values, "n": nums, "converted": ["yes", "no"] * (rows // 2) + ["yes"] * (rows % 2)})
    leads = leads_from_table(table, "converted", model=model)
    py = python_scores(leads, model)
    con = duckdb.connect()
    con.register("arrow", table.add_column(0, POS, pa.array(np.arange(rows))))
    con.execute("CREATE TABLE leads AS SELECT * FROM arrow")
    assert_same(py, sql_scores(con, model, "leads", py["row"]), model)
    assert list(py["fit_score"]) == [110] * 2 * k + [999] * k + [1003, 103]  # white space only is missing; zero-width characters are not trimmed


# ----- random models over random rows ------------------------------------------------------
NAMES = [CAT, NUM, FLAG, KEYWORD, UNI, "plain", "Mixed Case", "from", "a.b.c", "quote'd", 'dq"d', "tick`d", "semi;colon -- x", "points"]


@st.composite
def random_case(draw):
    """A random table (text columns, or typed numbers) and a random model over it."""
    n = draw(st.integers(2, 30))
    names = draw(st.lists(st.sampled_from(NAMES), min_size=3, max_size=3, unique_by=str.casefold))
    cat, num, flag = names
    free_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=5)
    cats = draw(st.lists(st.one_of(st.sampled_from(HOSTILE_VALUES), free_text, st.none()), min_size=n, max_size=n))
    typed = draw(st.booleans())
    number_text = st.one_of(st.sampled_from(HOSTILE_NUMBERS), st.text("0123456789,.-+eE _\t\xa0", max_size=7),
                            st.floats(allow_nan=False, allow_infinity=False).map(repr), st.integers(-10**6, 10**6).map(str), st.none())
    typed_number = st.one_of(st.floats(-1e6, 1e6), st.just(math.nan), st.none())
    nums = draw(st.lists(typed_number if typed else number_text, min_size=n, max_size=n))
    if not typed:  # the engine takes a text column as numbers when at least half its values read as numbers
        present = [v for v in nums if v is not None and not DEFAULT_SEMANTICS.is_missing(v)]
        assume(present and sum(parse_number(v) == parse_number(v) for v in present) >= len(present) / 2)
    yes, no = draw(st.sampled_from([("Yes", "no"), ("TRUE", "false"), ("1", "0"), ("y", "N"), ("t", "0.0")]))
    spelled = [yes, no, f" {yes.lower()} ", no.upper(), f"\t{yes.upper()}\xa0", "N/A", "", None]
    flags = draw(st.lists(st.sampled_from(spelled), min_size=n, max_size=n))
    seen = sorted({c.strip() for c in cats if c is not None and c.strip()})
    levels = draw(st.lists(st.one_of(st.sampled_from(seen), free_text) if seen else free_text, unique=True, max_size=6))
    pts = st.integers(-20, 20)
    mins = sorted(draw(st.sets(st.one_of(st.integers(-100, 2000), st.floats(-1e3, 1e3, allow_nan=False)), max_size=4)))
    ko = []
    if draw(st.booleans()):
        ko.append({"attribute": cat, "values": draw(st.lists(st.sampled_from(seen or ["x"]), max_size=3)) or None, "when_missing": True})
    if draw(st.booleans()):
        ko.append({"attribute": num, "below": draw(st.integers(-50, 50)), "values": [str(draw(st.integers(-5, 5)))]})
    if draw(st.booleans()):
        ko.append({"attribute": flag, "values": [draw(st.sampled_from([True, False, "yes", "N"]))]})
    band = st.integers(-60, 60)
    model = ScoringModel.from_dict({
        "attributes": [
            {"name": cat, "kind": "categorical", "group": draw(st.sampled_from(["fit", "engagement"])), "missing": {"points": draw(pts)},
             "other": {"points": draw(pts)}, "levels": [{"value": v, "points": draw(pts)} for v in levels]},
            {"name": num, "kind": "numeric", "group": draw(st.sampled_from(["fit", "engagement"])), "missing": {"points": draw(pts)},
             "bins": [{"min": None, "points": draw(pts)}, *({"min": m, "points": draw(pts)} for m in mins)]},
            {"name": flag, "kind": "boolean", "group": draw(st.sampled_from(["fit", "engagement"])), "missing": {"points": draw(pts)},
             "other": {"points": draw(pts)}, "levels": [{"value": v, "points": draw(pts)} for v in draw(st.lists(st.booleans(), unique=True))]},
        ],
        "caps": {g: draw(st.one_of(st.none(), st.integers(0, 40))) for g in ("fit", "engagement", "total")},
        "knockouts": ko,
        "mql_threshold": draw(band),
        "grades": [{"name": f"g{i}", "min_score": m} for i, m in enumerate(sorted(draw(st.sets(band, max_size=3)), reverse=True))] + [{"name": "g-", "min_score": None}],
        "tiers": [{"name": f"t{i}'", "min_score": m} for i, m in enumerate(sorted(draw(st.sets(band, max_size=3)), reverse=True))] + [{"name": "t-", "min_score": None}],
    })
    columns = {cat: pa.array(cats, pa.string()), num: pa.array(nums, pa.float64() if typed else pa.string()), flag: pa.array(flags, pa.string())}
    columns[OUTCOME] = pa.array(["yes", "no"] + ["yes" if i % 2 else "no" for i in range(n - 2)])
    return pa.table(columns), model


@settings(max_examples=40)
@given(random_case())
def test_random_models_over_random_rows_on_duckdb_equal_score_leads(case):
    table, model = case
    leads = leads_from_table(table, OUTCOME, model=model, roles={a.name: RoleOverride(role="attribute", kind=a.kind) for a in model.attributes})
    py = python_scores(leads, model)
    con = duckdb.connect()
    try:
        con.register("arrow", table.add_column(0, POS, pa.array(np.arange(table.num_rows))))
        con.execute('CREATE TABLE "le ads" AS SELECT * FROM arrow')
        assert_same(py, sql_scores(con, model, "le ads", py["row"]), model)
    finally:
        con.close()


# ----- the SELECT's shape and its errors ----------------------------------------------------
def test_output_columns_in_order_and_listed_columns_only(sample_model):
    con = duckdb.connect()
    con.execute(f"CREATE TABLE leads AS SELECT * FROM read_csv('{SAMPLE_CSV}', all_varchar=true) LIMIT 5")
    every = [d[0] for d in con.execute(model_sql(sample_model)).description]
    inputs = [d[0] for d in con.execute("SELECT * FROM leads").description]
    assert every == inputs + list(output_columns(sample_model))
    assert output_columns(sample_model)[-7:] == ("knocked_out", "fit_score", "engagement_score", "score", "grade", "tier", "is_mql")
    listed = [d[0] for d in con.execute(model_sql(sample_model, columns=["lead_id", "email"])).description]
    assert listed == ["lead_id", "email", *output_columns(sample_model)]


def test_a_column_named_like_an_output_is_refused_with_the_fix(sample_model):
    renamed = sample_model.model_copy(update={"attributes": (sample_model.attributes[0].model_copy(update={"name": "Tier"}), *sample_model.attributes[1:])})
    with pytest.raises(LeadModelError, match=r"the leads column 'Tier' is read by the model and has the name of a column the SQL adds \('tier'\); list"):
        model_sql(renamed)
    assert "points_Tier" in model_sql(renamed, columns=["lead_id"])  # passed through without it, it is only read
    with pytest.raises(LeadModelError, match="'score' is passed through"):
        model_sql(sample_model, columns=["lead_id", "score"])
    twins = ScoringModel.from_dict({"attributes": [{"name": "Job", "kind": "categorical", "group": "fit"}, {"name": "job", "kind": "categorical", "group": "fit"}]})
    with pytest.raises(LeadModelError, match="'points_Job' and 'points_job'"):
        model_sql(twins)
    with pytest.raises(LeadModelError, match="NUL character"):
        model_sql(ScoringModel.from_dict({"attributes": [{"name": "a\x00b", "kind": "categorical", "group": "fit"}]}))


def test_table_names_are_one_name_or_parts(sample_model):
    assert 'FROM "my.leads" AS "t"' in model_sql(sample_model, table="my.leads", pretty=False)
    assert 'FROM "db"."an.alytics"."leads" AS "t"' in model_sql(sample_model, table=("db", "an.alytics", "leads"), pretty=False)
    assert table_parts("analytics.leads") == ("analytics", "leads")
    assert table_parts('db."odd.name; --".leads') == ("db", "odd.name; --", "leads")
    assert table_parts("`p`.`d`.`t`", "spark") == ("p", "d", "t")
    for bad in ("", "a b", "a.b.c.d", "leads; DROP TABLE x", "t AS x"):
        with pytest.raises(LeadModelError, match="is not a table name|is empty"):
            table_parts(bad)
    with pytest.raises(LeadModelError, match="is not a name"):
        model_sql(sample_model, table=("a", "b", "c", "d"))
    with pytest.raises(LeadModelError, match="BigQuery names cannot hold a dot"):
        model_sql(sample_model, "bigquery", table="my.leads")


def test_expression_is_a_sqlglot_select(sample_model):
    tree = model_expression(sample_model, dialect="spark")
    assert isinstance(tree, exp.Select) and tree.sql(dialect="spark", pretty=True) == model_sql(sample_model, "spark")
    assert math.isclose(len(list(tree.find_all(exp.Lateral))), 3)


def test_a_rare_level_past_the_encoded_ones_scores_and_knocks_out_as_listed():
    # 250 common titles, then a rare one the model lists and one a knock-out names: neither may hide among 'other'
    titles = [f"title {i:03d}" for i in range(250) for _ in range(2)] + ["Rare VP", "Student"]
    model = ScoringModel.from_dict({
        "attributes": [{"name": "title", "kind": "categorical", "group": "fit", "other": {"points": 1},
                        "levels": [{"value": "Rare VP", "points": 20}, {"value": "title 000", "points": 5}]}],
        "knockouts": [{"attribute": "title", "values": ["Student"]}],
    })
    table = pa.table({"title": titles, OUTCOME: ["yes", "no"] * (len(titles) // 2)})
    leads = leads_from_table(table, OUTCOME, model=model)
    py = python_scores(leads, model)
    assert py["score"][-2] == 20 and py["knocked_out"][-1] and py["knocked_out"].sum() == 1
    con = duckdb.connect()
    con.register("arrow", table.add_column(0, POS, pa.array(np.arange(table.num_rows))))
    con.execute("CREATE TABLE leads AS SELECT * FROM arrow")
    assert_same(py, sql_scores(con, model, "leads", py["row"]), model)
