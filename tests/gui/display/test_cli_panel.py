"""The docker CLI panel on a real X display: every state fits, light and dark, two widths.

The panel is shown in a plain window the size of a wizard page (720x480) and of the Settings
window's tab (960x600), first with nothing set up (the longest texts: every row needs a fix),
then with the context created and made current (the undo buttons), then with a corrupt
config.json (the error texts). Texts must fit, nothing may stick out, every control has a name.
Screenshots go to ``$PORTSIDE_SCREENSHOTS/cli-panel/`` when set.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

from app import theme
from app.cli_integration import CliIntegrationPanel
from tests.gui.display.checks import a11y_problems, clipped_texts

pytestmark = [pytest.mark.gui, pytest.mark.engine]


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("size", [(720, 480), (960, 600)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_cli_panel_fits_in_every_state(qtbot: Any, qapp: Any, app_ctx: Any, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch, mode: str,
                                           size: tuple[int, int]) -> None:
    folder = tmp_path / "docker"
    folder.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(folder))
    monkeypatch.setenv("PORTSIDE_CONFIG_DIR", str(tmp_path / "portside"))
    monkeypatch.setenv("SHELL", "")
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    theme.apply(qapp, mode)
    out = os.environ.get("PORTSIDE_SCREENSHOTS")
    shots = Path(out) / "cli-panel" if out else None
    window = QWidget()
    window.setWindowTitle("CLI integration")
    layout = QVBoxLayout(window)
    layout.setContentsMargins(24, 24, 24, 24)
    panel = CliIntegrationPanel(app_ctx)
    layout.addWidget(panel)
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    problems: dict[str, list[str]] = {}

    def look(state: str) -> None:
        QApplication.processEvents()
        assert (window.width(), window.height()) == size, f"{state}: the panel grew the window"
        found = clipped_texts(window) + a11y_problems(window)
        if found:
            problems[state] = found
        if shots is not None:
            shots.mkdir(parents=True, exist_ok=True)
            window.grab().save(str(shots / f"{state}-{mode}-{size[0]}x{size[1]}.png"))

    try:
        qtbot.waitUntil(lambda: panel.facts is not None, timeout=30000)
        look("not-set-up")
        for button in (panel.create_button, panel.use_button):
            with qtbot.waitSignal(panel.changed, timeout=30000), \
                    qtbot.waitSignal(panel.refreshed, timeout=30000):
                qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        assert panel.undo_button.isVisible()
        look("current")
        (folder / "config.json").write_text("{broken")
        with qtbot.waitSignal(panel.refreshed, timeout=30000):
            qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
        assert "Nothing was changed" in panel.note.text()
        look("corrupt-config")
    finally:
        theme.apply(qapp, "light")
    assert app_ctx.reported_errors == []
    assert not problems, "\n".join(f"[{k}]\n  " + "\n  ".join(v) for k, v in problems.items())
