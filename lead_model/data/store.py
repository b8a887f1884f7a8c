"""The lead store: named datasets of raw lead rows in an embedded DuckDB file.

Processes take turns: besides DuckDB's own lock on the file, every connection holds an
exclusive lock on ``<store>.lock`` from before DuckDB opens the file until after it closed it.
DuckDB 2.0 reads the file's header *before* it locks the file, so a process opening the store
while another was checkpointing (on close) could work from the old header: its save then
overwrote the other's ("Could not read enough bytes", or committed versions gone: 2 of 400 in
8 processes x 50 saves). Under the lock file no process opens the store mid-checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

import duckdb

from lead_model.errors import LeadModelError

DEFAULT_STORE = Path("lead_store.duckdb")
KEPT_SETTINGS = ("known_before_contact", "after_contact_levels")  # dataset settings a new load of the same name keeps
ROW_COLUMN = "__row"  # the lead's position in the source file, kept so output follows input order
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,63}$")
FINGERPRINT_KEY = "fingerprint"  # dataset setting: the rows' Fingerprint, with the table it was taken of
LOCK_WAIT_ENV = "LEAD_MODEL_LOCK_WAIT"
DEFAULT_LOCK_WAIT = 30.0  # seconds a store operation waits for another process to let go of the file
_FIRST_PAUSE, _MAX_PAUSE = 0.005, 0.2  # seconds between tries while the store is busy: doubling, with jitter

_CREATE_DATASETS = (
    "CREATE TABLE IF NOT EXISTS lead_datasets (name VARCHAR PRIMARY KEY, tbl VARCHAR, source VARCHAR,"
    " rows BIGINT, loaded_at VARCHAR, settings VARCHAR)"
)
T = TypeVar("T")
_wait_notice: Callable[[Path], None] | None = None

try:
    import fcntl
except ImportError:  # Windows: DuckDB's own lock only
    fcntl = None


class _LockFiles:
    """This process's exclusive locks on stores' lock files, shared by its threads (they share one DuckDB instance).

    ``take(path)`` never blocks: False when another process holds the lock (the caller waits
    and tries again). The first taker in the process locks the file, the last ``give`` lets
    it go, so connections of several threads (app sessions) never wait for each other here.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._held: dict[str, list] = {}  # lock file -> [fd or None, holders]
        self._late: list[str] = []  # gives of connections finalized while the guard was taken (done by the next caller)

    def take(self, path: Path) -> bool:
        key = _lock_file(path)
        with self._guard:
            self._give_late()
            held = self._held.get(key)
            if held is not None:
                held[1] += 1
                return True
            fd = None
            if fcntl is not None and str(path) != ":memory:":
                try:
                    fd = os.open(key, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
                except OSError:  # a read-only folder: DuckDB's own lock (and its error) decide
                    fd = None
                if fd is not None:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except OSError:
                        os.close(fd)
                        return False
            self._held[key] = [fd, 1]
            return True

    def give(self, path: Path, finalizing: bool = False) -> None:
        key = _lock_file(path)
        # A finalizer may run inside take() or give() of its own thread: it never waits for the guard.
        if not self._guard.acquire(blocking=not finalizing):
            self._late.append(key)
            return
        try:
            self._give(key)
            self._give_late()
        finally:
            self._guard.release()

    def _give(self, key: str) -> None:
        held = self._held[key]
        held[1] -= 1
        if held[1] == 0:
            del self._held[key]
            if held[0] is not None:
                os.close(held[0])  # closing the descriptor lets go of the lock

    def _give_late(self) -> None:
        while self._late:
            self._give(self._late.pop())


def _lock_file(path: Path) -> str:
    """The lock file beside a store, by its real path (two spellings of one store are one lock)."""
    return os.path.realpath(path) + ".lock"


_LOCK_FILES = _LockFiles()


class StoreConnection:
    """A DuckDB connection to the store (every DuckDB method works on it) that lets go of the lock file when closed."""

    __slots__ = ("_con", "_path", "_open")

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path):
        self._con, self._path, self._open = con, path, True

    def __getattr__(self, name: str):
        return getattr(self._con, name)

    def close(self, _finalizing: bool = False) -> None:
        if not self._open:
            return
        self._open = False
        try:
            self._con.close()  # DuckDB checkpoints here, still under the lock file
        finally:
            _LOCK_FILES.give(self._path, _finalizing)

    def __enter__(self) -> StoreConnection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:  # a connection a caller forgot to close must not keep the lock file
        try:
            self.close(_finalizing=True)
        except Exception:  # noqa: BLE001 - at interpreter exit the modules may be gone
            pass


def quote(identifier: str) -> str:
    """Quote an identifier from a user's file for DuckDB SQL (doubling embedded quotes)."""
    return '"' + identifier.replace('"', '""') + '"'


