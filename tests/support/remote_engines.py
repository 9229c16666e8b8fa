"""Real remote engines for the issue-12 tests: a ``dockerd --tlsverify`` and an ``sshd``.

- :func:`make_pki` makes, with the ``cryptography`` package, a CA, a server certificate for
  ``127.0.0.1`` only (so ``localhost`` is a wrong host name), a client certificate, an expired
  client certificate, and a second, unrelated CA.
- ``tls_engine`` (session): a second private dockerd with its own data root, exec root, socket,
  pidfile, ``--bridge=none --iptables=false``, listening on ``tcp://127.0.0.1:<free port>`` with
  ``--tlsverify``; ended by its pid.
- ``sshd_server`` (session): Debian's ``/usr/sbin/sshd`` on ``127.0.0.1:<free port>`` with its own
  config, host key and ``authorized_keys`` (a key made here), for the user running the tests;
  ``SetEnv`` gives its sessions ``DOCKER_HOST`` = the session engine and a PATH with the docker
  CLI found on ours, so ``docker system dial-stdio`` reaches that engine. The client side is an
  ssh config file (``PORTSIDE_SSH_CONFIG``) naming the key and a known_hosts file; ended by pid.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from engine.endpoint import Endpoint, TLSConfig
from engine.lifecycle.native import find_program
from tests.support.engine_fixtures import DOCKER_CLI


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], what: str, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode} before listening on {port}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"{what} did not listen on 127.0.0.1:{port} within {limit:g} s")


def stop_pid(proc: subprocess.Popen[bytes], limit: float = 20) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- certificates -------------------------------------------------------------------------------


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))
    path.chmod(0o600)


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool = False,
    server: bool = False,
    days: tuple[int, int] = (-1, 30),
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, issuer_key = issuer if issuer else (name, key)
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + dt.timedelta(days=days[0]))
        .not_valid_after(now + dt.timedelta(days=days[1]))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                          content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, encipher_only=False,
                          decipher_only=False), critical=True)
    elif server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    else:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


@dataclass(frozen=True)
class PKI:
    """Where :func:`make_pki` put its files."""

    folder: Path

    def p(self, name: str) -> Path:
        return self.folder / name

    def client(self, *, ca: str = "ca.pem", cert: str | None = "cert.pem",
               key: str | None = "key.pem") -> TLSConfig:
        return TLSConfig(ca_cert=self.p(ca), client_cert=self.p(cert) if cert else None,
                         client_key=self.p(key) if key else None)


def make_pki(folder: Path) -> PKI:
    """ca.pem, server-cert.pem/-key.pem (IP 127.0.0.1), cert.pem/key.pem (client),
    expired-cert.pem/expired-key.pem, expired-server-cert.pem/-key.pem, other-ca.pem (a CA that
    signed nothing here)."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key = _key()
    ca = _cert("Portside test CA", ca_key, None, ca=True)
    _write_cert(folder / "ca.pem", ca)
    for stem, server, days in (("server-", True, (-1, 30)), ("", False, (-1, 30)),
                               ("expired-", False, (-30, -1)),
                               ("expired-server-", True, (-30, -1))):
        key = _key()
        cert = _cert("127.0.0.1" if server else "portside-client", key, (ca.subject, ca_key),
                     server=server, days=days)
        _write_cert(folder / f"{stem}cert.pem", cert)
        _write_key(folder / f"{stem}key.pem", key)
    other_key = _key()
    _write_cert(folder / "other-ca.pem", _cert("Some other CA", other_key, None, ca=True))
    return PKI(folder)


# -- the TLS engine -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TLSEngine:
    pki: PKI
    port: int
    socket: Path

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def endpoint(self, tls: TLSConfig | None = None) -> Endpoint:
        return Endpoint.parse(self.url, tls=tls or self.pki.client())


