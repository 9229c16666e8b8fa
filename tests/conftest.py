"""Shared test set-up: Qt offscreen, and the real parts (engine, registry, keyring) as fixtures.

The fixtures live in ``tests/support``; each starts a real process the session owns and ends only
that process, by its id.
"""

from __future__ import annotations

import os
import signal

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests send Ctrl+C (SIGINT) to the CLIs they start. A suite started as a background job of a
# non-interactive shell (`.ci/run &`) inherits SIGINT *ignored*, every child would too, and
# Python then never raises KeyboardInterrupt: give children the default disposition back.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
# The first-run guide opens on a launch without settings; tests of other features (which start
# the app with a fresh PORTSIDE_CONFIG_DIR) must not see it. tests/gui/test_wizard*.py ask for it.
os.environ.setdefault("PORTSIDE_FIRST_RUN", "0")

pytest_plugins = [
    "tests.support.engine_fixtures",
    "tests.support.registry_fixtures",
    "tests.support.keyring_fixtures",
    "tests.support.remote_engines",
]
