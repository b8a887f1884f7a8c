"""The scoring model: its schema, what a value means when it is scored (semantics), starter models and migrations."""
