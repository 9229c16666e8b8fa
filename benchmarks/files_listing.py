"""What listing a folder costs in the Files tab (``benchmarks/files_listing.py``).

Starts a private engine, runs a busybox container whose ``/data`` holds ``--mb`` MiB (one file)
next to a few small files, then times, each ``--runs`` times (median):

(1) ``Archive.listdir("/data")`` — the engine's tar of the folder, headers kept, data dropped
    (what the Files tab does; works on stopped containers);
(2) ``Archive.listdir("/etc")`` — a small folder;
(3) ``exec ls -la /data`` through the engine (the alternative: running containers with ``ls``
    only), and ``listdir(..., running=True)``: the tar up to 16 MiB, then ``exec find … stat``
    (engine/archive_exec.py), what the tab does for a running container;
(4) a download of ``/data`` into a temporary folder (what the bytes cost when kept), next to
    ``docker cp`` out of the container;
(5) an upload of a folder holding the same amount, next to ``docker cp`` into the container.

Needs root (private dockerd). Cleans up.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.support import private_engine
from engine.archive import Archive
from engine.client import EngineClient
from tests.support.engine_fixtures import TEST_IMAGE


async def timed(fn: Callable[[], Awaitable[Any]], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


async def bench(args: argparse.Namespace) -> dict[str, float]:
    out = Path(tempfile.mkdtemp(prefix="pstf-out-"))
    try:
        async with private_engine("pstf-") as engine, EngineClient(
            engine.endpoint, timeout=300
        ) as client:
            script = (
                f"mkdir -p /data && dd if=/dev/zero of=/data/big bs=1M count={args.mb} "
                "2>/dev/null && touch /data/a /data/b && touch /ready; sleep 3600"
            )
            cid = await client.containers.create(
                {"Image": TEST_IMAGE, "Cmd": ["sh", "-c", script], "StopSignal": "SIGKILL"}
            )
            await client.containers.start(cid)
            try:
                files = Archive(client, cid)
                while True:
                    code, _o, _e = await client.execs.run(cid, ["test", "-e", "/ready"])
                    if code == 0:
                        break
                    await asyncio.sleep(0.2)

                async def download() -> None:
                    shutil.rmtree(out / "data", ignore_errors=True)
                    await files.download("/data", out)

                docker = shutil.which("docker") or "docker"
                env = {**os.environ, "DOCKER_HOST": engine.endpoint}

                async def docker_cp(*argv: str) -> None:
                    proc = await asyncio.create_subprocess_exec(docker, "cp", *argv, env=env)
                    if await proc.wait() != 0:
                        raise RuntimeError(f"docker cp {argv} failed")

                async def cp_out() -> None:
                    shutil.rmtree(out / "data", ignore_errors=True)
                    await docker_cp(f"{cid}:/data", str(out))

                src = out / "upload"
                src.mkdir()
                (src / "big").write_bytes(b"\0" * (args.mb << 20))

                return {
                    "upload": await timed(lambda: files.upload([src], "/tmp"), args.runs),
                    "docker cp in": await timed(
                        lambda: docker_cp(str(src), f"{cid}:/tmp/"), args.runs
                    ),
                    "docker cp out": await timed(cp_out, args.runs),
                    "tar /data": await timed(lambda: files.listdir("/data"), args.runs),
                    "tar /etc": await timed(lambda: files.listdir("/etc"), args.runs),
                    "running /data": await timed(
                        lambda: files.listdir("/data", running=True), args.runs
                    ),
                    "running /etc": await timed(
                        lambda: files.listdir("/etc", running=True), args.runs
                    ),
                    "exec ls /data": await timed(
                        lambda: client.execs.run(cid, ["ls", "-la", "/data"]), args.runs
                    ),
                    "download /data": await timed(download, args.runs),
                }
            finally:
                await client.containers.remove(cid, force=True)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=256, help="MiB under /data")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for name, seconds in asyncio.run(bench(args)).items():
        ms = seconds * 1000
        print(f"{name:16s} {args.mb} MiB under /data: {ms:8.1f} ms (median of {args.runs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
