"""The Stats and Files tabs of the container page on a real X display, light and dark.

A busy container (a shell loop) is opened in a :class:`ContainerPage` at 1280x720 and
1920x1080; the Stats tab is shown once it has several samples, the Files tab once it lists
``/etc``. Texts must fit, nothing may stick out, every control has a name, the charts are not
blank. Screenshots go to ``$PORTSIDE_SCREENSHOTS/container-tabs/`` when set.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.views.container_page.page import ContainerPage
from tests.gui.conftest import run_async, wait_for
from tests.gui.display.looks import (
    WINDOW_SIZES,
    Looks,
    _mode,  # noqa: F401 - the mode fixture
    shown,
)

pytestmark = [pytest.mark.gui, pytest.mark.engine]


@WINDOW_SIZES
def test_stats_and_files_tabs_fit(
    qtbot: Any, app_ctx: Any, containers: Any, mode: str, size: tuple[int, int]
) -> None:
    script = "while :; do :; done"
    cid = containers.create("tabs", cmd=["sh", "-c", script], start=True)
    looks = Looks("container-tabs", f"{mode}-{size[0]}x{size[1]}")
    page = shown(qtbot, ContainerPage(app_ctx, cid), size)

    def look(name: str) -> None:
        # this file checks the two tabs (the page has its own test); the picture is the page's
        looks.check(name, page.tabs.currentWidget(), picture=page)

    try:
        page.show_tab("Stats")
        stats = page.tab("Stats")
        wait_for(qtbot, lambda: stats.samples >= 4, timeout=30)
        look("stats")
        page.show_tab("Files")
        files = page.tab("Files")
        wait_for(qtbot, lambda: files.model.rowCount() > 0, timeout=30)
        files.list_folder("/etc")
        wait_for(qtbot, lambda: files.folder == "/etc" and files.model.rowCount() > 0)
        look("files")
        files.open_path("/no/such/folder/with/a/rather/long/name/to/see/the/message/wrap")
        wait_for(qtbot, lambda: files.message.objectName() == "fieldError")
        look("files-error")
        run_async(qtbot, app_ctx.client.containers.kill(cid))
        wait_for(qtbot, lambda: not stats.streaming and "not running" in stats.status.text())
        page.show_tab("Stats")
        look("stats-stopped")
    finally:
        page.close_page()
    looks.assert_fine()
