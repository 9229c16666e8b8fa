"""The one redaction step of the diagnostics bundle (engine/diagnostics/redact.py), rule by rule.

Each case plants a secret in the shape it takes in real files (Go's header maps in dockerd's
debug log, docker's ``auths``, proxy URLs, PEM keys) and checks it is gone while the text around
it — what a helper needs to read — is kept.
"""

from __future__ import annotations

import base64
import json

import pytest

from engine.diagnostics.redact import (
    REDACTED,
    is_secret_key,
    redact_json,
    redact_member,
    redact_text,
)

SECRET = "Xy9-PLANTED-q7"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"proxy http://bob:{SECRET}@proxy.example:3128/ up", "@proxy.example:3128/ up"),
        (f"DOCKER_HOST=tcp://{SECRET}@10.0.0.2:2376", "@10.0.0.2:2376"),
        (f"Authorization: Bearer {SECRET}", "Authorization: Bearer"),
        (f'"Authorization": "Basic {b64("al:" + SECRET)}"', '"Authorization": "Basic'),
        (f"map[Authorization:[Bearer {SECRET}] User-Agent:[docker/20.10]]", "User-Agent"),
        (f"Proxy-Authorization: Basic {b64('u:' + SECRET)}", "Proxy-Authorization: Basic"),
        (f"X-Registry-Auth: {b64(json.dumps({'username': 'u', 'password': SECRET}))}",
         "X-Registry-Auth:"),
        (f"password={SECRET} level=info", "level=info"),
        (f"registry_token: {SECRET}", "registry_token:"),
        (f'"identitytoken": "{SECRET}"', '"identitytoken"'),
        (f"DOCKER_AUTH={SECRET}", "DOCKER_AUTH="),
        (f"logged in with {b64('carol:' + SECRET)} today", "logged in with"),
        (f"url-safe {base64.urlsafe_b64encode(('d:' + SECRET + '??>').encode()).decode()}",
         "url-safe"),
        (f"-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn{SECRET}\n-----END OPENSSH PRIVATE KEY-----"
         "\nnext line", "next line"),
    ],
)
def test_secret_shapes_are_redacted_and_context_kept(text: str, kept: str) -> None:
    out = redact_text(text)
    assert SECRET not in out
    assert REDACTED in out
    assert kept in out
    assert redact_text(out) == out  # idempotent


@pytest.mark.parametrize(
    "text",
    [
        'time="2026-11-29T22:00:00Z" level=info msg="Starting up" containerd=running',
        "authentication: failed for author=bob",
        "API listen on /tmp/portside-0/abc/docker.sock",
        "Loading containers: start. 4f2a9c0d1e2b3c4d5e6f",
        "https://registry-1.docker.io/v2/library/busybox/manifests/latest",
    ],
)
def test_ordinary_lines_are_untouched(text: str) -> None:
    assert redact_text(text) == text


def test_secret_keys() -> None:
    for key in ("auth", "Auth", "password", "identitytoken", "registrytoken", "http_password",
                "X-Registry-Auth", "client_secret", "apiKey", "DOCKER_AUTH"):
        assert is_secret_key(key), key
    for key in ("auths", "author", "authority", "credHelpers", "credsStore", "theme", "proxies"):
        assert not is_secret_key(key), key


def test_json_keeps_shape_and_non_secrets() -> None:
    data = {
        "auths": {"registry.example": {"auth": b64("u:" + SECRET), "email": "u@example.org"}},
        "credHelpers": {"gcr.io": "gcloud"},
        "credsStore": "portside",
        "secrets": {"a": SECRET, "b": [SECRET]},
        "proxies": {"default": {"httpProxy": f"http://u:{SECRET}@proxy:3128"}},
        "count": 3,
        "password": "",
    }
    out = redact_json(data)
    assert SECRET not in json.dumps(out)
    assert out["auths"]["registry.example"] == {"auth": REDACTED, "email": "u@example.org"}
    assert out["credHelpers"] == {"gcr.io": "gcloud"}
    assert out["credsStore"] == "portside"
    assert out["secrets"] == {"a": REDACTED, "b": [REDACTED]}
    assert out["proxies"]["default"]["httpProxy"] == "http://<redacted>@proxy:3128"
    assert out["count"] == 3
    assert out["password"] == ""  # an empty value says "not set", which a helper may need


def test_member_json_and_broken_json() -> None:
    good = redact_member("x.json", json.dumps({"token": SECRET}).encode())
    assert json.loads(good) == {"token": REDACTED}
    broken = redact_member("daemon.json", f'{{"proxies": {{"http-proxy": "http://u:{SECRET}@p"'
                           .encode())
    assert SECRET not in broken.decode()
    text = redact_member("engine.log", f"password={SECRET}\n".encode())
    assert text == b"password=<redacted>\n"
