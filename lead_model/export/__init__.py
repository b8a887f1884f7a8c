"""Shipping a model: scored leads out of the store (with their reasons), the signed-off shipping config, the workshop report."""
