"""Saved model versions in the lead store: a new row per save, rename, archive, and which one is live (with its history).

Two tables in the store's DuckDB file, beside ``lead_datasets``: ``lead_versions`` (one row per
save, never overwritten: the model file as JSON, who saved it and why, the dataset it was
designed on with that dataset's Fingerprint, and the backtest headline at save time) and
``lead_live`` (one row per publish; the live version is the latest publish, so at most one
version is live and the history of what was live when is kept). Ids come from a DuckDB
SEQUENCE stored in the file, so processes saving one after another never share an id.

Every operation opens the store for its own span and closes it (``LeadStore.connect`` waits
while another process holds the file): reads (list, get, live, live_history) as readers, which
share the store with other readers; saves, renames, archives and publishes as writers, one at
a time. A save is one transaction, so a process killed at any moment leaves every version it
committed before, and nothing half written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import duckdb

from lead_model.data.store import Fingerprint, LeadStore, check_store_file
from lead_model.errors import LeadModelError
from lead_model.model.schema import ScoringModel

if TYPE_CHECKING:
    from lead_model.data.leads import LeadSet

VERSIONS_TABLE = "lead_versions"
LIVE_TABLE = "lead_live"
MAX_NAME = 100  # characters in a version's name or an author's name
MAX_NOTES = 10_000  # characters of notes
# The backtest headline a version keeps (keys of BacktestResult.summary()).
HEADLINE = ("leads", "converted", "threshold", "mql", "mql_rate", "precision", "recall", "f1", "auc", "lift_at_threshold",
            "conversion_mql", "conversion_rest", "knocked_out")

_SCHEMA = (
    "CREATE SEQUENCE IF NOT EXISTS lead_version_ids START 1",
    "CREATE SEQUENCE IF NOT EXISTS lead_live_ids START 1",
    f"CREATE TABLE IF NOT EXISTS {VERSIONS_TABLE} (id BIGINT PRIMARY KEY, name VARCHAR NOT NULL, author VARCHAR NOT NULL,"
    " notes VARCHAR NOT NULL, created VARCHAR NOT NULL, dataset VARCHAR, dataset_rows BIGINT, dataset_hash VARCHAR,"
    " summary VARCHAR NOT NULL, archived BOOLEAN NOT NULL, signoff VARCHAR NOT NULL, model VARCHAR NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {LIVE_TABLE} (seq BIGINT PRIMARY KEY, version_id BIGINT NOT NULL, published_at VARCHAR NOT NULL,"
    " published_by VARCHAR NOT NULL)",
)
_COLUMNS = "id, name, author, notes, created, dataset, dataset_rows, dataset_hash, summary, archived, signoff, model"
_LIVE_ID = f"(SELECT version_id FROM {LIVE_TABLE} ORDER BY seq DESC LIMIT 1)"


@dataclass(frozen=True)
class Version:
    """One saved model version.

    ``created`` is ISO 8601 UTC; ``dataset_rows``/``dataset_hash`` are the Fingerprint of the
    dataset it was designed on (None without data, or a hash of None for data outside a store);
    ``summary`` is the backtest headline on that dataset at save time (HEADLINE keys; {} without
    data); ``signoff`` is who agreed to ship it ({} until someone does).
    """

    id: int
    name: str
    author: str
    notes: str
    created: str
    dataset: str | None
    dataset_rows: int | None
    dataset_hash: str | None
    summary: dict
    archived: bool
    live: bool
    signoff: dict
    model_json: str

    @property
    def model(self) -> ScoringModel:
        """The saved model (parsed from ``model_json``)."""
        return ScoringModel.from_text(self.model_json, source=f"version {self.id}", yaml_format=False)


class LiveRecord(NamedTuple):
    """One publish: which version went live, when (ISO 8601 UTC) and by whom."""

    version_id: int
    name: str
    published_at: str
    published_by: str


class VersionRegistry:
    """The saved versions of one lead store (``store``: a LeadStore or its path; default the default store)."""

    def __init__(self, store: LeadStore | str | Path | None = None):
        self.store = store if isinstance(store, LeadStore) else LeadStore(store)

    # ----- writes ------------------------------------------------------------------------
    def save(self, model: ScoringModel, name: str, author: str = "", notes: str = "", leads: LeadSet | None = None,
             signoff: dict | None = None) -> Version:
        """Save ``model`` as a new version (never replacing one) and return it.

        With ``leads`` the version records the dataset's name and Fingerprint and the backtest
        headline of ``model`` on it. The slow parts (backtest, fingerprint) run before the store
        is opened for the write, which is one short transaction.
        """
        if not isinstance(model, ScoringModel):
            raise LeadModelError(f"a version saves a ScoringModel, not {type(model).__name__}; read the model with ScoringModel.from_file first.")
        name = check_version_name(name)
        author = _check_text(author, "author", MAX_NAME)
        notes = _check_text(notes, "notes", MAX_NOTES)
        signoff_json = _json_object(signoff, "signoff")
        dataset, rows, digest, summary = None, None, None, {}
        if leads is not None:
            from lead_model.data.leads import LeadSet

            if not isinstance(leads, LeadSet):
                raise LeadModelError(f"leads must be a LeadSet, not {type(leads).__name__}; open them with load_leads first.")
            summary = _headline(leads, model)
            dataset = leads.name
            fingerprint = self._fingerprint_of(leads)
            rows, digest = (fingerprint.rows, fingerprint.hash) if fingerprint is not None else (int(leads.summary.rows), None)
        created = _now()
        values = [name, author, notes, created, dataset, rows, digest, json.dumps(summary), False, signoff_json, model.to_json()]

        def insert(con: duckdb.DuckDBPyConnection) -> int:
            _create_tables(con)
            vid = int(con.execute("SELECT nextval('lead_version_ids')").fetchone()[0])
            con.execute(f"INSERT INTO {VERSIONS_TABLE} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [vid, *values])
            return vid

        vid = self.store.transaction(insert)
        return Version(vid, name, author, notes, created, dataset, rows, digest, summary, False, False, json.loads(signoff_json), values[-1])

    def rename(self, id: int, name: str) -> Version:
        """Give version ``id`` a new name (its model and history stay as they are)."""
        id, name = check_version_id(id), check_version_name(name)

        def work(con: duckdb.DuckDBPyConnection) -> None:
            self._require(con, id)
            con.execute(f"UPDATE {VERSIONS_TABLE} SET name = ? WHERE id = ?", [name, id])

        self.store.transaction(work)
        return self.get(id)

    def archive(self, id: int, archived: bool = True) -> Version:
        """Hide version ``id`` from ``list()`` (``archived=False`` restores it); the live version cannot be archived."""
        id = check_version_id(id)
        if not isinstance(archived, bool):
            raise LeadModelError(f"archived must be True or False, not {archived!r}.")

        def work(con: duckdb.DuckDBPyConnection) -> None:
            row = self._require(con, id)
            if archived and _live_id(con) == id:
                raise LeadModelError(f"version {id} '{row[1]}' is the live model; publish another version first, then archive this one.")
            con.execute(f"UPDATE {VERSIONS_TABLE} SET archived = ? WHERE id = ?", [archived, id])

        self.store.transaction(work)
        return self.get(id)

    def publish(self, id: int, by: str = "") -> Version:
        """Make version ``id`` the live model (the one live version; the publish is added to the live history)."""
        id = check_version_id(id)
        by = _check_text(by, "by", MAX_NAME)

        def work(con: duckdb.DuckDBPyConnection) -> None:
            row = self._require(con, id)
            if row[9]:
                raise LeadModelError(
                    f"version {id} '{row[1]}' is archived; restore it with 'lead-model versions archive {id} --restore', then publish it."
                )
            if _live_id(con) != id:  # publishing the live version again changes nothing
                con.execute(f"INSERT INTO {LIVE_TABLE} VALUES (nextval('lead_live_ids'), ?, ?, ?)", [id, _now(), by])

        self.store.transaction(work)
        return self.get(id)

    # ----- reads -------------------------------------------------------------------------
    def list(self, include_archived: bool = False) -> list[Version]:
        """The saved versions, newest first (archived ones only with ``include_archived``)."""
        where = "" if include_archived else "WHERE NOT archived"
        rows = self._read(lambda con: con.execute(f"SELECT {_COLUMNS}, id = {_LIVE_ID} FROM {VERSIONS_TABLE} {where} ORDER BY id DESC").fetchall())
        return [_version(r) for r in rows or []]

    def get(self, id: int) -> Version:
        """Version ``id`` (archived or not); an unknown id gets one sentence listing the ids there are."""
        id = check_version_id(id)

        def read(con: duckdb.DuckDBPyConnection) -> tuple | LeadModelError:
            row = con.execute(f"SELECT {_COLUMNS}, id = {_LIVE_ID} FROM {VERSIONS_TABLE} WHERE id = ?", [id]).fetchone()
            return row if row is not None else self._unknown(con, id)

        found = self._read(read)
        if found is None or isinstance(found, LeadModelError):  # no versions tables yet, or no such id
            raise found or self._unknown(None, id)
        return _version(found)

    def model(self, id: int) -> ScoringModel:
        """The model of version ``id``."""
        return self.get(id).model

    def live(self) -> Version | None:
        """The live version (the latest published), or None when none was published."""
        vid = self._read(_live_id)
        return self.get(vid) if vid is not None else None

    def live_history(self) -> list[LiveRecord]:
        """Every publish, newest first: (version_id, name, published_at, published_by); the first is the live one."""
        rows = self._read(
            lambda con: con.execute(
                f"SELECT l.version_id, v.name, l.published_at, l.published_by FROM {LIVE_TABLE} l"
                f" JOIN {VERSIONS_TABLE} v ON v.id = l.version_id ORDER BY l.seq DESC"
            ).fetchall()
        )
        return [LiveRecord(int(r[0]), r[1], r[2], r[3]) for r in rows or []]

    # ----- inner -------------------------------------------------------------------------
    def _read(self, work):
        """``work(con)`` on a short-lived reader's connection; None when the store has no versions tables (nothing is created by a read)."""
        check_store_file(self.store.path)  # a new path named like a data file is refused even before it exists
        if not self.store.path.exists():
            return None
        con = self.store.connect(read_only=True)
        try:
            if not _has_tables(con):
                return None
            return work(con)
        finally:
            con.close()

    def _require(self, con: duckdb.DuckDBPyConnection, id: int) -> tuple:
        _create_tables(con)
        row = con.execute(f"SELECT {_COLUMNS} FROM {VERSIONS_TABLE} WHERE id = ?", [id]).fetchone()
        if row is None:
            raise self._unknown(con, id)
        return row

    def _unknown(self, con: duckdb.DuckDBPyConnection | None, id: int) -> LeadModelError:
        ids = [int(r[0]) for r in con.execute(f"SELECT id FROM {VERSIONS_TABLE} ORDER BY id").fetchall()] if con is not None else []
        return LeadModelError(f"no version {id} in the store {self.store.path} (versions: {id_ranges(ids)}); list them with 'lead-model versions list'.")

    def fingerprint_of(self, leads: LeadSet) -> Fingerprint | None:
        """The Fingerprint of the stored rows ``leads`` were read from; None for leads outside a store (or reloaded since)."""
        return self._fingerprint_of(leads)

    def _fingerprint_of(self, leads: LeadSet) -> Fingerprint | None:
        path = Path(leads.store_path)
        if str(path) == ":memory:" or not path.exists():
            return None
        info = leads.info  # waits for a store write still under way
        same = path.resolve() == self.store.path.resolve()
        store = self.store if same else LeadStore(path, lock_wait=self.store.lock_wait, on_wait=self.store.on_wait)
        current = next((d for d in store.datasets() if d.name == leads.name), None)
        if current is None or current.table != info.table:
            return None
        return store.fingerprint(leads.name)


