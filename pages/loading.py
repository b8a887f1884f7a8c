"""Opening data in the app: files, uploads and stored datasets become the session's Workbench; role edits reopen them.

LeadSets are cached with ``st.cache_resource`` on what they depend on (the file's path, mtime
and size; or the stored table, outcome and roles), so the sessions of a workshop share one
copy. Every function raises LeadModelError (nothing changes) when the data cannot be used.
"""

from __future__ import annotations

import math
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import streamlit as st

from lead_model.data.leads import LeadSet, load_leads, open_dataset
from lead_model.data.roles import RoleOverride
from lead_model.data.store import LeadStore, dataset_name_for, default_store_path
from lead_model.errors import LeadModelError
from lead_model.export.scored import write_scored_csv
from lead_model.formatting import count
from lead_model.model.schema import ScoringModel
from lead_model.workbench.autosave import Autosave, Autosaver, resume_offer
from lead_model.workbench.reconcile import choose_model, merge_role_edits
from lead_model.workbench.workshop import Workbench
from pages.messages import flash, for_app
from pages.session import DATASET, RESUME, SAMPLE_DATA, SAMPLE_MODEL, STARTED, WORKBENCH, DatasetSpec, dataset, leads, ss, workbench

Progress = Callable[[float, str], None]


# ----- cached LeadSets --------------------------------------------------------------------
@st.cache_resource(max_entries=3, show_spinner=False)
def _leads_from_file(path: str, stamp: tuple[int, int], store: str, name: str, outcome: str | None = None) -> LeadSet:
    # wait=False: the rows are written to the store in the background; load_file waits for
    # that as a step of its own, so the progress bar can say so.
    return load_leads(path, outcome, store=store, name=name, wait=False)


@st.cache_resource(max_entries=4, show_spinner=False)
def _leads_from_store(store: str, name: str, table: str, outcome: str | None, exclude: tuple[str, ...], roles: tuple) -> LeadSet:
    # A dataset loaded again gets a new table, hence a new LeadSet; a table that is no longer the
    # dataset's (another file was loaded under the same name since) must not be read by name.
    lead_store = LeadStore(store)
    info = lead_store.info(name)
    if info.table != table:
        raise LeadModelError(f"dataset '{name}' was replaced by a newer load of a file with the same name; open it again on the Data page.")
    overrides = {c: RoleOverride(role=r, kind=k, group=g) for c, r, k, g in roles}
    return open_dataset(lead_store, info, outcome, exclude, overrides or None)


def _stamp(path: Path) -> tuple[int, int]:
    try:
        st_ = path.stat()
    except OSError:
        raise LeadModelError(f"file {path} does not exist; check the path.") from None
    if path.is_dir():
        raise LeadModelError(f"{path} is a folder; give the path of a CSV or Parquet file.")
    return st_.st_mtime_ns, st_.st_size


def _is_sample(path: str | Path) -> bool:
    try:
        return Path(path).resolve() == SAMPLE_DATA.resolve()
    except OSError:
        return False


def _no_progress(fraction: float, text: str) -> None:
    pass


def _size_text(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:,.1f} MB" if n_bytes >= 100_000 else f"{n_bytes / 1e3:,.0f} KB"


# ----- start ------------------------------------------------------------------------------
def start(data_path: str | None) -> None:
    """On a session's first run, load ``data_path`` (from --data or LEAD_MODEL_DATA) if given, then run again.

    The loading run has a progress bar above the page; the run after it draws the page without
    it, so every element sits where all later runs put it. (Streamlit places elements by
    position: a page shifted by one on its first run has its fragments and charts made anew
    on the next full run.)
    """
    if ss.get(STARTED):
        return
    ss[STARTED] = True
    if data_path:
        bar = st.empty()
        try:
            with st.spinner(f"Loading {Path(data_path).name}…", show_time=True):
                load_file(data_path, progress=lambda fraction, text: bar.progress(fraction, text=text))
        except LeadModelError as exc:
            flash("error", for_app(exc))
        bar.empty()
        st.rerun()


