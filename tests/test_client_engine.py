"""Every EngineClient operation against the session's real engine (no mocks)."""

from __future__ import annotations

import asyncio
import io
import tarfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing, suppress

import pytest

from engine import models
from engine.client import API_VERSION, EngineClient, parse_api_version
from engine.errors import Conflict, EngineAPIError, NotFound, StreamError
from engine.streams import Frame, StreamKind
from tests.support.buildkit import buildkit_build as _buildkit_build
from tests.support.buildkit import tar_of as _tar
from tests.support.engine_fixtures import dockerd_version

pytestmark = pytest.mark.engine

LABEL = "portside.test.client"


@pytest.fixture
async def client(engine_endpoint: str) -> AsyncIterator[EngineClient]:
    async with EngineClient(engine_endpoint) as c:
        yield c


@pytest.fixture
def uid() -> str:
    return uuid.uuid4().hex[:10]


Make = Callable[..., Awaitable[str]]


@pytest.fixture
async def make_container(client: EngineClient, test_image: str) -> AsyncIterator[Make]:
    """Create (and optionally start) containers from the test image; all removed afterwards."""
    created: list[str] = []

    async def make(
        cmd: list[str], *, start: bool = True, name: str | None = None, **config: object
    ) -> str:
        body = {"Image": test_image, "Cmd": cmd, "Labels": {LABEL: "1"}, **config}
        cid = await client.containers.create(body, name=name)
        created.append(cid)
        if start:
            await client.containers.start(cid)
        return cid

    yield make
    for cid in created:
        with suppress(NotFound):
            await client.containers.remove(cid, force=True, volumes=True)


# -- system ---------------------------------------------------------------------------------------


async def test_connect_ping_version_info(client: EngineClient) -> None:
    api = await client.connect()
    assert await client.ping() is True
    version = await client.version()
    # the machine's own dockerd, whatever its version; we speak min(ours, the engine's) API
    assert version.version == dockerd_version()
    ours, theirs = parse_api_version(API_VERSION), parse_api_version(version.api_version)
    assert api == (API_VERSION if ours <= theirs else version.api_version)
    info = await client.info()
    assert info.server_version == version.version
    assert info.ncpu >= 1 and info.docker_root_dir.startswith("/")


async def test_df_counts_what_exists(client: EngineClient, make_container: Make) -> None:
    cid = await make_container(["sh", "-c", "echo x > /tmp/f; sleep 60"])
    du = await client.df()
    ids = {c.id for c in du.containers}
    assert cid in ids
    images = du.category("Images")
    assert images.total >= 1 and images.active >= 1 and images.size == du.layers_size > 0
    assert du.category("Containers").total == len(du.containers)


# -- containers -----------------------------------------------------------------------------------


async def test_container_lifecycle(client: EngineClient, make_container: Make, uid: str) -> None:
    cid = await make_container(["sleep", "300"], start=False, name=f"life-{uid}")
    listed = await client.containers.list(all=True, filters={"name": [f"life-{uid}"]})
    assert [(c.id, c.name, c.state) for c in listed] == [(cid, f"life-{uid}", "created")]
    assert await client.containers.list(filters={"name": [f"life-{uid}"]}) == []  # not running

    await client.containers.start(cid)
    await client.containers.start(cid)  # 304 "already started" is not an error
    details = await client.containers.inspect(f"life-{uid}")
    assert (details.id, details.running, details.cmd) == (cid, True, ("sleep", "300"))
    assert details.labels[LABEL] == "1" and details.pid > 0

    top = await client.containers.top(cid)
    assert any("sleep" in " ".join(p) for p in top["Processes"])

    await client.containers.pause(cid)
    assert (await client.containers.inspect(cid)).paused
    await client.containers.unpause(cid)
    assert not (await client.containers.inspect(cid)).paused

    await client.containers.rename(cid, f"renamed-{uid}")
    assert (await client.containers.inspect(cid)).name == f"renamed-{uid}"

    await client.containers.restart(cid, timeout=0)
    assert (await client.containers.inspect(cid)).running

    await client.containers.kill(cid, signal="SIGKILL")
    assert await client.containers.wait(cid) == 137
    await client.containers.start(cid)
    await client.containers.stop(cid, timeout=0)
    details = await client.containers.inspect(cid)
    assert (details.running, details.exit_code) == (False, 137)

    await client.containers.remove(cid)
    with pytest.raises(NotFound):
        await client.containers.inspect(cid)


