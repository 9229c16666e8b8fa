"""Diagnostics: the bundle a user sends when asking for help, and the engine-side repairs.

Headless (never imports Qt or ``app``): ``redact`` (the one redaction step), ``collect`` (what
goes into the bundle, read from paths passed in), ``bundle`` (writes the zip), ``purge`` (what
"Purge data" deletes, listed before it is deleted) and ``cli`` (``portside diagnostics``).
"""
