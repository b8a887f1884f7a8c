"""Autosave without the app: save and load, newest wins, per dataset and content, the change wording, the offer, the Workbench hook."""

from __future__ import annotations

import time

import duckdb
import pytest

from lead_model.data.leads import load_leads
from lead_model.data.store import LeadStore
from lead_model.workbench.autosave import (
    AUTOSAVE_TABLE,
    KEPT_PER_DATASET,
    WRITER,
    Autosave,
    Autosaver,
    dataset_fingerprint,
    describe_changes,
    latest_autosave,
    offer_text,
    resume_offer,
    save_autosave,
)
from lead_model.workbench.workshop import Workbench


@pytest.fixture
def leads(tiny_csv, store):
    """The 12 hand-built leads in a store of this test's own (autosaves write to it)."""
    return load_leads(tiny_csv, "converted", store=store, name="tiny")


def key(leads) -> str:
    """The autosave key of the content of ``leads``' dataset."""
    return dataset_fingerprint(leads.store_path, leads.name)


def saved(leads, model, baseline=None, at="2026-12-01T14:05:00.000000+00:00", changes=1, changed="x") -> Autosave:
    return Autosave(leads.name, key(leads), model, baseline or model, at, changes, changed)


def rows(store) -> list[tuple]:
    con = duckdb.connect(str(store))
    try:
        return con.execute(f"SELECT dataset, fingerprint, changes FROM {AUTOSAVE_TABLE} ORDER BY dataset, fingerprint").fetchall()
    finally:
        con.close()


# ----- the table -----------------------------------------------------------------------------
def test_save_and_load_round_trip(leads, store, tiny_model):
    assert latest_autosave(store, "tiny", key(leads)) is None  # no table yet: created, empty
    moved = tiny_model.with_points("industry", "Software", 35)
    save_autosave(store, saved(leads, moved, tiny_model, changes=3, changed="industry: Software 20 -> 35"))
    got = latest_autosave(store, "tiny", key(leads))
    assert (got.model, got.baseline, got.changes, got.changed) == (moved, tiny_model, 3, "industry: Software 20 -> 35")
    assert got.saved_time.hour == 14 and got.saved_time.utcoffset().total_seconds() == 0
    # the same DuckDB file as the datasets, and not held open: another connection can open it read-write at once
    assert {d.name for d in LeadStore(store).datasets()} == {"tiny"}
    assert rows(store) == [("tiny", key(leads), 3)]


def test_newest_wins_whatever_order_the_writes_land_in(leads, store, tiny_model):
    later = saved(leads, tiny_model.replace(mql_threshold=7), at="2026-12-01T14:06:00.000000+00:00", changes=2)
    earlier = saved(leads, tiny_model.replace(mql_threshold=5), at="2026-12-01T14:05:00.000000+00:00", changes=1)
    save_autosave(store, later)
    save_autosave(store, earlier)  # e.g. a slower writer: must not replace the newer save
    assert latest_autosave(store, "tiny", key(leads)).model.mql_threshold == 7
    newest = saved(leads, tiny_model.replace(mql_threshold=9), at="2026-12-01T14:07:00.000000+00:00", changes=3)
    save_autosave(store, newest)
    assert latest_autosave(store, "tiny", key(leads)).model.mql_threshold == 9
    assert len(rows(store)) == 1  # one row per dataset and content


