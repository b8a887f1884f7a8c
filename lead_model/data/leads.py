"""A LeadSet: one dataset's leads encoded once to small integer codes, ready to score on every move."""

from __future__ import annotations

import math
import os
import threading
import uuid
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lead_model.errors import LeadModelError, did_you_mean
from lead_model.model.semantics import level_key, parse_number
from lead_model.data.roles import (
    DEFAULT_PLACEHOLDERS,
    FALSE_WORDS,
    MAX_LEVELS,
    TRUE_WORDS,
    ColumnProfile,
    ColumnRole,
    RoleOverride,
    check_outcome,
    guess_amount_column,
    infer_roles,
    placeholder_set,
    positive_value,
)
from lead_model.data.sources import read_file
from lead_model.data.store import ROW_COLUMN, DatasetInfo, LeadStore, check_dataset_name, dataset_name_for, quote

MISSING_CODE = 0  # every categorical/boolean/numeric attribute reserves code 0 for missing
ENGINE_CACHE_SIZE = 3  # model layouts whose scoring engines a LeadSet keeps (each ~100-200 MB at 1M leads)
def _new_pools() -> None:
    """The module's thread pools, made anew in a forked child (its copies would count the parent's threads as their own and never run)."""
    global _STORE_WRITER, _COLUMN_WORKERS
    # One writer thread: stores are written in the order datasets are loaded.
    _STORE_WRITER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lead-store-writer")
    # Columns are profiled and encoded two at a time (this is a 2-core design; see PERFORMANCE.md).
    _COLUMN_WORKERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lead-column-encoder")


_new_pools()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_pools)


@dataclass(frozen=True, eq=False)
class EncodedAttribute:
    """One attribute column, encoded.

    categorical: ``codes`` 0 = missing, 1..K = ``levels`` (most common first), K+1 = other
    (values past the MAX_LEVELS most common). boolean: 0 = missing, 1 = false, 2 = true.
    numeric: ``values`` as float64 with NaN for missing; codes come from bin edges on demand.
    """

    name: str
    kind: str
    group: str
    codes: np.ndarray | None
    levels: tuple[str, ...]
    values: np.ndarray | None
    n_missing: int
    labels: tuple[str, ...] = ()  # boolean: how false/true are spelled in the file

    @property
    def n_codes(self) -> int:
        return len(self.levels) + 2