async def test_wait_returns_the_exit_code(client: EngineClient, make_container: Make) -> None:
    cid = await make_container(["sh", "-c", "exit 7"])
    assert await client.containers.wait(cid) == 7


async def test_not_found_and_conflicts_from_the_engine(
    client: EngineClient, make_container: Make, uid: str
) -> None:
    with pytest.raises(NotFound, match="No such container"):
        await client.containers.inspect(f"missing-{uid}")
    await make_container(["sleep", "300"], name=f"dup-{uid}")
    with pytest.raises(Conflict, match="already in use"):
        await make_container(["true"], start=False, name=f"dup-{uid}")
    with pytest.raises(Conflict, match="cannot remove a running container"):
        await client.containers.remove(f"dup-{uid}")
    with pytest.raises(NotFound):
        await client.images.inspect(f"no-such-image-{uid}:1")
    with pytest.raises(EngineAPIError) as info:
        await client.containers.create({"Image": f"no-such-image-{uid}"})
    assert info.value.status == 404


async def test_logs_separate_stdout_and_stderr(client: EngineClient, make_container: Make) -> None:
    cid = await make_container(["sh", "-c", "echo out1; echo err1 >&2; echo out2; echo π-€ >&2"])
    await client.containers.wait(cid)
    got: dict[StreamKind, str] = {StreamKind.STDOUT: "", StreamKind.STDERR: ""}
    async for kind, text in client.containers.logs(cid):
        got[kind] += text
    assert got == {StreamKind.STDOUT: "out1\nout2\n", StreamKind.STDERR: "err1\nπ-€\n"}

    only_err = [t async for k, t in client.containers.logs(cid, stdout=False)]
    assert "".join(only_err) == "err1\nπ-€\n"
    counted = await make_container(["sh", "-c", "echo a; echo b; echo c"])
    await client.containers.wait(counted)
    tail = "".join([t async for _, t in client.containers.logs(counted, tail=2)])
    assert tail == "b\nc\n"
    stamped = "".join([t async for _, t in client.containers.logs(cid, timestamps=True)])
    assert models.parse_time(stamped.split(" ", 1)[0]) is not None


async def test_logs_of_a_tty_container_are_raw(client: EngineClient, make_container: Make) -> None:
    cid = await make_container(["sh", "-c", "echo hi; echo there >&2"], Tty=True)
    await client.containers.wait(cid)
    chunks = [(k, t) async for k, t in client.containers.logs(cid)]
    assert {k for k, _ in chunks} == {StreamKind.STDOUT}
    assert "".join(t for _, t in chunks).replace("\r\n", "\n") == "hi\nthere\n"


async def test_logs_follow_streams_new_lines(client: EngineClient, make_container: Make) -> None:
    cid = await make_container(
        ["sh", "-c", "i=0; while [ $i -lt 3 ]; do echo l$i; i=$((i+1)); sleep 0.2; done"]
    )
    text = ""
    async with aclosing(client.containers.logs(cid, follow=True)) as stream:
        async for _, piece in stream:
            text += piece
    assert text == "l0\nl1\nl2\n"  # follow ended by itself when the container exited


async def test_stats_once(client: EngineClient, make_container: Make) -> None:
    cid = await make_container(["sleep", "300"])
    samples = [s async for s in client.containers.stats(cid, stream=False)]
    assert len(samples) == 1
    s = samples[0]
    assert s.id == cid and s.pids >= 1
    assert 0 < s.memory_usage <= s.memory_limit
    assert s.cpu_percent >= 0.0 and s.raw["precpu_stats"]


async def test_stats_stream(client: EngineClient, make_container: Make) -> None:
    cid = await make_container(["sh", "-c", "while :; do :; done"])
    got: list[models.Stats] = []
    async with aclosing(client.containers.stats(cid)) as stream:
        async for s in stream:
            got.append(s)
            if len(got) == 2:
                break
    assert got[1].cpu_percent > 1.0  # a busy loop burns CPU, computed from the deltas


