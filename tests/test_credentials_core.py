"""Pure parts of engine.credentials: server keys, the D-Bus wire format, paths, import cost."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.credentials import dbus
from engine.credentials.paths import config_dir
from engine.credentials.servers import HUB_SERVER, server_key
from engine.registry import normalize_server


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("localhost:5000", "localhost:5000"),
        ("https://localhost:5000", "localhost:5000"),
        ("http://localhost:5000/v2/", "localhost:5000"),
        ("https://Registry.Example.com/v1/?x=1", "registry.example.com"),
        ("registry.example.com:0443", "registry.example.com:443"),
        ("[::1]:5000", "[::1]:5000"),
        ("docker.io", HUB_SERVER),
        ("index.docker.io", HUB_SERVER),
        ("https://index.docker.io/v1/", HUB_SERVER),
        ("registry-1.docker.io", HUB_SERVER),
        ("https://index.docker.io/v1/access-token", "https://index.docker.io/v1/access-token"),
    ],
)
def test_server_key(url: str, key: str) -> None:
    assert server_key(url) == key


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "no credentials server URL"),
        ("ftp://host", "unsupported scheme"),
        ("https://", "no valid registry host"),
        ("user@host:5000", "user name"),
        ("host:99999", "port"),
        ("host:", "port"),
        ("ho st", "no valid registry host"),
    ],
)
def test_server_key_rejects(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        server_key(url)


_hosts = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z0-9]{1,8}){0,3}", fullmatch=True)


@given(host=_hosts, port=st.one_of(st.none(), st.integers(1, 65535)),
       scheme=st.sampled_from(["", "http://", "https://"]),
       path=st.sampled_from(["", "/", "/v2/", "/v1/"]))
def test_server_key_agrees_with_engine_registry(host: str, port: int | None, scheme: str,
                                                path: str) -> None:
    text = f"{scheme}{host}{'' if port is None else f':{port}'}{path if scheme else ''}"
    assert server_key(text) == normalize_server(text)


@pytest.mark.parametrize(
    ("sig", "value"),
    [
        ("y", 7), ("b", True), ("n", -2), ("q", 65535), ("i", -70000), ("u", 4000000000),
        ("x", -(2**40)), ("t", 2**63), ("d", 1.5), ("s", "héllo"), ("o", "/a/b"), ("g", "a{sv}"),
        ("ay", b"\x00\xffsecret"), ("as", ["a", "", "ccc"]), ("a{ss}", {"k": "v", "x": ""}),
        ("(oayays)", ("/s", b"", b"pw", "text/plain")), ("a(yv)", [(1, "x"), (8, "g")]),
        ("a{sa{ss}}", {"o": {"a": "b"}}), ("ao", []),
    ],
)
def test_dbus_marshal_round_trip(sig: str, value: object) -> None:
    buf = bytearray(b"\x01")  # start unaligned: alignment counts from the message start
    wire: object = value
    if sig == "a(yv)" and isinstance(value, list):
        wire = [(code, (dbus._HEADER_SIGS[code], v)) for code, v in value]
    dbus.marshal(buf, sig, wire)
    reader = dbus._Reader(bytes(buf), 1, "<")
    assert reader.read(sig) == value
    assert reader.pos == len(buf)


def test_dbus_variant_and_big_endian() -> None:
    buf = bytearray()
    dbus.marshal(buf, "v", ("a{sv}", {"k": ("u", 5)}))
    assert dbus._Reader(bytes(buf), 0, "<").read("v") == {"k": 5}
    assert dbus._Reader(b"\x00\x00\x00\x03abc\x00", 0, ">").read("s") == "abc"


def test_dbus_signature_and_address_parsing() -> None:
    assert dbus.split_types("sa{sv}(oayays)b") == ["s", "a{sv}", "(oayays)", "b"]
    with pytest.raises(ValueError, match="unsupported D-Bus type"):
        dbus.split_types("z")
    assert dbus.parse_address("unix:abstract=/tmp/dbus-x,guid=1;unix:path=/run/a%20b") == [
        b"\0/tmp/dbus-x", b"/run/a b"]
    with pytest.raises(dbus.DBusError, match="no usable unix"):
        dbus.parse_address("tcp:host=localhost,port=1")


def test_connecting_to_a_missing_bus_names_it(tmp_path: object) -> None:
    with pytest.raises(dbus.DBusError) as info:
        dbus.Connection(f"unix:path={tmp_path}/nothing")
    assert info.value.name == "connect" and "nothing" in str(info.value)


def test_config_dir_matches_platformdirs_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORTSIDE_CONFIG_DIR", raising=False)
    assert config_dir() == platformdirs.user_config_dir("portside", appauthor=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", "/somewhere/cfg")
    assert config_dir() == platformdirs.user_config_dir("portside", appauthor=False)
    monkeypatch.setenv("PORTSIDE_CONFIG_DIR", "/tmp/p-override")
    assert config_dir() == "/tmp/p-override"


def test_helper_get_path_imports_only_light_modules() -> None:
    """The helper's `get` must not pull in json, typing, keyring, jeepney or Qt (start-up cost)."""
    root = str(Path(__file__).resolve().parents[1])
    code = (
        f"import sys; sys.path.insert(0, {root!r})\n"
        "before = set(sys.modules)\n"
        "from engine.credentials import helper, backends, secretservice, dbus, servers\n"
        "print(' '.join(sorted(set(sys.modules) - before)))\n"
    )
    out = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True,
                         text=True, check=True).stdout.split()
    heavy = {"json", "typing", "keyring", "jeepney", "secretstorage", "re", "dataclasses",
             "enum", "socket", "PySide6", "engine.registry", "importlib.metadata"}
    assert heavy.isdisjoint(out), sorted(heavy & set(out))


