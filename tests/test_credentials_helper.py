"""docker-credential-portside against the real Secret Service (gnome-keyring in the test session).

Every test runs the helper as the docker CLI does (a subprocess, stdin in, stdout out) with a
private Portside config folder, and uses server names unique to the test so runs never collide.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from engine.credentials import helper, secretservice
from engine.credentials.install import install_helper
from engine.credentials.secretservice import SecretServiceStore
from engine.credentials.servers import HUB_SERVER

pytestmark = pytest.mark.keyring

CONSOLE_SCRIPT = str(Path(sys.executable).parent / "docker-credential-portside")


@pytest.fixture(scope="module", name="launcher")
def _launcher(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The fast launcher install_helper writes, in a private bin folder."""
    bin_dir = tmp_path_factory.mktemp("bin")
    result = install_helper(bin_dir, path_env=str(bin_dir))
    assert result.on_path and result.hint == ""
    return result.path


@pytest.fixture(name="config_dir")
def _config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "portside-config"
    monkeypatch.setenv("PORTSIDE_CONFIG_DIR", str(path))
    return path


@pytest.fixture(params=["console-script", "launcher"])
def run(request: pytest.FixtureRequest, keyring_backend: Any, config_dir: Path,
        launcher: str) -> Any:
    """``run("get", "host:1")`` → CompletedProcess, through each way the helper is installed."""
    program = CONSOLE_SCRIPT if request.param == "console-script" else launcher

    def _run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([program, *args], input=stdin, capture_output=True, text=True,
                              timeout=30)

    return _run


@pytest.fixture
def server() -> str:
    return f"reg-{uuid.uuid4().hex[:10]}.test:5000"


def _store(run: Any, url: str, user: str, secret: str) -> None:
    result = run("store", stdin=json.dumps({"ServerURL": url, "Username": user, "Secret": secret}))
    assert (result.returncode, result.stdout) == (0, ""), result


def test_store_get_erase_round_trip(run: Any, server: str, config_dir: Path) -> None:
    _store(run, server, "alice", 'pa"ss\\wörd')
    got = run("get", stdin=server)
    assert got.returncode == 0, got.stdout
    assert got.stdout.endswith("\n")
    assert json.loads(got.stdout) == {"ServerURL": server, "Username": "alice",
                                      "Secret": 'pa"ss\\wörd'}
    # The index beside the settings has the user name and never the secret.
    index_text = (config_dir / "credentials.json").read_text()
    assert json.loads(index_text)[server] == "alice"
    assert "pa" not in index_text.replace("alice", "")
    listed = run("list", stdin="unused")
    assert listed.returncode == 0 and json.loads(listed.stdout)[server] == "alice"

    erased = run("erase", stdin=server)
    assert (erased.returncode, erased.stdout) == (0, "")
    missing = run("get", stdin=server)
    assert (missing.returncode, missing.stdout.strip()) == (1, helper.NOT_FOUND)
    assert server not in json.loads(run("list").stdout)


def test_secret_is_in_the_keyring_under_the_documented_attributes(
    run: Any, server: str, keyring_backend: Any
) -> None:
    _store(run, f"https://{server}", "bob", "hunter2")
    try:
        # Read it back with an independent client (keyring's secretstorage), by attributes.
        import secretstorage

        conn = secretstorage.dbus_init()
        try:
            items = list(secretstorage.search_items(
                conn, {"xdg:schema": secretservice.SCHEMA, "server": server}))
            assert len(items) == 1
            assert items[0].get_secret() == b"hunter2"
            assert items[0].get_attributes()["username"] == "bob"
        finally:
            conn.close()
    finally:
        run("erase", stdin=server)


def test_url_aliases_find_the_same_login(run: Any, server: str) -> None:
    host = server.split(":")[0]
    _store(run, f"https://{server}/v2/", "carol", "pw1")
    for alias in (server, f"https://{server}", f"http://{server}/", f"  {server}\n",
                  f"{host.upper()}:05000"):
        got = run("get", stdin=alias)
        assert got.returncode == 0, (alias, got.stdout)
        data = json.loads(got.stdout)
        assert (data["Username"], data["Secret"]) == ("carol", "pw1")
        assert data["ServerURL"] == alias.strip()
    # list names the login as it was stored (as the reference helpers do).
    assert json.loads(run("list").stdout)[f"https://{server}/v2/"] == "carol"
    # Stored without scheme, read with one; another port is a different registry.
    _store(run, server, "dave", "pw2")
    assert json.loads(run("get", stdin=f"https://{server}").stdout)["Username"] == "dave"
    assert run("get", stdin=f"{host}:5001").stdout.strip() == helper.NOT_FOUND
    assert run("get", stdin=host).stdout.strip() == helper.NOT_FOUND
    assert run("erase", stdin=f"https://{server}").returncode == 0
    assert run("get", stdin=server).stdout.strip() == helper.NOT_FOUND


def test_identity_token_round_trip_and_hub_aliases(run: Any) -> None:
    store = SecretServiceStore()
    before = store.get(HUB_SERVER)
    try:
        _store(run, "docker.io", "<token>", "eyJ-token")
        got = json.loads(run("get", stdin=HUB_SERVER).stdout)
        assert got == {"ServerURL": HUB_SERVER, "Username": "<token>", "Secret": "eyJ-token"}
        assert json.loads(run("get", stdin="index.docker.io").stdout)["Secret"] == "eyJ-token"
        # Device-flow keys under the Hub URL stay separate from the Hub login.
        assert run("get", stdin=HUB_SERVER + "access-token").stdout.strip() == helper.NOT_FOUND
    finally:
        run("erase", stdin=HUB_SERVER)
        if before is not None:
            store.set(HUB_SERVER, *before)


