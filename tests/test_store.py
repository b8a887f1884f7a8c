"""The lead store: named datasets, atomic replacement, failed loads that change nothing, and safe quoting."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest
from conftest import write_csv

from lead_model import LeadModelError, load_leads
from lead_model.data.sources import sniff_encoding
from lead_model.data.store import LeadStore, dataset_name_for, default_store_path, literal, quote


def tables(store) -> set[str]:
    con = duckdb.connect(str(store))
    try:
        return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    finally:
        con.close()


def leads_csv(path, segments, outcomes):
    return write_csv(path, ["segment", "converted"], [[s, o] for s, o in zip(segments, outcomes)])


def test_load_lists_and_reopens(tmp_path, store):
    leads_csv(tmp_path / "Leads 2025.csv", ["a", "b", "a"], ["yes", "no", "no"])
    first = load_leads(tmp_path / "Leads 2025.csv", store=store)
    assert first.name == "Leads 2025"
    infos = LeadStore(store).datasets()
    assert [(d.name, d.rows, d.source) for d in infos] == [("Leads 2025", 3, str(tmp_path / "Leads 2025.csv"))]
    assert infos[0].settings["outcome"] is None
    assert tables(store) == {"lead_datasets", infos[0].table}
    assert list(load_leads("Leads 2025", store=store).rows()["segment"]) == ["a", "b", "a"]


def test_reload_replaces_atomically(tmp_path, store):
    leads_csv(tmp_path / "v1.csv", ["a", "b", "a"], ["yes", "no", "no"])
    leads_csv(tmp_path / "v2.csv", ["c", "d", "c", "d"], ["no", "yes", "yes", "no"])
    load_leads(tmp_path / "v1.csv", store=store, name="leads")
    old_table = LeadStore(store).info("leads").table
    again = load_leads(tmp_path / "v2.csv", store=store, name="leads")
    info = LeadStore(store).info("leads")
    assert info.table != old_table and info.rows == 4 and [d.name for d in LeadStore(store).datasets()] == ["leads"]
    assert tables(store) == {"lead_datasets", info.table}  # the old rows are gone, not orphaned
    assert list(again.rows()["segment"]) == ["c", "d", "c", "d"]


@pytest.mark.parametrize(
    "bad",
    [
        lambda p: p.write_text(""),  # empty file
        lambda p: p.write_text("segment,converted\n"),  # header only
        lambda p: p.write_text("segment,converted\na,yes\nb,no\nc,maybe\n"),  # outcome with three values
        lambda p: p.write_text("segment,converted\na,yes\nb,yes\n"),  # nothing to backtest
    ],
)
def test_a_failing_load_leaves_the_old_dataset_intact(tmp_path, store, bad):
    good = leads_csv(tmp_path / "good.csv", ["a", "b", "a"], ["yes", "no", "no"])
    load_leads(good, "converted", store=store, name="leads")
    before = LeadStore(store).info("leads")
    broken = tmp_path / "broken.csv"
    bad(broken)
    with pytest.raises(LeadModelError):
        load_leads(broken, "converted", store=store, name="leads")
    assert LeadStore(store).info("leads") == before
    assert tables(store) == {"lead_datasets", before.table}
    assert list(load_leads("leads", store=store).rows()["segment"]) == ["a", "b", "a"]


def test_a_failure_inside_the_swap_rolls_back(tmp_path, store):
    good = leads_csv(tmp_path / "good.csv", ["a", "b"], ["yes", "no"])
    load_leads(good, store=store, name="leads")
    before = LeadStore(store).info("leads")
    rows = pa.table({"__row": [0, 1], "segment": ["x", "y"], "converted": ["yes", "no"]})
    with pytest.raises(TypeError):  # settings that cannot be written fail inside the transaction
        LeadStore(store).ingest(rows, "leads", "elsewhere.csv", {"bad": {1, 2}})
    assert LeadStore(store).info("leads") == before
    assert tables(store) == {"lead_datasets", before.table}


def test_names_drop_and_settings(tmp_path, store):
    s = LeadStore(store)
    rows = pa.table({"__row": [0], "x": [1]})
    with pytest.raises(LeadModelError, match="dataset name 'bad/name' is not usable"):
        s.ingest(rows, "bad/name", "f.csv")
    s.ingest(rows, "one", "f.csv", {"outcome": "x"})
    s.ingest(rows, "two", "f.csv")
    fingerprint = s.info("one").settings["fingerprint"]
    s.update_settings("one", {"outcome": "y"})
    assert s.info("one").settings == {"outcome": "y", "fingerprint": fingerprint}  # the store's fingerprint of the rows stays
    s.drop("one")
    assert [d.name for d in s.datasets()] == ["two"] and len(tables(store)) == 2
    with pytest.raises(LeadModelError, match=r"no dataset 'one' .*datasets: 'two'"):
        s.info("one")


def test_a_file_that_is_not_a_store(tmp_path):
    path = tmp_path / "notes.duckdb"
    path.write_text("just some text, not a database\n" * 100)
    with pytest.raises(LeadModelError, match="not a valid DuckDB database|not a lead store"):
        LeadStore(path).datasets()
    assert LeadStore(tmp_path / "none.duckdb").datasets() == []


def test_default_store_path(monkeypatch, tmp_path):
    monkeypatch.setenv("LEAD_MODEL_STORE", str(tmp_path / "x.duckdb"))
    assert default_store_path() == tmp_path / "x.duckdb"
    monkeypatch.delenv("LEAD_MODEL_STORE")
    assert default_store_path().name == "lead_store.duckdb"


@pytest.mark.parametrize("name", ['x"; DROP TABLE lead_datasets; --', "it's", 'a ""b""', "sp ace", "Ünï", "--", "select"])
def test_quote_and_literal_are_safe(name):
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t ({quote(name)} VARCHAR)")
    con.execute(f"INSERT INTO t VALUES ({literal(name)})")
    assert con.execute(f"SELECT {quote(name)} FROM t").fetchall() == [(name,)]
    assert [c[0] for c in con.execute("SELECT * FROM t").description] == [name]


@pytest.mark.parametrize(
    ("file", "name"),
    [("Leads 2025.csv", "Leads 2025"), ("q3.export.csv", "q3"), ("/x/y/ünï cødé.parquet", "n_ c_d"), ("....csv", "leads"),
     ("a" * 80 + ".csv", "a" * 64)],
)
def test_dataset_name_for(file, name):
    assert dataset_name_for(file) == name


def test_sniff_encoding(tmp_path):
    cases = {
        "utf8.csv": "a,b\ncafé,1\n".encode("utf-8"),
        "bom.csv": "\ufeffa,b\nx,1\n".encode("utf-8"),
        "latin.csv": "a,b\ncafé,1\n".encode("latin-1"),
        "latin_end.csv": "a\nBavière\n".encode("latin-1"),  # the only accent near the end of a short file
        "utf16.csv": "a,b\nx,1\n".encode("utf-16"),
        # a multi-byte character cut by the 1 MiB sample is still UTF-8
        "cut.csv": b"a\n" + b"x" * ((1 << 20) - 3) + "é".encode("utf-8") + b"\n",
    }
    want = {"utf8.csv": "utf-8", "bom.csv": "utf-8", "latin.csv": "latin-1", "latin_end.csv": "latin-1", "utf16.csv": "utf-16", "cut.csv": "utf-8"}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        assert sniff_encoding(tmp_path / name) == want[name], name
