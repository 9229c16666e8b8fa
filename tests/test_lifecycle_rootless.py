"""Rootless dockerd for real: a throw-away non-root user runs ``portside engine start``, which
takes the rootless path (dockerd-rootless.sh + RootlessKit + slirp4netns), and the real docker CLI
runs a container on it; ``portside engine stop`` leaves no process of that user and no mount.

Needs root (to create the user) and Debian's rootlesskit, slirp4netns and uidmap packages
(scripts/setup.sh installs them for tests). Hosts without udev leave ``/dev/net/tun`` root-only
(udev makes it 0666); the engine then runs in a private mount namespace that covers it with a
0666 node of the same device, so the host itself is not changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from engine.lifecycle import EnginePaths, procs
from engine.lifecycle.native import (
    TUN_DEVICE,
    read_state,
    rootless_network_problem,
    rootlesskit_errors,
)
from tests.support.engine_fixtures import DOCKER_CLI, TEST_IMAGE, import_image

REPO = Path(__file__).resolve().parent.parent
USER = "pstrootless"
#: A login shell's PATH for a normal Debian user: no sbin (dockerd and friends are found anyway).
USER_PATH = "/usr/local/bin:/usr/bin:/bin"
#: A subordinate id range is 65536 ids, like useradd's default.
SUBID_COUNT = 65536


def _wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def _has_subids(name: str) -> bool:
    for table in ("/etc/subuid", "/etc/subgid"):
        with contextlib.suppress(FileNotFoundError):
            if any(line.split(":")[0] == name for line in Path(table).read_text().splitlines()):
                continue
        return False
    return True


def _free_subid_start() -> int:
    end = 100000
    for table in ("/etc/subuid", "/etc/subgid"):
        with contextlib.suppress(FileNotFoundError):
            for line in Path(table).read_text().splitlines():
                parts = line.split(":")
                if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                    end = max(end, int(parts[1]) + int(parts[2]))
    return end


def _user_pids(uid: int) -> list[int]:
    """Live (not zombie) processes of ``uid``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("Uid", "").split()[:1] == [str(uid)] and not fields.get(
            "State", ""
        ).strip().startswith("Z"):
            pids.append(int(entry.name))
    return pids


def _rootlesskit_dirs(uid: int) -> list[Path]:
    tmp = Path(tempfile.gettempdir())
    return [p for p in tmp.glob("rootlesskit*") if p.is_dir() and p.stat().st_uid == uid]


