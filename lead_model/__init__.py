"""Lead Model Studio: design, backtest and agree on a lead scoring model."""

from lead_model.errors import LeadModelError

# The public API, imported on first use so `lead-model --help` need not load pandas and scipy.
_EXPORTS = {
    "BacktestResult": "lead_model.engine.backtest",
    "backtest": "lead_model.engine.backtest",
    "LeadSet": "lead_model.data.leads",
    "load_leads": "lead_model.data.leads",
    "ScoringModel": "lead_model.model.schema",
    "ScoringEngine": "lead_model.engine.scoring",
    "score_leads": "lead_model.engine.scoring",
    "VersionRegistry": "lead_model.model.versions",
    "ShippingConfig": "lead_model.export.config",
    "lead_reasons": "lead_model.export.reasons",
    "workshop_report": "lead_model.export.report",
    "model_sql": "lead_model.export.sql",
    "spark_score": "lead_model.engine.spark",
    "spark_backtest": "lead_model.engine.spark",
}


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'lead_model' has no attribute '{name}'")
    import importlib

    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = ["BacktestResult", "LeadModelError", "LeadSet", "ScoringEngine", "ScoringModel", "backtest", "load_leads", "score_leads", "VersionRegistry",
           "ShippingConfig", "lead_reasons", "workshop_report", "model_sql",
           "spark_score", "spark_backtest"]
