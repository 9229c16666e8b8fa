"""engine.registry: reference grammar, server keys, auth headers — pure tables plus real checks.

The last tests push, pull and build against the session engine and the htpasswd registry to prove
the engine accepts the headers as encoded here.
"""

from __future__ import annotations

import base64
import io
import json
import tarfile
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine.client import EngineClient
from engine.errors import EngineError, StreamError
from engine.registry import (
    HUB_SERVER,
    AuthConfig,
    Reference,
    decode_registry_auth,
    encode_registry_auth,
    encode_registry_config,
    normalize_server,
    parse_reference,
)
from tests.support.registry_fixtures import RegistryServer

DIGEST = "sha256:" + "0123456789abcdef" * 4

# ---------------------------------------------------------------------------- parse_reference

VALID = [
    # text, registry, repository, tag, digest, str(), familiar
    ("busybox", "docker.io", "library/busybox", "latest", None,
     "docker.io/library/busybox:latest", "busybox:latest"),
    ("busybox:1.36", "docker.io", "library/busybox", "1.36", None,
     "docker.io/library/busybox:1.36", "busybox:1.36"),
    ("team/app", "docker.io", "team/app", "latest", None,
     "docker.io/team/app:latest", "team/app:latest"),
    ("docker.io/busybox", "docker.io", "library/busybox", "latest", None,
     "docker.io/library/busybox:latest", "busybox:latest"),
    ("index.docker.io/library/ubuntu:22.04", "docker.io", "library/ubuntu", "22.04", None,
     "docker.io/library/ubuntu:22.04", "ubuntu:22.04"),
    ("library/nested/x", "docker.io", "library/nested/x", "latest", None,
     "docker.io/library/nested/x:latest", "library/nested/x:latest"),
    ("localhost/app", "localhost", "app", "latest", None,
     "localhost/app:latest", "localhost/app:latest"),
    ("localhost:5000/x", "localhost:5000", "x", "latest", None,
     "localhost:5000/x:latest", "localhost:5000/x:latest"),
    ("127.0.0.1:5000/a/b:c", "127.0.0.1:5000", "a/b", "c", None,
     "127.0.0.1:5000/a/b:c", "127.0.0.1:5000/a/b:c"),
    ("Registry.Example.com/team/app:V1", "Registry.Example.com", "team/app", "V1", None,
     "Registry.Example.com/team/app:V1", "Registry.Example.com/team/app:V1"),
    ("[::1]:5000/foo", "[::1]:5000", "foo", "latest", None,
     "[::1]:5000/foo:latest", "[::1]:5000/foo:latest"),
    ("foo:5000", "docker.io", "library/foo", "5000", None,
     "docker.io/library/foo:5000", "foo:5000"),
    ("a-b--c/d.e/f_g/h__i:_tag.x-1", "docker.io", "a-b--c/d.e/f_g/h__i", "_tag.x-1", None,
     "docker.io/a-b--c/d.e/f_g/h__i:_tag.x-1", "a-b--c/d.e/f_g/h__i:_tag.x-1"),
    (f"busybox@{DIGEST}", "docker.io", "library/busybox", None, DIGEST,
     f"docker.io/library/busybox@{DIGEST}", f"busybox@{DIGEST}"),
    (f"host.io/x:1@{DIGEST}", "host.io", "x", "1", DIGEST,
     f"host.io/x:1@{DIGEST}", f"host.io/x:1@{DIGEST}"),
    ("x:" + "t" * 128, "docker.io", "library/x", "t" * 128, None,
     "docker.io/library/x:" + "t" * 128, "x:" + "t" * 128),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest", "full", "familiar"), VALID
)
def test_parse_valid(
    text: str,
    registry: str,
    repository: str,
    tag: str | None,
    digest: str | None,
    full: str,
    familiar: str,
) -> None:
    ref = parse_reference(text)
    assert ref == Reference(registry, repository, tag, digest)
    assert str(ref) == full
    assert ref.familiar == familiar
    assert parse_reference(str(ref)) == ref
    assert parse_reference(ref.familiar) == ref


