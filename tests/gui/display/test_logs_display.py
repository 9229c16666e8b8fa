"""The Logs tab and the merged logs window on a real X display, light and dark.

A container prints coloured lines, stderr lines and a long line; its container page is shown on
the Logs tab at 1280x720 and 1920x1080 with timestamps on and a search that matches (highlights
and a count); then a merged window of it and a second container. Texts must fit, nothing may
stick out, every control has a name. Screenshots go to ``$PORTSIDE_SCREENSHOTS/logs/``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from app import theme
from app.views.container_page.page import ContainerPage
from app.views.merged_logs.window import MergedLogsWindow
from tests.gui.conftest import wait_for
from tests.gui.display.checks import a11y_problems, clipped_texts

pytestmark = [pytest.mark.gui, pytest.mark.engine]

SCRIPT = (
    "echo 'Starting web server on :8080'; "
    "printf '\\033[32mINFO\\033[0m  listening on 0.0.0.0:8080\\n'; "
    "printf '\\033[33mWARN\\033[0m  config file not found, using defaults\\n'; "
    "echo 'error: could not reach the database (connection refused)' >&2; "
    "printf '\\033[1;31mERROR\\033[0m retrying in 5 s\\n'; "
    "i=0; while [ $i -lt 40 ]; do echo \"GET /api/items/$i 200 3ms\"; i=$((i+1)); done; "
    "echo \"$(seq -s ' ' 1 120)\"; "
    "while :; do echo 'GET /health 200 1ms'; sleep 2; done"
)


def _save(widget: QWidget, name: str) -> None:
    out = os.environ.get("PORTSIDE_SCREENSHOTS")
    image = widget.grab().toImage()
    assert not image.isNull()
    if out:
        folder = Path(out) / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        image.save(str(folder / f"{name}.png"))


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_logs_tab_and_merged_window_fit(
    qtbot: Any, qapp: Any, app_ctx: Any, containers: Any, mode: str, size: tuple[int, int]
) -> None:
    web = containers.create("web", cmd=["sh", "-c", SCRIPT], start=True)
    worker = containers.create(
        "worker",
        cmd=["sh", "-c", "while :; do echo 'job done'; echo 'job failed' >&2; sleep 0.5; done"],
        start=True,
    )
    theme.apply(qapp, mode)
    problems: dict[str, list[str]] = {}
    page = ContainerPage(app_ctx, web)
    qtbot.addWidget(page)
    page.resize(*size)
    page.show()
    qtbot.waitExposed(page)
    window: MergedLogsWindow | None = None
    try:
        page.show_tab("Logs")
        logs = page.tab("Logs")
        wait_for(qtbot, lambda: "GET /health" in logs.view.toPlainText(), timeout=30)
        qtbot.mouseClick(logs.timestamps, Qt.MouseButton.LeftButton)
        qtbot.keyClicks(logs.search.field, "GET")
        wait_for(qtbot, lambda: logs.view.highlighted_count() > 0)
        QApplication.processEvents()
        found = clipped_texts(logs) + a11y_problems(logs)
        if found:
            problems["logs"] = found
        _save(page, f"logs-tab-{mode}-{size[0]}x{size[1]}")

        window = MergedLogsWindow(
            app_ctx, [(web, containers.name("web")), (worker, containers.name("worker"))]
        )
        window.resize(*size)
        window.show()
        qtbot.waitExposed(window)
        wait_for(qtbot, lambda: "job failed" in window.view.toPlainText(), timeout=30)
        wait_for(qtbot, lambda: "Starting web server" in window.view.toPlainText(), timeout=30)
        QApplication.processEvents()
        found = clipped_texts(window) + a11y_problems(window)
        if found:
            problems["merged"] = found
        _save(window, f"merged-{mode}-{size[0]}x{size[1]}")
    finally:
        if window is not None:
            window.close_window()
            window.deleteLater()
        page.close_page()
        theme.apply(qapp, "light")
    assert not problems, "\n".join(f"[{k}]\n  " + "\n  ".join(v) for k, v in problems.items())
