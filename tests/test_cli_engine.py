"""``portside engine start/stop/status/logs`` as a user runs them: separate processes, a real
dockerd kept alive by the detached supervisor, the real docker CLI talking to it."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.cli import SUPERVISOR_LOG_MAX
from engine.lifecycle import EnginePaths, procs
from engine.lifecycle.native import ROOTLESS_SCRIPT_DIRS, SYSTEM_DIRS, read_state
from tests.support.engine_fixtures import DOCKER_CLI, TEST_IMAGE, dockerd_version, import_image

pytestmark = pytest.mark.engine
REPO = Path(__file__).resolve().parent.parent


class Portside:
    """``portside engine ...`` with PORTSIDE_HOME pointing at one test folder."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.paths = EnginePaths.at(home)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        env["PORTSIDE_HOME"] = str(self.home)
        return env

    def __call__(self, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app", "engine", *args],
            capture_output=True,
            text=True,
            env=self.env(),
            cwd=REPO,
            timeout=timeout,
        )

    def start_in_background(self) -> subprocess.Popen[str]:
        """``portside engine start`` in a process of its own, not waited for (pipes read later)."""
        return subprocess.Popen(
            [sys.executable, "-m", "app", "engine", "start"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env(),
            cwd=REPO,
        )

    def docker(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = self.env()
        env["DOCKER_CONFIG"] = str(self.home / "docker-config")
        return subprocess.run(
            [DOCKER_CLI, "-H", self.paths.endpoint, *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )


@pytest.fixture
def portside() -> Iterator[Portside]:
    home = Path(tempfile.mkdtemp(prefix="pstc-", dir="/tmp"))
    # engines on a shared host should not share iptables chains; Portside adds bridge + subnet
    (home / "daemon.json").write_text('{"iptables": false, "ip-masq": false}\n')
    cli = Portside(home)
    yield cli
    state = read_state(cli.paths) or {}
    if procs.pid_alive(state.get("owner_pid") or 0):
        cli("stop")
    shutil.rmtree(home, ignore_errors=True)


def _assert_gone(paths: EnginePaths, *pids: int) -> None:
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or not procs.pid_alive(pid), f"pid {pid} alive"
    assert procs.processes_naming([paths.exec_root, paths.data_root]) == []
    assert procs.mounts_under([paths.data_root, paths.exec_root]) == []
    assert not paths.socket.exists()


def test_start_run_stop_leaves_nothing_behind(portside: Portside) -> None:
    started = portside("start")
    assert started.returncode == 0, started.stderr
    assert started.stdout == f"{portside.paths.endpoint}\n"  # just the socket: scriptable
    state = read_state(portside.paths)
    assert state is not None
    dockerd, supervisor = state["pid"], state["owner_pid"]
    assert procs.is_dockerd_of(dockerd, portside.paths.data_root)

    # the CLI has exited; the engine must still serve the real docker CLI
    import asyncio

    asyncio.run(import_image(portside.paths.endpoint, TEST_IMAGE))
    ran = portside.docker("run", "--rm", TEST_IMAGE, "echo", "hi")
    assert (ran.returncode, ran.stdout) == (0, "hi\n"), ran.stderr

    status = portside("status")
    assert status.returncode == 0
    assert status.stdout.splitlines()[:3] == [
        "running",
        f"endpoint: {portside.paths.endpoint}",
        f"pid: {dockerd}",
    ]
    assert f"version: {dockerd_version()} (API " in status.stdout
    again = portside("start")  # idempotent
    assert (again.returncode, again.stdout) == (0, started.stdout)
    assert read_state(portside.paths)["pid"] == dockerd  # type: ignore[index]
    logs = portside("logs", "-n", "5")
    assert logs.returncode == 0 and len(logs.stdout.splitlines()) == 5
    assert "API listen on" in portside("logs").stdout

    stopped = portside("stop")
    assert (stopped.returncode, stopped.stdout) == (0, "stopped\n"), stopped.stderr
    _assert_gone(portside.paths, dockerd, supervisor)
    after = portside("status")
    assert (after.returncode, after.stdout.splitlines()[0]) == (3, "stopped")
    assert portside("stop").stdout == "not running\n"


def test_killed_dockerd_shows_as_failed_with_log_tail(portside: Portside) -> None:
    assert portside("start").returncode == 0
    state = read_state(portside.paths)
    assert state is not None
    dockerd, supervisor = state["pid"], state["owner_pid"]

    os.kill(dockerd, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while True:
        status = portside("status")
        if status.returncode == 1 or time.monotonic() > deadline:
            break
        time.sleep(0.2)

    assert status.returncode == 1, status.stdout
    lines = status.stdout.splitlines()
    assert lines[0] == "failed"
    assert f"dockerd (pid {dockerd}) exited unexpectedly with code -9" in status.stdout
    assert "Last lines of the engine log:" in status.stdout and "API listen on" in status.stdout
    deadline = time.monotonic() + 10
    while procs.pid_alive(supervisor) and time.monotonic() < deadline:
        time.sleep(0.1)
    _assert_gone(portside.paths, dockerd, supervisor)

    restarted = portside("start")  # a failed engine starts again
    assert restarted.returncode == 0, restarted.stderr
    assert portside("status").returncode == 0
    assert portside("stop").returncode == 0


def test_invalid_daemon_json_shows_dockerds_own_error(portside: Portside) -> None:
    portside.paths.daemon_json.write_text('{"iptables": false,, "debug": true}\n')
    supervisor_log = portside.home / "supervisor.log"
    old_lines = b"an earlier run's line\n" * (SUPERVISOR_LOG_MAX // 22 + 1)  # full: >= the cap
    supervisor_log.write_bytes(old_lines)

    result = portside("start")

    assert result.returncode == 1
    assert result.stdout == ""
    assert f"unable to configure the Docker daemon with file {portside.paths.daemon_json}" in (
        result.stderr
    )
    assert "invalid character" in result.stderr
    status = portside("status")
    assert status.returncode == 1 and status.stdout.startswith("failed")
    assert "invalid character" in status.stdout
    _assert_gone(portside.paths)
    # supervisor.log is capped like the engine log: the full one was rotated before this run
    assert (portside.home / "supervisor.log.1").read_bytes() == old_lines
    assert supervisor_log.stat().st_size < 64 * 1024


def test_missing_dockerd_says_what_to_install(portside: Portside) -> None:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.fail("this test hides /usr/sbin in a private mount namespace: run it as root")
    # a private mount namespace where /usr/sbin (dockerd's home) is an empty tmpfs
    script = 'mount -t tmpfs none /usr/sbin && exec "$@"'
    result = subprocess.run(
        ["unshare", "-m", "sh", "-c", script, "sh", sys.executable, "-m", "app", "engine", "start"],
        capture_output=True,
        text=True,
        env={**portside.env(), "PATH": "/usr/bin:/bin"},
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 1
    assert "No dockerd found" in result.stderr
    assert "sudo apt-get install docker.io" in result.stderr
    assert "moby-engine" in result.stderr and "PORTSIDE_BUNDLE_DIR" in result.stderr


#: What a non-root user without any rootless tooling is told, word for word.
ROOTLESS_MISSING = """\
Portside runs the engine rootless for non-root users, and this is missing:
  - dockerd-rootless.sh: ships with Debian/Ubuntu's docker.io package under \
/usr/share/docker.io/contrib, or with docker-ce-rootless-extras from Docker's repository
  - rootlesskit: `sudo apt-get install rootlesskit`
  - newuidmap/newgidmap: `sudo apt-get install uidmap` (and subuid/subgid ranges for your user \
in /etc/subuid and /etc/subgid)
  - slirp4netns: `sudo apt-get install slirp4netns`
Install those, or use an engine that already runs by setting DOCKER_HOST (for example \
DOCKER_HOST=unix:///var/run/docker.sock if you may use it).
"""
#: Everything rootless dockerd needs besides dockerd itself.
ROOTLESS_TOOLS = ("dockerd-rootless.sh", "rootlesskit", "newuidmap", "slirp4netns", "vpnkit")
USER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def test_non_root_without_rootlesskit_says_what_to_install(portside: Portside) -> None:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.fail("this test switches to the user `nobody` in a mount namespace: run it as root")
    shutil.chown(portside.home, "nobody")
    # dockerd comes from Portside's bundle folder (searched first), so it is found on any host
    bundle = portside.home / "bundle"
    bundle.mkdir()
    (bundle / "dockerd").write_text("#!/bin/sh\nexit 1\n")
    (bundle / "dockerd").chmod(0o755)
    # this interpreter may sit in root's home; the system one with our packages on the path works
    python = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
    site = next(p for p in sys.path if p.endswith("site-packages") and ".venv" in p)
    # whatever rootless tooling this host has is covered, in a private mount namespace, by an
    # empty non-executable file: the lookup (PATH, system and contrib folders) finds none of it
    prefixes = {"/usr", "/usr/local", sys.prefix, sys.base_prefix}  # <prefix>/share/portside/bin
    folders = [
        *USER_PATH.split(":"),
        *SYSTEM_DIRS,
        *ROOTLESS_SCRIPT_DIRS,
        *(f"{prefix}/share/portside/bin" for prefix in prefixes),
    ]
    found = {os.path.realpath(Path(d, n)) for d in folders for n in ROOTLESS_TOOLS}
    hidden = sorted(p for p in found if os.path.isfile(p))
    blank = portside.home / "blank"
    blank.write_text("")
    blank.chmod(0o644)
    script = "".join(f"mount --bind {shlex.quote(str(blank))} {shlex.quote(p)} && " for p in hidden)
    env = {
        **portside.env(),
        "HOME": str(portside.home),
        "PATH": USER_PATH,
        "PORTSIDE_BUNDLE_DIR": str(bundle),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": os.pathsep.join([str(REPO), site]),
    }
    argv = ["runuser", "-u", "nobody", "--", python, "-m", "app", "engine", "start"]
    result = subprocess.run(
        ["unshare", "-m", "sh", "-c", script + 'exec "$@"', "sh", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
    )

    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr == ROOTLESS_MISSING
    assert result.stdout == ""
    assert not portside.paths.socket.exists()


def test_status_json_and_env(portside: Portside) -> None:
    status = portside("status", "--json")
    assert status.returncode == 3
    assert json.loads(status.stdout)["state"] == "stopped"
    env = portside("env")
    assert env.stdout == f"export DOCKER_HOST={portside.paths.endpoint}\n"


def test_logs_follow_prints_new_lines_as_they_come(portside: Portside) -> None:
    log = portside.paths.log_file
    log.write_text("first line\n")
    follower = subprocess.Popen(
        [sys.executable, "-m", "app", "engine", "logs", "--follow"],
        stdout=subprocess.PIPE,
        text=True,
        env=portside.env(),
        cwd=REPO,
    )
    try:
        assert follower.stdout is not None
        assert follower.stdout.readline() == "first line\n"
        with open(log, "a") as handle:
            handle.write("appended later\n")
        assert follower.stdout.readline() == "appended later\n"
        os.replace(log, log.with_name("engine.log.1"))  # rotation: follow the new file
        log.write_text("after rotation\n")
        assert follower.stdout.readline() == "after rotation\n"
    finally:
        follower.send_signal(signal.SIGINT)
        assert follower.wait(10) == 0
        follower.stdout.close()  # type: ignore[union-attr]
