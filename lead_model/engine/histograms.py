"""Score histograms: leads and converted leads counted by score, kept up to date move by move.

Every backtest metric comes from two histograms over the total score (all leads, converted
leads) and two over the fit score (for grades). They are read off a small grid that counts
leads per (fit score, engagement score) cell, with caps applied on the grid, not per lead.

A slider move changes the points of one level (or bin) of one attribute, and only the leads
holding that level change cell, all by the same number of points. So the grid is kept from
one move to the next: the moved leads are counted once in their old cells, and those counts
are taken out and put back shifted by the points change. A move costs a few passes over the
leads of the moved level, not over every lead. Moves that touch most leads, or new knock-out
rules, are recounted from scratch.

When the score ranges are too wide for a grid (every points value far from zero), the counter
keeps each lead's fit and engagement score and 1-D histograms of the total (group caps applied
per lead) and of the uncapped fit score instead; a move recounts only the moved level's leads:
their old totals are taken out and their new ones put in. The total cap is applied when the
histograms are read, by folding every count above the cap onto it.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from lead_model.model.schema import ScoringModel
from lead_model.engine.scoring import ScoringEngine, attribute_codes, points_vector

GRID_MAX_CELLS = 1 << 18  # larger (fit x engagement) grids are not kept; 1-D histograms are kept instead
# A recount on the 1-D path gathers the engagement scores here (np.take releases the GIL)
# while the calling thread scores fit and counts it (np.bincount holds the GIL): two cores.
_OVERLAP = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lead-score-overlap")
DELTA_MAX_SHARE = 0.75  # a move touching a larger share of the leads is recounted (measured: delta 3 ms at 50%, recount 8 ms at 1M)


@dataclass(frozen=True, eq=False)
class ScoreHistograms:
    """Counts per score for leads that are not knocked out, plus the knocked-out totals.

    ``leads[i]``/``converted[i]`` count leads with total score ``low + i``; ``fit_*`` the
    same for the fit score of every lead (knocked out or not), from ``fit_low``.
    """

    low: int
    leads: np.ndarray
    converted: np.ndarray
    knocked_out: int
    knocked_out_converted: int
    fit_low: int
    fit_leads: np.ndarray
    fit_converted: np.ndarray

    @property
    def n_leads(self) -> int:
        return int(self.leads.sum()) + self.knocked_out

    @property
    def n_converted(self) -> int:
        return int(self.converted.sum()) + self.knocked_out_converted


def count_scores(engine: ScoringEngine, model: ScoringModel) -> ScoreHistograms:
    """Count ``engine.leads`` by score under ``model``: the only per-lead work a points move does.

    The engine keeps a ScoreCounter, so successive calls with nearby models are incremental.
    """
    return score_counter(engine).histograms(model)


def score_counter(engine: ScoringEngine) -> ScoreCounter:
    """The ScoreCounter ``engine`` keeps between calls (made on first use): its ``last_move`` and ``mode`` say how the last call was answered."""
    counter = engine.__dict__.get("_score_counter")
    if counter is None:
        counter = engine.__dict__.setdefault("_score_counter", ScoreCounter(engine))
    return counter


# ----- the grid ----------------------------------------------------------------------
@dataclass
class _Grid:
    """Lead counts per (fit, engagement) cell: row f - fit_low, column e - engagement_low."""

    fit_low: int
    fit_high: int
    engagement_low: int
    engagement_high: int
    cells: dict[str, np.ndarray]  # "all", "converted", and "ko_all", "ko_converted" when any lead is knocked out

    @property
    def width(self) -> int:
        return self.engagement_high - self.engagement_low + 1

    @property
    def rows(self) -> int:
        return self.fit_high - self.fit_low + 1

    def reshaped(self, fit_low: int, fit_high: int, engagement_low: int, engagement_high: int) -> _Grid:
        """The same counts on other bounds (cells outside the new bounds must be empty)."""
        if (fit_low, fit_high, engagement_low, engagement_high) == (self.fit_low, self.fit_high, self.engagement_low, self.engagement_high):
            return self
        new = _Grid(fit_low, fit_high, engagement_low, engagement_high, {})
        # the overlap of the two bounds, in each grid's own row/column numbers
        f0, f1 = max(fit_low, self.fit_low), min(fit_high, self.fit_high)
        e0, e1 = max(engagement_low, self.engagement_low), min(engagement_high, self.engagement_high)
        for name, cells in self.cells.items():
            grid = np.zeros((new.rows, new.width), dtype=np.int64)
            if f0 <= f1 and e0 <= e1:
                old = cells.reshape(self.rows, self.width)
                grid[f0 - fit_low : f1 - fit_low + 1, e0 - engagement_low : e1 - engagement_low + 1] = old[
                    f0 - self.fit_low : f1 - self.fit_low + 1, e0 - self.engagement_low : e1 - self.engagement_low + 1
                ]
            new.cells[name] = grid.ravel()
        return new


@dataclass
class _State:
    """What the counter knows after a move: the model, each lead's group scores and the grid."""

    model: ScoringModel
    vectors: list[np.ndarray]  # points per code, per model attribute
    fit: np.ndarray  # int32 per lead: fit score - fit_base (uncapped)
    engagement: np.ndarray  # int32 per lead: engagement score - engagement_base (uncapped)
    fit_base: int
    engagement_base: int
    knockouts: tuple
    knocked_out: np.ndarray  # bool per lead
    grid: _Grid


