"""The lead store: named datasets, atomic replacement, failed loads that change nothing, and safe quoting."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time

import duckdb
import pyarrow as pa
import pytest
from conftest import write_csv

from lead_model import LeadModelError, load_leads
from lead_model.data.sources import sniff_encoding
from lead_model.data.store import LeadStore, dataset_name_for, default_store_path, literal, lock_wait_seconds, quote, set_wait_notice


BOOKKEEPING = {"lead_datasets", "lead_store_meta", "lead_staging"}  # the store's own tables, beside one table per dataset


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
    assert tables(store) == {*BOOKKEEPING, infos[0].table}
    assert list(load_leads("Leads 2025", store=store).rows()["segment"]) == ["a", "b", "a"]


def test_reload_replaces_atomically(tmp_path, store):
    leads_csv(tmp_path / "v1.csv", ["a", "b", "a"], ["yes", "no", "no"])
    leads_csv(tmp_path / "v2.csv", ["c", "d", "c", "d"], ["no", "yes", "yes", "no"])
    load_leads(tmp_path / "v1.csv", store=store, name="leads")
    old_table = LeadStore(store).info("leads").table
    again = load_leads(tmp_path / "v2.csv", store=store, name="leads")
    info = LeadStore(store).info("leads")
    assert info.table != old_table and info.rows == 4 and [d.name for d in LeadStore(store).datasets()] == ["leads"]
    assert tables(store) == {*BOOKKEEPING, info.table}  # the old rows are gone, not orphaned
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
    assert tables(store) == {*BOOKKEEPING, before.table}
    assert list(load_leads("leads", store=store).rows()["segment"]) == ["a", "b", "a"]


def test_a_failure_inside_the_swap_rolls_back(tmp_path, store):
    good = leads_csv(tmp_path / "good.csv", ["a", "b"], ["yes", "no"])
    load_leads(good, store=store, name="leads")
    before = LeadStore(store).info("leads")
    rows = pa.table({"__row": [0, 1], "segment": ["x", "y"], "converted": ["yes", "no"]})
    with pytest.raises(TypeError):  # settings that cannot be written fail inside the transaction
        LeadStore(store).ingest(rows, "leads", "elsewhere.csv", {"bad": {1, 2}})
    assert LeadStore(store).info("leads") == before
    assert tables(store) == {*BOOKKEEPING, before.table}


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
    assert [d.name for d in s.datasets()] == ["two"] and len(tables(store) - BOOKKEEPING) == 1
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


# ----- fingerprints ----------------------------------------------------------------------------
def brute_fingerprint_sum(store, table: str) -> int:
    """The sum of DuckDB's per-row hashes, added up here in Python from one hash per row."""
    con = duckdb.connect(str(store))
    try:
        cols = [r[0] for r in con.execute(f"DESCRIBE {quote(table)}").fetchall()]
        hashes = con.execute(f"SELECT hash({', '.join(quote(c) for c in cols)}) FROM {quote(table)}").fetchall()
        return sum(h for (h,) in hashes)
    finally:
        con.close()


