"""Shipping a model: scored leads out of the store."""