def test_autosaves_are_per_dataset_and_content(tiny_csv, store, tiny_model):
    a = load_leads(tiny_csv, "converted", store=store, name="a")
    first = key(a)  # the dataset's content now (key() asks the store about the name's current rows)
    b = load_leads(tiny_csv, "converted", store=store, name="b")
    fp = LeadStore(store).fingerprint("a")
    assert first == f"{fp.rows}:{fp.hash}" and fp.rows == 12 and key(b) == first  # the same rows under two names
    save_autosave(store, saved(a, tiny_model.replace(mql_threshold=1)))
    save_autosave(store, saved(b, tiny_model.replace(mql_threshold=2)))
    assert latest_autosave(store, "a", first).model.mql_threshold == 1
    assert latest_autosave(store, "b", first).model.mql_threshold == 2
    # The same file loaded again (a restarted server, --data FILE) lands in a new table, and its work is offered.
    a2 = load_leads(tiny_csv, "converted", store=store, name="a")
    assert a2.info.table != a.info.table and key(a2) == first
    offer = resume_offer(store, a2, tiny_model)
    assert offer is not None and offer.model.mql_threshold == 1
    # A file with other content under the same name is not offered the old work ...
    changed = tiny_csv.with_name("changed.csv")
    changed.write_text(tiny_csv.read_text().replace("L12,2024-06-30,Retail,90,", "L12,2024-06-30,Retail,91,"))
    a3 = load_leads(changed, "converted", store=store, name="a")
    other = key(a3)
    assert other != first and resume_offer(store, a3, tiny_model) is None
    save_autosave(store, saved(a3, tiny_model.replace(mql_threshold=3), at="2026-12-01T15:00:00.000000+00:00"))
    # ... and keeps it: the first file loaded once more is offered its own work again
    a4 = load_leads(tiny_csv, "converted", store=store, name="a")
    assert key(a4) == first and resume_offer(store, a4, tiny_model).model.mql_threshold == 1
    assert rows(store) == sorted([("a", first, 1), ("a", other, 1), ("b", first, 1)])
    # At most KEPT_PER_DATASET contents per name, the newest; a dataset the store no longer holds loses its row.
    LeadStore(store).drop("b")
    for i in range(KEPT_PER_DATASET):
        save_autosave(store, Autosave("a", f"99:{i:02d}", tiny_model, tiny_model, f"2026-12-02T12:{i:02d}:00.000000+00:00", 1, ""))
    assert rows(store) == [("a", f"99:{i:02d}", 1) for i in range(KEPT_PER_DATASET)]  # a's two older contents and b went


def test_autosaves_keyed_by_table_are_carried_over_to_content_keys(tiny_csv, tmp_path, tiny_model):
    """A store written before fingerprints: the row of the dataset's current table is kept under its content, others go."""
    store = tmp_path / "old.duckdb"
    leads = load_leads(tiny_csv, "converted", store=store, name="tiny")
    con = duckdb.connect(str(store))
    con.execute(f"CREATE TABLE {AUTOSAVE_TABLE} (dataset VARCHAR, tbl VARCHAR, saved_at VARCHAR, model VARCHAR, baseline VARCHAR,"
                " changes BIGINT, changed VARCHAR, PRIMARY KEY (dataset, tbl))")
    moved = tiny_model.replace(mql_threshold=4)
    con.execute(f"INSERT INTO {AUTOSAVE_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)",
                ["tiny", leads.info.table, "2026-12-01T14:05:00.000000+00:00", moved.to_json(), tiny_model.to_json(), 2, "MQL threshold"])
    con.execute(f"INSERT INTO {AUTOSAVE_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)",
                ["tiny", "leads_gone", "2026-12-01T14:06:00.000000+00:00", moved.to_json(), tiny_model.to_json(), 9, "x"])
    con.close()
    got = latest_autosave(store, "tiny", key(leads))
    assert (got.model, got.changes) == (moved, 2)
    assert rows(store) == [("tiny", key(leads), 2)]


def test_a_failed_save_leaves_the_previous_one(leads, store, tiny_model, monkeypatch):
    from lead_model.model.schema import ScoringModel

    save_autosave(store, saved(leads, tiny_model.replace(mql_threshold=6)))
    later = saved(leads, tiny_model.replace(mql_threshold=8), at="2026-12-01T16:00:00.000000+00:00")
    bad = Autosave("elsewhere", "8:x", tiny_model.replace(mql_threshold=99), tiny_model, later.saved_at, 1, "")
    real = ScoringModel.to_json

    def fails_on_99(self):  # the second row of the transaction fails half-way through the save
        if self.mql_threshold == 99:
            raise OSError("disk full")
        return real(self)

    monkeypatch.setattr(ScoringModel, "to_json", fails_on_99)
    with pytest.raises(OSError):
        save_autosave(store, [later, bad])  # one transaction: the first row is rolled back too
    monkeypatch.undo()
    assert latest_autosave(store, "tiny", key(leads)).model.mql_threshold == 6
    assert latest_autosave(store, "elsewhere", "8:x") is None


def test_a_row_that_no_longer_reads_is_not_offered(leads, store, tiny_model):
    save_autosave(store, saved(leads, tiny_model.replace(mql_threshold=5)))
    con = duckdb.connect(str(store))
    con.execute(f"UPDATE {AUTOSAVE_TABLE} SET model = '{{\"schema_version\": 99}}'")
    con.close()
    assert latest_autosave(store, "tiny", key(leads)) is None