def test_fingerprint_follows_content_not_row_order(store):
    import hashlib
    import json

    s = LeadStore(store)
    rows = {"__row": [0, 1, 2, 3], "it's \"seg\"": ["a", None, "b", "a"], "n": [1.5, 2.0, None, 4.0]}
    order = [2, 0, 3, 1]
    s.ingest(pa.table(rows), "one", "f.csv")
    s.ingest(pa.table({k: [v[i] for i in order] for k, v in rows.items()}), "shuffled", "f.csv")
    s.ingest(pa.table({**rows, "n": [1.5, 2.0, None, 4.5]}), "one cell", "f.csv")
    s.ingest(pa.table({"__row": rows["__row"], "other name": rows["it's \"seg\""], "n": rows["n"]}), "renamed", "f.csv")
    s.ingest(pa.table({k: v[:3] for k, v in rows.items()}), "fewer", "f.csv")
    fps = {name: s.fingerprint(name) for name in ("one", "shuffled", "one cell", "renamed", "fewer")}
    assert fps["one"] == fps["shuffled"] and fps["one"].rows == 4 and fps["fewer"].rows == 3
    assert len({fp.hash for fp in fps.values()} - {fps["one"].hash}) == 3  # each other content has a hash of its own
    # The hash is the column names and types with the sum of the rows' hashes, summed here independently.
    info = s.info("one")
    con = duckdb.connect(str(store))
    columns = [list(r) for r in con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position", [info.table]).fetchall()]
    con.close()
    total = brute_fingerprint_sum(store, info.table)
    assert fps["one"].hash == hashlib.blake2b(json.dumps([columns, str(total)]).encode(), digest_size=16).hexdigest()


def test_fingerprint_is_taken_at_publish_kept_and_never_carried_to_other_content(tmp_path, store):
    leads_csv(tmp_path / "v1.csv", ["a", "b", "a"], ["yes", "no", "no"])
    leads_csv(tmp_path / "v2.csv", ["a", "b", "c"], ["yes", "no", "no"])
    load_leads(tmp_path / "v1.csv", store=store, name="leads", exclude=["segment"])
    s = LeadStore(store)
    first = s.fingerprint("leads")
    kept = s.info("leads").settings["fingerprint"]
    assert kept == {"table": s.info("leads").table, "rows": 3, "hash": first.hash}
    load_leads(tmp_path / "v1.csv", store=store, name="leads")  # the same file again: same rows, same fingerprint
    assert s.fingerprint("leads") == first
    load_leads(tmp_path / "v2.csv", store=store, name="leads")  # other content under the same name
    second = s.fingerprint("leads")
    assert second.rows == 3 and second.hash != first.hash
    assert s.info("leads").settings["fingerprint"]["table"] == s.info("leads").table
    # A dataset stored before fingerprints existed gets one on first use, and keeps it.
    con = duckdb.connect(str(store))
    con.execute("UPDATE lead_datasets SET settings = '{\"outcome\": null}' WHERE name = 'leads'")
    con.close()
    assert "fingerprint" not in s.info("leads").settings
    assert s.fingerprint("leads") == second and s.info("leads").settings["fingerprint"]["hash"] == second.hash
    # A stale fingerprint (another table's) is not believed.
    s.update_settings("leads", {**s.info("leads").settings, "fingerprint": {"table": "leads_old", "rows": 1, "hash": "x"}})
    assert s.fingerprint("leads") == second
    with pytest.raises(LeadModelError, match="no dataset 'nope'"):
        s.fingerprint("nope")


# ----- a store that waits for its lock -------------------------------------------------------------
def hold_lock(store, seconds: float) -> subprocess.Popen:
    """Another process holding the store file open (DuckDB's exclusive lock) for ``seconds``."""
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(store)!r}); print('locked', flush=True); time.sleep({seconds}); c.close()"],
        stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_store_held_by_another_process_is_waited_for(store):
    from lead_model import VersionRegistry, ScoringModel

    LeadStore(store).datasets()
    waits: list = []
    holder = hold_lock(store, 1.0)
    try:
        started = time.monotonic()
        registry = VersionRegistry(LeadStore(store, on_wait=waits.append))
        saved = registry.save(ScoringModel(), "saved while busy")
        waited = time.monotonic() - started
    finally:
        holder.wait(timeout=30)
    assert waits == [store]  # said once
    assert 0.2 < waited < 10, waited
    assert VersionRegistry(store).get(saved.id).name == "saved while busy"


def test_a_store_busy_for_longer_than_the_wait_says_so_in_one_sentence(store, monkeypatch):
    LeadStore(store).datasets()
    monkeypatch.setenv("LEAD_MODEL_LOCK_WAIT", "0.4")
    holder = hold_lock(store, 3.0)
    try:
        started = time.monotonic()
        with pytest.raises(LeadModelError) as err:
            LeadStore(store).datasets()
        waited = time.monotonic() - started
        assert str(err.value) == (f"the lead store {store} has been busy for 0.4 s (another lead-model or app is writing to it); "
                                  "try again in a moment.")
        assert 0.4 <= waited < 1.5, waited
        with pytest.raises(LeadModelError, match=r"has been busy for 0 s"):  # the constructor's wait wins over the environment
            LeadStore(store, lock_wait=0).datasets()
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert LeadStore(store).datasets() == []


