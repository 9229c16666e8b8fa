"""Qt item models: keyed by id, updated by diffs (see :mod:`app.models.keyed`)."""
