"""The first-run guide moves the app to another engine (AppContext.use_engine) while a list of
the old engine is still waiting for its answer: the list ends quietly, nothing is reported.

Real parts: the session's private engine, held by SIGSTOP (SIGCONT always follows), so the list
is on the wire when the move comes; the engine moved to is one nobody runs.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.lifecycle import ExternalEngine
from tests.gui.conftest import run_async, wait_for
from tests.gui.test_engines_switch_names import engine_paused

pytestmark = [pytest.mark.gui, pytest.mark.engine]


def test_a_list_in_flight_when_the_guide_moves_the_app_is_not_reported(
    app_ctx: Any, qtbot: Any, native_engine: Any, tmp_path: Any
) -> None:
    client = app_ctx.client
    assert client is not None
    with engine_paused(native_engine):
        listing = app_ctx.runner.run(lambda: client.networks.list(), key="test.networks",
                                     title="List networks")
        qtbot.wait(300)  # the request is on the wire, dockerd does not answer
        assert not listing.done()
        elsewhere = ExternalEngine(f"unix://{tmp_path}/nobody.sock")
        run_async(qtbot, app_ctx.use_engine(elsewhere, attached=True))
        wait_for(qtbot, listing.done, timeout=10)
    assert listing.cancelled()
    qtbot.wait(200)
    assert app_ctx.reported_errors == []
    assert app_ctx.engine is elsewhere and app_ctx.client is None
