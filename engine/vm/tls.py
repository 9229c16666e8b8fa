"""The per-VM certificates of the ``tls`` API mode: one CA, a server and a client certificate.

    ensure_certs(<vm>/tls) ─► ca.pem            the VM's own CA (its key is dropped once both
                           │                    certificates are signed: nothing issues later)
                           ├► server-cert.pem ─┐ into the guest through QEMU fw_cfg ─► dockerd
                           ├► server-key.pem  ─┘   --tlsverify --tlscacert ca.pem on :2376
                           └► cert.pem, key.pem  the host's client (client_tls, the docker CLI
                                                 with DOCKER_CERT_PATH=<vm>/tls DOCKER_TLS_VERIFY=1)

    host client ─► 127.0.0.1:<port> ─► QEMU slirp hostfwd ─► guest :2376 ─► dockerd
                   (mutual TLS: each side checks the other chains to ca.pem)

Only the user reaches the engine: the keys are the user's alone (files 0600 in a 0700 folder) and
dockerd refuses any client without a certificate from this VM's CA, so another program on the host
that connects to the forwarded port gets no further than the handshake. The client in turn checks
that the server holds a certificate of the same CA, for 127.0.0.1, so nothing else listening on
that port could pose as the VM.

Keys are ECDSA P-256 with SHA-256 signatures: Go's crypto/tls (dockerd 20.10 in the guest, the
docker CLI on the host) and OpenSSL (Python's ``ssl``) both accept them, and making a key takes
microseconds. The set is kept while every file is there, parses, chains to the CA and stays valid
for :data:`RENEW_BEFORE` more; otherwise all five are made again (the VM reads the new server
certificate at its next start, and the client always reads the files afresh).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from engine.endpoint import TLSConfig
from engine.errors import LifecycleError

CA_CERT = "ca.pem"
SERVER_CERT = "server-cert.pem"
SERVER_KEY = "server-key.pem"
#: the client's files carry the names the docker CLI looks for in ``DOCKER_CERT_PATH``
CLIENT_CERT = "cert.pem"
CLIENT_KEY = "key.pem"

#: 825 days is the longest lifetime Apple's TLS policy (macOS 10.15+) accepts for a server
#: certificate; staying within it means no verifier on any host OS refuses the set for its age,
#: and two years between renewals is long enough that nobody notices one.
LIFETIME = timedelta(days=825)
#: a set that ends sooner than this is made again, so a running VM never outlives its certificate
RENEW_BEFORE = timedelta(days=30)
#: certificates start a day in the past: dockerd checks the client's certificate against the
#: guest's clock, which may run behind the host's (an RTC set in local time, a slow NTP start)
BACKDATE = timedelta(days=1)

CA_NAME = "Portside VM CA"
SERVER_NAME = "portside-vm"
CLIENT_NAME = "portside client"
#: the names the host reaches dockerd by (QEMU forwards 127.0.0.1:<port> to the guest's :2376)
SERVER_IP = "127.0.0.1"
SERVER_DNS = "localhost"


@dataclass(frozen=True)
class TLSFiles:
    """The five files of one VM's certificate set, all in ``folder``."""

    folder: Path
    ca_cert: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path

    @classmethod
    def in_folder(cls, folder: Path) -> TLSFiles:
        return cls(
            folder=folder,
            ca_cert=folder / CA_CERT,
            server_cert=folder / SERVER_CERT,
            server_key=folder / SERVER_KEY,
            client_cert=folder / CLIENT_CERT,
            client_key=folder / CLIENT_KEY,
        )

    @property
    def keys(self) -> tuple[Path, Path]:
        return (self.server_key, self.client_key)


def ensure_certs(folder: Path, *, now: datetime | None = None) -> TLSFiles:
    """Keep the VM's certificate set in ``folder`` when it is sound, else make a new one.

    Args:
        folder: where the files live (made with mode 0700).
        now: the time to judge validity by (tests); default the current time.

    Raises:
        LifecycleError: the folder or a file in it cannot be written.
    """
    now = _aware(now or datetime.now(UTC))
    files = TLSFiles.in_folder(folder)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.chmod(0o700)  # mkdir's mode is masked by the umask, and an older folder may differ
    except OSError as exc:
        raise _unwritable(folder, exc) from exc
    if _sound(files, now):
        return files
    _make(files, now)
    return files