def test_lock_wait_settings_are_checked(store, monkeypatch):
    for bad in ("soon", "-1", "inf", "nan"):
        monkeypatch.setenv("LEAD_MODEL_LOCK_WAIT", bad)
        with pytest.raises(LeadModelError, match=r"^LEAD_MODEL_LOCK_WAIT=.* is not a number of seconds"):
            lock_wait_seconds()
    monkeypatch.setenv("LEAD_MODEL_LOCK_WAIT", " 2.5 ")
    assert lock_wait_seconds() == 2.5
    monkeypatch.delenv("LEAD_MODEL_LOCK_WAIT")
    assert lock_wait_seconds() == 30.0
    for bad in (-1, float("inf"), "30"):
        with pytest.raises(LeadModelError, match="lock_wait must be a number of seconds"):
            LeadStore(store, lock_wait=bad)


def test_the_process_wide_wait_notice(store):
    LeadStore(store).datasets()
    said: list = []
    previous = set_wait_notice(said.append)
    holder = hold_lock(store, 0.5)
    try:
        s = LeadStore(store)
        s.datasets()
        s.datasets()
    finally:
        set_wait_notice(previous)
        holder.wait(timeout=30)
    assert said == [store]  # once per store object, however many of its operations waited


def test_the_lock_file_is_held_from_before_duckdb_opens_the_store_until_after_it_has_closed(tmp_path, monkeypatch):
    """DuckDB reads the file's header before it locks the file; a process opening the store while another checkpoints
    on close then works from the old header and overwrites committed rows. So the lock file covers open to close."""
    import lead_model.data.store as store_module

    path = tmp_path / "s.duckdb"
    lock = f"{path}.lock"

    def someone_holds_the_lock_file() -> bool:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT)  # a descriptor of its own: flock locks of another one conflict
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return False
        except BlockingIOError:
            return True
        finally:
            os.close(fd)

    seen = []
    real_connect = duckdb.connect

    class Watched:
        def __init__(self, con):
            self.con = con

        def __getattr__(self, name):
            return getattr(self.con, name)

        def close(self):
            seen.append(("close", someone_holds_the_lock_file()))
            self.con.close()

    def connect(*args, **kwargs):
        seen.append(("open", someone_holds_the_lock_file()))
        return Watched(real_connect(*args, **kwargs))

    monkeypatch.setattr(store_module.duckdb, "connect", connect)
    store = LeadStore(path)
    outer = store.connect()
    inner = LeadStore(tmp_path / "." / "s.duckdb").connect()  # another thread's connection in this process does not wait
    inner.close()
    assert someone_holds_the_lock_file()  # the outer connection still holds it
    outer.close()
    outer.close()  # twice is harmless
    assert seen == [("open", True), ("open", True), ("close", True), ("close", True)]
    assert not someone_holds_the_lock_file()


