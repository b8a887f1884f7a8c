"""Autosave: the model a room is designing, kept per dataset in the lead store, so a browser reload loses nothing.

One row per dataset name and *content* in ``lead_autosaves`` (in the store's DuckDB file, beside
``lead_datasets``): the working model, its baseline, when it was saved, how many changes the
session made since it opened the dataset and the last change in words. The content is the
dataset's ``Fingerprint`` (``LeadStore.fingerprint``: its row count and an order-independent
hash of its rows, taken when it was stored), so the same file loaded again, by a restarted
server (``make run``, ``--data FILE``) or from the Data page, is offered the work done on it,
though it lands in a new table; a file with other content under the same name is not. The
last ``KEPT_PER_DATASET`` contents of each name keep their row; rows of datasets the store no
longer holds are dropped. A store written before fingerprints (rows keyed by table) is
carried over once: rows of a table that is still its dataset's get that dataset's fingerprint.

Speed: opening the store, upserting a 7 KB model and closing it (the file is never held open
between operations: the CLI and other servers use it too) takes ~75 ms, up to ~250 ms when
DuckDB checkpoints on close; too slow for every slider move. So ``Autosaver`` (the
Workbench's ``on_change`` hook) only queues the save (microseconds) and one background thread
writes the newest queued state of each dataset, coalescing a burst of moves into one write.
``latest_autosave`` waits for queued writes of the same store first, so a reload served by
this process always sees the last change; it reads as a reader (``connect(read_only=True)``),
beside other readers of the store.

Atomic: each write is one transaction (upsert of one row, plus dropping the rows no longer
kept), so a crash leaves the previous save or the new one, never half a model. Newest
wins: a row is replaced only by a save made later (``saved_at``), whatever order the writes
land in.
"""

from __future__ import annotations

import atexit
import json
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from lead_model.data.leads import LeadSet
from lead_model.data.store import FINGERPRINT_KEY, Fingerprint, LeadStore, table_fingerprint
from lead_model.engine.scoring import fits
from lead_model.errors import LeadModelError
from lead_model.model.diff import describe_changes
from lead_model.model.schema import ScoringModel

if TYPE_CHECKING:
    from lead_model.workbench.workshop import Workbench

AUTOSAVE_TABLE = "lead_autosaves"
KEPT_PER_DATASET = 20  # keys (content, and on a hosted app the browser: ``autosave_key``) of one dataset name whose last work is kept
OFFER_CHANGES = 3  # changes the "continue?" line lists before "…"
RETRY_SECONDS = 2.0  # at most this long between tries while another program holds the store's lock

log = logging.getLogger(__name__)

_CREATE = (
    f"CREATE TABLE IF NOT EXISTS {AUTOSAVE_TABLE} (dataset VARCHAR, fingerprint VARCHAR, saved_at VARCHAR, model VARCHAR,"
    " baseline VARCHAR, changes BIGINT, changed VARCHAR, PRIMARY KEY (dataset, fingerprint))"
)
_UPSERT = (
    f"INSERT INTO {AUTOSAVE_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dataset, fingerprint) DO UPDATE SET"
    " saved_at = excluded.saved_at, model = excluded.model, baseline = excluded.baseline,"
    f" changes = excluded.changes, changed = excluded.changed WHERE excluded.saved_at > {AUTOSAVE_TABLE}.saved_at"
)
# Rows of this dataset beyond its KEPT_PER_DATASET most recently saved contents, and rows of datasets the store no longer holds.
_PRUNE = (
    f"DELETE FROM {AUTOSAVE_TABLE} WHERE (dataset = ? AND fingerprint NOT IN (SELECT fingerprint FROM {AUTOSAVE_TABLE}"
    f" WHERE dataset = ? ORDER BY saved_at DESC LIMIT {KEPT_PER_DATASET})) OR dataset NOT IN (SELECT name FROM lead_datasets)"
)
_READY: set[str] = set()  # stores whose autosave table has the current layout (checked once per process)
_READY_LOCK = threading.Lock()


@dataclass(frozen=True)
class Autosave:
    """The working state of one dataset as last saved.

    ``saved_at`` is ISO 8601 UTC with microseconds (when the change was made); ``changes``
    counts the edits since the session opened the dataset; ``changed`` is the last one in words.
    """

    dataset: str
    fingerprint: str  # the dataset's content (``fingerprint_key``), not its table: the same file loaded again is the same
    model: ScoringModel
    baseline: ScoringModel
    saved_at: str
    changes: int
    changed: str

    @property
    def saved_time(self) -> datetime:
        return datetime.fromisoformat(self.saved_at)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _store(store: LeadStore | str | Path) -> LeadStore:
    return store if isinstance(store, LeadStore) else LeadStore(store)