def client_tls(folder: Path) -> TLSConfig:
    """The host client's TLS settings for the VM whose certificates are in ``folder``."""
    files = TLSFiles.in_folder(folder)
    return TLSConfig(
        ca_cert=files.ca_cert,
        client_cert=files.client_cert,
        client_key=files.client_key,
        verify=True,
    )


def docker_env(folder: Path, port: int) -> dict[str, str]:
    """The environment that points the docker CLI at the VM's engine (as ``docker-machine env``)."""
    return {
        "DOCKER_HOST": f"tcp://{SERVER_IP}:{port}",
        "DOCKER_TLS_VERIFY": "1",
        "DOCKER_CERT_PATH": str(folder),
    }


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _sound(files: TLSFiles, now: datetime) -> bool:
    """True when every file parses, the leaves chain to the CA and match their keys, and the
    whole set stays valid for RENEW_BEFORE more."""
    try:
        ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
        pairs = [
            (x509.load_pem_x509_certificate(cert.read_bytes()), _load_key(key.read_bytes()))
            for cert, key in (
                (files.server_cert, files.server_key),
                (files.client_cert, files.client_key),
            )
        ]
        ca.verify_directly_issued_by(ca)
        for cert, key in pairs:
            cert.verify_directly_issued_by(ca)
            if cert.public_key() != key.public_key():
                return False
    except (OSError, ValueError, TypeError, InvalidSignature):
        return False
    if os.name == "posix" and any(key.stat().st_mode & 0o077 for key in files.keys):
        return False  # others could have read a key: it is no longer the user's alone
    for cert in (ca, *(cert for cert, _ in pairs)):
        if not cert.not_valid_before_utc <= now or cert.not_valid_after_utc < now + RENEW_BEFORE:
            return False
    return True


def _load_key(data: bytes) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError("not an EC key")
    return key


def _make(files: TLSFiles, now: datetime) -> None:
    """A new CA, server and client certificate; every file replaced (the CA's key is dropped)."""
    start, end = now - BACKDATE, now + LIFETIME
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(CA_NAME)
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        _builder(ca_name, ca_name, ca_key.public_key(), start, end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(sign_certs=True), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski)

    def leaf(
        name: str, usage: x509.ObjectIdentifier, san: list[x509.GeneralName] | None
    ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        builder = (
            _builder(_name(name), ca_name, key.public_key(), start, end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(sign_certs=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(ski, critical=False)
            .add_extension(aki, critical=False)
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return builder.sign(ca_key, hashes.SHA256()), key

    server_cert, server_key = leaf(
        SERVER_NAME,
        ExtendedKeyUsageOID.SERVER_AUTH,
        [x509.IPAddress(ipaddress.ip_address(SERVER_IP)), x509.DNSName(SERVER_DNS)],
    )
    client_cert, client_key = leaf(CLIENT_NAME, ExtendedKeyUsageOID.CLIENT_AUTH, None)
    # The CA goes last: should anything fail half-way, the files no longer chain to ca.pem and
    # the next ensure_certs makes the whole set again.
    for path, data in (
        (files.server_key, _key_pem(server_key)),
        (files.client_key, _key_pem(client_key)),
        (files.server_cert, server_cert.public_bytes(serialization.Encoding.PEM)),
        (files.client_cert, client_cert.public_bytes(serialization.Encoding.PEM)),
        (files.ca_cert, ca_cert.public_bytes(serialization.Encoding.PEM)),
    ):
        _write_private(path, data)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Portside"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    start: datetime,
    end: datetime,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
    )


def _key_usage(*, sign_certs: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not sign_certs,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=sign_certs,
        crl_sign=sign_certs,
        encipher_only=False,
        decipher_only=False,
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    # PKCS#8 without a passphrase: what Go's tls.X509KeyPair and OpenSSL both read.
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_private(path: Path, data: bytes) -> None:
    """Write ``path`` as the user's alone (0600), atomically: mkstemp makes the temporary file
    0600 before a byte is in it, and os.replace swaps it in whole. (On Windows mode bits mean
    nothing; there the per-user data folder's ACL keeps the files the user's.)"""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise _unwritable(path.parent, exc) from exc
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise _unwritable(path.parent, exc) from exc


def _unwritable(folder: Path, exc: OSError) -> LifecycleError:
    return LifecycleError(
        f"Could not write the VM's TLS certificates in {folder}: {exc.strerror or exc}. "
        f"Make sure {folder} (and the folders above it) is a folder you can write to and the "
        "disk is not full, then start the VM again; Portside makes the certificates anew."
    )
