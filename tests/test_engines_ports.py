"""engine/engines/ports.py: port links point at the remote host for remote engines."""

from __future__ import annotations

import pytest

from engine.endpoint import Endpoint, TLSConfig
from engine.engines.ports import is_remote, port_url


@pytest.mark.parametrize(
    ("url", "ip", "port", "expected"),
    [
        ("unix:///run/docker.sock", "0.0.0.0", 8080, "http://127.0.0.1:8080"),
        ("unix:///run/docker.sock", "::", 8080, "http://127.0.0.1:8080"),
        ("unix:///run/docker.sock", "127.0.0.1", 80, "http://127.0.0.1:80"),
        ("tcp://build.example.org:2376", "0.0.0.0", 8080, "http://build.example.org:8080"),
        ("ssh://me@192.0.2.7:2222", "", 5000, "http://192.0.2.7:5000"),
        ("ssh://me@192.0.2.7", "127.0.0.1", 5000, None),
        ("ssh://me@[2001:db8::1]", "::", 80, "http://[2001:db8::1]:80"),
        ("tcp://10.0.0.5:2375", "10.0.0.5", 9000, "http://10.0.0.5:9000"),
        ("tcp://127.0.0.1:2376", "0.0.0.0", 8080, "http://127.0.0.1:8080"),
        ("tcp://localhost:2376", "127.0.0.1", 8080, "http://127.0.0.1:8080"),
    ],
)
def test_port_url(url: str, ip: str, port: int, expected: str | None) -> None:
    tls = TLSConfig(verify=False) if url.endswith("2376") else None
    assert port_url(Endpoint.parse(url, tls=tls), ip, port) == expected


def test_is_remote() -> None:
    assert not is_remote(Endpoint.parse("unix:///x.sock"))
    assert not is_remote(Endpoint.parse("ssh://me@127.0.0.1:2222"))
    assert is_remote(Endpoint.parse("ssh://me@host.example"))
