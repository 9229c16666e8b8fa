"""The ``tls`` API mode's certificates (engine/vm/tls.py) against real TLS, no VM (default suite).

    ensure_certs(tmp/a) ─► server-cert.pem + server-key.pem + ca.pem ─► a Python ssl server on
                           127.0.0.1:<free port> (thread; client certificate REQUIRED)
                      └──► client_tls(tmp/a).ssl_context()   (the product's client path), httpx
                           through Endpoint.transport(), and the docker CLI (Go's crypto/tls)
    ensure_certs(tmp/d) ─► a throw-away dockerd 20.10 --tlsverify on 127.0.0.1:<port> (as in the
                           guest; root only, ~0.3 s to start) ─► httpx and the docker CLI

A second folder (tmp/b) is a stranger: its certificates must be refused both ways. The server
records each handshake's outcome, so a test sees why a connection failed on the server's side.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import ssl
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from engine.endpoint import Endpoint, TLSConfig
from engine.errors import LifecycleError
from engine.lifecycle.programs import find_program
from engine.vm import tls
from engine.vm.tls import TLSFiles, client_tls, ensure_certs
from tests.support.engine_fixtures import DOCKER_CLI, dockerd_version

NAMES = {"ca.pem", "server-cert.pem", "server-key.pem", "cert.pem", "key.pem"}
PING_REPLY = (
    b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 2\r\nConnection: close\r\n\r\nOK"
)


@dataclass
class Outcome:
    """One connection as the server saw it: the client's CN, or why the handshake failed."""

    client_cn: str = ""
    error: str = ""


@dataclass
class Server:
    """A TLS server on 127.0.0.1 as dockerd --tlsverify is: client certificates REQUIRED."""

    port: int
    outcomes: list[Outcome] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)


def server_context(files: TLSFiles) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(files.server_cert, files.server_key)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(files.ca_cert)
    return ctx


@contextlib.contextmanager
def tls_server(files: TLSFiles) -> Iterator[Server]:
    """Serve until the block ends: each connection is handshaken, its request read up to the
    blank line and answered with an engine's /_ping reply, then closed."""
    ctx = server_context(files)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)  # closing it from another thread would not wake accept()
    server = Server(port=listener.getsockname()[1])
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(10)
            outcome = Outcome()
            try:
                with ctx.wrap_socket(conn, server_side=True) as peer:
                    der = peer.getpeercert(binary_form=True)
                    outcome.client_cn = cn(x509.load_der_x509_certificate(der)) if der else ""
                    request = b""
                    while b"\r\n\r\n" not in request:
                        chunk = peer.recv(4096)
                        if not chunk:
                            break
                        request += chunk
                    peer.sendall(PING_REPLY)
            except (OSError, ssl.SSLError) as exc:
                outcome.error = f"{type(exc).__name__}: {exc}"
            finally:
                conn.close()
            server.outcomes.append(outcome)
            server.done.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop.set()
        thread.join(10)
        listener.close()


def exchange(ctx: ssl.SSLContext, port: int, hostname: str = "127.0.0.1") -> bytes:
    """Handshake, send a request, return what the server answered (b"" when it hung up)."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        ctx.wrap_socket(raw, server_hostname=hostname) as conn,
    ):
        conn.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := conn.recv(4096):
            answer += chunk
        return answer


def exchange_or_error(ctx: ssl.SSLContext, port: int) -> bytes | Exception:
    try:
        return exchange(ctx, port)
    except (OSError, ssl.SSLError) as exc:  # TLS 1.3: the client learns of a refusal on read
        return exc


def only_outcome(server: Server) -> Outcome:
    assert server.done.wait(10), "the server saw no connection"
    assert len(server.outcomes) == 1, server.outcomes
    return server.outcomes[0]


def contents(files: TLSFiles) -> dict[str, bytes]:
    return {name: (files.folder / name).read_bytes() for name in NAMES}


@pytest.fixture
def certs(tmp_path: Path) -> TLSFiles:
    return ensure_certs(tmp_path / "vm" / "tls")


@pytest.fixture
def stranger(tmp_path: Path) -> TLSFiles:
    """Another VM's certificate set: a different CA."""
    return ensure_certs(tmp_path / "other" / "tls")


# -- handshakes -----------------------------------------------------------------------------------


def test_the_client_and_the_server_of_one_set_shake_hands(certs: TLSFiles) -> None:
    ctx = client_tls(certs.folder).ssl_context()
    with tls_server(certs) as server:
        assert exchange(ctx, server.port).endswith(b"OK")
    assert only_outcome(server) == Outcome(client_cn="portside client")


