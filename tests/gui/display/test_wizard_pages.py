"""Every first-run wizard page on a real X display, light and dark: nothing cut off, every
control named, the window not smaller than its size hint, the focus on a control of the page
(or on its default button), and Return's default button Next (Finish's "Run and show logs" on
the last page), never Skip or Close.

The wizard runs over a main window whose context has a NativeEngine in a folder of its own
whose ``daemon.json`` has a key dockerd refuses, so "Start engine" (Enter) shows the real
failure: dockerd's error, its log and Retry — the page's longest state; then the file is
fixed and Enter (Retry) starts the engine for real (stopped at the end). The checks and the
existing engines are the real ones of this machine. Screenshots go to
``$PORTSIDE_SCREENSHOTS/wizard/`` when set.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication, QLabel, QWizard

from app import theme
from app.context import AppContext
from app.main_window import MainWindow
from app.runner import Runner
from app.settings import Settings
from app.wizard import open_first_run
from engine.doctor import Check
from engine.lifecycle import EnginePaths, EngineState, NativeEngine
from tests.gui.conftest import run_async
from tests.gui.display.checks import a11y_problems, clipped_texts, undersized
from tests.gui.wizard_support import mnemonic, on_page, press, skip

pytestmark = [pytest.mark.gui]


@pytest.fixture
def own_root(own_engine_root: Path) -> Path:
    """The engine's own home with a daemon.json key dockerd refuses (the start page's failure)."""
    (own_engine_root / "daemon.json").write_text(json.dumps({"no-such-key": True}))
    return own_engine_root


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_every_wizard_page_fits_with_focus_and_default_button(
    qasync_loop: Any, qtbot: Any, qapp: Any, own_root: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, mode: str,
) -> None:
    monkeypatch.setenv("PORTSIDE_HOME", str(own_root))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.setenv("PORTSIDE_CONFIG_DIR", str(tmp_path / "portside"))
    out = os.environ.get("PORTSIDE_SCREENSHOTS")
    shots = Path(out) / "wizard" if out else None
    engine = NativeEngine(EnginePaths.at(own_root), iptables=False, start_timeout=30)
    ctx = AppContext(engine, attached=False, runner=Runner(show_dialogs=False))
    window = MainWindow(ctx, Settings.load())
    qtbot.addWidget(window)
    theme.apply(qapp, mode)
    problems: dict[str, list[str]] = {}
    wizard: Any = None
    try:
        window.show()
        qtbot.waitExposed(window)
        wizard = open_first_run(window)
        qtbot.waitExposed(wizard)
        qtbot.waitUntil(wizard.isActiveWindow, timeout=5000)

        def look(state: str) -> None:
            QApplication.processEvents()
            page = wizard.currentPage()
            focus = QApplication.focusWidget()
            last = wizard.nextId() == -1
            default = wizard.button(QWizard.WizardButton.FinishButton if last
                                    else QWizard.WizardButton.NextButton)
            found = clipped_texts(wizard) + a11y_problems(wizard)
            small = undersized(wizard)
            if small:
                found.append(small)
            if focus is None or not (page.isAncestorOf(focus) or focus is default
                                     or focus.window() is wizard):
                found.append(f"the focus is on {focus!r}, not on the page")
            others = [b.text() for b in wizard.findChildren(type(default))
                      if b.isDefault() and b is not default and b.isVisible()]
            if not default.isDefault() or others:
                found.append(f"default button: {default.text()!r} is "
                             f"{'' if default.isDefault() else 'not '}default; also {others}")
            if found:
                problems[state] = found
            if shots is not None:
                shots.mkdir(parents=True, exist_ok=True)
                wizard.grab().save(str(shots / f"{state}-{mode}.png"))

        on_page(qtbot, wizard, "welcome")
        look("welcome")
        press(qtbot, wizard, Qt.Key.Key_Return)
        on_page(qtbot, wizard, "checks")
        checks = wizard.pages["checks"]
        qtbot.waitUntil(lambda: len(checks.labels) > 0, timeout=10000)
        look("checks")
        real = list(checks.checks)
        # the longest state: failures with their fixes (as on a machine without dockerd)
        checks.show_checks([*real, Check(
            "dockerd", "Docker engine (dockerd)", False, "dockerd was not found in "
            "$PORTSIDE_BUNDLE_DIR, Portside's bundle folder or PATH (/usr/local/sbin:/usr/local/"
            "bin:/usr/sbin:/usr/bin:/sbin:/bin)", "sudo apt-get install docker.io iptables "
            "iproute2, or choose an engine already on this machine", True), Check(
            "disk", "Free disk space", False, "3.2 GiB free in /root/.local/share/portside/engine",
            "Free some space: `portside engine prune`, or Troubleshoot ▸ Clean up")])
        assert "blocks every engine" in checks.summary.text()
        QApplication.processEvents()  # new rows show on the next pass of the loop
        shown = [w for w in checks.list_host.findChildren(QLabel) if w.isVisible()]
        # one row per check and one more per failing check's fix (a fresh machine fails some
        # real checks too); no old rows left drawn
        rows = sum(1 + (not c.ok and bool(c.fix)) for c in real) + 4
        assert len(shown) == len(checks.labels) == rows
        look("checks-failed")
        checks.show_checks(real)
        press(qtbot, wizard, Qt.Key.Key_Return)
        on_page(qtbot, wizard, "engine")
        engine_page = wizard.pages["engine"]
        qtbot.waitUntil(lambda: not ctx.runner.in_flight("wizard.existing"), timeout=10000)
        look("engine")
        press(qtbot, wizard, Qt.Key.Key_Down)  # the VM: its resources page comes next
        assert engine_page.vm.isChecked()
        press(qtbot, wizard, Qt.Key.Key_Return)
        on_page(qtbot, wizard, "resources")
        look("resources")
        skip(qtbot, wizard)  # Skip: vm.json untouched and the VM not started early
        on_page(qtbot, wizard, "cli")
        cli = wizard.pages["cli"]
        qtbot.waitUntil(lambda: getattr(cli.panel, "facts", None) is not None, timeout=30000)
        look("cli")
        press(qtbot, wizard, Qt.Key.Key_Return)
        on_page(qtbot, wizard, "start")
        assert "tart engine" in wizard.button(QWizard.WizardButton.NextButton).text()
        look("start")  # nothing started yet: it asks first
        for _ in range(3):  # Alt+B back to the engine page
            mnemonic(qtbot, wizard, QWizard.WizardButton.BackButton, Qt.Key.Key_B)
        on_page(qtbot, wizard, "engine")
        assert QApplication.focusWidget() is engine_page.native
        press(qtbot, wizard, Qt.Key.Key_Space)  # Portside's own engine, then Next starts it
        press(qtbot, wizard, Qt.Key.Key_Return)
        on_page(qtbot, wizard, "cli")
        press(qtbot, wizard, Qt.Key.Key_Return)
        on_page(qtbot, wizard, "start")
        start = wizard.pages["start"]  # dockerd refuses daemon.json: the real failure
        qtbot.waitUntil(lambda: not start.starting, timeout=60000)
        assert ctx.engine.status.state == EngineState.FAILED
        assert start.log.isVisible() and "no-such-key" in start.log.toPlainText()
        assert "Retry" in wizard.button(QWizard.WizardButton.NextButton).text()
        look("start-failed")
        # the user fixes daemon.json and presses Enter (Retry): the engine starts
        (own_root / "daemon.json").write_text(json.dumps({"iptables": False}))
        press(qtbot, wizard, Qt.Key.Key_Return)
        qtbot.waitUntil(start.ready, timeout=60000)
        assert not start.log.isVisible()
        assert wizard.button(QWizard.WizardButton.NextButton).text() == "&Next"
        look("start-running")
        press(qtbot, wizard, Qt.Key.Key_Return)
        on_page(qtbot, wizard, "signin")
        assert wizard.pages["signin"].sign_in.isEnabled()  # the engine checks passwords now
        look("signin")
        skip(qtbot, wizard)
        on_page(qtbot, wizard, "first")
        look("first")
    finally:
        if wizard is not None and shiboken6.isValid(wizard):
            wizard.close()  # it deletes itself
            QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        theme.apply(qapp, "light")
        run_async(qtbot, ctx.shutdown(), timeout=60)  # stops the engine Retry started
    assert not problems, "\n".join(f"[{k}]\n  " + "\n  ".join(v) for k, v in problems.items())
