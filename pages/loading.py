"""Opening data in the app: files, uploads and stored datasets become the session's Workbench; role edits reopen them.

LeadSets are cached with ``st.cache_resource`` on what they depend on (the file's path, mtime
and size; or the stored table, outcome and roles), so the sessions of a workshop share one
copy. Every function raises LeadModelError (nothing changes) when the data cannot be used.
"""

from __future__ import annotations

import math
import sys
import tempfile
import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import streamlit as st

from lead_model.data.access import FileAccess
from lead_model.data.leads import LeadSet, is_stored_copy, load_leads, open_dataset
from lead_model.data.leaks import save_answer, save_level_answer, stored_leak_answers
from lead_model.data.roles import UNKNOWN_GROUP, UNKNOWN_GROUP_LABEL, RoleOverride
from lead_model.data.store import DatasetInfo, LeadStore, dataset_name_for, default_store_path, free_dataset_name
from lead_model.errors import LeadModelError
from lead_model.export.scored import write_scored_csv
from lead_model.formatting import count, markdown_escape
from lead_model.model.schema import ScoringModel, check_model_size
from lead_model.suggest.fit import Suggestion, suggest
from lead_model.workbench.autosave import Autosave, Autosaver, autosave_key, dataset_fingerprint, last_dataset, resume_offer
from lead_model.workbench.reconcile import choose_model, merge_role_edits
from lead_model.workbench.workshop import Workbench
from pages.messages import flash, for_app, unexpected
from pages.session import DATASET, DATASET_PARAM, RESUME, TABLE_PARAM, SAMPLE_DATA, SAMPLE_MODEL, STARTED, WORKBENCH, DatasetSpec, browser_token, dataset, leads, ss, workbench

Progress = Callable[[float, str], None]


# ----- cached LeadSets --------------------------------------------------------------------
@st.cache_resource(max_entries=3, show_spinner=False)
def _leads_from_file(path: str, stamp: tuple[int, int], store: str, name: str, outcome: str | None = None, label: str | None = None) -> LeadSet:
    # The file unchanged since it was stored under this name (a new session, a restarted server, the cache full):
    # open the stored rows. Storing them again would replace the dataset under every session that has it open.
    held = next((d for d in LeadStore(store).datasets() if d.name == name), None)
    if _unchanged_copy(held, path, outcome):
        return load_leads(name, outcome, store=store)
    # wait=False: the rows are written to the store in the background; load_file waits for
    # that as a step of its own, so the progress bar can say so.
    return load_leads(path, outcome, store=store, name=name, wait=False, source_label=label)


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
    stored = _dataset_to_continue()
    if stored is not None or data_path:
        bar = st.empty()
        what = f"'{stored}'" if stored is not None else Path(data_path).name
        try:
            with st.spinner(f"Loading {markdown_escape(what)}…", show_time=True):  # Markdown: the name escaped
                progress = lambda fraction, text: bar.progress(fraction, text=markdown_escape(text))  # noqa: E731
                if stored is not None:
                    reopen(stored, progress=progress)
                else:
                    load_file(data_path, progress=progress)
        except LeadModelError as exc:
            flash("error", for_app(exc))
        except Exception as exc:  # noqa: BLE001 - our bug: one line for the room, the traceback in the log
            traceback.print_exc()
            flash("error", unexpected(exc))
        bar.empty()
        st.rerun()


def _dataset_to_continue() -> str | None:
    """The stored dataset a new session opens instead of --data: the one this tab had open (``?dataset=`` in its URL:
    a reload, F5), else on a hosted app the one this browser last worked on (a restarted server; its autosave is then
    offered). None: open --data."""
    named, table = st.query_params.get(DATASET_PARAM), st.query_params.get(TABLE_PARAM)
    try:
        tables = {d.name: d.table for d in stored_datasets()}
        names = set(tables)
        if named in tables and table in (None, tables[named]):  # replaced since (another table): not what the tab had
            return named
        last = last_dataset(default_store_path(), browser_token())
    except (LeadModelError, OSError) as exc:  # an unreadable store: --data, and its own sentence if it fails too
        print(f"no dataset to continue: {exc}", file=sys.stderr)
        return None
    return last if last in names else None


