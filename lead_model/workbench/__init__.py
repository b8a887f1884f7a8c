"""The model being designed, without a UI: undo history, the engine and results, reconciling a model with a dataset."""
