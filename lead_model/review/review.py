"""The quarterly review of one model on one dataset: cohorts over time, score and attribute drift, and a summary in sentences."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lead_model.data.leads import LeadSet
from lead_model.model.schema import ScoringModel
from lead_model.review.cohorts import PeriodBacktests, period_backtests
from lead_model.review.drift import AttributeDrift, ScoreDrift, attribute_drift, score_drift
from lead_model.review.periods import Periods, periods as make_periods
from lead_model.review.summary import summary_sentences

# the keys of each period in Review.to_json (the CLI's --json): the list, then the rest of the cohorts table
PERIOD_KEYS = ("period", "leads", "converted", "mql", "mql_rate", "precision", "recall", "mql_conversion", "rest_conversion")


def json_ready(value):
    """``value`` with numpy numbers as Python numbers and NaN as None, ready for ``json.dumps``."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if value is pd.NA or value is None:
        return None
    return value


@dataclass(frozen=True, eq=False)
class Review:
    """A model reviewed period by period, and the drift from a reference period to a recent one.

    ``periods``: the cohorts table (lead_model.review.cohorts.cohorts), one row per period;
    ``tiers``/``grades``: conversion per band and period (cohort_bands); ``score``: the score's
    ScoreDrift (``score_psi`` its PSI); ``attributes``: every model attribute's AttributeDrift,
    largest PSI first; ``summary``: plain sentences for meeting notes (escape them before
    Markdown); ``undated``: leads without a created date, in no period.
    """

    by: str
    reference: str
    recent: str
    model: ScoringModel
    periods: pd.DataFrame
    tiers: pd.DataFrame
    grades: pd.DataFrame
    score: ScoreDrift
    attributes: list[AttributeDrift]
    summary: list[str]
    undated: int
    backtests: PeriodBacktests

    @property
    def score_psi(self) -> float:
        return self.score.psi

    @property
    def drift_table(self) -> pd.DataFrame:
        """attribute, psi, verdict, level (that moved most), reference_share, recent_share: one row per attribute, largest PSI first."""
        rows = []
        for d in self.attributes:
            top = d.moved_most(1)
            lv = top[0] if top else None
            rows.append({"attribute": d.attribute, "psi": d.psi, "verdict": d.verdict, "moved_most": lv.level if lv else "",
                         "reference_share": lv.reference_share if lv else math.nan, "recent_share": lv.recent_share if lv else math.nan})
        return pd.DataFrame(rows, columns=["attribute", "psi", "verdict", "moved_most", "reference_share", "recent_share"])

    def to_json(self) -> dict:
        """One JSON-ready object: by, reference, recent, periods (objects with period, leads, converted, mql, mql_rate,
        precision, recall, mql_conversion, rest_conversion, then conversion, mql_converted, auc, knocked_out and the
        pipeline columns when there are any), score_psi, score_verdict, attributes (objects with attribute, psi, verdict,
        levels: objects with level, reference_share, recent_share, reference_leads, recent_leads), summary (sentences),
        undated, model (its name). NaN is None."""
        columns = list(PERIOD_KEYS) + [c for c in self.periods.columns if c not in PERIOD_KEYS]
        return json_ready({
            "by": self.by,
            "reference": self.reference,
            "recent": self.recent,
            "periods": self.periods[columns].to_dict(orient="records"),
            "score_psi": self.score.psi,
            "score_verdict": self.score.verdict,
            "attributes": [d.to_dict() for d in self.attributes],
            "summary": list(self.summary),
            "undated": self.undated,
            "model": self.model.metadata.name,
        })


def review(
    leads: LeadSet, model: ScoringModel, by: str = "quarter", reference: str | None = None, recent: str | None = None,
    model_label: str = "the model",
) -> Review:
    """Review ``model`` on ``leads`` by quarter or month (``by``): cohorts, drift from ``reference`` to ``recent``, a summary.

    ``reference`` defaults to the data's first period and ``recent`` to its last; both are
    labels like '2024-Q1' or '2024-01' and are checked (one sentence, LeadModelError, when
    malformed or outside the data). ``model_label`` names the model in the summary ('the live
    model', "version 3 'Q3 tweaks'"). Raises LeadModelError when the data has no created date.
    """
    p: Periods = make_periods(leads, by)
    ref, rec = p.label(reference, 0), p.label(recent, len(p.labels) - 1)
    scores = leads.engine(model).scores(model)  # once, for the cohorts and the score drift
    pb = period_backtests(leads, model, periods=p, scores=scores)
    table = pb.table()
    ref_mask, rec_mask = p.index == p.position(ref), p.index == p.position(rec)
    for label, mask in ((ref, ref_mask), (rec, rec_mask)):
        if not mask.any():
            from lead_model.errors import LeadModelError

            raise LeadModelError(f"{label} holds no leads, so drift cannot be measured from or to it; pick a {by} with leads.")
    score = score_drift(leads, model, ref_mask, rec_mask, scores)
    attributes = attribute_drift(leads, model, ref_mask, rec_mask)
    summary = summary_sentences(table, p.by, ref, rec, score, attributes, model_label, p.undated, p.undated_sentence())
    return Review(p.by, ref, rec, model, table, pb.bands("tier"), pb.bands("grade"), score, attributes, summary, p.undated, pb)
