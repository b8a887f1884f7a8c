"""Shared state of the workshop app: the active LeadSet, the current and baseline models, undo history, engine and results.

Everything lives in ``st.session_state`` under the keys below. Pages read it through these
functions and change it only through them (most are widget callbacks), so the rules live
in one place:

- The model is the source of truth and widgets mirror it. A widget's callback turns its
  new value into a model edit (``edit`` pushes onto the undo history); before drawing a
  widget, pages write the model's value into the widget's key (``bind``), so undo, reset
  and a loaded model file move the sliders too.
- LeadSets are cached with ``st.cache_resource`` on what they depend on (the file's path,
  mtime and size; or the stored table, outcome and roles), so the sessions of a workshop
  share one copy. The session keeps a reference to its active LeadSet.
- A points slider's callback reruns only the Designer's results fragment (``RESULTS_FRAGMENT``),
  not the page: nothing in the sidebar depends on a level's points but the slider that was
  moved, and redrawing the sidebar's ~50 elements made every move slower in the browser.
- The ScoringEngine is rebuilt only when the model's layout changes (``engine.matches``).
  A points move is one ``backtest``; a threshold move is ``BacktestResult.at_threshold``,
  no per-lead work. The baseline's result is computed once per baseline.
"""

from __future__ import annotations

import math
import re
import tempfile
import threading
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException

from lead_model.engine.backtest import BacktestResult, backtest
from lead_model.suggest.binning import parse_edges, rebinned
from lead_model.errors import LeadModelError
from lead_model.export.scored import write_scored_csv
from lead_model.workbench.history import ModelHistory
from lead_model.data.leads import LeadSet, load_leads, open_dataset
from lead_model.model.schema import Attribute, Caps, ScoringModel
from lead_model.data.quality import attribute_power, level_table
from lead_model.data.roles import RoleOverride
from lead_model.engine.scoring import ScoringEngine, knock_out_mask
from lead_model.model.starter import starter_attribute, starter_model
from lead_model.data.store import LeadStore, dataset_name_for, default_store_path
from lead_model.engine.thresholds import months_covered

APP_DIR = Path(__file__).resolve().parent.parent
SAMPLE_DATA = APP_DIR / "sample_data" / "leads.csv"
SAMPLE_MODEL = APP_DIR / "sample_data" / "sample_model.yaml"

# session_state keys
STARTED = "started"
LEADS = "leads"
DATASET = "dataset"
HISTORY = "history"
BASELINE = "baseline"
ENGINE = "engine"
RESULT = "result"
BASELINE_RESULT = "baseline_result"
FLASH = "flash"
CACHE = "small_cache"  # level tables, months covered, lead searches: per-dataset memo

# widget keys
THRESHOLD_KEY = "mql_threshold"
CAPACITY_KEY = "capacity"
MONTHS_KEY = "months_covered"
CAP_KEYS = {"fit": "cap_fit", "engagement": "cap_engagement", "total": "cap_total"}
ATTRIBUTES_KEY = "model_attributes"

# fragment keys
RESULTS_FRAGMENT = "designer_results"  # pages/designer.py: tiles, threshold, charts, lead explorer

ROLE_OPTIONS = ("attribute", "ignore", "outcome", "id", "created")
KIND_OPTIONS = ("categorical", "numeric", "boolean")
GROUP_OPTIONS = ("fit", "engagement")

_UNSET = object()
ss = st.session_state


@dataclass(frozen=True)
class DatasetSpec:
    """How the active LeadSet was opened: enough to open it again with other roles."""

    store: str
    name: str
    table: str
    source: str
    outcome: str | None = None
    exclude: tuple[str, ...] = ()
    roles: tuple[tuple[str, str | None, str | None, str | None], ...] = ()  # (column, role, kind, group) overrides


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


# ----- start, messages --------------------------------------------------------------------
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


@contextmanager
def no_traceback():
    """Show a failure as one sentence (st.error) instead of a traceback; the state is left as it was.

    A LeadModelError is the user's to fix and says how; anything else is our bug, logged to
    stderr with its traceback for us and shown to the room as one line.
    """
    try:
        yield
    except LeadModelError as exc:
        st.error(for_app(exc))
    except Exception as exc:  # noqa: BLE001 - the last line of defence in front of a projector
        traceback.print_exc()
        st.error(f"Something went wrong ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no details'}); the model and data are unchanged, so undo or reload the page.")


