"""The Logs tab and the merged logs window on a real X display, light and dark.

A container prints coloured lines, stderr lines and a long line; its container page is shown on
the Logs tab at 1280x720 and 1920x1080 with timestamps on, a search that matches (highlights
and a count) and a row selected by a mouse drag, and a screen reader must get the rows on screen;
then a merged window of it and a second container with wrap on (the long line on several
lines). Texts must fit, nothing may stick out, every control has a name. Screenshots go to
``$PORTSIDE_SCREENSHOTS/logs/``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAccessible
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
    'i=0; while [ $i -lt 40 ]; do echo "GET /api/items/$i 200 3ms"; i=$((i+1)); done; '
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
        # a drag selects the first row on screen (drawn in the selection colours)
        rect = logs.view.visual_rect(logs.view.verticalScrollBar().value())
        vp = logs.view.viewport()
        qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=QPoint(2, rect.center().y()))
        qtbot.mouseMove(vp, QPoint(vp.width() // 3, rect.center().y()))
        qtbot.mouseRelease(
            vp, Qt.MouseButton.LeftButton, pos=QPoint(vp.width() // 3, rect.center().y())
        )
        assert logs.view.selected_text()
        # a screen reader gets the rows on screen
        reader = QAccessible.queryAccessibleInterface(logs.view)
        assert reader.text(QAccessible.Text.Name) == "Container logs"
        assert "GET /api/items" in reader.text(QAccessible.Text.Value)
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
        qtbot.mouseClick(window.wrap, Qt.MouseButton.LeftButton)  # the 120-number line wraps
        long_row = next(
            i for i in range(window.view.row_count()) if "119 120" in window.view.row_text(i)
        )
        window.view.set_following(False)
        window.view.verticalScrollBar().setValue(max(0, long_row - 3))
        line_height = window.view.fontMetrics().lineSpacing()
        assert window.view.visual_rect(long_row).height() >= 2 * line_height
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
