"""QMP over QEMU's pipe chardev (engine/vm/qmp_pipe.py), against a real QEMU with no machine
(``-machine none``: it starts in a fraction of a second, no VM boots). The POSIX transport (two
FIFOs) is what runs here; the Windows named pipe shares everything above the transport.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import stat
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine.errors import EngineNotInstalled
from engine.vm import ports, qemu
from engine.vm.qmp import QMPError
from engine.vm.qmp_pipe import (
    PipeQMPClient,
    chardev_args,
    fifo_paths,
    make_fifos,
    remove_fifos,
    windows_pipe_name,
)

try:
    QEMU: str | None = qemu.find_qemu("x86_64")
except EngineNotInstalled:
    QEMU = None
needs_qemu = pytest.mark.skipif(
    QEMU is None, reason="qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
)


async def start_qemu(path: Path) -> asyncio.subprocess.Process:
    """A QEMU with no machine, a slirp netdev for host forwards and QMP on the pipe at ``path``."""
    assert QEMU is not None
    return await asyncio.create_subprocess_exec(
        QEMU, "-machine", "none", "-nodefaults", "-display", "none",
        "-netdev", "user,id=net0", *chardev_args(path),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


async def end_qemu(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.kill()  # also ends a stopped (SIGSTOP) QEMU
    await proc.wait()


Running = tuple[asyncio.subprocess.Process, PipeQMPClient]


@pytest.fixture
async def pipe_qemu(tmp_path: Path) -> AsyncIterator[Running]:
    path = tmp_path / "q,mp"  # a comma in the path reaches QEMU doubled (chardev_args)
    make_fifos(path)
    proc = await start_qemu(path)
    client = await PipeQMPClient.connect(path)
    try:
        yield proc, client
    finally:
        await client.close()
        await end_qemu(proc)


# -- pure parts -----------------------------------------------------------------------------------


def test_chardev_args_double_commas_in_the_path() -> None:
    assert chardev_args(Path("/run/a,b/qmp")) == [
        "-chardev", "pipe,id=qmp,path=/run/a,,b/qmp", "-mon", "chardev=qmp,mode=control",
    ]  # fmt: skip
    assert chardev_args("portside-qmp-0123")[1] == "pipe,id=qmp,path=portside-qmp-0123"


def test_windows_pipe_names_differ_per_folder() -> None:
    one = windows_pipe_name(Path("/home/ann/.local/share/portside/engine/vm"))
    assert one == windows_pipe_name(Path("/home/ann/.local/share/portside/engine/vm"))
    assert one != windows_pipe_name(Path("/home/bob/.local/share/portside/engine/vm"))
    assert one.startswith("portside-qmp-") and len(one) == len("portside-qmp-") + 16


def test_make_fifos_replaces_stale_files_with_private_fifos(tmp_path: Path) -> None:
    path = tmp_path / "qmp"
    to_qemu, from_qemu = fifo_paths(path)
    to_qemu.write_text("stale")  # a left-over regular file must not be written into
    assert make_fifos(path) == (to_qemu, from_qemu)
    for fifo in (to_qemu, from_qemu):
        mode = fifo.stat().st_mode
        assert stat.S_ISFIFO(mode) and stat.S_IMODE(mode) == 0o600
    remove_fifos(path)
    remove_fifos(path)  # gone already is fine
    assert not to_qemu.exists() and not from_qemu.exists()


# -- against a real QEMU --------------------------------------------------------------------------


@needs_qemu
async def test_commands_errors_and_events_over_the_pipe(pipe_qemu) -> None:  # type: ignore[no-untyped-def]
    _proc, client = pipe_qemu
    version = client.greeting["version"]["qemu"]
    assert (await client.execute("query-status"))["status"] == "running"
    text = await client.human_command("info version")
    assert text.startswith(f"{version['major']}.{version['minor']}.{version['micro']}"), text
    with pytest.raises(QMPError, match="not-a-command") as caught:
        await client.execute("not-a-command")
    assert caught.value.error_class == "CommandNotFound"
    # events met while reading an answer are kept aside, and the next answer is still the right one
    await client.execute("stop")
    assert client.recent_events[-1]["event"] == "STOP"
    assert (await client.execute("query-status"))["status"] == "paused"
    await client.execute("cont")
    assert client.recent_events[-1]["event"] == "RESUME"
    assert (await client.execute("query-status"))["status"] == "running"


@needs_qemu
async def test_concurrent_and_cancelled_commands_stay_in_step(pipe_qemu) -> None:  # type: ignore[no-untyped-def]
    """The port forwarder and a stop may send at the same time: one at a time on the pipe, each
    gets its own answer. A cancelled command's worker still reads its answer, so the next one
    does not take it for its own."""
    proc, client = pipe_qemu
    # each answer is its own: QEMU's error names the path that command asked for
    answers = await asyncio.gather(
        *(client.execute("qom-list", {"path": f"/nope{n}"}) for n in range(12)),
        *(client.execute("query-status") for _ in range(4)),
        return_exceptions=True,
    )
    for n, answer in enumerate(answers[:12]):
        assert isinstance(answer, QMPError) and f"/nope{n}'" in str(answer), answer
    assert all(a["status"] == "running" for a in answers[12:])  # type: ignore[index]
    proc.send_signal(signal.SIGSTOP)
    try:
        waiting = asyncio.ensure_future(client.human_command("info version", timeout=10))
        await asyncio.sleep(0.2)
        waiting.cancel()
    finally:
        proc.send_signal(signal.SIGCONT)
    assert (await client.execute("query-status"))["status"] == "running"


@needs_qemu
async def test_host_forward_listens_on_the_host(pipe_qemu) -> None:  # type: ignore[no-untyped-def]
    _proc, client = pipe_qemu
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    forward = ports.Forward("tcp", free)
    out = await client.human_command(forward.add_command())
    assert not ports.add_failed(out), out
    with socket.create_connection(("127.0.0.1", free), timeout=5):
        pass  # slirp listens on the host side now
    assert not ports.add_failed(await client.human_command(forward.remove_command()))
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", free), 5):
        pass


@needs_qemu
async def test_quit_ends_qemu_and_the_session(pipe_qemu) -> None:  # type: ignore[no-untyped-def]
    proc, client = pipe_qemu
    await client.quit()
    assert await asyncio.wait_for(proc.wait(), 10) == 0
    with pytest.raises(QMPError, match="closed its QMP pipe"):
        await client.execute("query-status", timeout=5)
    with pytest.raises(QMPError, match="closed its QMP pipe"):
        await client.execute("query-status", timeout=5)  # at once: the session is over


@needs_qemu
async def test_qemu_killed_mid_command_and_between_commands(tmp_path: Path) -> None:
    """QEMU killed while a command waits: the end of file ends it at once, not its timeout. We hold
    no writer on P.out, so the read sees the end of file when QEMU's end closes."""
    for mid_command in (True, False):
        path = tmp_path / f"qmp-{mid_command}"
        make_fifos(path)
        proc = await start_qemu(path)
        client = await PipeQMPClient.connect(path)
        try:
            if mid_command:
                proc.send_signal(signal.SIGSTOP)  # the command is written but never answered
                waiting = asyncio.ensure_future(client.execute("query-status", timeout=30))
                await asyncio.sleep(0.2)
                assert not waiting.done()
                started = time.monotonic()
                proc.kill()
                with pytest.raises(QMPError, match="closed its QMP pipe"):
                    await asyncio.wait_for(waiting, 10)
            else:
                proc.kill()
                await proc.wait()
                started = time.monotonic()
                with pytest.raises(QMPError, match="closed its QMP pipe"):
                    await asyncio.wait_for(client.execute("query-status", timeout=30), 10)
            assert time.monotonic() - started < 3
        finally:
            await client.close()
            await end_qemu(proc)