@contextlib.contextmanager
def run_tls_engine() -> Iterator[TLSEngine]:
    """Start the second dockerd (``--tlsverify``, also on a private unix socket); stop it after."""
    dockerd = find_program("dockerd")
    if dockerd is None:
        pytest.fail("No dockerd found: install it with `sudo apt-get install docker.io`.")
    root = Path(tempfile.mkdtemp(prefix="pst-tls-", dir="/tmp"))
    pki = make_pki(root / "pki")
    port = free_port()
    sock = root / "docker.sock"
    argv = [
        dockerd, f"--data-root={root / 'data'}", f"--exec-root={root / 'x'}",
        f"--pidfile={root / 'docker.pid'}", f"--host=unix://{sock}",
        f"--host=tcp://127.0.0.1:{port}", "--tlsverify", f"--tlscacert={pki.p('ca.pem')}",
        f"--tlscert={pki.p('server-cert.pem')}", f"--tlskey={pki.p('server-key.pem')}",
        "--bridge=none", "--iptables=false", "--ip6tables=false", "--log-level=warn",
        f"--config-file={root / 'daemon.json'}",
    ]
    (root / "daemon.json").write_text("{}\n")
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(dockerd).parent), env.get("PATH", "")])
    with open(root / "dockerd.log", "wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_port(port, proc, "dockerd --tlsverify")
        yield TLSEngine(pki, port, sock)
    finally:
        stop_pid(proc)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def tls_engine() -> Iterator[TLSEngine]:
    with run_tls_engine() as engine:
        yield engine


# -- sshd -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SSHServer:
    port: int
    user: str
    config: Path            # the client's ssh config (PORTSIDE_SSH_CONFIG), host key trusted
    unknown_config: Path    # the same with an empty known_hosts file
    changed_config: Path    # known_hosts holds another key for this host
    wrong_key_config: Path  # a client key that is not in authorized_keys

    @property
    def url(self) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}"


def _client_config(folder: Path, name: str, key: Path, known_hosts: Path) -> Path:
    path = folder / name
    path.write_text(
        "Host *\n"
        f"  IdentityFile {key}\n"
        "  IdentitiesOnly yes\n"
        "  IdentityAgent none\n"
        f"  UserKnownHostsFile {known_hosts}\n"
        "  GlobalKnownHostsFile /dev/null\n"
        "  LogLevel ERROR\n"
    )
    return path


@contextlib.contextmanager
def run_sshd(engine_endpoint: str) -> Iterator[SSHServer]:
    """Start the sshd whose ``docker`` reaches ``engine_endpoint``; stop it after."""
    sshd = shutil.which("sshd") or next(
        (p for p in ("/usr/sbin/sshd", "/usr/local/sbin/sshd") if os.access(p, os.X_OK)), None
    )
    if sshd is None:
        pytest.fail("No sshd: install it with `sudo apt-get install openssh-server`.")
    docker = shutil.which(DOCKER_CLI)
    if docker is None:
        pytest.fail("No docker CLI on PATH: install it with `sudo apt-get install docker.io`.")
    root = Path(tempfile.mkdtemp(prefix="pst-ssh-", dir="/tmp"))
    for key in ("host_key", "client_key", "other_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "portside-test",
                        "-f", str(root / key)], check=True)
    shutil.copy(root / "client_key.pub", root / "authorized_keys")
    port = free_port()
    user = getpass.getuser()
    path = os.pathsep.join([str(Path(docker).parent), "/usr/local/bin", "/usr/bin", "/bin"])
    (root / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {root / 'host_key'}\n"
        f"PidFile {root / 'sshd.pid'}\nAuthorizedKeysFile {root / 'authorized_keys'}\n"
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nLogLevel ERROR\n"
        f"SetEnv DOCKER_HOST={engine_endpoint} PATH={path}\n"
    )
    # sshd's privilege separation needs its (normally packaged) empty folder
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    host_pub = (root / "host_key.pub").read_text().split()
    (root / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}\n")
    (root / "empty_known_hosts").write_text("")
    other_pub = (root / "other_key.pub").read_text().split()
    (root / "changed_known_hosts").write_text(f"[127.0.0.1]:{port} {other_pub[0]} {other_pub[1]}\n")
    config = _client_config(root, "ssh_config", root / "client_key", root / "known_hosts")
    unknown = _client_config(root, "ssh_config_unknown", root / "client_key",
                             root / "empty_known_hosts")
    changed = _client_config(root, "ssh_config_changed", root / "client_key",
                             root / "changed_known_hosts")
    wrong_key = _client_config(root, "ssh_config_wrong_key", root / "other_key",
                               root / "known_hosts")
    with open(root / "sshd.log", "wb") as log:
        proc = subprocess.Popen([sshd, "-D", "-e", "-f", str(root / "sshd_config")],
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_port(port, proc, "sshd")
        yield SSHServer(port, user, config, unknown, changed, wrong_key)
    finally:
        stop_pid(proc)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def sshd_server(engine_endpoint: str) -> Iterator[SSHServer]:
    with run_sshd(engine_endpoint) as server:
        yield server


def ssh_children() -> list[int]:
    """Pids of this process's ``ssh`` children (each one connection of the ssh transport)."""
    me = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1: stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if comm == "ssh" and ppid == me:
            found.append(int(entry.name))
    return found
