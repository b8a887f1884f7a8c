"""The workbench: one dataset and the model a room is designing on it, with undo, a baseline and cached results.

No UI here: the app keeps one Workbench per browser session and turns each widget's value
into one of its edits; tests drive it directly. Every edit returns nothing and pushes a new
model onto the undo history (models are immutable values), or raises LeadModelError with a
sentence for the room and changes nothing.

Speed: the engine comes from the LeadSet's cache for the model's layout (``LeadSet.engine``),
so a points move is one incremental ``backtest``; a threshold move is
``BacktestResult.at_threshold`` (no per-lead work); the baseline's result is computed once
per baseline.

Autosave: ``on_change(bench, previous_model)`` is called after every edit that changed the
model or the baseline (lead_model/workbench/autosave.py ``Autosaver`` is one); ``changes``
counts those edits since the workbench was made.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from lead_model.data.leads import LeadSet
from lead_model.data.quality import attribute_power, level_table
from lead_model.engine.backtest import BacktestResult, backtest
from lead_model.engine.scoring import Scores, ScoringEngine, check_fits, fits
from lead_model.engine.thresholds import months_covered
from lead_model.errors import LeadModelError
from lead_model.model.schema import Caps, ScoringModel, cap_problem
from lead_model.model.starter import starter_attribute
from lead_model.suggest.binning import parse_edges, rebinned
from lead_model.engine.revenue import Pipeline, amount_leads, model_pipeline
from lead_model.workbench.describe import Tile, kpi_tiles, pipeline_tile
from lead_model.workbench.history import ModelHistory
from lead_model.workbench.reconcile import reconcile

SPECIAL_VALUES = ("__other__", "__missing__")


class Workbench:
    """The model being designed on ``leads``: its undo history, the baseline it is compared with, and results."""

    def __init__(
        self,
        leads: LeadSet,
        model: ScoringModel,
        baseline: ScoringModel | None = None,
        on_change: Callable[[Workbench, ScoringModel], None] | None = None,
    ):
        check_fits(leads, model)
        if os.environ.get("LEAD_MODEL_TIMINGS"):  # which LeadSet each session works on (benchmarks/bench_sessions.py counts them)
            print(f"workbench leadset={leads.version}:{id(leads):x} leads={leads.n_leads}", file=sys.stderr, flush=True)
        self.leads = leads
        self.history: ModelHistory[ScoringModel] = ModelHistory(model)
        self.baseline = baseline if baseline is not None and fits(leads, baseline) else model
        self._result: tuple[ScoringModel, BacktestResult] | None = None
        self._baseline_result: tuple[ScoringModel, BacktestResult | None] | None = None
        self._memo: dict[tuple, Any] = {}
        self._scores: tuple[ScoringModel, Scores] | None = None
        self.full_backtests = 0  # backtests run for points or layout changes (threshold moves need none)
        self.on_change = on_change
        self.changes = 0  # edits that changed the model or the baseline

    # ----- reading ------------------------------------------------------------------
    @property
    def model(self) -> ScoringModel:
        return self.history.current

    def engine(self, m: ScoringModel | None = None) -> ScoringEngine:
        """The engine for ``m``'s layout (default: the current model), kept by the LeadSet."""
        return self.leads.engine(self.model if m is None else m)

    def result(self) -> BacktestResult:
        """The backtest of the current model: a full one when points or layout changed, ``at_threshold`` when only the threshold moved."""
        m = self.model
        key = m.model_copy(update={"mql_threshold": 0})
        if self._result is not None and self._result[0] == key:
            r = self._result[1]
            return r if r.threshold == m.mql_threshold else r.at_threshold(m.mql_threshold)
        r = backtest(self.leads, m, self.engine(m))
        self.full_backtests += 1
        self._result = (key, r)
        return r

    def baseline_result(self) -> BacktestResult | None:
        """The baseline's backtest (None if it no longer fits the data), computed once per baseline."""
        if self._baseline_result is not None and self._baseline_result[0] is self.baseline:
            return self._baseline_result[1]
        try:
            r = backtest(self.leads, self.baseline)
        except LeadModelError:
            r = None
        self._baseline_result = (self.baseline, r)
        return r

    def tiles(self) -> list[Tile]:
        """The KPI tiles of the current model against the baseline, and Pipeline when the data has an amount column."""
        tiles = kpi_tiles(self.result(), self.baseline_result())
        money = pipeline_tile(self.pipeline(), self.baseline_pipeline())
        return tiles + [money] if money is not None else tiles

    def pipeline(self, m: ScoringModel | None = None) -> Pipeline | None:
        """The amount the MQLs of ``m`` (default: the current model) captured and missed; None without an amount column.

        Only the leads with an amount are scored (``revenue.amount_leads``, made once per LeadSet for every session):
        a points move at 1,000,000 leads pays ~1 ms for it instead of scoring every lead.
        """
        if self.leads.amount is None:
            return None
        m = self.model if m is None else m
        return model_pipeline(self.leads, self._amount_leads(), m)

    def baseline_pipeline(self) -> Pipeline | None:
        """The baseline's pipeline split, computed once per baseline (None without an amount or when it no longer fits)."""
        if self.leads.amount is None or self.baseline_result() is None:
            return None
        b = self.baseline
        return self.memo(("baseline_pipeline", b), lambda: model_pipeline(self.leads, self._amount_leads(), b))

    def _amount_leads(self):
        return amount_leads(self.leads)

    def memo(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per key for this workbench (small per-dataset results: level tables, searches)."""
        if key not in self._memo:
            if len(self._memo) > 256:
                self._memo.clear()
            self._memo[key] = compute()
        return self._memo[key]

    def level_rows(self, attribute: str) -> list[tuple]:
        """The sliders of one attribute as (value, label, listed, points, leads, conversion_rate) tuples.

        Every level or bin the model lists that holds leads or points, data values it does
        not list, and 'other' and 'missing' only when some leads fall there or they carry
        points: a slider for a level no lead holds moves nothing.
        """
        attr = self.model.attribute(attribute)

        def rows() -> list[tuple]:
            t = level_table(self.leads, attr)
            t = t[(t["leads"] > 0) | (t["points"] != 0)]
            return list(zip(t["value"], t["label"], t["listed"].tolist(), t["points"].astype(int).tolist(),
                            t["leads"].astype(int).tolist(), t["conversion_rate"].tolist()))

        return self.memo(("level_rows", attr), rows)

    def scores(self, m: ScoringModel | None = None) -> Scores:
        """Every lead's scores under ``m`` (default: the current model), kept for the last model asked (the lead explorer redraws on every move)."""
        m = self.model if m is None else m
        if self._scores is None or not (self._scores[0] is m or self._scores[0] == m):
            self._scores = (m, self.engine(m).scores(m))
        return self._scores[1]

    def power(self) -> pd.DataFrame:
        """``quality.attribute_power`` of the dataset, computed once."""
        return self.memo(("power",), lambda: attribute_power(self.leads))

    def months(self) -> float | None:
        """Months of history the created dates span, or None without them."""
        return self.memo(("months",), lambda: months_covered(self.leads.created))

    def undo_text(self) -> str | None:
        """What Undo would take back, in words ("job_level: VP 20 -> 25"), or None with nothing to undo."""
        from lead_model.model.diff import describe_changes

        before = self.history.previous
        if before is None:
            return None
        changes = describe_changes(before, self.model)
        shown = "; ".join(changes[:3]) + (f" and {len(changes) - 3} more" if len(changes) > 3 else "")
        return shown or "a change of the baseline"

    # ----- edits ----------------------------------------------------------------------
    def _changed(self, model: ScoringModel, baseline: ScoringModel, count: bool = True) -> None:
        """After an edit: count it and call ``on_change`` if the model or the baseline is another one than before."""
        if self.model is model and self.baseline is baseline:
            return
        self.changes += 1 if count else 0
        if self.on_change is not None:
            self.on_change(self, model)

    def edit(self, new_model: ScoringModel) -> None:
        before = (self.model, self.baseline)
        self.history.push(new_model)
        self._changed(*before)

    def set_points(self, attribute: str, value: str | bool, points: int) -> None:
        self.edit(self.model.with_points(attribute, value, int(points)))

    def set_threshold(self, threshold: int) -> None:
        self.edit(self.model.model_copy(update={"mql_threshold": int(threshold)}))

    def set_caps(self, caps: dict[str, int | None]) -> None:
        """Caps per group (None = no cap); the schema's caps rule refuses the impossible ones in one sentence."""
        caps = {g: (None if v is None else int(v)) for g, v in caps.items()}
        for group, cap in caps.items():
            problem = cap_problem(group, cap)
            if problem:
                raise LeadModelError(problem + ".")
        self.edit(self.model.replace(caps=Caps(**caps)))

    def set_bands(self, kind: str, bands: Iterable) -> None:
        """New grades or tiers (``kind``), highest first, as (name, min_score) pairs, dicts or Bands; the last band
        has no minimum. The schema's band rule refuses a bad list in one sentence (``model.bands.parse_bands``)."""
        from lead_model.model.bands import parse_bands

        self.edit(self.model.replace(**{kind: parse_bands(kind, bands)}))

    def set_metadata(self, name: str | None = None, author: str | None = None, notes: str | None = None) -> None:
        """Change the model's name, author or notes (None leaves one as it is); a blank name is refused."""
        changes = {k: v.strip() if k == "name" else v for k, v in (("name", name), ("author", author), ("notes", notes)) if v is not None}
        if "name" in changes and not changes["name"]:
            raise LeadModelError("the model needs a name; type one, e.g. 'Inbound leads 2026'.")
        meta = self.model.metadata.model_copy(update=changes)
        if meta != self.model.metadata:
            self.edit(self.model.model_copy(update={"metadata": meta}))

    def set_edges(self, attribute: str, text: str) -> None:
        """New bin edges typed as '10, 50, 200'; each new bin keeps the points of the old bin its lower bound fell in."""
        attr = self.model.attribute(attribute)
        self.edit(self.model.with_attribute(rebinned(attr, parse_edges(text or "", attribute))))

    def set_attributes(self, names: Iterable[str]) -> None:
        """Keep exactly ``names`` in the model: new ones join at 0 points, the others leave."""
        wanted = list(names)
        m = self.model
        for name in m.attribute_names:
            if name not in wanted:
                m = m.without_attribute(name)
        for name in wanted:
            if name not in m.attribute_names:
                m = m.with_attribute(starter_attribute(self.leads, name))
        self.edit(m)

    def add_knockout(self, rule: dict) -> None:
        """Append a knock-out rule given as a dict of KnockOut fields.

        Refused in one sentence (nothing changes): a rule with no condition, or one that would
        knock out every lead (the room selected every value).
        """
        name = rule.get("attribute")
        if name not in self.leads.attributes:
            raise LeadModelError(f"there is no attribute '{name}' to knock out by; pick one of the model's columns.")
        if not (rule.get("values") or rule.get("below") is not None or rule.get("at_least") is not None or rule.get("when_missing")):
            what = "a limit (below or at or above)" if self.leads.attributes[name].kind == "numeric" else "the values to knock out"
            raise LeadModelError(f"choose {what} or tick 'Also when missing' before adding a knock-out on '{name}'.")
        knockouts = [k.model_dump(mode="json") for k in self.model.knockouts] + [rule]
        new = self.model.replace(knockouts=knockouts)
        ko = self.engine(new).knocked_out(new.knockouts)
        if ko.all():
            raise LeadModelError(f"this knock-out on '{name}' would knock out all {self.leads.n_leads:,} leads; choose fewer values or a narrower limit.")
        self.edit(new)

    def apply(self, suggested: ScoringModel) -> None:
        """Take a suggested model's points, bins, attributes, threshold, grades and tiers; the model's name, author and notes stay."""
        self.edit(suggested.model_copy(update={"metadata": self.model.metadata}))

    def apply_attribute(self, suggested: ScoringModel, name: str) -> None:
        """Take one attribute of a suggested model as it is."""
        self.edit(self.model.with_attribute(suggested.attribute(name)))

    def remove_knockout(self, index: int) -> None:
        self.edit(self.model.replace(knockouts=tuple(k for i, k in enumerate(self.model.knockouts) if i != index)))

    def undo(self) -> None:
        before = (self.model, self.baseline)
        self.history.undo()
        self._changed(*before)

    def redo(self) -> None:
        before = (self.model, self.baseline)
        self.history.redo()
        self._changed(*before)

    def reset_to_baseline(self) -> None:
        self.edit(self.baseline)

    def set_baseline(self) -> None:
        before = (self.model, self.baseline)
        self.baseline = self.model
        self._changed(*before)

    def adopt(self, new_model: ScoringModel) -> None:
        """Continue from a model file: it must fit the data (else LeadModelError, nothing changes); it also becomes the baseline."""
        check_fits(self.leads, new_model)
        before = (self.model, self.baseline)
        self.history.push(new_model)
        self.baseline = new_model
        self._changed(*before)

    def resume(self, model: ScoringModel, baseline: ScoringModel, changes: int) -> None:
        """Continue a saved session: its model (undoable) and baseline, and its count of ``changes``.

        The model must fit the data (else LeadModelError, nothing changes); a baseline that no
        longer fits is not taken.
        """
        check_fits(self.leads, model)
        before = (self.model, self.baseline)
        self.history.push(model)
        if fits(self.leads, baseline):
            self.baseline = baseline
        self.changes = int(changes)
        self._changed(*before, count=False)

    def rebased(self, leads: LeadSet, added: Iterable[str] = ()) -> Workbench:
        """A workbench on ``leads`` (the same dataset with other roles): the model and baseline reconciled, undo starting afresh."""
        added = list(added)
        bench = Workbench(leads, reconcile(self.model, leads, added), reconcile(self.baseline, leads, added), self.on_change)
        bench.changes = self.changes
        if bench.model != self.model or bench.baseline != self.baseline:  # the model followed the roles: a change of its own
            bench._changed(self.model, self.baseline)
        return bench


__all__ = ["SPECIAL_VALUES", "Workbench"]
