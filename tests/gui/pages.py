"""Putting the app's windows and the Containers view on screen, and driving them as a user does.

Data flow: :func:`shown_containers_view` shows the Containers view (by default as the active
window) and waits for its first full list. :func:`open_container_page` waits until the view
lists the container, types its name into the search box, waits until the filter leaves that one
row, clicks the row and presses Enter (the view opens its page), and returns the page once it has
the container's details (its first inspect landed). :func:`click_tab` clicks a tab of the page
by its title on the tab bar and checks the page switched to it. :func:`open_details_pane` opens
the Containers view's details pane for one container and waits until no engine work is in
flight. :func:`start_bulk_stop` creates SIGTERM-deaf containers (:data:`DEAF`, a stop timeout
of the test's choosing, so the stop stays in flight), selects them with Ctrl+A in the main
window's Containers view and clicks the toolbar's Stop; :func:`exit_codes` reads what the engine
says each container ended with.

:func:`own_config_dirs` points the app's settings and the docker CLI's config into a test's
folder (no ``DOCKER_*`` variable of the machine leaks in); :func:`main_window_shown` is the main
window on screen with its settings file there, and closes the Engines window it may have opened.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import Qt

from tests.gui.conftest import run_async, wait_for
from tests.gui.display.drive import settle


def shown_containers_view(
    qtbot: Any,
    ctx: Any,
    size: tuple[int, int] = (1200, 760),
    active_within: float | None = 5,
    synced_within: float = 15,
) -> Any:
    """The Containers view of ``size``, shown, with its first list done (``synced_within`` s).

    By default it is made the active window (keys go to the focused widget of the active window,
    as for a user) within ``active_within`` seconds; ``None`` only shows it.
    """
    from app.views.containers import ContainersView

    view = ContainersView(ctx)
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    if active_within is not None:
        view.activateWindow()
        wait_for(qtbot, view.isActiveWindow, timeout=active_within)
    wait_for(qtbot, lambda: view.store.synced_once, timeout=synced_within)
    return view


def open_container_page(qtbot: Any, view: Any, container_id: str) -> Any:
    """The page of ``container_id``, opened from the Containers ``view`` by click and Enter."""
    wait_for(qtbot, lambda: container_id in view.model)
    view.search.setText(view.model.get(container_id)["name"])
    wait_for(qtbot, lambda: view.proxy.rowCount() == 1)
    rect = view.tree.visualRect(view.proxy.index(0, 0))
    qtbot.mouseClick(view.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.keyClick(view.tree, Qt.Key.Key_Return)
    page = view.page
    wait_for(qtbot, lambda: page is not None and page.details is not None)
    return page


def open_details_pane(qtbot: Any, ctx: Any, window: Any, container_id: str) -> Any:
    """The Containers view, shown in ``window``, with ``container_id``'s details pane open."""
    containers = window.show_view("containers")
    containers.select([container_id])
    containers.open_selected()
    wait_for(qtbot, lambda: containers.details.isVisible())
    settle(qtbot, ctx)
    return containers


def open_purge(qtbot: Any, window: Any) -> tuple[Any, Any]:
    """Help ▸ Troubleshoot ▸ Reset ▸ Purge data… by clicks: (the Reset page, its purge dialog,
    shown)."""
    from tests.gui.modals import open_from_help_menu

    dialog = open_from_help_menu(qtbot, window, "troubleshoot")
    click_tab(qtbot, dialog, "Reset")
    page = dialog.data_page
    qtbot.mouseClick(page.purge_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: page.purge_dialog is not None and page.purge_dialog.isVisible(), 30)
    return page, page.purge_dialog


def click_tab(qtbot: Any, page: Any, title: str) -> Any:
    """Click the page's tab called ``title``; returns the tab, now the current one."""
    index = next(i for i in range(page.tabs.count()) if page.tabs.tabText(i) == title)
    bar = page.tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert page.tabs.currentIndex() == index, title
    return page.tabs.widget(index)


#: sh ignores SIGTERM: a stop waits the whole StopTimeout, then kills (exit 137)
DEAF = ["sh", "-c", 'trap "" TERM; sleep 600']


def start_bulk_stop(qtbot: Any, ctx: Any, window: Any, containers: Any, count: int,
                    stop_timeout: int) -> tuple[list[str], Any]:
    """``count`` SIGTERM-deaf containers (``stop_timeout`` s), all selected with Ctrl+A in the
    ``window``'s Containers view and stopped by a click on the toolbar's Stop; returns their ids
    and the runner's task, still in flight as the only work."""
    extra = {"StopSignal": "SIGTERM", "StopTimeout": stop_timeout}
    ids = [containers.create(f"deaf{i}", cmd=DEAF, start=True, extra=extra)
           for i in range(count)]
    view = window.show_view("containers")
    view.search.setText(containers.prefix)
    wait_for(qtbot, lambda: all((view.model.get(c) or {}).get("state") == "running" for c in ids))
    view.tree.setFocus()
    qtbot.keyClick(view.tree, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert sorted(view.selected_ids()) == sorted(ids)
    qtbot.mouseClick(view.toolbar.widgetForAction(view.actions_by_name["stop"]),
                     Qt.MouseButton.LeftButton)
    name = f"Stop {count} containers"
    assert ctx.runner.work_in_flight() == [name]
    return ids, next(t for t, n in ctx.runner._work.items() if n == name)


def exit_codes(qtbot: Any, ctx: Any, ids: list[str]) -> list[tuple[str, int]]:
    """(status, exit code) of each container in ``ids``, as the engine inspects them now."""
    async def codes() -> list[tuple[str, int]]:
        found = [await ctx.client.containers.inspect(c) for c in ids]
        return [(d.raw["State"]["Status"], d.exit_code) for d in found]

    return run_async(qtbot, codes())


def own_config_dirs(monkeypatch: pytest.MonkeyPatch, root: Path) -> Path:
    """The app's config in ``root/config``, the docker CLI's in ``root/docker``, and none of the
    machine's ``DOCKER_HOST``/``DOCKER_CONTEXT``/TLS variables; returns ``root``."""
    for var in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PORTSIDE_CONFIG_DIR", str(root / "config"))
    monkeypatch.setenv("DOCKER_CONFIG", str(root / "docker"))
    return root


@contextlib.contextmanager
def main_window_shown(qtbot: Any, ctx: Any, root: Path, size: tuple[int, int]) -> Iterator[Any]:
    """The main window on ``ctx`` with its settings in ``root/config``, shown at ``size``; on the
    way out the Engines window it opened (if any, and not deleted yet) is closed."""
    from app.main_window import MainWindow
    from app.settings import Settings

    win = MainWindow(ctx, Settings(path=root / "config" / "settings.json"))
    qtbot.addWidget(win)
    win.resize(*size)
    win.show()
    try:
        yield win
    finally:
        dialog = getattr(win, "engines_dialog", None)
        if dialog is not None and shiboken6.isValid(dialog):
            dialog.close()