def fingerprint_key(fp: Fingerprint) -> str:
    """A Fingerprint as the autosave key: '50000:3f2a...' (rows, then the hash)."""
    return f"{fp.rows}:{fp.hash}"


def autosave_key(fingerprint: str, browser: str = "") -> str:
    """The key one session's work is saved under: the dataset's content (``dataset_fingerprint``), and on a hosted app the browser's own token.

    A workshop laptop shares one key per content, so a restarted server offers the room its work; on a hosted app each
    browser (its token kept in the URL) gets its own, so nobody is offered a colleague's edits, nor loses theirs to them.
    """
    return f"{fingerprint}#{browser}" if browser else fingerprint


def dataset_fingerprint(store: LeadStore | str | Path, dataset: str) -> str:
    """The autosave key of dataset ``dataset``'s content (``LeadStore.fingerprint``; raises LeadModelError if it is not stored)."""
    return fingerprint_key(_store(store).fingerprint(dataset))


def _columns(con) -> set[str]:
    """The autosave table's columns (empty when it does not exist yet)."""
    return {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' AND table_name = ?", [AUTOSAVE_TABLE]).fetchall()}


def _prepare(con) -> None:
    """Create the autosave table, or carry a table keyed by stored table (before fingerprints) over to one keyed by content."""
    columns = _columns(con)
    if "tbl" not in columns:
        con.execute(_CREATE)
        return
    current = {name: (tbl, json.loads(settings or "{}")) for name, tbl, settings in con.execute("SELECT name, tbl, settings FROM lead_datasets").fetchall()}
    rows = []
    for dataset, tbl, *rest in con.execute(f"SELECT dataset, tbl, saved_at, model, baseline, changes, changed FROM {AUTOSAVE_TABLE}").fetchall():
        if dataset not in current or current[dataset][0] != tbl:
            continue  # its file was loaded again since: not the content it was made on
        kept = current[dataset][1].get(FINGERPRINT_KEY)
        if isinstance(kept, dict) and kept.get("table") == tbl and "rows" in kept and "hash" in kept:
            fp = Fingerprint(int(kept["rows"]), str(kept["hash"]))
        else:
            fp = table_fingerprint(con, tbl)
        rows.append([dataset, fingerprint_key(fp), *rest])
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DROP TABLE {AUTOSAVE_TABLE}")
        con.execute(_CREATE)
        for r in rows:
            con.execute(_UPSERT, r)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    log.info("autosaves in %s carried over to content keys (%d kept)", AUTOSAVE_TABLE, len(rows))


def _ready(store: LeadStore, con) -> None:
    """Make the autosave table ready on a writer's connection (its layout checked once per process and store)."""
    key = str(store.path.resolve())
    with _READY_LOCK:
        if key not in _READY:
            _prepare(con)
            _READY.add(key)
            return
    con.execute(_CREATE)  # cheap, and the file may have been replaced since


# ----- the table ---------------------------------------------------------------------------
def save_autosave(store: LeadStore | str | Path, saves: Autosave | Iterable[Autosave]) -> None:
    """Write one or more autosaves now, in one transaction (a later save already stored is kept)."""
    saves = [saves] if isinstance(saves, Autosave) else list(saves)
    if not saves:
        return
    rows = [[s.dataset, s.fingerprint, s.saved_at, s.model.to_json(), s.baseline.to_json(), int(s.changes), s.changed] for s in saves]

    def write(con) -> None:
        try:
            for row in rows:
                con.execute(_UPSERT, row)
                con.execute(_PRUNE, [row[0], row[0]])
        except duckdb.ConstraintException as exc:
            # Another thread's transaction inserted the same new row and has not committed: DuckDB's upsert cannot update a row
            # it cannot see yet. A conflict like any other: the transaction goes again (and then updates the row).
            raise duckdb.TransactionException(str(exc)) from None

    store = _store(store)
    store.transaction(write, prepare=lambda con: _ready(store, con))  # a write-write conflict with another thread goes again


def latest_autosave(store: LeadStore | str | Path, dataset: str, fingerprint: str) -> Autosave | None:
    """The autosave of ``dataset`` with content ``fingerprint`` (``dataset_fingerprint``), or None (none yet, or a
    row whose models no longer read).

    Waits first (up to a few seconds) for this process's queued saves to the same store.
    """
    store = _store(store)
    WRITER.flush(store.path)
    if not store.path.exists():
        return None
    row = _read_row(store, dataset, fingerprint)
    if row is None:
        return None
    try:
        model = ScoringModel.from_text(row[1], source="the autosaved model", yaml_format=False)
        baseline = ScoringModel.from_text(row[2], source="the autosaved baseline", yaml_format=False)
    except LeadModelError as exc:  # e.g. saved by a newer version of the app: nothing to offer
        log.warning("autosave of %r not read: %s", dataset, exc)
        return None
    return Autosave(dataset, fingerprint, model, baseline, row[0], int(row[3]), row[4] or "")


def _read_row(store: LeadStore, dataset: str, fingerprint: str) -> tuple | None:
    """The stored row of (``dataset``, ``fingerprint``), read as a reader (other readers go on); a table of the layout before
    fingerprints is carried over first by a writer (once), and no table at all means no row (nothing is created)."""
    for writer in (False, True):
        con = store.connect(read_only=not writer)
        try:
            if writer:
                _ready(store, con)
            columns = _columns(con)
            if not columns:
                return None
            if "tbl" in columns:
                if not writer:
                    continue
                _prepare(con)  # this process may have checked another file of that path
            # The same content under another name counts too (a file loaded again as 'leads-2' after 'leads' was
            # replaced by someone's upload): that name's row first, else the newest.
            return con.execute(
                f"SELECT saved_at, model, baseline, changes, changed FROM {AUTOSAVE_TABLE} WHERE fingerprint = ?"
                " ORDER BY (dataset = ?) DESC, saved_at DESC LIMIT 1", [fingerprint, dataset]
            ).fetchone()
        finally:
            con.close()
    return None


def last_dataset(store: LeadStore | str | Path, browser: str) -> str | None:
    """The stored dataset a hosted app's browser (``autosave_key``'s token) last worked on, if its content is still the one
    it worked on; None without such a save. A reload or a restarted server opens it again, so the work is offered."""
    if not browser:
        return None
    store = _store(store)
    WRITER.flush(store.path)
    if not store.path.exists():
        return None
    con = store.connect(read_only=True)
    try:
        if not _columns(con) >= {"dataset", "fingerprint"}:
            return None
        rows = con.execute(
            f"SELECT a.dataset, a.fingerprint, d.settings FROM {AUTOSAVE_TABLE} a JOIN lead_datasets d ON d.name = a.dataset"
            " WHERE a.fingerprint LIKE ? ESCAPE '\\' ORDER BY a.saved_at DESC LIMIT 20",
            ["%#" + browser.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")],
        ).fetchall()
    finally:
        con.close()
    for dataset, key, settings in rows:
        kept = (json.loads(settings or "{}") or {}).get(FINGERPRINT_KEY)
        if isinstance(kept, dict) and isinstance(kept.get("rows"), int) and isinstance(kept.get("hash"), str):
            if autosave_key(fingerprint_key(Fingerprint(kept["rows"], kept["hash"])), browser) == key:
                return dataset
    return None


def resume_offer(
    store: LeadStore | str | Path, leads: LeadSet, start: ScoringModel, start_baseline: ScoringModel | None = None, fingerprint: str | None = None,
    *, check_updated: bool = True,
) -> Autosave | None:
    """The autosave to offer a session that opens ``leads`` with ``start``, or None.

    Looked up by the dataset's name and content (``fingerprint``, default: ``dataset_fingerprint``
    of ``leads.name``), so a restarted server that loads the same file again offers it. Offered
    only when it fits the data (roles may have changed since), differs from ``start`` (and its
    baseline from ``start_baseline``), and was saved after ``start`` was last updated
    (``metadata.updated``, when the model file says; ``check_updated=False`` for a start model
    made on the spot, a starter model, whose stamp is the moment it was made, not an edit).
    """
    fingerprint = fingerprint or dataset_fingerprint(store, leads.name)
    saved = latest_autosave(store, leads.name, fingerprint)
    if saved is None or not fits(leads, saved.model):
        return None
    if saved.model == start and saved.baseline == (start_baseline or start):
        return None
    updated = start.metadata.updated if check_updated else None
    if updated:
        try:
            stamp = datetime.fromisoformat(updated)
            stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)
            if saved.saved_time <= stamp:
                return None
        except ValueError:
            pass
    if not fits(leads, saved.baseline):
        saved = Autosave(saved.dataset, saved.fingerprint, saved.model, start_baseline or start, saved.saved_at, saved.changes, saved.changed)
    return saved


def offer_text(saved: Autosave, start: ScoringModel) -> str:
    """"Continue where the last session stopped? Saved 14:05 UTC, 7 changes: job_level: VP 20 -> 25; …" (plain text)."""
    diff = describe_changes(start, saved.model)
    listed = "; ".join(diff[:OFFER_CHANGES]) + (" …" if len(diff) > OFFER_CHANGES else "")
    if not diff:
        listed = "the same model with another baseline"
    when = saved.saved_time.astimezone(timezone.utc)
    day = "" if when.date() == datetime.now(timezone.utc).date() else f"{when:%d %b} "
    n = saved.changes
    return f"Continue where the last session stopped? Saved {day}{when:%H:%M} UTC, {n} change{'' if n == 1 else 's'}: {listed}"


# ----- saving on every change ----------------------------------------------------------------
class Autosaver:
    """The Workbench's ``on_change`` hook for one dataset: queues the new state for the background writer.

    ``Autosaver(store, dataset, fingerprint)`` (``dataset_fingerprint``); ``background=False`` writes at once (tests, the CLI).
    """

    def __init__(self, store: LeadStore | str | Path, dataset: str, fingerprint: str, background: bool = True):
        self.store = _store(store)
        self.dataset = dataset
        self.fingerprint = fingerprint
        self.background = background
        self.last: Autosave | None = None

    def __call__(self, bench: Workbench, previous: ScoringModel) -> None:
        changed = "; ".join(describe_changes(previous, bench.model)) or "set the current model as the baseline"
        save = Autosave(self.dataset, self.fingerprint, bench.model, bench.baseline, now_iso(), bench.changes, changed)
        self.last = save
        if self.background:
            WRITER.submit(self.store.path, save)
        else:
            save_autosave(self.store, save)


class _Writer:
    """One background thread writing the newest queued autosave of each (store, dataset, content)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: dict[tuple[str, str, str], tuple[Path, Autosave, int]] = {}
        self._writing: set[str] = set()  # stores a write is under way to
        self._thread: threading.Thread | None = None
        self.writes = 0  # transactions committed (a burst of moves makes few)

    def submit(self, path: Path, save: Autosave, attempt: int = 0) -> None:
        key = (str(path), save.dataset, save.fingerprint)
        with self._cond:
            queued = self._pending.get(key)
            if queued is None or queued[1].saved_at <= save.saved_at:
                self._pending[key] = (path, save, attempt)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="lead-model-autosave", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def flush(self, path: Path | None = None, timeout: float = 5.0) -> bool:
        """Wait until nothing is queued or being written (for ``path``, or any store); False on timeout."""
        want = None if path is None else str(path)

        def done() -> bool:
            if want is None:
                return not self._pending and not self._writing
            return want not in self._writing and all(k[0] != want for k in self._pending)

        with self._cond:
            return self._cond.wait_for(done, timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._pending))
                batch = list(self._pending.values())
                self._pending.clear()
                self._writing.update(str(p) for p, _, _ in batch)
            retry = 0
            try:
                for path in {p for p, _, _ in batch}:
                    items = [(s, a) for p, s, a in batch if p == path]
                    try:
                        save_autosave(path, [s for s, _ in items])
                        self.writes += 1
                    except Exception as exc:  # noqa: BLE001 - a locked store must not stop later saves
                        # Kept until it is written (a newer change replaces it): the last change is never dropped.
                        attempt = max(a for _, a in items)
                        if attempt % 30 == 0:
                            log.warning("autosave to %s failed (try %d), trying again: %s", path, attempt + 1, exc)
                        for s, a in items:
                            self.submit(path, s, a + 1)
                        retry = max(retry, attempt + 1)
            finally:
                with self._cond:
                    self._writing.difference_update(str(p) for p, _, _ in batch)
                    self._cond.notify_all()
            if retry:
                time.sleep(min(RETRY_SECONDS, 0.05 * 2 ** min(retry, 8)))


WRITER = _Writer()
atexit.register(WRITER.flush)

__all__ = [
    "AUTOSAVE_TABLE", "Autosave", "Autosaver", "dataset_fingerprint", "describe_changes", "fingerprint_key", "latest_autosave", "offer_text",
    "resume_offer", "save_autosave",
]
