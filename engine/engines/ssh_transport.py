"""HTTP to a remote engine through ``ssh … docker system dial-stdio``, as the docker CLI does it.

Data flow, per HTTP connection (httpcore asks :class:`SSHBackend` for one whenever its pool has
no idle connection)::

    httpcore ──bytes──► our end of a socketpair ══ the other end is ssh's stdin AND stdout
                          ssh -T -o BatchMode=yes [-F cfg] [-p port] [-l user] -- host \
                              docker system dial-stdio        (remote: copies to its engine)

One ssh process per connection (at most :data:`SSH_LOGINS` of them logging in at once), with
the user's ssh config, agent and known_hosts; BatchMode means ssh never prompts, so an unknown
host key is refused (``StrictHostKeyChecking`` as the user configured it; Portside never accepts
a key itself). Because ssh's stdio is a *socket*, the
same connection works for the raw readers (:mod:`engine.rawget`, :mod:`engine.stats_monitor`
take :class:`SSHConnection` through :mod:`engine.engines.raw_socket`) and for a hijacked exec,
whose half-close (``shutdown(SHUT_WR)``) reaches the remote process as EOF on its stdin.

When ssh fails before the engine said anything, its stderr (kept in a temporary file, never
logged) becomes a sentence: unknown host key (with the ``ssh``/``ssh-keyscan`` step to trust
it), login refused, no ``docker`` on the remote PATH, host unreachable. Closing a connection
closes our socket end, then reaps ssh (terminate after 2 s, kill after 4 s): no process is left.

``PORTSIDE_SSH_CONFIG`` names an ssh config file used instead of ``~/.ssh/config`` (``-F``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import socket
import subprocess
import tempfile
import time
import typing
from collections.abc import Callable
from typing import IO, Any

import httpcore
import httpx

from engine.endpoint import Endpoint

SSH_CONFIG_ENV = "PORTSIDE_SSH_CONFIG"
#: ssh gives up connecting after this many seconds (streams have no read timeout of their own).
CONNECT_TIMEOUT = 20
#: ssh logins one transport runs at once: sshd's default MaxStartups (10:30:100) starts dropping
#: unauthenticated connections at 10; more connections wait for an earlier one's first answer.
SSH_LOGINS = 6
_REAP_TERM = 2.0
_REAP_KILL = 4.0

_live: set[subprocess.Popen[bytes]] = set()


class SSHFailure(httpcore.ConnectError):
    """ssh (or the remote docker CLI) failed; the message says why and what to do."""


def live_processes() -> int:
    """How many ssh processes this module started are still running (tests count them)."""
    return sum(1 for p in list(_live) if p.poll() is None)


def ssh_argv(endpoint: Endpoint, env: typing.Mapping[str, str] | None = None) -> list[str]:
    """The ssh command for one connection to ``endpoint`` (an ``ssh`` :class:`Endpoint`)."""
    env = os.environ if env is None else env
    argv = ["ssh", "-T", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={CONNECT_TIMEOUT}"]
    config = env.get(SSH_CONFIG_ENV, "").strip()
    if config:
        argv += ["-F", config]
    if endpoint.port:
        argv += ["-p", str(endpoint.port)]
    if endpoint.user:
        argv += ["-l", endpoint.user]
    return [*argv, "--", endpoint.host, "docker", "system", "dial-stdio"]


def _target(endpoint: Endpoint) -> str:
    return f"{endpoint.user}@{endpoint.host}" if endpoint.user else endpoint.host


def explain(stderr: str, endpoint: Endpoint, returncode: int | None) -> str:
    """ssh's stderr as a sentence that says what to do (pure)."""
    target = _target(endpoint)
    port = f"-p {endpoint.port} " if endpoint.port else ""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    last = lines[-1] if lines else f"ssh exited with status {returncode}"
    if "REMOTE HOST IDENTIFICATION HAS CHANGED" in stderr:
        return (
            f"The ssh host key of {endpoint.host} has CHANGED since you last connected: this "
            "can be an attack. Portside refuses to connect. If the server was really "
            f"reinstalled, remove the old key (`ssh-keygen -R {endpoint.host}`) and trust the "
            f"new one by connecting once with `ssh {port}{target}`."
        )
    if "Host key verification failed" in stderr or "No ED25519 host key is known" in stderr:
        return (
            f"The ssh host key of {endpoint.host} is not known, and Portside never accepts one "
            f"on its own. Check its fingerprint and trust it once: run `ssh {port}{target}` in a "
            "terminal and answer yes, or add it with "
            f"`ssh-keyscan {port}{endpoint.host} >> ~/.ssh/known_hosts`."
        )
    if "Permission denied" in stderr:
        return (
            f"ssh refused the login to {target} ({last}). Load your key into the ssh agent "
            "(`ssh-add`) or name it in ~/.ssh/config (IdentityFile), and make sure its public "
            "key is in the server's authorized_keys."
        )
    if "command not found" in stderr or "docker: not found" in stderr:
        return (
            f"ssh logged in to {target}, but there is no `docker` command on the remote PATH. "
            "Install the docker CLI there (it runs `docker system dial-stdio`)."
        )
    if "dial-stdio" in stderr and "unknown" in stderr.lower():
        return (
            f"The docker CLI on {endpoint.host} is too old for `docker system dial-stdio` "
            "(Docker 18.09 or newer is needed)."
        )
    if "Cannot connect to the Docker daemon" in stderr or "permission denied while" in stderr:
        return f"ssh works, but the docker CLI on {endpoint.host} cannot reach its engine: {last}"
    if "kex_exchange_identification" in stderr or "Connection reset by peer" in stderr:
        return (
            f"{endpoint.host} closed the ssh connection before the login ({last}): its sshd "
            "refuses this address, or too many connections at once (MaxStartups)."
        )
    if any(s in stderr for s in ("Could not resolve", "Connection refused", "timed out",
                                 "No route to host", "Network is unreachable")):
        return f"ssh cannot reach {endpoint.host}: {last}"
    return f"ssh to {target} failed: {last}"


