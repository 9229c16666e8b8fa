"""The Containers page, split by concern.

- :mod:`.store` — the model kept in step with the engine (resync, event diffs, stats sources);
- :mod:`.view` — the tree, toolbar, search and the stats-for-visible-rows logic;
- :mod:`.actions` — what the toolbar, menus and keys do to containers;
- :mod:`.details` and :mod:`.logs` — the details pane and its bounded log view.

``app.main_window`` loads ``ContainersView`` from this package by name.
"""

from app.views.containers.details import DetailsPanel
from app.views.containers.logs import LOG_TAIL_LINES, LogPane
from app.views.containers.store import (
    STATS_TICK_MS,
    STATS_TICK_UNFOCUSED_MS,
    AsyncStatsSource,
    ContainerStore,
    stats_source_for,
)
from app.views.containers.view import ContainersView

__all__ = [
    "LOG_TAIL_LINES",
    "STATS_TICK_MS",
    "STATS_TICK_UNFOCUSED_MS",
    "AsyncStatsSource",
    "ContainerStore",
    "ContainersView",
    "DetailsPanel",
    "LogPane",
    "stats_source_for",
]
