"""The About dialog on a real X display: nothing cut off, light and dark, focus on Close.

Screenshots go to ``$PORTSIDE_SCREENSHOTS/about/`` when set.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from app import theme
from app.dialogs.about import AboutDialog
from tests.gui.display.checks import a11y_problems, clipped_texts

pytestmark = [pytest.mark.gui, pytest.mark.engine]


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_the_about_dialog_fits(qtbot: Any, qapp: Any, app_ctx: Any, mode: str) -> None:
    theme.apply(qapp, mode)
    try:
        dialog = AboutDialog(app_ctx)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        QApplication.processEvents()
        assert dialog.value_labels["Engine"].text().startswith("Docker ")
        dialog.activateWindow()
        qtbot.waitUntil(dialog.isActiveWindow, timeout=5000)
        focus = QApplication.focusWidget()
        assert focus is not None and focus.text() == "Close", focus
        problems = clipped_texts(dialog) + a11y_problems(dialog)
        out = os.environ.get("PORTSIDE_SCREENSHOTS")
        if out:
            (Path(out) / "about").mkdir(parents=True, exist_ok=True)
            dialog.grab().save(str(Path(out) / "about" / f"about-{mode}.png"))
    finally:
        theme.apply(qapp, "light")
    assert not problems, "\n".join(problems)