INVALID = [
    ("", "empty reference"),
    ("   ", "empty reference"),
    (" busybox", "remove the spaces"),
    ("Busybox", r"Image names must be lowercase: 'Busybox' \(try 'busybox'\)"),
    ("MyUser/app:Tag", r"Image names must be lowercase: 'MyUser/app:Tag' \(try 'myuser/app:Tag'\)"),
    ("host.io/Team/app", r"must be lowercase.*try 'host.io/team/app'"),
    ("a//b", "empty part"),
    ("/x", "empty part"),
    ("x/", "empty part"),
    ("a..b", "bad part 'a..b'"),
    ("a___b", "bad part 'a___b'"),
    ("-a", "bad part '-a'"),
    ("a-", "bad part 'a-'"),
    ("a/.b", "bad part '.b'"),
    ("foo bar", "contains spaces"),
    ("ubuntu:", "Tag '' is invalid"),
    ("x:.bad", "Tag '.bad' is invalid"),
    ("x:-bad", "Tag '-bad' is invalid"),
    # a ':' before the first '/' makes that part a registry host, so "bad" is read as a port
    ("x:bad/tag", "Registry port 'bad' is invalid"),
    ("x:" + "t" * 129, r"Tag 'tttt.*' is invalid.*129 characters"),
    ("x:tag!", "Tag 'tag!' is invalid"),
    ("a@sha256:123", "sha256 needs exactly 64"),
    ("a@sha256:" + "A" * 64, "lowercase hexadecimal"),
    ("a@md5:" + "0" * 32, "unsupported algorithm 'md5'"),
    ("a@nodigest", "Digest 'nodigest' is invalid"),
    (f"a@{DIGEST}@{DIGEST}", "more than one '@'"),
    ("localhost:abc/x", "Registry port 'abc' is invalid"),
    ("localhost:/x", "Registry port '' is invalid"),
    ("bad_host.io/x", "Registry host 'bad_host.io' is invalid"),
    ("host.com/", "repository name after the registry host is missing"),
    (":tag", "image name is missing"),
    ("0123456789abcdef" * 4, "64-character image ID"),
    ("a/" * 130 + "b", "the limit is 255"),
]


@pytest.mark.parametrize(("text", "message"), INVALID)
def test_parse_invalid_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_reference(text)


def test_reference_properties() -> None:
    hub = parse_reference("busybox")
    assert hub.name == "docker.io/library/busybox"
    assert hub.familiar_name == "busybox"
    assert hub.auth_server == HUB_SERVER
    private = parse_reference("Localhost:5000/a/b:c")
    assert private.auth_server == "localhost:5000"
    assert private.familiar_name == "Localhost:5000/a/b"
    assert str(hub.with_tag("1.0")) == "docker.io/library/busybox:1.0"
    digest_only = parse_reference(f"busybox@{DIGEST}")
    assert digest_only.with_tag("x") == Reference("docker.io", "library/busybox", "x", None)
    with pytest.raises(ValueError, match=r"Tag '\.x' is invalid"):
        hub.with_tag(".x")


component = st.from_regex(r"[a-z0-9]{1,5}(?:(?:[._]|__|-{1,2})[a-z0-9]{1,4}){0,2}", fullmatch=True)
hosts = st.sampled_from(["", "localhost/", "localhost:5000/", "reg.example.com/", "10.0.0.1:443/"])
tags = st.none() | st.from_regex(r"[\w][\w.-]{0,20}", fullmatch=True).filter(str.isascii)
digests = st.none() | st.sampled_from([DIGEST, "sha512:" + "ab" * 64])