@pytest.mark.parametrize(
    ("args", "stdin", "status", "out"),
    [
        (["store"], '{"ServerURL":"","Username":"u","Secret":"s"}', 1, helper.MISSING_URL),
        (["store"], '{"ServerURL":"h:1","Username":"","Secret":"s"}', 1,
         helper.MISSING_USERNAME),
        (["store"], '{"Username":"u",\n"Secret":"s"}', 1, helper.MISSING_URL),
        (["get"], "", 1, helper.MISSING_URL),
        (["get"], "   \n", 1, helper.MISSING_URL),
        (["erase"], "", 1, helper.MISSING_URL),
        (["get"], "ftp://h:1", 1, "unsupported scheme 'ftp'"),
        (["frobnicate"], "", 1, "docker-credential-portside: unknown action: frobnicate"),
        ([], "", 1, helper.USAGE),
        (["get", "extra"], "", 1, helper.USAGE),
        (["-h"], "", 0, helper.USAGE),
        (["--help"], "", 0, helper.USAGE),
    ],
)
def test_protocol_errors(run: Any, args: list[str], stdin: str, status: int, out: str) -> None:
    result = run(*args, stdin=stdin)
    assert result.returncode == status
    assert out in result.stdout  # errors go to stdout, where the CLI reads them
    assert result.stderr == ""


def test_store_rejects_garbage_json(run: Any) -> None:
    result = run("store", stdin="not json")
    assert result.returncode == 1
    assert '{"ServerURL","Username","Secret"}' in result.stdout


def test_erase_of_unknown_server_is_not_found(run: Any, server: str) -> None:
    result = run("erase", stdin=server)
    assert (result.returncode, result.stdout.strip()) == (1, helper.NOT_FOUND)


@pytest.mark.parametrize("args", [["version"], ["-v"], ["--version"]])
def test_version(run: Any, args: list[str]) -> None:
    from engine import __version__

    result = run(*args)
    assert result.returncode == 0
    assert result.stdout == f"docker-credential-portside (portside) {__version__}\n"


def test_list_rebuilds_a_corrupt_index_from_the_keyring(run: Any, server: str,
                                                        config_dir: Path) -> None:
    _store(run, server, "erin", "pw")
    try:
        (config_dir / "credentials.json").write_text("{broken")
        listed = run("list")
        assert listed.returncode == 0, listed.stdout
        assert json.loads(listed.stdout)[server] == "erin"
        assert json.loads((config_dir / "credentials.json").read_text())[server] == "erin"
    finally:
        run("erase", stdin=server)


def test_keyring_unavailable_stores_nothing(tmp_path: Path, keyring_backend: Any,
                                            launcher: str) -> None:
    server = f"nokeyring-{uuid.uuid4().hex[:8]}.test"
    config = tmp_path / "cfg"
    env = dict(os.environ, PORTSIDE_CONFIG_DIR=str(config),
               DBUS_SESSION_BUS_ADDRESS=f"unix:path={tmp_path}/no-such-bus")
    payload = json.dumps({"ServerURL": server, "Username": "u", "Secret": "topsecret"})
    for program in (CONSOLE_SCRIPT, launcher):
        for verb, stdin in (("store", payload), ("get", server), ("erase", server)):
            result = subprocess.run([program, verb], input=stdin, capture_output=True,
                                    text=True, env=env, timeout=30)
            assert result.returncode == 1, (verb, result)
            assert "No keyring available" in result.stdout
            assert "never writes them to a file" in result.stdout
            assert "topsecret" not in result.stdout + result.stderr
    # Nothing written anywhere: no index, no settings (only the empty per-user write lock),
    # and the real keyring has no such item.
    assert [(p.name, p.stat().st_size) for p in config.iterdir()] == [("credentials.lock", 0)]
    assert SecretServiceStore().get(server) is None


def test_no_secret_service_on_the_bus_is_a_clear_message(
    tmp_path: Path, keyring_backend: Any, launcher: str, bare_session_bus: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A real session bus where nothing owns (or can activate) org.freedesktop.secrets.
    from engine.errors import KeyringUnavailable

    server = f"nosecretservice-{uuid.uuid4().hex[:8]}.test"
    config = tmp_path / "cfg"
    env = dict(os.environ, PORTSIDE_CONFIG_DIR=str(config),
               DBUS_SESSION_BUS_ADDRESS=bare_session_bus)
    payload = json.dumps({"ServerURL": server, "Username": "u", "Secret": "topsecret"})
    for program in (CONSOLE_SCRIPT, launcher):
        for verb, stdin in (("store", payload), ("get", server), ("erase", server), ("list", "")):
            result = subprocess.run([program, verb], input=stdin, capture_output=True,
                                    text=True, env=env, timeout=30)
            assert result.returncode == 1, (program, verb, result)
            assert result.stdout.startswith("No Secret Service is running on the D-Bus"), result
            assert "Start a Secret Service keyring" in result.stdout
            assert "Traceback" not in result.stderr
            assert "topsecret" not in result.stdout + result.stderr
    assert [(p.name, p.stat().st_size) for p in config.iterdir()] == [("credentials.lock", 0)]
    # the public store says the same in-process, and the real keyring got nothing
    with monkeypatch.context() as bare:
        bare.setenv("DBUS_SESSION_BUS_ADDRESS", bare_session_bus)
        with pytest.raises(KeyringUnavailable, match="No Secret Service"):
            SecretServiceStore().get(server)
    assert SecretServiceStore().get(server) is None
