"""Endpoint parsing and resolution (pure), and a real TLS handshake with client certificates."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine.client import EngineClient
from engine.endpoint import DEFAULT_SOCKET, Endpoint, TLSConfig, resolve_endpoint
from engine.errors import EngineUnreachable, InvalidEndpoint


def test_unix_socket() -> None:
    ep = Endpoint.parse("unix:///run/user/1000/docker.sock")
    assert (ep.scheme, ep.path) == ("unix", "/run/user/1000/docker.sock")
    assert ep.url == "unix:///run/user/1000/docker.sock"
    assert ep.base_url == "http://docker"


def test_bare_path_is_a_unix_socket() -> None:
    assert Endpoint.parse("/tmp/x.sock") == Endpoint(scheme="unix", path="/tmp/x.sock")


def test_tcp_with_port_and_default_port() -> None:
    ep = Endpoint.parse("tcp://192.0.2.10:2377")
    assert (ep.scheme, ep.host, ep.port) == ("tcp", "192.0.2.10", 2377)
    assert ep.base_url == "http://192.0.2.10:2377"
    assert Endpoint.parse("tcp://engine.example").port == 2375


def test_tcp_ipv6() -> None:
    ep = Endpoint.parse("tcp://[::1]:2375")
    assert (ep.host, ep.port, ep.url, ep.base_url) == (
        "::1",
        2375,
        "tcp://[::1]:2375",
        "http://[::1]:2375",
    )


def test_tls_makes_tcp_https_with_tls_default_port() -> None:
    tls = TLSConfig(verify=False)
    ep = Endpoint.parse("tcp://engine.example", tls=tls)
    assert (ep.scheme, ep.port, ep.tls_config) == ("tls", 2376, tls)
    assert ep.base_url == "https://engine.example:2376"
    assert str(ep) == "tcp://engine.example:2376 (TLS)"


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("tcp://", "names no host"),
        ("foo://x", "unknown scheme 'foo'"),
        ("tcp://h:notaport", "port must be a number"),
        ("tcp://h:99999", "port must be a number"),
        ("unix://", "absolute socket path"),
        ("unix://relative.sock", "absolute socket path"),
        ("localhost:2375", "has no scheme"),
        ("tcp://h:2375/some/path", "just host and port"),
        ("npipe:////./pipe/docker_engine", "does not support"),
    ],
)
def test_malformed_docker_host_names_value_and_gives_example(value: str, needle: str) -> None:
    with pytest.raises(InvalidEndpoint) as info:
        resolve_endpoint(None, {"DOCKER_HOST": value})
    message = str(info.value)
    assert message.startswith("DOCKER_HOST is invalid")
    assert repr(value) in message
    assert needle in message
    assert "unix://" in message or "tcp://" in message  # an example of a good value


def test_empty_docker_host_is_an_error() -> None:
    with pytest.raises(InvalidEndpoint, match="DOCKER_HOST is set but empty"):
        resolve_endpoint(None, {"DOCKER_HOST": "  "})


def test_resolution_order() -> None:
    env = {"DOCKER_HOST": "tcp://10.0.0.1:2375"}
    assert resolve_endpoint("unix:///a.sock", env).path == "/a.sock"
    assert resolve_endpoint(None, env).host == "10.0.0.1"
    assert resolve_endpoint(None, {}) == Endpoint(scheme="unix", path=DEFAULT_SOCKET)
    given = Endpoint(scheme="unix", path="/b.sock")
    assert resolve_endpoint(given, env) is given


def test_tls_verify_without_ca_names_the_missing_file(tmp_path: Path) -> None:
    env = {
        "DOCKER_HOST": "tcp://h:2376",
        "DOCKER_TLS_VERIFY": "1",
        "DOCKER_CERT_PATH": str(tmp_path),
    }
    with pytest.raises(InvalidEndpoint, match=str(tmp_path / "ca.pem")):
        resolve_endpoint(None, env)


def test_certificate_without_key_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("x")
    (tmp_path / "cert.pem").write_text("x")
    with pytest.raises(InvalidEndpoint, match="needs both files"):
        TLSConfig.from_cert_path(tmp_path)


def test_unreadable_certificates_are_invalid_endpoint(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("not a certificate")
    with pytest.raises(InvalidEndpoint, match="Cannot load the TLS certificates"):
        TLSConfig.from_cert_path(tmp_path).ssl_context()


# -- a real TLS round trip: our client against a TLS server requiring client certificates ------


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA, a server certificate for 127.0.0.1 and a client certificate (docker's layout)."""
    d = tmp_path_factory.mktemp("certs")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
             "-keyout", "ca-key.pem", "-out", "ca.pem", cwd=d)  # fmt: skip
    for name, ext in (
        ("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth"),
        ("client", "extendedKeyUsage=clientAuth"),
    ):
        (d / f"{name}.ext").write_text(ext + "\n")
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
                 "-keyout", f"{name}-key.pem", "-out", f"{name}.csr", cwd=d)  # fmt: skip
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
                 "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext",
                 "-out", f"{name}-cert.pem", cwd=d)  # fmt: skip
    client_dir = d / "client"
    client_dir.mkdir()
    (client_dir / "ca.pem").write_bytes((d / "ca.pem").read_bytes())
    (client_dir / "cert.pem").write_bytes((d / "client-cert.pem").read_bytes())
    (client_dir / "key.pem").write_bytes((d / "client-key.pem").read_bytes())
    return d


@pytest.fixture
async def tls_server(certs: Path) -> AsyncIterator[tuple[int, list[str]]]:
    """A minimal engine look-alike over TLS that demands a client certificate."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(certs / "ca.pem"))
    ctx.load_cert_chain(str(certs / "server-cert.pem"), str(certs / "server-key.pem"))
    ctx.verify_mode = ssl.CERT_REQUIRED
    peers: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                method, path, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
                peer = writer.get_extra_info("peercert")
                peers.append(dict(x[0] for x in peer["subject"])["commonName"])
                body = b"OK" if path == "/_ping" else b'{"Version":"tls-test","ApiVersion":"1.43"}'
                writer.write(
                    b"HTTP/1.1 200 OK\r\nApi-Version: 1.43\r\nContent-Length: "
                    + str(len(body)).encode()
                    + b"\r\n\r\n"
                    + (b"" if method == "HEAD" else body)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port, peers
    finally:
        server.close()
        await server.wait_closed()


async def test_tls_client_certificates_from_docker_cert_path(
    certs: Path, tls_server: tuple[int, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, peers = tls_server
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{port}")
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(certs / "client"))
    async with EngineClient() as client:
        assert client.endpoint.scheme == "tls"
        assert await client.connect() == "1.43"
        assert (await client.version()).version == "tls-test"
    assert peers and set(peers) == {"client"}  # the server saw our client certificate


async def test_tls_without_client_certificate_is_refused(
    certs: Path, tls_server: tuple[int, list[str]]
) -> None:
    port, peers = tls_server
    tls = TLSConfig(ca_cert=certs / "ca.pem")  # verifies the server but presents no cert
    async with EngineClient(Endpoint.parse(f"tcp://127.0.0.1:{port}", tls=tls)) as client:
        with pytest.raises(EngineUnreachable, match=f"127.0.0.1:{port}"):
            await client.connect()
    assert peers == []