def test_the_docker_cert_path_names_work(certs: TLSFiles) -> None:
    """DOCKER_CERT_PATH=<folder> finds the same three files as client_tls."""
    assert TLSConfig.from_cert_path(certs.folder) == client_tls(certs.folder)
    assert tls.docker_env(certs.folder, 4243) == {
        "DOCKER_HOST": "tcp://127.0.0.1:4243",
        "DOCKER_TLS_VERIFY": "1",
        "DOCKER_CERT_PATH": str(certs.folder),
    }


async def test_httpx_through_the_endpoint_transport_reaches_the_server(certs: TLSFiles) -> None:
    """The product's whole client path: Endpoint(tls) -> httpx transport -> mutual TLS."""
    import httpx

    with tls_server(certs) as server:
        endpoint = Endpoint.parse(f"tcp://127.0.0.1:{server.port}", tls=client_tls(certs.folder))
        async with httpx.AsyncClient(
            transport=endpoint.transport(), base_url=endpoint.base_url
        ) as client:
            reply = await client.get("/_ping")
    assert (reply.status_code, reply.text, reply.headers["Api-Version"]) == (200, "OK", "1.41")
    assert only_outcome(server).client_cn == "portside client"


def test_a_client_without_a_certificate_is_refused(certs: TLSFiles) -> None:
    ctx = TLSConfig(ca_cert=certs.ca_cert, verify=True).ssl_context()
    with tls_server(certs) as server:
        answer = exchange_or_error(ctx, server.port)
    assert not (isinstance(answer, bytes) and answer.endswith(b"OK")), answer
    assert "certificate" in only_outcome(server).error.lower()


def test_a_client_certificate_of_another_ca_is_refused(certs: TLSFiles, stranger: TLSFiles) -> None:
    ctx = TLSConfig(
        ca_cert=certs.ca_cert, client_cert=stranger.client_cert, client_key=stranger.client_key
    ).ssl_context()
    with tls_server(certs) as server:
        answer = exchange_or_error(ctx, server.port)
    assert not (isinstance(answer, bytes) and answer.endswith(b"OK")), answer
    assert "certificate verify failed" in only_outcome(server).error


def test_a_client_trusting_another_ca_refuses_the_server(
    certs: TLSFiles, stranger: TLSFiles
) -> None:
    ctx = client_tls(stranger.folder).ssl_context()
    with tls_server(certs) as server, pytest.raises(ssl.SSLCertVerificationError):
        exchange(ctx, server.port)
    assert only_outcome(server).error  # the server saw the client give up


@pytest.mark.parametrize(("hostname", "accepted"), [("localhost", True), ("192.0.2.1", False)])
def test_the_server_certificate_names_only_the_loopback(
    certs: TLSFiles, hostname: str, accepted: bool
) -> None:
    ctx = client_tls(certs.folder).ssl_context()
    with tls_server(certs) as server:
        if accepted:
            assert exchange(ctx, server.port, hostname).endswith(b"OK")
        else:
            with pytest.raises(ssl.SSLCertVerificationError, match=r"192\.0\.2\.1"):
                exchange(ctx, server.port, hostname)


