"""The app on an engine of its own that the test starts, stops and restarts (not the session's).

Data flow: the ``own_engine_root`` fixture (tests/support/engine_fixtures.py) gives a fresh home
under /tmp (its own data root, socket, bridge), removed after the test. :func:`own_engine_window`
puts a not yet started ``NativeEngine`` (iptables off) there, an :class:`AppContext` that owns it
with dialogs turned off and every error the runner reports collected in a list, and the main window
on it, shown. The test starts the engine (``ctx.start()``) and, in its own ``finally``, shuts the
context down, which stops the engine, so it can check the engine stopped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.context import AppContext
from app.main_window import MainWindow
from app.runner import Runner
from app.settings import Settings
from engine.lifecycle import EnginePaths, NativeEngine


def own_engine_window(
    qtbot: Any, root: Path, settings: Path
) -> tuple[NativeEngine, AppContext, MainWindow, list[tuple[str, str]]]:
    """The engine (not started), its context, the main window (shown) and the errors list."""
    engine = NativeEngine(EnginePaths.at(root), iptables=False, start_timeout=60)
    runner = Runner(show_dialogs=False)
    errors: list[tuple[str, str]] = []
    runner.error_reported.connect(lambda t, m: errors.append((t, m)))
    ctx = AppContext(engine, attached=False, runner=runner)
    window = MainWindow(ctx, Settings(path=settings))
    qtbot.addWidget(window)
    window.show()
    return engine, ctx, window, errors
