"""The Stats tab: live charts of CPU, memory, network and block I/O of one container.

Data flow: only while the tab is on screen (``set_active(True)``) and the container runs, ONE
stats stream is open — a :class:`engine.stats_monitor.StatsMonitor` (its own background thread
reading a raw socket, nothing on the GUI thread per sample; the async client's stream for an
endpoint it cannot read, via :func:`app.views.containers.store.stats_source_for`). A
:class:`QTimer` on the GUI thread takes the latest sample every :data:`TICK_MS` and feeds it to
:class:`engine.stats_calc.StatsHistory` (the docker CLI's formulas, byte rates between samples,
the last :data:`engine.stats_calc.DEFAULT_WINDOW_S` seconds kept); the pyqtgraph curves and
the summary labels are redrawn from it. ``set_active(False)``, a stop, a removal or
``close_tab`` close the stream (the monitor's thread ends and its socket closes); the history
stays, so coming back shows the last minutes with a gap. A restart (``container_changed`` with
a running container whose stream had ended) opens a new stream.

Charts: pyqtgraph (+ numpy), ~19 MB of wheels, chosen over Qt Charts, which is only in
PySide6-Addons (175 MB for 6.11.0); see pyproject.toml. They live in
:mod:`app.views.container_page.stats_charts`, imported when the tab is first shown.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from app import theme
from app.runner import describe_error
from app.views.containers.store import stats_source_for
from engine.stats_calc import StatsHistory, StatsPoint, format_bytes, format_rate

log = logging.getLogger(__name__)

TICK_MS = 500  # the engine samples once a second; half that keeps the charts at most 0.5 s late
REOPEN_S = 2.0  # how often a stream that ended while the container runs is opened again


class StatsTab(QWidget):
    """Live resource charts of one container; streams only while active and running."""

    title = "Stats"

    def __init__(self, ctx: Any, container_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.container_id = container_id
        self.history = StatsHistory()
        self.samples = 0  # samples added to the history (tests)
        self.memory_limit: int | None = None  # the container's own --memory, drawn as a line
        self._source: Any = None
        self._active = False
        self._running: bool | None = None  # None until the first inspect
        self._closed = False
        self._reopened = 0.0  # time.monotonic() of the last re-open of an ended stream
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

        self.status = QLabel("Open this tab to see live usage.")
        self.status.setObjectName("muted")
        self.status.setWordWrap(True)
        self.labels: dict[str, QLabel] = {}
        summary = QGridLayout()
        for col, (key, name) in enumerate(
            (("cpu", "CPU"), ("memory", "Memory"), ("network", "Network"), ("block", "Block I/O"))
        ):
            caption = QLabel(name)
            caption.setObjectName("muted")
            value = QLabel("—")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            summary.addWidget(caption, 0, col)
            summary.addWidget(value, 1, col)
            summary.setColumnStretch(col, 1)
            self.labels[key] = value
        self.charts: list[Any] = []  # built on first activation (_ensure_charts)
        self._grid = grid = QGridLayout()
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addLayout(summary)
        layout.addLayout(grid, 1)
        theme.notifier().changed.connect(self._recolour)
        self._inspect()

    # -- the PageTab protocol --------------------------------------------------------------
    def set_active(self, active: bool) -> None:
        self._active = active and not self._closed
        if self._active:
            self._ensure_charts()
        self._update_stream()

    def container_changed(self, details: Any) -> None:
        running = details is not None and bool(details.running) and not bool(details.paused)
        if not running:  # the "now" values are not now any more; the charts keep the history
            for label in self.labels.values():
                label.setText("—")
        if details is None:
            self._running = False
            self._stop_stream()
            self._say("The container was removed; the charts show its last minutes.")
            return
        self._running = running
        host = details.raw.get("HostConfig") if isinstance(details.raw, dict) else None
        memory = host.get("Memory") if isinstance(host, dict) else None
        self.memory_limit = memory if isinstance(memory, int) and memory > 0 else None
        self._apply_limit()
        if details.paused:
            self._say("The container is paused: its usage is not changing.")
        elif not details.running:
            self._say(
                f"The container is not running (exit code {details.exit_code}); "
                "the charts continue when it starts."
            )
        self._update_stream()

    def close_tab(self) -> None:
        self._closed = True
        self._active = False
        self._stop_stream()
        self._timer.stop()

    @property
    def streaming(self) -> bool:
        """True while a stats stream is open (tests check it closes when the tab is hidden)."""
        return self._source is not None

    def _ensure_charts(self) -> None:
        """Build the charts the first time the tab is shown (this imports pyqtgraph)."""
        if self.charts:
            return
        from app.views.container_page.stats_charts import CHARTS, Chart

        self.charts = [Chart(t, unit, curves) for t, unit, curves in CHARTS]
        for i, chart in enumerate(self.charts):
            self._grid.addWidget(chart.widget, i // 2, i % 2)
        self._recolour()
        self._apply_limit()
        if self.history:
            for chart in self.charts:
                chart.update(self.history)

    def _apply_limit(self) -> None:
        for chart in self.charts:
            if chart.title == "Memory":
                chart.set_limit(self.memory_limit)
                if self.history:
                    chart.update(self.history)

    # -- the stream ----------------------------------------------------------------------------
    def _inspect(self) -> None:
        client = self.ctx.client
        if client is None:
            return

        async def _go() -> Any:
            return await client.containers.inspect(self.container_id)

        def _done(details: Any) -> None:
            if shiboken6.isValid(self) and self._running is None and not self._closed:
                self.container_changed(details)

        def _failed(exc: BaseException) -> bool:
            if shiboken6.isValid(self):
                self._say(f"Cannot read the container: {describe_error(exc)}")
            return True

        self.ctx.runner.run(
            _go,
            key=f"stats.inspect.{self.container_id}",
            title="Inspect container",
            on_done=_done,
            on_error=_failed,
        )

    def _update_stream(self) -> None:
        want = self._active and bool(self._running) and self.ctx.client is not None
        if want and self._source is None:
            self._source = stats_source_for(self.ctx.client)
            self._source.set_targets([self.container_id])
            self._timer.start()
            if not self.history:
                self._say("Waiting for the first sample…")
        elif want and self.container_id not in self._source.targets:
            self._source.set_targets([self.container_id])  # the stream ended (a restart)
        elif not want:
            self._stop_stream()

    def _stop_stream(self) -> None:
        self._timer.stop()
        source, self._source = self._source, None
        if source is not None:
            source.close()

    def _tick(self) -> None:
        source = self._source
        if source is None:
            return
        for cid, exc in source.errors().items():
            if cid == self.container_id and self._running:
                log.debug("stats stream of %s ended: %s", cid[:12], exc)
                self._say(f"The stats stream ended ({exc}); reconnecting…")
        if self.container_id not in source.targets:
            # the stream ended while the container runs (an engine hiccup): open it again, at
            # most every REOPEN_S; a stop or removal comes as container_changed and ends this
            now = time.monotonic()
            if now - self._reopened >= REOPEN_S:
                self._reopened = now
                source.set_targets([self.container_id])
        sample = source.latest().get(self.container_id)
        if sample is None:
            return
        point = self.history.add(sample, now=time.time())
        if point is None:
            return
        self.samples += 1
        self._say("")
        self._show(point)

    def _show(self, p: StatsPoint) -> None:
        for chart in self.charts:
            chart.update(self.history)
        cpu = "—" if p.cpu_percent is None else f"{p.cpu_percent:.1f} %"
        procs = f"{p.pids} process" + ("" if p.pids == 1 else "es")
        self.labels["cpu"].setText(f"{cpu}   ({procs})")
        self.labels["memory"].setText(
            f"{format_bytes(p.memory_used)} / {format_bytes(p.memory_limit)}"
            f"   ({p.memory_percent:.1f} %)"
        )
        self.labels["network"].setText(
            f"↓ {format_rate(p.net_rx_rate)}  ↑ {format_rate(p.net_tx_rate)}\n"
            f"total {format_bytes(p.net_rx, binary=False)} / "
            f"{format_bytes(p.net_tx, binary=False)}"
        )
        self.labels["block"].setText(
            f"read {format_rate(p.block_read_rate)}  write {format_rate(p.block_write_rate)}\n"
            f"total {format_bytes(p.block_read, binary=False)} / "
            f"{format_bytes(p.block_write, binary=False)}"
        )
        for chart in self.charts:
            values = [self.labels[k].text() for k in ("cpu", "memory", "network", "block")]
            index = ["CPU", "Memory", "Network", "Block I/O"].index(chart.title)
            chart.widget.setAccessibleDescription(values[index].replace("\n", ", "))

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def _recolour(self, *_args: object) -> None:
        palette = theme.current()
        for chart in self.charts:
            chart.recolour(palette)
