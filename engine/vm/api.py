"""Where the host reaches the VM's engine API, in either API mode (engine/vm/choice.py).

    vm.json "api" / PORTSIDE_VM_API / the OS ─► choice.api_mode ─► "ssh" | "tls"
      ssh: unix://<run folder>/docker.sock          (the ssh forward's socket, mode 0600)
      tls: tcp://127.0.0.1:<api-port> + <vm>/tls/{ca,cert,key}.pem   (mutual TLS)

The ``tls`` mode's host port is chosen once (a free one) and kept in ``<vm>/api-port``, so a
docker context or ``DOCKER_HOST`` written for it stays right across restarts; a start finds it
taken by another program only rarely, and then moves to a new free port (the app and
``portside context install`` follow the file). Read by VMEngine, the engines list, the CLI
integration and ``portside engine env``: one answer everywhere.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys

from engine.endpoint import Endpoint, TLSConfig
from engine.errors import PortsideError
from engine.vm.choice import api_mode
from engine.vm.layout import VMPaths, VMSettings


def configured_mode(paths: VMPaths, platform: str = sys.platform) -> str:
    """The API mode this VM starts with (a broken vm.json counts as "no setting" here: the start
    itself reports it)."""
    try:
        setting = VMSettings.load(paths.settings_file).api
    except PortsideError:
        setting = None
    return api_mode(setting, platform)


def saved_port(paths: VMPaths) -> int | None:
    """The kept ``tls`` port, or None when there is none (yet) or the file is garbage."""
    try:
        port = int(paths.api_port_file.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None
    return port if 0 < port < 65536 else None


def port_is_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:``port`` now (QEMU's hostfwd would fail otherwise).

    Probed the way QEMU's slirp binds it, with SO_REUSEADDR (not on Windows, where it means
    sharing a bound port): the last run's connections that dockerd closed first linger in
    TIME_WAIT for a minute, and without it they moved the port at a quick restart.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if sys.platform != "win32":
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def ensure_port(paths: VMPaths, *, check_free: bool = False) -> int:
    """The ``tls`` port: the kept one (when ``check_free``, only if nothing else took it), else a
    new free one, written to ``api-port`` atomically."""
    port = saved_port(paths)
    if port is not None and (not check_free or port_is_free(port)):
        return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    paths.root.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = paths.api_port_file.with_name(".api-port.tmp")
    tmp.write_text(f"{port}\n", encoding="ascii")
    os.replace(tmp, paths.api_port_file)
    return port


def client_tls(paths: VMPaths) -> TLSConfig:
    """The client side of the ``tls`` mode (the files engine/vm/tls.py makes; imported only
    here, in that mode: it loads ``cryptography``)."""
    from engine.vm import tls

    return tls.client_tls(paths.tls_dir)


def endpoint_url(paths: VMPaths, mode: str) -> str:
    """``unix:///…/docker.sock`` or ``tcp://127.0.0.1:<port>`` (the port kept or made now)."""
    if mode != "tls":
        return paths.engine.endpoint
    with contextlib.suppress(OSError):
        return f"tcp://127.0.0.1:{ensure_port(paths)}"
    return f"tcp://127.0.0.1:{saved_port(paths) or 0}"  # a folder we may not write: unreachable


def client_endpoint(paths: VMPaths, mode: str) -> Endpoint:
    """The parsed endpoint with its TLS settings in the ``tls`` mode."""
    url = endpoint_url(paths, mode)
    return Endpoint.parse(url, tls=client_tls(paths) if mode == "tls" else None)