@settings(max_examples=200, deadline=None)
@given(hosts, st.lists(component, min_size=1, max_size=3), tags, digests)
def test_generated_references_round_trip(
    host: str, parts: list[str], tag: str | None, digest: str | None
) -> None:
    # without a host, a first part with a '.' would itself be read as a registry host
    assume(host or "." not in parts[0])
    text = host + "/".join(parts) + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
    ref = parse_reference(text)
    assert parse_reference(str(ref)) == ref
    assert parse_reference(ref.familiar) == ref
    assert ref.digest == digest
    assert ref.tag == (tag or (None if digest else "latest"))
    assert ref.repository.endswith("/".join(parts))


# ---------------------------------------------------------------------------- normalize_server

SERVERS = [
    ("docker.io", HUB_SERVER),
    ("index.docker.io", HUB_SERVER),
    ("registry-1.docker.io", HUB_SERVER),
    ("https://index.docker.io/v1/", HUB_SERVER),
    ("https://index.docker.io/v1", HUB_SERVER),
    ("https://docker.io", HUB_SERVER),
    ("Docker.IO", HUB_SERVER),
    ("registry.example.com", "registry.example.com"),
    ("https://registry.example.com/v2/", "registry.example.com"),
    ("http://Localhost:5000/some/path?x=1", "localhost:5000"),
    ("reg.example.com/foo", "reg.example.com"),
    ("localhost:5000", "localhost:5000"),
    ("  127.0.0.1:5000  ", "127.0.0.1:5000"),
    ("https://[::1]:443/x", "[::1]:443"),
    ("[fe80::1]", "[fe80::1]"),
]


@pytest.mark.parametrize(("text", "expected"), SERVERS)
def test_normalize_server(text: str, expected: str) -> None:
    assert normalize_server(text) == expected
    assert normalize_server(expected) == expected  # idempotent


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty registry address"),
        ("ftp://host", "only http:// and https://"),
        ("https://user@host", "user name field"),
        ("https:///path", "no host name"),
        ("host:0", "port must be a number from 1 to 65535"),
        ("host:99999", "port must be a number"),
        ("host:abc", "port must be a number"),
        ("host:", "port must be a number"),
        ("bad_host", "not a host name"),
        ("my host", "contains spaces"),
        ("[::1", "unclosed"),
    ],
)
def test_normalize_server_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalize_server(text)


# ---------------------------------------------------------------------------- auth headers


def test_auth_repr_hides_secrets() -> None:
    auth = AuthConfig("alice", "hunter2", "reg.io", "tok-123")
    shown = repr(auth) + str(auth)
    assert "hunter2" not in shown and "tok-123" not in shown
    assert "alice" in shown and "reg.io" in shown
    assert "'***'" in repr(auth)
    assert "password=''" in repr(AuthConfig("bob"))


def test_encode_registry_auth_matches_docker() -> None:
    # The bytes docker's EncodeAuthConfig produces for the same fields (omitempty, URL alphabet,
    # padded).
    header = encode_registry_auth(AuthConfig("u", "p?>", "reg.io"))
    assert (
        header
        == base64.urlsafe_b64encode(
            b'{"username":"u","password":"p?>","serveraddress":"reg.io"}'
        ).decode()
    )
    assert len(header) % 4 == 0
    assert "+" not in encode_registry_auth(AuthConfig(password="\xfb\xff" * 10))
    assert encode_registry_auth(None) == "e30="  # {} — anonymous
    assert encode_registry_auth(AuthConfig()) == "e30="
    token = json.loads(
        base64.urlsafe_b64decode(encode_registry_auth(AuthConfig(identitytoken="t")))
    )
    assert token == {"identitytoken": "t"}


@settings(max_examples=100, deadline=None)
@given(st.text(), st.text(), st.text(), st.text())
def test_auth_encoding_round_trips(user: str, password: str, server: str, token: str) -> None:
    auth = AuthConfig(user, password, server, token)
    assert decode_registry_auth(encode_registry_auth(auth)) == auth
    assert decode_registry_auth(encode_registry_auth(auth).rstrip("=")) == auth


def test_decode_registry_auth_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="not base64url-encoded JSON"):
        decode_registry_auth("!!!")
    with pytest.raises(ValueError, match="not a JSON object"):
        decode_registry_auth(base64.urlsafe_b64encode(b"[1]").decode())


