"""Lead Model Studio: design, backtest and agree on a lead scoring model."""

from lead_model.engine.backtest import BacktestResult, backtest
from lead_model.errors import LeadModelError
from lead_model.data.leads import LeadSet, load_leads
from lead_model.model.schema import ScoringModel
from lead_model.engine.scoring import ScoringEngine, score_leads

__all__ = ["BacktestResult", "LeadModelError", "LeadSet", "ScoringEngine", "ScoringModel", "backtest", "load_leads", "score_leads"]