# ----- what changed ----------------------------------------------------------------------------
def test_describe_changes_level_by_level(tiny_model):
    assert describe_changes(tiny_model, tiny_model) == []
    m = tiny_model.with_points("industry", "Software", 25)
    assert describe_changes(tiny_model, m) == ["industry: Software 20 -> 25"]
    m = tiny_model.with_points("employees", "bin:2", 30).with_points("employees", "__missing__", 0)
    assert describe_changes(tiny_model, m) == ["employees: 200 to < 1000 20 -> 30", "employees: (missing) -3 -> 0"]
    m = tiny_model.with_points("newsletter", True, 12).with_points("industry", "__other__", 4)
    assert describe_changes(tiny_model, m) == ["industry: (other) 2 -> 4", "newsletter: true 10 -> 12"]
    # a value the model did not list scored 'other' (2 points) until it got points of its own
    m = tiny_model.with_points("industry", "Government", 8)
    assert describe_changes(tiny_model, m) == ["industry: Government 2 -> 8"]
    m = tiny_model.replace(mql_threshold=tiny_model.mql_threshold - 5)
    assert describe_changes(tiny_model, m) == [f"MQL threshold {tiny_model.mql_threshold} -> {tiny_model.mql_threshold - 5}"]
    m = tiny_model.replace(caps={"fit": 40, "engagement": None, "total": None})
    assert describe_changes(tiny_model, m) == ["Fit cap none -> 40"]
    assert describe_changes(m, tiny_model) == ["Fit cap 40 -> none"]


def test_describe_changes_attributes_bins_and_rules(tiny, tiny_model):
    bench = Workbench(tiny, tiny_model)
    bench.set_edges("employees", "50, 500")
    assert describe_changes(tiny_model, bench.model) == ["employees: bins 50, 200, 1000 -> 50, 500"]
    bench.set_attributes([n for n in tiny_model.attribute_names if n != "newsletter"])
    assert describe_changes(tiny_model, bench.model)[-1] == "removed newsletter"
    assert describe_changes(bench.model, tiny_model)[-1] == "added newsletter"
    before = bench.model
    bench.add_knockout({"attribute": "industry", "values": ["Education"], "reason": "students"})
    assert describe_changes(before, bench.model) == ["knock-out added: industry is 'Education' (students)"]
    assert describe_changes(bench.model, before) == ["knock-out removed: industry is 'Education' (students)"]


# ----- the offer -------------------------------------------------------------------------------
def test_offer_only_a_different_model_that_fits(leads, store, tiny_model, tiny_csv):
    assert resume_offer(store, leads, tiny_model) is None  # nothing saved
    save_autosave(store, saved(leads, tiny_model))
    assert resume_offer(store, leads, tiny_model) is None  # the same as the start: nothing to continue
    moved = tiny_model.with_points("industry", "Software", 25).replace(mql_threshold=tiny_model.mql_threshold - 5)
    save_autosave(store, saved(leads, moved, tiny_model, at="2026-12-01T14:06:00.000000+00:00", changes=7))
    offer = resume_offer(store, leads, tiny_model)
    assert offer is not None and offer.model == moved and offer.changes == 7
    text = offer_text(offer, tiny_model)
    assert text.startswith("Continue where the last session stopped? Saved ")
    assert " 14:06 UTC, 7 changes: industry: Software 20 -> 25; MQL threshold " in text
    # The same data opened with 'newsletter' ignored: the saved model scores a column it lacks.
    fewer = load_leads("tiny", store=store, exclude=["newsletter"])
    assert fewer.info.table == leads.info.table and "newsletter" not in fewer.attributes
    assert resume_offer(store, fewer, tiny_model.without_attribute("newsletter")) is None


def test_offer_is_newer_than_the_start_model(leads, store, tiny_model):
    save_autosave(store, saved(leads, tiny_model.replace(mql_threshold=5), at="2026-12-01T14:05:00.000000+00:00"))
    newer_file = tiny_model.model_copy(update={"metadata": tiny_model.metadata.model_copy(update={"updated": "2026-12-01T15:00:00+00:00"})})
    assert resume_offer(store, leads, newer_file) is None
    assert resume_offer(store, leads, newer_file, check_updated=False) is not None  # a starter model made just now: its stamp is no edit
    older_file = tiny_model.model_copy(update={"metadata": tiny_model.metadata.model_copy(update={"updated": "2026-12-01T13:00:00+00:00"})})
    assert resume_offer(store, leads, older_file) is not None


def test_offer_text_lists_three_changes_then_an_ellipsis(leads, tiny_model):
    m = tiny_model
    for p in (21, 22):
        m = m.with_points("industry", "Software", p)
    m = m.with_points("industry", "Retail", 6).with_points("industry", "Education", -9).replace(mql_threshold=1)
    text = offer_text(saved(leads, m, changes=1), tiny_model)
    assert text.endswith("1 change: industry: Software 20 -> 22; industry: Retail 5 -> 6; industry: Education -10 -> -9 …")


