"""Score histograms: leads and converted leads counted by score, kept up to date move by move.

Every backtest metric comes from two histograms over the total score (all leads, converted
leads) and two over the fit score (for grades). They are read off a small grid that counts
leads per (fit score, engagement score) cell, with caps applied on the grid, not per lead.

A slider move changes the points of one level (or bin) of one attribute, and only the leads
holding that level change cell, all by the same number of points. So the grid is kept from
one move to the next: the moved leads are counted once in their old cells, and those counts
are taken out and put back shifted by the points change. A move costs a few passes over the
leads of the moved level, not over every lead. Moves that touch most leads, new knock-out
rules, or a grid too large to keep are recounted from scratch.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from lead_model.model.schema import ScoringModel
from lead_model.engine.scoring import ScoringEngine, attribute_codes, points_vector

GRID_MAX_CELLS = 1 << 18  # larger (fit x engagement) grids are not kept; each move recounts
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
    counter = engine.__dict__.get("_score_counter")
    if counter is None:
        counter = engine.__dict__.setdefault("_score_counter", ScoreCounter(engine))
    return counter.histograms(model)


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
        self._positions: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # attribute index -> (lead positions by code, code starts)
        self.last_move = "none"  # "delta" or "recount": how the last call was answered (for benchmarks and tests)

    def forget(self) -> None:
        """Drop the kept grid: the next call recounts every lead."""
        with self._lock:
            self._state = None

    def histograms(self, model: ScoringModel) -> ScoreHistograms:
        with self._lock:
            vectors = [points_vector(self.leads, a) for a in model.attributes]
            fit_bounds, engagement_bounds = _bounds(model, vectors, "fit"), _bounds(model, vectors, "engagement")
            cells = (fit_bounds[1] - fit_bounds[0] + 1) * (engagement_bounds[1] - engagement_bounds[0] + 1)
            if cells > GRID_MAX_CELLS:
                self._state = None
                self.last_move = "recount"
                return _separate_histograms(self.engine, model)
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
        changes = []  # (attribute index, code, points change)
        shifts = {"fit": 0, "engagement": 0}  # points every lead gains in each group
        shifted = []
        touched = 0
        for i, (old, new) in enumerate(zip(state.vectors, vectors)):
            if old.shape != new.shape:
                return False
            change = new.astype(np.int64) - old
            if not change.any():
                shifted.append(old)
                continue
            _, starts = self._index(i)
            counts = np.diff(starts)
            # The change most of this attribute's leads share is given to every lead at once (it
            # only moves the grid's bounds); the leads of the other codes then move back. So a
            # move costs the smaller side: raising a level that holds 90% of the leads moves 10%.
            values, which = np.unique(change, return_inverse=True)
            common = int(values[np.argmax(np.bincount(which, weights=counts))])
            shifts[model.attributes[i].group] += common
            shifted.append(old + common)
            for c in np.flatnonzero((change != common) & (counts > 0)):
                changes.append((i, int(c), int(change[c]) - common))
                touched += int(counts[c])
        if touched > DELTA_MAX_SHARE * self.leads.n_leads:
            return False
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
        cell = self.engine.buffer("total")
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


def _separate_histograms(engine: ScoringEngine, model: ScoringModel) -> ScoreHistograms:
    """Histograms straight from per-lead total and fit scores (for score ranges too wide for a grid)."""
    s = engine.shifted_scores(model)
    size = s.high - s.low + 1
    npos = engine.leads.n_converted
    total = s.total
    all_hist = np.bincount(total, minlength=size)
    pos_hist = np.bincount(total[:npos], minlength=size)
    ko_idx = np.flatnonzero(s.knocked_out)
    n_ko = n_ko_pos = 0
    if ko_idx.size:
        all_hist -= np.bincount(total[ko_idx], minlength=size)
        ko_pos = ko_idx[ko_idx < npos]
        pos_hist -= np.bincount(total[ko_pos], minlength=size)
        n_ko, n_ko_pos = int(ko_idx.size), int(ko_pos.size)
    flo, fhi = s.fit_bounds
    fit_all = np.bincount(s.fit, minlength=fhi - flo + 1)
    fit_pos = np.bincount(s.fit[:npos], minlength=fhi - flo + 1)
    return ScoreHistograms(s.low, all_hist, pos_hist, n_ko, n_ko_pos, flo, fit_all, fit_pos)
