"""Model versions in the store: round trips, never an overwrite, rename/archive/publish and the live history, errors,
and the bars: 8 processes x 50 saves at once lose nothing; a saver killed at random moments never loses a saved version."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
from conftest import TINY_CONVERTED, TINY_FIT_ENG, TINY_KNOCKED_OUT, TINY_MODEL

from lead_model import LeadModelError, ScoringModel, VersionRegistry
from lead_model.data.leads import leads_from_table
from lead_model.data.store import LeadStore
from lead_model.model.versions import HEADLINE, id_ranges

ROOT = Path(__file__).resolve().parents[1]


def model(threshold: int = 40, name: str = "tiny") -> ScoringModel:
    return ScoringModel.from_dict({**TINY_MODEL, "metadata": {"name": name, "outcome": "converted"}, "mql_threshold": threshold})


def fields(v) -> dict:
    return {k: getattr(v, k) for k in ("id", "name", "author", "notes", "created", "dataset", "dataset_rows", "dataset_hash", "summary",
                                        "archived", "live", "signoff", "model_json")}


# ----- round trips --------------------------------------------------------------------------
def test_a_saved_version_reads_back_field_by_field(tmp_path, tiny):
    registry = VersionRegistry(tmp_path / "v.duckdb")
    m = model()
    saved = registry.save(m, "  Q3 review ", author="Ana", notes="job level\nrebalanced", leads=tiny, signoff={"sales": "Bo"})
    got = registry.get(saved.id)
    assert fields(got) == fields(saved)
    assert got.model == m and got.model_json == m.to_json() and registry.model(saved.id) == m
    assert (got.name, got.author, got.notes, got.signoff) == ("Q3 review", "Ana", "job level\nrebalanced", {"sales": "Bo"})
    assert got.created.endswith("+00:00") and not got.archived and not got.live
    # The dataset it was designed on: its name and the store's fingerprint of its rows.
    fp = LeadStore(tiny.store_path).fingerprint(tiny.name)
    assert (got.dataset, got.dataset_rows, got.dataset_hash) == (tiny.name, fp.rows, fp.hash) and fp.rows == 12
    # The backtest headline at save time, against a count by hand (TINY_FIT_ENG: worked out in test_scoring).
    scores = [f + e for f, e in TINY_FIT_ENG]
    mql = [s >= 40 and not ko for s, ko in zip(scores, TINY_KNOCKED_OUT)]
    hits = sum(q and c for q, c in zip(mql, TINY_CONVERTED))
    assert set(got.summary) == set(HEADLINE)
    assert got.summary["leads"] == 12 and got.summary["converted"] == sum(TINY_CONVERTED) and got.summary["threshold"] == 40
    assert got.summary["mql"] == sum(mql) and got.summary["knocked_out"] == sum(TINY_KNOCKED_OUT)
    assert got.summary["precision"] == pytest.approx(hits / sum(mql), abs=1e-12)
    assert got.summary["recall"] == pytest.approx(hits / sum(TINY_CONVERTED), abs=1e-12)
    assert got.summary["mql_rate"] == pytest.approx(sum(mql) / 12, abs=1e-12)


def test_without_data_and_with_data_outside_a_store(tmp_path, tiny):
    registry = VersionRegistry(tmp_path / "v.duckdb")
    bare = registry.save(model(), "no data")
    assert (bare.dataset, bare.dataset_rows, bare.dataset_hash, bare.summary, bare.signoff) == (None, None, None, {}, {})
    import pyarrow as pa

    table = pa.table({"industry": ["Software", "Retail", None], "employees": [300, 10, None], "page_views": [12, 0, 3],
                      "newsletter": ["yes", "no", "yes"], "converted": ["yes", "no", "no"]})
    memory = leads_from_table(table, "converted", name="pasted", model=model())
    v = registry.save(model(), "in memory", leads=memory)
    assert (v.dataset, v.dataset_rows, v.dataset_hash) == ("pasted", 3, None)  # no stored rows to fingerprint
    assert v.summary["leads"] == 3 and registry.get(v.id).summary == v.summary


def test_a_save_is_always_a_new_row(tmp_path):
    registry = VersionRegistry(tmp_path / "v.duckdb")
    first = registry.save(model(40), "same name")
    second = registry.save(model(30), "same name")
    third = registry.save(model(40), "same name")
    assert [first.id, second.id, third.id] == [1, 2, 3]
    assert [v.id for v in registry.list()] == [3, 2, 1]  # newest first
    assert registry.get(1).model.mql_threshold == 40 and registry.get(2).model.mql_threshold == 30
    assert fields(registry.get(1)) == fields(first)


def test_rename_archive_restore(tmp_path):
    registry = VersionRegistry(tmp_path / "v.duckdb")
    a, b = registry.save(model(40), "a"), registry.save(model(30), "b")
    renamed = registry.rename(a.id, " better name ")
    assert renamed.name == "better name" and renamed.model_json == a.model_json and renamed.created == a.created
    archived = registry.archive(a.id)
    assert archived.archived and [v.id for v in registry.list()] == [b.id]
    assert [v.id for v in registry.list(include_archived=True)] == [b.id, a.id]
    assert registry.get(a.id).archived  # still readable
    with pytest.raises(LeadModelError, match=rf"^version {a.id} 'better name' is archived; restore it with 'lead-model versions archive {a.id} --restore'"):
        registry.publish(a.id)
    assert not registry.archive(a.id, archived=False).archived and len(registry.list()) == 2


def test_publish_one_live_at_a_time_and_the_live_history(tmp_path):
    registry = VersionRegistry(tmp_path / "v.duckdb")
    assert registry.live() is None and registry.live_history() == []
    v1, v2, v3 = (registry.save(model(t), f"v{t}") for t in (40, 30, 20))
    assert registry.publish(v1.id, by="Ana").live
    assert registry.live().id == v1.id
    registry.publish(v2.id, by="Bo")
    registry.publish(v2.id, by="Bo")  # already live: no second entry
    registry.publish(v1.id)
    assert [v.id for v in registry.list() if v.live] == [v1.id]  # exactly one live
    history = registry.live_history()
    assert [(h.version_id, h.name, h.published_by) for h in history] == [(v1.id, "v40", ""), (v2.id, "v30", "Bo"), (v1.id, "v40", "Ana")]
    assert all(h.published_at.endswith("+00:00") for h in history)
    version_id, name, published_at, by = history[0]  # a tuple too
    assert (version_id, name) == (v1.id, "v40")
    with pytest.raises(LeadModelError, match=rf"^version {v1.id} 'v40' is the live model; publish another version first"):
        registry.archive(v1.id)
    registry.rename(v2.id, "renamed")
    assert registry.live_history()[1].name == "renamed"  # the history names versions as they are called now
    assert not registry.get(v3.id).live


def test_errors_are_one_sentence(tmp_path):
    store = tmp_path / "v.duckdb"
    registry = VersionRegistry(store)
    with pytest.raises(LeadModelError, match=r"^no version 1 in the store .*v\.duckdb \(versions: none yet\); list them with 'lead-model versions list'\.$"):
        registry.get(1)
    assert registry.list() == [] and not store.exists()  # reading creates nothing
    for _ in range(6):
        registry.save(model(), "x")
    registry.archive(5)
    with pytest.raises(LeadModelError) as err:
        registry.get(7)
    assert str(err.value) == f"no version 7 in the store {store} (versions: 1-6); list them with 'lead-model versions list'."
    for call in (lambda: registry.rename(9, "n"), lambda: registry.archive(9), lambda: registry.publish(9), lambda: registry.model(9)):
        with pytest.raises(LeadModelError, match=r"^no version 9 in the store .*\(versions: 1-6\)"):
            call()
    bad_names = {"": "cannot be blank", "   ": "cannot be blank", "x" * 101: "101 characters long; use 100 at most", "two\nlines": "one line",
                 7: "is text, not int"}
    for name, words in bad_names.items():
        with pytest.raises(LeadModelError, match=words):
            registry.save(model(), name)
        with pytest.raises(LeadModelError, match=words):
            registry.rename(1, name)
    assert registry.save(model(), "x" * 100).name == "x" * 100
    for bad_id in (0, -1, True, "3", 2.0):
        with pytest.raises(LeadModelError, match=r"^version id .* is not usable; give the whole number"):
            registry.get(bad_id)
    with pytest.raises(LeadModelError, match="saves a ScoringModel, not dict"):
        registry.save(TINY_MODEL, "dict")
    with pytest.raises(LeadModelError, match="leads must be a LeadSet"):
        registry.save(model(), "n", leads="leads.csv")
    with pytest.raises(LeadModelError, match="signoff cannot be stored as JSON"):
        registry.save(model(), "n", signoff={"when": object()})
    with pytest.raises(LeadModelError, match="author is 101 characters long"):
        registry.save(model(), "n", author="a" * 101)
    assert [v.id for v in registry.list(include_archived=True)] == [7, 6, 5, 4, 3, 2, 1]  # the refused saves wrote nothing


def test_id_ranges():
    assert id_ranges([]) == "none yet"
    assert id_ranges([1, 2, 3, 5, 8, 9]) == "1-3, 5, 8-9"
    assert id_ranges([4]) == "4"
    assert id_ranges(list(range(1, 40, 2))) == "1, 3, 5, 7, …, 35, 37, 39"


def test_threads_of_one_process_saving_and_renaming_at_once(tmp_path):
    """Two app sessions are two threads on one DuckDB instance: their write-write conflicts are retried, nothing is lost."""
    registry = VersionRegistry(tmp_path / "v.duckdb")
    target = registry.save(model(), "renamed by everyone")
    saved: list[tuple[int, int, int]] = []
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(15):
                saved.append((registry.save(model(100 * k + i), f"t{k} #{i}").id, k, i))
                registry.rename(target.id, f"name from thread {k} #{i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({vid for vid, _, _ in saved}) == 60
    for vid, k, i in saved:
        got = registry.get(vid)
        assert (got.name, got.model.mql_threshold) == (f"t{k} #{i}", 100 * k + i)
    assert registry.get(target.id).name.startswith("name from thread")


# ----- the bars: processes at once, and kills --------------------------------------------------
SAVER = r"""
import json, sys
from lead_model.model.schema import ScoringModel
from lead_model.model.versions import VersionRegistry
store, base, k, n = sys.argv[1], ScoringModel.from_dict(json.loads(sys.argv[2])), int(sys.argv[3]), int(sys.argv[4])
registry = VersionRegistry(store)
if n < 0:  # a saver that is killed: say it is ready, wait for the word, then save until the end
    print("ready", flush=True)
    sys.stdin.readline()