# ----- the Workbench hook ----------------------------------------------------------------------
def test_hook_after_every_edit_that_changes_something(tiny, tiny_model):
    calls = []
    bench = Workbench(tiny, tiny_model, on_change=lambda b, previous: calls.append((previous, b.model, b.baseline, b.changes)))
    bench.set_points("industry", "Software", 25)
    bench.set_points("industry", "Software", 25)  # a widget re-sending its value: no change, no call
    assert len(calls) == 1 and calls[0][0] == tiny_model and calls[0][3] == 1
    bench.set_threshold(5)
    bench.undo()
    bench.undo()
    bench.undo()  # nothing left to undo
    assert [c[3] for c in calls] == [1, 2, 3, 4] and bench.model == tiny_model
    bench.redo()
    bench.set_baseline()
    assert calls[-1][0] is calls[-1][1] and calls[-1][2] == bench.model and bench.changes == 6
    with pytest.raises(Exception):
        bench.set_caps({"fit": -1, "engagement": None, "total": None})  # refused: no call
    assert bench.changes == 6


def test_resume_restores_model_baseline_and_count(tiny, tiny_model):
    calls = []
    bench = Workbench(tiny, tiny_model, on_change=lambda b, previous: calls.append(b.changes))
    moved = tiny_model.with_points("industry", "Software", 25)
    bench.resume(moved, moved.replace(mql_threshold=3), 7)
    assert (bench.model, bench.baseline.mql_threshold, bench.changes, calls) == (moved, 3, 7, [7])
    bench.undo()  # continuing is undoable
    assert bench.model == tiny_model and bench.changes == 8


def test_autosaver_saves_every_change_and_a_reload_sees_the_last(leads, store, tiny_model):
    bench = Workbench(leads, tiny_model, on_change=Autosaver(store, leads.name, key(leads)))
    writes = WRITER.writes
    for p in range(21, 41):  # a slider dragged from 20 to 40: twenty changes, queued
        bench.set_points("industry", "Software", p)
    got = latest_autosave(store, "tiny", key(leads))  # waits for this process's queued writes
    assert got.model == bench.model and got.changes == 20 and got.changed == "industry: Software 39 -> 40"
    assert WRITER.writes - writes < 20  # coalesced: a burst of moves makes fewer writes
    offer = resume_offer(store, leads, tiny_model)
    assert offer is not None and "20 changes: industry: Software 20 -> 40" in offer_text(offer, tiny_model)


def test_autosaver_in_the_foreground_writes_at_once(leads, store, tiny_model):
    bench = Workbench(leads, tiny_model, on_change=Autosaver(store, leads.name, key(leads), background=False))
    bench.set_threshold(3)
    bench.set_baseline()
    got = latest_autosave(store, "tiny", key(leads))
    assert got.baseline.mql_threshold == 3 and got.changed == "set the current model as the baseline" and got.changes == 2


def test_queueing_a_save_is_quick(leads, store, tiny_model):
    """The hook runs on every slider move: describing the change and queueing it must cost well under a millisecond or so."""
    saver = Autosaver(store, leads.name, key(leads))
    bench = Workbench(leads, tiny_model, on_change=saver)
    started = time.perf_counter()
    for p in range(100):
        bench.set_points("industry", "Software", p)
    per_move = (time.perf_counter() - started) / 100
    WRITER.flush()
    assert latest_autosave(store, "tiny", key(leads)).model.attribute("industry").level_points()["Software"] == 99
    assert per_move < 0.02, f"{per_move * 1000:.1f} ms per move (edit + hook)"


def test_a_store_locked_by_another_program_is_written_once_it_is_free(leads, store, tiny_model):
    """The CLI (another process) holds the store: the move is not refused, and it reaches the store once the lock goes."""
    import subprocess
    import sys

    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(store)!r}); print('locked', flush=True); time.sleep(1.5)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        bench = Workbench(leads, tiny_model, on_change=Autosaver(store, leads.name, key(leads)))
        bench.set_threshold(4)  # queued: the edit itself never waits for the store
        assert bench.model.mql_threshold == 4
    finally:
        holder.wait(timeout=30)
    assert WRITER.flush(timeout=15)
    got = latest_autosave(store, "tiny", key(leads))
    assert got is not None and got.model.mql_threshold == 4