# ----- rules -----------------------------------------------------------------------------
def check_version_name(name: str) -> str:
    """A version name without its surrounding spaces; one sentence when it is blank, too long or not one line."""
    if not isinstance(name, str):
        raise LeadModelError(f"a version name is text, not {type(name).__name__}; give a name such as 'Q3 2025 review'.")
    name = name.strip()
    if not name:
        raise LeadModelError("a version name cannot be blank; give a name such as 'Q3 2025 review'.")
    if len(name) > MAX_NAME:
        raise LeadModelError(f"the version name is {len(name)} characters long; use {MAX_NAME} at most (put the rest in the notes).")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise LeadModelError("a version name must be one line without control characters; put longer text in the notes.")
    return name


def check_version_id(id: int) -> int:
    """A version id: a whole number, 1 or more."""
    if isinstance(id, bool) or not isinstance(id, int) or id < 1:
        raise LeadModelError(f"version id {id!r} is not usable; give the whole number 'lead-model versions list' shows, such as 3.")
    return id


def id_ranges(ids: list[int]) -> str:
    """Sorted ids as ranges people read: [1, 2, 3, 5, 8, 9] -> '1-3, 5, 8-9'; 'none yet' when empty."""
    if not ids:
        return "none yet"
    runs: list[list[int]] = []
    for i in ids:
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    parts = [f"{a}" if a == b else f"{a}-{b}" for a, b in runs]
    return ", ".join(parts) if len(parts) <= 8 else ", ".join(parts[:4] + ["…"] + parts[-3:])