@dataclass(frozen=True)
class LoadSummary:
    """What happened at load, in numbers and in sentences for people."""

    rows: int
    leads: int
    converted: int
    dropped_no_outcome: int
    duplicate_ids: int
    positive_value: str
    notes: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class LeadSet:
    """All leads of one dataset, converted leads first, with every attribute encoded.

    Rows are ordered converted-first so the converted histogram is a bincount of the
    first ``n_converted`` scores; ``row_index`` maps each lead back to its row in the file.
    """

    name: str
    pending_info: DatasetInfo | Future  # a Future while the rows are still being written to the store
    store_path: Path
    outcome: str | None
    converted: np.ndarray  # bool, converted first
    row_index: np.ndarray  # int64 position in the source file
    attributes: dict[str, EncodedAttribute]
    roles: dict[str, ColumnRole]
    profiles: dict[str, ColumnProfile]
    summary: LoadSummary
    lead_id_column: str | None = None
    created_column: str | None = None
    created: np.ndarray | None = None  # datetime64[D], NaT when missing
    amount_column: str | None = None  # the deal amount per lead, for pipeline figures (roles.guess_amount_column)
    amount: np.ndarray | None = None  # float64 in LeadSet order, NaN when missing
    _bin_cache: dict = field(default_factory=dict, repr=False)
    version: str = field(default_factory=lambda: uuid.uuid4().hex)
    # layout signature -> ScoringEngine; not an init field, so dataclasses.replace starts a new cache
    _engines: OrderedDict = field(default_factory=OrderedDict, init=False, repr=False, compare=False)
    _engines_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def engine(self, model):
        """The ScoringEngine for ``model``'s layout on these leads, built on first use and kept.

        Keyed by ``layout_signature(model)`` (attribute names, kinds, groups, bin edges), so any
        model with the same layout, whatever its points, caps or knock-outs, reuses it: no set-up
        work. The ENGINE_CACHE_SIZE most recently used layouts are kept. Engines are safe to
        share across threads (Streamlit sessions); each keeps its move-by-move score counter.
        """
        from lead_model.engine.scoring import ScoringEngine, layout_signature

        key = layout_signature(model)
        with self._engines_lock:
            engine = self._engines.get(key)
            if engine is None:
                engine = ScoringEngine(self, model)
                self._engines[key] = engine
                while len(self._engines) > ENGINE_CACHE_SIZE:
                    self._engines.popitem(last=False)
            else:
                self._engines.move_to_end(key)
            return engine

    def forget_engines(self) -> None:
        """Drop the kept engines (their memory comes back once no caller holds one)."""
        with self._engines_lock:
            self._engines.clear()

    @property
    def info(self) -> DatasetInfo:
        """The stored dataset; waits for the store write when it is still running (and raises its error)."""
        if isinstance(self.pending_info, Future):
            return self.pending_info.result()
        return self.pending_info

    def wait_stored(self) -> DatasetInfo:
        """Block until the rows are in the store; a failed write raises LeadModelError."""
        return self.info

    @property
    def n_leads(self) -> int:
        return int(self.converted.shape[0])

    @property
    def n_converted(self) -> int:
        return self.summary.converted

    @property
    def base_rate(self) -> float:
        return self.n_converted / self.n_leads

    @property
    def has_outcome(self) -> bool:
        return self.outcome is not None

    def attribute(self, name: str) -> EncodedAttribute:
        try:
            return self.attributes[name]
        except KeyError:
            columns = list(self.profiles)
            if name in columns:
                raise LeadModelError(
                    f"column '{name}' is {self.roles[name].role} ({self.roles[name].reason}), not an attribute; "
                    "make it an attribute or take it out of the model."
                ) from None
            raise LeadModelError(f"the model names column '{name}' but the data has no such column{did_you_mean(name, columns)}; fix the model or load the right data.") from None

    def bin_codes(self, name: str, edges: tuple[float, ...]) -> np.ndarray:
        """numeric attribute -> uint8/uint16 codes: 0 missing, 1 + number of edges <= value."""
        key = (name, tuple(edges))
        cached = self._bin_cache.get(key)
        if cached is None:
            values = self.attribute(name).values
            if values is None:
                raise LeadModelError(f"attribute '{name}' is not numeric, so it has no bins; set its kind to numeric first.")
            codes = np.searchsorted(np.asarray(edges, dtype=np.float64), values, side="right") + 1
            codes[np.isnan(values)] = MISSING_CODE
            cached = codes.astype(np.uint8 if len(edges) + 2 <= 256 else np.uint16)
            if len(self._bin_cache) > 64:
                self._bin_cache.clear()
            self._bin_cache[key] = cached
        return cached

    def rows(self, positions: np.ndarray | list[int] | None = None, limit: int | None = None) -> pd.DataFrame:
        """Raw rows from the store by file position (``__row``), in the order asked."""
        table = quote(self.info.table)  # before connecting: it may wait for this process's store write, which waits for readers
        con = LeadStore(self.store_path).connect(read_only=True)
        try:
            sql = f"SELECT * FROM {table}"
            if positions is not None:
                pos = pd.DataFrame({"pos": np.asarray(positions, dtype=np.int64), "ord": np.arange(len(positions))})
                con.register("wanted", pos)
                sql = f"SELECT t.* FROM {table} t JOIN wanted w ON t.{ROW_COLUMN} = w.pos ORDER BY w.ord"
            elif limit is not None:
                sql += f" ORDER BY {ROW_COLUMN} LIMIT {int(limit)}"
            return con.execute(sql).df()
        finally:
            con.close()

    def find_rows(self, text: str, limit: int = 20) -> pd.DataFrame:
        """Rows whose lead id (or, with no id column, any text column) contains ``text``."""
        cols = [self.lead_id_column] if self.lead_id_column else [c for c, p in self.profiles.items() if p.dtype == "text"]
        if not cols:
            return self.rows(limit=limit)
        cond = " OR ".join(f"CAST({quote(c)} AS VARCHAR) ILIKE ?" for c in cols)
        table = quote(self.info.table)  # before connecting (see rows)
        con = LeadStore(self.store_path).connect(read_only=True)
        try:
            return con.execute(
                f"SELECT * FROM {table} WHERE {cond} ORDER BY {ROW_COLUMN} LIMIT {int(limit)}",
                [f"%{text}%"] * len(cols),
            ).df()
        finally:
            con.close()

    def subset(self, mask: np.ndarray) -> LeadSet:
        """The leads where ``mask`` (bool per lead, LeadSet order) is True, as a LeadSet of their own.

        Converted leads stay first and file order is kept, so everything that works on a
        LeadSet (engines, backtests, suggestions) works on the part; raw rows are still read
        from the same stored dataset. Profiles and roles are those of the whole dataset.
        """
        mask = np.asarray(mask)
        if mask.dtype != bool or mask.shape != self.converted.shape:
            raise LeadModelError(f"a subset of leads needs one True/False per lead ({self.n_leads:,}); got an array of shape {mask.shape}.")
        if not mask.any():
            raise LeadModelError("the subset has no leads; choose a wider range.")

        def part(enc: EncodedAttribute) -> EncodedAttribute:
            codes = enc.codes[mask] if enc.codes is not None else None
            values = enc.values[mask] if enc.values is not None else None
            missing = int(np.isnan(values).sum()) if values is not None else int((codes == MISSING_CODE).sum())
            return replace(enc, codes=codes, values=values, n_missing=missing)

        converted = self.converted[mask]
        n_conv = int(converted.sum())
        summary = replace(self.summary, leads=int(mask.sum()), converted=n_conv)
        return replace(
            self, converted=converted, row_index=self.row_index[mask], attributes={n: part(a) for n, a in self.attributes.items()},
            summary=summary, created=None if self.created is None else self.created[mask],
            amount=None if self.amount is None else self.amount[mask], _bin_cache={}, version=uuid.uuid4().hex,
        )

    def lead_positions(self, rows: np.ndarray) -> np.ndarray:
        """Map file positions (``__row``) to positions in this LeadSet (-1 where absent)."""
        inverse = np.full(int(self.row_index.max()) + 1, -1, dtype=np.int64)
        inverse[self.row_index] = np.arange(self.n_leads)
        rows = np.asarray(rows, dtype=np.int64)
        ok = (rows >= 0) & (rows < inverse.shape[0])
        out = np.full(rows.shape, -1, dtype=np.int64)
        out[ok] = inverse[rows[ok]]
        return out