def test_console_script_entry_adds_only_light_modules_after_site() -> None:
    """pip's console script runs `site` (paid before main); the entry itself must add no heavy
    imports on top: if the docker CLI finds .venv/bin first, it still takes the fast path."""
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "from engine.credentials.helper import main\n"  # what the console script imports
        "from engine.credentials import backends, secretservice, dbus, servers\n"
        "print(' '.join(sorted(set(sys.modules) - before)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    heavy = {"json", "typing", "keyring", "jeepney", "secretstorage", "dataclasses", "enum",
             "socket", "PySide6", "engine.registry", "importlib.metadata", "subprocess"}
    assert heavy.isdisjoint(out), sorted(heavy & set(out))
    assert all(m.startswith("engine") or m.startswith("_") for m in out), out


def test_dbus_address_escapes_are_bytes_and_malformed_ones_are_named() -> None:
    assert dbus.parse_address("unix:path=/run/%e9t%C3%A9") == [b"/run/\xe9t\xc3\xa9"]
    assert dbus.parse_address("unix:path=" + dbus._escape(b"/r u;n,%/bus\xff")) == [
        b"/r u;n,%/bus\xff"]
    for bad in ("unix:path=%zz", "unix:path=/tmp/%", "unix:path=/a%0", "unix:path=/a%00b",
                "unix:abstract=%g1", "unix:path="):
        with pytest.raises(dbus.DBusError) as info:
            dbus.parse_address(bad)
        assert info.value.name == "address" and bad in info.value.message


_LITERALS = ("1e400", "-1E-400", "1.10", "-0.0", "123456789012345678901234567890")
_json_leaf = st.one_of(
    st.none(), st.booleans(), st.text(), st.integers(),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(_LITERALS),
)
_json_value = st.recursive(
    _json_leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=5), inner, max_size=4)),
    max_leaves=12,
)


@given(value=_json_value)
def test_jsonraw_keeps_every_number_literal(value: object) -> None:
    import json

    from engine.credentials import jsonraw

    def literal(v: object) -> object:  # the sampled strings stand for number literals
        if isinstance(v, str) and v in _LITERALS:
            return jsonraw.RawNumber(v)
        if isinstance(v, list):
            return [literal(x) for x in v]
        if isinstance(v, dict):
            return {k: literal(x) for k, x in v.items()}
        return v

    text = jsonraw.dumps(literal(value))
    assert jsonraw.dumps(jsonraw.loads(text)) == text  # a fixed point: nothing re-spelled
    # no Infinity/NaN token (as a string, e.g. a key "NaN", they are fine)
    json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} written for a number"))
    json.loads(text)  # and still plain JSON