def _check_text(value: str, what: str, limit: int) -> str:
    if not isinstance(value, str):
        raise LeadModelError(f"{what} is text, not {type(value).__name__}; give a string.")
    if len(value) > limit:
        raise LeadModelError(f"{what} is {len(value):,} characters long; keep it to {limit:,}.")
    return value.strip() if what != "notes" else value


def _json_object(value: dict | None, what: str) -> str:
    if value is None:
        return "{}"
    if not isinstance(value, dict):
        raise LeadModelError(f"{what} must be a dict, not {type(value).__name__}.")
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise LeadModelError(f"{what} cannot be stored as JSON ({exc}); keep to text, numbers, lists and dicts.") from None


def headline(leads: LeadSet, model: ScoringModel) -> dict:
    """The backtest headline a version keeps: the HEADLINE keys of ``backtest(leads, model).summary()`` ({} without an outcome)."""
    return _headline(leads, model)


def _headline(leads: LeadSet, model: ScoringModel) -> dict:
    if not leads.has_outcome:
        return {}
    from lead_model.engine.backtest import backtest

    summary = backtest(leads, model).summary()
    return {key: summary[key] for key in HEADLINE}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _create_tables(con: duckdb.DuckDBPyConnection) -> None:
    for statement in _SCHEMA:
        con.execute(statement)


def _has_tables(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name IN (?, ?)", [VERSIONS_TABLE, LIVE_TABLE]
    ).fetchone()[0]
    return found == 2


def _live_id(con: duckdb.DuckDBPyConnection) -> int | None:
    row = con.execute(f"SELECT version_id FROM {LIVE_TABLE} ORDER BY seq DESC LIMIT 1").fetchone()
    return int(row[0]) if row is not None else None


def _version(row: tuple) -> Version:
    return Version(
        id=int(row[0]), name=row[1], author=row[2], notes=row[3], created=row[4], dataset=row[5],
        dataset_rows=None if row[6] is None else int(row[6]), dataset_hash=row[7], summary=json.loads(row[8]),
        archived=bool(row[9]), live=bool(row[12]), signoff=json.loads(row[10]), model_json=row[11],
    )


__all__ = ["HEADLINE", "LiveRecord", "headline", "Version", "VersionRegistry", "check_version_id", "check_version_name", "id_ranges"]