# ----------------------------------------------------------------------------------
def load_leads(
    source: str | Path,
    outcome: str | None = None,
    *,
    store: LeadStore | str | Path | None = None,
    name: str | None = None,
    exclude: tuple[str, ...] | list[str] = (),
    roles: dict[str, RoleOverride] | None = None,
    placeholders: tuple[str, ...] = DEFAULT_PLACEHOLDERS,
    model=None,
    require_outcome: bool = True,
    wait: bool = True,
    source_label: str | None = None,
) -> LeadSet:
    """Load a CSV/Parquet file (or reopen a stored dataset by name) and encode it.

    ``source_label``: what the store records as the dataset's source instead of the file's path ("upload: leads.csv" for
    a file the app saved to a temporary folder).

    ``source`` is a file path, or the name of a dataset already in the store. A file is
    (re)loaded into the store under ``name`` (default: the file's stem). Roles are inferred
    and then ``outcome``, ``exclude`` and ``roles`` override them. Given a ``model``, its
    attributes are read with the model's kinds and groups (and must exist in the data).
    ``require_outcome=False`` scores new leads: no outcome column is needed, and rows with
    an empty outcome are kept (as not converted). With ``wait=False`` the leads are returned
    as soon as they are encoded, while the rows are still being written to the store.
    """
    store = store if isinstance(store, LeadStore) else LeadStore(store)
    if model is not None:
        roles = {**model_roles(model), **(roles or {})}
        outcome = outcome or model.metadata.outcome
        if placeholders == DEFAULT_PLACEHOLDERS:  # the model's own semantics say what is missing
            placeholders = model.semantics.missing_values
    words = reading_rules(model)
    path = Path(source)
    if path.exists() or (path.suffix and all(d.name != str(source) for d in store.datasets())):  # 'q3.leads' may be a dataset
        # Encode first, store after: a bad file raises before the store is touched.
        stamp = file_stamp(path)  # before reading: a file changed while it is read is not taken for the rows stored
        source_file = read_file(path)
        table = source_file.table
        settings = {
            SOURCE_STAMP_KEY: stamp,
            "outcome": outcome,
            "exclude": list(exclude),
            "placeholders": list(placeholders),
            "roles": {c: {k: v for k, v in vars(o).items() if v} for c, o in (roles or {}).items()},
            READ_NOTES_KEY: list(source_file.notes),  # what the reader chose, shown again when the dataset is reopened
        }
        recorded = source_label or str(path)
        pending = DatasetInfo(name or dataset_name_for(path), "", recorded, table.num_rows, "", settings)
        check_dataset_name(pending.name)
        # Both cores encode first (so the leads are ready soonest); then the rows are written to a
        # new table in the background and swapped in. A file that fails to encode never reaches the store.
        leads = _build(store, pending, table, outcome, tuple(exclude), roles, placeholders, require_outcome, words, source_file.notes)
        staged = _STORE_WRITER.submit(store.stage, table, 2)
        stored = _STORE_WRITER.submit(_publish_staged, store, staged, pending.name, recorded, table.num_rows, settings)
        leads = replace(leads, pending_info=stored)
        if wait:
            leads.wait_stored()
        return leads
    info = store.info(str(source))
    saved = info.settings
    saved_roles = {c: RoleOverride(**o) for c, o in saved.get("roles", {}).items()}
    roles = {**saved_roles, **(roles or {})}
    placeholders = tuple(saved.get("placeholders", placeholders)) if placeholders == DEFAULT_PLACEHOLDERS else placeholders
    return open_dataset(
        store, info, outcome or saved.get("outcome"), tuple(exclude) or tuple(saved.get("exclude", ())), roles, placeholders, require_outcome, words
    )


SOURCE_STAMP_KEY = "source_stamp"  # dataset setting: the file's modification time (ns) and size when it was read