_timing = threading.local()  # fragments timed on this script thread, outermost first


@contextmanager
def fragment_timing(name: str):
    """With LEAD_MODEL_TIMINGS set, log ``script_ms=`` for a fragment-only rerun, as app.py does for full runs.

    Only the outermost fragment of a rerun logs (the Designer's threshold fragment runs inside
    its results fragment), so each rerun is one line.
    """
    import os
    import sys
    import time

    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    started = time.perf_counter()
    depth = getattr(_timing, "depth", 0)
    _timing.depth = depth + 1
    try:
        yield
    finally:
        _timing.depth = depth
    ctx = get_script_run_ctx()
    if depth == 0 and os.environ.get("LEAD_MODEL_TIMINGS") and ctx is not None and ctx.fragment_ids_this_run:
        print(f"script_ms={(time.perf_counter() - started) * 1000:.1f} fragment={name}", file=sys.stderr, flush=True)


def flash(kind: str, text: str, where: str = "page") -> None:
    """A message for the next draw (callbacks cannot place elements where they belong).

    ``where`` names the spot that shows it (``show_flash(where)``): "page" under the title,
    or a control's own place, so an error about a cap appears next to the caps.
    """
    ss.setdefault(FLASH, []).append((kind, text, where))


def show_flash(where: str = "page") -> None:
    pending = ss.get(FLASH, [])
    for kind, text, _ in [m for m in pending if m[2] == where]:
        getattr(st, kind)(text)
    rest = [m for m in pending if m[2] != where]
    if rest:
        ss[FLASH] = rest
    else:
        ss.pop(FLASH, None)


# ----- reading state ----------------------------------------------------------------------
def leads() -> LeadSet | None:
    return ss.get(LEADS)


def dataset() -> DatasetSpec | None:
    return ss.get(DATASET)


def history() -> ModelHistory:
    return ss[HISTORY]


def model() -> ScoringModel:
    return ss[HISTORY].current


def baseline() -> ScoringModel:
    return ss[BASELINE]


def ensure_app() -> None:
    """Make sure the page runs inside app.py's navigation.

    Streamlit runs an app with a ``pages/`` folder in its old multipage mode until the first
    ``st.navigation`` call of the process; a page opened by URL (``/designer``) on a fresh
    server is then run on its own, without app.py's setup. Leave that mode (as
    ``st.navigation`` itself does) and rerun through app.py. AppTest resets the mode before
    every run and runs the page on its own each time; the session was set up by app.py on
    the first run, and a rerun would drop the clicks the test sends, so pages run as they are.
    """
    from streamlit import config
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory and not config.get_option("global.appTest"):
        PagesManager.uses_pages_directory = False
        st.rerun()


def require_leads() -> LeadSet:
    """The active LeadSet, or a pointer to the Data page and a stop."""
    ensure_app()
    current = leads()
    if current is None or HISTORY not in ss:
        show_flash()
        st.info("No leads loaded yet: open the Data page to load the sample or upload your leads.")
        st.page_link("pages/data.py", label="Go to the Data page", icon=":material/database:")
        st.stop()
    return current


def _memo(key: tuple, compute):
    cache = ss.setdefault(CACHE, {})
    if key not in cache:
        if len(cache) > 256:
            cache.clear()
        cache[key] = compute()
    return cache[key]


# ----- engine and results -----------------------------------------------------------------
def engine(current: LeadSet, m: ScoringModel) -> ScoringEngine:
    """The session's engine for ``m``'s layout, rebuilt only when the layout changes."""
    eng = ss.get(ENGINE)
    if eng is None or eng.leads is not current or not eng.matches(m):
        eng = ScoringEngine(current, m)
        ss[ENGINE] = eng
    return eng


def result(current: LeadSet, m: ScoringModel) -> BacktestResult:
    """The backtest of ``m``: a full one when points/layout changed, ``at_threshold`` when only the threshold moved."""
    key = m.model_copy(update={"mql_threshold": 0})
    hit = ss.get(RESULT)
    if hit is not None and hit[0] is current and hit[1] == key:
        r = hit[2]
        return r if r.threshold == m.mql_threshold else r.at_threshold(m.mql_threshold)
    r = backtest(current, m, engine(current, m))
    ss[RESULT] = (current, key, r)
    return r


