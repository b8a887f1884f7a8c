"""Leads in and out of the store: reading files, column roles, encoding, data quality and leak checks."""