def literal(value: str) -> str:
    """Quote a string literal for DuckDB SQL."""
    return "'" + value.replace("'", "''") + "'"


def default_store_path() -> Path:
    """The store file: $LEAD_MODEL_STORE, else lead_store.duckdb in the working directory."""
    return Path(os.environ.get("LEAD_MODEL_STORE", DEFAULT_STORE))


def dataset_name_for(path: str | Path) -> str:
    """A dataset name derived from a file name: 'Leads 2025.csv' -> 'Leads 2025'."""
    stem = Path(path).name.split(".")[0]
    name = re.sub(r"[^A-Za-z0-9 _.\-]", "_", stem).strip(" ._-") or "leads"
    return name[:64]


def lock_wait_seconds() -> float:
    """How long a store operation waits for a busy store: $LEAD_MODEL_LOCK_WAIT seconds, else 30."""
    text = os.environ.get(LOCK_WAIT_ENV, "").strip()
    if not text:
        return DEFAULT_LOCK_WAIT
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise LeadModelError(f"{LOCK_WAIT_ENV}={text!r} is not a number of seconds; set it to e.g. 30, or unset it.")
    return seconds


def set_wait_notice(notice: Callable[[Path], None] | None) -> Callable[[Path], None] | None:
    """Set the process-wide ``on_wait`` of stores created without one (the CLI's "Waiting for ..." line); returns the previous one."""
    global _wait_notice
    previous, _wait_notice = _wait_notice, notice
    return previous


@dataclass(frozen=True)
class Fingerprint:
    """A dataset's rows in two values: how many, and an order-independent hash of their content (column names and types too)."""

    rows: int
    hash: str


def table_fingerprint(con: duckdb.DuckDBPyConnection, table: str) -> Fingerprint:
    """The Fingerprint of one stored table, computed inside DuckDB in one scan.

    Every row (``__row`` included) is hashed by DuckDB and the hashes are summed as HUGEINT,
    so row order does not matter; the column names and types are hashed with the sum. DuckDB's
    hash may change between DuckDB versions, which is why the store keeps the value it took.
    """
    columns = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    if not columns:
        raise LeadModelError(f"the lead store has no table {table}; load the dataset again.")
    row = ", ".join(quote(c) for c, _ in columns)
    rows, total = con.execute(f"SELECT count(*), coalesce(sum(hash({row})::HUGEINT), 0) FROM {quote(table)}").fetchone()
    digest = hashlib.blake2b(json.dumps([columns, str(total)]).encode("utf-8"), digest_size=16).hexdigest()
    return Fingerprint(int(rows), digest)


def _stored_fingerprint(info: DatasetInfo) -> Fingerprint | None:
    kept = (info.settings or {}).get(FINGERPRINT_KEY)
    if isinstance(kept, dict) and kept.get("table") == info.table and isinstance(kept.get("rows"), int) and isinstance(kept.get("hash"), str):
        return Fingerprint(kept["rows"], kept["hash"])
    return None


def _fingerprint_setting(table: str, fp: Fingerprint) -> dict:
    return {"table": table, "rows": fp.rows, "hash": fp.hash}


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:  # a failed COMMIT has already rolled back
        pass


def _is_lock_error(exc: duckdb.Error) -> bool:
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


@dataclass(frozen=True)
class DatasetInfo:
    """What the store knows about one dataset."""

    name: str
    table: str
    source: str
    rows: int
    loaded_at: str
    settings: dict