async def test_events_with_a_filter_see_a_container_start(
    client: EngineClient, make_container: Make
) -> None:
    cid = await make_container(["sleep", "300"], start=False)
    filters = {"type": ["container"], "container": [cid], "event": ["start"]}
    # Subscribing "since" the engine's clock before the start replays the event even when the
    # subscription reaches the engine after the start (no guessing how long that takes).
    from engine.models import parse_time

    since = parse_time((await client.info()).raw["SystemTime"])
    assert since is not None

    async def first_event() -> models.Event:
        async with aclosing(client.events(since=since.timestamp() - 1, filters=filters)) as events:
            async for event in events:
                return event
        raise AssertionError("event stream ended")

    waiter = asyncio.create_task(first_event())
    await client.containers.start(cid)
    event = await asyncio.wait_for(waiter, 10)
    assert (event.type, event.action, event.actor_id) == ("container", "start", cid)
    assert event.attributes["image"]


async def test_events_since_until_replay(client: EngineClient, make_container: Make) -> None:
    since = (await client.info()).raw["SystemTime"]
    cid = await make_container(["true"], start=False)
    await client.containers.remove(cid)
    until = (await client.info()).raw["SystemTime"]
    from engine.models import parse_time

    t0, t1 = parse_time(since), parse_time(until)
    assert t0 is not None and t1 is not None
    actions = [
        e.action
        async for e in client.events(
            since=t0.timestamp() - 1, until=t1.timestamp() + 1, filters={"container": [cid]}
        )
    ]
    assert actions == ["create", "destroy"]


async def test_archive_put_get_stat(client: EngineClient, make_container: Make) -> None:
    cid = await make_container(["sleep", "300"])
    await client.containers.put_archive(cid, "/tmp", _tar({"hello.txt": b"hello archive\n"}))
    data, stat = await client.containers.get_archive(cid, "/tmp/hello.txt")
    assert (stat["name"], stat["size"]) == ("hello.txt", 14)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.extractfile("hello.txt")
        assert member is not None and member.read() == b"hello archive\n"
    assert (await client.containers.stat_path(cid, "/tmp/hello.txt"))["size"] == 14
    with pytest.raises(NotFound, match="/tmp/nope"):
        await client.containers.stat_path(cid, "/tmp/nope")
    code, out, _ = await client.execs.run(cid, ["cat", "/tmp/hello.txt"])
    assert (code, out) == (0, "hello archive\n")


async def test_commit_creates_an_image(
    client: EngineClient, make_container: Make, uid: str
) -> None:
    cid = await make_container(["sh", "-c", "echo committed > /marker; sleep 300"])
    # The marker is in the container once `cat` finds it (the main process writes it async).
    for _ in range(200):
        code, _out, _err = await client.execs.run(cid, ["cat", "/marker"])
        if code == 0:
            break
    image_id = await client.containers.commit(
        cid, f"portside-test/commit-{uid}", "v1", comment="by test", changes=["ENV FOO=bar"]
    )
    try:
        img = await client.images.inspect(f"portside-test/commit-{uid}:v1")
        assert img.id == image_id and "FOO=bar" in img.env
        assert img.raw["Comment"] == "by test"
        made = await make_container(["cat", "/marker"], start=False, Image=image_id)
        await client.containers.start(made)
        assert await client.containers.wait(made) == 0
        assert "committed" in "".join([t async for _k, t in client.containers.logs(made)])
        await client.containers.remove(made)
    finally:
        await client.images.remove(image_id, force=True)


async def test_containers_prune_removes_stopped_ones(
    client: EngineClient, make_container: Make, uid: str
) -> None:
    cid = await make_container(["true"], Labels={LABEL: "1", "prune": uid})
    await client.containers.wait(cid)
    result = await client.containers.prune(filters={"label": [f"prune={uid}"]})
    assert result.deleted == [cid]
    with pytest.raises(NotFound):
        await client.containers.inspect(cid)


# -- exec -----------------------------------------------------------------------------------------