@needs_qemu
async def test_a_timeout_leaves_the_session_out_of_step(pipe_qemu) -> None:  # type: ignore[no-untyped-def]
    proc, client = pipe_qemu
    proc.send_signal(signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(QMPError, match="did not answer query-status within"):
            await client.execute("query-status", timeout=0.5)
        assert 0.5 <= time.monotonic() - started < 3
    finally:
        proc.send_signal(signal.SIGCONT)
    # QEMU answers the late command now; that answer must never be taken for the next one's
    with pytest.raises(QMPError, match="out of step"):
        await client.execute("query-status")
    with pytest.raises(QMPError, match="out of step"):
        await client.human_command("info version")


@needs_qemu
async def test_close_ends_a_waiting_command_at_once(pipe_qemu) -> None:  # type: ignore[no-untyped-def]
    proc, client = pipe_qemu
    proc.send_signal(signal.SIGSTOP)
    waiting = asyncio.ensure_future(client.execute("query-status", timeout=30))
    await asyncio.sleep(0.2)
    started = time.monotonic()
    await asyncio.wait_for(client.close(), 5)
    with pytest.raises(QMPError, match="closed"):
        await asyncio.wait_for(waiting, 5)
    assert time.monotonic() - started < 2
    with pytest.raises(QMPError, match="closed"):
        await client.execute("query-status")


@needs_qemu
async def test_connect_waits_for_qemu_to_start(tmp_path: Path) -> None:
    path = tmp_path / "qmp"
    make_fifos(path)
    connecting = asyncio.ensure_future(PipeQMPClient.connect(path, timeout=20))
    await asyncio.sleep(0.3)
    assert not connecting.done()  # no QEMU yet: still trying, not failed, not hanging
    proc = await start_qemu(path)
    try:
        client = await asyncio.wait_for(connecting, 20)
        assert "qemu" in client.greeting["version"]
        assert (await client.execute("query-status"))["status"] == "running"
        await client.close()
    finally:
        await end_qemu(proc)


@needs_qemu
async def test_a_second_session_needs_no_greeting(pipe_qemu, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A pipe keeps one monitor: a second session finds no greeting and a monitor past
    negotiation (as on Windows when QEMU wrote the greeting before we read); connect copes."""
    _proc, first = pipe_qemu
    await first.close()
    second = await PipeQMPClient.connect(tmp_path / "q,mp", timeout=5)
    try:
        assert "qemu" in second.greeting["version"]
        assert (await second.execute("query-status"))["status"] == "running"
    finally:
        await second.close()


async def test_connect_without_qemu_fails_after_the_deadline(tmp_path: Path) -> None:
    path = tmp_path / "qmp"
    make_fifos(path)
    started = time.monotonic()
    with pytest.raises(QMPError, match=r"did not open its QMP pipe .* within 1 s"):
        await PipeQMPClient.connect(path, timeout=1)
    assert 1 <= time.monotonic() - started < 3


@needs_qemu
async def test_connect_gives_up_at_once_when_qemu_exits_first(tmp_path: Path) -> None:
    assert QEMU is not None
    path = tmp_path / "qmp"
    make_fifos(path)
    proc = await asyncio.create_subprocess_exec(
        QEMU, "-machine", "no-such-machine", "-nodefaults", "-display", "none", *chardev_args(path),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    started = time.monotonic()
    try:
        with pytest.raises(QMPError, match="exited"):
            await PipeQMPClient.connect(path, timeout=30, alive=lambda: proc.returncode is None)
        assert time.monotonic() - started < 5
        assert proc.returncode not in (None, 0)
    finally:
        await end_qemu(proc)


async def test_connect_without_fifos_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(QMPError, match="make_fifos makes it before QEMU starts"):
        await PipeQMPClient.connect(tmp_path / "qmp", timeout=5)


@needs_qemu
async def test_an_idle_session_drains_events_and_notices_qemu_ending(tmp_path: Path) -> None:
    """No command runs: the drain takes QEMU's events (SHUTDOWN on SIGTERM) and the end of file,
    so the next command fails at once instead of writing into a dead pipe."""
    path = tmp_path / "qmp"
    make_fifos(path)
    proc = await start_qemu(path)
    client = await PipeQMPClient.connect(path, drain_interval=0.05)
    try:
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), 10) == 0
        for _ in range(100):
            if client.recent_events:
                break
            await asyncio.sleep(0.05)
        assert [e["event"] for e in client.recent_events] == ["SHUTDOWN"]
        with pytest.raises(QMPError, match="closed its QMP pipe"):
            await client.execute("query-status")
    finally:
        await client.close()
        await end_qemu(proc)
