"""The lead-model command line (``lead-model`` or ``python -m lead_model.cli``)."""

from lead_model.cli.main import main

__all__ = ["main"]