# ----- the store file is checked before it is opened ----------------------------------------
def sha256(path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def refused_untouched(path, *words: str) -> None:
    """Every way in refuses ``path`` in one sentence, and the file (or its absence) and its folder stay as they were."""
    from lead_model.model.versions import VersionRegistry

    before = sha256(path) if path.exists() else None
    beside = sorted(p.name for p in path.parent.iterdir())
    rows = pa.table({"__row": [0], "x": [1]})
    for attempt in (lambda: LeadStore(path).datasets(), lambda: LeadStore(path).ingest(rows, "leads", "f.csv"), lambda: VersionRegistry(path).list()):
        with pytest.raises(LeadModelError) as err:
            attempt()
        message = str(err.value)
        assert "\n" not in message and message.endswith(".") and str(path) in message
        for word in words:
            assert word in message
    assert (sha256(path) if path.exists() else None) == before
    assert sorted(p.name for p in path.parent.iterdir()) == beside  # no lock file, no WAL, no new store


def write_sqlite(path) -> None:
    import sqlite3

    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()


@pytest.mark.parametrize(
    "name, make, words",
    [
        ("leads.csv", lambda p: p.write_text("segment,converted\na,yes\n"), ("a CSV file",)),
        ("leads.parquet", lambda p: __import__("pyarrow.parquet").parquet.write_table(pa.table({"x": [1]}), p), ("a Parquet file",)),
        ("leads.json", lambda p: p.write_text('[{"x": 1}]'), ("a JSON file",)),
        ("leads.sqlite", write_sqlite, ("a SQLite database",)),
        ("store.duckdb", write_sqlite, ("a SQLite database",)),  # the header decides, not the name
        ("empty.duckdb", lambda p: p.write_bytes(b""), ("an empty file",)),
        ("notes.duckdb", lambda p: p.write_text("just text\n" * 100), ("not a DuckDB file",)),
    ],
)
def test_a_file_that_is_not_a_duckdb_file_is_refused_untouched(tmp_path, name, make, words):
    path = tmp_path / name
    make(path)
    refused_untouched(path, "is not a lead store", "pass another --store path", *words)


@pytest.mark.parametrize("name", ["new.csv", "new.parquet", "new.json", "new.sqlite", "new.csv.gz"])
def test_a_new_path_named_like_a_data_file_is_refused_and_not_created(tmp_path, name):
    refused_untouched(tmp_path / name, "is not a lead store", "pass another --store path", "ending in .duckdb")
    assert not (tmp_path / name).exists()


def foreign_duckdb(path, *sql: str) -> None:
    con = duckdb.connect(str(path))
    for statement in sql:
        con.execute(statement)
    con.close()


@pytest.mark.parametrize(
    "sql, words",
    [
        (["CREATE TABLE customers (id INTEGER, name VARCHAR)", "INSERT INTO customers VALUES (1, 'Ada')"], ("another program", "no lead_store_meta")),
        (["CREATE TABLE lead_datasets (id INTEGER)"], ("another program",)),  # a table of the same name, not ours
        (["CREATE VIEW v AS SELECT 1 AS x"], ("another program",)),
        (["CREATE SCHEMA sales", "CREATE TABLE sales.accounts (id INTEGER)"], ("another program",)),
        (["CREATE TABLE lead_store_meta (key VARCHAR, value VARCHAR)", "INSERT INTO lead_store_meta VALUES ('format_version', '1')"], ("another program",)),
    ],
)
def test_a_duckdb_database_of_another_program_is_refused_untouched(tmp_path, sql, words):
    path = tmp_path / "crm.duckdb"
    foreign_duckdb(path, *sql)
    assert path.read_bytes()[8:12] == b"DUCK"  # DuckDB's magic, where check_store_file looks for it
    refused_untouched(path, "pass another --store path", *words)


def test_a_store_of_a_newer_format_is_refused_untouched(tmp_path):
    path = tmp_path / "s.duckdb"
    LeadStore(path).ingest(pa.table({"__row": [0], "x": [1]}), "leads", "f.csv")
    foreign_duckdb(path, "UPDATE lead_store_meta SET value = '99' WHERE key = 'format_version'")
    refused_untouched(path, "newer lead-model", "store format 99", "upgrade lead-model")


def meta(path) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return dict(con.execute("SELECT key, value FROM lead_store_meta").fetchall())
    finally:
        con.close()


def test_a_new_store_is_marked_as_ours(tmp_path):
    path = tmp_path / "s.duckdb"
    LeadStore(path).ingest(pa.table({"__row": [0], "x": [1]}), "leads", "f.csv")
    assert meta(path) == {"format_version": "1", "created_by": "lead-model"}
    empty = tmp_path / "empty.duckdb"
    foreign_duckdb(empty)  # a DuckDB file with nothing in it is a new store
    assert LeadStore(empty).datasets() == [] and meta(empty)["created_by"] == "lead-model"


def test_a_store_of_before_the_meta_table_is_adopted_once(tmp_path):
    path = tmp_path / "old.duckdb"
    foreign_duckdb(
        path,
        "CREATE TABLE lead_datasets (name VARCHAR PRIMARY KEY, tbl VARCHAR, source VARCHAR, rows BIGINT, loaded_at VARCHAR, settings VARCHAR)",
        "CREATE TABLE leads_20250101000000000000 AS SELECT 0 AS __row, 'a' AS segment",
        "INSERT INTO lead_datasets VALUES ('leads', 'leads_20250101000000000000', 'f.csv', 1, '2025-01-01T00:00:00+00:00', '{}')",
    )
    assert [(d.name, d.rows) for d in LeadStore(path).datasets()] == [("leads", 1)]
    assert meta(path) == {"format_version": "1", "created_by": "lead-model"}
    assert tables(path) == {*BOOKKEEPING, "leads_20250101000000000000"}
    before = sha256(path)
    assert [d.name for d in LeadStore(path).datasets()] == ["leads"]
    assert sha256(path) == before  # adopted once: a later open writes nothing


def test_connections_never_install_or_load_extensions(store):
    con = LeadStore(store).connect()
    try:
        settings = dict(con.execute(
            "SELECT name, value FROM duckdb_settings() WHERE name IN ('autoinstall_known_extensions', 'autoload_known_extensions')"
        ).fetchall())
    finally:
        con.close()
    assert settings == {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}


# ----- nothing left behind ------------------------------------------------------------------
STAGE_AND_WAIT = """
import sys, pyarrow as pa
from lead_model.data.store import LeadStore
print(LeadStore(sys.argv[1]).stage(pa.table({"__row": list(range(1000)), "x": list(range(1000))})), flush=True)
sys.stdin.readline()  # killed here: between staging and publishing
"""


def stage_in_another_process(store) -> tuple[subprocess.Popen, str]:
    child = subprocess.Popen([sys.executable, "-c", STAGE_AND_WAIT, str(store)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return child, child.stdout.readline().strip()


def test_a_table_staged_by_a_killed_load_is_dropped_at_the_next_open(tmp_path, store):
    leads_csv(tmp_path / "good.csv", ["a", "b"], ["yes", "no"])
    load_leads(tmp_path / "good.csv", store=store, name="leads")
    listed = LeadStore(store).info("leads").table
    child, staged = stage_in_another_process(store)
    assert staged.startswith("leads_") and staged in tables(store)
    assert [d.name for d in LeadStore(store).datasets()] == ["leads"]
    assert staged in tables(store)  # its load is still running: kept
    child.kill()
    child.wait()
    assert [d.name for d in LeadStore(store).datasets()] == ["leads"]
    assert tables(store) == {*BOOKKEEPING, listed}  # the orphan is gone, the listed dataset stays
    assert list(load_leads("leads", store=store).rows()["segment"]) == ["a", "b"]


def test_unrecorded_staged_tables_are_dropped_only_when_older_than_an_hour(store):
    LeadStore(store).connect().close()  # a new store
    old, recent = "leads_20000101000000000000", f"leads_{time.strftime('%Y%m%d%H%M%S', time.gmtime())}000000"
    con = duckdb.connect(str(store))  # a lead-model before store format 1 staged without a record
    con.execute(f"CREATE TABLE {old} AS SELECT 1 AS x")
    con.execute(f"CREATE TABLE {recent} AS SELECT 1 AS x")
    con.execute("CREATE TABLE leads_backup AS SELECT 1 AS x")  # not a name stage() gives: never dropped
    con.close()
    LeadStore(store).datasets()
    assert tables(store) == {*BOOKKEEPING, recent, "leads_backup"}


def test_a_table_this_process_staged_and_forgot_is_dropped(store):
    s = LeadStore(store)
    staged = s.stage(pa.table({"__row": [0], "x": [1]}))
    s.datasets()
    assert staged in tables(store)  # still being loaded
    s._unstage(staged)  # the load's thread died without discarding it
    s.datasets()
    assert staged not in tables(store)


def _can_mount_privately() -> bool:
    """Whether this machine lets a process mount in a namespace of its own (unshare -rm), as the next two tests need."""
    try:
        return subprocess.run(["unshare", "-rm", "mount", "-t", "tmpfs", "tmpfs", "/mnt"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


needs_mounts = pytest.mark.skipif(not _can_mount_privately(), reason="needs unshare -rm (user and mount namespaces) to mount a tmpfs or a read-only folder")


def big_csv(path, rows: int = 200_000):
    import random

    rng = random.Random(7)
    return write_csv(path, ["id", "segment", "note", "converted"],
                     [[i, rng.choice("abcdef"), f"{rng.getrandbits(120):030x}", rng.choice(["yes", "no"])] for i in range(rows)])


def lead_model_in_namespace(setup: str, *args: str) -> subprocess.CompletedProcess:
    """``lead-model ARGS`` in a private mount namespace after the shell commands ``setup`` (mounts no other process sees)."""
    command = " ".join(["exec", sys.executable, "-m", "lead_model.cli", *(f"'{a}'" for a in args)])
    return subprocess.run(["unshare", "-rm", "sh", "-c", f"{setup} && {command}"], capture_output=True, text=True, timeout=120)


def one_sentence(result: subprocess.CompletedProcess) -> str:
    lines = [ln for ln in (result.stdout + result.stderr).splitlines() if ln.strip()]
    assert result.returncode == 1 and len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in result.stderr, result
    return lines[0]


@needs_mounts
def test_a_read_only_folder_gets_one_sentence_and_the_store_stays_as_it_was(tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir()
    store = folder / "s.duckdb"
    load_leads(leads_csv(tmp_path / "small.csv", ["a", "b"], ["yes", "no"]), store=store, name="leads")
    before, beside = sha256(store), sorted(p.name for p in folder.iterdir())
    result = lead_model_in_namespace(f"mount --bind '{folder}' '{folder}' && mount -o remount,bind,ro '{folder}'",
                                     "load", str(big_csv(tmp_path / "big.csv", 20_000)), "--name", "leads", "--store", str(store))
    assert "Read-only file system" in one_sentence(result) and str(store) in result.stdout + result.stderr
    assert sha256(store) == before and sorted(p.name for p in folder.iterdir()) == beside
    assert [d.rows for d in LeadStore(store).datasets()] == [2]


FULL_DISK = """
import json, sys
from lead_model import LeadModelError, load_leads
from lead_model.data.store import LeadStore
store = sys.argv[1] + "/s.duckdb"
load_leads(sys.argv[2], store=store, name="leads")
try:
    load_leads(sys.argv[3], store=store, name="leads")
    error = None
except LeadModelError as exc:
    error = str(exc)
con = LeadStore(store).connect()
tables = sorted(r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall())
con.close()
print(json.dumps({"error": error, "datasets": [(d.name, d.rows, d.table) for d in LeadStore(store).datasets()], "tables": tables}))
"""


@needs_mounts
def test_a_full_disk_gets_one_sentence_the_store_stays_and_the_staged_rows_are_dropped(tmp_path):
    import json

    disk = tmp_path / "disk"
    disk.mkdir()
    small, big = leads_csv(tmp_path / "small.csv", ["a", "b"], ["yes", "no"]), big_csv(tmp_path / "big.csv")
    script = tmp_path / "full_disk.py"
    script.write_text(FULL_DISK)
    result = subprocess.run(
        ["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=3m tmpfs '{disk}' && exec '{sys.executable}' '{script}' '{disk}' '{small}' '{big}'"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.splitlines()[-1])
    assert seen["error"] is not None and "No space left on device" in seen["error"] and "\n" not in seen["error"] and "nothing was saved" in seen["error"]
    [(name, rows, table)] = seen["datasets"]
    assert (name, rows) == ("leads", 2)
    assert seen["tables"] == sorted([*BOOKKEEPING, table])  # the half-written staged table is not left behind
