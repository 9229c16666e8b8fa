"""A real second ``dockerd --tlsverify`` with certificates made by the test.

Used through EngineClient / probe (engine/engines) and through the real docker CLI with
``docker --context`` (a context exported by Portside, and one the CLI created itself, read back
by engine/engines/sources.py with its contexts/tls material). Each TLS failure must say in words
which side failed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from engine.client import EngineClient
from engine.endpoint import TLSConfig
from engine.engines import EngineEntry, export_context, list_engines, probe
from engine.engines.failures import TLSRefused
from tests.support.engine_fixtures import DOCKER_CLI
from tests.support.remote_engines import TLSEngine


def entry(url: str, tls: TLSConfig | None) -> EngineEntry:
    return EngineEntry("user:t", "tls test", "user", url, tls=tls)


async def test_probe_and_list_through_tls(tls_engine: TLSEngine) -> None:
    found = await probe(entry(tls_engine.url, tls_engine.pki.client()))
    assert found.state == "running", found.reason
    assert found.os == "linux" and found.version and found.arch and found.name
    async with EngineClient(tls_engine.endpoint()) as client:
        assert isinstance(await client.containers.list(all=True), list)


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("wrong CA", ["not signed by the CA", "unknown CA"]),
        ("wrong host name", ["wrong host name", "localhost"]),
        ("expired client certificate", ["refused our client certificate", "expired"]),
        ("no client certificate", ["wants a client certificate"]),
    ],
)
async def test_tls_failures_say_which_side_failed(
    tls_engine: TLSEngine, case: str, words: list[str]
) -> None:
    pki = tls_engine.pki
    url = tls_engine.url
    tls = pki.client()
    if case == "wrong CA":
        tls = pki.client(ca="other-ca.pem")
    elif case == "wrong host name":
        url = f"tcp://localhost:{tls_engine.port}"
    elif case == "expired client certificate":
        tls = pki.client(cert="expired-cert.pem", key="expired-key.pem")
    else:
        tls = pki.client(cert=None, key=None)
    found = await probe(entry(url, tls))
    assert found.state == "tls-error", found
    for word in words:
        assert word in found.reason, found.reason
    assert "CERTIFICATE_VERIFY_FAILED" not in found.reason
    async with EngineClient(entry(url, tls).endpoint()) as client:
        with pytest.raises(TLSRefused) as info:
            await client.version()
    assert words[0] in str(info.value)
    assert "portside engine start" not in str(info.value)


def docker(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which(DOCKER_CLI) is None:
        pytest.fail("No docker CLI on PATH: install it with `sudo apt-get install docker.io`.")
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "DOCKER_CONFIG": str(config),
           "HOME": str(config)}
    return subprocess.run([DOCKER_CLI, *args], capture_output=True, text=True, env=env,
                          timeout=60)


async def test_exported_context_works_in_the_docker_cli(
    tls_engine: TLSEngine, tmp_path: Path
) -> None:
    config = tmp_path / "docker-config"
    meta = export_context(entry(tls_engine.url, tls_engine.pki.client()), "ps-tls",
                          folder=config)
    key = meta.parents[2] / "tls" / meta.parent.name / "docker" / "key.pem"
    assert key.stat().st_mode & 0o777 == 0o600
    result = docker(config, "--context", "ps-tls", "version", "--format", "{{.Server.Os}}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "linux"
    # the exported context is listed back, with its TLS files, and probes as running
    listed = {e.id: e for e in list_engines(docker_config=config, env={})}
    back = listed["context:ps-tls"]
    assert back.tls is not None and back.tls.client_key == key
    assert (await probe(back)).state == "running"


async def test_context_made_by_the_docker_cli_is_listed_with_its_tls(
    tls_engine: TLSEngine, tmp_path: Path
) -> None:
    config = tmp_path / "docker-config"
    pki = tls_engine.pki
    made = docker(
        config, "context", "create", "cli-tls", "--description", "made by docker",
        "--docker", f"host={tls_engine.url},ca={pki.p('ca.pem')},cert={pki.p('cert.pem')},"
        f"key={pki.p('key.pem')}",
    )
    assert made.returncode == 0, made.stderr
    entries = {e.id: e for e in list_engines(docker_config=config,
                                             env={"DOCKER_CONTEXT": "cli-tls"})}
    found = entries["context:cli-tls"]
    assert found.current and found.description == "made by docker"
    assert found.tls is not None and found.tls.verify
    assert found.tls.client_cert is not None and found.tls.client_cert.read_bytes() == \
        pki.p("cert.pem").read_bytes()
    assert not entries["context:default"].current
    probed = await probe(found)
    assert probed.state == "running", probed.reason
    # currentContext (docker context use) marks it when DOCKER_CONTEXT is unset
    assert docker(config, "context", "use", "cli-tls").returncode == 0
    assert json.loads((config / "config.json").read_text())["currentContext"] == "cli-tls"
    again = {e.id: e for e in list_engines(docker_config=config, env={})}
    assert again["context:cli-tls"].current


async def test_the_logs_reader_says_which_side_failed_too(tls_engine: TLSEngine) -> None:
    """engine/log_stream.py opens its own TLS socket (not httpx): same words."""
    from engine.log_stream import stream_logs

    endpoint = entry(tls_engine.url, tls_engine.pki.client(ca="other-ca.pem")).endpoint()
    with pytest.raises(TLSRefused, match="unknown CA"):
        await stream_logs(endpoint, None, "any", lambda _lines: None)