# ----- loading ----------------------------------------------------------------------------
def load_file(path: str | Path, name: str | None = None, source: str | None = None, outcome: str | None = None, progress: Progress | None = None) -> str:
    """Load a CSV/Parquet file into the store and make it the active dataset; returns what happened to the model.

    ``outcome`` names the converted column (None: detect it). ``progress(fraction, text)``
    is told each step (read and encode, store, fit the model).
    """
    progress = progress or _no_progress
    path = Path(path)
    stamp = _stamp(path)
    store = str(default_store_path())
    args = (str(path.resolve()), stamp, store, name or dataset_name_for(path), outcome or None)
    progress(0.1, f"Reading and encoding {path.name} ({_size_text(stamp[1])})…")
    new = _leads_from_file(*args)
    progress(0.7, f"Writing {new.summary.rows:,} rows to the lead store…")
    try:
        new.wait_stored()
    except LeadModelError:
        _leads_from_file.clear(*args)  # do not keep a LeadSet whose rows never reached the store
        raise
    if LeadStore(store).info(new.name).table != new.info.table:
        # Another file was loaded under this name since this one was cached: its rows are gone.
        _leads_from_file.clear(*args)
        new = _leads_from_file(*args)
        new.wait_stored()
    progress(0.9, "Choosing the model for this data…")
    spec = DatasetSpec(store, new.name, new.info.table, source or str(path), new.outcome)
    message = _adopt(new, spec, sample=_is_sample(path))
    progress(1.0, f"Loaded {count(new.n_leads)}.")
    return message


def load_upload(file_name: str, data: bytes, outcome: str | None = None, progress: Progress | None = None) -> str:
    """Load an uploaded file (saved to a temporary file first, deleted after loading)."""
    progress = progress or _no_progress
    safe = Path(file_name).name or "upload.csv"
    tmp_dir = Path(tempfile.mkdtemp(prefix="lead-model-upload-"))
    path = tmp_dir / safe
    try:
        progress(0.02, f"Saving the upload ({_size_text(len(data))})…")
        path.write_bytes(data)
        return load_file(path, name=dataset_name_for(safe), source=f"upload: {safe}", outcome=outcome, progress=progress)
    finally:
        path.unlink(missing_ok=True)
        tmp_dir.rmdir()


def stored_datasets() -> list:
    """Datasets in the store (name, rows, loaded_at, settings), newest first."""
    return LeadStore(default_store_path()).datasets()


def reopen(name: str, progress: Progress | None = None) -> str:
    """Make a dataset already in the store active, with the roles it was last opened with."""
    progress = progress or _no_progress
    store = str(default_store_path())
    info = LeadStore(store).info(name)
    settings = info.settings or {}
    roles = tuple(sorted((c, v.get("role"), v.get("kind"), v.get("group")) for c, v in (settings.get("roles") or {}).items()))
    spec = DatasetSpec(store, info.name, info.table, info.source, settings.get("outcome"), tuple(settings.get("exclude") or ()), roles)
    progress(0.1, f"Reading and encoding the {info.rows:,} stored rows of '{info.name}'…")
    new = _leads_from_store(store, spec.name, spec.table, spec.outcome, spec.exclude, spec.roles)
    progress(0.9, "Choosing the model for this data…")
    message = _adopt(new, spec, sample=_is_sample(info.source))
    progress(1.0, f"Opened {count(new.n_leads)}.")
    return message


def _adopt(new: LeadSet, spec: DatasetSpec, sample: bool) -> str:
    """Make ``new`` active with the model ``choose_model`` picks: the sample model for the sample, the current one if it fits, else a starter."""
    old = workbench()
    sample_model = None
    if sample and SAMPLE_MODEL.is_file():
        try:
            sample_model = ScoringModel.from_file(SAMPLE_MODEL)
        except LeadModelError:
            sample_model = None
    choice = choose_model(new, old.model if old is not None else None, sample_model)
    if choice.kept:
        wb = Workbench(new, choice.model, old.baseline)
        wb.history = old.history  # the room keeps its undo history across a reload of the same data
    else:
        wb = Workbench(new, choice.model)
    wb.on_change = Autosaver(spec.store, new.name, new.info.table)  # every edit is saved for a reload (F5) to continue
    ss[WORKBENCH] = wb
    ss[DATASET] = spec
    ss[RESUME] = _resume_offer(spec.store, wb)
    return choice.message


def _resume_offer(store: str, wb: Workbench) -> Autosave | None:
    """The last session's autosave on this data, if it is worth offering; a store that cannot be read offers nothing."""
    import duckdb

    try:
        return resume_offer(store, wb.leads, wb.model, wb.baseline)
    except (LeadModelError, duckdb.Error) as exc:
        print(f"autosave not read: {exc}", file=sys.stderr)
        return None