class SSHConnection:
    """One ssh process and our end of its stdio socket."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed on reap
        try:
            self.proc = subprocess.Popen(
                ssh_argv(endpoint),
                stdin=theirs.fileno(),
                stdout=theirs.fileno(),
                stderr=self._stderr,
                close_fds=True,
            )
        except OSError as exc:
            ours.close()
            self._stderr.close()
            raise SSHFailure(
                f"Cannot run ssh ({exc}). Install the OpenSSH client (Debian: openssh-client)."
            ) from exc
        finally:
            theirs.close()
        _live.add(self.proc)
        self.sock = ours
        self.received = 0

    def failure(self) -> SSHFailure | None:
        """After an early EOF: ssh's error, when it exited with one."""
        code = self.proc.poll()
        if code in (None, 0):
            return None
        self._stderr.seek(0)
        text = self._stderr.read(65536).decode("utf-8", "replace")
        return SSHFailure(explain(text, self.endpoint, code))

    def _close_socket(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def _finish(self) -> None:
        _live.discard(self.proc)
        self._stderr.close()

    def close(self) -> None:
        """Blocking: close our end and reap ssh (for worker threads)."""
        self._close_socket()
        deadline = time.monotonic() + _REAP_KILL
        try:
            self.proc.wait(timeout=_REAP_TERM)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._finish()

    async def aclose(self) -> None:
        """Close our end and reap ssh without blocking the event loop."""
        self._close_socket()
        loop = asyncio.get_running_loop()
        start = loop.time()
        try:
            while self.proc.poll() is None:
                waited = loop.time() - start
                if waited > _REAP_KILL:
                    self.proc.kill()
                elif waited > _REAP_TERM:
                    self.proc.terminate()
                await asyncio.sleep(0.01 if waited < 0.2 else 0.1)
        except asyncio.CancelledError:
            self.proc.kill()
            await asyncio.to_thread(self.proc.wait)
            raise
        finally:
            if self.proc.returncode is not None:
                self._finish()


class SSHStream(httpcore.AsyncNetworkStream):
    """httpcore's view of one :class:`SSHConnection`."""

    def __init__(self, conn: SSHConnection, logged_in: Callable[[], None] | None = None) -> None:
        self._conn = conn
        conn.sock.setblocking(False)
        self._closed = False
        self._logged_in = logged_in
        # an answer that never comes (a request the engine answers late) must not hold the
        # login slot: ssh has logged in or given up after its ConnectTimeout anyway
        self._login_timer = (
            asyncio.get_running_loop().call_later(CONNECT_TIMEOUT, self._login_over)
            if logged_in is not None else None
        )

    def _login_over(self) -> None:
        if self._login_timer is not None:
            self._login_timer.cancel()
            self._login_timer = None
        if self._logged_in is not None:
            release, self._logged_in = self._logged_in, None
            release()

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        loop = asyncio.get_running_loop()
        try:
            data = await asyncio.wait_for(loop.sock_recv(self._conn.sock, max_bytes), timeout)
        except TimeoutError as exc:
            raise httpcore.ReadTimeout(str(exc) or "read timed out") from exc
        except OSError as exc:
            self._login_over()
            raise await self._failure() or httpcore.ReadError(str(exc)) from exc
        self._login_over()
        if data:
            self._conn.received += len(data)
            return data
        if self._conn.received == 0:
            failure = await self._failure()
            if failure is not None:
                raise failure
        return b""

    async def _failure(self) -> SSHFailure | None:
        """Nothing came back, or the socket broke: ssh most likely failed; let it exit first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 2.0
        while self._conn.proc.poll() is None and loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        return self._conn.failure()

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        if not buffer:
            return
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.sock_sendall(self._conn.sock, buffer), timeout)
        except TimeoutError as exc:
            raise httpcore.WriteTimeout(str(exc) or "write timed out") from exc
        except OSError as exc:
            raise await self._failure() or httpcore.WriteError(str(exc)) from exc

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._login_over()
        await self._conn.aclose()

    async def start_tls(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("TLS inside an ssh connection is not used")

    def get_extra_info(self, info: str) -> Any:
        if info == "socket":
            return self._conn.sock
        if info == "is_readable":
            if self._conn.sock.fileno() < 0:
                return True
            readable, _, _ = select.select([self._conn.sock], [], [], 0)
            return bool(readable)
        if info == "ssh_process":
            return self._conn.proc
        return None


class SSHBackend(httpcore.AsyncNetworkBackend):
    """Every "TCP connection" httpcore asks for is a new ssh process to ``endpoint``."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._logins = asyncio.Semaphore(SSH_LOGINS)

    async def _connect(self) -> SSHStream:
        await self._logins.acquire()
        try:
            return SSHStream(SSHConnection(self.endpoint), self._logins.release)
        except BaseException:
            self._logins.release()
            raise

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        local_address: str | None = None,
        socket_options: typing.Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return await self._connect()

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        socket_options: typing.Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return await self._connect()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class SSHTransport(httpx.AsyncHTTPTransport):
    """An httpx transport whose connections are ssh processes (see the module docstring)."""

    def __init__(self, endpoint: Endpoint) -> None:
        super().__init__(verify=False)  # no TLS inside ssh: skip loading certifi (~30 ms)
        self._pool = httpcore.AsyncConnectionPool(
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            http1=True,
            http2=False,
            network_backend=SSHBackend(endpoint),
        )