def baseline_result(current: LeadSet) -> BacktestResult | None:
    """The baseline model's backtest (None if it no longer fits the data), computed once per baseline."""
    base = ss[BASELINE]
    hit = ss.get(BASELINE_RESULT)
    if hit is not None and hit[0] is current and hit[1] is base:
        return hit[2]
    eng = ss.get(ENGINE)
    shared = eng if eng is not None and eng.leads is current and eng.matches(base) else None
    try:
        r = backtest(current, base, shared)
    except LeadModelError:
        r = None
    ss[BASELINE_RESULT] = (current, base, r)
    return r


def level_rows(current: LeadSet, attr: Attribute) -> list[tuple]:
    """The sliders of one attribute as (value, label, listed, points, leads, conversion_rate) tuples.

    Every level or bin the model lists, data values it does not list, and 'other' and
    'missing' only when some leads fall there or they carry points. Memoised per attribute.
    """

    def rows() -> list[tuple]:
        t = level_table(current, attr)
        keep = t["value"].map(lambda v: not (isinstance(v, str) and v in ("__other__", "__missing__"))) | (t["leads"] > 0) | (t["points"] != 0)
        t = t[keep]
        return list(zip(t["value"], t["label"], t["listed"].tolist(), t["points"].astype(int).tolist(), t["leads"].astype(int).tolist(), t["conversion_rate"].tolist()))

    return _memo(("level_rows", id(current), attr), rows)


def power(current: LeadSet) -> pd.DataFrame:
    """``quality.attribute_power`` of the active dataset, computed once per LeadSet."""
    return _memo(("power", id(current)), lambda: attribute_power(current))


def months(current: LeadSet) -> float:
    return _memo(("months", id(current)), lambda: months_covered(current.created))


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
    """Up to 50 rows whose lead id (or text) contains ``text``, memoised per search."""
    return _memo(("find", id(current), current.info.table, text), lambda: _store_errors(lambda: current.find_rows(text, limit=50), current.name))


# ----- loading data -----------------------------------------------------------------------
_CLI_HINTS = (  # the core's advice names CLI options; the app says where to do it here
    (re.compile(r"pass (it|the outcome) with --outcome( COLUMN)?"), "type the outcome's name in 'Outcome column' and load the file again"),
    (re.compile(r"pass another --store( path)?"), "set LEAD_MODEL_STORE to another file"),
    (re.compile(r"load it with 'lead-model load FILE'"), "load the file again"),
)


def for_app(exc: LeadModelError) -> str:
    """The core's one sentence, with CLI advice (--outcome, --store) said the app's way, starting with a capital.

    The core's sentences start in lower case (the CLI prints them after "Error: "); a first
    word that is a file or column name ("leads.csv ...", "'email' ...") keeps its spelling.
    """
    text = str(exc)
    for pattern, replacement in _CLI_HINTS:
        text = pattern.sub(replacement, text)
    first = text.split(" ", 1)[0]
    if first.isalpha() and first.islower():
        text = text[0].upper() + text[1:]
    return text


Progress = Callable[[float, str], None]


def _no_progress(fraction: float, text: str) -> None:
    pass


def _size_text(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:,.1f} MB" if n_bytes >= 100_000 else f"{n_bytes / 1e3:,.0f} KB"


