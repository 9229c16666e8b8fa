"""The first-run wizard (issue 11): welcome, checks, engine, resources, CLI, start, sign-in, and
a first container whose logs open in the window.

- :mod:`.wizard` — :class:`FirstRunWizard`: page order, Skip, resume (``Settings.wizard_step``),
  finish (``Settings.first_run_done``);
- :mod:`.intro`, :mod:`.engine_pages`, :mod:`.setup_pages`, :mod:`.start`,
  :mod:`.first_container` — the pages;
- :mod:`.choice` and :mod:`.first_image` — what the pages decide and run, without Qt.

:func:`wanted` decides whether a launch opens it (``app.gui``); :func:`open_first_run` opens it
over the main window (also from Help ▸ First-run guide…) and shows the first container's logs.
"""

from __future__ import annotations

import os
from typing import Any

#: ``0`` never opens the guide at launch (tests of other features, kiosks); ``1`` always does.
ENV = "PORTSIDE_FIRST_RUN"


def wanted(settings: Any, env: dict[str, str] | None = None) -> bool:
    """Should this launch open the guide? When it never finished, unless ``PORTSIDE_FIRST_RUN``
    says otherwise."""
    value = (os.environ if env is None else env).get(ENV, "")
    if value == "0":
        return False
    if value == "1":
        return True
    return not bool(getattr(settings, "first_run_done", False))


def open_first_run(window: Any, **kwargs: Any) -> Any:
    """Open the guide over ``window`` (one at a time); returns the wizard."""
    import shiboken6

    from app.wizard.wizard import FirstRunWizard

    current = getattr(window, "first_run_wizard", None)
    if current is not None and shiboken6.isValid(current) and current.isVisible():
        current.raise_()
        current.activateWindow()
        return current
    wizard = FirstRunWizard(window.ctx, window.settings, window, **kwargs)
    window.first_run_wizard = wizard

    def show_logs(cid: str) -> None:
        view = window.show_view("containers")
        show = getattr(view, "show_logs", None)
        if callable(show):
            show(cid)

    wizard.container_started.connect(show_logs)
    wizard.show()  # a new window comes up on top; only an open one needs raise_()
    wizard.activateWindow()
    return wizard


def add_help_item(window: Any) -> Any:
    """Help ▸ First-run guide… on the main window; returns the action."""
    from PySide6.QtGui import QAction

    action = QAction("First-run guide…", window)
    action.setToolTip("Check the system, choose and start the engine, run a first container")
    action.triggered.connect(lambda: open_first_run(window))
    window.help_menu.addAction(action)
    window.first_run_action = action
    return action
