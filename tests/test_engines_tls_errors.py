"""TLS failures a real engine is not made to produce on demand, from real TLS servers on
127.0.0.1 (Python's ssl, not a mock): an expired server certificate, and a plain-HTTP port
reached with TLS. The engine-made cases are in tests/test_engines_tls.py."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine.engines import EngineEntry, probe
from tests.support.remote_engines import PKI, make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    return make_pki(tmp_path_factory.mktemp("pki"))


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A tiny HTTP server: like dockerd's (Go's net/http), it answers bytes that are not a
    request line (a TLS ClientHello) with 400 and closes."""
    try:
        first = await reader.read(1024)
        if not first[:1].isalpha():
            writer.write(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
            await writer.drain()
            return
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
    except (OSError, asyncio.IncompleteReadError, ssl.SSLError):
        pass
    finally:
        writer.close()


async def serve(ctx: ssl.SSLContext | None) -> AsyncIterator[int]:
    server = await asyncio.start_server(_answer, "127.0.0.1", 0, ssl=ctx)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


def server_ctx(folder: Path, stem: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(folder / f"{stem}cert.pem", folder / f"{stem}key.pem")
    return ctx


async def test_expired_server_certificate(pki: PKI) -> None:
    async for port in serve(server_ctx(pki.folder, "expired-server-")):
        found = await probe(EngineEntry("u", "x", "user", f"tcp://127.0.0.1:{port}",
                                        tls=pki.client()))
        assert found.state == "tls-error"
        assert "certificate of tcp://127.0.0.1" in found.reason
        assert "has expired" in found.reason


async def test_tls_to_a_plain_http_port(pki: PKI) -> None:
    async for port in serve(None):
        found = await probe(EngineEntry("u", "x", "user", f"tcp://127.0.0.1:{port}",
                                        tls=pki.client()))
        assert found.state == "tls-error", found
        assert "does not speak TLS" in found.reason
