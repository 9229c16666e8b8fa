"""The engine switch's question on a real X display: whole text, the safe button default and
focused.

Light and dark: the main window on the session engine, two pieces of named work in flight
through the app's Runner (a pull with a long registry reference, which must wrap, and a
terminal), and the footer's switcher choosing another engine. The question comes up through
the real path (``EngineSwitcher.switch_to``); it is looked at while it runs: no text cut, every
control named, not smaller than its size hint, "Keep working on …" the default button AND the
focus widget of the active window (xcb gives real focus), then Escape keeps the old engine.
The two pieces of work are asyncio sleeps under those names: this test is about looks; the flow
with a real pull is tests/gui/test_engines_switch_busy.py. Screenshots go to
``$PORTSIDE_SCREENSHOTS/engines/`` when set.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from app.engines.busy import SwitchQuestion
from app.main_window import MainWindow
from app.settings import Settings
from engine.engines import add_engine
from tests.gui.conftest import wait_for
from tests.gui.display.checks import a11y_problems, clipped_texts, undersized
from tests.gui.display.looks import _mode, shown  # noqa: F401 - the mode fixture
from tests.gui.pages import own_config_dirs

pytestmark = [pytest.mark.gui, pytest.mark.engine]

WORK = [
    "Pull 127.0.0.1:5000/platform-team/billing-service-with-a-long-name:2026-11-30-build-4711",
    "Terminal (bash) in container 3f2a1b9c0d4e",
]


def test_switch_question_fits_and_keeps_by_default(
    qtbot: Any, app_ctx: Any, engine_endpoint: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, mode: str,
) -> None:
    own_config_dirs(monkeypatch, tmp_path)
    alias = tmp_path / "build.sock"
    alias.symlink_to(engine_endpoint.removeprefix("unix://"))
    other = add_engine("Build server", f"unix://{alias}")
    problems: list[str] = []
    looked: dict[str, Any] = {}
    tasks = [app_ctx.runner.run(lambda: asyncio.sleep(60), work=w) for w in WORK]
    try:
        settings = Settings(path=tmp_path / "config" / "settings.json")
        window = shown(qtbot, MainWindow(app_ctx, settings), (1280, 720))
        window.activateWindow()
        switcher: Any = window.engine_switcher  # type: ignore[attr-defined]
        old = switcher.current_name()
        left = [250]

        def look() -> None:
            box = QApplication.activeModalWidget()
            ready = (isinstance(box, SwitchQuestion) and box.isVisible()
                     and QApplication.activeWindow() is box and QApplication.focusWidget())
            if not ready:
                left[0] -= 1
                if left[0] > 0:
                    QTimer.singleShot(20, look)
                    return
                looked["none"] = repr(box)
                if isinstance(box, SwitchQuestion):
                    box.reject()
                return
            assert isinstance(box, SwitchQuestion)
            QApplication.processEvents()
            looked.update(text=box.text(), default=box.defaultButton(), keep=box.keep_button,
                          focus=QApplication.focusWidget(), stop=box.stop_button.text(),
                          size=(box.width(), box.height()))
            problems.extend(clipped_texts(box) + a11y_problems(box))
            if (why := undersized(box)) is not None:
                problems.append(why)
            out = os.environ.get("PORTSIDE_SCREENSHOTS")
            if out:
                (Path(out) / "engines").mkdir(parents=True, exist_ok=True)
                box.grab().save(str(Path(out) / "engines" / f"switch-question-{mode}.png"))
            qtbot.keyClick(box, Qt.Key.Key_Escape)

        QTimer.singleShot(20, look)
        assert switcher.switch_to(other.id) is None  # Escape kept the old engine
        assert "none" not in looked, f"the question never got the focus: {looked['none']}"
        assert f"2 operations are running on {old}" in looked["text"]
        assert all(w in looked["text"] for w in WORK)
        assert "Switching to Build server stops them." in looked["text"]
        assert looked["stop"] == "Stop them and switch"
        assert looked["default"] is looked["keep"]
        assert looked["focus"] is looked["keep"], looked["focus"]
        assert looked["keep"].text() == f"Keep working on {old}"
        assert switcher.current_name() == old and not any(t.done() for t in tasks)
        print(mode, "question size", looked["size"])
    finally:
        for task in tasks:
            task.cancel()
        wait_for(qtbot, lambda: all(t.done() for t in tasks))
    assert not problems, "\n".join(problems)
