"""Lead Model Studio: design, backtest and agree on a lead scoring model."""

from lead_model.backtest import BacktestResult, backtest
from lead_model.errors import LeadModelError
from lead_model.leads import LeadSet, load_leads
from lead_model.model import ScoringModel
from lead_model.scoring import ScoringEngine, score_leads

__all__ = ["BacktestResult", "LeadModelError", "LeadSet", "ScoringEngine", "ScoringModel", "backtest", "load_leads", "score_leads"]
