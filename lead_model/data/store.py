"""The lead store: named datasets of raw lead rows in an embedded DuckDB file.

Readers share the store, writers take turns: besides DuckDB's own lock on the file, every
connection holds a lock on ``<store>.lock`` from before DuckDB opens the file until after it
closed it, shared by readers (which open DuckDB read-only) and exclusive for a writer (which
opens it read-write). So any number of processes read at once (listing datasets, reading a
dataset's rows for a backtest, listing versions), and a writer (a load's staging and publish,
a version save) waits until they are done, and they wait for it, each within the lock wait.
A waiting writer goes first (``<store>.queue.lock``), so a stream of readers never keeps it out.

Why the lock file at all: DuckDB 2.0 reads the file's header *before* it locks the file, so a
process opening the store while another was checkpointing (on close) could work from the old
header: its save then overwrote the other's ("Could not read enough bytes", or committed
versions gone: 2 of 400 in 8 processes x 50 saves). Under the lock file no process opens the
store mid-checkpoint (a read-only connection never checkpoints).

Inside one process (the app serves its sessions from threads) DuckDB opens a file one way at a
time, read-only or read-write; ``_LockFiles`` shares one hold among the threads so that never
clashes (a reader joins a writer's hold through a read-write connection).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import re
import socket
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

STORE_FORMAT_VERSION = 1  # the layout this lead-model writes; _MIGRATIONS brings older stores up to it
META_TABLE = "lead_store_meta"  # key/value: format_version, created_by; marks a DuckDB file as a lead store
STAGING_TABLE = "lead_staging"  # staged tables not yet published, with the process that staged them
CREATED_BY = "lead-model"
STAGE_EXPIRY = 3600.0  # seconds after which a staged table of a process this host cannot check (another host) is abandoned
_STAGED_RE = re.compile(r"^leads_(\d{20})$")  # the name stage() gives a table: leads_<UTC %Y%m%d%H%M%S%f>
_DUCKDB_MAGIC = b"DUCK"  # DuckDB's file header carries it at byte 8
# Suffixes DuckDB would not open as a database file (a .csv path is opened as a throwaway in-memory database) or that name
# another program's data: refused even before the file exists.
_DATA_SUFFIXES = {
    ".csv": "a CSV file", ".tsv": "a TSV file", ".gz": "a compressed file", ".parquet": "a Parquet file",
    ".json": "a JSON file", ".jsonl": "a JSON file", ".ndjson": "a JSON file", ".xlsx": "an Excel file", ".xls": "an Excel file",
    ".sqlite": "a SQLite database", ".sqlite3": "a SQLite database",
}
# No connection installs or loads an extension on its own: a SQLite or remote path must never make DuckDB download code.
_CONNECT_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
_DATASET_COLUMNS = ["name", "tbl", "source", "rows", "loaded_at", "settings"]

_CREATE_DATASETS = (
    "CREATE TABLE IF NOT EXISTS lead_datasets (name VARCHAR PRIMARY KEY, tbl VARCHAR, source VARCHAR,"
    " rows BIGINT, loaded_at VARCHAR, settings VARCHAR)"
)
# _MIGRATIONS[n] takes a store of format n-1 to format n (format 0: lead_datasets without a meta table, lead-model <= 0.x).
_MIGRATIONS = {
    1: (
        f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key VARCHAR PRIMARY KEY, value VARCHAR)",
        f"CREATE TABLE IF NOT EXISTS {STAGING_TABLE} (tbl VARCHAR PRIMARY KEY, host VARCHAR, pid BIGINT, proc_start VARCHAR, started_at VARCHAR)",
    ),
}
T = TypeVar("T")
_wait_notice: Callable[[Path], None] | None = None

try:
    import fcntl
except ImportError:  # Windows: DuckDB's own lock only
    fcntl = None


class _Hold:
    """This process's lock on one store's lock file: shared (readers only) or exclusive (a writer), and who holds it."""

    __slots__ = ("fd", "write", "holders", "threads", "created")

    def __init__(self, fd: int | None, write: bool, created: tuple[bool, bool]):
        self.fd, self.write = fd, write
        self.created = created  # (the lock file, the queue file): made by the take that locked it (removed with a refused store)
        self.holders = 0
        self.threads: dict[int, int] = {}  # thread id -> that thread's connections under this hold


def _open_lock_file(name: str) -> tuple[int | None, bool]:
    """A descriptor of a lock file (created when missing) and whether this call created it; None in a read-only folder."""
    flags = os.O_RDWR | getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(name, flags | os.O_CREAT | os.O_EXCL, 0o666), True
    except FileExistsError:
        try:
            return os.open(name, flags), False
        except OSError:
            return None, False
    except OSError:  # a read-only folder: DuckDB's own lock (and its error) decide
        return None, False


def _flock(fd: int, how: int) -> bool:
    """Lock ``fd`` (LOCK_SH or LOCK_EX) without waiting; False when another descriptor's lock is in the way."""
    try:
        fcntl.flock(fd, how | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


class _LockFiles:
    """This process's locks on stores' lock files, shared by its threads (they share one DuckDB instance per file).

    Readers share ``<store>.lock`` (LOCK_SH) and open DuckDB read-only; a writer locks it alone
    (LOCK_EX) and opens DuckDB read-write. DuckDB opens a file one way per process at a time
    ("Can't open a connection to same database file with a different configuration"), so
    inside the process: while it holds the file for a writer, every new connection, reader or
    writer, joins that hold read-write; while it holds it for readers, new readers join
    read-only and a writer waits until they are done.

    Writers go first, so overlapping readers never keep a writer out: from the moment a writer
    of this process asks (``queue``) new readers of this process wait (a thread that already
    reads may still open another reader: it would otherwise wait for itself), and while it
    waits it holds ``<store>.queue.lock`` exclusively, which every reader passes (LOCK_SH, let
    go as soon as it has ``<store>.lock``), so readers of other processes wait too.

    ``take`` never blocks: None when the caller must wait and try again. ``give`` lets go of
    one hold; the last one lets go of the lock file.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._held: dict[str, _Hold] = {}  # lock file -> this process's hold on it
        self._queued: dict[str, int] = {}  # lock file -> writers of this process between queue() and dequeue()
        self._queue_fds: dict[str, tuple[int, bool]] = {}  # lock file -> (its queue file, locked exclusively; whether we created it)
        self._late: list[tuple[str, int]] = []  # gives of connections finalized while the guard was taken (done by the next caller)

    def queue(self, path: Path) -> None:
        """A writer of this process starts asking for ``path`` (until ``dequeue``): new readers of this process wait."""
        key = _lock_file(path)
        with self._guard:
            self._queued[key] = self._queued.get(key, 0) + 1

    def dequeue(self, path: Path) -> None:
        """The writer ``queue`` counted has its connection or gave up; the last one lets go of the queue file."""
        key = _lock_file(path)
        with self._guard:
            left = self._queued.get(key, 1) - 1
            if left > 0:
                self._queued[key] = left
                return
            self._queued.pop(key, None)
            self._leave_queue(key)

    def take(self, path: Path, write: bool = True) -> tuple[bool, int] | None:
        """Hold ``path``'s lock file for one connection: (whether DuckDB opens the file read-only, the holding thread), or None (busy).

        A writer calls it between ``queue`` and ``dequeue``.
        """
        key, me = _lock_file(path), threading.get_ident()
        with self._guard:
            self._give_late()
            held = self._held.get(key)
            if held is not None:
                reading_here = held.threads.get(me, 0) > 0
                if write and not held.write:
                    if reading_here:  # it would wait for itself until the lock wait ran out
                        raise RuntimeError(f"a write to the lead store {path} was asked for while this thread reads it; close the reader first.")
                    self._join_queue(key)  # readers of other processes wait from now on too
                    return None
                if not held.write and not reading_here and self._queued.get(key):
                    return None  # a writer of this process waits: it goes first
            else:
                if not write and self._queued.get(key):
                    return None
                held = self._lock(key, path, write)
                if held is None:
                    return None
                self._held[key] = held
            held.holders += 1
            held.threads[me] = held.threads.get(me, 0) + 1
            return not held.write, me

    def _lock(self, key: str, path: Path, write: bool) -> _Hold | None:
        """Lock the lock file (LOCK_EX for a writer, LOCK_SH for a reader) without waiting; None when it is busy."""
        if fcntl is None or str(path) == ":memory:":
            return _Hold(None, write, (False, False))
        passing = None
        if write:
            if not self._join_queue(key):
                return None  # another process's writer waits: it goes first
        else:
            passing, passing_created = _open_lock_file(_queue_file(key))
            if passing is not None and not _flock(passing, fcntl.LOCK_SH):
                os.close(passing)
                return None  # a writer waits: it goes first
        try:
            fd, created = _open_lock_file(key)
            if fd is not None and not _flock(fd, fcntl.LOCK_EX if write else fcntl.LOCK_SH):
                os.close(fd)
                return None
        finally:
            if passing is not None:
                os.close(passing)  # passed: a writer that queues from now on waits for this reader, not the other way round
        queue_created = self._leave_queue(key) if write else passing_created
        return _Hold(fd, write, (created, queue_created))

    def _join_queue(self, key: str) -> bool:
        """Hold the queue file exclusively for this process's waiting writers; False while another process's writer holds it."""
        if fcntl is None or key in self._queue_fds:
            return True
        fd, created = _open_lock_file(_queue_file(key))
        if fd is None:
            return True  # a read-only folder: no queue
        if not _flock(fd, fcntl.LOCK_EX):
            os.close(fd)
            return False
        self._queue_fds[key] = (fd, created)
        return True

    def _leave_queue(self, key: str) -> bool:
        """Let go of the queue file; whether this process created it."""
        fd, created = self._queue_fds.pop(key, (None, False))
        if fd is not None:
            os.close(fd)
        return created

    def give(self, path: Path, thread: int, finalizing: bool = False, remove: bool = False) -> None:
        """Let go of one hold ``take`` gave ``thread``; ``remove``: also delete the lock files this process created if no one else
        holds them (a refused file)."""
        key = _lock_file(path)
        if remove:
            with self._guard:
                held = self._held.get(key)
                if held is not None and held.holders == 1:
                    # still under the lock: a process waiting for it opens a new file and finds the same refusal
                    for name, created in zip((key, _queue_file(key)), held.created):
                        if created:
                            try:
                                os.unlink(name)
                            except OSError:
                                pass
        # A finalizer may run inside take() or give() of its own thread: it never waits for the guard.
        if not self._guard.acquire(blocking=not finalizing):
            self._late.append((key, thread))
            return
        try:
            self._give(key, thread)
            self._give_late()
        finally:
            self._guard.release()

    def _give(self, key: str, thread: int) -> None:
        held = self._held[key]
        held.holders -= 1
        left = held.threads.get(thread, 1) - 1
        if left > 0:
            held.threads[thread] = left
        else:
            held.threads.pop(thread, None)
        if held.holders == 0:
            del self._held[key]
            if held.fd is not None:
                os.close(held.fd)  # closing the descriptor lets go of the lock

    def _give_late(self) -> None:
        while self._late:
            self._give(*self._late.pop())


def _queue_file(lock_file: str) -> str:
    """The queue file beside a store's lock file: held exclusively by a writer waiting for the store."""
    return lock_file[: -len(".lock")] + ".queue.lock"


class _NotOurs(Exception):
    """The database DuckDB opened is not a lead store this lead-model may write (raised before anything is written)."""


@contextlib.contextmanager
def _checking(con):
    """Around the checks of a connection just opened: a database that is not ours is refused in one sentence (and its
    lock files go if this process made them); any failure closes the connection."""
    try:
        yield
    except _NotOurs as exc:
        con._refuse()
        raise LeadModelError(str(exc)) from None
    except BaseException:
        con.close()
        raise


def check_store_file(path: str | Path) -> None:
    """Refuse, in one sentence and without touching it, a store path DuckDB must not open.

    An existing file must carry DuckDB's header (``DUCK`` at byte 8); a path that does not
    exist yet must not end in a data file's suffix (DuckDB opens ``x.csv`` as a throwaway
    in-memory database, and a later ``load`` would report success while saving nothing).
    """
    path = Path(path)
    if str(path) == ":memory:":
        return
    kind = _DATA_SUFFIXES.get(path.suffix.lower())
    if path.is_dir():
        raise LeadModelError(f"the lead store {path} is a folder; pass a file path such as {path / DEFAULT_STORE} with --store.")
    if not path.exists():
        if kind is not None:
            raise LeadModelError(f"{path} is not a lead store (its name is that of {kind}); pass another --store path, one ending in .duckdb.")
        return
    try:
        with open(path, "rb") as f:
            header = f.read(16)
    except OSError as exc:
        raise LeadModelError(f"cannot read the lead store {path} ({exc.strerror or exc}); check its permissions or pass another --store path.") from None
    if header[8:12] == _DUCKDB_MAGIC:
        return
    if not header:
        what = "an empty file"
    elif header.startswith(b"SQLite format 3\0"):
        what = "a SQLite database"
    elif header.startswith(b"PAR1"):
        what = "a Parquet file"
    else:
        what = kind or "not a DuckDB file"
    raise LeadModelError(f"{path} is not a lead store (it is {what}); pass another --store path: a lead store's .duckdb file, or a new one.")


def _lock_file(path: Path) -> str:
    """The lock file beside a store, by its real path (two spellings of one store are one lock)."""
    return os.path.realpath(path) + ".lock"


_LOCK_FILES = _LockFiles()
_STAGING: set[tuple[str, str]] = set()  # (store's real path, table) staged by this process and not yet published or discarded
_STAGING_GUARD = threading.Lock()


def _process_start(pid: int) -> str | None:
    """A process's start time as the kernel counts it (tells a pid from a later process given the same pid); None when it is gone.

    Without /proc (macOS) a live process gives "" (its start cannot be told, so any start matches).
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return None if fields[0] in ("Z", "X") else fields[19]  # a zombie has stopped staging too
    except (OSError, IndexError):
        if Path("/proc/self/stat").exists():
            return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return ""


_HOST = socket.gethostname()
_OWN_START = _process_start(os.getpid()) or ""


def _after_fork_in_child() -> None:
    """A process forked from one that imported this module starts with none of its parent's store state.

    Its start time is its own (staged tables it records would otherwise carry the parent's, and any other
    process would take them for abandoned and drop them mid-load); its parent's staged tables and lock holds
    are not its own: the inherited lock descriptors are closed (an open copy in the child would keep the
    parent's lock after the parent let go of it), and the guards are new (another thread may have held one
    at the fork).
    """
    global _OWN_START, _LOCK_FILES, _STAGING, _STAGING_GUARD
    _OWN_START = _process_start(os.getpid()) or ""
    inherited = [h.fd for h in _LOCK_FILES._held.values()] + [fd for fd, _ in _LOCK_FILES._queue_fds.values()]
    for fd in inherited:
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass
    _LOCK_FILES = _LockFiles()
    _STAGING, _STAGING_GUARD = set(), threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class StoreConnection:
    """A DuckDB connection to the store (every DuckDB method works on it) that lets go of the lock file when closed.

    ``read_only``: it was opened to read (``LeadStore.connect(read_only=True)``); DuckDB itself
    opened the file read-only unless this process held the store for a writer then.
    """

    __slots__ = ("_con", "_path", "_open", "_thread", "read_only")

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, thread: int, read_only: bool = False):
        self._con, self._path, self._open, self._thread, self.read_only = con, path, True, thread, read_only

    def __getattr__(self, name: str):
        return getattr(self._con, name)

    def close(self, _finalizing: bool = False) -> None:
        if not self._open:
            return
        self._open = False
        try:
            self._con.close()  # DuckDB checkpoints here, still under the lock file
        finally:
            _LOCK_FILES.give(self._path, self._thread, _finalizing)

    def _refuse(self) -> None:
        """Close a connection to a file that is not ours, removing the lock files this process created for it."""
        self._open = False
        try:
            self._con.close()
        finally:
            _LOCK_FILES.give(self._path, self._thread, remove=True)

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


def free_dataset_name(name: str, taken) -> str:
    """``name`` if no dataset in ``taken`` has it, else the first free 'name-2', 'name-3', ... (64 characters at most)."""
    taken = set(taken)
    if name not in taken:
        return name
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = name[: 64 - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        n += 1


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
    CLI and other app servers, use it too). Operations that only read (``datasets``, ``info``,
    a stored ``fingerprint``, reading a dataset's rows) open it as readers, which share it;
    the others as writers, one at a time and with no reader. ``connect`` waits for a busy
    store: up to ``lock_wait`` seconds (default $LEAD_MODEL_LOCK_WAIT, else 30), trying again
    after 5 ms, then twice as long each time up to 200 ms, with jitter. ``on_wait(path)`` is
    called the first time one of this store's operations has to wait (default: the
    process-wide notice of ``set_wait_notice``).
    """

    def __init__(self, path: str | Path | None = None, lock_wait: float | None = None, on_wait: Callable[[Path], None] | None = None):
        self.path = Path(path) if path is not None else default_store_path()
        if lock_wait is not None and not (isinstance(lock_wait, (int, float)) and 0 <= lock_wait < float("inf")):
            raise LeadModelError(f"lock_wait must be a number of seconds (0 or more), not {lock_wait!r}.")
        self.lock_wait = lock_wait
        self.on_wait = on_wait
        self._waited = False

    def connect(self, read_only: bool = False) -> StoreConnection:
        """A new connection to the store file (waiting while another process holds it); the caller closes it (``finally``).

        The default is a writer's connection: it waits until no other process reads or writes
        the store. ``read_only=True`` gives a reader's: it waits only for writers, so several
        readers work at once; the caller must not write through it (it is a read-write DuckDB
        connection when this process holds the store for a writer at the time). A reader needs
        an existing store (LeadModelError otherwise; operations that read check first and
        answer "nothing yet").

        The file is checked before DuckDB opens it (``check_store_file``), and the database
        after: a DuckDB file of another program is refused without a write. A writer gives a
        new store the meta table, migrates an older one to STORE_FORMAT_VERSION and drops
        staged tables their loads abandoned (``_drop_abandoned``). A reader writes nothing,
        except that when it finds one of those to do it first lets a short writer's connection
        do it (so the readers after it find nothing to do); if that writer cannot write (a
        read-only folder, a busy store) and only tidying was left, it reads anyway.
        """
        check_store_file(self.path)
        if read_only:
            return self._reader()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = self._open(write=True)
        with _checking(con):
            for attempt in range(50):
                try:
                    self._prepare(con)
                    break
                except duckdb.TransactionException:  # another thread of this process is creating or migrating it too
                    time.sleep(_FIRST_PAUSE * random.uniform(0.5, 1.0))
            else:
                self._prepare(con)
        try:
            self._drop_abandoned(con)
        except duckdb.TransactionException:  # another thread is tidying or staging: the next open tidies
            _rollback(con)
        except BaseException:
            con.close()
            raise
        return con

    def _reader(self) -> StoreConnection:
        """A reader's connection to a store of the current format with nothing to tidy (else a short writer sees to it first)."""
        if str(self.path) == ":memory:" or not self.path.exists():
            raise LeadModelError(f"the lead store {self.path} does not exist yet; load a file into it with 'lead-model load FILE'.")
        for attempt in range(2):
            con = self._open(write=False)
            with _checking(con):
                version = self._format_version(con)
                if version is None:
                    version = self._adoptable(con)
                ready = version == STORE_FORMAT_VERSION and not self._untidy(con)
            if ready or attempt:
                return con
            con.close()
            try:
                self.connect().close()  # creates, migrates or tidies, in a short writer's connection
            except (LeadModelError, RuntimeError):  # cannot write now (or this thread already reads): tidying can wait
                if version != STORE_FORMAT_VERSION:
                    raise
        raise AssertionError("unreachable")

    def _open(self, write: bool) -> StoreConnection:
        """Lock the lock file (shared for a reader) and open DuckDB, waiting within the lock wait while the store is busy."""
        if write:
            _LOCK_FILES.queue(self.path)
        try:
            deadline, pause = None, _FIRST_PAUSE
            while True:
                taken = _LOCK_FILES.take(self.path, write)
                if taken is not None:
                    duck_read_only, thread = taken
                    try:
                        con = StoreConnection(duckdb.connect(str(self.path), read_only=duck_read_only, config=_CONNECT_CONFIG), self.path, thread,
                                              read_only=not write)
                    except duckdb.Error as exc:
                        _LOCK_FILES.give(self.path, thread)
                        if not _is_lock_error(exc):  # else a program outside lead-model holds the file
                            raise self._open_error(exc) from None
                        con = None
                    except BaseException:
                        _LOCK_FILES.give(self.path, thread)
                        raise
                    if con is not None:
                        try:
                            # DuckDB draws a progress bar on stdout for a query over 2 s (6 readers of a big dataset), inside the CLI's output.
                            con.execute("SET enable_progress_bar = false")
                        except BaseException:
                            con.close()
                            raise
                        return con
                now = time.monotonic()
                if deadline is None:
                    wait = self.lock_wait if self.lock_wait is not None else lock_wait_seconds()
                    deadline = now + wait
                    if wait > 0:
                        self._notify_wait()
                if now >= deadline:
                    raise self._busy_error(write) from None
                time.sleep(min(pause * random.uniform(0.5, 1.0), deadline - now))
                pause = min(pause * 2, _MAX_PAUSE)
        finally:
            if write:
                _LOCK_FILES.dequeue(self.path)

    def _prepare(self, con: duckdb.DuckDBPyConnection) -> None:
        """Check that the open database is a lead store of a format this lead-model reads; create or migrate it if needed.

        Reads only, unless the database is empty (a new store: created) or a lead store of an
        older format (migrated in one transaction). Raises _NotOurs for any other database.
        """
        version = self._format_version(con)
        if version == STORE_FORMAT_VERSION:
            return
        con.execute("BEGIN TRANSACTION")
        try:
            version = self._format_version(con)  # again, inside the transaction
            if version is None:
                version = self._adoptable(con)
            if version == -1:  # a new store
                con.execute(_CREATE_DATASETS)
                version = 0
            for step in range(version + 1, STORE_FORMAT_VERSION + 1):
                for sql in _MIGRATIONS[step]:
                    con.execute(sql)
            if version < STORE_FORMAT_VERSION:
                con.execute(f"INSERT OR REPLACE INTO {META_TABLE} VALUES ('format_version', ?)", [str(STORE_FORMAT_VERSION)])
                con.execute(f"INSERT OR IGNORE INTO {META_TABLE} VALUES ('created_by', ?)", [CREATED_BY])
            con.execute("COMMIT")
        except BaseException:
            _rollback(con)
            raise

    def _format_version(self, con: duckdb.DuckDBPyConnection) -> int | None:
        """The store format written in the meta table; None when there is no meta table."""
        if not con.execute(
            "SELECT 1 FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = ?", [META_TABLE]
        ).fetchone():
            return None
        try:
            meta = dict(con.execute(f"SELECT key, value FROM {META_TABLE}").fetchall())
        except duckdb.Error:
            meta = {}
        text = str(meta.get("format_version", ""))
        if meta.get("created_by") != CREATED_BY or not text.isdigit():
            raise _NotOurs(f"{self.path} is a DuckDB database of another program (its {META_TABLE} table is not lead-model's); pass another --store path.")
        version = int(text)
        if version > STORE_FORMAT_VERSION:
            raise _NotOurs(
                f"the lead store {self.path} was written by a newer lead-model (store format {version}; this one reads up to"
                f" {STORE_FORMAT_VERSION}); upgrade lead-model to use it."
            )
        return version

    def _adoptable(self, con: duckdb.DuckDBPyConnection) -> int:
        """The format of a database without a meta table: -1 when it is empty (a new store), 0 for a lead store of before format 1."""
        names = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database()"
            " UNION ALL SELECT sequence_name FROM duckdb_sequences() WHERE database_name = current_database()"
        ).fetchall()}
        if not names:
            return -1
        columns = [r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_catalog = current_database() AND table_schema = 'main'"
            " AND table_name = 'lead_datasets' ORDER BY ordinal_position"
        ).fetchall()]
        if columns == _DATASET_COLUMNS:
            return 0
        raise _NotOurs(f"{self.path} is a DuckDB database of another program (it has no {META_TABLE} table); pass another --store path.")

    def _open_error(self, exc: duckdb.Error) -> LeadModelError:
        if isinstance(exc, duckdb.IOException):
            return LeadModelError(f"cannot open the lead store {self.path} ({str(exc).splitlines()[0].rstrip('.!')}); pass another --store path.")
        return LeadModelError(f"{self.path} is not a lead store ({str(exc).splitlines()[0]}); pass another --store path.")

    def _busy_error(self, write: bool = False) -> LeadModelError:
        wait = self.lock_wait if self.lock_wait is not None else lock_wait_seconds()
        using = "reading or writing it" if write else "writing to it"  # a reader waits for writers only
        return LeadModelError(
            f"the lead store {self.path} has been busy for {wait:g} s (another lead-model or app is {using}); try again in a moment."
        )

    def _notify_wait(self) -> None:
        notice = self.on_wait or _wait_notice
        if notice is not None and not self._waited:
            self._waited = True
            notice(self.path)

    def transaction(self, work: Callable[[duckdb.DuckDBPyConnection], T], prepare: Callable[[duckdb.DuckDBPyConnection], None] | None = None) -> T:
        """Run ``work(con)`` in one transaction on a short-lived writer's connection and return its result.

        ``prepare(con)`` runs first, once, outside the transaction (e.g. a table's layout
        check). A write-write conflict with another connection of this process (two app
        sessions, threads) rolls back and runs ``work`` again, within the store's lock wait;
        any other error rolls back and is raised.
        """
        con = self.connect()
        try:
            if prepare is not None:
                prepare(con)
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
            now = datetime.now(timezone.utc)
            table_name = f"leads_{now.strftime('%Y%m%d%H%M%S%f')}"
            key = (os.path.realpath(self.path), table_name)
            con.register("incoming_rows", table)
            with _STAGING_GUARD:
                _STAGING.add(key)  # before the commit: a tidy by another thread of this process must not take it for abandoned
            try:
                # The table and the record of who staged it commit together: a staged table always names its process.
                con.execute("BEGIN TRANSACTION")
                try:
                    con.execute(f"CREATE TABLE {quote(table_name)} AS SELECT * FROM incoming_rows")
                    con.execute(
                        f"INSERT INTO {STAGING_TABLE} VALUES (?, ?, ?, ?, ?)",
                        [table_name, _HOST, os.getpid(), _OWN_START, now.isoformat(timespec="seconds")],
                    )
                    con.execute("COMMIT")
                except BaseException:
                    _rollback(con)  # the rows written so far are given back to the file's free space
                    raise
            except duckdb.IOException as exc:
                self._unstage(table_name)
                raise self._write_error(exc) from None
            except BaseException:
                self._unstage(table_name)
                raise
            finally:
                con.unregister("incoming_rows")
            return table_name
        finally:
            con.close()

    def _unstage(self, table_name: str) -> None:
        with _STAGING_GUARD:
            _STAGING.discard((os.path.realpath(self.path), table_name))

    def _write_error(self, exc: duckdb.Error) -> LeadModelError:
        return LeadModelError(
            f"cannot write to the lead store {self.path} ({str(exc).splitlines()[0].rstrip('.!')}); nothing was saved,"
            " so free disk space, make its folder writable or pass another --store path."
        )

    def _drop_abandoned(self, con: duckdb.DuckDBPyConnection) -> None:
        """Drop staged tables no dataset lists whose load has stopped (killed between staging and publishing).

        A staged table is abandoned when the process that staged it is gone: on this host,
        its pid is not running or runs a later process (another start time); in this process,
        no load is staging it. A table of another host, whose process cannot be checked, or
        with no record (staged by a lead-model before store format 1), is abandoned once
        older than STAGE_EXPIRY (1 hour). A loss here is a retry, never data: a listed dataset
        is never dropped.
        """
        abandoned, records = self._abandoned_tables(con)
        if not abandoned and not records:
            return
        con.execute("BEGIN TRANSACTION")
        try:
            for table_name in abandoned:
                con.execute(f"DROP TABLE IF EXISTS {quote(table_name)}")
            con.execute(f"DELETE FROM {STAGING_TABLE} WHERE tbl NOT IN (SELECT table_name FROM duckdb_tables()"
                        " WHERE database_name = current_database() AND schema_name = 'main')")
            con.execute("COMMIT")
        except BaseException:
            _rollback(con)
            raise

    def _abandoned_tables(self, con: duckdb.DuckDBPyConnection) -> tuple[list[str], bool]:
        """The abandoned staged tables (``_drop_abandoned``), and whether a staging record names a table that is gone (reads only)."""
        rows = con.execute(
            f"SELECT t.table_name, s.host, s.pid, s.proc_start, s.started_at FROM duckdb_tables() t"
            f" LEFT JOIN {STAGING_TABLE} s ON s.tbl = t.table_name"
            " WHERE t.database_name = current_database() AND t.schema_name = 'main'"
            " AND regexp_full_match(t.table_name, 'leads_[0-9]{20}') AND t.table_name NOT IN (SELECT tbl FROM lead_datasets)"
        ).fetchall()
        records = con.execute(f"SELECT tbl FROM {STAGING_TABLE} WHERE tbl NOT IN (SELECT table_name FROM duckdb_tables()"
                              " WHERE database_name = current_database() AND schema_name = 'main') LIMIT 1").fetchall()
        return [r[0] for r in rows if self._abandoned(*r)], bool(records)

    def _untidy(self, con: duckdb.DuckDBPyConnection) -> bool:
        """Whether a writer would drop something (``_drop_abandoned``) in this store of the current format."""
        abandoned, records = self._abandoned_tables(con)
        return bool(abandoned or records)

    def _abandoned(self, table_name: str, host: str | None, pid: int | None, proc_start: str | None, started_at: str | None) -> bool:
        if host == _HOST and pid is not None:
            if pid == os.getpid():
                with _STAGING_GUARD:
                    return (os.path.realpath(self.path), table_name) not in _STAGING
            start = _process_start(int(pid))
            return start is None or (bool(start) and bool(proc_start) and start != proc_start)
        try:
            if started_at:
                when = datetime.fromisoformat(started_at)
            else:
                when = datetime.strptime(_STAGED_RE.match(table_name).group(1), "%Y%m%d%H%M%S%f").replace(tzinfo=timezone.utc)
        except (ValueError, AttributeError):
            return False
        return (datetime.now(timezone.utc) - when).total_seconds() > STAGE_EXPIRY

    def discard(self, table_name: str) -> None:
        """Drop a staged table that will not be published."""
        con = self.connect()
        try:
            con.execute("BEGIN TRANSACTION")
            con.execute(f"DROP TABLE IF EXISTS {quote(table_name)}")
            con.execute(f"DELETE FROM {STAGING_TABLE} WHERE tbl = ?", [table_name])
            con.execute("COMMIT")
        finally:
            self._unstage(table_name)
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
                    con.execute(f"DELETE FROM {STAGING_TABLE} WHERE tbl = ?", [table_name])
                    for old_table, _ in old:
                        con.execute(f"DROP TABLE IF EXISTS {quote(old_table)}")
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
            except BaseException as exc:
                _rollback(con)
                try:
                    con.execute("BEGIN TRANSACTION")
                    con.execute(f"DROP TABLE IF EXISTS {quote(table_name)}")
                    con.execute(f"DELETE FROM {STAGING_TABLE} WHERE tbl = ?", [table_name])
                    con.execute("COMMIT")
                except duckdb.Error:  # the store cannot be written now: the next open drops the table (_drop_abandoned)
                    _rollback(con)
                if isinstance(exc, duckdb.IOException):
                    raise self._write_error(exc) from None
                raise
            return info
        finally:
            self._unstage(table_name)
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

        Taken when the dataset is published and kept in its settings (then this only reads); a
        dataset stored before fingerprints existed gets one on first use (one scan as a reader,
        ~0.1 s per million rows, then a short write keeps it).
        """
        info = self.info(name)
        kept = _stored_fingerprint(info)
        if kept is not None:
            return kept
        con = self.connect(read_only=True)  # the scan reads; only keeping its value writes
        try:
            fp = table_fingerprint(con, info.table)
        finally:
            con.close()

        def keep(con: duckdb.DuckDBPyConnection) -> Fingerprint:
            row = con.execute("SELECT tbl, settings FROM lead_datasets WHERE name = ?", [name]).fetchone()
            if row is None:
                raise LeadModelError(f"dataset '{name}' was dropped from the store {self.path} meanwhile; load it again with 'lead-model load FILE'.")
            settings = json.loads(row[1] or "{}")
            if row[0] != info.table:  # loaded again meanwhile: its publish took the new rows' fingerprint
                return _stored_fingerprint(DatasetInfo(name, row[0], "", 0, "", settings)) or table_fingerprint(con, row[0])
            settings[FINGERPRINT_KEY] = _fingerprint_setting(row[0], fp)
            con.execute("UPDATE lead_datasets SET settings = ? WHERE name = ? AND tbl = ?", [json.dumps(settings), name, row[0]])
            return fp

        return self.transaction(keep)

    def datasets(self) -> list[DatasetInfo]:
        """Every dataset, newest first ([] for a store that does not exist yet; a reader: it never waits for other readers)."""
        check_store_file(self.path)
        if not self.path.exists():
            return []
        con = self.connect(read_only=True)
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