def test_encode_registry_config() -> None:
    header = encode_registry_config(
        {
            "docker.io": AuthConfig("hubuser", "hubpass"),
            "https://reg.example.com/v2/": AuthConfig("u", "p", "reg.example.com"),
        }
    )
    assert json.loads(base64.urlsafe_b64decode(header)) == {
        HUB_SERVER: {"username": "hubuser", "password": "hubpass", "serveraddress": HUB_SERVER},
        "reg.example.com": {"username": "u", "password": "p", "serveraddress": "reg.example.com"},
    }
    assert encode_registry_config({}) == base64.urlsafe_b64encode(b"{}").decode()
    with pytest.raises(ValueError, match="appears twice"):
        encode_registry_config({"docker.io": AuthConfig(), "index.docker.io": AuthConfig()})


# ---------------------------------------------------------------------------- real engine


@pytest_asyncio.fixture(loop_scope="session")
async def engine_client(engine_endpoint: str) -> AsyncIterator[EngineClient]:
    async with EngineClient(engine_endpoint) as client:
        yield client


def _context(dockerfile: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = dockerfile.encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.mark.engine
@pytest.mark.registry
async def test_engine_accepts_the_auth_headers(
    engine_client: EngineClient, registry: RegistryServer, test_image: str
) -> None:
    repo = f"{registry.host}/portside-refs/{uuid.uuid4().hex[:12]}"
    auth = AuthConfig(registry.username, registry.password, registry.host)
    await engine_client.images.tag(test_image, repo, "v1")

    # Anonymous: the engine reads "e30=" as "no credentials" and the registry refuses — the
    # error comes from the registry, not from the engine failing to parse the header.
    with pytest.raises(StreamError) as anonymous:
        async for _ in engine_client.images.push(f"{repo}:v1", auth=None):
            pass
    assert "basic auth" in anonymous.value.message or "unauthorized" in anonymous.value.message
    assert "Bad parameters" not in anonymous.value.message

    with pytest.raises(StreamError, match=r"unauthorized|authentication required"):
        async for _ in engine_client.images.push(
            f"{repo}:v1", auth=AuthConfig(registry.username, "wrong", registry.host)
        ):
            pass

    pushed = [p async for p in engine_client.images.push(f"{repo}:v1", auth=auth)]
    digests = [p.aux["Digest"] for p in pushed if p.aux and "Digest" in p.aux]
    assert len(digests) == 1
    ref = parse_reference(f"{repo}@{digests[0]}")
    assert ref.digest == digests[0] and ref.registry == registry.host

    # Pull by digest, with and without credentials, after removing the local copy.
    await engine_client.images.remove(f"{repo}:v1")
    with pytest.raises(EngineError, match=r"basic auth|unauthorized|authentication required"):
        async for _ in engine_client.images.pull(str(ref)):
            pass
    pulled = [p async for p in engine_client.images.pull(str(ref), auth=auth)]
    assert any(digests[0] in p.status for p in pulled)

    # X-Registry-Config: the classic builder pulls a private base image with these credentials.
    await engine_client.images.remove(str(ref))
    context = _context(f"FROM {repo}:v1\nLABEL portside.test=registry-config\n")
    with pytest.raises(StreamError, match=r"basic auth|unauthorized|authentication required"):
        async for _ in engine_client.images.build(context):
            pass
    built = [
        p
        async for p in engine_client.images.build(
            context, registry_config=encode_registry_config({registry.url: auth})
        )
    ]
    image_ids = [p.aux["ID"] for p in built if p.aux and "ID" in p.aux]
    assert image_ids, [p.raw for p in built]
    details = await engine_client.images.inspect(image_ids[-1])
    assert details.raw["Config"]["Labels"]["portside.test"] == "registry-config"
    await engine_client.images.remove(image_ids[-1], force=True)
    await engine_client.images.remove(f"{repo}:v1", force=True)
