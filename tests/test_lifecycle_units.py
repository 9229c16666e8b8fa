"""The pure parts of engine/lifecycle: paths, subnet picking, daemon.json completion, mountinfo
parsing, program lookup, the rotating log. No engine needed; all instant."""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import random
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from engine import cli
from engine.errors import EngineNotInstalled, LifecycleError
from engine.lifecycle import EnginePaths, NativeEngine, logfile, netconf, ownership, procs
from engine.lifecycle.base import EngineState, EngineStatus
from engine.lifecycle.native import complete_daemon_config, find_program, write_json_atomic
from engine.lifecycle.paths import HOME_ENV


def test_paths_at_short_root_keep_everything_inside() -> None:
    paths = EnginePaths.at("/tmp/pst-x")
    assert paths.data_root == Path("/tmp/pst-x/data")
    assert paths.socket == Path("/tmp/pst-x/run/docker.sock")
    assert paths.exec_root == Path("/tmp/pst-x/run/exec")
    assert paths.endpoint == "unix:///tmp/pst-x/run/docker.sock"
    assert {paths.daemon_json, paths.log_file, paths.lock_file, paths.state_file} <= {
        Path("/tmp/pst-x", name)
        for name in ("daemon.json", "engine.log", "engine.lock", "state.json")
    }


def test_paths_at_long_root_move_sockets_to_a_short_folder() -> None:
    root = Path("/tmp") / ("very-long-folder-name-" * 5)
    paths = EnginePaths.at(root)
    assert paths.data_root == root / "data"  # data may stay long
    assert len(os.fsencode(paths.socket)) < 100
    assert len(os.fsencode(paths.exec_root / "containerd/containerd.sock.ttrpc")) < 107
    assert paths.socket.parent.parent == Path(f"/tmp/portside-{os.getuid()}")
    assert EnginePaths.at(root).socket == paths.socket  # stable for one root


def test_short_runtime_folder_is_private(tmp_path: Path) -> None:
    paths = EnginePaths.at(tmp_path / ("long-name-" * 8))
    paths.ensure()
    try:
        for folder in (paths.socket.parent, paths.socket.parent.parent):
            info = folder.stat()
            assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (os.getuid(), 0o700)
    finally:
        paths.socket.parent.rmdir()


def test_paths_default_respects_portside_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HOME_ENV, "/tmp/pst-home-test")
    assert EnginePaths.default() == EnginePaths.at("/tmp/pst-home-test")