class LeadStore:
    """Named datasets in one DuckDB file; loading replaces a dataset atomically or not at all.

    The file is opened for one operation at a time and closed after it (other processes, the
    CLI and other app servers, use it too). DuckDB lets one process open a file at a time, so
    ``connect`` waits for a busy store: up to ``lock_wait`` seconds (default
    $LEAD_MODEL_LOCK_WAIT, else 30), trying again after 5 ms, then twice as long each time up to
    200 ms, with jitter. ``on_wait(path)`` is called the first time one of this store's
    operations has to wait (default: the process-wide notice of ``set_wait_notice``).
    """

    def __init__(self, path: str | Path | None = None, lock_wait: float | None = None, on_wait: Callable[[Path], None] | None = None):
        self.path = Path(path) if path is not None else default_store_path()
        if lock_wait is not None and not (isinstance(lock_wait, (int, float)) and 0 <= lock_wait < float("inf")):
            raise LeadModelError(f"lock_wait must be a number of seconds (0 or more), not {lock_wait!r}.")
        self.lock_wait = lock_wait
        self.on_wait = on_wait
        self._waited = False

    def connect(self) -> StoreConnection:
        """A new connection to the store file (waiting while another process holds it); the caller closes it (``finally``)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline, pause = None, _FIRST_PAUSE
        while True:
            if _LOCK_FILES.take(self.path):
                try:
                    con = StoreConnection(duckdb.connect(str(self.path)), self.path)
                    break
                except duckdb.Error as exc:
                    _LOCK_FILES.give(self.path)
                    if not _is_lock_error(exc):  # else a program outside lead-model holds the file
                        raise self._open_error(exc) from None
                except BaseException:
                    _LOCK_FILES.give(self.path)
                    raise
            now = time.monotonic()
            if deadline is None:
                wait = self.lock_wait if self.lock_wait is not None else lock_wait_seconds()
                deadline = now + wait
                if wait > 0:
                    self._notify_wait()
            if now >= deadline:
                raise self._busy_error() from None
            time.sleep(min(pause * random.uniform(0.5, 1.0), deadline - now))
            pause = min(pause * 2, _MAX_PAUSE)
        try:
            for attempt in range(50):
                try:
                    con.execute(_CREATE_DATASETS)
                    break
                except duckdb.TransactionException:  # another thread of this process is creating it too
                    time.sleep(_FIRST_PAUSE * random.uniform(0.5, 1.0))
            else:
                con.execute(_CREATE_DATASETS)
        except BaseException:
            con.close()
            raise
        return con

    def _open_error(self, exc: duckdb.Error) -> LeadModelError:
        if isinstance(exc, duckdb.IOException):
            return LeadModelError(f"cannot open the lead store {self.path} ({str(exc).splitlines()[0].rstrip('.!')}); pass another --store path.")
        return LeadModelError(f"{self.path} is not a lead store ({str(exc).splitlines()[0]}); pass another --store path.")

    def _busy_error(self) -> LeadModelError:
        wait = self.lock_wait if self.lock_wait is not None else lock_wait_seconds()
        return LeadModelError(
            f"the lead store {self.path} has been busy for {wait:g} s (another lead-model or app is writing to it); try again in a moment."
        )

    def _notify_wait(self) -> None:
        notice = self.on_wait or _wait_notice
        if notice is not None and not self._waited:
            self._waited = True
            notice(self.path)

    def transaction(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run ``work(con)`` in one transaction on a short-lived connection and return its result.

        A write-write conflict with another connection of this process (two app sessions,
        threads) rolls back and runs ``work`` again, within the store's lock wait; any other
        error rolls back and is raised.
        """
        con = self.connect()
        try:
            deadline, pause = None, _FIRST_PAUSE
            while True:
                con.execute("BEGIN TRANSACTION")
                try:
                    result = work(con)
                    con.execute("COMMIT")
                    return result
                except duckdb.TransactionException:
                    _rollback(con)
                    now = time.monotonic()
                    if deadline is None:
                        deadline = now + (self.lock_wait if self.lock_wait is not None else lock_wait_seconds())
                    if now >= deadline:
                        raise self._busy_error() from None
                    time.sleep(min(pause * random.uniform(0.5, 1.0), deadline - now))
                    pause = min(pause * 2, _MAX_PAUSE)
                except BaseException:
                    _rollback(con)
                    raise
        finally:
            con.close()

    # ------------------------------------------------------------------------------
    def ingest(self, table, name: str, source: str, settings: dict | None = None) -> DatasetInfo:
        """Write an Arrow table of lead rows (with ``__row``) as dataset ``name``.

        The rows go to a new table first; the swap with any existing dataset of the same
        name happens in one transaction, so a failed load leaves the old data as it was.
        """
        check_dataset_name(name)
        return self.publish(self.stage(table), name, source, int(table.num_rows), settings)

    def stage(self, table, threads: int | None = None) -> str:
        """Write rows to a new table that no dataset names yet; returns the table's name.

        ``threads`` limits DuckDB's threads (a load stages while the leads are encoded).
        """
        con = self.connect()
        try:
            if threads:
                con.execute(f"SET threads = {int(threads)}")
            # rows carry their file position in __row, so DuckDB need not keep insertion order
            con.execute("SET preserve_insertion_order = false")
            table_name = f"leads_{datetime.now(timezone.utc).strftime('%Y%m%d%H%M%S%f')}"
            con.register("incoming_rows", table)
            try:
                con.execute(f"CREATE TABLE {quote(table_name)} AS SELECT * FROM incoming_rows")
            finally:
                con.unregister("incoming_rows")
            return table_name
        finally:
            con.close()

    def discard(self, table_name: str) -> None:
        """Drop a staged table that will not be published."""
        con = self.connect()
        try:
            con.execute(f"DROP TABLE IF EXISTS {quote(table_name)}")
        finally:
            con.close()

    def publish(self, table_name: str, name: str, source: str, rows: int, settings: dict | None = None) -> DatasetInfo:
        """Make a staged table dataset ``name``, replacing any dataset of that name, in one transaction."""
        info = DatasetInfo(name, table_name, source, rows, datetime.now(timezone.utc).isoformat(timespec="seconds"), settings or {})
        con = self.connect()
        try:
            try:
                old = con.execute("SELECT tbl, settings FROM lead_datasets WHERE name = ?", [name]).fetchall()
                # The room's answers about its columns (known before sales contact?) outlive a reload of the file.
                kept = {k: v for r in old for k, v in json.loads(r[1] or "{}").items() if k in KEPT_SETTINGS and k not in info.settings}
                # Taken once here, of these rows; never kept from an earlier load (FINGERPRINT_KEY is not in KEPT_SETTINGS).
                fingerprint = _fingerprint_setting(table_name, table_fingerprint(con, table_name))
                info = replace(info, settings={**info.settings, **kept, FINGERPRINT_KEY: fingerprint})
                settings_json = json.dumps(info.settings)
                con.execute("BEGIN TRANSACTION")
                try:
                    con.execute("DELETE FROM lead_datasets WHERE name = ?", [name])
                    con.execute("INSERT INTO lead_datasets VALUES (?, ?, ?, ?, ?, ?)", [info.name, info.table, info.source, info.rows, info.loaded_at, settings_json])
                    for old_table, _ in old:
                        con.execute(f"DROP TABLE IF EXISTS {quote(old_table)}")
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
            except BaseException:
                con.execute(f"DROP TABLE IF EXISTS {quote(table_name)}")
                raise
            return info
        finally:
            con.close()

    def update_settings(self, name: str, settings: dict) -> None:
        """Remember the roles and options a dataset was opened with (the store's own fingerprint of its rows is kept)."""

        def write(con: duckdb.DuckDBPyConnection) -> None:
            row = con.execute("SELECT settings FROM lead_datasets WHERE name = ?", [name]).fetchone()
            stored = json.loads(row[0] or "{}") if row else {}
            new = {k: v for k, v in settings.items() if k != FINGERPRINT_KEY}
            if FINGERPRINT_KEY in stored:
                new[FINGERPRINT_KEY] = stored[FINGERPRINT_KEY]
            con.execute("UPDATE lead_datasets SET settings = ? WHERE name = ?", [json.dumps(new), name])

        self.transaction(write)

    def fingerprint(self, name: str) -> Fingerprint:
        """Dataset ``name``'s row count and content hash (the same rows in any order give the same hash).

        Taken when the dataset is published and kept in its settings; a dataset stored before
        fingerprints existed gets one on first use (one scan: ~0.1 s per million rows).
        """
        info = self.info(name)
        kept = _stored_fingerprint(info)
        if kept is not None:
            return kept

        def take(con: duckdb.DuckDBPyConnection) -> Fingerprint:
            row = con.execute("SELECT tbl, settings FROM lead_datasets WHERE name = ?", [name]).fetchone()
            if row is None:
                raise LeadModelError(f"dataset '{name}' was dropped from the store {self.path} meanwhile; load it again with 'lead-model load FILE'.")
            fp = table_fingerprint(con, row[0])
            settings = {**json.loads(row[1] or "{}"), FINGERPRINT_KEY: _fingerprint_setting(row[0], fp)}
            con.execute("UPDATE lead_datasets SET settings = ? WHERE name = ? AND tbl = ?", [json.dumps(settings), name, row[0]])
            return fp

        return self.transaction(take)

    def datasets(self) -> list[DatasetInfo]:
        if not self.path.exists():
            return []
        con = self.connect()
        try:
            rows = con.execute("SELECT name, tbl, source, rows, loaded_at, settings FROM lead_datasets ORDER BY loaded_at DESC").fetchall()
        finally:
            con.close()
        return [DatasetInfo(r[0], r[1], r[2], r[3], r[4], json.loads(r[5] or "{}")) for r in rows]

    def info(self, name: str) -> DatasetInfo:
        datasets = self.datasets()
        for d in datasets:
            if d.name == name:
                return d
        known = ", ".join(f"'{d.name}'" for d in datasets) or "none yet"
        raise LeadModelError(f"no dataset '{name}' in the store {self.path} (datasets: {known}); load it with 'lead-model load FILE'.")

    def drop(self, name: str) -> None:
        info = self.info(name)
        con = self.connect()
        try:
            con.execute("BEGIN TRANSACTION")
            con.execute("DELETE FROM lead_datasets WHERE name = ?", [name])
            con.execute(f"DROP TABLE IF EXISTS {quote(info.table)}")
            con.execute("COMMIT")
        finally:
            con.close()


def check_dataset_name(name: str) -> None:
    """Raise a one-line error for a dataset name the store cannot keep."""
    if not _NAME_RE.match(name):
        raise LeadModelError(f"dataset name '{name}' is not usable; use letters, digits, spaces, '_', '-' or '.' (64 at most).")