def file_stamp(path: str | Path) -> dict | None:
    """{"mtime_ns", "size"} of the file at ``path`` (None when it cannot be read)."""
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return {"mtime_ns": st.st_mtime_ns, "size": st.st_size}


def is_stored_copy(info: DatasetInfo, path: str | Path) -> bool:
    """Whether stored dataset ``info`` holds the rows of the file at ``path`` as it is now: loaded from that very path, and
    the file not modified since (same modification time and size as when it was read). Loading it again would store the
    same rows under a new table, and every session working on the old one would be told it was replaced."""
    stamp = file_stamp(path)
    return stamp is not None and info.source == str(Path(path).resolve()) and (info.settings or {}).get(SOURCE_STAMP_KEY) == stamp


@dataclass(frozen=True)
class ReadingRules:
    """What a model's semantics change in how a file is encoded (lead_model.model.semantics)."""

    true_words: frozenset[str] = TRUE_WORDS  # how true and false are spelled (compared lower-cased)
    false_words: frozenset[str] = FALSE_WORDS
    listed: dict = field(default_factory=dict)  # column -> levels the model lists: they keep codes of their own, however rare


def reading_rules(model=None) -> ReadingRules:
    """The encoding rules for ``model``: its yes/no words and listed levels (the defaults without a model).

    A listed level must score its own points even when it is not among the MAX_LEVELS most
    common values ("other" is any value that is neither missing nor listed), and a value a
    knock-out names must knock out however rare it is.
    """
    if model is None:
        return ReadingRules()
    listed = {a.name: frozenset(level_key(lv.value) for lv in a.levels) for a in model.attributes if a.kind == "categorical"}
    for rule in model.knockouts:  # a value a knock-out names must be seen too, or a rare one would hide among 'other'
        named = frozenset(level_key(v) for v in rule.values or ())
        if named:
            listed[rule.attribute] = listed.get(rule.attribute, frozenset()) | named
    return ReadingRules(frozenset(model.semantics.true_values), frozenset(model.semantics.false_values), listed)


def _publish_staged(store: LeadStore, staged: Future, name: str, source: str, rows: int, settings: dict) -> DatasetInfo:
    return store.publish(staged.result(), name, source, rows, settings)


def model_roles(model) -> dict[str, RoleOverride]:
    """Role overrides that make each model attribute an attribute of the model's kind and group."""
    return {a.name: RoleOverride(role="attribute", kind=a.kind, group=a.group) for a in model.attributes}


def open_dataset(
    store: LeadStore,
    info: DatasetInfo,
    outcome: str | None,
    exclude: tuple[str, ...] = (),
    roles: dict[str, RoleOverride] | None = None,
    placeholders: tuple[str, ...] = DEFAULT_PLACEHOLDERS,
    require_outcome: bool = True,
    words: ReadingRules | None = None,
) -> LeadSet:
    """Encode a stored dataset into a LeadSet (``words``: the model's reading rules, see ``reading_rules``)."""
    con = store.connect(read_only=True)
    try:
        table = con.sql(f"SELECT * FROM {quote(info.table)} ORDER BY {ROW_COLUMN}").to_arrow_table()
    finally:
        con.close()
    read_notes = tuple((info.settings or {}).get(READ_NOTES_KEY, ()))
    return _build(store, info, table, outcome, exclude, roles, placeholders, require_outcome, words, read_notes)


READ_NOTES_KEY = "read_notes"  # dataset setting: the reader's notes (lead_model.data.sources.read_file), kept for reopening


def _build(store, info, table, outcome, exclude, roles, placeholders, require_outcome=True, words=None, read_notes=()) -> LeadSet:
    row_index = table.column(ROW_COLUMN).to_numpy()
    table = table.drop_columns([ROW_COLUMN])
    profiles, encoded_text = _profile(table, placeholders)
    column_roles = infer_roles(profiles, outcome, exclude, roles, require_outcome)
    return _encode(store, info, table, row_index, profiles, encoded_text, column_roles, placeholders, require_outcome, words, read_notes)


# ----- profiling ---------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class _TextColumn:
    indices: np.ndarray  # int32, -1 for null
    dictionary: list[str]
    counts: np.ndarray  # per dictionary entry
    is_placeholder: np.ndarray  # bool per dictionary entry


def _dtype_of(arrow_type: pa.DataType) -> str:
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "float"
    if pa.types.is_date(arrow_type) or pa.types.is_timestamp(arrow_type):
        return "date"
    return "text"


