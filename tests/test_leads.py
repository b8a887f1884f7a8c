"""Loading leads: encodings, ordering, placeholders, odd CSV files, and the errors people see."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import TINY_HEADER, TINY_ROWS, attribute_points, build_random, load_random, random_leads, random_models, write_csv
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lead_model import LeadModelError, ScoringModel, backtest, load_leads, score_leads
from lead_model.data.leads import leads_from_table
from lead_model.data.sources import read_source
from lead_model.data.roles import MAX_LEVELS, RoleOverride
from lead_model.export.scored import write_scored_csv
from lead_model.model.semantics import Semantics


# ----- the hand-built fixture --------------------------------------------------------------
def test_tiny_roles_and_summary(tiny):
    roles = {n: (r.role, r.kind) for n, r in tiny.roles.items()}
    assert roles == {
        "lead_id": ("id", None), "created": ("created", None), "industry": ("attribute", "categorical"),
        "employees": ("attribute", "numeric"), "page_views": ("attribute", "numeric"),
        "newsletter": ("attribute", "boolean"), "converted": ("outcome", None),
    }
    s = tiny.summary
    assert (s.rows, s.leads, s.converted, s.dropped_no_outcome, s.duplicate_ids) == (12, 12, 4, 0, 0)
    assert s.positive_value == "yes"
    assert any("'industry'" in note and "'Select' (1)" in note and "'N/A' (1)" in note for note in s.notes)
    assert (tiny.n_leads, tiny.n_converted, tiny.base_rate) == (12, 4, 4 / 12)
    assert tiny.lead_id_column == "lead_id" and tiny.created_column == "created" and tiny.outcome == "converted"


def test_tiny_converted_first_in_file_order(tiny):
    assert list(tiny.row_index) == [0, 3, 5, 9, 1, 2, 4, 6, 7, 8, 10, 11]
    assert list(tiny.converted) == [True] * 4 + [False] * 8
    assert tiny.created[0] == np.datetime64("2024-01-05") and tiny.created[-1] == np.datetime64("2024-06-30")
    assert tiny.created.dtype == np.dtype("datetime64[D]")


def test_tiny_categorical_codes(tiny):
    enc = tiny.attribute("industry")
    # most common first, ties by name; placeholders are missing (code 0), never levels
    assert enc.levels == ("Software", "Retail", "Education", "Government")
    assert enc.n_codes == 6 and enc.n_missing == 2
    by_row = dict(zip(tiny.row_index, enc.codes))
    values = [r[2] for r in TINY_ROWS]
    for row, value in enumerate(values):
        assert by_row[row] == (0 if value in ("Select", "N/A") else enc.levels.index(value) + 1)


def test_tiny_boolean_and_numeric(tiny):
    news = tiny.attribute("newsletter")
    assert news.kind == "boolean" and news.levels == ("false", "true") and news.labels == ("no", "yes")
    by_row = dict(zip(tiny.row_index, news.codes))
    assert [by_row[i] for i in range(12)] == [{"yes": 2, "no": 1, None: 0}[r[5]] for r in TINY_ROWS]
    emp = tiny.attribute("employees")
    values = dict(zip(tiny.row_index, emp.values))
    assert np.isnan(values[3]) and emp.n_missing == 1
    assert [values[i] for i in range(12) if i != 3] == [float(r[3]) for r in TINY_ROWS if r[3] is not None]
    # bins: 0 missing, then 1 + number of edges <= value
    codes = dict(zip(tiny.row_index, tiny.bin_codes("employees", (50.0, 200.0, 1000.0))))
    assert [codes[i] for i in range(12)] == [3, 1, 4, 0, 1, 3, 4, 2, 2, 3, 1, 2]


def test_rows_and_positions(tiny):
    rows = tiny.rows([5, 0])
    assert list(rows["lead_id"]) == ["L06", "L01"]
    assert list(tiny.rows(limit=3)["lead_id"]) == ["L01", "L02", "L03"]
    assert list(tiny.find_rows("L1")["lead_id"]) == ["L10", "L11", "L12"]
    pos = tiny.lead_positions(np.array([0, 9, 1, 99, -1]))
    assert list(pos) == [0, 3, 4, -1, -1]
    assert list(tiny.row_index[pos[:3]]) == [0, 9, 1]


def test_reopen_by_name(tiny_csv, store):
    first = load_leads(tiny_csv, "converted", store=store, name="history", exclude=["newsletter"])
    again = load_leads("history", store=store)
    assert again.outcome == "converted" and "newsletter" not in again.attributes
    assert (again.row_index == first.row_index).all() and (again.converted == first.converted).all()
    for name, enc in first.attributes.items():
        other = again.attributes[name]
        assert enc.levels == other.levels
        assert (enc.codes == other.codes).all() if enc.codes is not None else np.array_equal(enc.values, other.values, equal_nan=True)


def test_parquet_loads_like_csv(tmp_path, tiny):
    table = pa.table({h: [r[i] for r in TINY_ROWS] for i, h in enumerate(TINY_HEADER)})
    path = tmp_path / "tiny.parquet"
    pq.write_table(table, path)
    leads = load_leads(path, "converted", store=tmp_path / "s.duckdb")
    assert (leads.row_index == tiny.row_index).all()
    model = ScoringModel.from_dict({"attributes": [
        {"name": "industry", "kind": "categorical", "group": "fit", "levels": [{"value": "Retail", "points": 3}], "missing": {"points": -1}},
        {"name": "employees", "kind": "numeric", "group": "fit", "bins": [{"min": None, "points": 0}, {"min": 100, "points": 7}]},
    ]})
    assert score_leads(leads, model).equals(score_leads(tiny, model))


# ----- outcome and rows ------------------------------------------------------------------
def test_rows_without_outcome_are_left_out(tmp_path):
    rows = [["a", "yes"], ["b", None], ["a", "no"], ["c", "N/A"], ["b", "no"]]
    leads = load_leads(write_csv(tmp_path / "x.csv", ["seg", "converted"], rows), store=tmp_path / "s.duckdb")
    assert leads.summary.dropped_no_outcome == 2 and leads.n_leads == 3
    assert list(leads.row_index) == [0, 2, 4]
    assert any("2 rows have no value in 'converted'" in n for n in leads.summary.notes)


@pytest.mark.parametrize(
    ("values", "positive"),
    [(["Won", "Lost"], "Won"), (["1", "0"], "1"), (["TRUE", "FALSE"], "TRUE"), (["Converted", "Open"], "Converted"),
     (["a", "b", "b"], "a")],  # no vocabulary: the rarer value
)
def test_positive_outcome_value(tmp_path, values, positive):
    rows = [[str(i), v] for i, v in enumerate(values * 3)]
    leads = load_leads(write_csv(tmp_path / "x.csv", ["seg", "outcome"], rows), "outcome", store=tmp_path / "s.duckdb")
    assert leads.summary.positive_value == positive
    assert leads.n_converted == 3 * values.count(positive)


def test_outcome_not_two_valued(tmp_path):
    rows = [["a", "yes"], ["b", "no"], ["c", "maybe"]]
    path = write_csv(tmp_path / "x.csv", ["seg", "converted"], rows)
    with pytest.raises(LeadModelError, match=r"outcome column 'converted' has 3 distinct values .*not two"):
        load_leads(path, "converted", store=tmp_path / "s.duckdb")
    one = write_csv(tmp_path / "y.csv", ["seg", "converted"], [["a", "yes"], ["b", "yes"]])
    with pytest.raises(LeadModelError, match="'converted' has 1 distinct values"):
        load_leads(one, "converted", store=tmp_path / "s.duckdb")
    assert not (tmp_path / "s.duckdb").exists() or load_leads_names(tmp_path / "s.duckdb") == []


def load_leads_names(store) -> list[str]:
    from lead_model.data.store import LeadStore

    return [d.name for d in LeadStore(store).datasets()]


def test_outcome_column_misspelled(tiny_csv, store):
    with pytest.raises(LeadModelError, match="no column 'convrted'.*did you mean 'converted'"):
        load_leads(tiny_csv, "convrted", store=store)
    with pytest.raises(LeadModelError, match="no column 'industy'.*did you mean 'industry'"):
        load_leads(tiny_csv, "converted", store=store, exclude=["industy"])


def test_empty_missing_and_header_only_files(tmp_path, store):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(LeadModelError, match="empty.csv is empty"):
        load_leads(empty, store=store)
    with pytest.raises(LeadModelError, match="does not exist"):
        load_leads(tmp_path / "nope.csv", store=store)
    header = tmp_path / "header.csv"
    header.write_text("seg,converted\n")
    with pytest.raises(LeadModelError, match="header but no rows"):
        load_leads(header, store=store)
    with pytest.raises(LeadModelError, match="is a folder"):
        load_leads(tmp_path / ".", store=store)
    with pytest.raises(LeadModelError, match="no dataset 'nothing'"):
        load_leads("nothing", store=store)


def test_no_converted_leads(tmp_path, store):
    path = write_csv(tmp_path / "x.csv", ["seg", "converted"], [["a", "no"], ["b", "no"], ["c", None], ["d", "yes"]])
    leads = load_leads(path, "converted", store=store)
    assert leads.n_converted == 1
    path = write_csv(tmp_path / "y.csv", ["seg", "won"], [["a", "Lost"], ["b", "Lost"], ["c", "Won"]])
    assert load_leads(path, "won", store=store).n_converted == 1


# ----- attributes ----------------------------------------------------------------------------
def test_values_past_the_level_limit_share_the_other_code(tmp_path):
    n_values = MAX_LEVELS + 5
    rows = [[f"v{i:03d}", "yes" if i % 2 else "no"] for i in range(n_values)] + [["v000", "no"], ["v001", "yes"], [None, "no"]]
    path = write_csv(tmp_path / "x.csv", ["seg", "converted"], rows)
    leads = load_leads(path, "converted", store=tmp_path / "s.duckdb", roles={"seg": RoleOverride(role="attribute", kind="categorical")})
    enc = leads.attribute("seg")
    assert len(enc.levels) == MAX_LEVELS and enc.levels[:2] == ("v000", "v001") and enc.n_codes == MAX_LEVELS + 2
    by_row = dict(zip(leads.row_index, enc.codes))
    assert by_row[0] == 1 and by_row[1] == 2 and by_row[len(rows) - 1] == 0
    other = [by_row[i] for i in range(n_values) if f"v{i:03d}" not in enc.levels]
    assert len(other) == 5 and set(other) == {MAX_LEVELS + 1}


def test_numeric_text_with_placeholders_and_thousands(tmp_path):
    rows = [["1,200", "yes"], ["N/A", "no"], ["35", "no"], ["  7.5 ", "yes"], ["-", "no"], ["12", "no"]]
    path = write_csv(tmp_path / "x.csv", ["employees", "converted"], rows)
    leads = load_leads(path, "converted", store=tmp_path / "s.duckdb", roles={"employees": RoleOverride(role="attribute", kind="numeric")})
    enc = leads.attribute("employees")
    values = dict(zip(leads.row_index, enc.values))
    assert values[0] == 1200.0 and values[2] == 35.0 and values[3] == 7.5 and values[5] == 12.0
    assert np.isnan(values[1]) and np.isnan(values[4]) and enc.n_missing == 2


def test_roles_overrides_and_excludes(tiny_csv, store):
    leads = load_leads(tiny_csv, "converted", store=store, exclude=["employees"],
                       roles={"newsletter": RoleOverride(role="attribute", kind="categorical", group="engagement"),
                              "page_views": RoleOverride(role="ignore")})
    assert "employees" not in leads.attributes and "page_views" not in leads.attributes
    news = leads.attribute("newsletter")
    assert news.kind == "categorical" and news.group == "engagement" and set(news.levels) == {"yes", "no"}
    with pytest.raises(LeadModelError, match="'employees' is ignore"):
        leads.attribute("employees")
    with pytest.raises(LeadModelError, match="cannot be numeric"):
        load_leads(tiny_csv, "converted", store=store, roles={"industry": RoleOverride(role="attribute", kind="numeric")})


# ----- odd files -------------------------------------------------------------------------------
ODD_TEXT = st.lists(st.sampled_from(list("abcXYZ éüñ,;|\t\"'\n-_.()#ß") + ["DROP", "--", "; DROP TABLE t; --"]), min_size=1, max_size=8).map("".join)
ODD_NAMES = st.sampled_from(["plain", "with space", 'say "hi"', 'x"; DROP TABLE t; --', "'; DROP TABLE lead_datasets; --",
                             "semi;colon", "pipe|name", "tab\tname", "comma,name", "Ünïcode", "per %", "a.b"])


def _expected_value(raw: str | None) -> str | None:
    from conftest import is_missing

    return None if is_missing(raw) else raw.strip()


@given(
    name=ODD_NAMES,
    values=st.lists(st.one_of(st.none(), ODD_TEXT, st.sampled_from(["N/A", "Select", " unknown ", "-"])), min_size=2, max_size=15),
    delimiter=st.sampled_from([",", ";", "|", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-bom", "latin-1"]),
    data=st.data(),
)
def test_odd_csv_files_load_and_score_correctly(tmp_path_factory, name, values, delimiter, encoding, data):
    if encoding == "latin-1":
        assume(all(v is None or all(ord(ch) < 256 for ch in v) for v in values) and all(ord(ch) < 256 for ch in name))
    converted = data.draw(st.lists(st.booleans(), min_size=len(values), max_size=len(values)))
    converted[0], converted[1] = True, False
    folder = tmp_path_factory.mktemp("odd")
    rows = [[v, "yes" if c else "no"] for v, c in zip(values, converted)]
    path = write_csv(folder / "odd.csv", [name, "converted"], rows, delimiter=delimiter,
                     encoding="latin-1" if encoding == "latin-1" else "utf-8", bom=encoding == "utf-8-bom")
    leads = load_leads(path, "converted", store=folder / "s.duckdb", roles={name: RoleOverride(role="attribute", kind="categorical")})
    assert leads.n_leads == len(values) and leads.n_converted == sum(converted)
    expected = [_expected_value(v) for v in values]
    assert set(leads.attribute(name).levels) == {v for v in expected if v is not None}

    distinct = sorted({v for v in expected if v is not None})
    attr = {"name": name, "kind": "categorical", "group": "fit", "missing": {"points": -1}, "other": {"points": -2},
            "levels": [{"value": v, "points": 10 * (i + 1)} for i, v in enumerate(distinct)]}
    out = score_leads(leads, ScoringModel.from_dict({"attributes": [attr]}))
    assert list(out["score"]) == [attribute_points(attr, v) for v in values]
    assert list(out["converted"]) == converted
    # the raw rows went into the store intact, under the odd column name
    stored = leads.rows(np.arange(len(values)))
    assert list(stored.columns[-2:]) == [name, "converted"]
    def cell(v):
        return None if v is None or v != v or not v.strip() else v.strip()

    assert [cell(v) for v in stored[name]] == [cell(v) for v in values]


def test_quoted_fields_with_delimiters_quotes_and_newlines(tmp_path):
    text = (
        'company,"notes, free text",converted\n'
        '"Acme, Inc.","said ""call me""\nnext week",yes\n'
        'Globex,plain,no\n'
        '"Initech ""Labs""","multi\nline\nnote",no\n'
    )
    path = tmp_path / "q.csv"
    path.write_text(text)
    leads = load_leads(path, "converted", store=tmp_path / "s.duckdb",
                       roles={"company": RoleOverride(role="attribute", kind="categorical")})
    assert leads.n_leads == 3
    assert set(leads.attribute("company").levels) == {"Acme, Inc.", "Globex", 'Initech "Labs"'}
    assert list(leads.rows([0, 2])["notes, free text"]) == ['said "call me"\nnext week', "multi\nline\nnote"]


