"""Readers share the lead store, writers take turns (issue 12, item 2).

The bar: 6 parallel readers and 2 writers on one store all succeed. Readers hold ``<store>.lock``
shared and open DuckDB read-only, writers hold it alone; a waiting writer goes first; inside one
process threads mix readers and writers without DuckDB's "different configuration" error;
a reader writes nothing (a store that needs creating, migrating or tidying is done once by a
short writer's connection first).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from conftest import SAMPLE_CSV, SAMPLE_MODEL, TINY_HEADER, TINY_MODEL, TINY_ROWS, needs_sample, write_csv

from lead_model import LeadModelError, ScoringModel, VersionRegistry, load_leads
from lead_model.data.store import LeadStore
from lead_model.workbench.autosave import Autosave, dataset_fingerprint, latest_autosave, now_iso, save_autosave

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "lead_model.cli"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tiny_model(name: str = "tiny") -> ScoringModel:
    return ScoringModel.from_dict({**TINY_MODEL, "metadata": {"name": name, "outcome": "converted"}})


def tiny_csv(path: Path) -> Path:
    return write_csv(path, TINY_HEADER, TINY_ROWS)


def run(args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=ROOT, **kwargs)


class Holder:
    """Another process holding a store connection (reader or writer) until it is told to let go."""

    SCRIPT = (
        "import sys\n"
        "from lead_model.data.store import LeadStore\n"
        "con = LeadStore(sys.argv[1]).connect(read_only=sys.argv[2] == 'read')\n"
        "print('held', flush=True)\n"
        "sys.stdin.readline()\n"
        "con.close()\n"
    )

    def __init__(self, store: Path, mode: str):
        self.process = subprocess.Popen([sys.executable, "-c", self.SCRIPT, str(store), mode], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, cwd=ROOT)
        assert self.process.stdout.readline().strip() == "held"

    def release(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.write("\n")
            self.process.stdin.flush()
        assert self.process.wait(timeout=60) == 0


# ----- the bar: 6 readers and 2 writers at once ------------------------------------------------
def test_six_parallel_backtests_and_two_loads_on_one_store_all_succeed(tmp_path):
    needs_sample()
    store = tmp_path / "s.duckdb"
    with open(SAMPLE_CSV, encoding="utf-8") as f:  # the sample's first 5,000 leads: the same columns, quicker backtests
        (tmp_path / "leads.csv").write_text("".join(line for _, line in zip(range(5001), f)), encoding="utf-8")
    assert run([*CLI, "load", str(tmp_path / "leads.csv"), "--store", str(store)]).returncode == 0
    backtest = [*CLI, "backtest", "leads", "--model", str(SAMPLE_MODEL), "--store", str(store)]
    alone = run(backtest)
    assert alone.returncode == 0 and "Model '" in alone.stdout, alone.stderr
    first, second = tiny_csv(tmp_path / "first.csv"), tiny_csv(tmp_path / "second.csv")

    commands = [backtest] * 6 + [[*CLI, "load", str(first), "--name", "new one", "--store", str(store)],
                                 [*CLI, "load", str(second), "--name", "new two", "--store", str(store)]]
    started = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT) for c in commands]
    done = [(p.wait(timeout=300), *p.communicate()) for p in started]

    assert [code for code, _, _ in done] == [0] * 8, [err for _, _, err in done]
    assert [out for _, out, _ in done[:6]] == [alone.stdout] * 6  # every backtest is the one run alone
    assert all("Dataset 'new " in out for _, out, _ in done[6:])
    listed = run([*CLI, "datasets", "--store", str(store)])
    assert sorted(line.split("  ")[0].strip() for line in listed.stdout.splitlines()) == ["leads", "new one", "new two"]


READER = """
import json, sys, time
from pathlib import Path
from lead_model import VersionRegistry
from lead_model.data.store import LeadStore
store, folder, me = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
s = LeadStore(store)
con = s.connect(read_only=True)
got = time.monotonic_ns()
(folder / f"got-{me}").touch()
until = time.monotonic() + 60  # meets one other reader inside its connection, or gives up (then the intervals show it)
while len(list(folder.glob("got-*"))) < 2 and time.monotonic() < until:
    time.sleep(0.005)
rows = con.execute("SELECT count(*) FROM lead_datasets").fetchone()[0]
con.close()
released = time.monotonic_ns()
names = [d.name for d in s.datasets()]
print(json.dumps({"got": got, "released": released, "datasets": rows, "names": names, "versions": len(VersionRegistry(s).list())}))
"""

WRITER = """
import sys
from lead_model import ScoringModel, VersionRegistry
registry = VersionRegistry(sys.argv[1])
for i in range(5):
    registry.save(ScoringModel(), f"{sys.argv[2]} {i}")