def _text_column(col: pa.ChunkedArray, placeholders: frozenset[str]) -> _TextColumn:
    enc = pc.dictionary_encode(pc.cast(col, pa.string())).combine_chunks()
    indices = pc.fill_null(enc.indices, -1).to_numpy().astype(np.int32, copy=False)
    # Trim the dictionary rather than every value; " VP" and "VP" become one entry.
    trimmed_arr = pc.utf8_trim_whitespace(enc.dictionary)
    dictionary = trimmed_arr.to_pylist()
    if pc.any(pc.not_equal(trimmed_arr, enc.dictionary)).as_py():
        unique = list(dict.fromkeys(dictionary))
        if len(unique) != len(dictionary):
            position = {d: i for i, d in enumerate(unique)}
            remap = np.array([position[d] for d in dictionary] + [-1], dtype=np.int32)
            indices = remap[indices]  # -1 indexes the appended -1: nulls stay null
            trimmed_arr = pa.array(unique, type=pa.string())
            dictionary = unique
    counts = np.bincount(indices + 1, minlength=len(dictionary) + 1)[1:]
    # vectorised: an id or e-mail column has a million dictionary entries
    is_placeholder = pc.is_in(pc.utf8_lower(trimmed_arr), value_set=pa.array(sorted(placeholders), type=pa.string()))
    is_placeholder = pc.fill_null(is_placeholder, False).to_numpy(zero_copy_only=False).astype(bool)
    return _TextColumn(indices, dictionary, counts, is_placeholder)


def _profile(table: pa.Table, placeholders: tuple[str, ...]) -> tuple[dict[str, ColumnProfile], dict[str, _TextColumn]]:
    ph = placeholder_set(placeholders)
    profiles: dict[str, ColumnProfile] = {}
    text_columns: dict[str, _TextColumn] = {}
    # Columns are independent and Arrow/numpy release the GIL: both cores profile.
    for name, profile, tc in _COLUMN_WORKERS.map(lambda name: _profile_column(table, name, ph), table.column_names):
        profiles[name] = profile
        if tc is not None:
            text_columns[name] = tc
    return profiles, text_columns


def _profile_column(table: pa.Table, name: str, ph: frozenset[str]) -> tuple[str, ColumnProfile, _TextColumn | None]:
    rows = table.num_rows
    col = table.column(name)
    dtype = _dtype_of(col.type)
    n_null = col.null_count
    if dtype in ("text", "boolean"):
        tc = _text_column(col, ph)
        return name, _text_profile(name, dtype, rows, n_null, tc), tc
    if dtype == "date":
        n_distinct = pc.count_distinct(col).as_py()
        return name, ColumnProfile(name, dtype, rows, n_null, 0, {}, int(n_distinct), 0.0, ()), None
    uniq, counts = _number_counts(col)
    return name, _number_profile(name, dtype, rows, uniq, counts), None


def _text_profile(name: str, dtype: str, rows: int, n_null: int, tc: _TextColumn) -> ColumnProfile:
    real = ~tc.is_placeholder
    top = _top_values(tc, real)
    ph_counts = {tc.dictionary[i]: int(tc.counts[i]) for i in np.flatnonzero(tc.is_placeholder) if tc.counts[i]}
    return ColumnProfile(
        name, dtype, rows, n_null, int(sum(ph_counts.values())), ph_counts, int(real.sum()),
        _numeric_share(tc) if dtype == "text" else 0.0, top,
    )


def _number_profile(name: str, dtype: str, rows: int, uniq: np.ndarray, counts: np.ndarray) -> ColumnProfile:
    """``uniq``: the distinct non-missing values, ascending; ``counts``: how often each occurs."""
    top: tuple = ()
    if len(uniq) <= MAX_LEVELS:
        order = np.argsort(-counts, kind="stable")
        top = tuple((_format_number(uniq[i]), int(counts[i])) for i in order)
    low, high = (float(uniq[0]), float(uniq[-1])) if len(uniq) else (math.nan, math.nan)
    return ColumnProfile(name, dtype, rows, int(rows - counts.sum()), 0, {}, int(len(uniq)), 1.0, top, low, high)


def profile_from_counts(name: str, values: pa.Array, counts: np.ndarray, placeholders: tuple[str, ...] = DEFAULT_PLACEHOLDERS) -> ColumnProfile:
    """The profile ``load_leads`` gives a column holding each of ``values`` (distinct, nulls allowed) ``counts[i]`` times.

    For engines that count values where the rows are (Spark): a few distinct values and their
    counts give the loader's own profile, so its outcome rules apply unchanged.
    """
    return _profile_from_counts(name, values, np.asarray(counts, dtype=np.int64), placeholder_set(placeholders))[0]


def _profile_from_counts(name: str, values: pa.Array, counts: np.ndarray, ph: frozenset[str]) -> tuple[ColumnProfile, _TextColumn | None]:
    rows = int(counts.sum())
    dtype = _dtype_of(values.type)
    if dtype not in ("integer", "float"):  # dates as text: an outcome is never a date
        tc = _text_column(pa.chunked_array([values]), ph)
        weighted = np.bincount(tc.indices + 1, weights=counts, minlength=len(tc.dictionary) + 1)[1:].astype(np.int64)
        tc = replace(tc, counts=weighted)
        n_null = int(counts[np.asarray(values.is_null())].sum())
        return _text_profile(name, "boolean" if dtype == "boolean" else "text", rows, n_null, tc), tc
    numbers = _as_float(pa.chunked_array([values]))
    real = ~np.isnan(numbers)
    uniq, which = np.unique(numbers[real], return_inverse=True)
    weighted = np.bincount(which, weights=counts[real], minlength=uniq.size).astype(np.int64)
    return _number_profile(name, dtype, rows, uniq, weighted), None