async def test_exec_round_trip_with_stdin(client: EngineClient, make_container: Make) -> None:
    cid = await make_container(["sleep", "300"])
    exec_id = await client.execs.create(cid, ["cat"], stdin=True)
    async with client.execs.start(exec_id, stdin=True) as session:
        await session.write(b"first line\n")
        await session.write("second ünïcode\n".encode())
        await session.close_write()  # cat sees EOF and exits
        frames: list[Frame] = [f async for f in session]
        code = await session.exit_code()
    assert {f.stream for f in frames} == {StreamKind.STDOUT}
    assert b"".join(f.data for f in frames).decode() == "first line\nsecond ünïcode\n"
    assert code == 0


async def test_exec_separates_streams_and_reports_exit_code(
    client: EngineClient, make_container: Make
) -> None:
    cid = await make_container(["sleep", "300"])
    code, out, err = await client.execs.run(
        cid, ["sh", "-c", 'echo "$GREETING"; echo oops >&2; exit 5'], env={"GREETING": "hi"}
    )
    assert (code, out, err) == (5, "hi\n", "oops\n")
    info = await client.execs.inspect(await client.execs.create(cid, ["true"]))
    assert info["ProcessConfig"]["entrypoint"] == "true"


async def test_tty_exec_with_resize(client: EngineClient, make_container: Make) -> None:
    cid = await make_container(["sleep", "300"])
    exec_id = await client.execs.create(cid, ["sh"], tty=True, stdin=True)
    session = await client.execs.start(exec_id, tty=True, stdin=True)
    try:
        await session.resize(33, 101)
        await session.write(b"stty size; echo done-$((6*7)); exit 3\n")
        out, err = await session.output()
    finally:
        await session.aclose()
    assert "33 101" in out and "done-42" in out and err == ""
    assert await session.exit_code() == 3


async def test_exec_in_a_stopped_container_is_a_conflict(
    client: EngineClient, make_container: Make
) -> None:
    cid = await make_container(["true"], start=False)
    with pytest.raises(Conflict, match="is not running"):
        await client.execs.create(cid, ["true"])


# -- images ---------------------------------------------------------------------------------------


async def test_image_list_inspect_history_tag_remove(
    client: EngineClient, test_image: str, uid: str
) -> None:
    images = await client.images.list()
    mine = [i for i in images if test_image in i.repo_tags]
    assert len(mine) == 1 and mine[0].size > 0 and not mine[0].dangling
    details = await client.images.inspect(test_image)
    assert details.id == mine[0].id and details.cmd == ("sh",)
    history = await client.images.history(test_image)
    assert history and history[0]["Id"] == details.id

    await client.images.tag(test_image, f"portside-test/tagged-{uid}:one")
    await client.images.tag(test_image, f"portside-test/tagged-{uid}", "two")
    tags = set((await client.images.inspect(test_image)).repo_tags)
    assert {f"portside-test/tagged-{uid}:one", f"portside-test/tagged-{uid}:two"} <= tags
    removed = await client.images.remove(f"portside-test/tagged-{uid}:one")
    assert removed == [{"Untagged": f"portside-test/tagged-{uid}:one"}]
    await client.images.remove(f"portside-test/tagged-{uid}:two")
    with pytest.raises(NotFound):
        await client.images.inspect(f"portside-test/tagged-{uid}:one")


async def test_image_in_use_conflict(
    client: EngineClient, make_container: Make, test_image: str
) -> None:
    await make_container(["true"], start=False)
    image_id = (await client.images.inspect(test_image)).id
    with pytest.raises(Conflict, match=r"being used|has dependent"):
        await client.images.remove(image_id)


