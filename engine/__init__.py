"""Portside's headless core: the engine API client, engine lifecycle and credentials.

Nothing under ``engine`` imports Qt or :mod:`app`; ``tests/test_layering.py`` keeps it so.
"""

__version__ = "0.1.0"