def load_file(path: str | Path, name: str | None = None, source: str | None = None, outcome: str | None = None, progress: Progress | None = None) -> str:
    """Load a CSV/Parquet file into the store and make it the active dataset; returns what happened to the model.

    ``outcome`` names the converted column (None: detect it). ``progress(fraction, text)``
    is told each step (read and encode, store, fit the model). Raises LeadModelError
    (nothing changes) when the file cannot be used.
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
    progress(1.0, f"Loaded {new.n_leads:,} leads.")
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
    progress(1.0, f"Opened {new.n_leads:,} leads.")
    return message


def _fitting_engine(current: LeadSet, m: ScoringModel) -> ScoringEngine | None:
    """An engine for ``m`` on ``current``, or None if the model names columns the data lacks."""
    try:
        eng = ScoringEngine(current, m)
        knock_out_mask(current, m.knockouts)
        return eng
    except LeadModelError:
        return None


def _adopt(new: LeadSet, spec: DatasetSpec, sample: bool) -> str:
    """Make ``new`` active and pick its model: the sample model for the sample, the current model if it fits, else a starter."""
    old = ss[HISTORY].current if HISTORY in ss else None
    eng = None
    message = ""
    m = None
    if sample and SAMPLE_MODEL.is_file():
        try:
            candidate = ScoringModel.from_file(SAMPLE_MODEL)
            eng = _fitting_engine(new, candidate)
            if eng is not None:
                m, message = candidate, f"Loaded the sample model '{candidate.metadata.name}' as the baseline."
        except LeadModelError:
            pass
    keep = False
    if m is None and old is not None:
        eng = _fitting_engine(new, old)
        if eng is not None:
            m, keep, message = old, True, "Kept the current model: it fits this data."
    if m is None:
        m = starter_model(new)
        eng = ScoringEngine(new, m)
        message = "Started a new model with every attribute at 0 points: give points on the Designer."
    _clear_results()
    ss[LEADS] = new
    ss[DATASET] = spec
    if keep:
        base = ss.get(BASELINE)
        ss[BASELINE] = base if base is not None and _fitting_engine(new, base) is not None else m
    else:
        ss[HISTORY] = ModelHistory(m)
        ss[BASELINE] = m
    ss[ENGINE] = eng
    return message


def _clear_results() -> None:
    for key in (ENGINE, RESULT, BASELINE_RESULT, CACHE):
        ss.pop(key, None)


# ----- roles --------------------------------------------------------------------------------
def roles_table(current: LeadSet) -> pd.DataFrame:
    """The roles as an editable table: column, role, kind, group, missing (share), distinct, reason."""
    rows = []
    for name, role in current.roles.items():
        prof = current.profiles[name]
        rows.append(
            {
                "column": name,
                "role": role.role,
                "kind": role.kind,
                "group": role.group,
                "missing": prof.n_missing / prof.rows if prof.rows else math.nan,
                "distinct": prof.n_distinct,
                "reason": role.reason,
            }
        )
    return pd.DataFrame(rows, columns=["column", "role", "kind", "group", "missing", "distinct", "reason"])


def _clean(value) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value == "":
        return None
    return str(value)


def apply_roles(edited: pd.DataFrame) -> str:
    """Open the active dataset again with the roles in ``edited`` (a ``roles_table`` after editing).

    The outcome is the one row marked outcome (marking a second row moves the outcome
    there and ignores the old outcome column); 'ignore' excludes a column. The model
    follows: columns that stop being attributes leave it, new attributes join at 0 points,
    a changed kind restarts that attribute, a changed group moves it. Raises LeadModelError
    (nothing changes) for an impossible setting.
    """
    current, spec = leads(), dataset()
    rows = [{k: _clean(v) if k != "column" else v for k, v in r.items()} for r in edited.to_dict("records")]
    by_column = {r["column"]: r for r in rows}
    old_outcome = current.outcome
    outcomes = [r["column"] for r in rows if r["role"] == "outcome"]
    if len(outcomes) == 2 and old_outcome in outcomes:
        outcomes.remove(old_outcome)
        by_column[old_outcome]["role"] = "ignore"
    if len(outcomes) != 1:
        raise LeadModelError(f"mark exactly one column as the outcome (the converted yes/no column); {len(outcomes)} are marked.")
    for role in ("id", "created"):
        marked = [r["column"] for r in rows if r["role"] == role]
        if len(marked) > 1:
            raise LeadModelError(f"mark at most one column as {role}; {', '.join(marked)} are.")
    outcome = outcomes[0]
    exclude = set(spec.exclude)
    overrides = {c: (r, k, g) for c, r, k, g in spec.roles}
    for col, row in by_column.items():
        cur = current.roles[col]
        role = row["role"] or "ignore"
        kind = row["kind"] if role == "attribute" else None
        group = row["group"] if role == "attribute" else None
        if role == "attribute" and cur.role == "attribute":
            kind, group = kind or cur.kind, group or cur.group
        if (role, kind, group) == (cur.role, cur.kind, cur.group):
            continue
        if col == outcome:
            exclude.discard(col)
            overrides.pop(col, None)
        elif role == "ignore":
            exclude.add(col)
            overrides.pop(col, None)
        else:
            exclude.discard(col)
            overrides[col] = (role, kind, group)
    exclude.discard(outcome)
    overrides.pop(outcome, None)
    roles = tuple(sorted((c, r, k, g) for c, (r, k, g) in overrides.items()))
    new = _leads_from_store(spec.store, spec.name, current.info.table, outcome, tuple(sorted(exclude)), roles)
    added = [n for n in new.attributes if n not in current.attributes]
    m = reconcile(model(), new, added)
    base = reconcile(baseline(), new, added)
    new_spec = DatasetSpec(spec.store, spec.name, new.info.table, spec.source, outcome, tuple(sorted(exclude)), roles)
    _clear_results()
    ss[LEADS] = new
    ss[DATASET] = new_spec
    ss[HISTORY] = ModelHistory(m)
    ss[BASELINE] = base
    settings = dict(new.info.settings or {})
    settings.update(outcome=outcome, exclude=sorted(exclude), roles={c: {"role": r, "kind": k, "group": g} for c, r, k, g in roles})
    LeadStore(spec.store).update_settings(spec.name, settings)
    changed = len(added) + sum(1 for n in current.attributes if n not in new.attributes)
    return f"Roles applied: {len(new.attributes)} attributes ({changed} changed), outcome '{outcome}'."


def ignore_columns(columns: list[str]) -> str:
    """Set ``columns`` to ignore (e.g. a leaky column) and open the dataset again, as ``apply_roles`` does."""
    table = roles_table(leads())
    table.loc[table["column"].isin(columns), ["role", "kind", "group"]] = ["ignore", None, None]
    return apply_roles(table)


def reconcile(m: ScoringModel, current: LeadSet, added: list[str] = ()) -> ScoringModel:
    """``m`` made to fit ``current``: attributes the data no longer has leave, kind changes restart, groups follow."""
    attrs = []
    for a in m.attributes:
        enc = current.attributes.get(a.name)
        if enc is None:
            continue
        if enc.kind != a.kind and not (a.kind == "categorical" and enc.kind == "boolean"):
            attrs.append(starter_attribute(current, a.name))
        elif enc.group != a.group:
            attrs.append(a.model_copy(update={"group": enc.group}))
        else:
            attrs.append(a)
    names = {a.name for a in attrs}
    attrs += [starter_attribute(current, n) for n in added if n not in names]
    knockouts = [k for k in m.knockouts if k.attribute in current.attributes]
    return m.replace(attributes=tuple(attrs), knockouts=tuple(knockouts))


# ----- model edits (widget callbacks) -----------------------------------------------------
def bind(key: str, value) -> None:
    """Write the model's ``value`` into a widget's key before the widget is drawn (only if it differs)."""
    if ss.get(key, _UNSET) != value:
        ss[key] = value


def edit(new_model: ScoringModel) -> None:
    ss[HISTORY].push(new_model)


def _guarded(fn, *args, where: str = "page") -> None:
    try:
        fn(*args)
    except LeadModelError as exc:
        flash("error", for_app(exc), where)


def points_key(attribute: str, value) -> str:
    level = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return f"points::{attribute}::{level}"


def on_points(attribute: str, value, key: str) -> None:
    """A points slider moved: edit the model, then rerun only the Designer's results (``RESULTS_FRAGMENT``).

    The sidebar is left as drawn: the slider already shows its new value and nothing else
    there depends on points. A refused edit flashes its sentence and reruns the whole page.
    """
    try:
        edit(model().with_points(attribute, value, int(ss[key])))
    except LeadModelError as exc:
        flash("error", for_app(exc))
        return
    try:
        st.rerun(RESULTS_FRAGMENT)
    except StreamlitAPIException:  # the fragment has not been drawn in this session: rerun the page
        return


def on_threshold() -> None:
    edit(model().model_copy(update={"mql_threshold": int(ss[THRESHOLD_KEY])}))


def use_threshold(threshold: int) -> None:
    edit(model().model_copy(update={"mql_threshold": int(threshold)}))


def on_caps() -> None:
    def run():
        caps = {g: (None if ss.get(k) is None else int(ss[k])) for g, k in CAP_KEYS.items()}
        below = [g for g, v in caps.items() if v is not None and v < 0]
        if below:
            raise LeadModelError(
                f"a cap is the most points a group can give, so the {below[0]} cap cannot be below zero ({caps[below[0]]}); leave it empty for no cap."
            )
        edit(model().replace(caps=Caps(**caps)))

    _guarded(run, where="caps")


def edges_key(attribute: str) -> str:
    return f"edges::{attribute}"


def edges_text(attr: Attribute) -> str:
    return ", ".join(f"{e:g}" for e in attr.edges)


def on_edges(attribute: str, key: str) -> None:
    def run():
        attr = model().attribute(attribute)
        edit(model().with_attribute(rebinned(attr, parse_edges(ss[key] or "", attribute))))

    _guarded(run, where=key)


def on_attribute_set(key: str) -> None:
    """Add (at 0 points) or remove attributes from the model to match the multiselect."""

    def run():
        wanted = list(ss[key])
        m = model()
        for name in m.attribute_names:
            if name not in wanted:
                m = m.without_attribute(name)
        for name in wanted:
            if name not in m.attribute_names:
                m = m.with_attribute(starter_attribute(leads(), name))
        edit(m)

    _guarded(run)


def add_knockout(rule: dict) -> None:
    """Append a knock-out rule given as a dict of KnockOut fields (validated by the model).

    A rule that names no condition is refused with a sentence about the form, not the model file.
    """
    if not (rule.get("values") or rule.get("below") is not None or rule.get("at_least") is not None or rule.get("when_missing")):
        what = "a limit (below or at or above)" if leads().attributes[rule["attribute"]].kind == "numeric" else "the values to knock out"
        raise LeadModelError(f"Choose {what} or tick 'Also when missing' before adding a knock-out on '{rule['attribute']}'.")
    m = model()
    edit(m.replace(knockouts=[k.model_dump(mode="json") for k in m.knockouts] + [rule]))


def remove_knockout(index: int) -> None:
    m = model()
    edit(m.replace(knockouts=tuple(k for i, k in enumerate(m.knockouts) if i != index)))


def undo() -> None:
    ss[HISTORY].undo()


def redo() -> None:
    ss[HISTORY].redo()


def reset_to_baseline() -> None:
    ss[HISTORY].reset(ss[BASELINE])


def set_baseline() -> None:
    ss[BASELINE] = model()


def adopt_model(new_model: ScoringModel) -> None:
    """Continue from a model file: it must fit the data (else LeadModelError, nothing changes); it becomes the baseline."""
    current = leads()
    ScoringEngine(current, new_model)
    knock_out_mask(current, new_model.knockouts)
    edit(new_model)
    ss[BASELINE] = new_model


def model_from_upload(file_name: str, data: bytes) -> ScoringModel:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LeadModelError(f"{file_name} is not a text file; upload the .json or .yaml model the app exported.") from None
    suffix = Path(file_name).suffix.lower()
    yaml_format = True if suffix in (".yaml", ".yml") else False if suffix == ".json" else None
    return ScoringModel.from_text(text, source=file_name, yaml_format=yaml_format)


def scored_csv(current: LeadSet, m: ScoringModel) -> bytes:
    """The raw rows in file order with the model's scores appended, as CSV bytes."""
    with tempfile.TemporaryDirectory(prefix="lead-model-export-") as tmp:
        out = _store_errors(lambda: write_scored_csv(current, m, Path(tmp) / "scored.csv", ScoringEngine(current, m)), current.name)
        return out.read_bytes()