def keep_dataset_in_url() -> None:
    """Put the active dataset's name and stored table in the URL (``?dataset=…&table=…``), so a reload (F5) opens it again,
    not --data (unless another load replaced it since: the table differs, and the tab's work is found by content)."""
    spec = dataset()
    if spec is not None and (st.query_params.get(DATASET_PARAM), st.query_params.get(TABLE_PARAM)) != (spec.name, spec.table):
        st.query_params.update({DATASET_PARAM: spec.name, TABLE_PARAM: spec.table})


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
    by_name = {d.name: d for d in stored_datasets()}
    target = name or name_for_file(path, by_name)
    held = by_name.get(target)
    if _unchanged_copy(held, path, outcome) and _roles_edited(held):
        return reopen(target, progress)  # the file as stored, with the roles the room set since (shared with every session)
    args = (str(path.resolve()), stamp, store, target, outcome or None, source)  # source: an upload's "upload: leads.csv"
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


def _unchanged_copy(held: DatasetInfo | None, path: str | Path, outcome: str | None) -> bool:
    """Whether stored dataset ``held`` is the file at ``path`` as it is now, read with the same outcome (``is_stored_copy``)."""
    return held is not None and is_stored_copy(held, path) and outcome in (None, (held.settings or {}).get("outcome"))


def _roles_edited(info: DatasetInfo) -> bool:
    """Whether the room set roles on the stored dataset since its file was loaded (outcome, ignored columns, kinds, groups)."""
    settings = info.settings or {}
    return bool(settings.get("roles") or settings.get("exclude") or settings.get("outcome"))


def load_upload(file_name: str, data: bytes, outcome: str | None = None, progress: Progress | None = None, name: str | None = None) -> str:
    """Load an uploaded file (saved to a temporary file first, deleted after loading) as dataset ``name`` (default: from the file name)."""
    progress = progress or _no_progress
    safe = upload_file_name(file_name)
    tmp_dir = Path(tempfile.mkdtemp(prefix="lead-model-upload-"))
    path = tmp_dir / safe
    try:
        progress(0.02, f"Saving the upload ({_size_text(len(data))})…")
        path.write_bytes(data)
        return load_file(path, name=name or upload_name(safe), source=f"upload: {safe}", outcome=outcome, progress=progress)
    finally:
        path.unlink(missing_ok=True)
        tmp_dir.rmdir()


def name_for_file(path: Path, by_name: dict[str, DatasetInfo]) -> str:
    """The dataset name a file on the server loads under: its own ('leads' for leads.csv), unless a dataset loaded
    from another file or an upload holds that name; then the first 'leads-2', 'leads-3', ... that is this file's or free.

    So the sample button, a path or the server's --data never replace someone's upload of the same name; the same
    file loaded again (changed on disk, or by a new session) replaces its own earlier load. ``by_name``: the stored
    datasets by name."""
    base, source = dataset_name_for(path), str(path.resolve())
    passed: set[str] = set()
    while True:  # 'leads', then 'leads-2', 'leads-3', ...: ends at the first name that is free
        name = free_dataset_name(base, passed)
        held = by_name.get(name)
        if held is None or held.source == source:
            return name
        passed.add(name)


def upload_file_name(file_name: str) -> str:
    """The browser's name for an upload as a file name, never a path ('a<b>x</b>.csv' -> 'a<b>x<_b>.csv', not 'b>.csv')."""
    return Path(file_name.replace("/", "_").replace("\\", "_")).name or "upload.csv"


def upload_name(file_name: str) -> str:
    """The dataset name an upload of ``file_name`` is stored under unless the room picks another."""
    return dataset_name_for(upload_file_name(file_name))