def docker_version(
    files: TLSFiles, port: int, tmp_path: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env.update(tls.docker_env(files.folder, port))
    env["DOCKER_CONFIG"] = str(tmp_path / "docker-config")  # no user contexts or config
    return subprocess.run(
        [DOCKER_CLI, "version", *args], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.skipif(shutil.which(DOCKER_CLI) is None, reason="no docker CLI on PATH")
def test_go_crypto_tls_accepts_the_set_and_refuses_a_stranger(
    certs: TLSFiles, stranger: TLSFiles, tmp_path: Path
) -> None:
    """The docker CLI is Go: with DOCKER_CERT_PATH=<folder> it finishes the handshake (so Go
    verified our P-256 chain and SAN, and our server verified its client certificate) and then
    fails on the fake engine's answers, never on TLS. With another VM's folder it is refused."""
    with tls_server(certs) as server:
        done = docker_version(certs, server.port, tmp_path)
    assert server.outcomes, f"the docker CLI never connected: {done.stderr}"
    ok = Outcome(client_cn="portside client")
    assert all(o == ok for o in server.outcomes), (server.outcomes, done.stderr)
    assert "certificate" not in done.stderr and "tls:" not in done.stderr, done.stderr

    with tls_server(certs) as server:
        done = docker_version(stranger, server.port, tmp_path)
    assert done.returncode != 0
    assert "certificate" in done.stderr, done.stderr  # x509: certificate signed by unknown...
    assert all(o.error and not o.client_cn for o in server.outcomes), server.outcomes


# -- dockerd 20.10 itself -------------------------------------------------------------------------


@dataclass
class TLSDockerd:
    """A throw-away dockerd serving only ``tcp://127.0.0.1:<port>`` with ``--tlsverify``, as the
    guest's does (the same Debian docker.io 20.10 the VM image carries)."""

    files: TLSFiles
    port: int
    proc: subprocess.Popen[bytes]
    log: Path


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def tls_dockerd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TLSDockerd]:
    dockerd = find_program("dockerd")
    if dockerd is None:
        pytest.fail("No dockerd found: install it with `sudo apt-get install docker.io`.")
    if os.geteuid() != 0:
        pytest.skip("a rootful dockerd (as in the VM) needs root")
    files = ensure_certs(tmp_path_factory.mktemp("dockerd") / "tls")
    # short: containerd's socket goes under the exec root (unix socket paths <= 107 bytes)
    home = Path(tempfile.mkdtemp(prefix="ptls-", dir="/tmp"))
    (home / "daemon.json").write_text("{}\n")
    port = free_port()
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(dockerd).parent), os.environ["PATH"]]))
    with open(home / "dockerd.log", "wb") as log:
        proc = subprocess.Popen(
            [
                dockerd,
                f"--data-root={home / 'data'}",
                f"--exec-root={home / 'exec'}",
                f"--pidfile={home / 'dockerd.pid'}",
                f"--config-file={home / 'daemon.json'}",
                f"--host=tcp://127.0.0.1:{port}",
                "--tlsverify",
                f"--tlscacert={files.ca_cert}",
                f"--tlscert={files.server_cert}",
                f"--tlskey={files.server_key}",
                "--bridge=none",
                "--iptables=false",
                "--ip6tables=false",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    engine = TLSDockerd(files, port, proc, home / "dockerd.log")
    try:
        ctx = client_tls(files.folder).ssl_context()
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                if exchange(ctx, port).startswith(b"HTTP/1.1 200"):
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"dockerd --tlsverify did not answer:\n{engine.log.read_text()[-3000:]}"
                )
            time.sleep(0.05)
        yield engine
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(home, ignore_errors=True)


async def test_dockerd_answers_the_product_client(tls_dockerd: TLSDockerd) -> None:
    """Endpoint(tls=client_tls(folder)) -> httpx -> dockerd 20.10 --tlsverify: its Go crypto/tls
    loads our P-256 server key and accepts our client certificate."""
    import httpx

    endpoint = Endpoint.parse(
        f"tcp://127.0.0.1:{tls_dockerd.port}", tls=client_tls(tls_dockerd.files.folder)
    )
    async with httpx.AsyncClient(
        transport=endpoint.transport(), base_url=endpoint.base_url
    ) as client:
        ping = await client.get("/_ping")
        version = (await client.get("/version")).json()
    assert (ping.status_code, ping.text) == (200, "OK")
    assert version["Version"] == dockerd_version()


@pytest.mark.skipif(shutil.which(DOCKER_CLI) is None, reason="no docker CLI on PATH")
def test_dockerd_serves_the_docker_cli_with_the_cert_path_and_refuses_strangers(
    tls_dockerd: TLSDockerd, stranger: TLSFiles, tmp_path: Path
) -> None:
    done = docker_version(
        tls_dockerd.files, tls_dockerd.port, tmp_path, "-f", "{{.Server.Version}}"
    )
    assert (done.returncode, done.stdout.strip()) == (0, dockerd_version()), done.stderr

    done = docker_version(stranger, tls_dockerd.port, tmp_path, "-f", "{{.Server.Version}}")
    assert done.returncode != 0
    assert "certificate" in done.stderr, done.stderr

    no_cert = TLSConfig(ca_cert=tls_dockerd.files.ca_cert).ssl_context()
    answer = exchange_or_error(no_cert, tls_dockerd.port)
    assert not (isinstance(answer, bytes) and answer.startswith(b"HTTP/1.1 200")), answer
    foreign = TLSConfig(
        ca_cert=tls_dockerd.files.ca_cert,
        client_cert=stranger.client_cert,
        client_key=stranger.client_key,
    ).ssl_context()
    answer = exchange_or_error(foreign, tls_dockerd.port)
    assert not (isinstance(answer, bytes) and answer.startswith(b"HTTP/1.1 200")), answer


# -- what is in the set ----------------------------------------------------------------------------


def cert_of(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def cn(cert: x509.Certificate) -> str:
    return str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def test_the_set_holds_a_ca_a_server_and_a_client_and_no_ca_key(certs: TLSFiles) -> None:
    assert {p.name for p in certs.folder.iterdir()} == NAMES  # the CA's key is not kept
    ca, server, client = (cert_of(p) for p in (certs.ca_cert, certs.server_cert, certs.client_cert))
    assert (cn(ca), cn(server), cn(client)) == ("Portside VM CA", "portside-vm", "portside client")
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    for leaf, usage in (
        (server, ExtendedKeyUsageOID.SERVER_AUTH),
        (client, ExtendedKeyUsageOID.CLIENT_AUTH),
    ):
        leaf.verify_directly_issued_by(ca)
        assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        assert list(leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [usage]
        assert leaf.not_valid_after_utc - leaf.not_valid_before_utc == tls.LIFETIME + tls.BACKDATE
    for cert in (ca, server, client):
        key = cert.public_key()
        assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert len({ca.serial_number, server.serial_number, client.serial_number}) == 3


def test_keys_are_the_users_alone(tmp_path: Path) -> None:
    folder = tmp_path / "tls"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    old_umask = os.umask(0)  # a careless umask must not leak into the files' modes
    try:
        files = ensure_certs(folder)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for key in files.keys:
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
    for cert in (files.ca_cert, files.server_cert, files.client_cert):
        assert stat.S_IMODE(cert.stat().st_mode) & 0o077 == 0, cert


# -- keeping and remaking --------------------------------------------------------------------------


def test_a_sound_set_is_kept_byte_for_byte(certs: TLSFiles) -> None:
    before = contents(certs)
    assert ensure_certs(certs.folder) == certs
    assert contents(certs) == before


def test_renewal_comes_30_days_before_the_end(tmp_path: Path) -> None:
    made = datetime.now(UTC)
    files = ensure_certs(tmp_path / "tls", now=made)
    before = contents(files)
    last_quiet_day = made + tls.LIFETIME - tls.RENEW_BEFORE - timedelta(hours=1)
    ensure_certs(files.folder, now=last_quiet_day)
    assert contents(files) == before

    renewal = made + tls.LIFETIME - tls.RENEW_BEFORE + timedelta(hours=1)
    ensure_certs(files.folder, now=renewal)
    after = contents(files)
    assert all(after[name] != before[name] for name in NAMES)
    assert cert_of(files.server_cert).not_valid_after_utc > renewal + tls.LIFETIME - tls.BACKDATE


def test_a_set_from_the_future_is_remade(certs: TLSFiles) -> None:
    """A clock set back (or a set copied from a machine ahead in time) is not valid yet."""
    before = contents(certs)
    ensure_certs(certs.folder, now=datetime.now(UTC) - tls.BACKDATE - timedelta(days=1))
    assert all(contents(certs)[name] != before[name] for name in NAMES)


def spoil_missing(files: TLSFiles, stranger: TLSFiles) -> None:
    files.server_key.unlink()


def spoil_corrupt(files: TLSFiles, stranger: TLSFiles) -> None:
    files.client_cert.write_bytes(b"-----BEGIN CERTIFICATE-----\nnot one\n")


def spoil_truncated_ca(files: TLSFiles, stranger: TLSFiles) -> None:
    files.ca_cert.write_bytes(files.ca_cert.read_bytes()[:100])


def spoil_foreign_client(files: TLSFiles, stranger: TLSFiles) -> None:
    """A cert/key pair that matches itself but chains to another CA."""
    shutil.copyfile(stranger.client_cert, files.client_cert)
    shutil.copyfile(stranger.client_key, files.client_key)


def spoil_swapped_key(files: TLSFiles, stranger: TLSFiles) -> None:
    """The right chain, the wrong key (the server's key under the client's certificate)."""
    shutil.copyfile(files.server_key, files.client_key)


def spoil_readable_key(files: TLSFiles, stranger: TLSFiles) -> None:
    files.server_key.chmod(0o644)


@pytest.mark.parametrize(
    "spoil",
    [
        spoil_missing,
        spoil_corrupt,
        spoil_truncated_ca,
        spoil_foreign_client,
        spoil_swapped_key,
        spoil_readable_key,
    ],
)
def test_any_bad_file_remakes_the_whole_set(
    certs: TLSFiles, stranger: TLSFiles, spoil: Callable[[TLSFiles, TLSFiles], None]
) -> None:
    before = contents(certs)
    spoil(certs, stranger)
    ensure_certs(certs.folder)
    after = contents(certs)
    assert all(after[name] != before[name] for name in NAMES)
    assert {p.name for p in certs.folder.iterdir()} == NAMES
    for key in certs.keys:
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    with tls_server(certs) as server:  # and the new set works
        assert exchange(client_tls(certs.folder).ssl_context(), server.port).endswith(b"OK")


# -- folders that cannot be written ----------------------------------------------------------------


def test_a_folder_under_a_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "vm").write_text("a file where the VM folder should be")
    with pytest.raises(LifecycleError, match=r"Could not write the VM's TLS certificates in .*tls"):
        ensure_certs(tmp_path / "vm" / "tls")


def test_a_file_that_cannot_be_replaced_is_a_clear_error_and_leaves_no_temporary_files(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "tls"
    (folder / "ca.pem").mkdir(parents=True)  # a folder where ca.pem should go
    with pytest.raises(LifecycleError, match=r"Make sure .* is a folder you can write to") as err:
        ensure_certs(folder)
    assert str(folder) in str(err.value)
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