class ScoreCounter:
    """Keeps the score grid of one engine's leads up to date as the model moves.

    Thread-safe: Streamlit sessions sharing an engine take turns.
    """

    def __init__(self, engine: ScoringEngine):
        self.engine = engine
        self.leads = engine.leads
        self._lock = threading.Lock()
        self._state: _State | None = None
        self._linear: _LinearState | None = None
        self._index_buffers: dict[str, np.ndarray] = {}  # per lead, for recounts: "cell" intp, "total" int32
        self._counts: dict[int, np.ndarray] = {}  # attribute index -> leads per code
        self._positions: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # attribute index -> (lead positions by code, code starts)
        self.last_move = "none"  # "delta" or "recount": how the last call was answered (for benchmarks and tests)

    @property
    def mode(self) -> str | None:
        """What the counter keeps between moves: "grid" (fit x engagement cells), "linear" (1-D histograms) or None (nothing yet)."""
        if self._state is not None:
            return "grid"
        return "linear" if self._linear is not None else None

    def forget(self) -> None:
        """Drop the kept grid: the next call recounts every lead."""
        with self._lock:
            self._state = None
            self._linear = None

    def histograms(self, model: ScoringModel) -> ScoreHistograms:
        with self._lock:
            vectors = [points_vector(self.leads, a) for a in model.attributes]
            fit_bounds, engagement_bounds = _bounds(model, vectors, "fit"), _bounds(model, vectors, "engagement")
            cells = (fit_bounds[1] - fit_bounds[0] + 1) * (engagement_bounds[1] - engagement_bounds[0] + 1)
            # Hysteresis: moves that wander around the limit must not flip between the two ways
            # of counting, as each flip is a full recount.
            if cells > GRID_MAX_CELLS or (self._linear is not None and cells > GRID_MAX_CELLS // 4):
                self._state = None
                return self._linear_histograms(model, vectors)
            self._linear = None
            state = self._state
            try:
                moved = state is not None and self._moved(state, model, vectors)
            except BaseException:
                self._state = None  # a half-applied move must not be built on
                raise
            if not moved:
                self._state = state = self._recount(model, vectors)
                self.last_move = "recount"
            else:
                self.last_move = "delta"
            return _grid_histograms(state.grid, model)

    # ----- a move: only the leads of the changed levels --------------------------------
    def _moved(self, state: _State, model: ScoringModel, vectors: list[np.ndarray]) -> bool:
        """Bring ``state`` to ``model`` by moving the leads of each changed level; False if a recount is cheaper."""
        if state.knockouts != _knockout_key(model):
            return False
        plan = self._plan(state.vectors, model, vectors, ("fit", "engagement"))
        if plan is None:
            return False
        changes, shifts, shifted = plan
        state.fit_base += shifts["fit"]
        state.engagement_base += shifts["engagement"]
        g = state.grid
        grid = _Grid(g.fit_low + shifts["fit"], g.fit_high + shifts["fit"], g.engagement_low + shifts["engagement"], g.engagement_high + shifts["engagement"], g.cells)
        # While changes are applied one by one a lead can hold old points in one attribute and
        # new in another: the working grid covers both.
        final_f, final_e = _bounds(model, vectors, "fit"), _bounds(model, vectors, "engagement")
        mixed = [np.concatenate((a, b)) for a, b in zip(shifted, vectors)]
        work_f, work_e = _bounds(model, mixed, "fit"), _bounds(model, mixed, "engagement")
        grid = grid.reshaped(
            min(work_f[0], grid.fit_low), max(work_f[1], grid.fit_high),
            min(work_e[0], grid.engagement_low), max(work_e[1], grid.engagement_high),
        )
        npos = self.leads.n_converted
        width, size = grid.width, grid.rows * grid.width
        fit_offset = state.fit_base - grid.fit_low
        engagement_offset = state.engagement_base - grid.engagement_low
        for i, code, change in changes:
            positions, starts = self._index(i)
            idx = positions[starts[code] : starts[code + 1]]
            fit, engagement = state.fit[idx], state.engagement[idx]
            cell = (fit + fit_offset).astype(np.intp)
            cell *= width
            cell += engagement
            cell += engagement_offset
            in_fit = model.attributes[i].group == "fit"
            shift = change * width if in_fit else change
            n_conv = int(np.searchsorted(idx, npos))  # leads are ordered converted first
            _shift_counts(grid.cells["all"], np.bincount(cell, minlength=size), shift)
            _shift_counts(grid.cells["converted"], np.bincount(cell[:n_conv], minlength=size), shift)
            if "ko_all" in grid.cells:
                ko = state.knocked_out[idx]
                if ko.any():
                    _shift_counts(grid.cells["ko_all"], np.bincount(cell[ko], minlength=size), shift)
                    _shift_counts(grid.cells["ko_converted"], np.bincount(cell[:n_conv][ko[:n_conv]], minlength=size), shift)
            if in_fit:
                state.fit[idx] = fit + change
            else:
                state.engagement[idx] = engagement + change
        state.grid = grid.reshaped(*final_f, *final_e)
        state.model, state.vectors = model, vectors
        return True

    def _plan(self, old_vectors: list[np.ndarray], model: ScoringModel, vectors: list[np.ndarray], shiftable: tuple[str, ...]):
        """The moves from ``old_vectors`` to ``vectors``: ([(attribute index, code, points change)],
        points every lead gains per group, the old vectors plus those gains); None when a recount
        is cheaper. Only groups in ``shiftable`` may give a change to every lead at once."""
        changes = []  # (attribute index, code, points change)
        shifts = {"fit": 0, "engagement": 0}  # points every lead gains in each group
        shifted = []
        touched = 0
        for i, (old, new) in enumerate(zip(old_vectors, vectors)):
            if old.shape != new.shape:
                return None
            change = new.astype(np.int64) - old
            if not change.any():
                shifted.append(old)
                continue
            counts = self._code_counts(i)
            # The change most of this attribute's leads share is given to every lead at once (it
            # only moves the histograms' bounds); the leads of the other codes then move back. So a
            # move costs the smaller side: raising a level that holds 90% of the leads moves 10%.
            common = 0
            if model.attributes[i].group in shiftable:
                values, which = np.unique(change, return_inverse=True)
                common = int(values[np.argmax(np.bincount(which, weights=counts))])
            shifts[model.attributes[i].group] += common
            shifted.append(old + common)
            for c in np.flatnonzero((change != common) & (counts > 0)):
                changes.append((i, int(c), int(change[c]) - common))
                touched += int(counts[c])
            if touched > DELTA_MAX_SHARE * self.leads.n_leads:  # a recount: stop planning (every value changed: ~0.5 ms)
                return None
        return changes, shifts, shifted

    def _code_counts(self, i: int) -> np.ndarray:
        """Leads per code of attribute i (without sorting the leads: a move that ends in a recount needs no positions)."""
        hit = self._positions.get(i)
        if hit is not None:
            return np.diff(hit[1])
        counts = self._counts.get(i)
        if counts is None:
            codes, n_codes = attribute_codes(self.leads, self.engine.model_attributes[i])
            counts = self._counts[i] = np.bincount(codes, minlength=n_codes)
        return counts

    def _index(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Lead positions grouped by code (ascending within a code) and each code's start, for attribute i."""
        hit = self._positions.get(i)
        if hit is None:
            codes, n_codes = attribute_codes(self.leads, self.engine.model_attributes[i])
            positions = np.argsort(codes, kind="stable")
            starts = np.zeros(n_codes + 1, dtype=np.intp)
            np.cumsum(np.bincount(codes, minlength=n_codes), out=starts[1:])
            hit = self._positions[i] = (positions, starts)
        return hit

    # ----- a recount: every lead ----------------------------------------------------------
    def _recount(self, model: ScoringModel, vectors: list[np.ndarray]) -> _State:
        n = self.leads.n_leads
        old = self._state
        out = {"fit": old.fit, "engagement": old.engagement} if old is not None else {
            "fit": np.empty(n, dtype=np.int32), "engagement": np.empty(n, dtype=np.int32)}
        bounds = self.engine.group_scores(model, out, caps=False, vectors=vectors)
        (flo, fhi), (elo, ehi) = bounds["fit"], bounds["engagement"]
        grid = _Grid(flo, fhi, elo, ehi, {})
        size = grid.rows * grid.width
        cell = self._index_buffer()
        np.multiply(out["fit"], grid.width, out=cell)
        np.add(cell, out["engagement"], out=cell)
        npos = self.leads.n_converted
        grid.cells["all"] = np.bincount(cell, minlength=size)
        grid.cells["converted"] = np.bincount(cell[:npos], minlength=size)
        ko = self.engine.knocked_out(model.knockouts)
        ko_idx = np.flatnonzero(ko)
        if ko_idx.size:
            grid.cells["ko_all"] = np.bincount(cell[ko_idx], minlength=size)
            grid.cells["ko_converted"] = np.bincount(cell[ko_idx[ko_idx < npos]], minlength=size)
        return _State(model, vectors, out["fit"], out["engagement"], flo, elo, _knockout_key(model), ko, grid)

    def _index_buffer(self, name: str = "cell", dtype=np.intp) -> np.ndarray:
        """A scratch array per lead, the counter's own (the engine's buffers serve other callers)."""
        buf = self._index_buffers.get(name)
        if buf is None:
            buf = self._index_buffers[name] = np.empty(self.leads.n_leads, dtype=dtype)
        return buf

    # ----- 1-D histograms: score ranges too wide for a grid ---------------------------------
    def _linear_histograms(self, model: ScoringModel, vectors: list[np.ndarray]) -> ScoreHistograms:
        state = self._linear
        try:
            moved = state is not None and self._moved_linear(state, model, vectors)
        except BaseException:
            self._linear = None  # a half-applied move must not be built on
            raise
        if not moved:
            self._linear = state = self._recount_linear(model, vectors)
            self.last_move = "recount"
        else:
            self.last_move = "delta"
        return _linear_read(state, model)

    def _recount_linear(self, model: ScoringModel, vectors: list[np.ndarray]) -> _LinearState:
        n = self.leads.n_leads
        old = self._linear
        out = {"fit": old.fit, "engagement": old.engagement} if old is not None else {
            "fit": np.empty(n, dtype=np.int32), "engagement": np.empty(n, dtype=np.int32)}
        self._linear = None
        npos = self.leads.n_converted
        engagement = _OVERLAP.submit(self.engine.group_scores, model, out, False, vectors, ("engagement",))
        try:
            flo, fhi = self.engine.group_scores(model, out, caps=False, vectors=vectors, groups=("fit",))["fit"]
            fit_counts = {"all": np.bincount(out["fit"], minlength=fhi - flo + 1), "converted": np.bincount(out["fit"][:npos], minlength=fhi - flo + 1)}
        finally:
            elo, ehi = engagement.result()["engagement"]
        caps = (model.caps.fit, model.caps.engagement)
        t_low, t_high = _total_bounds((flo, fhi), (elo, ehi), caps)
        ko = self.engine.knocked_out(model.knockouts)
        state = _LinearState(model, vectors, out["fit"], out["engagement"], flo, elo, _knockout_key(model), ko, caps,
                             _Axis(t_low, {}), _Axis(flo, fit_counts))
        size = t_high - t_low + 1
        total = _total_index(state, out["fit"], out["engagement"], self._index_buffer("total", np.int32))
        counts = state.total.counts
        counts["all"] = np.bincount(total, minlength=size)
        counts["converted"] = np.bincount(total[:npos], minlength=size)
        ko_idx = np.flatnonzero(ko)
        if ko_idx.size:
            counts["ko_all"] = np.bincount(total[ko_idx], minlength=size)
            counts["ko_converted"] = np.bincount(total[ko_idx[ko_idx < npos]], minlength=size)
        return state

    def _moved_linear(self, state: _LinearState, model: ScoringModel, vectors: list[np.ndarray]) -> bool:
        """Bring ``state`` to ``model`` by recounting the leads of each changed level; False if a full recount is cheaper."""
        caps = (model.caps.fit, model.caps.engagement)
        if state.knockouts != _knockout_key(model) or state.caps != caps:
            return False
        # A change every lead of a group shares moves that group's histograms only while no group
        # cap bends them.
        plan = self._plan(state.vectors, model, vectors, tuple(g for g, cap in zip(("fit", "engagement"), caps) if cap is None))
        if plan is None:
            return False
        changes, shifts, shifted = plan
        state.fit_base += shifts["fit"]
        state.engagement_base += shifts["engagement"]
        total_axis = state.total.shifted(shifts["fit"] + shifts["engagement"])
        fit_axis = state.fit_axis.shifted(shifts["fit"])
        # While changes are applied one by one a lead can hold old points in one attribute and
        # new in another: the working histograms cover both.
        mixed = [np.concatenate((a, b)) for a, b in zip(shifted, vectors)]
        work_f, work_e = _bounds(model, mixed, "fit"), _bounds(model, mixed, "engagement")
        work_t = _total_bounds(work_f, work_e, caps)
        total_axis = total_axis.covering(min(work_t[0], total_axis.low), max(work_t[1], total_axis.high))
        fit_axis = fit_axis.covering(min(work_f[0], fit_axis.low), max(work_f[1], fit_axis.high))
        state.total, state.fit_axis = total_axis, fit_axis
        npos = self.leads.n_converted
        t_size, f_size = total_axis.size, fit_axis.size
        tc, fc = total_axis.counts, fit_axis.counts
        for i, code, change in changes:
            positions, starts = self._index(i)
            idx = positions[starts[code] : starts[code + 1]]
            n_conv = int(np.searchsorted(idx, npos))  # leads are ordered converted first
            fit, engagement = state.fit[idx], state.engagement[idx]
            in_fit = model.attributes[i].group == "fit"
            old_total = _total_index(state, fit, engagement, np.empty(idx.size, dtype=np.int32))
            ko = state.knocked_out[idx] if "ko_all" in tc else None
            ko = ko if ko is not None and ko.any() else None
            if caps[0 if in_fit else 1] is None:  # every moved lead's total moves by the change
                _shift_counts(tc["all"], np.bincount(old_total, minlength=t_size), change)
                _shift_counts(tc["converted"], np.bincount(old_total[:n_conv], minlength=t_size), change)
                if ko is not None:
                    _shift_counts(tc["ko_all"], np.bincount(old_total[ko], minlength=t_size), change)
                    _shift_counts(tc["ko_converted"], np.bincount(old_total[:n_conv][ko[:n_conv]], minlength=t_size), change)
            if in_fit:
                fit_idx = fit + (state.fit_base - fit_axis.low)
                _shift_counts(fc["all"], np.bincount(fit_idx, minlength=f_size), change)
                _shift_counts(fc["converted"], np.bincount(fit_idx[:n_conv], minlength=f_size), change)
                fit += change
                state.fit[idx] = fit
            else:
                engagement += change
                state.engagement[idx] = engagement
            if caps[0 if in_fit else 1] is not None:  # a cap bends the move: count the new totals
                new_total = _total_index(state, fit, engagement, np.empty(idx.size, dtype=np.int32))
                for name, old, new in [("all", old_total, new_total), ("converted", old_total[:n_conv], new_total[:n_conv])] + (
                    [("ko_all", old_total[ko], new_total[ko]), ("ko_converted", old_total[:n_conv][ko[:n_conv]], new_total[:n_conv][ko[:n_conv]])]
                    if ko is not None else []
                ):
                    tc[name] -= np.bincount(old, minlength=t_size)
                    tc[name] += np.bincount(new, minlength=t_size)
        final_f, final_e = _bounds(model, vectors, "fit"), _bounds(model, vectors, "engagement")
        state.total = total_axis.covering(*_total_bounds(final_f, final_e, caps))
        state.fit_axis = fit_axis.covering(*final_f)
        state.model, state.vectors = model, vectors
        return True


def _knockout_key(model: ScoringModel) -> tuple:
    return tuple(r.model_dump_json() for r in model.knockouts)


def _bounds(model: ScoringModel, vectors: list[np.ndarray], group: str) -> tuple[int, int]:
    """Lowest and highest possible uncapped score of a group (as the engine's tables count them)."""
    members = [v for v, a in zip(vectors, model.attributes) if a.group == group]
    return sum(int(v.min()) for v in members), sum(int(v.max()) for v in members)


def _shift_counts(grid: np.ndarray, counts: np.ndarray, shift: int) -> None:
    """Move ``counts`` from their cells to the cells ``shift`` further on (in place)."""
    grid -= counts
    if shift > 0:
        grid[shift:] += counts[: counts.size - shift]
    elif shift < 0:
        grid[:shift] += counts[-shift:]
    else:
        grid += counts


def _capped(values: np.ndarray, cap: int | None) -> np.ndarray:
    return values if cap is None else np.minimum(values, cap)


def _grid_histograms(grid: _Grid, model: ScoringModel) -> ScoreHistograms:
    """Total and fit histograms from the grid, caps applied to each cell's scores."""
    caps = model.caps
    fit = _capped(np.arange(grid.fit_low, grid.fit_high + 1), caps.fit)
    engagement = _capped(np.arange(grid.engagement_low, grid.engagement_high + 1), caps.engagement)
    total = _capped((fit[:, None] + engagement[None, :]).ravel(), caps.total)
    all_cells, conv_cells = grid.cells["all"], grid.cells["converted"]
    # grades describe fit, so they count every lead, knocked out or not
    fit_low = int(fit[0])
    fit_idx = fit - fit_low
    fit_leads = np.bincount(fit_idx, weights=all_cells.reshape(grid.rows, grid.width).sum(axis=1)).astype(np.int64)
    fit_conv = np.bincount(fit_idx, weights=conv_cells.reshape(grid.rows, grid.width).sum(axis=1)).astype(np.int64)
    n_ko = n_ko_conv = 0
    if "ko_all" in grid.cells:
        all_cells = all_cells - grid.cells["ko_all"]
        conv_cells = conv_cells - grid.cells["ko_converted"]
        n_ko, n_ko_conv = int(grid.cells["ko_all"].sum()), int(grid.cells["ko_converted"].sum())
    low = int(total.min())
    total_idx = total - low
    leads = np.bincount(total_idx, weights=all_cells).astype(np.int64)
    converted = np.bincount(total_idx, weights=conv_cells).astype(np.int64)
    return ScoreHistograms(low, leads, converted, n_ko, n_ko_conv, fit_low, fit_leads, fit_conv)


# ----- 1-D histograms ------------------------------------------------------------------
@dataclass
class _Axis:
    """Lead counts per score: ``counts[name][i]`` counts leads scoring ``low + i``."""

    low: int
    counts: dict[str, np.ndarray]

    @property
    def size(self) -> int:
        return next(iter(self.counts.values())).size

    @property
    def high(self) -> int:
        return self.low + self.size - 1

    def shifted(self, by: int) -> _Axis:
        """The same counts, every score ``by`` points higher."""
        return _Axis(self.low + by, self.counts) if by else self

    def covering(self, low: int, high: int) -> _Axis:
        """The same counts on scores ``low..high`` (counts outside must be zero)."""
        if low == self.low and high == self.high:
            return self
        a0, a1 = max(low, self.low), min(high, self.high)
        counts = {}
        for name, c in self.counts.items():
            out = np.zeros(high - low + 1, dtype=np.int64)
            if a0 <= a1:
                out[a0 - low : a1 - low + 1] = c[a0 - self.low : a1 - self.low + 1]
            counts[name] = out
        return _Axis(low, counts)


@dataclass
class _LinearState:
    """What the 1-D counter knows after a move: each lead's group scores and the histograms."""

    model: ScoringModel
    vectors: list[np.ndarray]
    fit: np.ndarray  # int32 per lead: fit score - fit_base (uncapped)
    engagement: np.ndarray  # int32 per lead: engagement score - engagement_base (uncapped)
    fit_base: int
    engagement_base: int
    knockouts: tuple
    knocked_out: np.ndarray  # bool per lead
    caps: tuple[int | None, int | None]  # the group caps the totals were counted with
    total: _Axis  # min(fit, fit cap) + min(engagement, engagement cap): "all", "converted" (+ "ko_all", "ko_converted")
    fit_axis: _Axis  # uncapped fit score: "all", "converted"


def _capped_bounds(lo: int, hi: int, cap: int | None) -> tuple[int, int]:
    """The (lowest, highest) of min(score, cap) over scores lo..hi (as engine.scoring._apply_cap)."""
    if cap is None or cap >= hi:
        return lo, hi
    if cap <= lo:
        return cap, cap
    return lo, cap


def _total_bounds(fit: tuple[int, int], engagement: tuple[int, int], caps: tuple[int | None, int | None]) -> tuple[int, int]:
    f, e = _capped_bounds(*fit, caps[0]), _capped_bounds(*engagement, caps[1])
    return f[0] + e[0], f[1] + e[1]


def _total_index(state: _LinearState, fit: np.ndarray, engagement: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out`` (int32: an add into int32 is ~10x cheaper than into intp, a bincount of int32
    only ~25% dearer) = each lead's group-capped total minus ``state.total.low``."""
    cap_fit, cap_engagement = state.caps
    if cap_fit is not None:
        fit = np.minimum(fit, cap_fit - state.fit_base)
    if cap_engagement is not None:
        engagement = np.minimum(engagement, cap_engagement - state.engagement_base)
    np.add(fit, engagement, out=out)
    offset = state.fit_base + state.engagement_base - state.total.low
    if offset:
        out += offset
    return out


def _fold(counts: np.ndarray, low: int, cap: int | None, out_low: int, out_high: int) -> np.ndarray:
    """Counts per min(score, cap) on out_low..out_high, from counts per score from ``low``: always a new array.

    New even when nothing is folded or moved: ``counts`` may be the counter's own histogram,
    which the next move (any session's: the counter is the engine's) updates in place, and a
    BacktestResult a session keeps must not change under it.
    """
    if cap is None or cap >= low + counts.size - 1:
        folded = _Axis(low, {"c": counts}).covering(out_low, out_high).counts["c"]
        return folded.copy() if folded is counts else folded
    scores = np.minimum(np.arange(low, low + counts.size), cap)
    return np.bincount(scores - out_low, weights=counts, minlength=out_high - out_low + 1).astype(np.int64)


def _linear_read(state: _LinearState, model: ScoringModel) -> ScoreHistograms:
    """The histograms a backtest reads, caps applied: the same numbers a per-lead recount gives."""
    cap_fit, _ = state.caps
    final_f, final_e = _bounds(model, state.vectors, "fit"), _bounds(model, state.vectors, "engagement")
    t_low, t_high = _total_bounds(final_f, final_e, state.caps)
    low, high = _capped_bounds(t_low, t_high, model.caps.total)
    tc = state.total.covering(t_low, t_high).counts
    all_counts, conv_counts = tc["all"], tc["converted"]
    n_ko = n_ko_conv = 0
    if "ko_all" in tc:
        all_counts, conv_counts = all_counts - tc["ko_all"], conv_counts - tc["ko_converted"]
        n_ko, n_ko_conv = int(tc["ko_all"].sum()), int(tc["ko_converted"].sum())
    leads = _fold(all_counts, t_low, model.caps.total, low, high)
    converted = _fold(conv_counts, t_low, model.caps.total, low, high)
    fit_low, fit_high = _capped_bounds(*final_f, cap_fit)
    fc = state.fit_axis.covering(*final_f).counts
    fit_leads = _fold(fc["all"], final_f[0], cap_fit, fit_low, fit_high)
    fit_conv = _fold(fc["converted"], final_f[0], cap_fit, fit_low, fit_high)
    return ScoreHistograms(low, leads, converted, n_ko, n_ko_conv, fit_low, fit_leads, fit_conv)
