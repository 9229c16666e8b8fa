"""``portside engine start/status/logs/stop --vm`` for real, and a QEMU killed with SIGKILL.

The VM runs in the CLI's detached supervisor (as for the native engine); killing its QEMU must
show as ``failed`` with the VM console's last lines, and ``stop --vm`` must leave nothing behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.lifecycle import procs
from engine.vm.image import VMImage
from engine.vm.layout import VMPaths
from tests.support.engine_fixtures import DOCKER_CLI

pytestmark = [pytest.mark.vm, pytest.mark.timeout(600)]
REPO = Path(__file__).resolve().parents[2]


def portside(home: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env["PORTSIDE_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "app", "engine", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=timeout,
    )


def test_cli_vm_start_status_kill_9_stop(vm_image_x86: VMImage, vm_home: Path) -> None:
    paths = VMPaths.default(vm_home)
    started = portside(vm_home, "start", "--vm", "--timeout", "240")
    try:
        assert started.returncode == 0, started.stderr
        endpoint = started.stdout.strip()
        assert endpoint == paths.engine.endpoint
        status = portside(vm_home, "status", "--vm", "--json")
        assert status.returncode == 0, status.stdout + status.stderr
        state = json.loads(status.stdout)
        assert state["state"] == "running" and "TCG" in state["detail"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        version = subprocess.run(
            [DOCKER_CLI, "version", "--format", "{{.Server.Os}}"],
            capture_output=True, text=True, timeout=60, env={**env, "DOCKER_HOST": endpoint},
        )  # fmt: skip
        assert version.stdout.strip() == "linux", version.stderr
        logs = portside(vm_home, "logs", "--vm", "--tail", "200")
        assert "portside: ready" in logs.stdout

        qemu_pid = state["pid"]
        assert "qemu-system" in " ".join(procs.cmdline(qemu_pid))
        os.kill(qemu_pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while True:
            failed = portside(vm_home, "status", "--vm")
            if failed.returncode == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert failed.returncode == 1, failed.stdout
        assert failed.stdout.startswith("failed")
        assert (
            "killed by SIGKILL" in failed.stdout and "Last lines of the VM console" in failed.stdout
        )
        assert "portside: ready" in failed.stdout  # the console tail
    finally:
        stopped = portside(vm_home, "stop", "--vm")
    assert stopped.returncode == 0, stopped.stderr
    assert portside(vm_home, "status", "--vm").stdout.startswith("stopped")
    assert procs.processes_naming([paths.root, paths.run]) == []
    assert not paths.socket.exists()
