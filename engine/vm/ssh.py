"""The engine API on the host: the guest's ``/var/run/docker.sock`` forwarded over ssh.

    docker CLI ─► <run dir>/docker.sock (0600, dir 0700) ─► ssh -L ─► 127.0.0.1:<port>
        ─► QEMU slirp hostfwd ─► guest sshd :22 ─► /var/run/docker.sock ─► dockerd

Only the user reaches it: the socket is the user's alone (mode 0600 in a 0700 folder), and the ssh
hop is authenticated both ways — a per-VM client key (its public half goes into the guest as
``authorized_keys`` through fw_cfg) and a per-VM host key generated here (its private half goes in
through fw_cfg, its public half is pinned in our own known_hosts; ``StrictHostKeyChecking=yes``),
so nothing else listening on that port could pose as the VM. The system ``ssh`` does the work;
``ControlMaster`` lets tests and tools run commands in the VM over the same connection.

:class:`APIForward` keeps the forward up: when ssh dies while the VM lives, it starts it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from engine.errors import EngineNotInstalled, LifecycleError
from engine.vm.layout import VMPaths
from engine.vm.qemu import HOST_KEY_ALIAS

log = logging.getLogger(__name__)

#: The guest's engine socket (image contract).
GUEST_SOCKET = "/var/run/docker.sock"


def find_ssh() -> tuple[str, str]:
    """(ssh, ssh-keygen) from PATH; raises with an install hint."""
    ssh, keygen = shutil.which("ssh"), shutil.which("ssh-keygen")
    if not ssh or not keygen:
        raise EngineNotInstalled(
            "The VM engine needs the OpenSSH client (ssh, ssh-keygen): on Debian/Ubuntu "
            "`sudo apt-get install openssh-client`; macOS ships it."
        )
    return ssh, keygen


def ensure_keys(keygen: str, paths: VMPaths) -> None:
    """Make the per-VM client and host key pairs once; (re)write the pinned known_hosts."""
    for key in (paths.client_key, paths.host_key):
        if key.exists() and key.with_name(key.name + ".pub").exists():
            continue
        for stale in (key, key.with_name(key.name + ".pub")):
            stale.unlink(missing_ok=True)
        try:
            subprocess.run(
                [keygen, "-q", "-t", "ed25519", "-N", "", "-C", HOST_KEY_ALIAS, "-f", str(key)],
                check=True,
                capture_output=True,
                timeout=30,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise LifecycleError(f"Could not make the VM's ssh key {key}: {exc}") from exc
    public = paths.host_key.with_name(paths.host_key.name + ".pub").read_text().split()
    line = f"{HOST_KEY_ALIAS} {public[0]} {public[1]}\n"
    tmp = paths.known_hosts.with_name(".known_hosts.tmp")
    tmp.write_text(line, encoding="ascii")
    os.replace(tmp, paths.known_hosts)


def ssh_options(paths: VMPaths, port: int) -> list[str]:
    """Options every ssh to this VM uses (pinned host key, this VM's key only, no user config)."""
    return [
        "-F", "none",
        "-p", str(port),
        "-i", str(paths.client_key),
        "-o", "IdentitiesOnly=yes",
        "-o", "IdentityAgent=none",
        "-o", "BatchMode=yes",
        "-o", "StrictHostKeyChecking=yes",
        "-o", f"UserKnownHostsFile={paths.known_hosts}",
        "-o", "GlobalKnownHostsFile=none",
        "-o", f"HostKeyAlias={HOST_KEY_ALIAS}",
        "-o", "ConnectTimeout=5",
        "-o", "ServerAliveInterval=5",
        "-o", "ServerAliveCountMax=3",
        "-o", "LogLevel=ERROR",
        "-o", f"ControlPath={paths.ssh_control}",
    ]  # fmt: skip


def forward_command(ssh: str, paths: VMPaths, port: int) -> list[str]:
    """The ssh that holds the API forward (and is the ControlMaster for other commands)."""
    return [
        ssh,
        *ssh_options(paths, port),
        "-N",
        "-o", "ControlMaster=yes",
        "-o", "ExitOnForwardFailure=yes",
        "-o", "StreamLocalBindUnlink=yes",
        "-o", "StreamLocalBindMask=0177",
        "-L", f"{paths.socket}:{GUEST_SOCKET}",
        "root@127.0.0.1",
    ]  # fmt: skip


def command_in_vm(ssh: str, paths: VMPaths, port: int, *command: str) -> list[str]:
    """An ssh that runs ``command`` in the VM (over the forward's master connection)."""
    return [ssh, *ssh_options(paths, port), "-o", "ControlMaster=no", "root@127.0.0.1", *command]


class APIForward:
    """Runs the forwarding ssh and starts it again if it dies while wanted.

    Args:
        ssh: the ssh program.
        paths: the VM's files.
        port: the host port QEMU forwards to the guest's sshd.
        note: called with a line for the engine log (restarts, failures).
    """

    def __init__(self, ssh: str, paths: VMPaths, port: int, note: Callable[[str], None]) -> None:
        self.ssh = ssh
        self.paths = paths
        self.port = port
        self._note = note
        self._proc: asyncio.subprocess.Process | None = None
        self._keeper: asyncio.Task[None] | None = None
        self.restarts = 0

    @property
    def log_path(self) -> Path:
        return self.paths.root / "ssh.log"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    async def start(self, timeout: float) -> None:  # noqa: ASYNC109
        """Connect and wait until the socket exists; retries while the guest's sshd comes up."""
        deadline = time.monotonic() + timeout
        while True:
            problem = await self._connect(max(1.0, deadline - time.monotonic()))
            if not problem:
                break
            if time.monotonic() > deadline:
                raise LifecycleError(f"The ssh forward of the engine API failed: {problem}")
            await asyncio.sleep(0.3)
        self._keeper = asyncio.ensure_future(self._keep())

    async def _connect(self, timeout: float) -> str:  # noqa: ASYNC109
        """Start ssh; '' once the socket is there, else what went wrong."""
        with contextlib.suppress(FileNotFoundError):
            self.paths.socket.unlink()
        with contextlib.suppress(FileNotFoundError):
            self.paths.ssh_control.unlink()
        with open(self.log_path, "ab") as errors:  # noqa: ASYNC230 - a local file, at once
            proc = await asyncio.create_subprocess_exec(
                *forward_command(self.ssh, self.paths, self.port),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                start_new_session=True,
            )
        self._proc = proc
        deadline = time.monotonic() + timeout
        while proc.returncode is None and time.monotonic() < deadline:
            if self.paths.socket.exists():
                with contextlib.suppress(OSError):
                    self.paths.socket.chmod(0o600)
                return ""
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 0.05)
        if proc.returncode is None:
            await self._end(proc)
            return f"no socket after {timeout:.0f} s"
        return f"ssh exited with code {proc.returncode}: {self.error_tail()}"

    def error_tail(self, lines: int = 3) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return " / ".join(text.strip().splitlines()[-lines:])

    async def _keep(self) -> None:
        while True:
            proc = self._proc
            assert proc is not None
            code = await proc.wait()
            self._note(f"ssh forward ended (code {code}: {self.error_tail(1)}); starting it again")
            self.restarts += 1
            delay = 0.2
            while await self._connect(10.0):
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            self._note("ssh forward is back")

    async def stop(self) -> None:
        """End the forward (no restart) and remove the socket."""
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keeper
            self._keeper = None
        if self._proc is not None:
            await self._end(self._proc)
            self._proc = None
        for stale in (self.paths.socket, self.paths.ssh_control):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()

    @staticmethod
    async def _end(proc: asyncio.subprocess.Process) -> None:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
