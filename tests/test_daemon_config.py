"""daemon.json checks, Apply & restart with roll-back, and proxies in dockerd's environment.

The checks are pure; the rest runs real ``dockerd`` processes, each in its own short folder under
/tmp (own data root, socket, bridge), beside any other engine on the machine.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from engine.errors import LifecycleError
from engine.lifecycle import EnginePaths, EngineState, NativeEngine, daemon_config, proxies
from engine.lifecycle.daemon_config import apply_and_restart, check, dockerd_error


def test_check_finds_json_errors_with_their_place() -> None:
    report = check('{\n  "debug": true,\n  "log-level": "info"\n  "x": 1\n}')
    assert not report.ok and report.config is None
    (problem,) = report.errors
    assert problem.line == 4 and "line 4" in problem.message
    assert check("[1]").errors[0].message.startswith("daemon.json must be a JSON object")
    assert check("").ok and check("").config == {}


def test_check_types_known_keys_warns_on_unknown_and_refuses_flag_keys() -> None:
    report = check(json.dumps({
        "registry-mirrors": "https://mirror.example",  # must be a list
        "insecure-registries": ["localhost:5000"],
        "log-driver": 7,
        "debug": "yes",
        "max-concurrent-downloads": 3,
        "log-level": "loud",
        "log-opts": {"max-size": "10m"},
        "hosts": ["tcp://0.0.0.0:2375"],
        "some-future-key": {"a": 1},
        "proxies": {"http-proxy": "http://p:3128"},
    }))
    errors = {p.key: p.message for p in report.errors}
    assert set(errors) == {"registry-mirrors", "log-driver", "debug", "log-level", "hosts"}
    assert "a list of strings" in errors["registry-mirrors"]
    assert "true or false" in errors["debug"]
    assert "remove this key" in errors["hosts"]
    warnings = {p.key: p.message for p in report.warnings}
    assert set(warnings) == {"some-future-key", "proxies"}
    assert "Proxies tab" in warnings["proxies"]
    # unknown keys alone never block
    assert check('{"some-future-key": 1, "debug": true}').ok
    assert check('{"registry-mirrors": ["mirror.example"]}').errors[0].key == "registry-mirrors"


def test_dockerd_error_picks_the_fatal_line() -> None:
    tail = (
        'time="2026-01-01" level=info msg="Starting up"\n'
        'time="2026-01-01" level=error msg="something minor"\n'
        "unable to configure the Docker daemon with file /x/daemon.json: the following "
        "directives don't match any configuration option: no-such-key\n"
    )
    assert dockerd_error(tail).startswith("unable to configure the Docker daemon")
    assert dockerd_error('level=error msg="a \\"quoted\\" thing"') == 'a "quoted" thing'
    assert dockerd_error("nothing here") == ""


def test_proxy_urls_with_a_password_are_refused_and_never_written(tmp_path: Path) -> None:
    paths = EnginePaths.at(tmp_path / "eng")
    with pytest.raises(LifecycleError, match="does not store proxy passwords"):
        proxies.save(paths, proxies.Proxies(http="http://bob:s3cret@proxy.corp:3128"))
    assert not proxies.path_of(paths).exists()
    assert proxies.check(proxies.Proxies(https="proxy.corp:3128"))[0].startswith("HTTPS proxy")
    assert proxies.check(proxies.Proxies(http="ftp://p:21"))
    assert proxies.check(proxies.Proxies(http="http://bob@proxy.corp:3128")) == []
    assert proxies.redact("http://bob:s3cret@p:1") == "http://bob:xxxxx@p:1"
    saved = proxies.save(paths, proxies.Proxies(http=" http://p:3128 ", no_proxy="localhost"))
    assert oct(saved.stat().st_mode & 0o777) == "0o600"
    assert proxies.load(paths) == proxies.Proxies(http="http://p:3128", no_proxy="localhost")
    saved.write_text("{broken")
    assert proxies.load(paths) == proxies.Proxies()


@pytest.fixture
def root(own_engine_root: Path) -> Path:
    return own_engine_root


@pytest_asyncio.fixture
async def engine(root: Path) -> AsyncIterator[NativeEngine]:
    made = NativeEngine(EnginePaths.at(root), iptables=False, start_timeout=60)
    yield made
    await made.settled()
    await made.stop(timeout=10)


async def _info(engine: NativeEngine) -> dict[str, object]:
    transport = httpx.AsyncHTTPTransport(uds=str(engine.paths.socket))
    async with httpx.AsyncClient(transport=transport, base_url="http://engine") as client:
        response = await client.get("/info")
        response.raise_for_status()
        info: dict[str, object] = response.json()
        return info


@pytest.mark.engine
async def test_apply_restarts_with_the_new_file_and_rolls_back_a_refused_one(
    engine: NativeEngine,
) -> None:
    await engine.start()
    path = engine.paths.daemon_json
    before = json.loads(path.read_text())
    assert (await _info(engine))["Debug"] is False

    # a good change: the engine restarts with it
    good = json.dumps({**before, "debug": True}, indent=2)
    result = await apply_and_restart(engine, path, good)
    assert result.ok and result.running, result.message()
    assert (await _info(engine))["Debug"] is True
    assert json.loads(path.read_text())["debug"] is True
    assert json.loads(path.with_name("daemon.json.bak").read_text()) == before
    assert not path.with_name("daemon.json.before-apply").exists()
    accepted = path.read_bytes()
    first_pid = engine.status.pid

    # a setting dockerd refuses (our check only warns: the key is unknown)
    bad = json.dumps({**json.loads(accepted), "no-such-key": 1}, indent=2)
    assert check(bad).ok and check(bad).warnings
    result = await apply_and_restart(engine, path, bad)
    assert not result.ok and result.rolled_back and result.running, result.message()
    assert "no-such-key" in result.error  # dockerd's own words
    assert "unable to configure the Docker daemon" in result.error
    assert "no-such-key" in result.log_tail
    assert "previous daemon.json was put back" in result.message()
    assert path.read_bytes() == accepted  # byte for byte
    assert not path.with_name("daemon.json.before-apply").exists()
    assert engine.status.state is EngineState.RUNNING and engine.status.pid != first_pid
    assert (await _info(engine))["Debug"] is True

    # a file without Portside's bridge: the engine completes it, .bak still holds the previous
    bare = {k: v for k, v in json.loads(accepted).items() if k not in ("bridge", "fixed-cidr")}
    result = await apply_and_restart(engine, path, json.dumps(bare))
    assert result.ok, result.message()
    assert path.with_name("daemon.json.bak").read_bytes() == accepted
    assert json.loads(path.read_text())["bridge"] == json.loads(accepted)["bridge"]
    accepted = path.read_bytes()

    # errors our checks find are never written
    with pytest.raises(LifecycleError, match="was not saved"):
        await apply_and_restart(engine, path, '{"debug": "yes"}')
    assert path.read_bytes() == accepted


def _environ(pid: int) -> list[bytes]:
    return Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")


@pytest.mark.engine
async def test_proxies_reach_dockerds_environment(engine: NativeEngine) -> None:
    proxies.save(engine.paths, proxies.Proxies(
        http="http://proxy.invalid:3128", https="http://proxy.invalid:3129",
        no_proxy="localhost,127.0.0.1,.internal",
    ))
    await engine.start()
    pid = engine.status.pid
    assert pid
    environ = _environ(pid)
    assert b"HTTP_PROXY=http://proxy.invalid:3128" in environ
    assert b"https_proxy=http://proxy.invalid:3129" in environ
    assert b"NO_PROXY=localhost,127.0.0.1,.internal" in environ
    # dockerd itself took them (docker info shows its proxies)
    info = await _info(engine)
    assert info["HttpProxy"] == "http://proxy.invalid:3128"
    assert info["NoProxy"] == "localhost,127.0.0.1,.internal"


def test_read_text_offers_an_empty_object_for_a_missing_file(tmp_path: Path) -> None:
    assert daemon_config.read_text(tmp_path / "none.json").strip() == "{\n}"