# ----- KPI tiles ----------------------------------------------------------------------------
def _pct(x: float) -> str:
    return "–" if x != x else f"{x:.1%}"


def kpi_tiles(r: BacktestResult, b: BacktestResult | None) -> list[tuple[str, str, str | None, str]]:
    """(label, value, delta against the baseline, delta colour) for the five KPI tiles.

    Values: Precision and Recall as percentages with one decimal ("25.3%"), MQLs as
    "1,240 (12.4%)" (count and share of leads), Lift as "2.93x" (lift at the threshold),
    AUC with three decimals; "–" when undefined (no MQLs). Deltas are against the
    baseline model at its own threshold, and omitted when they round to zero.
    """

    def delta(field: str, scale: float, fmt: str, unit: str = "") -> str | None:
        if b is None:
            return None
        now, then = getattr(r, field) * scale, getattr(b, field) * scale
        if now != now or then != then:
            return None
        text = format(now - then, fmt)
        return None if float(text.replace(",", "")) == 0 else text + unit

    lift = "–" if r.lift_at_threshold != r.lift_at_threshold else f"{r.lift_at_threshold:.2f}x"
    return [
        ("Precision", _pct(r.precision), delta("precision", 100, "+.1f", " pts"), "normal"),
        ("Recall", _pct(r.recall), delta("recall", 100, "+.1f", " pts"), "normal"),
        ("MQLs", f"{r.mql:,} ({r.mql_rate:.1%})", delta("mql", 1, "+,"), "off"),
        ("Lift", lift, delta("lift_at_threshold", 1, "+.2f", "x"), "normal"),
        ("AUC", "–" if r.auc != r.auc else f"{r.auc:.3f}", delta("auc", 1, "+.3f"), "normal"),
    ]
