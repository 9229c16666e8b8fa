"""Session fixtures for the keyring (filled in by its owner)."""
