"""The lead store: named datasets of raw lead rows in an embedded DuckDB file."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from lead_model.errors import LeadModelError

DEFAULT_STORE = Path("lead_store.duckdb")
KEPT_SETTINGS = ("known_before_contact", "after_contact_levels")  # dataset settings a new load of the same name keeps
ROW_COLUMN = "__row"  # the lead's position in the source file, kept so output follows input order
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,63}$")


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
    """Named datasets in one DuckDB file; loading replaces a dataset atomically or not at all."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else default_store_path()

    def connect(self) -> duckdb.DuckDBPyConnection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(str(self.path))
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise LeadModelError(f"the lead store {self.path} is in use by another program; close it or pass another --store.") from None
            raise LeadModelError(f"cannot open the lead store {self.path} ({str(exc).splitlines()[0].rstrip('.!')}); pass another --store path.") from None
        except duckdb.Error as exc:
            raise LeadModelError(f"{self.path} is not a lead store ({str(exc).splitlines()[0]}); pass another --store path.") from None
        con.execute(
            "CREATE TABLE IF NOT EXISTS lead_datasets (name VARCHAR PRIMARY KEY, tbl VARCHAR, source VARCHAR,"
            " rows BIGINT, loaded_at VARCHAR, settings VARCHAR)"
        )
        return con

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
                info = replace(info, settings={**info.settings, **kept})
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
        """Remember the roles and options a dataset was opened with."""
        con = self.connect()
        try:
            con.execute("UPDATE lead_datasets SET settings = ? WHERE name = ?", [json.dumps(settings), name])
        finally:
            con.close()

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
        for d in self.datasets():
            if d.name == name:
                return d
        known = ", ".join(f"'{d.name}'" for d in self.datasets()) or "none yet"
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
