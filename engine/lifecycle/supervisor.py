"""A small process that keeps a :class:`NativeEngine` running after ``portside engine start`` exits.

``python -m engine.lifecycle.supervisor [--home DIR]`` runs in its own session. It holds the data
root's lock (through the engine), runs dockerd as its child, and keeps the state file current
(the engine writes it on every change). Its first line on stdout is one JSON object, the start-up
result — ``{"state": "running", "endpoint": ..., "pid": ...}`` or ``{"state": "failed", "error":
..., "kind": ...}`` — after which stdout goes to /dev/null, so the CLI may exit.

SIGTERM / SIGINT / SIGHUP stop dockerd gracefully and end the supervisor. If dockerd dies on its
own, the engine notices within a moment, records FAILED with the log tail, cleans up, and the
supervisor exits with status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from typing import Any

from engine.errors import PortsideError
from engine.lifecycle.base import EngineState, EngineStatus
from engine.lifecycle.native import NativeEngine
from engine.lifecycle.paths import EnginePaths
from engine.vm.engine import VMEngine
from engine.vm.layout import VMPaths

log = logging.getLogger("portside.supervisor")


def _report(result: dict[str, Any]) -> None:
    """Hand the start-up result to whoever launched us, then detach stdout."""
    try:
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
    except OSError:
        pass  # the CLI gave up waiting; the state file still tells the story
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


async def supervise(
    paths: EnginePaths, *, start_timeout: float, stop_timeout: float, vm: bool = False
) -> int:
    """Start the engine, report, and keep it until a signal or its death; returns the exit code."""
    loop = asyncio.get_running_loop()
    engine: NativeEngine | VMEngine
    if vm:  # the Linux VM under QEMU (engine/vm); paths are the VM folder's
        engine = VMEngine(VMPaths(paths), start_timeout=start_timeout, owner="supervisor")
    else:
        engine = NativeEngine(paths, start_timeout=start_timeout, owner="supervisor")
    stop_requested = asyncio.Event()
    failed = asyncio.Event()

    def on_status(status: EngineStatus) -> None:
        if status.state is EngineState.FAILED:
            failed.set()

    engine.subscribe(on_status)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(sig, stop_requested.set)
    try:
        status = await engine.start()
    except PortsideError as exc:
        _report({"state": "failed", "error": str(exc), "kind": type(exc).__name__})
        return 1
    _report({"state": "running", "endpoint": status.endpoint, "pid": status.pid})
    stop_wait = asyncio.ensure_future(stop_requested.wait())
    fail_wait = asyncio.ensure_future(failed.wait())
    await asyncio.wait({stop_wait, fail_wait}, return_when=asyncio.FIRST_COMPLETED)
    stop_wait.cancel()
    fail_wait.cancel()
    if engine.status.state is EngineState.FAILED:
        log.error("engine failed: %s", engine.status.detail)
        await engine.settled()  # let the clean-up finish before this process ends
        return 1
    log.info("stopping the engine")
    await engine.stop(timeout=stop_timeout)
    return 0 if engine.status.state is EngineState.STOPPED else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m engine.lifecycle.supervisor``."""
    parser = argparse.ArgumentParser(prog="portside-engine-supervisor")
    parser.add_argument("--home", help="engine folder (default: PORTSIDE_HOME or per-user)")
    parser.add_argument("--start-timeout", type=float, default=60.0)
    parser.add_argument("--stop-timeout", type=float, default=20.0)
    parser.add_argument("--vm", action="store_true", help="run the Linux VM engine")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s supervisor[%(process)d] %(levelname)s %(message)s"
    )
    if args.vm:
        paths = VMPaths.default(args.home).engine
    else:
        paths = EnginePaths.at(args.home) if args.home else EnginePaths.default()
    return asyncio.run(
        supervise(
            paths, start_timeout=args.start_timeout, stop_timeout=args.stop_timeout, vm=args.vm
        )
    )


if __name__ == "__main__":
    sys.exit(main())
