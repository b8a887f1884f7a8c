"""Suggestions from history: attribute statistics, binning, the joint points fit and its holdout validation."""
