"""engines.json and the TLS file copies: no secrets in settings, keys 0600, edits kept safe.

Also the engines list's sources read from files (a private docker config folder and a given
environment: never the user's own).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from engine.endpoint import TLSConfig
from engine.engines import (
    EnginesFileError,
    add_engine,
    export_context,
    find_engine,
    list_engines,
    probe,
    remove_engine,
    update_engine,
)
from engine.engines.store import engines_file
from engine.errors import InvalidEndpoint
from tests.support.remote_engines import make_pki


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "portside-config"
    monkeypatch.setenv("PORTSIDE_CONFIG_DIR", str(folder))
    return folder


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("pki")).folder


def test_add_tls_engine_copies_files_key_0600_and_keeps_no_secret(
    config: Path, pki: Path
) -> None:
    tls = TLSConfig(pki / "ca.pem", pki / "cert.pem", pki / "key.pem")
    entry = add_engine("Build box", "tcp://127.0.0.1:2376", tls)
    assert entry.kind == "user" and entry.editable and entry.id.startswith("user:")
    assert entry.tls is not None and entry.tls.client_key is not None
    key = entry.tls.client_key
    assert key.parent.parent == config / "engines"
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.parent.stat().st_mode & 0o777 == 0o700
    assert key.read_bytes() == (pki / "key.pem").read_bytes()
    text = engines_file().read_text()
    assert "PRIVATE KEY" not in text and "CERTIFICATE" not in text
    assert engines_file().stat().st_mode & 0o777 == 0o600
    # listed back, and the copies keep working when the originals are gone
    found = find_engine(entry.id, docker_config=config / "no-docker", env={})
    assert found == entry


def test_update_remove_keep_unknown_keys_and_a_backup(config: Path, pki: Path) -> None:
    first = add_engine("one", "unix:///run/one.sock")
    second = add_engine("two", "tcp://127.0.0.1:2376",
                        TLSConfig(pki / "ca.pem", pki / "cert.pem", pki / "key.pem"))
    data = json.loads(engines_file().read_text())
    data["future"] = {"kept": True}
    data["engines"][0]["colour"] = "teal"
    engines_file().write_text(json.dumps(data))
    renamed = update_engine(first.id, name="one renamed", url="ssh://me@example.org:2222")
    assert (renamed.name, renamed.url) == ("one renamed", "ssh://me@example.org:2222")
    after = json.loads(engines_file().read_text())
    assert after["future"] == {"kept": True} and after["engines"][0]["colour"] == "teal"
    assert json.loads((config / "engines.json.bak").read_text())["engines"][0]["name"] == "one"
    plain = update_engine(second.id, url="tcp://127.0.0.1:2375", tls=None)
    assert plain.tls is None
    assert not (config / "engines" / second.id.removeprefix("user:")).exists()
    remove_engine(first.id)
    assert [e.id for e in list_engines(config / "none", env={}) if e.kind == "user"] == [
        second.id
    ]
    with pytest.raises(InvalidEndpoint, match="no added engine"):
        remove_engine(first.id)


@pytest.mark.parametrize(
    ("name", "url", "files", "words"),
    [
        ("", "tcp://h:2376", None, "Give the engine a name"),
        ("x", "ssh://me:secret@h", None, "holds a password"),
        ("x", "ssh://me@h", ("ca.pem", "cert.pem", "key.pem"), "only apply to tcp://"),
        ("x", "tcp://h:2376", ("ca.pem", "cert.pem", None), "needs its key"),
        ("x", "tcp://h:2376", ("ca.pem", "cert.pem", "expired-key.pem"), "Cannot load the TLS"),
        ("x", "tcp://h:2376", ("missing.pem", None, None), "does not exist"),
        ("x", "h:2376", None, "has no scheme"),
    ],
)
def test_bad_engines_are_refused_with_what_to_do(
    config: Path, pki: Path, name: str, url: str, files: tuple[str | None, ...] | None,
    words: str,
) -> None:
    tls = None
    if files is not None:
        ca, cert, key = (pki / f if f else None for f in files)
        tls = TLSConfig(ca, cert, key)
    with pytest.raises(InvalidEndpoint, match=words):
        add_engine(name, url, tls)
    assert not engines_file().exists()


def test_encrypted_key_gets_a_message_instead_of_a_prompt(config: Path, pki: Path) -> None:
    encrypted = config.parent / "enc-key.pem"
    subprocess.run(["openssl", "pkey", "-in", str(pki / "key.pem"), "-out", str(encrypted),
                    "-aes256", "-passout", "pass:secret"], check=True, stdin=subprocess.DEVNULL)
    with pytest.raises(InvalidEndpoint, match="encrypted with a passphrase"):
        add_engine("x", "tcp://h:2376", TLSConfig(pki / "ca.pem", pki / "cert.pem", encrypted))


def test_corrupt_engines_file_is_never_overwritten(config: Path) -> None:
    config.mkdir(parents=True)
    engines_file().write_text("{not json")
    with pytest.raises(EnginesFileError, match="move it away"):
        add_engine("x", "unix:///run/x.sock")
    assert engines_file().read_text() == "{not json"
    assert [e for e in list_engines(config / "none", env={}) if e.kind == "user"] == []


async def test_sources_docker_host_contexts_and_export(config: Path, pki: Path) -> None:
    docker_config = config.parent / "docker"
    env = {"DOCKER_HOST": "tcp://127.0.0.1:2376", "DOCKER_TLS_VERIFY": "1",
           "DOCKER_CERT_PATH": str(pki)}
    entries = {e.id: e for e in list_engines(docker_config, env=env)}
    assert {"portside-native", "portside-vm", "env", "context:default"} <= set(entries)
    from_env = entries["env"]
    assert from_env.current and not entries["context:default"].current
    assert from_env.tls is not None and from_env.tls.ca_cert == pki / "ca.pem"
    meta = export_context(from_env, "from-env", folder=docker_config)
    assert json.loads(meta.read_text())["Endpoints"]["docker"]["Host"] == from_env.url
    with pytest.raises(InvalidEndpoint, match="exists already"):
        export_context(from_env, "from-env", folder=docker_config)
    with pytest.raises(InvalidEndpoint, match="cannot be a docker context name"):
        export_context(from_env, "default", folder=docker_config)
    again = {e.id: e for e in list_engines(docker_config, env={})}
    ctx = again["context:from-env"]
    assert ctx.tls is not None and ctx.tls.client_key is not None
    assert ctx.tls.client_key.stat().st_mode & 0o777 == 0o600
    assert os.path.commonpath([ctx.tls.client_key, docker_config]) == str(docker_config)
    bad = {"DOCKER_HOST": "tcp://127.0.0.1:2376", "DOCKER_TLS_VERIFY": "1",
           "DOCKER_CERT_PATH": str(config.parent / "nowhere")}
    broken = {e.id: e for e in list_engines(docker_config, env=bad)}["env"]
    assert "does not exist" in broken.problem
    with pytest.raises(InvalidEndpoint, match="does not exist"):
        broken.endpoint()
    probed = await probe(broken)
    assert probed.state == "invalid" and "does not exist" in probed.reason
