"""Container resource usage: one ``/containers/{id}/stats`` sample, as ``docker stats`` shows it.

Data flow: :meth:`engine.client.containers.Containers.stats` and the bulk reader
:mod:`engine.stats_monitor` hand each sample's JSON to :meth:`Stats.from_api`, which derives CPU
and memory percentages with the docker CLI's formulas (:func:`cpu_percent`,
:func:`memory_usage`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.models.fields import JSON, dict_of, int_of, str_of


@dataclass(frozen=True, slots=True)
class Stats:
    """One sample of ``GET /containers/{id}/stats``, with the docker CLI's derived numbers.

    ``cpu_percent`` and ``memory_usage`` follow docker/cli
    ``cli/command/container/stats_helpers.go`` (Linux): CPU% from the deltas against
    ``precpu_stats``; memory usage minus the page cache (``total_inactive_file`` on cgroup v1,
    ``inactive_file`` on v2).
    """

    id: str
    name: str
    read: str
    cpu_percent: float
    memory_usage: int
    memory_limit: int
    memory_percent: float
    net_rx: int
    net_tx: int
    block_read: int
    block_write: int
    pids: int
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, d: JSON) -> Stats:
        mem = dict_of(d.get("memory_stats"))
        usage, limit = memory_usage(mem), int_of(mem.get("limit"))
        rx = tx = 0
        for net in dict_of(d.get("networks")).values():
            if isinstance(net, dict):
                rx += int_of(net.get("rx_bytes"))
                tx += int_of(net.get("tx_bytes"))
        read = write = 0
        for entry in dict_of(d.get("blkio_stats")).get("io_service_bytes_recursive") or ():
            if not isinstance(entry, dict):
                continue
            op = str_of(entry.get("op"))[:1].lower()
            if op == "r":
                read += int_of(entry.get("value"))
            elif op == "w":
                write += int_of(entry.get("value"))
        return cls(
            id=str_of(d.get("id")),
            name=str_of(d.get("name")).lstrip("/"),
            read=str_of(d.get("read")),
            cpu_percent=cpu_percent(d),
            memory_usage=usage,
            memory_limit=limit,
            memory_percent=100.0 * usage / limit if limit > 0 else 0.0,
            net_rx=rx,
            net_tx=tx,
            block_read=read,
            block_write=write,
            pids=int_of(dict_of(d.get("pids_stats")).get("current")),
            raw=d,
        )


def cpu_percent(d: JSON) -> float:
    """CPU usage in percent of one CPU × online CPUs, as ``docker stats`` computes it."""
    cpu, pre = dict_of(d.get("cpu_stats")), dict_of(d.get("precpu_stats"))
    cpu_usage, pre_usage = dict_of(cpu.get("cpu_usage")), dict_of(pre.get("cpu_usage"))
    cpu_delta = int_of(cpu_usage.get("total_usage")) - int_of(pre_usage.get("total_usage"))
    system_delta = int_of(cpu.get("system_cpu_usage")) - int_of(pre.get("system_cpu_usage"))
    online = int_of(cpu.get("online_cpus"))
    if online == 0:
        online = len(cpu_usage.get("percpu_usage") or ())
    if system_delta > 0 and cpu_delta > 0:
        return (cpu_delta / system_delta) * online * 100.0
    return 0.0


def memory_usage(mem: JSON) -> int:
    """Memory in use without the page cache, as ``docker stats`` computes it."""
    usage = int_of(mem.get("usage"))
    stats = dict_of(mem.get("stats"))
    v1 = stats.get("total_inactive_file")  # cgroup v1
    if isinstance(v1, int) and v1 < usage:
        return usage - v1
    v2 = int_of(stats.get("inactive_file"))  # cgroup v2
    if v2 < usage:
        return usage - v2
    return usage
