"""The Stats tab's numbers: docker-CLI values per sample, rates between samples, a ring buffer.

Data flow (pure, no I/O, no Qt): one ``/containers/{id}/stats`` sample, decoded by
:meth:`engine.models.Stats.from_api` (where the docker CLI's formulas live: CPU % =
Δcontainer CPU / Δsystem CPU × online CPUs × 100; memory used = usage − ``total_inactive_file``
on cgroup v1 or − ``inactive_file`` on v2; network and block I/O summed over interfaces and
``io_service_bytes_recursive`` entries) -> :meth:`StatsHistory.add` turns it into a
:class:`StatsPoint` with byte *rates* computed against the previous sample by the engine's own
``read`` timestamps (not the wall clock of whoever read the stream, which may batch samples)
-> a deque bounded to the last ``window_s`` seconds -> the GUI reads :meth:`StatsHistory.series`
once per tick.

The docker CLI shows totals for network and block I/O; a chart wants bytes per second, so the
rate of a counter is Δbytes / Δt between two samples. A counter that went *down* (the
container restarted and its cgroup and interfaces are new) gives no rate for that step (None,
drawn as a gap) rather than a negative spike.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from engine.models import Stats, parse_time

#: How much history the tab keeps by default: the last five minutes.
DEFAULT_WINDOW_S = 300.0


@dataclass(frozen=True)
class StatsPoint:
    """One sample as the charts show it; rates are bytes per second, None where unknown."""

    t: float  # the engine's ``read`` time, seconds since the epoch
    cpu_percent: float | None  # None for the first sample of a stream (no previous reading)
    memory_used: int
    memory_limit: int
    memory_percent: float
    net_rx: int  # totals, as ``docker stats`` shows them
    net_tx: int
    block_read: int
    block_write: int
    pids: int
    net_rx_rate: float | None = None
    net_tx_rate: float | None = None
    block_read_rate: float | None = None
    block_write_rate: float | None = None


def sample_time(stats: Stats, fallback: float) -> float:
    """The engine's ``read`` time of a sample in epoch seconds (``fallback`` when it has none)."""
    when = parse_time(stats.read) if stats.read else None
    return when.timestamp() if when is not None else fallback


def has_previous_cpu(stats: Stats) -> bool:
    """False for a stream's first sample, whose ``precpu_stats`` are empty (CPU % is 0 there)."""
    raw = stats.raw if isinstance(stats.raw, dict) else {}
    pre = raw.get("precpu_stats")
    if not isinstance(pre, dict):
        return False
    system = pre.get("system_cpu_usage")
    return isinstance(system, int) and system > 0


def rate(before: int, after: int, seconds: float) -> float | None:
    """Bytes per second of a counter between two samples; None when it cannot be known."""
    if seconds <= 0 or after < before:
        return None
    return (after - before) / seconds


def point_from(stats: Stats, t: float, previous: StatsPoint | None) -> StatsPoint:
    """The chart point of ``stats`` taken at ``t``, with rates against ``previous``."""
    base = StatsPoint(
        t=t,
        cpu_percent=stats.cpu_percent if has_previous_cpu(stats) else None,
        memory_used=stats.memory_usage,
        memory_limit=stats.memory_limit,
        memory_percent=stats.memory_percent,
        net_rx=stats.net_rx,
        net_tx=stats.net_tx,
        block_read=stats.block_read,
        block_write=stats.block_write,
        pids=stats.pids,
    )
    if previous is None:
        return base
    dt = t - previous.t
    return StatsPoint(
        **{
            **base.__dict__,
            "net_rx_rate": rate(previous.net_rx, stats.net_rx, dt),
            "net_tx_rate": rate(previous.net_tx, stats.net_tx, dt),
            "block_read_rate": rate(previous.block_read, stats.block_read, dt),
            "block_write_rate": rate(previous.block_write, stats.block_write, dt),
        }
    )


class StatsHistory:
    """The last ``window_s`` seconds of points, oldest first (a bounded deque).

    Args:
        window_s: seconds of history kept, measured back from the newest sample.
        max_points: a hard cap on top of the window (the engine samples once a second; a
            misbehaving clock must not grow the buffer).
    """

    def __init__(self, window_s: float = DEFAULT_WINDOW_S, max_points: int | None = None) -> None:
        self.window_s = window_s
        self._points: deque[StatsPoint] = deque(maxlen=max_points or int(window_s * 2) + 16)

    def __len__(self) -> int:
        return len(self._points)

    def __iter__(self) -> Iterator[StatsPoint]:
        return iter(self._points)

    @property
    def latest(self) -> StatsPoint | None:
        return self._points[-1] if self._points else None

    def clear(self) -> None:
        self._points.clear()

    def add(self, stats: Stats, now: float) -> StatsPoint | None:
        """Add one sample (``now`` is used only when it has no ``read`` time).

        Returns the new point, or None for a sample not newer than the last one (the same
        sample read twice).
        """
        t = sample_time(stats, now)
        last = self.latest
        if last is not None and t <= last.t:
            return None
        point = point_from(stats, t, last)
        self._points.append(point)
        while self._points and self._points[0].t < t - self.window_s:
            self._points.popleft()
        return point

    def series(self, name: str) -> tuple[list[float], list[float]]:
        """``(seconds before the newest sample (<= 0), values)`` of one :class:`StatsPoint` field.

        Unknown values (None) become NaN so a chart draws a gap there.
        """
        last = self.latest
        if last is None:
            return [], []
        xs: list[float] = []
        ys: list[float] = []
        for p in self._points:
            value = getattr(p, name)
            xs.append(p.t - last.t)
            ys.append(math.nan if value is None else float(value))
        return xs, ys


_BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
_DECIMAL = ("B", "kB", "MB", "GB", "TB", "PB")


def format_bytes(n: float, *, binary: bool = True) -> str:
    """Sizes as ``docker stats`` prints them: memory in KiB/MiB/GiB, I/O in kB/MB/GB."""
    units, step = (_BINARY, 1024.0) if binary else (_DECIMAL, 1000.0)
    value = float(n)
    for unit in units:
        if abs(value) < step or unit == units[-1]:
            return f"{value:.4g} {unit}"  # 4 significant digits, as go-units prints them
        value /= step
    return f"{value:.0f} {units[-1]}"  # pragma: no cover - the loop returns


def format_rate(bytes_per_s: float | None) -> str:
    """A rate for a label: ``1.2 MB/s``; an em dash when unknown."""
    if bytes_per_s is None or math.isnan(bytes_per_s):
        return "—"
    return f"{format_bytes(bytes_per_s, binary=False)}/s"