def stored_info(name: str) -> DatasetInfo | None:
    """The stored dataset ``name``, or None when the store has none by that name."""
    return next((d for d in stored_datasets() if d.name == name), None)


def free_name(name: str) -> str:
    """``name``, or the first 'name-2', 'name-3', ... that no stored dataset has."""
    return free_dataset_name(name, (d.name for d in stored_datasets()))


def file_access() -> FileAccess:
    """What "Load a file by path" may read on this server ($LEAD_MODEL_HOSTED, $LEAD_MODEL_DATA_DIR; raises LeadModelError)."""
    return FileAccess.from_env()


def load_path(text: str, outcome: str | None = None, progress: Progress | None = None) -> str:
    """Load the file a person typed or picked in "Load a file by path", if ``file_access`` allows it."""
    return load_file(file_access().resolve(text), outcome=outcome, progress=progress)


def replaced_by(current: LeadSet) -> DatasetInfo | None:
    """The newer load that replaced ``current``'s stored rows (another file loaded under its name since), else None.

    The session keeps working on its copy; what reads the stored rows (the scored CSV) cannot."""
    info = stored_info(current.name)
    if info is None or info.table == current.info.table:
        return None
    return info


def stored_datasets() -> list[DatasetInfo]:
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
    # Keyed by the dataset's content, not its table: a restarted server loading the same file offers to continue.
    fingerprint = _fingerprint(spec.store, new.name)
    if fingerprint is not None:
        fingerprint = autosave_key(fingerprint, browser_token())  # on a hosted app, this browser's work only
        wb.on_change = Autosaver(spec.store, new.name, fingerprint)  # every edit is saved for a reload (F5, a restart) to continue
    ss[WORKBENCH] = wb
    ss[DATASET] = spec
    made_now = not choice.kept and choice.model is not sample_model  # a starter model: stamped now, no edit to wait for
    ss[RESUME] = _resume_offer(spec.store, wb, fingerprint, check_updated=not made_now) if fingerprint is not None else None
    prefetch_suggestion(new, wb.model)  # the Suggestions page's first visit finds its fit ready
    return choice.message


def _fingerprint(store: str, name: str) -> str | None:
    """The autosave key of the stored dataset ``name``; None (no autosave) when the store cannot say."""
    import duckdb

    try:
        return dataset_fingerprint(store, name)
    except (LeadModelError, duckdb.Error) as exc:
        print(f"autosave off: {exc}", file=sys.stderr)
        return None


def _resume_offer(store: str, wb: Workbench, fingerprint: str, check_updated: bool = True) -> Autosave | None:
    """The last session's autosave on this data, if it is worth offering; a store that cannot be read offers nothing."""
    import duckdb

    try:
        return resume_offer(store, wb.leads, wb.model, wb.baseline, fingerprint, check_updated=check_updated)
    except (LeadModelError, duckdb.Error) as exc:
        print(f"autosave not read: {exc}", file=sys.stderr)
        return None