# ----- roles --------------------------------------------------------------------------------
def roles_table(current: LeadSet) -> pd.DataFrame:
    """The roles as an editable table: column, role, kind, group, missing (share), distinct, reason."""
    rows = []
    for name, role in current.roles.items():
        prof = current.profiles[name]
        rows.append({
            "column": name, "role": role.role, "kind": role.kind, "group": role.group,
            "missing": prof.n_missing / prof.rows if prof.rows else math.nan, "distinct": prof.n_distinct, "reason": role.reason,
        })
    return pd.DataFrame(rows, columns=["column", "role", "kind", "group", "missing", "distinct", "reason"])


def apply_roles(edited: pd.DataFrame) -> str:
    """Open the active dataset again with the roles in ``edited`` (a ``roles_table`` after editing); the model follows."""
    current, spec, wb = leads(), dataset(), workbench()
    edit = merge_role_edits(current, spec.exclude, spec.roles, edited.to_dict("records"))
    new = _leads_from_store(spec.store, spec.name, current.info.table, edit.outcome, edit.exclude, edit.overrides)
    added = [n for n in new.attributes if n not in current.attributes]
    ss[WORKBENCH] = wb.rebased(new, added)
    ss[DATASET] = DatasetSpec(spec.store, spec.name, new.info.table, spec.source, edit.outcome, edit.exclude, edit.overrides)
    settings = dict(new.info.settings or {})
    settings.update(outcome=edit.outcome, exclude=list(edit.exclude), roles={c: {"role": r, "kind": k, "group": g} for c, r, k, g in edit.overrides})
    LeadStore(spec.store).update_settings(spec.name, settings)
    changed = len(added) + sum(1 for n in current.attributes if n not in new.attributes)
    return f"Roles applied: {len(new.attributes)} attributes ({changed} changed), outcome '{edit.outcome}'."


def ignore_columns(columns: list[str]) -> str:
    """Set ``columns`` to ignore (e.g. a leaky column) and open the dataset again, as ``apply_roles`` does."""
    table = roles_table(leads())
    table.loc[table["column"].isin(columns), ["role", "kind", "group"]] = ["ignore", None, None]
    return apply_roles(table)


def set_ignored(columns: list[str]) -> str:
    """Ignore exactly ``columns``: the others that were ignored become attributes again (kind and group inferred)."""
    table = roles_table(leads())
    back = table["column"].isin([c for c in table["column"] if c not in columns]) & (table["role"] == "ignore")
    table.loc[back, ["role", "kind", "group"]] = ["attribute", None, None]
    table.loc[table["column"].isin(columns), ["role", "kind", "group"]] = ["ignore", None, None]
    return apply_roles(table)


# ----- files out and in ---------------------------------------------------------------------
def _store_errors(fn, name: str):
    """Run a store read; a missing table (the dataset was loaded again meanwhile) becomes one sentence."""
    import duckdb

    try:
        return fn()
    except duckdb.Error as exc:
        raise LeadModelError(
            f"the stored rows of '{name}' cannot be read ({str(exc).splitlines()[0]}); open the dataset again on the Data page."
        ) from None


def find_leads(current: LeadSet, text: str) -> pd.DataFrame:
    """Up to 50 rows whose lead id (or text) contains ``text``, memoised per search (the explorer redraws on every move)."""
    return workbench().memo(("find", current.info.table, text), lambda: _store_errors(lambda: current.find_rows(text, limit=50), current.name))


def scored_csv(current: LeadSet, m: ScoringModel) -> bytes:
    """The raw rows in file order with the model's scores appended, as CSV bytes."""
    with tempfile.TemporaryDirectory(prefix="lead-model-export-") as tmp:
        out = _store_errors(lambda: write_scored_csv(current, m, Path(tmp) / "scored.csv"), current.name)
        return out.read_bytes()


def model_from_upload(file_name: str, data: bytes) -> ScoringModel:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LeadModelError(f"{file_name} is not a text file; upload the .json or .yaml model the app exported.") from None
    suffix = Path(file_name).suffix.lower()
    yaml_format = True if suffix in (".yaml", ".yml") else False if suffix == ".json" else None
    return ScoringModel.from_text(text, source=file_name, yaml_format=yaml_format)
