"""The engines window, the add dialog and the footer's switcher on a real X display.

Light and dark: the Engines window lists the real ``dockerd --tlsverify`` (added by URL with
its certificates), an engine that is not there and the docker CLI's default context, after they
were probed; the add dialog shows its TLS fields and an error; the main window's footer shows
the switcher and its menu. Nothing may be clipped, no control nameless, no dialog smaller than
its size hint. Screenshots go to ``$PORTSIDE_SCREENSHOTS/engines/`` when set.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.engines.dialog import EnginesDialog
from app.engines.edit_dialog import EngineEditDialog
from app.main_window import MainWindow
from app.settings import Settings
from engine.engines import add_engine
from tests.gui.conftest import wait_for
from tests.gui.display.checks import a11y_problems, clipped_texts, elided_cells, undersized
from tests.gui.display.looks import _mode, shown  # noqa: F401 - the mode fixture
from tests.gui.pages import own_config_dirs

pytestmark = [pytest.mark.gui, pytest.mark.engine]


def save(widget: Any, name: str) -> None:
    out = os.environ.get("PORTSIDE_SCREENSHOTS")
    if out:
        (Path(out) / "engines").mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(out) / "engines" / f"{name}.png"))


def test_engines_window_add_dialog_and_switcher_fit(
    qtbot: Any, app_ctx: Any, tls_engine: Any, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, mode: str,
) -> None:
    own_config_dirs(monkeypatch, tmp_path)
    add_engine("Build server (TLS)", tls_engine.url, tls_engine.pki.client())
    add_engine("Old laptop", f"unix://{tmp_path}/gone.sock")
    problems: list[str] = []
    settings = Settings(path=tmp_path / "config" / "settings.json")
    window = shown(qtbot, MainWindow(app_ctx, settings), (1280, 720))
    problems += [f"footer: {p}" for p in clipped_texts(window.footer)]
    save(window, f"window-footer-{mode}")

    menu = window.engine_button.menu()  # type: ignore[attr-defined]
    shots: list[str] = []

    def look_at_menu() -> None:
        shots.append(", ".join(a.text() for a in menu.actions() if a.text()))
        save(menu, f"switcher-menu-{mode}")
        problems.extend(f"menu: {p}" for p in a11y_problems(menu))
        menu.close()

    QTimer.singleShot(300, look_at_menu)
    window.engine_button.showMenu()  # type: ignore[attr-defined]
    wait_for(qtbot, lambda: bool(shots))
    assert "Build server (TLS)" in shots[0] and "Manage engines…" in shots[0]

    dialog: EnginesDialog = window.open_engines()  # type: ignore[attr-defined]
    qtbot.waitExposed(dialog)
    wait_for(qtbot, lambda: not dialog.model.probing, timeout=60)
    states = {dialog.model.get(i)["name"]: dialog.model.get(i)["state"]  # type: ignore[index]
              for i in dialog.model.ids()}
    assert states["Build server (TLS)"] == "running"
    assert states["Old laptop"] == "unreachable"
    QApplication.processEvents()
    problems += [f"engines: {p}" for p in
                 clipped_texts(dialog) + a11y_problems(dialog) + elided_cells(dialog)]
    if (why := undersized(dialog)) is not None:
        problems.append(f"engines: {why}")
    save(dialog, f"engines-{mode}")

    editor: EngineEditDialog = dialog.add()
    qtbot.waitExposed(editor)
    editor.name.setText("Staging")
    editor.kind.setCurrentIndex(1)
    editor.address.setText("staging.example.com:2376")
    editor.tls.setChecked(True)
    editor.save_button.click()  # no CA while verifying: the error shows under the form
    QApplication.processEvents()
    assert editor.error.isVisible()
    problems += [f"add: {p}" for p in clipped_texts(editor) + a11y_problems(editor)]
    if (why := undersized(editor)) is not None:
        problems.append(f"add: {why}")
    save(editor, f"add-engine-tls-{mode}")
    editor.kind.setCurrentIndex(2)
    editor.address.setText("deploy@staging.example.com:22")
    editor.show_error("")
    QApplication.processEvents()
    problems += [f"add ssh: {p}" for p in clipped_texts(editor)]
    save(editor, f"add-engine-ssh-{mode}")
    editor.reject()
    dialog.reject()
    assert not problems, "\n".join(problems)
