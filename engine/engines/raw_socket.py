"""Sockets for the raw readers (:mod:`engine.stats_monitor`, :mod:`engine.rawget`) on every
kind of endpoint: unix, tcp, tcp+TLS (an ``ssl``-wrapped socket) and ssh (our end of the
socketpair that is an ``ssh … docker system dial-stdio`` process's stdio).

Two shapes:

- :class:`RawConnection` — non-blocking, for one ``selectors`` loop: :meth:`RawConnection.advance`
  drives connect and the TLS handshake and says which event to wait for next; ``send``/``recv``
  return None when they would block (for TLS also on a renegotiation's want-read/want-write), and
  ``recv`` drains what OpenSSL already decrypted, which ``select()`` cannot see. Closing an ssh
  connection closes the socket at once and leaves the process to :meth:`RawConnection.reap`
  (non-blocking) or :meth:`RawConnection.close` (blocking, with terminate/kill).
- :func:`connect_blocking` — a connected blocking socket and a close function, for a worker
  thread.

Failures become the client's own exceptions: :class:`engine.engines.failures.TLSRefused` /
``SSHRefused`` with the reason in words, else :class:`engine.errors.EngineUnreachable`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import selectors
import socket
import ssl
from collections.abc import Callable

from engine.endpoint import Endpoint
from engine.engines.failures import SSHRefused, translate
from engine.engines.ssh_transport import SSHConnection, SSHFailure
from engine.errors import EngineError, EngineUnreachable


def host_header(endpoint: Endpoint) -> str:
    if endpoint.scheme in ("unix", "ssh"):
        return "docker"
    host = f"[{endpoint.host}]" if ":" in endpoint.host else endpoint.host
    return f"{host}:{endpoint.port}"


def ssl_context_for(endpoint: Endpoint) -> ssl.SSLContext | None:
    """Built once per reader (it reads the certificate files)."""
    if endpoint.scheme != "tls":
        return None
    assert endpoint.tls_config is not None
    return endpoint.tls_config.ssl_context()


def failure(
    endpoint: Endpoint, exc: BaseException, ssh: SSHConnection | None = None
) -> EngineError:
    """``exc`` as the client's exception (TLS and ssh reasons in words)."""
    if ssh is not None:
        failed = ssh.failure()
        if failed is not None:
            return SSHRefused(endpoint.url, str(failed))
    if isinstance(exc, EngineError):
        return exc
    return translate(exc, endpoint) or EngineUnreachable(endpoint.url, str(exc) or repr(exc))