"""


def test_readers_hold_the_store_at_the_same_time_and_writers_wait_for_them(tmp_path):
    store = tmp_path / "s.duckdb"
    load_leads(tiny_csv(tmp_path / "tiny.csv"), store=store, name="tiny")
    folder = tmp_path / "met"
    folder.mkdir()
    readers = [subprocess.Popen([sys.executable, "-c", READER, str(store), str(folder), str(i)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, cwd=ROOT) for i in range(6)]
    # The writers come while readers read (a writer that queued before two readers met would keep the second out until it wrote).
    while len(list(folder.glob("got-*"))) < 2 and all(p.poll() is None for p in readers):
        threading.Event().wait(0.01)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(store), name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
               for name in ("left", "right")]
    finished = [(p.wait(timeout=300), *p.communicate()) for p in readers + writers]
    assert [code for code, _, _ in finished] == [0] * 8, [err for _, _, err in finished]
    seen = [json.loads(out) for _, out, _ in finished[:6]]
    assert all(s["datasets"] == 1 and s["names"] == ["tiny"] for s in seen)
    spans = sorted((s["got"], s["released"]) for s in seen)
    overlapping = [(a, b) for i, a in enumerate(spans) for b in spans[i + 1:] if b[0] < a[1]]
    assert overlapping, spans  # two readers held their connections at the same time
    names = sorted(v.name for v in VersionRegistry(store).list())
    assert names == sorted(f"{w} {i}" for w in ("left", "right") for i in range(5))


# ----- every operation in its mode -----------------------------------------------------------
def test_every_read_works_beside_another_processes_reader_and_every_write_waits_for_it(tmp_path, monkeypatch):
    store = tmp_path / "s.duckdb"
    leads = load_leads(tiny_csv(tmp_path / "tiny.csv"), store=store, name="tiny")
    registry = VersionRegistry(store)
    saved = registry.save(tiny_model(), "first", leads=leads)
    registry.publish(saved.id)
    key = dataset_fingerprint(store, "tiny")
    save_autosave(store, Autosave("tiny", key, tiny_model(), tiny_model(), now_iso(), 1, "a move"))
    before = sha256(store)
    holder = Holder(store, "read")
    try:
        monkeypatch.setenv("LEAD_MODEL_LOCK_WAIT", "0")  # no waiting at all: a read opened as a writer fails at once
        s = LeadStore(store)
        assert [d.name for d in s.datasets()] == ["tiny"] and s.info("tiny").rows == 12
        assert s.fingerprint("tiny").rows == 12
        again = load_leads("tiny", store=store)
        assert again.summary.rows == 12 and list(again.rows(limit=2)["lead_id"]) == ["L01", "L02"]
        assert list(again.rows([3, 0])["lead_id"]) == ["L04", "L01"] and list(again.find_rows("L1")["lead_id"]) == ["L10", "L11", "L12"]
        assert [v.id for v in registry.list()] == [saved.id] and registry.get(saved.id).name == "first"
        assert registry.live().id == saved.id and [r.version_id for r in registry.live_history()] == [saved.id]
        assert registry.fingerprint_of(again).rows == 12
        assert latest_autosave(store, "tiny", key).changed == "a move"
        waits = []  # and none of them even tries to write first (a writer would wait for the other reader)
        patient = LeadStore(store, lock_wait=5, on_wait=waits.append)
        assert [d.name for d in patient.datasets()] == ["tiny"] and patient.fingerprint("tiny").rows == 12
        assert VersionRegistry(patient).live().id == saved.id and latest_autosave(patient, "tiny", key) is not None
        assert waits == []
        writes = [
            lambda: s.ingest(pa.table({"__row": [0], "x": [1]}), "more", "f.csv"),
            lambda: s.update_settings("tiny", {}),
            lambda: s.drop("tiny"),
            lambda: registry.save(tiny_model(), "second"),
            lambda: registry.rename(saved.id, "renamed"),
            lambda: save_autosave(store, Autosave("tiny", key, tiny_model(), tiny_model(), now_iso(), 2, "another")),
        ]
        for write in writes:
            with pytest.raises(LeadModelError, match=r"has been busy for 0 s \(another lead-model or app is reading or writing it\)"):
                write()
    finally:
        holder.release()
    assert sha256(store) == before  # the reads wrote nothing, the writes never started
    assert registry.save(tiny_model(), "second").id == saved.id + 1  # and once the reader is gone, writes go on


def test_a_second_load_encodes_while_another_process_holds_the_store_and_publishes_after(tmp_path, monkeypatch):
    """The read and encode of a file happen before the load takes the store; only staging and publishing wait for it."""
    import lead_model.data.leads as leads_module

    store = tmp_path / "s.duckdb"
    load_leads(tiny_csv(tmp_path / "first.csv"), store=store, name="first")
    reads = []
    real_read = leads_module.read_file
    monkeypatch.setattr(leads_module, "read_file", lambda path: reads.append(path) or real_read(path))
    said = []
    holder = Holder(store, "write")
    try:
        leads = load_leads(tiny_csv(tmp_path / "second.csv"), store=LeadStore(store, on_wait=said.append), name="second", wait=False)
        assert leads.summary.rows == 12 and reads == [tmp_path / "second.csv"]  # read and encoded while the store is held
        assert not leads.pending_info.done()  # its rows wait for the store
    finally:
        holder.release()
    assert leads.wait_stored().rows == 12 and reads == [tmp_path / "second.csv"]  # not read again
    assert said == [store]  # said once that it waits
    assert sorted(d.name for d in LeadStore(store).datasets()) == ["first", "second"]


# ----- a waiting writer goes first -------------------------------------------------------------
def test_a_waiting_writer_goes_before_readers_that_come_after_it(tmp_path):
    store = tmp_path / "s.duckdb"
    LeadStore(store).connect().close()
    first = LeadStore(store).connect(read_only=True)
    writer_waits, reader_waits, reader_done = threading.Event(), threading.Event(), threading.Event()
    modes = []

    def write() -> None:
        con = LeadStore(store, on_wait=lambda _: writer_waits.set()).connect()
        reader_done.wait(30)  # holds the store until the reader has read
        con.close()

    def read() -> None:
        con = LeadStore(store, on_wait=lambda _: reader_waits.set()).connect(read_only=True)
        modes.append(con.execute("SELECT current_setting('access_mode')").fetchone()[0])
        con.close()
        reader_done.set()

    writer = threading.Thread(target=write)
    writer.start()
    assert writer_waits.wait(30)  # the writer waits for the first reader
    reader = threading.Thread(target=read)
    reader.start()
    assert reader_waits.wait(30)  # a reader that comes now waits too, though the store is only being read
    # So does a reader of another process.
    other = run([*CLI, "datasets", "--store", str(store)], env={**os.environ, "LEAD_MODEL_LOCK_WAIT": "0"})
    assert other.returncode == 1 and "has been busy for 0 s" in other.stderr, other
    first.close()
    writer.join(60)
    reader.join(60)
    assert not writer.is_alive() and not reader.is_alive()
    # The reader got in once the writer had the store: it joined the writer's hold (read-write), it did not go first (read-only).
    assert modes == ["automatic"]


def test_a_thread_that_reads_and_asks_to_write_is_told_at_once(store):
    LeadStore(store).connect().close()
    reading = LeadStore(store).connect(read_only=True)
    try:
        with pytest.raises(RuntimeError, match="while this thread reads it"):
            LeadStore(store).connect()
        inner = LeadStore(store).connect(read_only=True)  # another reader of the same thread is fine
        inner.close()
    finally:
        reading.close()
    LeadStore(store).connect().close()  # and nothing was left held


# ----- threads of one process ----------------------------------------------------------------
def test_threads_mixing_reads_and_writes_never_fail_or_deadlock(tmp_path):
    store = tmp_path / "s.duckdb"
    leads = load_leads(tiny_csv(tmp_path / "tiny.csv"), store=store, name="tiny")
    registry = VersionRegistry(store)
    key = dataset_fingerprint(store, "tiny")
    errors, saves = [], []

    def work(n: int) -> None:
        rng = random.Random(n)
        s = LeadStore(store)
        ops = [
            lambda: s.datasets(),
            lambda: s.info("tiny"),
            lambda: s.fingerprint("tiny"),
            lambda: leads.rows(limit=3),
            lambda: leads.find_rows("L0"),
            lambda: load_leads("tiny", store=store),
            lambda: registry.list(),
            lambda: registry.live(),
            lambda: saves.append(registry.save(tiny_model(), f"thread {n}").id),
            lambda: s.update_settings("tiny", {**s.info("tiny").settings, f"thread {n}": True}),
            lambda: s.ingest(pa.table({"__row": [0, 1], "x": [n, n]}), f"thread {n}", "f.csv"),
            lambda: save_autosave(store, Autosave("tiny", key, tiny_model(), tiny_model(), now_iso(), n, f"thread {n}")),
            lambda: latest_autosave(store, "tiny", key),
        ]
        for _ in range(20):
            try:
                rng.choice(ops)()
            except Exception as exc:  # noqa: BLE001 - every failure is reported below
                errors.append(f"thread {n}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert not [t.name for t in threads if t.is_alive()]  # no deadlock
    assert errors == []
    assert sorted(v.id for v in registry.list()) == sorted(saves)
    assert LeadStore(store).info("tiny").rows == 12


# ----- a reader writes nothing -----------------------------------------------------------------
def test_readers_of_a_store_that_does_not_exist_answer_nothing_yet_and_create_nothing(tmp_path):
    store = tmp_path / "new.duckdb"
    assert LeadStore(store).datasets() == []
    with pytest.raises(LeadModelError, match=r"no dataset 'leads' in the store .* \(datasets: none yet\)"):
        LeadStore(store).info("leads")
    with pytest.raises(LeadModelError, match=r"no dataset 'leads'"):
        load_leads("leads", store=store)
    registry = VersionRegistry(store)
    assert registry.list() == [] and registry.live() is None and registry.live_history() == []
    with pytest.raises(LeadModelError, match=r"no version 1 in the store .* \(versions: none yet\)"):
        registry.get(1)
    assert latest_autosave(store, "leads", "1:x") is None
    with pytest.raises(LeadModelError, match=r"the lead store .* does not exist yet; load a file into it"):
        LeadStore(store).connect(read_only=True)
    listed = run([*CLI, "datasets", "--store", str(store)])
    assert listed.returncode == 0 and "no datasets yet" in listed.stdout and not listed.stderr
    versions = run([*CLI, "versions", "list", "--store", str(store)])
    assert versions.returncode == 0 and "no saved versions yet" in versions.stdout and not versions.stderr
    assert list(tmp_path.iterdir()) == []  # no store, no lock file


def old_store(path: Path) -> None:
    """A store of before the meta table (format 0): lead_datasets and one dataset."""
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE lead_datasets (name VARCHAR PRIMARY KEY, tbl VARCHAR, source VARCHAR, rows BIGINT, loaded_at VARCHAR, settings VARCHAR)")
    con.execute("CREATE TABLE leads_20250101000000000000 AS SELECT 0 AS __row, 'a' AS segment")
    con.execute("INSERT INTO lead_datasets VALUES ('leads', 'leads_20250101000000000000', 'f.csv', 1, '2025-01-01T00:00:00+00:00', '{}')")
    con.close()


def all_tables(path: Path) -> set[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    finally:
        con.close()


def test_a_reader_of_an_old_store_has_it_adopted_once_and_the_readers_after_it_write_nothing(tmp_path):
    path = tmp_path / "old.duckdb"
    old_store(path)
    assert [(d.name, d.rows) for d in LeadStore(path).datasets()] == [("leads", 1)]  # the same answer as before
    assert {"lead_store_meta", "lead_staging"} <= all_tables(path)  # adopted by one short writer first
    before = sha256(path)
    for _ in range(3):
        assert [(d.name, d.rows) for d in LeadStore(path).datasets()] == [("leads", 1)]
        assert list(load_leads("leads", store=path, require_outcome=False).rows()["segment"]) == ["a"]
        assert VersionRegistry(path).list() == []
    assert sha256(path) == before


def test_a_reader_leaves_a_running_loads_staged_table_alone_and_has_an_abandoned_one_dropped(tmp_path):
    store = tmp_path / "s.duckdb"
    load_leads(tiny_csv(tmp_path / "tiny.csv"), store=store, name="tiny")
    staging = ("import sys, pyarrow as pa\nfrom lead_model.data.store import LeadStore\n"
               "print(LeadStore(sys.argv[1]).stage(pa.table({'__row': [0], 'x': [1]})), flush=True)\nsys.stdin.readline()\n")
    child = subprocess.Popen([sys.executable, "-c", staging, str(store)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    staged = child.stdout.readline().strip()
    try:
        before = sha256(store)
        assert [d.name for d in LeadStore(store).datasets()] == ["tiny"]
        assert staged in all_tables(store) and sha256(store) == before  # its load still runs: the reader wrote nothing
    finally:
        child.kill()
        child.wait()
    assert [d.name for d in LeadStore(store).datasets()] == ["tiny"]  # the same answer
    assert staged not in all_tables(store)  # abandoned now: dropped (by a short writer) before the read
    before = sha256(store)
    assert [d.name for d in LeadStore(store).datasets()] == ["tiny"]
    assert sha256(store) == before  # nothing left to tidy: the next reader writes nothing