i = 0
while n < 0 or i < n:
    v = registry.save(base.replace(mql_threshold=1000 * k + i), f"p{k} #{i}", author=f"process {k}", notes=f"save {i} of {k}")
    print(v.id, i, flush=True)
    i += 1
"""


def expected(k: int, i: int) -> tuple:
    m = model().replace(mql_threshold=1000 * k + i)
    return (f"p{k} #{i}", f"process {k}", f"save {i} of {k}", m.to_json())


def saver(store: Path, k: int, n: int, **popen) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LEAD_MODEL_LOCK_WAIT": "120"}
    return subprocess.Popen([sys.executable, "-c", SAVER, str(store), json.dumps(model().to_dict()), str(k), str(n)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, **popen)


def test_eight_processes_saving_fifty_versions_each_at_once(tmp_path):
    store = tmp_path / "v.duckdb"
    procs = [saver(store, k, 50) for k in range(8)]
    printed = {}
    for k, p in enumerate(procs):
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
        for line in out.splitlines():
            vid, i = map(int, line.split())
            printed[vid] = (k, i)
    assert len(printed) == 400  # 400 different ids
    listed = VersionRegistry(store).list()
    assert len(listed) == 400 and sorted(v.id for v in listed) == sorted(printed)
    for v in listed:
        assert (v.name, v.author, v.notes, v.model_json) == expected(*printed[v.id])
    assert sorted(i for k, i in printed.values() if k == 3) == list(range(50))


def test_a_saver_killed_at_random_moments_never_loses_a_saved_version(tmp_path):
    store = tmp_path / "v.duckdb"
    VersionRegistry(store).save(model(), "before the kills")
    rng = random.Random(20)
    printed: dict[int, tuple[int, int]] = {}
    # The next savers start (import, open nothing) while one runs; each saves only after its "go".
    waiting = [saver(store, k, -1, stdin=subprocess.PIPE) for k in range(3)]
    for k in range(20):
        current = waiting.pop(0)
        if k + 3 < 20:
            waiting.append(saver(store, k + 3, -1, stdin=subprocess.PIPE))
        assert current.stdout.readline() == "ready\n"
        current.stdin.write("go\n")
        current.stdin.flush()
        time.sleep(rng.uniform(0.05, 0.6))
        current.send_signal(signal.SIGKILL)
        out, _ = current.communicate(timeout=30)
        assert current.returncode == -signal.SIGKILL
        for line in out.split("\n")[:-1]:  # whole lines only (one write each; the kill cannot cut one)
                vid, i = map(int, line.split())
                printed[vid] = (k, i)
        registry = VersionRegistry(store)
        have = {v.id: v for v in registry.list()}
        lost = [vid for vid in printed if vid not in have]
        assert lost == [], f"kill {k + 1}: versions {lost} were printed as saved and are gone"
        for vid, (kk, i) in printed.items():
            v = have[vid]
            assert (v.name, v.author, v.notes, v.model_json) == expected(kk, i)
    assert len(printed) >= 10 and registry.get(1).name == "before the kills"  # the kills came after some saves, not all before the first
    con = duckdb.connect(str(store))  # the file is a sound DuckDB database after 20 kills
    try:
        assert con.execute("SELECT count(*) FROM lead_versions").fetchone()[0] >= len(printed) + 1
    finally:
        con.close()