async def test_build_from_a_tar_context(client: EngineClient, test_image: str, uid: str) -> None:
    context = _tar(
        {
            "Dockerfile": (
                f"FROM {test_image}\nARG WHO\nCOPY msg.txt /msg.txt\n"
                'RUN echo "built by $WHO" >> /msg.txt\nCMD ["cat", "/msg.txt"]\n'
            ).encode(),
            "msg.txt": b"from context\n",
        }
    )
    tag = f"portside-test/built-{uid}:1"
    messages = [
        p async for p in client.images.build(context, tag=tag, buildargs={"WHO": "portside"})
    ]
    streamed = "".join(p.stream or "" for p in messages)
    assert "Step 1/5" in streamed and f"Successfully tagged {tag}" in streamed
    ids = [p.aux["ID"] for p in messages if p.aux and "ID" in p.aux]
    try:
        assert ids and (await client.images.inspect(tag)).id == ids[-1]
        cid = await client.containers.create({"Image": tag})
        try:
            await client.containers.start(cid)
            await client.containers.wait(cid)
            text = "".join([t async for _, t in client.containers.logs(cid)])
            assert text == "from context\nbuilt by portside\n"
        finally:
            await client.containers.remove(cid, force=True)
    finally:
        await client.images.remove(tag, force=True)


async def test_failing_build_raises_stream_error(client: EngineClient, test_image: str) -> None:
    context = _tar({"Dockerfile": f"FROM {test_image}\nRUN exit 3\n".encode()})
    with pytest.raises(StreamError, match="returned a non-zero code: 3"):
        async for _ in client.images.build(context):
            pass


async def test_save_then_load(client: EngineClient, test_image: str, uid: str) -> None:
    tag = f"portside-test/saved-{uid}:1"
    await client.images.tag(test_image, tag)
    tar = b"".join([chunk async for chunk in client.images.save([tag])])
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        assert "manifest.json" in archive.getnames()
    await client.images.remove(tag)
    with pytest.raises(NotFound):
        await client.images.inspect(tag)

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(tar), 64 * 1024):
            yield tar[i : i + 64 * 1024]

    loaded = [p async for p in client.images.load(chunks())]
    assert any(f"Loaded image: {tag}" in (p.stream or "") for p in loaded)
    assert (await client.images.inspect(tag)).id == (await client.images.inspect(test_image)).id
    await client.images.remove(tag)


async def test_import_and_prune(client: EngineClient, uid: str) -> None:
    # Labelled, so the prune below touches only this test's images (the engine is shared).
    changes = [f"LABEL {LABEL}=prune-{uid}"]
    rootfs = _tar({"etc/motd": b"imported\n"})
    progress = [
        p
        async for p in client.images.import_(
            rootfs, f"portside-test/imp-{uid}", "x", changes=changes
        )
    ]
    image_id = progress[-1].status
    assert image_id.startswith("sha256:")
    assert (await client.images.inspect(f"portside-test/imp-{uid}:x")).id == image_id
    # importing another image under the same tag leaves the first one dangling
    async for _ in client.images.import_(
        _tar({"etc/motd": b"other\n"}), f"portside-test/imp-{uid}", "x", changes=changes
    ):
        pass
    scope = {"dangling": True, "label": [f"{LABEL}=prune-{uid}"]}
    dangling = await client.images.list(filters=scope)
    assert [i.id for i in dangling] == [image_id]
    result = await client.images.prune(filters=scope)
    assert image_id in result.deleted
    with pytest.raises(NotFound):
        await client.images.inspect(image_id)
    await client.images.remove(f"portside-test/imp-{uid}:x")


async def test_pull_of_a_malformed_reference_fails_before_any_request(
    client: EngineClient,
) -> None:
    with pytest.raises(ValueError):
        async for _ in client.images.pull("Not A Valid Ref"):
            pass


# -- volumes and networks --------------------------------------------------------------------------


async def test_volumes(client: EngineClient, make_container: Make, uid: str) -> None:
    vol = await client.volumes.create(f"vol-{uid}", labels={LABEL: uid})
    assert (vol.name, vol.driver, vol.labels[LABEL]) == (f"vol-{uid}", "local", uid)
    assert (await client.volumes.inspect(f"vol-{uid}")).mountpoint == vol.mountpoint
    listed = await client.volumes.list(filters={"label": [f"{LABEL}={uid}"]})
    assert [v.name for v in listed] == [f"vol-{uid}"]

    cid = await make_container(
        ["sleep", "300"], HostConfig={"Binds": [f"vol-{uid}:/data"]}, start=True
    )
    with pytest.raises(Conflict, match="in use"):
        await client.volumes.remove(f"vol-{uid}")
    await client.containers.remove(cid, force=True)
    await client.volumes.remove(f"vol-{uid}")
    with pytest.raises(NotFound):
        await client.volumes.inspect(f"vol-{uid}")

    anon = await client.volumes.create(labels={LABEL: f"prune-{uid}"})
    result = await client.volumes.prune(filters={"label": [f"{LABEL}=prune-{uid}"]}, all=True)
    assert result.deleted == [anon.name]