class RawConnection:
    """One non-blocking connection for a selector loop (see the module docstring)."""

    def __init__(self, endpoint: Endpoint, ctx: ssl.SSLContext | None) -> None:
        self.endpoint = endpoint
        self.ssh: SSHConnection | None = None
        self._ctx = ctx
        self._connected = False
        self._handshaken = ctx is None
        if endpoint.scheme == "ssh":
            try:
                self.ssh = SSHConnection(endpoint)
            except SSHFailure as exc:
                raise SSHRefused(endpoint.url, str(exc)) from exc
            self.sock: socket.socket = self.ssh.sock
            self.sock.setblocking(False)
            self._connected = True
            return
        try:
            if endpoint.scheme == "unix":
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                address: str | tuple[str, int] = endpoint.path
            else:
                info = socket.getaddrinfo(endpoint.host, endpoint.port, type=socket.SOCK_STREAM)
                sock = socket.socket(info[0][0], socket.SOCK_STREAM)
                address = (endpoint.host, endpoint.port)
        except OSError as exc:
            raise EngineUnreachable(endpoint.url, str(exc)) from exc
        sock.setblocking(False)
        err = sock.connect_ex(address)
        if err not in (0, errno.EINPROGRESS, errno.EAGAIN, errno.EWOULDBLOCK):
            sock.close()
            raise EngineUnreachable(endpoint.url, f"{errno.errorcode.get(err, err)}: "
                                                  f"{os.strerror(err)}")
        self.sock = sock

    @property
    def ready(self) -> bool:
        """Connected (and, for TLS, the handshake done): the request can be sent."""
        return self._connected and self._handshaken

    def advance(self) -> int:
        """Drive connect/handshake after the socket became ready; the event to wait for next.

        Returns ``EVENT_WRITE`` once :attr:`ready` (the request is to be sent). Raises the
        client's exception when connecting or the handshake fails.
        """
        if not self._connected:
            err = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                raise EngineUnreachable(self.endpoint.url,
                                        f"{errno.errorcode.get(err, err)}: {os.strerror(err)}")
            self._connected = True
            if self._ctx is not None:
                self.sock = self._ctx.wrap_socket(
                    self.sock, server_hostname=self.endpoint.host,
                    do_handshake_on_connect=False,
                )
        if not self._handshaken:
            assert isinstance(self.sock, ssl.SSLSocket)
            try:
                self.sock.do_handshake()
            except ssl.SSLWantReadError:
                return selectors.EVENT_READ
            except ssl.SSLWantWriteError:
                return selectors.EVENT_WRITE
            except OSError as exc:
                raise failure(self.endpoint, exc) from exc
            self._handshaken = True
        return selectors.EVENT_WRITE

    def send(self, data: bytes) -> int | None:
        try:
            return self.sock.send(data)
        except (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return None
        except OSError as exc:
            raise failure(self.endpoint, exc, self.ssh) from exc

    def recv(self, size: int) -> bytes | None:
        """Bytes read (b"" at the end), None when nothing is there yet."""
        try:
            data = self.sock.recv(size)
            if isinstance(self.sock, ssl.SSLSocket):
                while data and self.sock.pending() and len(data) < 4 * size:
                    data += self.sock.recv(size)
        except (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return None
        except OSError as exc:
            raise failure(self.endpoint, exc, self.ssh) from exc
        return data

    def ssh_failure(self) -> EngineError | None:
        """After an EOF with nothing read: why ssh ended (waits up to 2 s for it to exit)."""
        if self.ssh is None:
            return None
        with contextlib.suppress(Exception):
            self.ssh.proc.wait(timeout=2.0)
        failed = self.ssh.failure()
        return SSHRefused(self.endpoint.url, str(failed)) if failed is not None else None

    def close_socket(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def reap(self) -> bool:
        """Non-blocking: True once nothing of this connection is left (ssh exited)."""
        self.close_socket()
        if self.ssh is None:
            return True
        if self.ssh.proc.poll() is None:
            return False
        self.ssh.close()
        return True

    def close(self) -> None:
        """Blocking: close and reap (terminate/kill an ssh that does not end)."""
        self.close_socket()
        if self.ssh is not None:
            self.ssh.close()


def connect_blocking(endpoint: Endpoint) -> tuple[socket.socket, Callable[[], None]]:
    """A connected blocking socket (TLS handshake done, or ssh started) and its close function.

    Raises:
        EngineError: TLSRefused / SSHRefused / EngineUnreachable.
    """
    if endpoint.scheme == "ssh":
        try:
            conn = SSHConnection(endpoint)
        except SSHFailure as exc:
            raise SSHRefused(endpoint.url, str(exc)) from exc
        return conn.sock, conn.close
    try:
        if endpoint.scheme == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(endpoint.path)
            return sock, sock.close
        sock = socket.create_connection((endpoint.host, endpoint.port))
    except OSError as exc:
        raise EngineUnreachable(endpoint.url, str(exc)) from exc
    ctx = ssl_context_for(endpoint)
    if ctx is None:
        return sock, sock.close
    try:
        tls = ctx.wrap_socket(sock, server_hostname=endpoint.host)
    except OSError as exc:
        sock.close()
        raise failure(endpoint, exc) from exc
    return tls, tls.close
