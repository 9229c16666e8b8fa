"""docker-credential-portside under attack: the faults of issue 7 (point 3), against the real
gnome-keyring of the test session, compared with the Go reference helper where that helps.

Each test runs the helper as the docker CLI does (a subprocess, bytes on stdin, stdout read
back) with a private Portside config folder and server names unique to the test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.credentials.secretservice import SCHEMA
from tests.test_credentials_helper import (  # noqa: F401 - the launcher and config_dir fixtures
    CONSOLE_SCRIPT,
    _config_dir,
    _launcher,
)

pytestmark = pytest.mark.keyring

GO_HELPER = "docker-credential-secretservice"


@pytest.fixture(params=["console-script", "launcher"])
def program(request: pytest.FixtureRequest, launcher: str, keyring_backend: Any,
            config_dir: Path) -> str:
    return CONSOLE_SCRIPT if request.param == "console-script" else launcher


def helper(program: str, verb: str, stdin: bytes | str = b"",
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
    return subprocess.run([program, verb], input=data, capture_output=True, timeout=60, env=env)


def store_json(url: str, user: str, secret: str) -> bytes:
    """What the Go encoder sends: UTF-8, U+0085 raw (it escapes only U+2028/U+2029)."""
    return json.dumps({"ServerURL": url, "Username": user, "Secret": secret},
                      ensure_ascii=False).encode("utf-8")


@pytest.fixture
def server() -> Iterator[str]:
    name = f"reg-{uuid.uuid4().hex[:10]}.test:5443"
    yield name
    import secretstorage

    conn = secretstorage.dbus_init()
    try:
        for item in secretstorage.search_items(conn, {"xdg:schema": SCHEMA, "server": name}):
            item.delete()
    finally:
        conn.close()


def _items(server: str) -> list[Any]:
    import secretstorage

    conn = secretstorage.dbus_init()
    try:
        return [(i.get_attributes(), i.get_secret()) for i in
                secretstorage.search_items(conn, {"xdg:schema": SCHEMA, "server": server})]
    finally:
        conn.close()


# -- secrets round-trip byte for byte -------------------------------------------------------------

@pytest.mark.parametrize("secret", ["a\u0085b", "a\u2028b", "a\u2029b",
                                    "x\u0085\u2028\u2029\r\x0c\x1cy", "tab\tand\vform\x1dfeed"])
def test_line_separators_in_a_secret_round_trip(program: str, server: str, secret: str) -> None:
    stored = helper(program, "store", store_json(server, "alice", secret) + b"\r\n")
    assert (stored.returncode, stored.stdout, stored.stderr) == (0, b"", b"")
    got = helper(program, "get", server)
    assert got.returncode == 0, got.stdout
    assert json.loads(got.stdout)["Secret"] == secret
    assert _items(server)[0][1] == secret.encode("utf-8")  # byte for byte in the keyring


@pytest.mark.skipif(shutil.which(GO_HELPER) is None,
                    reason="golang-docker-credential-helpers is not installed")
def test_the_go_reference_keeps_the_same_secret(server: str, keyring_backend: Any,
                                                config_dir: Path, launcher: str) -> None:
    secret = "p\u0085q\u2028r\u2029s"
    url = f"https://{server}"
    go = shutil.which(GO_HELPER)
    assert go is not None
    try:
        assert helper(go, "store", store_json(url, "gopher", secret)).returncode == 0
        go_secret = json.loads(helper(go, "get", url).stdout)["Secret"]
    finally:
        helper(go, "erase", url)
    assert helper(launcher, "store", store_json(url, "gopher", secret)).returncode == 0
    ours = json.loads(helper(launcher, "get", url).stdout)["Secret"]
    assert ours == go_secret == secret


@pytest.mark.skipif(shutil.which(GO_HELPER) is None,
                    reason="golang-docker-credential-helpers is not installed")
@pytest.mark.parametrize("raw_secret", [b"a\\ud800b\\udc00c", b"a\xff\xfeb",
                                        b"p\xc2\x85q\xe2\x80\xa8r\r\n"])
def test_odd_stdin_is_read_as_the_go_reference_reads_it(server: str, keyring_backend: Any,
                                                        config_dir: Path, launcher: str,
                                                        raw_secret: bytes) -> None:
    """Lone surrogate escapes and invalid UTF-8 become U+FFFD in both; NEL/LS stay."""
    url = f"https://{server}"
    stdin = b'{"ServerURL":"' + url.encode() + b'","Username":"u","Secret":"' + raw_secret \
        + b'"}'
    go = shutil.which(GO_HELPER)
    assert go is not None
    try:
        assert helper(go, "store", stdin).returncode == 0
        go_secret = json.loads(helper(go, "get", url).stdout)["Secret"]
    finally:
        helper(go, "erase", url)
    stored = helper(launcher, "store", stdin)
    assert (stored.returncode, stored.stdout, stored.stderr) == (0, b"", b"")
    assert json.loads(helper(launcher, "get", url).stdout)["Secret"] == go_secret


# -- list: URLs as stored, the keyring is the truth ----------------------------------------------

def test_list_returns_the_server_url_exactly_as_stored(program: str, server: str,
                                                       config_dir: Path) -> None:
    url = f"https://{server}"
    assert helper(program, "store", store_json(url, "bob", "pw")).returncode == 0
    listed = json.loads(helper(program, "list").stdout)
    assert listed.get(url) == "bob"
    assert server not in listed  # one login, one key: the spelling it was stored with
    # A later store under another spelling of the same registry replaces it, in list too.
    assert helper(program, "store", store_json(server, "bob2", "pw2")).returncode == 0
    listed = json.loads(helper(program, "list").stdout)
    assert (listed.get(server), url in listed) == ("bob2", False)
    assert len(_items(server)) == 1
    # get with the other spelling still finds it, and erase under any spelling forgets it.
    assert json.loads(helper(program, "get", url).stdout)["Username"] == "bob2"
    assert helper(program, "erase", url + "/").returncode == 0
    assert server not in json.loads(helper(program, "list").stdout)


@pytest.mark.skipif(shutil.which(GO_HELPER) is None,
                    reason="golang-docker-credential-helpers is not installed")
def test_list_keys_match_the_go_reference(server: str, keyring_backend: Any, config_dir: Path,
                                          launcher: str) -> None:
    go = shutil.which(GO_HELPER)
    assert go is not None
    url = f"https://{server}"
    try:
        assert helper(go, "store", store_json(url, "gopher", "pw")).returncode == 0
        go_keys = {k for k in json.loads(helper(go, "list").stdout) if server in k}
    finally:
        helper(go, "erase", url)
    assert helper(launcher, "store", store_json(url, "gopher", "pw")).returncode == 0
    our_keys = {k for k in json.loads(helper(launcher, "list").stdout) if server in k}
    assert our_keys == go_keys == {url}


def test_list_rebuilds_a_missing_index_from_the_keyring(program: str, server: str,
                                                        config_dir: Path) -> None:
    url = f"https://{server}"
    assert helper(program, "store", store_json(url, "carol", "pw")).returncode == 0
    (config_dir / "credentials.json").unlink()
    listed = helper(program, "list")
    assert listed.returncode == 0
    assert json.loads(listed.stdout).get(url) == "carol"
    assert json.loads((config_dir / "credentials.json").read_text()).get(url) == "carol"


def test_list_follows_the_keyring_when_the_index_is_stale(program: str, server: str,
                                                          config_dir: Path) -> None:
    assert helper(program, "store", store_json(server, "dave", "pw")).returncode == 0
    index = config_dir / "credentials.json"
    index.write_text(json.dumps({"gone.test:1": "nobody"}))
    listed = json.loads(helper(program, "list").stdout)
    assert listed.get(server) == "dave" and "gone.test:1" not in listed
    assert "gone.test:1" not in json.loads(index.read_text())


# -- clear messages instead of tracebacks --------------------------------------------------------

@pytest.mark.parametrize("address", ["unix:path=%zz", "unix:path=/tmp/%", "unix:path=/tmp/a%0",
                                     "unix:abstract=%g1", "unix:path=/tmp/a%00b"])
@pytest.mark.parametrize("verb", ["get", "store", "erase", "list"])
def test_a_malformed_bus_address_is_a_message(program: str, address: str, verb: str) -> None:
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": address}
    stdin = store_json("bad-bus.test:1", "u", "pw") if verb == "store" else b"bad-bus.test:1"
    result = helper(program, verb, stdin, env=env)
    assert result.returncode == 1
    assert result.stderr == b""  # no traceback
    text = result.stdout.decode()
    assert "DBUS_SESSION_BUS_ADDRESS" in text and address in text
    assert text.count("\n") == 1


def test_a_non_utf8_item_under_portsides_schema_is_a_message(program: str, server: str) -> None:
    import secretstorage

    conn = secretstorage.dbus_init()
    try:
        collection = secretstorage.get_default_collection(conn)
        collection.create_item("not ours", {"xdg:schema": SCHEMA, "server": server,
                                            "username": "mallory"}, b"\xff\xfe\x80bad")
    finally:
        conn.close()
    got = helper(program, "get", server)
    assert (got.returncode, got.stderr) == (1, b"")
    text = got.stdout.decode()
    assert server in text and "UTF-8" in text and text.count("\n") == 1
    listed = helper(program, "list")  # list needs no secret: it still works
    assert listed.returncode == 0 and json.loads(listed.stdout).get(server) == "mallory"
    # Storing again replaces the bad item, and get works again.
    assert helper(program, "store", store_json(server, "mallory", "fixed")).returncode == 0
    assert json.loads(helper(program, "get", server).stdout)["Secret"] == "fixed"
    assert len(_items(server)) == 1


# -- concurrent stores ---------------------------------------------------------------------------

def test_concurrent_stores_all_succeed_and_leave_one_item(launcher: str, server: str,
                                                          keyring_backend: Any,
                                                          config_dir: Path) -> None:
    for round_ in range(2):
        procs = [subprocess.Popen([launcher, "store"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(8)]
        for n, proc in enumerate(procs):
            assert proc.stdin is not None
            proc.stdin.write(store_json(server, f"user{n}", f"secret-{round_}-{n}"))
            proc.stdin.close()
        results = [(p.wait(timeout=60), p.stdout.read() if p.stdout else b"",
                    p.stderr.read() if p.stderr else b"") for p in procs]
        for p in procs:
            for stream in (p.stdout, p.stderr):
                if stream is not None:
                    stream.close()
        assert results == [(0, b"", b"")] * 8
        items = _items(server)
        assert len(items) == 1, [a for a, _ in items]
        attributes, secret = items[0]
        n = int(attributes["username"][len("user"):])
        assert secret == f"secret-{round_}-{n}".encode()
        assert json.loads(helper(launcher, "list").stdout).get(server) == f"user{n}"
