"""``python -m lead_model.cli`` runs the same command line as ``lead-model``."""

from lead_model.cli.main import main

main(prog_name="lead-model")