def test_paths_default_without_runtime_dir_uses_short_tmp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(HOME_ENV, raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    paths = EnginePaths.default()  # must not warn (filterwarnings = error)
    assert str(paths.socket).startswith(f"/tmp/portside-{os.getuid()}/")
    assert paths.data_root.parts[-3:] == ("portside", "engine", "data")


def test_bridge_names_fit_ifnamsiz_and_differ_per_data_root() -> None:
    a = netconf.bridge_name_for(Path("/tmp/a/data"))
    b = netconf.bridge_name_for(Path("/tmp/b/data"))
    assert a != b
    assert a.startswith("pst") and len(a) <= netconf.IFNAMSIZ


def test_pick_subnet_avoids_every_used_network() -> None:
    pool = ipaddress.IPv4Network("10.9.0.0/22")  # four /24s
    used = [ipaddress.IPv4Network("10.9.0.0/24"), ipaddress.IPv4Network("10.9.2.7/32")]
    picks = {netconf.pick_subnet(used, pool=pool, rng=random.Random(i)) for i in range(40)}
    assert picks == {ipaddress.IPv4Network("10.9.1.0/24"), ipaddress.IPv4Network("10.9.3.0/24")}


def test_pick_subnet_says_what_to_do_when_the_pool_is_full() -> None:
    pool = ipaddress.IPv4Network("10.9.0.0/24")
    with pytest.raises(LifecycleError, match="fixed-cidr"):
        netconf.pick_subnet([ipaddress.IPv4Network("10.0.0.0/8")], pool=pool)


def test_used_networks_include_this_hosts_addresses() -> None:
    used = netconf.used_networks()
    assert any(ipaddress.IPv4Address("127.0.0.1") in net for net in used)


def test_complete_daemon_config_adds_bridge_and_keeps_user_keys() -> None:
    subnet = ipaddress.IPv4Network("10.201.3.0/24")
    user = {"log-level": "debug", "registry-mirrors": ["http://m"], "x-unknown": {"a": 1}}
    out = complete_daemon_config(user, rootless=False, bridge="pstabc", subnet=subnet)
    assert out == {**user, "bridge": "pstabc", "fixed-cidr": "10.201.3.0/24"}
    assert "bridge" not in user  # the input is not modified


def test_complete_daemon_config_respects_the_users_network_choices() -> None:
    sub = ipaddress.IPv4Network("10.201.3.0/24")
    assert complete_daemon_config(
        {"bip": "10.5.0.1/24"}, rootless=False, bridge="p", subnet=sub
    ) == {"bip": "10.5.0.1/24"}
    mine = {"bridge": "br0", "fixed-cidr": "10.1.0.0/25"}
    assert complete_daemon_config(mine, rootless=False, bridge="p", subnet=sub) == mine
    assert complete_daemon_config({}, rootless=True, bridge="p", subnet=sub) == {}


def test_write_json_atomic_keeps_a_backup(tmp_path: Path) -> None:
    target = tmp_path / "daemon.json"
    target.write_text('{"old": true}')
    write_json_atomic(target, {"new": True}, backup=True)
    assert json.loads(target.read_text()) == {"new": True}
    assert json.loads((tmp_path / "daemon.json.bak").read_text()) == {"old": True}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_mountinfo_parsing_unescapes_and_sorts_deepest_first() -> None:
    text = (
        "36 25 0:32 / /tmp/e/data rw - ext4 /dev/vda rw\n"
        "37 36 0:33 / /tmp/e/data/overlay2/abc/merged rw - overlay overlay rw\n"
        "38 25 0:34 / /tmp/e/data2 rw - ext4 /dev/vda rw\n"
        "39 25 0:35 / /tmp/e/run/exec/netns\\040x rw - nsfs nsfs rw\n"
        "40 25 0:36 / /proc rw - proc proc rw\n"
    )
    assert procs.parse_mountinfo(text)[3] == "/tmp/e/run/exec/netns x"
    hits = procs.mounts_under([Path("/tmp/e/data"), Path("/tmp/e/run/exec")], text)
    assert hits == ["/tmp/e/data/overlay2/abc/merged", "/tmp/e/run/exec/netns x", "/tmp/e/data"]


def test_find_program_searches_bundle_then_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    fake = bundle / "dockerd"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PORTSIDE_BUNDLE_DIR", str(bundle))
    assert find_program("dockerd") == str(fake)  # bundle wins over /usr/sbin/dockerd
    monkeypatch.setenv("PORTSIDE_BUNDLE_DIR", str(tmp_path / "empty"))
    assert find_program("dockerd", path="", system_dirs=()) is None
    # the system dirs are searched anyway (wherever this machine's dockerd is)
    assert find_program("dockerd", path="", system_dirs=(str(bundle),)) == str(fake)


def test_explicit_missing_dockerd_says_how_to_install(tmp_path: Path) -> None:
    import asyncio

    engine = NativeEngine(EnginePaths.at(tmp_path), dockerd=str(tmp_path / "nope" / "dockerd"))
    seen: list[EngineStatus] = []
    engine.subscribe(seen.append)
    with pytest.raises(EngineNotInstalled) as info:
        asyncio.run(engine.start())
    message = str(info.value)
    assert str(tmp_path / "nope" / "dockerd") in message
    assert "sudo apt-get install docker.io" in message and "PORTSIDE_BUNDLE_DIR" in message
    assert [s.state for s in seen] == [EngineState.FAILED]
    assert not (tmp_path / "engine.lock").exists()  # failed before taking anything


def test_bridge_name_is_validated() -> None:
    with pytest.raises(LifecycleError, match="15 characters"):
        NativeEngine(EnginePaths.at("/tmp/pst-x"), bridge="a-much-too-long-bridge")


def test_rotating_log_writer_caps_the_file_and_keeps_three_backups(tmp_path: Path) -> None:
    log = tmp_path / "engine.log"
    read_fd, write_fd = os.pipe()
    writer = logfile.RotatingLogWriter(read_fd, log, max_bytes=1000, backups=3)
    writer.start()
    line = b"x" * 99 + b"\n"

    def produce() -> None:
        for i in range(100):
            os.write(write_fd, str(i).encode().rjust(4) + line)
        os.close(write_fd)

    producer = threading.Thread(target=produce)
    producer.start()
    producer.join()
    writer.join(5)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["engine.log", "engine.log.1", "engine.log.2", "engine.log.3"]
    assert all((tmp_path / f).stat().st_size <= 1000 for f in files)
    assert log.read_bytes().endswith(b"  99" + line)  # the newest output is in engine.log
    assert logfile.tail(log, 2).splitlines()[-1].startswith("  99")


def test_tail_of_this_run_skips_earlier_runs(tmp_path: Path) -> None:
    log = tmp_path / "engine.log"
    log.write_text(
        f"old line\n{logfile.START_MARKER}1: starting\nfirst run\n"
        f"{logfile.START_MARKER}2: starting\nsecond run error\n"
    )
    assert logfile.tail(log, 10, this_run=True) == "second run error"
    assert "old line" in logfile.tail(log, 10)


def test_rotate_if_full_rotates_only_a_full_log(tmp_path: Path) -> None:
    log = tmp_path / "supervisor.log"
    assert not logfile.rotate_if_full(log, 10)  # no file yet: nothing to do
    log.write_bytes(b"123456789\n")
    (tmp_path / "supervisor.log.1").write_bytes(b"older\n")
    assert logfile.rotate_if_full(log, 10, backups=2)
    assert not log.exists()
    assert (tmp_path / "supervisor.log.1").read_bytes() == b"123456789\n"
    assert (tmp_path / "supervisor.log.2").read_bytes() == b"older\n"
    log.write_bytes(b"short\n")
    assert not logfile.rotate_if_full(log, 10, backups=2)
    assert log.read_bytes() == b"short\n"


def test_rotating_log_writer_rotates_a_full_log_before_a_new_run(tmp_path: Path) -> None:
    log = tmp_path / "engine.log"
    log.write_bytes(b"x" * 1000)
    read_fd, write_fd = os.pipe()
    writer = logfile.RotatingLogWriter(read_fd, log, max_bytes=1000, backups=3)
    writer.start()
    os.write(write_fd, b"new run\n")
    os.close(write_fd)
    writer.join(5)
    assert log.read_bytes() == b"new run\n"
    assert (tmp_path / "engine.log.1").read_bytes() == b"x" * 1000


# -- ownership: the lock decides -------------------------------------------------------------------

PROC_LOCKS_TEXT = """\
1: FLOCK  ADVISORY  WRITE 4242 fe:00:2147188 0 EOF
2: -> FLOCK  ADVISORY  WRITE 4343 fe:00:2147188 0 EOF
3: POSIX  ADVISORY  WRITE 4444 fe:00:2147188 0 EOF
4: FLOCK  ADVISORY  WRITE 4545 00:2d:99 0 EOF
"""


def test_flock_holders_are_read_from_proc_locks() -> None:
    # granted flocks on the inode only: not a waiter ("->"), not a POSIX lock, not another inode
    assert ownership._flock_pids(2147188, PROC_LOCKS_TEXT) == [4242]
    assert ownership._flock_pids(99, PROC_LOCKS_TEXT) == [4545]
    assert ownership._flock_pids(7, PROC_LOCKS_TEXT) == []


_HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
if sys.argv[2] == "lock":
    fcntl.flock(fd, fcntl.LOCK_EX)
print("ready", flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("mode", ["lock", "open-only"])
def test_owner_is_the_process_holding_the_lock(tmp_path: Path, mode: str) -> None:
    lock = tmp_path / "engine.lock"
    lock.write_text("1\n")  # a pid written inside names nobody
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(lock), mode], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "ready\n"
        found = ownership.owner(lock)
        if mode == "lock":
            assert found == ownership.Owner(holder.pid)
        else:
            assert found is None  # an open file is not a held lock
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()  # type: ignore[union-attr]
    assert ownership.owner(lock) is None  # the kernel dropped the lock with its holder
    assert ownership.owner(tmp_path / "missing.lock") is None


@pytest.mark.parametrize("text", ["nan", "inf", "-1", "0", "soon", ""])
def test_timeouts_must_be_finite_seconds_above_zero(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="not a number of seconds above 0"):
        cli._seconds(text)
    assert cli._seconds("2.5") == 2.5


# -- where /proc is missing (macOS) and Windows' job object --------------------------------------


def test_processes_are_told_apart_without_proc(tmp_path: Path) -> None:
    """macOS' ways: ``kill(pid, 0)`` for alive, ``ps`` for the command line (run here, on a
    process of our own, against what /proc says)."""
    marker = tmp_path / "root.qcow2"
    child = subprocess.Popen(["sh", "-c", "sleep 30", str(marker)])  # the marker is sh's $0
    try:
        assert procs._pid_alive_by_signal(child.pid)
        assert str(marker) in " ".join(procs._cmdline_by_ps(child.pid))
        assert " ".join(procs._cmdline_by_ps(child.pid)) == " ".join(procs.cmdline(child.pid))
    finally:
        child.kill()
        child.wait()
    assert not procs._pid_alive_by_signal(child.pid)
    assert procs._cmdline_by_ps(child.pid) == []


def test_windows_job_limits_have_the_documented_layout() -> None:
    """JOBOBJECT_EXTENDED_LIMIT_INFORMATION is 144 bytes with LimitFlags at 16 on 64-bit Windows;
    the same ctypes types have the same sizes on 64-bit Linux, so the layout is checked here."""
    import ctypes

    from engine.lifecycle import child

    limits = child.kill_on_close_limits()
    assert ctypes.sizeof(limits) == 144
    assert type(limits).BasicLimitInformation.offset == 0
    assert child._BasicLimits.LimitFlags.offset == 16
    assert limits.BasicLimitInformation.LimitFlags == child.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
