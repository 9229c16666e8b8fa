"""The client's pure core (request building, negotiation, error mapping, models) and the error
paths a real engine cannot be made to produce on demand (httpx.MockTransport)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine import models
from engine.client import (
    EngineClient,
    build_request,
    decode_path_stat,
    encode_filters,
    engine_message,
    error_from_response,
    negotiate_version,
    split_reference,
    version_at_least,
)
from engine.errors import (
    ApiVersionTooOld,
    AuthDenied,
    AuthRequired,
    Conflict,
    EngineAPIError,
    EngineUnreachable,
    InvalidEndpoint,
    NotFound,
    StreamError,
)

# -- version negotiation ---------------------------------------------------------------------


def test_negotiation_takes_the_lower_version_numerically() -> None:
    assert negotiate_version("1.41") == "1.41"
    assert negotiate_version("1.56") == "1.47"
    assert negotiate_version("1.100", ours="1.47") == "1.47"  # not a string comparison
    assert negotiate_version("1.9", ours="1.47", minimum="1.5") == "1.9"
    assert version_at_least("1.100", "1.41")
    assert not version_at_least("1.9", "1.41")


@pytest.mark.parametrize("server", ["1.40", "1.30", "0.99"])
def test_negotiation_refuses_old_engines(server: str) -> None:
    with pytest.raises(ApiVersionTooOld) as info:
        negotiate_version(server)
    assert info.value.server_version == server
    assert "1.41" in str(info.value)


@pytest.mark.parametrize("server", [None, "", "banana"])
def test_negotiation_without_a_usable_header(server: str | None) -> None:
    with pytest.raises(ApiVersionTooOld, match="unknown"):
        negotiate_version(server)


# -- request building -------------------------------------------------------------------------


def test_build_request_drops_none_and_encodes_values() -> None:
    spec = build_request(
        "GET",
        "/containers/json",
        params={"all": True, "size": None, "limit": 5, "names": ["a", "b"], "x": False},
    )
    assert spec.params == (("all", "1"), ("limit", "5"), ("names", "a"), ("names", "b"), ("x", "0"))
    assert spec.url("1.41") == "/v1.41/containers/json"
    assert build_request("HEAD", "/_ping", versioned=False).url("1.41") == "/_ping"


def test_filters_are_a_json_map_of_string_lists() -> None:
    assert json.loads(encode_filters({"label": ["a=b"], "dangling": True}) or "") == {
        "label": ["a=b"],
        "dangling": ["true"],
    }
    assert json.loads(encode_filters({"status": "exited"}) or "") == {"status": ["exited"]}
    assert encode_filters({}) is None
    assert encode_filters(None) is None


def test_split_reference_always_names_one_tag() -> None:
    assert split_reference("busybox") == ("docker.io/library/busybox", "latest")
    assert split_reference("127.0.0.1:5000/a/b:1.0") == ("127.0.0.1:5000/a/b", "1.0")
    digest = "sha256:" + "a" * 64
    assert split_reference(f"alpine@{digest}") == ("docker.io/library/alpine", digest)
    with pytest.raises(ValueError):
        split_reference("UPPER/case")


# -- error mapping ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "message", "cls"),
    [
        (404, "No such container: x", NotFound),
        (409, 'Conflict. The container name "/a" is already in use', Conflict),
        (401, "login attempt failed", AuthRequired),
        (
            500,
            "Head https://r/v2/x/manifests/1: unauthorized: authentication required",
            AuthRequired,
        ),
        (403, "forbidden", AuthDenied),
        (500, "driver failed", EngineAPIError),
        (400, "invalid reference format", EngineAPIError),
    ],
)
def test_status_codes_map_to_the_tree_with_message_verbatim(
    status: int, message: str, cls: type[EngineAPIError]
) -> None:
    err = error_from_response(status, json.dumps({"message": message}).encode(), "GET", "/x")
    assert type(err) is cls
    assert (err.status, err.explanation, str(err)) == (status, message, message)


def test_engine_message_falls_back_to_the_body_text() -> None:
    assert engine_message(b"page not found\n") == "page not found"
    assert engine_message(b'{"message":"m"}') == "m"


def test_path_stat_header_decodes() -> None:
    stat = {"name": "f", "size": 3, "mode": 420, "mtime": "2024-01-01T00:00:00Z", "linkTarget": ""}
    header = base64.b64encode(json.dumps(stat).encode()).decode()
    assert decode_path_stat(header) == stat
    assert decode_path_stat(None) == {}


# -- models ------------------------------------------------------------------------------------


def test_container_summary_from_api() -> None:
    c = models.ContainerSummary.from_api(
        {
            "Id": "abc",
            "Names": ["/web-1"],
            "Image": "nginx",
            "ImageID": "sha256:1",
            "Command": "nginx -g",
            "Created": 1700000000,
            "State": "running",
            "Status": "Up 2 minutes",
            "Ports": [
                {"PrivatePort": 80, "PublicPort": 8080, "Type": "tcp", "IP": "0.0.0.0"},
                {"PrivatePort": 443, "Type": "tcp"},
            ],
            "Labels": {"com.docker.compose.project": "shop"},
        }
    )
    assert (c.name, c.names, c.compose_project, c.running) == ("web-1", ("web-1",), "shop", True)
    assert [str(p) for p in c.ports] == ["0.0.0.0:8080->80/tcp", "443/tcp"]
    assert c.raw["Id"] == "abc"


def test_image_summary_dangling_and_none_tags() -> None:
    img = models.ImageSummary.from_api({"Id": "sha256:" + "f" * 64, "RepoTags": ["<none>:<none>"]})
    assert img.dangling and img.repo_tags == () and img.short_id == "f" * 12
    assert not models.ImageSummary.from_api({"RepoTags": ["a:1"]}).dangling


def test_prune_result_collects_every_kind() -> None:
    r = models.PruneResult.from_api(
        {
            "ImagesDeleted": [{"Untagged": "a:1"}, {"Deleted": "sha256:1"}],
            "SpaceReclaimed": 42,
        }
    )
    assert (r.deleted, r.space_reclaimed) == (["a:1", "sha256:1"], 42)
    assert models.PruneResult.from_api({"ContainersDeleted": None}).deleted == []


def _stats(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "c1",
        "name": "/web",
        "cpu_stats": {
            "cpu_usage": {"total_usage": 400_000_000, "percpu_usage": [1, 1, 1, 1]},
            "system_cpu_usage": 20_000_000_000,
            "online_cpus": 2,
        },
        "precpu_stats": {
            "cpu_usage": {"total_usage": 200_000_000},
            "system_cpu_usage": 18_000_000_000,
        },
        "memory_stats": {
            "usage": 100 * 2**20,
            "limit": 1000 * 2**20,
            "stats": {"total_inactive_file": 20 * 2**20},
        },
        "networks": {"eth0": {"rx_bytes": 10, "tx_bytes": 20}, "eth1": {"rx_bytes": 1}},
        "blkio_stats": {
            "io_service_bytes_recursive": [
                {"op": "Read", "value": 7},
                {"op": "write", "value": 9},
                {"op": "Total", "value": 16},
            ]
        },
        "pids_stats": {"current": 3},
    }
    base.update(over)
    return base


def test_stats_match_the_docker_cli() -> None:
    s = models.Stats.from_api(_stats())
    # (0.2e9 / 2e9) * 2 CPUs * 100
    assert s.cpu_percent == pytest.approx(20.0)
    assert s.memory_usage == 80 * 2**20  # usage - total_inactive_file (cgroup v1)
    assert s.memory_percent == pytest.approx(8.0)
    assert (s.net_rx, s.net_tx, s.block_read, s.block_write, s.pids) == (11, 20, 7, 9, 3)
    assert s.name == "web"


def test_stats_cgroup_v2_and_edge_cases() -> None:
    mem = {"usage": 50, "limit": 100, "stats": {"inactive_file": 10}}
    assert models.Stats.from_api(_stats(memory_stats=mem)).memory_usage == 40
    mem = {"usage": 50, "limit": 0, "stats": {"inactive_file": 80}}
    s = models.Stats.from_api(_stats(memory_stats=mem))
    assert (s.memory_usage, s.memory_percent) == (50, 0.0)
    # first streamed sample: empty precpu -> 0 unless both deltas are positive
    cpu = {"cpu_usage": {"total_usage": 5, "percpu_usage": [1, 2, 3]}, "system_cpu_usage": 0}
    assert models.Stats.from_api(_stats(cpu_stats=cpu, precpu_stats={})).cpu_percent == 0.0
    # online_cpus missing -> len(percpu_usage)
    cpu = {"cpu_usage": {"total_usage": 300, "percpu_usage": [1, 2, 3]}, "system_cpu_usage": 1000}
    pre = {"cpu_usage": {"total_usage": 200}, "system_cpu_usage": 500}
    assert models.cpu_percent(_stats(cpu_stats=cpu, precpu_stats=pre)) == pytest.approx(60.0)


def test_disk_usage_categories_like_docker_system_df() -> None:
    du = models.DiskUsage.from_api(
        {
            "LayersSize": 1000,
            "Images": [
                {"Id": "a", "Size": 600, "SharedSize": 100, "Containers": 1},
                {"Id": "b", "Size": 400, "SharedSize": 0, "Containers": 0},
            ],
            "Containers": [
                {"Id": "c1", "State": "running", "SizeRw": 5},
                {"Id": "c2", "State": "exited", "SizeRw": 7},
            ],
            "Volumes": [
                {"Name": "v1", "UsageData": {"Size": 30, "RefCount": 1}},
                {"Name": "v2", "UsageData": {"Size": 20, "RefCount": 0}},
                {"Name": "v3", "UsageData": {"Size": -1, "RefCount": -1}},
            ],
            "BuildCache": [
                {"ID": "x", "Size": 50, "InUse": False, "Shared": False},
                {"ID": "y", "Size": 70, "InUse": True, "Shared": False},
                {"ID": "z", "Size": 90, "InUse": False, "Shared": True},
            ],
        }
    )
    images, containers, volumes, cache = du.categories
    assert (images.total, images.active, images.size, images.reclaimable) == (2, 1, 1000, 500)
    assert (containers.size, containers.reclaimable, containers.active) == (12, 7, 1)
    assert (volumes.total, volumes.active, volumes.size, volumes.reclaimable) == (3, 1, 50, 20)
    assert (cache.size, cache.reclaimable, cache.active) == (120, 50, 1)
    assert du.category("Images") is images


def test_event_and_time_parsing() -> None:
    e = models.Event.from_api(
        {
            "Type": "container",
            "Action": "start",
            "Actor": {"ID": "abc", "Attributes": {"name": "web"}},
            "time": 1700000000,
            "timeNano": 1700000000123456789,
        }
    )
    assert (e.type, e.action, e.actor_id, e.attributes["name"]) == (
        "container",
        "start",
        "abc",
        "web",
    )
    assert e.time == pytest.approx(1700000000.123456789)
    t = models.parse_time("2024-05-01T10:20:30.123456789Z")
    assert t is not None and (t.microsecond, t.utcoffset() is not None) == (123456, True)
    assert models.parse_time("0001-01-01T00:00:00Z") is None
    assert models.parse_time("") is None


# -- error paths through the I/O shell -----------------------------------------------------------


async def test_too_old_api_version_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/_ping"
        return httpx.Response(200, headers={"Api-Version": "1.30"}, text="OK")

    async with EngineClient("unix:///nowhere.sock", transport=httpx.MockTransport(handler)) as c:
        with pytest.raises(ApiVersionTooOld) as info:
            await c.containers.list()
    assert info.value.server_version == "1.30"
    assert "at least 1.41" in str(info.value)


async def test_head_ping_falls_back_to_get_and_prefix_is_used() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.method == "HEAD":
            return httpx.Response(405)
        if request.url.path == "/_ping":
            return httpx.Response(200, headers={"Api-Version": "1.44"}, text="OK")
        return httpx.Response(200, json=[])

    async with EngineClient("tcp://h:1", transport=httpx.MockTransport(handler)) as c:
        assert await c.containers.list() == []
        assert c.api_version == "1.44"
    assert seen == ["HEAD /_ping", "GET /_ping", "GET /v1.44/containers/json"]


async def test_stream_error_inside_a_200_progress_stream() -> None:
    lines = [
        {"status": "Pulling from library/x", "id": "latest"},
        {"errorDetail": {"message": "manifest unknown"}, "error": "manifest unknown"},
    ]
    body = b"".join(json.dumps(m).encode() + b"\r\n" for m in lines)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/_ping":
            return httpx.Response(200, headers={"Api-Version": "1.41"}, text="OK")
        assert request.headers["X-Registry-Auth"]  # always sent, as the engine requires
        return httpx.Response(200, content=body)

    seen = []
    async with EngineClient("tcp://h:1", transport=httpx.MockTransport(handler)) as c:
        with pytest.raises(StreamError, match="manifest unknown"):
            async for p in c.images.pull("x:1"):
                seen.append(p.status)
    assert seen == ["Pulling from library/x"]


async def test_unreachable_socket_names_it(tmp_path: Path) -> None:
    sock = tmp_path / "no-engine-here.sock"
    async with EngineClient(f"unix://{sock}") as c:
        with pytest.raises(EngineUnreachable) as info:
            await c.info()
        assert await c.ping() is False
    assert info.value.endpoint == f"unix://{sock}"
    assert str(sock) in str(info.value)
    assert isinstance(info.value.__cause__, httpx.ConnectError)


async def test_unreachable_tcp_port_names_it() -> None:
    async with EngineClient("tcp://127.0.0.1:1", timeout=5) as c:
        with pytest.raises(EngineUnreachable, match=r"tcp://127\.0\.0\.1:1"):
            await c.version()


async def test_engine_dying_mid_stream_is_unreachable() -> None:
    class Broken(httpx.AsyncByteStream):
        async def __aiter__(self):  # type: ignore[no-untyped-def]
            yield b'{"Type":"container","Action":"start","Actor":{"ID":"a"}}\n'
            raise httpx.RemoteProtocolError("peer closed connection")

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/_ping":
            return httpx.Response(200, headers={"Api-Version": "1.41"}, text="OK")
        return httpx.Response(200, stream=Broken())

    got = []
    async with EngineClient("tcp://h:1", transport=httpx.MockTransport(handler)) as c:
        with pytest.raises(EngineUnreachable, match="connection broke"):
            async for event in c.events():
                got.append(event.action)
    assert got == ["start"]


def test_client_with_a_malformed_docker_host_fails_at_construction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://h:notaport")
    with pytest.raises(InvalidEndpoint, match=r"DOCKER_HOST is invalid: 'tcp://h:notaport'"):
        EngineClient()


async def test_df_reads_again_after_the_engines_layer_race_but_not_forever() -> None:
    # dockerd lists layers, then images: an image deleted in between fails /system/df with
    # "layer … was not found (corruption?)" (a Disk view refresh during a prune, seen in CI).
    from engine.client.system import DF_LAYER_RETRIES

    raced = {"left": 2}
    reads: list[str] = []
    race = "failed to retrieve image list: layer sha256:33 was not found (corruption?)"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/_ping":
            return httpx.Response(200, headers={"Api-Version": "1.41"}, text="OK")
        reads.append(request.url.path)
        if raced["left"]:
            raced["left"] -= 1
            return httpx.Response(500, json={"message": race})
        empty: list[Any] = []
        return httpx.Response(200, json={"LayersSize": 5, "Images": empty, "Containers": empty,
                                         "Volumes": empty, "BuildCache": empty})

    async with EngineClient("tcp://h:1", transport=httpx.MockTransport(handler)) as c:
        assert (await c.df()).categories
        assert reads == ["/v1.41/system/df"] * 3
        # A layer that stays missing is real corruption: said, after a few reads.
        raced["left"] = 100
        reads.clear()
        with pytest.raises(EngineAPIError, match="corruption"):
            await c.df()
        assert len(reads) == DF_LAYER_RETRIES + 1
