"""Scoring and backtesting: the packed-key engine, score histograms, metrics, intervals and threshold rules."""
