"""Chart builders: backtest charts (Vega-Lite specs) and suggestion charts (Altair), from small tidy tables."""
