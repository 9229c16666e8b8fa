"""Session fixtures for the registry (filled in by its owner)."""
