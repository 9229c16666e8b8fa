"""Session fixture for the registry: Debian's ``docker-registry`` with htpasswd auth.

The registry listens on 127.0.0.1 at a free port, keeps its config, password file, storage and log
in a session tmp dir, and is ended at the end of the session by its own process id. Engines treat
127.0.0.0/8 as an insecure (plain HTTP) registry by default, so ``docker push 127.0.0.1:PORT/x``
works without TLS.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

#: Debian's docker-registry, wherever PATH has it.
REGISTRY_BINARY = shutil.which("docker-registry") or "/usr/bin/docker-registry"
USERNAME = "portside"
START_TIMEOUT = 20.0


@dataclass(frozen=True)
class RegistryServer:
    """A running local registry that needs HTTP basic auth.

    Attributes:
        host: ``"127.0.0.1:PORT"`` — the registry part of image references.
        username, password: the only account in its htpasswd file.
        url: ``"http://127.0.0.1:PORT"``.
        root: the tmp dir holding config.yml, htpasswd, storage/ and registry.log.
        pid: the registry process id.
    """

    host: str
    username: str
    password: str = field(repr=False)
    url: str
    root: Path
    pid: int


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _write_htpasswd(path: Path, username: str, password: str) -> None:
    htpasswd = shutil.which("htpasswd")
    if htpasswd is None:
        pytest.fail("htpasswd is missing: install apache2-utils", pytrace=False)
    # -i: the password comes on stdin, so it never shows in a process list.
    line = subprocess.run(
        [htpasswd, "-iBn", username],
        input=password,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    path.write_text(line + "\n", encoding="utf-8")
    path.chmod(0o600)


def _write_config(root: Path, port: int) -> Path:
    config = root / "config.yml"
    config.write_text(
        "\n".join(
            [
                "version: 0.1",
                "log:",
                "  level: info",
                "  accesslog:",
                "    disabled: true",
                "storage:",
                "  filesystem:",
                f"    rootdirectory: {root / 'storage'}",
                "  delete:",
                "    enabled: true",
                "http:",
                f"  addr: 127.0.0.1:{port}",
                f"  secret: {secrets.token_hex(16)}",
                "auth:",
                "  htpasswd:",
                "    realm: portside-test",
                f"    path: {root / 'htpasswd'}",
                "",
            ]
        ),
        encoding="utf-8",
    )
    return config


def _log_tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _start(root: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start the registry on a free port; retry a few times if the port was taken meanwhile."""
    log = root / "registry.log"
    last_error = ""
    for _attempt in range(3):
        port = _free_port()
        config = _write_config(root, port)
        with log.open("ab") as log_file:
            proc = subprocess.Popen(
                [REGISTRY_BINARY, "serve", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                last_error = f"docker-registry exited with status {proc.returncode}"
                break
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/v2/", timeout=1.0).status_code
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            if status == 401:
                return proc, port
            last_error = f"/v2/ answered {status} instead of 401 (auth is not enabled?)"
            break
        else:
            last_error = f"/v2/ did not answer within {START_TIMEOUT:.0f} s"
        _stop(proc)
    pytest.fail(
        f"The test registry did not start: {last_error}.\nLast lines of {log}:\n{_log_tail(log)}",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """A local htpasswd-protected docker-registry for the whole session."""
    if not Path(REGISTRY_BINARY).is_file():
        pytest.fail(f"{REGISTRY_BINARY} is missing: install docker-registry", pytrace=False)
    root = tmp_path_factory.mktemp("registry")
    (root / "storage").mkdir()
    password = secrets.token_urlsafe(18)
    _write_htpasswd(root / "htpasswd", USERNAME, password)
    proc, port = _start(root)
    try:
        yield RegistryServer(
            host=f"127.0.0.1:{port}",
            username=USERNAME,
            password=password,
            url=f"http://127.0.0.1:{port}",
            root=root,
            pid=proc.pid,
        )
    finally:
        _stop(proc)