@dataclass(frozen=True, eq=False)
class OutcomeValues:
    """How ``load_leads`` reads an outcome column, given its distinct values and their counts.

    ``converted[i]`` / ``valid[i]`` say whether a row holding ``values[i]`` is a conversion and
    whether it has an outcome at all (rows without one are left out of a backtest).
    """

    profile: ColumnProfile
    positive_value: str
    converted: np.ndarray  # bool per value
    valid: np.ndarray  # bool per value


def outcome_values(name: str, values: pa.Array, counts: np.ndarray, placeholders: tuple[str, ...] = DEFAULT_PLACEHOLDERS) -> OutcomeValues:
    """The loader's outcome rule (two values, which one means converted, what is missing) from value counts.

    Raises LeadModelError as ``load_leads`` does when the column does not hold two values.
    """
    ph = placeholder_set(placeholders)
    prof, tc = _profile_from_counts(name, values, np.asarray(counts, dtype=np.int64), ph)
    check_outcome(prof)
    converted, valid, pos = _encode_outcome(pa.table({name: values}), prof, tc, ph)
    return OutcomeValues(prof, pos, converted, valid)


def _number_counts(col: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct non-missing values of a numeric column (float64, ascending) and their counts.

    Integers are counted by hashing (pc.value_counts, ~10 ms at 1M rows) instead of sorting
    every value (~60 ms); floats keep np.unique, whose NaN and -0.0 handling the rest expects.
    """
    if pa.types.is_integer(col.type):
        bounds = pc.min_max(col).as_py()
        if bounds["min"] is None or max(abs(bounds["min"]), abs(bounds["max"])) < 2**53:  # exact as float64
            vc = pc.value_counts(col.drop_null() if col.null_count else col)
            uniq = vc.field("values").to_numpy(zero_copy_only=False).astype(np.float64)
            counts = vc.field("counts").to_numpy(zero_copy_only=False).astype(np.int64)
            order = np.argsort(uniq, kind="stable")
            return uniq[order], counts[order]
    values = _as_float(col)
    return np.unique(values[~np.isnan(values)], return_counts=True)


def _top_values(tc: _TextColumn, real: np.ndarray) -> tuple[tuple[str, int], ...]:
    """The MAX_LEVELS + 1 most common real values, most common first, ties by name."""
    candidates = np.flatnonzero(real)
    if candidates.size > 4 * MAX_LEVELS:
        # only the most common few hundred can make the list; sorting a million names is slow
        keep = np.argsort(-tc.counts[candidates], kind="stable")[: 4 * MAX_LEVELS]
        candidates = candidates[keep]
    names = np.array([tc.dictionary[i] for i in candidates], dtype=object).astype(str)
    order = candidates[np.lexsort((names, -tc.counts[candidates]))] if candidates.size else candidates
    return tuple((tc.dictionary[i], int(tc.counts[i])) for i in order[: MAX_LEVELS + 1])


def _numeric_share(tc: _TextColumn) -> float:
    real = np.flatnonzero(~tc.is_placeholder & (tc.counts > 0))
    if real.size == 0:
        return 0.0
    if real.size > 5000:  # a sample of the distinct values is enough to tell text from numbers
        real = real[np.linspace(0, real.size - 1, 5000).astype(int)]
    parsed = np.array([parse_number(tc.dictionary[i]) for i in real])
    weights = tc.counts[real]
    return float(weights[~np.isnan(parsed)].sum() / weights.sum())


def _as_float(col: pa.ChunkedArray) -> np.ndarray:
    return pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64, copy=False)


def _format_number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


# ----- encoding ----------------------------------------------------------------------
def _encode(
    store: LeadStore,
    info: DatasetInfo,
    table: pa.Table,
    row_index: np.ndarray,
    profiles: dict[str, ColumnProfile],
    text_columns: dict[str, _TextColumn],
    roles: dict[str, ColumnRole],
    placeholders: tuple[str, ...],
    require_outcome: bool = True,
    words: ReadingRules | None = None,
    read_notes: tuple[str, ...] = (),
) -> LeadSet:
    outcome = next((n for n, r in roles.items() if r.role == "outcome"), None)
    if outcome is None:
        y_all, keep, pos_value = np.zeros(table.num_rows, dtype=bool), np.ones(table.num_rows, dtype=bool), ""
    else:
        y_all, keep, pos_value = _encode_outcome(table, profiles[outcome], text_columns.get(outcome), placeholder_set(placeholders))
        if not require_outcome:
            keep = np.ones(table.num_rows, dtype=bool)
    rows = table.num_rows
    # Converted leads first (stable, so each half keeps file order).
    order = np.flatnonzero(keep)
    order = order[np.argsort(~y_all[order], kind="stable")]
    converted = y_all[order]
    n_conv = int(converted.sum())
    if require_outcome and (n_conv == 0 or n_conv == converted.size):
        raise LeadModelError(
            f"outcome '{outcome}' has no {'converted' if n_conv == 0 else 'unconverted'} leads, so nothing can be backtested; "
            "load history with both outcomes."
        )
    wanted = [(name, role) for name, role in roles.items() if role.role == "attribute"]
    encoded = _COLUMN_WORKERS.map(lambda nr: _encode_attribute(table.column(nr[0]), nr[1], profiles[nr[0]], text_columns.get(nr[0]), order, words), wanted)
    attributes: dict[str, EncodedAttribute] = {name: enc for (name, _), enc in zip(wanted, encoded)}
    created_col = next((n for n, r in roles.items() if r.role == "created"), None)
    created = None
    if created_col is not None:
        try:
            created = pc.cast(table.column(created_col), pa.timestamp("s")).to_numpy(zero_copy_only=False).astype("datetime64[D]")[order]
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            example = next((v for v in table.column(created_col).drop_null().slice(0, 1).to_pylist()), None)
            raise LeadModelError(
                f"column '{created_col}' is not a date column (it holds values such as {example!r}), so it cannot be the created date; "
                "choose a column of dates (e.g. 2025-03-31) or none."
            ) from None
    id_col = next((n for n, r in roles.items() if r.role == "id"), None)
    amount_col = guess_amount_column(profiles, roles)
    amount = _numeric_values(table.column(amount_col), text_columns.get(amount_col))[order] if amount_col else None
    dup_ids = profiles[id_col].rows - profiles[id_col].n_missing - profiles[id_col].n_distinct if id_col else 0

    notes = list(read_notes)
    dropped = int(rows - order.size)
    if dropped:
        notes.append(f"{dropped:,} rows have no value in '{outcome}' and were left out.")
    for name, prof in profiles.items():
        if prof.placeholder_values and roles[name].role == "attribute":
            shown = ", ".join(f"'{v}' ({c:,})" for v, c in sorted(prof.placeholder_values.items(), key=lambda kv: -kv[1])[:4])
            notes.append(f"'{name}': placeholder values {shown} treated as missing.")
    if dup_ids:
        notes.append(f"'{id_col}' repeats for {dup_ids:,} rows (duplicate leads); they are all scored.")
    summary = LoadSummary(rows, int(order.size), n_conv, dropped, int(dup_ids), pos_value, tuple(notes))
    return LeadSet(
        name=info.name, pending_info=info, store_path=store.path, outcome=outcome, converted=converted,
        row_index=row_index[order].astype(np.int64), attributes=attributes, roles=roles, profiles=profiles,
        summary=summary, lead_id_column=id_col, created_column=created_col, created=created,
        amount_column=amount_col, amount=amount,
    )


def _encode_outcome(table: pa.Table, prof: ColumnProfile, tc: _TextColumn | None, ph: frozenset[str]) -> tuple[np.ndarray, np.ndarray, str]:
    pos = positive_value(prof)
    if tc is not None:
        is_pos = np.array([d == pos for d in tc.dictionary] + [False], dtype=bool)
        valid = np.append(~tc.is_placeholder, False)
        idx = np.where(tc.indices < 0, len(tc.dictionary), tc.indices)
        return is_pos[idx], valid[idx], pos
    values = _as_float(table.column(prof.name))
    return values == float(pos), ~np.isnan(values), pos


def _encode_attribute(
    col: pa.ChunkedArray, role: ColumnRole, prof: ColumnProfile, tc: _TextColumn | None, order: np.ndarray,
    words: ReadingRules | None = None,
) -> EncodedAttribute:
    if role.kind == "numeric":
        values = _numeric_values(col, tc)[order]
        return EncodedAttribute(role.name, "numeric", role.group, None, (), values, int(np.isnan(values).sum()))
    if tc is None:  # a numeric column scored by level (few distinct numbers)
        tc = _text_column(pc.cast(col, pa.string()) if not pa.types.is_floating(col.type) else _float_labels(col), frozenset())
    if role.kind == "boolean":
        lookup = np.zeros(len(tc.dictionary) + 1, dtype=np.uint8)
        labels = ["false", "true"]
        rules = words or reading_rules()
        true_words, false_words = rules.true_words, rules.false_words
        for i, d in enumerate(tc.dictionary):
            low = d.lower()
            if tc.is_placeholder[i]:
                continue
            if low in true_words:
                lookup[i], labels[1] = 2, d
            elif low in false_words:
                lookup[i], labels[0] = 1, d
            else:
                raise LeadModelError(f"column '{role.name}' has value '{d}', which is not yes/no or true/false; make it categorical.")
        codes = lookup[np.where(tc.indices < 0, len(tc.dictionary), tc.indices)][order]
        return EncodedAttribute(role.name, "boolean", role.group, codes, ("false", "true"), None, int((codes == 0).sum()), tuple(labels))
    # categorical: most common level first; past MAX_LEVELS values share the 'other' code.
    real = np.flatnonzero(~tc.is_placeholder & (tc.counts > 0))
    names = np.array(tc.dictionary, dtype=object)[real].astype(str) if real.size else np.array([], dtype=str)
    ranked = real[np.lexsort((names, -tc.counts[real]))] if real.size else real
    kept = ranked[:MAX_LEVELS]
    listed = (words or reading_rules()).listed.get(role.name)
    if listed and ranked.size > MAX_LEVELS:  # a rare level the model lists keeps its own code
        rare = [i for i in ranked[MAX_LEVELS:] if tc.dictionary[i] in listed]
        kept = np.concatenate((kept, np.asarray(rare, dtype=kept.dtype))) if rare else kept
    lookup = np.full(len(tc.dictionary) + 1, len(kept) + 1, dtype=np.int32)
    lookup[np.flatnonzero(tc.is_placeholder)] = MISSING_CODE
    lookup[-1] = MISSING_CODE
    lookup[kept] = np.arange(1, len(kept) + 1)
    dtype = np.uint8 if len(kept) + 2 <= 256 else np.uint16
    codes = lookup[np.where(tc.indices < 0, len(tc.dictionary), tc.indices)].astype(dtype)[order]
    levels = tuple(tc.dictionary[i] for i in kept)
    return EncodedAttribute(role.name, "categorical", role.group, codes, levels, None, int((codes == 0).sum()))


def _numeric_values(col: pa.ChunkedArray, tc: _TextColumn | None) -> np.ndarray:
    """A column as float64 in file order, NaN for missing (text read with parse_number, placeholders missing)."""
    if tc is None:
        return _as_float(col)
    parsed = np.array([math.nan if ph else parse_number(d) for d, ph in zip(tc.dictionary, tc.is_placeholder)] + [math.nan])
    return parsed[np.where(tc.indices < 0, len(tc.dictionary), tc.indices)]


def _float_labels(col: pa.ChunkedArray) -> pa.ChunkedArray:
    values = _as_float(col)
    labels = np.array([None if math.isnan(v) else _format_number(v) for v in values], dtype=object)
    return pa.chunked_array([pa.array(labels, type=pa.string())])


# ----- leads already in memory -------------------------------------------------------
def leads_from_table(
    table: pa.Table | pd.DataFrame,
    outcome: str | None = None,
    *,
    roles: dict[str, RoleOverride] | None = None,
    exclude: tuple[str, ...] | list[str] = (),
    placeholders: tuple[str, ...] = DEFAULT_PLACEHOLDERS,
    model=None,
    name: str = "in-memory",
    require_outcome: bool = True,
) -> LeadSet:
    """Encode rows already in memory (an Arrow table or DataFrame, one row per lead) into a LeadSet.

    Profiles, roles and codes are what ``load_leads`` gives for a file read to the same column
    types, so scoring, backtests and suggestions work on it. Nothing is stored: the set's
    ``rows``, ``find_rows``, ``info`` and scored-CSV export raise LeadModelError.
    """
    if isinstance(table, pd.DataFrame):
        try:
            table = pa.Table.from_pandas(table, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise LeadModelError(f"the leads table could not be read: {str(exc).splitlines()[0]}; give each column values of one type.") from None
    if not isinstance(table, pa.Table):
        raise LeadModelError(f"leads_from_table takes a pyarrow Table or a pandas DataFrame, not {type(table).__name__}.")
    if table.num_rows == 0:
        raise LeadModelError("the leads table has columns but no rows; pass at least one lead.")
    if ROW_COLUMN in table.column_names:
        raise LeadModelError(f"the leads table has a column named '{ROW_COLUMN}', which the store reserves; rename it.")
    if model is not None:  # as load_leads reads a model's attributes
        roles = {**model_roles(model), **(roles or {})}
        outcome = outcome or model.metadata.outcome
        if placeholders == DEFAULT_PLACEHOLDERS:
            placeholders = model.semantics.missing_values
    table = table.add_column(0, ROW_COLUMN, pa.array(np.arange(table.num_rows, dtype=np.int64)))
    # ":memory:" is DuckDB's file-less database: reading rows finds no dataset and writes nothing.
    leads = _build(LeadStore(":memory:"), DatasetInfo(name, "", "in memory", table.num_rows, "", {}), table, outcome, tuple(exclude), roles,
                   placeholders, require_outcome, reading_rules(model))
    unstored: Future = Future()
    unstored.set_exception(LeadModelError(f"the leads '{name}' were built in memory, so no store holds their raw rows; load the file with load_leads to read or export rows."))
    return replace(leads, pending_info=unstored)