def test_latin1_and_bom(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("région;converted\nÎle-de-France;oui\nBavière;non\nÎle-de-France;non\n".encode("latin-1"))
    leads = load_leads(latin, "converted", store=tmp_path / "s.duckdb",
                       roles={"région": RoleOverride(role="attribute", kind="categorical")})
    assert leads.attribute("région").levels == ("Île-de-France", "Bavière")
    short = tmp_path / "short.csv"  # the only accented byte sits near the end of a small file
    short.write_bytes("seg,converted\nx,yes\ny,no\nBavière,no\n".encode("latin-1"))
    leads = load_leads(short, store=tmp_path / "s.duckdb", roles={"seg": RoleOverride(role="attribute", kind="categorical")})
    assert set(leads.attribute("seg").levels) == {"x", "y", "Bavière"}
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeffseg,converted\na,yes\nb,no\n".encode("utf-8"))
    leads = load_leads(bom, store=tmp_path / "s.duckdb", roles={"seg": RoleOverride(role="attribute", kind="categorical")})
    assert list(leads.profiles)[0] == "seg"


def test_sql_like_column_names_are_only_names(tmp_path):
    evil = 'x"; DROP TABLE lead_datasets; --'
    rows = [["a", "yes"], ["b", "no"], ["a", "no"]]
    store = tmp_path / "s.duckdb"
    load_leads(write_csv(tmp_path / "first.csv", ["seg", "converted"], rows), store=store, roles={"seg": RoleOverride(role="attribute")})
    path = write_csv(tmp_path / "evil.csv", [evil, "converted"], rows)
    leads = load_leads(path, "converted", store=store, roles={evil: RoleOverride(role="attribute", kind="categorical")})
    model = ScoringModel.from_dict({"attributes": [{"name": evil, "kind": "categorical", "group": "fit", "levels": [{"value": "a", "points": 5}]}]})
    assert list(score_leads(leads, model)["score"]) == [5, 0, 5]
    assert sorted(load_leads_names(store)) == ["evil", "first"]
    assert list(leads.find_rows("b")[evil]) == ["b"]


def test_the_header_row_decides_the_delimiter(tmp_path):
    """Data cells full of ';' must not outvote a tab-separated header (a case hypothesis found)."""
    path = write_csv(tmp_path / "tabs.csv", ["plain", "converted"], [[None, "yes"], ["; DROP TABLE t; --", "no"], ["a;b;c", "no"]], delimiter="\t")
    leads = load_leads(path, "converted", store=tmp_path / "s.duckdb", roles={"plain": RoleOverride(role="attribute", kind="categorical")})
    assert leads.n_leads == 3 and leads.n_converted == 1
    assert set(leads.attribute("plain").levels) == {"; DROP TABLE t; --", "a;b;c"}


# ----- leads already in memory -------------------------------------------------------------
def assert_same_leads(a, b, *, same_profiles: bool = True) -> None:
    """Two LeadSets hold the same leads in the same order with the same codes, values and roles."""
    np.testing.assert_array_equal(a.row_index, b.row_index)
    np.testing.assert_array_equal(a.converted, b.converted)
    assert a.summary == b.summary
    assert {n: (r.role, r.kind, r.group) for n, r in a.roles.items()} == {n: (r.role, r.kind, r.group) for n, r in b.roles.items()}
    if same_profiles:
        assert a.profiles == b.profiles and a.roles == b.roles
    assert (a.lead_id_column, a.created_column, a.outcome) == (b.lead_id_column, b.created_column, b.outcome)
    if a.created is not None or b.created is not None:
        np.testing.assert_array_equal(a.created, b.created)
    assert list(a.attributes) == list(b.attributes)
    for name, enc in a.attributes.items():
        other = b.attributes[name]
        assert (enc.kind, enc.group, enc.levels, enc.labels, enc.n_missing) == (other.kind, other.group, other.levels, other.labels, other.n_missing), name
        if enc.codes is None:
            assert other.codes is None and np.array_equal(enc.values, other.values, equal_nan=True), name
        else:
            np.testing.assert_array_equal(enc.codes, other.codes, err_msg=name)


def test_a_table_read_from_the_file_encodes_exactly_like_load_leads(tiny_csv, tiny, tiny_model):
    table = read_source(tiny_csv).drop_columns(["__row"])
    leads = leads_from_table(table, "converted")
    assert leads.name == "in-memory"
    assert_same_leads(leads, tiny)
    assert score_leads(leads, tiny_model).equals(score_leads(tiny, tiny_model))
    assert backtest(leads, tiny_model).sweep.equals(backtest(tiny, tiny_model).sweep)


def test_a_dataframe_typed_by_hand_scores_like_the_file(tiny, tiny_model):
    frame = pd.DataFrame(TINY_ROWS, columns=TINY_HEADER)
    frame["created"] = pd.to_datetime(frame["created"])
    frame["employees"] = frame["employees"].astype("Int64")  # nullable integers, as the file's column reads
    leads = leads_from_table(frame, "converted", name="by hand")
    assert leads.name == "by hand"
    assert_same_leads(leads, tiny, same_profiles=False)  # a timestamp, not a date, so the created profile differs
    assert score_leads(leads, tiny_model).equals(score_leads(tiny, tiny_model))


def test_a_model_gives_in_memory_leads_its_kinds_and_groups(tiny_csv, store, tiny_model):
    model = tiny_model.replace(attributes=[a.model_copy(update={"group": "engagement"}) if a.name == "industry" else a for a in tiny_model.attributes])
    from_file = load_leads(tiny_csv, "converted", store=store, model=model)
    in_memory = leads_from_table(read_source(tiny_csv).drop_columns(["__row"]), model=model)
    assert in_memory.attribute("industry").group == "engagement" and in_memory.outcome == "converted"
    assert_same_leads(in_memory, from_file)
    assert score_leads(in_memory, model).equals(score_leads(from_file, model))
    # the model's semantics say what is missing, unless placeholders are given
    odd = model.replace(semantics=Semantics(missing_values=("", "software")))
    frame = pd.DataFrame(TINY_ROWS, columns=TINY_HEADER)
    industry = leads_from_table(frame, model=odd).attribute("industry")
    assert "Software" not in industry.levels and industry.n_missing == 4  # 4 x Software; 'Select' and 'N/A' are levels now
    assert "Software" in leads_from_table(frame, model=odd, placeholders=("", "n/a")).attribute("industry").levels


@settings(max_examples=max(settings.default.max_examples // 3, 8))  # each example writes a CSV and a store
@given(data=random_leads(), model_dict=random_models())
def test_random_tables_in_memory_score_like_their_csv_files(tmp_path_factory, data, model_dict):
    """The property tests score build_random's in-memory leads; they must be the leads the CSV gives."""
    from_file = load_random(data, tmp_path_factory.mktemp("mem"))
    in_memory = build_random(data)
    assert_same_leads(in_memory, from_file, same_profiles=False)  # a '1'/'0' column is text here, integers in the file
    model = ScoringModel.from_dict(model_dict)
    assert score_leads(in_memory, model).equals(score_leads(from_file, model))


def test_in_memory_leads_have_no_stored_rows(tmp_path, monkeypatch, tiny_model):
    monkeypatch.chdir(tmp_path)
    leads = leads_from_table(pd.DataFrame(TINY_ROWS, columns=TINY_HEADER), "converted")
    assert leads.n_leads == 12 and leads.n_converted == 4
    for read in (lambda: leads.rows([0, 1]), lambda: leads.rows(limit=3), lambda: leads.find_rows("L1"), leads.wait_stored, lambda: leads.info):
        with pytest.raises(LeadModelError, match="built in memory, so no store holds their raw rows; load the file with load_leads"):
            read()
    with pytest.raises(LeadModelError, match="built in memory"):
        write_scored_csv(leads, tiny_model, tmp_path / "scored.csv")
    assert list(tmp_path.iterdir()) == []  # no store file, no half-written CSV


def test_in_memory_errors_read_like_load_errors():
    frame = pd.DataFrame({"seg": ["a", "b", "a"], "converted": ["yes", "no", "no"]})
    with pytest.raises(LeadModelError, match="no column 'convrted'.*did you mean 'converted'"):
        leads_from_table(frame, "convrted")
    with pytest.raises(LeadModelError, match=r"outcome column 'converted' has 1 distinct values \('no'\), not two"):
        leads_from_table(frame.assign(converted="no"), "converted")
    with pytest.raises(LeadModelError, match="columns but no rows"):
        leads_from_table(frame.iloc[:0], "converted")
    with pytest.raises(LeadModelError, match="column named '__row', which the store reserves"):
        leads_from_table(frame.assign(__row=1), "converted")
    with pytest.raises(LeadModelError, match="could not be read: .*; give each column values of one type"):
        leads_from_table(frame.assign(seg=["a", 2, 3.5]), "converted")
    with pytest.raises(LeadModelError, match="takes a pyarrow Table or a pandas DataFrame, not list"):
        leads_from_table([["a", "yes"]], "converted")


def test_a_value_a_knock_out_names_knocks_out_however_rare():
    # past the MAX_LEVELS most common values the rest share 'other'; a knocked-out value must keep its own code
    names = [f"company {i:03d}" for i in range(MAX_LEVELS + 50) for _ in range(2)] + ["Competitor Inc"]
    model = ScoringModel.from_dict({"attributes": [{"name": "company", "kind": "categorical", "group": "fit"}],
                                    "knockouts": [{"attribute": "company", "values": ["Competitor Inc"]}]})
    leads = leads_from_table(pd.DataFrame({"company": names, "converted": ["yes", "no"] * (len(names) // 2) + ["no"]}), "converted", model=model)
    out = score_leads(leads, model).sort_values("row")
    assert out["knocked_out"].tolist() == [False] * (len(names) - 1) + [True]
