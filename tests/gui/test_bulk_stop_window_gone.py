"""A bulk stop started by clicks outlives the window that started it, without a crash-like error.

How the app treats window close: with a tray, closing hides the window and the app keeps
running (``MainWindow.closeEvent``), so work the user started goes on to its end — as Docker
Desktop does — and its result lands in the hidden window (and in a tray notification for the
long kinds). If the window itself is destroyed while the work runs, the work still finishes on
the engine; only the view updates are dropped, quietly: no "Stop 3 containers: RuntimeError:
Internal C++ object (QTimer) already deleted" report, no error in the log.

Real parts: the session's private engine, three containers whose ``sh`` ignores SIGTERM (the
engine waits out their stop timeout, then kills them: the stop stays in flight for seconds), the
Containers view's toolbar clicked after Ctrl+A.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import shiboken6

from app.main_window import MainWindow
from app.settings import Settings
from app.tray import Tray
from tests.gui.conftest import wait_for
from tests.gui.pages import exit_codes, start_bulk_stop

pytestmark = [
    pytest.mark.gui,
    pytest.mark.engine,
    pytest.mark.qt_log_ignore("does not support propagateSizeHints"),
]

def test_closing_to_the_tray_lets_a_bulk_stop_finish_and_tell(
    app_ctx: Any, qtbot: Any, containers: Any, tmp_path: Path, caplog: Any
) -> None:
    """Closed to the tray mid-stop: the stop ends (every container exited), the hidden window's
    status line says so when it is opened again, a 4-container stop notifies, nothing failed."""
    window = MainWindow(app_ctx, Settings(path=tmp_path / "settings.json"))
    qtbot.addWidget(window)
    tray = Tray(app_ctx, window.show, lambda: None)
    window.tray_available = lambda: True  # type: ignore[method-assign]
    window.show()
    ids, task = start_bulk_stop(qtbot, app_ctx, window, containers, 4, stop_timeout=3)
    with caplog.at_level(logging.WARNING):
        window.close()
        assert not window.isVisible() and shiboken6.isValid(window)
        wait_for(qtbot, task.done, timeout=30)
        assert not task.cancelled() and task.exception() is None
        wait_for(qtbot, lambda: tray.notifications[-1] == ("Stop 4 containers", "Finished."))
    assert exit_codes(qtbot, app_ctx, ids) == [("exited", 137)] * 4
    window.show()
    view: Any = window.views["containers"]
    wait_for(qtbot, lambda: view.status.text().startswith("Stopped "))
    assert app_ctx.reported_errors == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_a_window_destroyed_mid_stop_drops_the_views_updates_quietly(
    app_ctx: Any, qtbot: Any, containers: Any, tmp_path: Path, caplog: Any
) -> None:
    """The window (and its Containers view, store and model) is deleted while 3 containers
    stop: the stop still runs to its end on the engine; no error is reported or logged."""
    window = MainWindow(app_ctx, Settings(path=tmp_path / "settings.json"))
    window.show()
    try:
        ids, task = start_bulk_stop(qtbot, app_ctx, window, containers, 3, stop_timeout=3)
    except BaseException:
        window.deleteLater()
        raise
    with caplog.at_level(logging.WARNING):
        window.close()
        window.deleteLater()
        wait_for(qtbot, lambda: not shiboken6.isValid(window))
        assert not task.done()  # the engine still waits out the stop timeout
        wait_for(qtbot, task.done, timeout=30)
        assert not task.cancelled() and task.exception() is None
        qtbot.wait(100)  # the runner's done callback runs a loop turn after the task ends
    assert app_ctx.runner.work_in_flight() == []
    assert exit_codes(qtbot, app_ctx, ids) == [("exited", 137)] * 3
    assert app_ctx.reported_errors == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
