"""Stats and probes over a unix socket, TLS and ssh, on ONE engine (``benchmarks/remote_stats.py``).

Starts the tests' second dockerd (``--tlsverify``, also on a private unix socket) and an sshd on
127.0.0.1 whose ``docker system dial-stdio`` reaches that same engine (tests/support/
remote_engines.py), runs N ``sleep`` containers, then for D seconds per path measures:

- ``StatsMonitor`` (one thread, raw sockets) over unix, TLS (ssl-wrapped) and ssh (one ``ssh``
  process per container): this process's CPU per sample, plus for ssh the CPU of the ssh
  processes (read from /proc before they end);
- for comparison, N ``EngineClient.containers.stats`` streams on the asyncio loop over TLS (the
  path the Containers view used for TLS before);
- ``engine.engines.probe`` latency (median of 5: a fresh client, ``/version``, close);
- reading a 100,000-line log with ``engine.log_stream.read_logs`` (the Logs tab's reader: a raw
  socket for unix and TLS, ``client.containers.logs`` through httpx for ssh), median of 3.

Needs root (private dockerd, sshd). Cleans up everything it started.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import time
from contextlib import aclosing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.client import EngineClient
from engine.endpoint import Endpoint
from engine.engines import EngineEntry, probe
from engine.engines.ssh_transport import SSH_CONFIG_ENV
from engine.log_stream import read_logs
from engine.stats_monitor import StatsMonitor
from tests.support.engine_fixtures import TEST_IMAGE, import_image
from tests.support.remote_engines import run_sshd, run_tls_engine, ssh_children


def cpu_now() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def child_cpu(pids: list[int]) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


async def bench_monitor(endpoint: Endpoint, api: str, ids: list[str], seconds: float) -> str:
    mon = StatsMonitor(endpoint, api)
    try:
        mon.set_targets(set(ids))
        settle = time.perf_counter() + 30  # connections (and ssh logins) done, samples in
        while mon.pending() != set(ids) and time.perf_counter() < settle:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        await asyncio.sleep(1)
        pids = ssh_children()
        n0, c0, k0, t0 = mon.samples_seen, cpu_now(), child_cpu(pids), time.perf_counter()
        end = t0 + seconds
        while time.perf_counter() < end:
            await asyncio.sleep(1.0)
            mon.latest()
        n1, c1, k1, t1 = mon.samples_seen, cpu_now(), child_cpu(pids), time.perf_counter()
        errors = mon.errors()
    finally:
        mon.close()
    samples = max(n1 - n0, 1)
    line = (f"{(n1 - n0) / (t1 - t0):6.1f} samples/s  {1000 * (c1 - c0) / samples:5.2f} ms "
            f"CPU/sample in the app ({100 * (c1 - c0) / (t1 - t0):4.1f}% of a core)")
    if pids:
        line += (f"  + {1000 * (k1 - k0) / samples:5.2f} ms/sample in {len(pids)} ssh "
                 f"processes ({100 * (k1 - k0) / (t1 - t0):4.1f}%)")
    return line + (f"  errors: {errors}" if errors else "")


async def bench_httpx(endpoint: Endpoint, ids: list[str], seconds: float) -> str:
    count = 0

    async with EngineClient(endpoint) as client:
        async def one(cid: str) -> None:
            nonlocal count
            async with aclosing(client.containers.stats(cid)) as stream:
                async for _ in stream:
                    count += 1

        tasks = [asyncio.create_task(one(c)) for c in ids]
        await asyncio.sleep(4)
        n0, c0, t0 = count, cpu_now(), time.perf_counter()
        await asyncio.sleep(seconds)
        n1, c1, t1 = count, cpu_now(), time.perf_counter()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    samples = max(n1 - n0, 1)
    return (f"{(n1 - n0) / (t1 - t0):6.1f} samples/s  {1000 * (c1 - c0) / samples:5.2f} ms "
            f"CPU/sample ({100 * (c1 - c0) / (t1 - t0):4.1f}% of a core)")


async def bench_probe(url: str, tls: object) -> str:
    entry = EngineEntry("bench", "bench", "user", url, tls=tls)  # type: ignore[arg-type]
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        found = await probe(entry)
        times.append(time.perf_counter() - t0)
        assert found.state == "running", found.reason
    return f"probe median {1000 * statistics.median(times):6.1f} ms (min {1000 * min(times):.1f})"


async def bench_logs(endpoint: Endpoint, cid: str, lines: int) -> str:
    times = []
    for _ in range(3):
        got = 0

        def count(batch: list[object]) -> None:
            nonlocal got
            got += len(batch)

        async with EngineClient(endpoint) as client:
            await client.connect()
            t0 = time.perf_counter()
            await read_logs(client, cid, count)  # type: ignore[arg-type]
            times.append(time.perf_counter() - t0)
        assert got == lines, got
    return f"{lines:,} log lines in {statistics.median(times):5.2f} s (median of 3)"


async def main(n: int, seconds: float) -> None:
    with run_tls_engine() as tls_engine, run_sshd(f"unix://{tls_engine.socket}") as sshd:
        os.environ[SSH_CONFIG_ENV] = str(sshd.config)
        unix = Endpoint.parse(f"unix://{tls_engine.socket}")
        paths = {"unix": unix, "tls": tls_engine.endpoint(), "ssh": Endpoint.parse(sshd.url)}
        await import_image(str(unix.url), TEST_IMAGE)
        async with EngineClient(unix) as client:
            api = await client.connect()
            ids = []
            for i in range(n):
                cid = await client.containers.create(
                    {"Image": TEST_IMAGE, "Cmd": ["sleep", "3600"], "StopSignal": "SIGKILL",
                     "HostConfig": {"NetworkMode": "none"}}, name=f"rstat-{i}")
                await client.containers.start(cid)
                ids.append(cid)
            try:
                print(f"{n} running containers, {seconds:g} s per path, one engine")
                for name, ep in paths.items():
                    print(f"StatsMonitor {name:4}: {await bench_monitor(ep, api, ids, seconds)}")
                print(f"httpx streams tls : {await bench_httpx(paths['tls'], ids, seconds)}")
                for name, ep in paths.items():
                    tls = ep.tls_config
                    print(f"{name:4}: {await bench_probe(ep.url, tls)}")
                logger = await client.containers.create(
                    {"Image": TEST_IMAGE, "Cmd": ["seq", "1", "100000"],
                     "HostConfig": {"NetworkMode": "none"}}, name="rstat-logs")
                ids.append(logger)
                await client.containers.start(logger)
                await client.containers.wait(logger)
                for name, ep in paths.items():
                    print(f"{name:4}: {await bench_logs(ep, logger, 100_000)}")
            finally:
                for cid in ids:
                    await client.containers.remove(cid, force=True)
        print(f"ssh processes left: {len(ssh_children())}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20, help="running containers")
    parser.add_argument("-d", type=float, default=15, help="seconds per path")
    args = parser.parse_args()
    asyncio.run(main(args.n, args.d))