# ----- roles --------------------------------------------------------------------------------
def roles_table(current: LeadSet) -> pd.DataFrame:
    """The roles as an editable table: column, role, kind, group, missing (share), distinct, reason.

    An attribute whose group is unknown reads ``roles.UNKNOWN_GROUP_LABEL`` ("unknown — counted as fit until you choose")."""
    rows = []
    for name, role in current.roles.items():
        prof = current.profiles[name]
        group = UNKNOWN_GROUP_LABEL if role.shown_group == UNKNOWN_GROUP else role.group
        rows.append({
            "column": name, "role": role.role, "kind": role.kind, "group": group,
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
    _forget_answers(spec.name)  # the settings were written again: read the answers from the store next time
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


# ----- leak answers ------------------------------------------------------------------------
# The room's "known before sales contact?" answers and the levels it said are recorded after
# contact, per stored dataset, read once (a DuckDB connect costs ~30-40 ms on every page run)
# and updated by ``save_leak_answer`` / ``save_leak_level``. Process-wide, so every session sees
# an answer given in another one. (An answer the CLI stores while the app runs is seen after the
# dataset is opened again.)
_ANSWERS: dict[tuple[str, str, str], tuple[dict[str, bool], dict[str, tuple[str, ...]]]] = {}
_ANSWERS_LOCK = threading.Lock()


def _answers_key(current: LeadSet) -> tuple[str, str, str]:
    return str(getattr(current, "store_path", None)), current.name, current.info.table


def _forget_answers(name: str) -> None:
    with _ANSWERS_LOCK:
        for key in [k for k in _ANSWERS if k[1] == name]:
            del _ANSWERS[key]


def _leak_memo(current: LeadSet) -> tuple[dict[str, bool], dict[str, tuple[str, ...]]]:
    key = _answers_key(current)
    with _ANSWERS_LOCK:
        if key in _ANSWERS:
            return _ANSWERS[key]
    both = stored_leak_answers(current)
    with _ANSWERS_LOCK:
        _ANSWERS[key] = both
    return both


def leak_answers(current: LeadSet) -> dict[str, bool]:
    """``leaks.stored_answers`` of ``current``, memoised per dataset until an answer is saved through ``save_leak_answer``."""
    return dict(_leak_memo(current)[0])


def leak_levels(current: LeadSet) -> dict[str, tuple[str, ...]]:
    """``leaks.stored_levels`` of ``current`` (levels recorded after sales contact), memoised like ``leak_answers``."""
    return dict(_leak_memo(current)[1])


def leak_key(current: LeadSet) -> tuple:
    """Every leak answer of ``current`` as one hashable value: a suggestion is fit once per key."""
    answers, levels = _leak_memo(current)
    return tuple(sorted(answers.items())), tuple(sorted(levels.items()))


def save_leak_answer(current: LeadSet, column: str, known: bool | None) -> dict[str, bool]:
    """``leaks.save_answer``, keeping the memo of ``leak_answers`` in step."""
    try:
        save_answer(current, column, known)
    finally:
        _forget_answers(current.name)  # read both kinds again, at once, on the next page run
    return leak_answers(current)


def save_leak_level(current: LeadSet, column: str, level: str, after: bool | None) -> dict[str, tuple[str, ...]]:
    """``leaks.save_level_answer`` (level ``level`` of ``column`` recorded after sales contact, or forget it), keeping the memo in step."""
    try:
        save_level_answer(current, column, level, after)
    finally:
        _forget_answers(current.name)  # read both kinds again, at once, on the next page run
    return leak_levels(current)


# ----- suggestions -------------------------------------------------------------------------
# A fit costs ~0.5-1 s at 50,000 leads and ~5 s at 1M: one fit per (LeadSet, model, options,
# leak answers), shared by every session and rerun, kept for the last few keys. A Future per key,
# so a session that asks while the fit runs (in the background after a load, or for another
# session) waits for that fit instead of starting its own.
_SUGGESTIONS: OrderedDict[tuple, Future] = OrderedDict()
_SUGGESTIONS_LOCK = threading.Lock()
_SUGGESTIONS_KEPT = 8
_FITTER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="suggest")


def default_suggest_options(current: LeadSet) -> dict:
    """The Suggestions form's options before anyone changes them (what ``prefetch_suggestion`` fits)."""
    n_attrs = len(current.attributes)
    return dict(
        holdout="auto", max_attributes=int(min(10, max(n_attrs, 1))), include_leaky=False, monotonic_bins=False, locked_attributes=(),
        locked_levels=(), target_precision=int(min(95, max(1, round(200 * current.base_rate)))) / 100, target_recall=70 / 100,
        converted_share=90 / 100, capacity_per_month=None, max_score=100.0,
    )


def _suggestion_future(current: LeadSet, m: ScoringModel, options: dict, answers: tuple, background: bool) -> Future:
    # Fit on the model without its time stamps: every session's starter model is stamped when it was made, and
    # 8 sessions on one dataset then fit 8 equal suggestions at once (+250-500 MB at 1M leads for a minute).
    # What a suggestion keeps of the model's metadata is not shown, and Workbench.apply keeps the session's own.
    m = m.model_copy(update={"metadata": m.metadata.model_copy(update={"created": None, "updated": None})})
    key = (current, m, tuple(sorted(options.items())), answers)
    with _SUGGESTIONS_LOCK:
        future = _SUGGESTIONS.get(key)
        if future is not None:
            _SUGGESTIONS.move_to_end(key)
            return future
        future = Future()
        _SUGGESTIONS[key] = future
        while len(_SUGGESTIONS) > _SUGGESTIONS_KEPT:
            _SUGGESTIONS.popitem(last=False)

    def fit() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(suggest(current, m, **options))
        except BaseException as exc:  # noqa: BLE001 - the page shows a LeadModelError; anything else is raised there too
            future.set_exception(exc)
            if not isinstance(exc, LeadModelError):
                with _SUGGESTIONS_LOCK:
                    if _SUGGESTIONS.get(key) is future:
                        del _SUGGESTIONS[key]  # not a verdict on the data: the next visit tries again

    if background:
        _FITTER.submit(fit)
    else:
        fit()
    return future


def suggestion(current: LeadSet, m: ScoringModel, options: dict, answers: tuple) -> Suggestion:
    """``suggest(current, m, **options)`` under these leak ``answers`` (``leak_key``), fit once per key for every session (raises LeadModelError)."""
    future = _suggestion_future(current, m, options, answers, background=False)
    return future.result()


def prefetch_suggestion(current: LeadSet, m: ScoringModel) -> None:
    """Start fitting the default suggestion of ``current`` and ``m`` in the background (nothing if it is fit or fitting)."""
    try:
        _suggestion_future(current, m, default_suggest_options(current), leak_key(current), background=True)
    except Exception as exc:  # noqa: BLE001 - a prefetch never stops a load; the page fits on its visit
        print(f"suggestion not prefetched: {exc}", file=sys.stderr)


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


_FOUND: OrderedDict[tuple, pd.DataFrame] = OrderedDict()
_FOUND_LOCK = threading.Lock()


def find_leads(current: LeadSet, text: str) -> pd.DataFrame:
    """Up to 50 rows whose lead id (or text) contains ``text``, memoised per search for every session (the explorer
    redraws on every move; a search is a DuckDB query over the stored rows, ~30-50 ms at 50,000 rows)."""
    key = (str(getattr(current, "store_path", None)), current.info.table, text)
    with _FOUND_LOCK:
        if key in _FOUND:
            _FOUND.move_to_end(key)
            return _FOUND[key]
    found = _store_errors(lambda: current.find_rows(text, limit=50), current.name)
    with _FOUND_LOCK:
        _FOUND[key] = found
        while len(_FOUND) > 64:
            _FOUND.popitem(last=False)
    return found


def scored_csv(current: LeadSet, m: ScoringModel) -> bytes:
    """The raw rows in file order with the model's scores appended, as CSV bytes."""
    with tempfile.TemporaryDirectory(prefix="lead-model-export-") as tmp:
        out = _store_errors(lambda: write_scored_csv(current, m, Path(tmp) / "scored.csv"), current.name)
        return out.read_bytes()


def model_from_upload(file_name: str, data: bytes) -> ScoringModel:
    suffix = Path(file_name).suffix.lower()
    yaml_format = True if suffix in (".yaml", ".yml") else False if suffix == ".json" else None
    check_model_size(len(data), file_name, bool(yaml_format))  # before decoding: the upload limit is far larger
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LeadModelError(f"{file_name} is not a text file; upload the .json or .yaml model the app exported.") from None
    return ScoringModel.from_text(text, source=file_name, yaml_format=yaml_format)
