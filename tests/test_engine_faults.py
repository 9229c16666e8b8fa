"""``portside engine`` attacked on purpose: stale state files, a killed supervisor, a stop during a
start, a closed output pipe, bad arguments, a server that is not Docker, private file modes.

Every engine here is a real dockerd under the detached supervisor, each in its own short home
under /tmp (its own bridge, subnet and no iptables rules), driven through ``python -m app engine``
in separate processes, exactly as a user runs it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.client import EngineClient
from engine.errors import ApiVersionTooOld
from engine.lifecycle import NativeEngine, netconf, procs
from engine.lifecycle.native import read_state
from tests.test_cli_engine import REPO, Portside

pytestmark = pytest.mark.engine


@pytest.fixture
def make_home() -> Iterator[Callable[[], Portside]]:
    """Fresh engine homes (iptables off); every engine still up at the end is stopped."""
    made: list[Portside] = []

    def make() -> Portside:
        home = Path(tempfile.mkdtemp(prefix="pstf-", dir="/tmp"))
        (home / "daemon.json").write_text('{"iptables": false, "ip-masq": false}\n')
        made.append(Portside(home))
        return made[-1]

    yield make
    for cli in made:
        cli("stop")
        state = read_state(cli.paths) or {}
        for key in ("owner_pid", "pid"):  # if stop itself is what broke
            pid = state.get(key)
            if isinstance(pid, int) and pid > 1 and procs.is_dockerd_of(pid, cli.paths.data_root):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(cli.home, ignore_errors=True)


def _dockerd_alive(cli: Portside) -> bool:
    pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    return any(procs.is_dockerd_of(pid, cli.paths.data_root) for pid in pids)


def _rewrite_state(cli: Portside, **changes: object) -> None:
    state = read_state(cli.paths) or {"endpoint": cli.paths.endpoint}
    state.update(changes)
    cli.paths.state_file.write_text(json.dumps(state))


def _no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr, result.stderr


# -- who owns the engine: the lock, not a pid ------------------------------------------------------


def test_stale_owner_pid_of_another_homes_supervisor_is_not_stopped(
    make_home: Callable[[], Portside],
) -> None:
    other, mine = make_home(), make_home()
    assert other("start").returncode == 0
    other_state = read_state(other.paths)
    assert other_state is not None
    # my home's state file is stale, and its owner_pid now belongs to the other home's supervisor
    _rewrite_state(mine, state="running", owner_pid=other_state["owner_pid"], pid=None)
    # and its stale pidfile names the other home's dockerd
    mine.paths.ensure()
    mine.paths.pidfile.write_text(f"{other_state['pid']}\n")

    stopped = mine("stop")

    assert (stopped.returncode, stopped.stdout) == (0, "stopped\n"), stopped.stderr
    assert procs.pid_alive(other_state["owner_pid"]) and procs.pid_alive(other_state["pid"])
    assert other("status").returncode == 0, "stopping my home stopped the other home's engine"
    status = mine("status")
    assert (status.returncode, status.stdout.splitlines()[0]) == (3, "stopped")


def test_stale_running_state_with_owner_pid_1_still_starts_an_engine(
    make_home: Callable[[], Portside],
) -> None:
    cli = make_home()
    _rewrite_state(cli, state="running", owner_pid=1, pid=1)

    started = cli("start")

    assert started.returncode == 0, started.stderr
    assert started.stdout == f"{cli.paths.endpoint}\n"
    assert _dockerd_alive(cli), "start printed an endpoint, but no engine runs"
    assert cli.docker("version", "--format", "{{.Server.Version}}").returncode == 0
    status = cli("status")
    assert status.returncode == 0, status.stdout


def test_stop_after_the_supervisor_was_killed_ends_stopped(
    make_home: Callable[[], Portside],
) -> None:
    cli = make_home()
    assert cli("start").returncode == 0
    state = read_state(cli.paths)
    assert state is not None
    supervisor, dockerd = state["owner_pid"], state["pid"]
    bridge = json.loads(cli.paths.daemon_json.read_text())["bridge"]
    os.kill(supervisor, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while procs.pid_alive(supervisor) and time.monotonic() < deadline:
        time.sleep(0.05)
    failed = cli("status")
    assert failed.returncode == 1 and failed.stdout.startswith("failed"), failed.stdout

    stopped = cli("stop")

    assert (stopped.returncode, stopped.stdout) == (0, "stopped\n"), stopped.stderr
    assert not procs.is_dockerd_of(dockerd, cli.paths.data_root)
    assert not _dockerd_alive(cli)
    assert not netconf.bridge_exists(bridge)
    assert procs.mounts_under([cli.paths.data_root, cli.paths.exec_root]) == []
    for _ in range(2):  # and it stays stopped
        status = cli("status")
        assert (status.returncode, status.stdout.splitlines()[0]) == (3, "stopped"), status.stdout
    assert cli("start").returncode == 0  # a fresh start works


def test_stop_ends_an_orphaned_dockerd_of_its_home_only(
    make_home: Callable[[], Portside],
) -> None:
    other, mine = make_home(), make_home()
    assert other("start").returncode == 0
    # a dockerd of my home that no Portside process owns (its owner died, it lives on)
    mine.paths.daemon_json.write_text('{"iptables": false, "ip-masq": false, "bridge": "none"}')
    mine.paths.ensure()
    argv, env = NativeEngine(mine.paths, iptables=False)._command()
    orphan = subprocess.Popen(
        argv,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while mine.docker("version").returncode != 0:
            assert orphan.poll() is None and time.monotonic() < deadline, "dockerd did not come up"
            time.sleep(0.2)
        mine.paths.pidfile.unlink()  # even without its pidfile it is found, by its command line

        stopped = mine("stop")

        assert (stopped.returncode, stopped.stdout) == (0, "stopped\n"), stopped.stderr
        assert orphan.wait(5) is not None
        assert not _dockerd_alive(mine)
        assert other("status").returncode == 0
    finally:
        if orphan.poll() is None:
            orphan.kill()
            orphan.wait()


def test_stop_right_after_start_ends_stopped(make_home: Callable[[], Portside]) -> None:
    cli = make_home()
    starting = cli.start_in_background()
    try:
        time.sleep(0.05)
        stopped = cli("stop")
    finally:
        _, start_err = starting.communicate(timeout=90)

    # The stop either waited for the start and stopped what came up, or (when it won the race
    # for start.lock while the start was still loading Python) found nothing yet; then the start
    # must yield to it and say so.
    assert stopped.returncode == 0, stopped.stderr
    if stopped.stdout == "not running\n":
        assert starting.returncode == 3, start_err
        assert "stop` was issued after this start" in start_err
    else:
        assert stopped.stdout == "stopped\n", stopped.stderr
    time.sleep(1)  # an engine that would still come up has had time to
    assert not _dockerd_alive(cli), "the engine came up after `stop` returned"
    status = cli("status")
    assert (status.returncode, status.stdout.splitlines()[0]) == (3, "stopped"), status.stdout


def test_stop_issued_before_start_loads_still_wins(make_home: Callable[[], Portside]) -> None:
    """The race above, forced: a stop issued after a start got start.lock before the start did."""
    cli = make_home()
    assert cli("stop").returncode == 0  # creates the home; records a stop issued before the start
    lock = os.open(cli.home / "start.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)  # holds the start back, as a slow Python start-up does
    try:
        starting = cli.start_in_background()
        time.sleep(0.5)
        # what `portside engine stop` records when it wins start.lock: the moment it was issued,
        # on the clock procs.started_at() uses — later than the start process' creation
        (cli.home / "stop-requested").write_text(f"{time.monotonic()!r}\n")
    finally:
        os.close(lock)
    _, start_err = starting.communicate(timeout=90)
    assert starting.returncode == 3, start_err
    assert "stop` was issued after this start" in start_err
    assert not _dockerd_alive(cli)
    assert cli("status").stdout.splitlines()[0] == "stopped"
    again = cli("start")  # a start issued after the stop is not held back
    assert again.returncode == 0, again.stderr
    assert cli("stop").stdout == "stopped\n"


def test_ctrl_c_during_start_gives_a_message_and_stop_still_works(
    make_home: Callable[[], Portside],
) -> None:
    cli = make_home()
    starting = cli.start_in_background()
    deadline = time.monotonic() + 30
    while not (cli.home / "supervisor.log").exists():  # the CLI is waiting for its answer
        assert time.monotonic() < deadline
        time.sleep(0.02)
    starting.send_signal(signal.SIGINT)
    out, err = starting.communicate(timeout=60)

    assert (starting.returncode, out, err) == (128 + signal.SIGINT, "", "Interrupted.\n")
    stopped = cli("stop")
    assert stopped.returncode == 0, stopped.stderr
    assert not _dockerd_alive(cli)


# -- files private to the user ---------------------------------------------------------------------


def test_engine_log_and_state_are_private(make_home: Callable[[], Portside]) -> None:
    cli = make_home()
    cli.paths.log_file.write_text("an older run's line\n")  # written by an older version: 0644
    cli.paths.log_file.chmod(0o644)
    assert cli("start").returncode == 0
    for path in (cli.paths.log_file, cli.paths.state_file, cli.home / "supervisor.log"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert cli("stop").returncode == 0
    assert stat.S_IMODE(cli.paths.state_file.stat().st_mode) == 0o600


# -- messages, not tracebacks ----------------------------------------------------------------------


def test_home_that_is_a_file_says_so(make_home: Callable[[], Portside]) -> None:
    cli = make_home()
    a_file = cli.home / "not-a-folder"
    a_file.write_text("")
    for command in ("start", "stop", "status", "logs"):
        result = cli("--home", str(a_file), command)
        _no_traceback(result)
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        assert f"The engine folder {a_file} is a file, not a folder" in result.stderr


@pytest.mark.parametrize("value", ["nan", "inf", "-5", "0", "soon"])
def test_timeout_that_is_not_a_number_of_seconds_says_so(
    make_home: Callable[[], Portside], value: str
) -> None:
    cli = make_home()
    result = cli("start", "--timeout", value)
    _no_traceback(result)
    assert result.returncode == 2
    assert "is not a number of seconds above 0 (for example 60)" in result.stderr
    assert not _dockerd_alive(cli)


@pytest.mark.parametrize("command", [["status"], ["logs"], ["env"], ["status", "--json"]])
def test_reader_that_went_away_gives_no_traceback(
    make_home: Callable[[], Portside], command: list[str]
) -> None:
    cli = make_home()
    cli.paths.log_file.write_text("a line\n" * 20000)
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head -1` after its line: nobody reads any more
    try:
        result = subprocess.run(
            [sys.executable, "-m", "app", "engine", *command],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=cli.env(),
            cwd=REPO,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert result.stderr == ""
    assert result.returncode == 128 + signal.SIGPIPE


def test_status_piped_into_head_prints_the_first_line(make_home: Callable[[], Portside]) -> None:
    cli = make_home()
    result = subprocess.run(
        [
            "bash",
            "-c",
            f"set -o pipefail; {sys.executable} -m app engine status | head -1",
        ],
        capture_output=True,
        text=True,
        env=cli.env(),
        cwd=REPO,
        timeout=60,
    )
    assert result.stdout == "stopped\n"
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr


@pytest.fixture
def plain_http_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``python -m http.server`` (not Docker) serving ``tmp_path``; yields (URL, its folder)."""
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            assert time.monotonic() < deadline, "http.server did not come up"
            time.sleep(0.05)
        yield f"tcp://127.0.0.1:{port}", tmp_path
    finally:
        server.terminate()
        server.wait(10)


@pytest.mark.parametrize("ping_file", [True, False], ids=["ping-200", "ping-404"])
async def test_plain_http_server_is_not_a_docker_engine(
    plain_http_server: tuple[str, Path], ping_file: bool
) -> None:
    url, folder = plain_http_server
    if ping_file:
        (folder / "_ping").write_text("OK")  # even one that answers /_ping with 200 OK
    async with EngineClient(url, timeout=5) as client:
        with pytest.raises(ApiVersionTooOld) as info:
            await client.version()
    message = str(info.value)
    assert message.startswith("The server answered, but it is not a Docker engine")
    assert "Point DOCKER_HOST" in message
    assert "Upgrade the engine" not in message and "<html" not in message.lower()
