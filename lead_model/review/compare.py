"""Two models side by side on the same leads: what changed, every KPI with its delta, and the leads that cross the MQL line."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lead_model.data.leads import LeadSet
from lead_model.engine.backtest import BacktestResult, backtest
from lead_model.engine.revenue import Pipeline, pipeline
from lead_model.engine.scoring import points_breakdown
from lead_model.errors import LeadModelError
from lead_model.model.diff import describe_changes
from lead_model.model.schema import ScoringModel

# (key, label, unit): unit is "leads", "share" (a fraction), "ratio" (x the base rate), "auc", "points" or "amount"
KPIS = (
    ("auc", "AUC", "auc"),
    ("pr_auc", "PR AUC", "auc"),
    ("threshold", "MQL threshold", "points"),
    ("mql", "MQLs", "leads"),
    ("mql_rate", "MQL rate", "share"),
    ("mql_converted", "Converted MQLs", "leads"),
    ("precision", "Precision", "share"),
    ("recall", "Recall", "share"),
    ("f1", "F1", "auc"),
    ("lift_at_threshold", "Lift at threshold", "ratio"),
    ("conversion_mql", "MQL conversion", "share"),
    ("conversion_rest", "Rest conversion", "share"),
    ("knocked_out", "Knocked out", "leads"),
)
KPI_COLUMNS = ["key", "metric", "unit", "before", "after", "delta"]


def kpi_table(before: BacktestResult, after: BacktestResult, before_pipeline: Pipeline | None = None, after_pipeline: Pipeline | None = None) -> pd.DataFrame:
    """Every headline KPI of two backtests: key, metric (for people), unit, before, after, delta (after - before).

    With both pipelines (lead_model.engine.revenue) two more rows: pipeline_captured and
    pipeline_missed (unit "amount", the file's currency). NaN where a KPI is undefined.
    """
    rows = [(key, label, unit, float(getattr(before, key)), float(getattr(after, key))) for key, label, unit in KPIS]
    if before_pipeline is not None and after_pipeline is not None:
        rows += [
            ("pipeline_captured", "Pipeline captured", "amount", before_pipeline.captured, after_pipeline.captured),
            ("pipeline_missed", "Pipeline missed", "amount", before_pipeline.missed, after_pipeline.missed),
        ]
    out = pd.DataFrame([(*r, r[4] - r[3]) for r in rows], columns=KPI_COLUMNS)
    return out


@dataclass(frozen=True)
class Crossers:
    """Leads that cross the MQL line: ``entered`` become MQLs under the new model, ``left`` stop being MQLs."""

    entered: int
    entered_converted: int
    left: int
    left_converted: int

    def table(self) -> pd.DataFrame:
        """direction, leads, converted, conversion (NaN when no lead crossed that way)."""
        rows = [("become MQL", self.entered, self.entered_converted), ("stop being MQL", self.left, self.left_converted)]
        out = pd.DataFrame(rows, columns=["direction", "leads", "converted"])
        out["conversion"] = [c / n if n else math.nan for _, n, c in rows]
        return out

    def sentence(self) -> str:
        """'412 leads become MQLs (98 of them converted); 230 stop being MQLs (31 converted).'"""
        from lead_model.formatting import count

        return (
            f"{count(self.entered)} become MQLs ({self.entered_converted:,} of them converted); "
            f"{count(self.left)} stop being MQLs ({self.left_converted:,} converted)."
        )


@dataclass(frozen=True, eq=False)
class Comparison:
    """``before`` and ``after`` backtested on the same leads.

    ``changes``: describe_changes sentences ("job_level: Manager 10 -> 5"); ``kpis``: see
    ``kpi_table``; ``before_result``/``after_result``: the BacktestResults (their ``deciles``
    feed overlaid lift and gains charts); ``crossers``: counts; ``examples``: crossing leads,
    see ``compare``; pipelines None without an amount column.
    """

    before: ScoringModel
    after: ScoringModel
    changes: list[str]
    kpis: pd.DataFrame
    before_result: BacktestResult
    after_result: BacktestResult
    crossers: Crossers
    examples: pd.DataFrame
    before_pipeline: Pipeline | None = None
    after_pipeline: Pipeline | None = None

    def to_json(self) -> dict:
        """changes, kpis (objects with key, metric, unit, before, after, delta), crossers, examples: JSON-ready (NaN -> None)."""
        from lead_model.review.review import json_ready

        return json_ready({
            "before": self.before.metadata.name,
            "after": self.after.metadata.name,
            "changes": list(self.changes),
            "kpis": self.kpis.to_dict(orient="records"),
            "crossers": vars(self.crossers),
            "examples": self.examples.to_dict(orient="records"),
        })


def _lead_ids(leads: LeadSet, positions: np.ndarray) -> list | None:
    """The lead id column's values for some LeadSet positions, or None (no id column, or no stored rows)."""
    if leads.lead_id_column is None or positions.size == 0:
        return None
    try:
        rows = leads.rows(leads.row_index[positions])
    except LeadModelError:  # leads built in memory: no store holds their rows
        return None
    return rows[leads.lead_id_column].tolist()


def _examples(leads: LeadSet, before: ScoringModel, after: ScoringModel, positions: np.ndarray, sb, sa, mql_b, mql_a) -> pd.DataFrame:
    base = ["row", "score_before", "score_after", "mql_before", "mql_after", "converted"]
    names = list(dict.fromkeys([*after.attribute_names, *before.attribute_names]))
    rows = []
    for pos in positions:
        row = {"row": int(leads.row_index[pos]), "score_before": int(sb[pos]), "score_after": int(sa[pos]),
               "mql_before": bool(mql_b[pos]), "mql_after": bool(mql_a[pos]), "converted": bool(leads.converted[pos])}
        for tag, model in (("after", after), ("before", before)):  # the value as the new model bins it
            for r in points_breakdown(leads, model, int(pos)).itertuples(index=False):
                row.setdefault(f"{r.attribute}", r.value)
                row[f"{r.attribute} ({tag})"] = int(r.points)
        rows.append(row)
    columns = list(base)
    for name in names:
        columns += [name, f"{name} (before)", f"{name} (after)"]
    out = pd.DataFrame(rows, columns=columns)
    for name in names:  # an attribute one model lacks scores nothing there
        for tag in ("before", "after"):
            out[f"{name} ({tag})"] = out[f"{name} ({tag})"].fillna(0).astype(np.int64)
    ids = _lead_ids(leads, positions)
    if ids is not None:
        out.insert(0, "lead_id", ids)
    return out


def compare(leads: LeadSet, before: ScoringModel, after: ScoringModel, examples: int = 20) -> Comparison:
    """Backtest ``before`` and ``after`` on the same ``leads`` and say what changed and who crosses the MQL line.

    ``examples``: at most this many crossing leads in ``Comparison.examples``, those entering
    and those leaving taking turns, each side largest score change first. Its columns: lead_id
    (when the data has one and its rows are stored), row (position in the file), score_before,
    score_after, mql_before, mql_after, converted, then per attribute its value (the bin or
    level, as ``points_breakdown`` shows it) and its points under each model ('job_level
    (before)', 'job_level (after)'; 0 where a model lacks the attribute).
    """
    if examples < 0:
        raise LeadModelError(f"the number of examples cannot be negative ({examples}); ask for 0 or more.")
    rb, ra = backtest(leads, before), backtest(leads, after)
    sb, sa = leads.engine(before).scores(before), leads.engine(after).scores(after)
    mql_b, mql_a = sb.is_mql(before.mql_threshold), sa.is_mql(after.mql_threshold)
    entered, left = mql_a & ~mql_b, mql_b & ~mql_a
    conv = leads.converted
    crossers = Crossers(int(entered.sum()), int((entered & conv).sum()), int(left.sum()), int((left & conv).sum()))
    change = np.abs(sa.total.astype(np.int64) - sb.total)
    picks = []
    sides = [np.flatnonzero(m) for m in (entered, left)]
    sides = [idx[np.lexsort((leads.row_index[idx], -change[idx]))] for idx in sides]  # largest change first, then file order
    for i in range(max((s.size for s in sides), default=0)):
        for s in sides:
            if i < s.size and len(picks) < examples:
                picks.append(s[i])
    table = _examples(leads, before, after, np.asarray(picks, dtype=np.int64), sb.total, sa.total, mql_b, mql_a)
    pb, pa = pipeline(leads, mql_b), pipeline(leads, mql_a)
    return Comparison(before, after, describe_changes(before, after), kpi_table(rb, ra, pb, pa), rb, ra, crossers, table, pb, pa)
