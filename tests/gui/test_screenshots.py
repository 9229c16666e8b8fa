"""Render every view of the main window (with real data), light and dark, and save PNGs to
$PORTSIDE_SCREENSHOTS. (tests/gui/display does the same on a real X display, with every dialog
and the clipping checks.)

Without PORTSIDE_SCREENSHOTS the images are still rendered and checked (non-empty, not blank);
only writing them is skipped.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from app import theme
from app.main_window import MainWindow
from app.settings import Settings
from tests.gui.conftest import wait_for
from tests.gui.display.looks import distinct_colours

pytestmark = [pytest.mark.gui, pytest.mark.engine]

REFRESH_KEYS = (
    "containers.refresh",
    "images.refresh",
    "volumes.refresh",
    "networks.refresh",
    "disk.refresh",
    "accounts.refresh",
)


def test_screenshots_of_every_view(
    app_ctx: Any, containers: Any, qtbot: Any, tmp_path: Path
) -> None:
    out = os.environ.get("PORTSIDE_SCREENSHOTS")
    project = containers.prefix + "-shop"
    web = containers.create(
        "web",
        start=True,
        extra={
            "ExposedPorts": {"80/tcp": {}},
            "HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": "0"}]}},
        },
    )
    db = containers.create("db-1", labels={"com.docker.compose.project": project}, start=True)
    containers.create("api-1", labels={"com.docker.compose.project": project})
    containers.create("job", cmd=["true"])

    window = MainWindow(app_ctx, Settings(path=tmp_path / "s.json"))
    qtbot.addWidget(window)
    window.resize(1280, 760)
    window.show()
    view = window.show_view("containers")
    # Only this test's containers are looked at: the engine is shared with the other tests.
    wait_for(qtbot, lambda: all(c in view.model for c in containers.ids))
    running = [web, db]
    wait_for(qtbot, lambda: all(view.model.get(c)["state"] == "running" for c in running))  # type: ignore[index]
    states = {c: view.model.get(c)["state"] for c in containers.ids}  # type: ignore[index]
    assert list(states.values()).count("running") == 2, states
    # every visible running row gets CPU/memory from its stats stream
    wait_for(qtbot, lambda: all((view.model.get(c) or {}).get("mem") for c in running), timeout=15)
    shots = {}
    for key in window.views:
        widget = window.show_view(key)
        # let the view's first full list land (each view lists under its own runner key); the
        # rows are filled by the done callbacks, which run a loop turn after in_flight() turns
        # False, and the runner is busy until they have run
        wait_for(
            qtbot,
            lambda: not any(app_ctx.runner.in_flight(k) for k in REFRESH_KEYS)
            and not app_ctx.runner.busy,
        )
        image = window.grab().toImage()
        assert not image.isNull() and image.width() >= 1000, key
        assert distinct_colours(image, step=7) > 5, f"{key} rendered blank"
        shots[key] = image
        assert widget.isVisible()
    # the same views in the dark theme, switched live from the Appearance menu
    try:
        window.theme_actions["dark"].trigger()
        for key in window.views:
            window.show_view(key)
            qtbot.wait(50)
            image = window.grab().toImage()
            assert distinct_colours(image, step=7) > 5, f"{key} rendered blank in dark"
            # the view's background is dark, not the light palette's
            assert image.pixelColor(image.width() - 30, image.height() // 2).lightness() < 90, key
            shots[f"{key}-dark"] = image
    finally:
        theme.reset(QApplication.instance())  # type: ignore[arg-type]
    window.show_view("containers")
    view.select([containers.ids[0]])
    view.open_selected()
    wait_for(qtbot, lambda: containers.ids[0] in view.details.raw.toPlainText())
    shots["containers-details"] = window.grab().toImage()
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        for key, image in shots.items():
            assert image.save(str(Path(out) / f"{key}.png")), key