@pytest.fixture(scope="module")
def rootless_user() -> Iterator[pwd.struct_passwd]:
    """The throw-away user (created unless it exists; removed again if this created it)."""
    if os.geteuid() != 0:
        pytest.fail("this test creates a throw-away user: run it as root")
    created = False
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", USER], check=True)
        created = True
    try:
        if not _has_subids(USER):
            start = _free_subid_start()
            ids = f"{start}-{start + SUBID_COUNT - 1}"
            subprocess.run(
                ["usermod", "--add-subuids", ids, "--add-subgids", ids, USER], check=True
            )
        yield pwd.getpwnam(USER)
    finally:
        if created:
            uid = pwd.getpwnam(USER).pw_uid
            for pid in _user_pids(uid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            _wait_for(lambda: not _user_pids(uid), 10, f"{USER}'s processes to end")
            subprocess.run(["userdel", "--remove", USER], check=True, capture_output=True)


class RootlessCLI:
    """``portside engine ...`` run as the throw-away user, with PORTSIDE_HOME at ``home``."""

    def __init__(self, user: pwd.struct_passwd, home: Path, tun_dir: Path) -> None:
        self.user = user
        self.home = home
        self.tun_dir = tun_dir
        self.paths = EnginePaths.at(home)

    def __call__(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        # this interpreter may sit in root's home; the system one with our packages on the path
        python = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
        site = next(p for p in sys.path if p.endswith("site-packages") and ".venv" in p)
        argv = [
            "runuser", "-u", self.user.pw_name, "--", "env", "-i",
            f"HOME={self.user.pw_dir}",
            f"PATH={USER_PATH}",
            f"PORTSIDE_HOME={self.home}",
            "PYTHONDONTWRITEBYTECODE=1",
            f"PYTHONPATH={REPO}{os.pathsep}{site}",
            python, "-m", "app", "engine", *args,
        ]  # fmt: skip
        if args[:1] == ("start",) and not _tun_open_to_all():
            # a private mount namespace (kept by the engine's processes) with a 0666 tun node
            node = shlex.quote(str(self.tun_dir / "tun"))
            dev = os.stat(TUN_DEVICE).st_rdev
            script = (
                f"mount -t tmpfs -o mode=0755 portside-tun {shlex.quote(str(self.tun_dir))} && "
                f"mknod -m 0666 {node} c {os.major(dev)} {os.minor(dev)} && "
                f"mount --bind {node} {TUN_DEVICE} && "
                'exec "$@"'
            )
            unshare = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh"]
            argv = [*unshare, *argv]
        return subprocess.run(
            argv,
            capture_output=True,
            text=True,
            cwd="/",
            timeout=timeout,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        )

    def docker(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {"PATH": os.environ.get("PATH", os.defpath), "DOCKER_CONFIG": str(self.tun_dir)}
        return subprocess.run(
            [DOCKER_CLI, "-H", self.paths.endpoint, *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )


def _tun_open_to_all() -> bool:
    try:
        mode = os.stat(TUN_DEVICE).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) and mode & 0o006 == 0o006


@pytest.fixture
def rootless(rootless_user: pwd.struct_passwd) -> Iterator[RootlessCLI]:
    home = Path(tempfile.mkdtemp(prefix="pstrl-", dir="/tmp"))
    shutil.chown(home, rootless_user.pw_uid, rootless_user.pw_gid)
    tun_dir = Path(tempfile.mkdtemp(prefix="pstrl-tun-", dir="/tmp"))
    cli = RootlessCLI(rootless_user, home, tun_dir)
    yield cli
    state = read_state(cli.paths) or {}
    if procs.pid_alive(state.get("owner_pid") or 0):
        cli("stop")
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(tun_dir, ignore_errors=True)


def _ping(socket: Path) -> str:
    transport = httpx.HTTPTransport(uds=str(socket))
    with httpx.Client(transport=transport, base_url="http://engine", timeout=5) as client:
        response = client.get("/_ping")
    return f"{response.status_code} {response.text}"


def test_rootless_engine_runs_a_container_and_stops_clean(rootless: RootlessCLI) -> None:
    uid = rootless.user.pw_uid
    started = rootless("start")
    assert started.returncode == 0, started.stdout + started.stderr
    assert started.stdout == f"{rootless.paths.endpoint}\n"
    state = read_state(rootless.paths)
    assert state is not None and state["state"] == "running" and state["rootless"] is True
    kit = state["pid"]
    assert Path(f"/proc/{kit}/comm").read_text().strip() == "rootlesskit"
    assert os.stat(f"/proc/{kit}").st_uid == uid
    assert rootless.paths.socket.stat().st_uid == uid
    assert stat.S_IMODE(rootless.paths.socket.stat().st_mode) == 0o600
    assert _ping(rootless.paths.socket) == "200 OK"

    asyncio.run(import_image(rootless.paths.endpoint, TEST_IMAGE))
    ran = rootless.docker("run", "--rm", TEST_IMAGE, "echo", "hi")
    assert (ran.returncode, ran.stdout) == (0, "hi\n"), ran.stderr
    info = rootless.docker("info", "--format", "{{json .SecurityOptions}}")
    assert "rootless" in info.stdout, info.stdout + info.stderr

    stopped = rootless("stop")
    assert (stopped.returncode, stopped.stdout) == (0, "stopped\n"), stopped.stderr
    _wait_for(lambda: not _user_pids(uid), 15, f"{USER}'s engine processes to end")
    paths = rootless.paths
    assert procs.mounts_under([rootless.home, paths.data_root, paths.exec_root]) == []
    assert not paths.socket.exists()
    assert _rootlesskit_dirs(uid) == []
    after = rootless("status")
    assert (after.returncode, after.stdout.splitlines()[0]) == (3, "stopped")


def test_closed_tun_device_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    closed = tmp_path / "tun"
    closed.write_text("")
    closed.chmod(0o600)
    monkeypatch.setattr(os, "access", lambda *_a, **_k: False)  # what a non-root user gets
    owner = pwd.getpwuid(os.getuid()).pw_name
    assert rootless_network_problem({}, str(closed)) == (
        f"Rootless dockerd's network (RootlessKit with slirp4netns) needs {closed}, which is "
        f"-rw------- {owner}, so you cannot open it.\n"
        f"Fix: `sudo chmod 0666 {closed}` (the mode udev gives it on Debian and Fedora; without "
        "udev make it stick, e.g. in the host's start-up script); or use an engine that already "
        "runs by setting DOCKER_HOST."
    )


def test_missing_tun_device_is_explained(tmp_path: Path) -> None:
    message = rootless_network_problem({}, str(tmp_path / "no-tun"))
    assert message is not None
    assert message.startswith(
        "Rootless dockerd's network (RootlessKit with slirp4netns) needs "
        f"{tmp_path / 'no-tun'}, which is missing"
    )
    assert "`sudo modprobe tun`" in message and "DOCKER_HOST" in message
    assert rootless_network_problem({"DOCKERD_ROOTLESS_ROOTLESSKIT_NET": "host"}, "/nope") is None


def test_rootlesskit_errors_are_picked_from_the_log() -> None:
    tail = """\
+ exec rootlesskit --net=slirp4netns --mtu=65520 /usr/share/docker.io/contrib/dockerd-rootless.sh
time="2026-11-27T23:45:58Z" level=warning msg="child propagation rslave is not supported"
open: Permission denied
[rootlesskit:parent] error: failed to setup network: setting up tap tap0: exit status 1
[rootlesskit:child ] error: parsing message from fd 3: EOF
"""
    assert rootlesskit_errors(tail) == [
        "[rootlesskit:parent] error: failed to setup network: setting up tap tap0: exit status 1",
        "[rootlesskit:child ] error: parsing message from fd 3: EOF",
    ]
