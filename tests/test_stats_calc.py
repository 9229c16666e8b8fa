"""engine.stats_calc against samples recorded from a real engine (tests/data/stats/).

``busy-cgroup1.jsonl``: four consecutive samples of ``busybox sh -c 'while :; do :; done'`` on a
cgroup v1 host with 2 CPUs (``docker stats`` showed 99.85 % and ``324KiB / 23.54GiB`` for it).
``pagecache-cgroup1.jsonl``: a container writing 8 MiB files with fsync (8 MiB of page cache in
``total_inactive_file``). The cgroup v2 and block I/O cases are those samples with the fields a
v2 host or a block device would fill, edited as the comments say.
"""

from __future__ import annotations

import copy
import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from engine.models import Stats
from engine.stats_calc import (
    StatsHistory,
    format_bytes,
    format_rate,
    has_previous_cpu,
    point_from,
    rate,
    sample_time,
)

DATA = Path(__file__).parent / "data" / "stats"


def samples(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (DATA / name).read_text().splitlines() if line]


def test_cpu_percent_is_the_docker_cli_formula_on_recorded_samples() -> None:
    raw = samples("busy-cgroup1.jsonl")
    first, second = Stats.from_api(raw[0]), Stats.from_api(raw[1])
    # The first streamed sample has an empty precpu_stats: the formula then divides the
    # container's whole CPU time by the host's since boot (~0 %, what the CLI shows first); the
    # chart shows a gap there instead of a false dip.
    assert first.cpu_percent < 0.1
    assert not has_previous_cpu(first)
    assert point_from(first, 0.0, None).cpu_percent is None
    # Δcontainer 3536096371 - 2582218040 over Δsystem 18082800000000 - 18080790000000, 2 CPUs.
    expected = (3536096371 - 2582218040) / (18082800000000 - 18080790000000) * 2 * 100
    assert second.cpu_percent == pytest.approx(expected)
    assert 90 < second.cpu_percent <= 100  # one busy loop = one CPU
    assert point_from(second, 1.0, None).cpu_percent == pytest.approx(expected)


def test_online_cpus_zero_falls_back_to_percpu_entries() -> None:
    raw = copy.deepcopy(samples("busy-cgroup1.jsonl")[1])
    raw["cpu_stats"]["online_cpus"] = 0  # older engines: count percpu_usage (2 entries)
    assert Stats.from_api(raw).cpu_percent == pytest.approx(
        Stats.from_api(samples("busy-cgroup1.jsonl")[1]).cpu_percent
    )


def test_memory_used_subtracts_the_page_cache_cgroup_v1() -> None:
    raw = samples("pagecache-cgroup1.jsonl")[0]
    st = Stats.from_api(raw)
    assert st.memory_usage == 9289728 - 8388608  # usage - total_inactive_file
    assert st.memory_limit == 25276510208
    assert st.memory_percent == pytest.approx(100 * (9289728 - 8388608) / 25276510208)
    busy = Stats.from_api(samples("busy-cgroup1.jsonl")[0])
    assert format_bytes(busy.memory_usage) == "324 KiB"  # docker stats: 324KiB
    assert format_bytes(busy.memory_limit) == "23.54 GiB"  # docker stats: 23.54GiB


def test_memory_used_cgroup_v2_uses_inactive_file() -> None:
    raw = copy.deepcopy(samples("pagecache-cgroup1.jsonl")[0])
    # A cgroup v2 host has no total_* keys; inactive_file is the page cache.
    raw["memory_stats"]["stats"] = {"anon": 700000, "file": 8400000, "inactive_file": 8000000}
    assert Stats.from_api(raw).memory_usage == 9289728 - 8000000


def test_network_and_block_io_sum_every_entry() -> None:
    raw = copy.deepcopy(samples("busy-cgroup1.jsonl")[3])
    raw["networks"]["eth1"] = {"rx_bytes": 1000, "tx_bytes": 50}
    # What a container on a block device reports: one entry per device and op; "Total" and
    # "Sync"/"Async" must not be counted.
    raw["blkio_stats"]["io_service_bytes_recursive"] = [
        {"major": 8, "minor": 0, "op": "Read", "value": 4096},
        {"major": 8, "minor": 0, "op": "Write", "value": 8192},
        {"major": 8, "minor": 0, "op": "Sync", "value": 12288},
        {"major": 8, "minor": 0, "op": "Total", "value": 12288},
        {"major": 8, "minor": 16, "op": "read", "value": 1},  # cgroup v2 spells it lower-case
        {"major": 8, "minor": 16, "op": "write", "value": 2},
    ]
    st = Stats.from_api(raw)
    assert (st.net_rx, st.net_tx) == (806 + 1000, 0 + 50)
    assert (st.block_read, st.block_write) == (4097, 8194)


def test_rates_use_the_engines_read_times() -> None:
    raw = samples("busy-cgroup1.jsonl")
    history = StatsHistory(window_s=300)
    points = [history.add(Stats.from_api(r), now=0.0) for r in raw]
    assert all(p is not None for p in points)
    last = points[-1]
    assert last is not None
    # rx went 736 -> 806 between 22:29:15.114622333 and 22:29:16.117581936 (ns cut to µs).
    assert last.net_rx_rate == pytest.approx(70 / 1.002959, rel=1e-5)
    assert last.net_tx_rate == 0.0
    assert points[0] is not None and points[0].net_rx_rate is None  # nothing to compare with
    read = datetime(2026, 11, 29, 22, 29, 13, 109532, tzinfo=UTC).timestamp()
    assert sample_time(Stats.from_api(raw[0]), 5.0) == read
    assert sample_time(Stats.from_api({"read": "0001-01-01T00:00:00Z"}), 5.0) == 5.0
    # the same sample read twice is not a new point
    assert history.add(Stats.from_api(raw[-1]), now=0.0) is None
    assert len(history) == 4


def test_a_counter_that_went_down_is_a_gap_not_a_negative_rate() -> None:
    assert rate(1000, 10, 1.0) is None  # the container restarted: new interfaces
    assert rate(10, 1010, 2.0) == 500.0
    assert rate(10, 20, 0.0) is None


def test_history_keeps_only_the_window_and_series_are_ages() -> None:
    base = samples("busy-cgroup1.jsonl")[1]
    history = StatsHistory(window_s=10)
    for i in range(30):
        raw = copy.deepcopy(base)
        raw["read"] = f"2026-11-29T22:30:{i:02d}.000000000Z"
        raw["networks"]["eth0"]["rx_bytes"] = 1000 * i
        history.add(Stats.from_api(raw), now=0.0)
    assert len(history) == 11  # 22:30:19 .. 22:30:29
    xs, ys = history.series("net_rx_rate")
    assert xs[0] == -10.0 and xs[-1] == 0.0
    assert ys == [1000.0] * 11
    history.clear()
    assert history.series("cpu_percent") == ([], [])


def test_unknown_values_are_nan_in_series() -> None:
    history = StatsHistory()
    history.add(Stats.from_api(samples("busy-cgroup1.jsonl")[0]), now=0.0)
    xs, ys = history.series("cpu_percent")
    assert xs == [0.0] and math.isnan(ys[0])


def test_formatting() -> None:
    assert format_bytes(0) == "0 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(1_500_000, binary=False) == "1.5 MB"
    assert format_rate(None) == "—"
    assert format_rate(2500.0) == "2.5 kB/s"
