"""The quarterly review: periods from created dates, cohorts over time, a time-shifted backtest, drift (PSI), model comparison, summary sentences.

    from lead_model.review import review, compare, cohorts
    r = review(leads, model, by="quarter")          # reference = first period, recent = last
    r.periods, r.score_psi, r.attributes, r.summary, r.to_json()
    c = compare(leads, before_model, after_model)   # changes, kpis, crossers, examples
"""

from lead_model.review.cohorts import (
    PeriodBacktests,
    ShiftedBacktest,
    cohort_bands,
    cohorts,
    histograms_by_group,
    period_backtests,
    time_shifted_backtest,
)
from lead_model.review.compare import Comparison, Crossers, compare, kpi_table
from lead_model.review.drift import (
    AttributeDrift,
    LevelShift,
    ScoreDrift,
    attribute_drift,
    model_levels,
    psi,
    score_drift,
    verdict,
)
from lead_model.review.periods import Periods, check_by, parse_period, period_label, periods
from lead_model.review.review import Review, json_ready, review
from lead_model.review.summary import summary_sentences

__all__ = [
    "AttributeDrift", "Comparison", "Crossers", "LevelShift", "PeriodBacktests", "Periods", "Review", "ScoreDrift", "ShiftedBacktest",
    "attribute_drift", "check_by", "cohort_bands", "cohorts", "compare", "histograms_by_group", "json_ready", "kpi_table", "model_levels",
    "parse_period", "period_backtests", "period_label", "periods", "psi", "review", "score_drift", "summary_sentences",
    "time_shifted_backtest", "verdict",
]
