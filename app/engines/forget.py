"""Forget everything tied to the previous engine when the app moves to another one.

Runs on ``AppContext.engine_switching`` (emitted BEFORE the old client closes), on the GUI
thread: every view's open container page is closed (its log, stats and exec streams end with
it), the Containers details pane stops its log stream, every row model is emptied (rows of the
old engine must not show under the new one's name, even for a moment, nor behind an
unreachable engine's state page), and every window or dialog built on the context (merged logs,
details and run dialogs, troubleshoot…) is closed. The main window and windows that say
``survives_engine_switch = True`` (the Engines dialog) stay.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import shiboken6
from PySide6.QtWidgets import QApplication, QWidget

log = logging.getLogger(__name__)


def forget_views(views: dict[str, QWidget]) -> None:
    """Close open pages and panes and empty the models of the window's views."""
    for key, view in views.items():
        try:
            close_page = getattr(view, "close_page", None)
            if callable(close_page):
                close_page()
            details = getattr(view, "details", None)
            if details is not None and hasattr(details, "stop_logs"):
                details.stop_logs()
                details.close_panel()
            model = getattr(view, "model", None)
            if model is not None and callable(getattr(model, "clear", None)):
                model.clear()
            store = getattr(view, "store", None)
            if store is not None and hasattr(store, "synced_once"):
                store.synced_once = False
        except Exception:  # one view failing must not keep the others on the old engine
            log.exception("forgetting the previous engine in the %s view failed", key)


def engine_windows(ctx: Any, keep: tuple[QWidget, ...] = ()) -> list[QWidget]:
    """Open top-level windows built on ``ctx`` (other than ``keep`` and switch survivors)."""
    found: list[QWidget] = []
    for widget in QApplication.topLevelWidgets():
        if not shiboken6.isValid(widget) or widget in keep or not widget.isVisible():
            continue
        if getattr(widget, "ctx", None) is not ctx:
            continue
        if getattr(widget, "survives_engine_switch", False):
            continue
        found.append(widget)
    return found


def close_engine_windows(ctx: Any, keep: tuple[QWidget, ...] = ()) -> int:
    """Close every window tied to the old engine; returns how many were closed."""
    windows = engine_windows(ctx, keep)
    for widget in windows:
        with contextlib.suppress(RuntimeError):
            widget.close()
    return len(windows)


def install(ctx: Any, window: Any) -> None:
    """Forget the old engine's pages, rows and windows on every switch ``window``'s ctx makes."""

    def _on_switching(_engine: Any) -> None:
        if not shiboken6.isValid(window):
            return
        forget_views(window.views)
        closed = close_engine_windows(ctx, keep=(window,))
        if closed:
            log.info("engine switch: closed %d window(s) of the previous engine", closed)

    ctx.engine_switching.connect(_on_switching)
