"""Session fixtures for the engine (filled in by its owner)."""
