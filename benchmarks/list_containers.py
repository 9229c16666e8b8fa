"""Listing 1,000 containers: Portside's client vs ``docker ps -a --format '{{json .}}'``.

Starts a private engine (its own data root, socket, bridge and subnet, via NativeEngine) with the
busybox test image built offline (``benchmarks/support.private_engine``), creates N containers
(not started), then times, in alternating rounds within ONE run:

* ``client``: ``EngineClient.containers.list(all=True)`` in this process (warm connection) —
  what the GUI pays on every refresh;
* ``client, new process``: a fresh Python process that imports the client, negotiates the API
  version and lists — what a one-shot script pays;
* ``docker ps``: ``docker -H unix://<sock> ps -a --format '{{json .}}'`` (a new process each
  time, as a tool shelling out to the CLI would run it).

The engine is stopped and its folder, with everything it created, removed at the end.

Run:  .venv/bin/python benchmarks/list_containers.py [--containers 1000] [--rounds 30]
      [--write-doc]   (replace this benchmark's section of docs/benchmarks.md)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.support import private_engine, report_section  # noqa: E402
from engine.client import EngineClient  # noqa: E402
from tests.support.engine_fixtures import TEST_IMAGE  # noqa: E402

DOCKER = shutil.which("docker") or "docker"  # the CLI a user of this machine would run
SECTION = "Listing 1,000 containers"
LABEL = "portside.bench"


async def create_many(client: EngineClient, count: int, concurrency: int = 8) -> float:
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with sem:
            await client.containers.create(
                {
                    "Image": TEST_IMAGE,
                    "Cmd": ["/bin/busybox", "sleep", "1"],
                    "Labels": {LABEL: "1", "index": str(i)},
                },
                name=f"bench-{i:04d}",
            )

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(count)))
    return time.perf_counter() - t0


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _run(cmd: list[str], env: dict[str, str]) -> str:
    # Blocking on purpose: the process is what is being timed, and nothing else runs meanwhile.
    return subprocess.run(cmd, env=env, capture_output=True, check=True, text=True).stdout


def fresh_process_code(endpoint: str) -> str:
    return (
        "import asyncio, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from engine.client import EngineClient\n"
        "async def main():\n"
        f"    async with EngineClient({endpoint!r}) as c:\n"
        "        print(len(await c.containers.list(all=True)))\n"
        "asyncio.run(main())\n"
    )


async def measure(endpoint: str, count: int, rounds: int) -> dict[str, list[float]]:
    env = dict(os.environ)
    env["DOCKER_CONFIG"] = tempfile.mkdtemp(prefix="psbench-cfg-")
    env.pop("DOCKER_HOST", None)
    cli = [DOCKER, "-H", endpoint, "ps", "-a", "--no-trunc", "--format", "{{json .}}"]
    fresh = [sys.executable, "-c", fresh_process_code(endpoint)]
    times: dict[str, list[float]] = {
        "client": [],
        "raw HTTP GET, no parsing": [],
        "client, new process": [],
        "docker ps": [],
    }
    async with EngineClient(endpoint) as client:
        # warm-up: connection, negotiation, page cache of the CLI binary
        assert len(await client.containers.list(all=True)) == count
        url = f"/v{await client.connect()}/containers/json"
        out = _run(cli, env)
        assert len(out.splitlines()) == count, "docker ps saw a different number of containers"
        for _ in range(rounds):
            t0 = time.perf_counter()
            listed = await client.containers.list(all=True)
            times["client"].append(time.perf_counter() - t0)
            assert len(listed) == count

            t0 = time.perf_counter()
            resp = await client.http.get(url, params={"all": "1"})
            body = resp.content
            times["raw HTTP GET, no parsing"].append(time.perf_counter() - t0)
            assert resp.status_code == 200 and body

            t0 = time.perf_counter()
            out = _run(fresh, env)
            times["client, new process"].append(time.perf_counter() - t0)
            assert int(out) == count

            t0 = time.perf_counter()
            out = _run(cli, env)
            times["docker ps"].append(time.perf_counter() - t0)
            assert len(out.splitlines()) == count
    shutil.rmtree(env["DOCKER_CONFIG"], ignore_errors=True)
    return times


def report(
    times: dict[str, list[float]], count: int, rounds: int, create_s: float, cmd: str
) -> str:
    docker_version = subprocess.run(
        [DOCKER, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    dockerd_version = subprocess.run(
        ["dockerd", "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    base = statistics.median(times["docker ps"])
    lines = [
        f"{count:,} created (not started) containers in a private engine ({dockerd_version}); "
        f"{rounds} alternating rounds in one run; times in milliseconds "
        f"(creating them took {create_s:.1f} s at concurrency 8).",
        "",
        "| what | median | p95 | median ÷ docker ps median |",
        "|---|---:|---:|---:|",
    ]
    for name, values in times.items():
        med = statistics.median(values)
        lines.append(
            f"| {name} | {med * 1000:.1f} | {pct(values, 95) * 1000:.1f} | {med / base:.2f} |"
        )
    lines += [
        "",
        f"Ran: `{cmd}` on {platform.platform()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {docker_version}.",
        "`client` is `EngineClient.containers.list(all=True)` on a warm connection (what the GUI "
        "pays per refresh, parsing into `ContainerSummary` included); `raw HTTP GET` is the same "
        "request on the same connection without JSON decoding or models, i.e. the engine's own "
        "share; `client, new process` adds "
        "interpreter start-up, imports and version negotiation; `docker ps` is "
        "`docker -H unix://<sock> ps -a --no-trunc --format '{{json .}}'` started fresh each "
        "round, as a tool shelling out to the CLI would.",
        "",
    ]
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--containers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--write-doc", action="store_true")
    args = parser.parse_args()

    print("starting a private engine …", file=sys.stderr)
    async with private_engine("psb-") as engine:
        async with EngineClient(engine.endpoint) as client:
            print(f"creating {args.containers} containers …", file=sys.stderr)
            create_s = await create_many(client, args.containers)
        print(f"timing {args.rounds} rounds …", file=sys.stderr)
        times = await measure(engine.endpoint, args.containers, args.rounds)
    cmd = "python benchmarks/list_containers.py " + " ".join(sys.argv[1:])
    body = report(times, args.containers, args.rounds, create_s, cmd.strip())
    report_section(SECTION, body, args.write_doc)


if __name__ == "__main__":
    asyncio.run(main())
