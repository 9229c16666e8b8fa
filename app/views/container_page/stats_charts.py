"""The Stats tab's four charts (pyqtgraph), kept apart so pyqtgraph and numpy load only when a
Stats tab is first shown (~0.3-0.4 s of imports), not when the app or a container page opens.

Data flow: :class:`app.views.container_page.stats_tab.StatsTab` calls :meth:`Chart.update` with
its :class:`engine.stats_calc.StatsHistory` after each new sample; each chart redraws its curves
from :meth:`StatsHistory.series` (unknown values are NaN: gaps) with x = seconds before the
newest sample, and recolours itself from the theme's palette.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Qt

from app import theme
from engine.stats_calc import StatsHistory

# (chart title, y unit for pyqtgraph's SI prefixes, [(StatsPoint field, curve label, colour)])
CHARTS: tuple[tuple[str, str, tuple[tuple[str, str, str], ...]], ...] = (
    ("CPU", "%", (("cpu_percent", "CPU", "#2458d3"),)),
    ("Memory", "B", (("memory_used", "Used", "#8250df"),)),
    (
        "Network",
        "B/s",
        (("net_rx_rate", "Received", "#1a7f37"), ("net_tx_rate", "Sent", "#d4700b")),
    ),
    (
        "Block I/O",
        "B/s",
        (("block_read_rate", "Read", "#0969da"), ("block_write_rate", "Written", "#cf222e")),
    ),
)


class Chart:
    """One pyqtgraph plot with its curves (one per field)."""

    def __init__(self, title: str, unit: str, curves: tuple[tuple[str, str, str], ...]) -> None:
        self.widget = pg.PlotWidget()
        self.widget.setAccessibleName(f"{title} chart")
        self.widget.setMinimumHeight(150)
        self.widget.setMenuEnabled(False)
        self.widget.setMouseEnabled(x=False, y=False)
        self.widget.hideButtons()
        plot = self.widget.getPlotItem()
        plot.setTitle(title)
        plot.setLabel("left", units=unit)
        plot.setLabel("bottom", "seconds ago")
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.setXRange(-60, 0, padding=0)
        plot.setLimits(yMin=0)
        if len(curves) > 1:
            plot.addLegend(offset=(-10, 10))
        self.title = title
        self.fields = [name for name, _label, _colour in curves]
        self.curves = [
            plot.plot([], [], pen=pg.mkPen(colour, width=2), name=label, connect="finite")
            for _name, label, colour in curves
        ]
        # a dashed line at the container's own limit (memory with --memory), hidden otherwise
        self.limit: float | None = None
        self.limit_line = pg.InfiniteLine(
            angle=0, movable=False, pen=pg.mkPen("#cf222e", width=1, style=Qt.PenStyle.DashLine)
        )
        self.limit_line.setVisible(False)
        plot.addItem(self.limit_line)

    def set_limit(self, value: float | None) -> None:
        """Show a limit line at ``value`` (None: no line); the y range keeps it in view."""
        self.limit = value if value and value > 0 else None
        self.limit_line.setVisible(self.limit is not None)
        if self.limit is not None:
            self.limit_line.setValue(self.limit)

    def update(self, history: StatsHistory) -> None:
        span = 60.0
        for name, curve in zip(self.fields, self.curves, strict=True):
            xs, ys = history.series(name)
            curve.setData(xs, ys, connect="finite")
            if xs:
                span = max(span, -xs[0])
        self.widget.getPlotItem().setXRange(-span, 0, padding=0)
        top = max(
            (v for name in self.fields for v in history.series(name)[1] if not math.isnan(v)),
            default=0.0,
        )
        if self.limit is not None:
            top = max(top, self.limit)
        self.widget.getPlotItem().setYRange(0, max(top * 1.15, _floor(self.title)), padding=0)

    def recolour(self, palette: theme.Palette) -> None:
        self.widget.setBackground(palette.base)
        plot = self.widget.getPlotItem()
        for axis in ("left", "bottom"):
            plot.getAxis(axis).setPen(palette.muted)
            plot.getAxis(axis).setTextPen(palette.muted)
        plot.setTitle(self.title, color=palette.text)


def _floor(title: str) -> float:
    """The smallest y range of a chart, so an idle container shows a flat line at the bottom."""
    return {"CPU": 10.0, "Memory": 1024.0 * 1024, "Network": 1024.0, "Block I/O": 1024.0}[title]