async def test_networks(client: EngineClient, make_container: Make, uid: str) -> None:
    third = int(uid[:2], 16) % 200 + 20
    subnet, gateway = f"10.199.{third}.0/24", f"10.199.{third}.1"
    net_id = await client.networks.create(
        f"net-{uid}", subnet=subnet, gateway=gateway, labels={LABEL: uid}
    )
    try:
        net = await client.networks.inspect(net_id)
        assert (net.name, net.driver, net.subnets) == (
            f"net-{uid}",
            "bridge",
            (models.Subnet(subnet, gateway),),
        )
        listed = await client.networks.list(filters={"label": [f"{LABEL}={uid}"]})
        assert [n.id for n in listed] == [net_id]
        with pytest.raises(Conflict):
            await client.networks.create(f"net-{uid}")

        cid = await make_container(["sleep", "300"])
        await client.networks.connect(net_id, cid, aliases=["web"])
        assert cid in (await client.networks.inspect(net_id)).containers
        assert f"net-{uid}" in (await client.containers.inspect(cid)).networks
        await client.networks.disconnect(net_id, cid)
        assert cid not in (await client.networks.inspect(net_id)).containers
    finally:
        await client.networks.remove(net_id)
    with pytest.raises(NotFound):
        await client.networks.inspect(net_id)

    await client.networks.create(f"prune-{uid}", labels={LABEL: f"prune-{uid}"})
    result = await client.networks.prune(filters={"label": [f"{LABEL}=prune-{uid}"]})
    assert result.deleted == [f"prune-{uid}"]


async def test_docker_host_from_the_environment_is_used(
    engine_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", engine_endpoint)
    async with EngineClient() as c:
        assert c.endpoint.url == engine_endpoint
        assert await c.ping() is True


async def test_writing_to_an_exec_without_stdin_says_what_to_do(
    client: EngineClient, make_container: Make
) -> None:
    cid = await make_container(["sleep", "300"])
    async with client.execs.start(await client.execs.create(cid, ["true"])) as session:
        with pytest.raises(ValueError, match="stdin=True"):
            await session.write(b"x")
        assert [f async for f in session] == []
    assert await session.exit_code() == 0


async def test_build_prune_removes_the_build_cache(
    client: EngineClient, engine_endpoint: str, uid: str
) -> None:
    tag = f"portside-test/buildkit-{uid}:latest"
    data = uid.encode() * 4096  # unique content: a cache record of this test's own
    context = _tar({"Dockerfile": b"FROM scratch\nCOPY data /data\n", "data": data})
    await _buildkit_build(engine_endpoint, context, tag)
    try:
        cache = (await client.df()).build_cache
        assert cache, "BuildKit left no build cache, so the prune below would prove nothing"
        ids = {str(c["ID"]) for c in cache}
        size = sum(int(c.get("Size") or 0) for c in cache)
        assert size >= len(data)

        result = await client.build_prune(all=True)
        assert ids <= set(result.deleted)
        assert result.space_reclaimed >= size
        assert (await client.df()).build_cache == ()
    finally:
        await client.images.remove(tag, force=True)


async def test_concurrent_df_calls_share_one_read_and_wait_out_other_clients(
    client: EngineClient, engine_endpoint: str
) -> None:
    # dockerd refuses a second /system/df while one runs ("already running"): callers of one
    # client share the read in flight, and another client's read is waited out, not raised.
    results = await asyncio.gather(*(client.df() for _ in range(5)))
    assert all(r is results[0] for r in results)
    async with EngineClient(engine_endpoint) as other, EngineClient(engine_endpoint) as third:
        together = await asyncio.gather(
            *(c.df() for c in (client, other, third) for _ in range(3))
        )
    assert len(together) == 9 and all(r.categories for r in together)
