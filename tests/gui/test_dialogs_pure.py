"""Unit tests of the views' pure core: run-form validation, progress folding, build contexts."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from app.dialogs import run_spec as rs
from app.dialogs.build_context import (
    BuildContextError,
    IgnoreMatcher,
    context_files,
    make_context_tar,
)
from app.dialogs.common import (
    human_size,
    is_auth_error,
    validate_gateway,
    validate_reference,
    validate_resource_name,
    validate_subnet,
    validate_tag_target,
)
from app.dialogs.progress import ProgressFold
from engine.errors import AuthRequired, EngineAPIError, NotFound, StreamError

# ---- ports ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("80", [rs.PortBinding(80, "tcp", None, "")]),
        ("8080:80", [rs.PortBinding(80, "tcp", 8080, "")]),
        ("127.0.0.1:8080:80/udp", [rs.PortBinding(80, "udp", 8080, "127.0.0.1")]),
        ("127.0.0.1::80", [rs.PortBinding(80, "tcp", None, "127.0.0.1")]),
        ("[::1]:8080:80", [rs.PortBinding(80, "tcp", 8080, "::1")]),
        (
            "8000-8001:80-81",
            [rs.PortBinding(80, "tcp", 8000, ""), rs.PortBinding(81, "tcp", 8001, "")],
        ),
    ],
)
def test_ports_parse(text: str, expected: list[rs.PortBinding]) -> None:
    assert rs.parse_ports(text) == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("abc", "not a number"),
        ("70000:80", "out of range"),
        ("8080:0", "out of range"),
        ("8080:80/icmp", "unknown protocol"),
        ("1.2.3:8080:80", "not an IP address"),
        (":80", "missing host port"),
        ("a:b:c:d", "too many"),
        ("8000-8002:80", "same length"),
        ("8080:80\n8080:81", "published twice"),
        ("9-8:80-81", "backwards"),
    ],
)
def test_ports_reject(text: str, needle: str) -> None:
    with pytest.raises(rs.FieldError) as info:
        rs.parse_ports(text)
    assert info.value.field == rs.PORTS
    assert needle in info.value.message


# ---- env / volumes / restart / command -------------------------------------------------------


def test_env_parse_and_reject() -> None:
    assert rs.parse_env("A=1\n# comment\n\nB=x=y\nC=") == ["A=1", "B=x=y", "C="]
    for bad, needle in [("NOVALUE", "no “=”"), ("1A=2", "not a valid variable"), ("=x", "not a")]:
        with pytest.raises(rs.FieldError, match=needle) as info:
            rs.parse_env(bad)
        assert info.value.field == rs.ENV


def test_mounts_parse() -> None:
    mounts = rs.parse_mounts("data:/data\n/srv/www:/usr/share/www:ro\n/cache")
    assert [m.bind_string() for m in mounts if m.source] == [
        "data:/data",
        "/srv/www:/usr/share/www:ro",
    ]
    assert mounts[1].is_bind and mounts[1].read_only
    assert mounts[2].source == "" and mounts[2].target == "/cache"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("data:relative", "absolute"),
        ("./here:/x", "host paths must be absolute"),
        ("a:/x", "neither an absolute host path"),
        ("data:/x:bogus", "unknown option"),
        ("data:/x:ro,rw", "not both"),
        ("v1:/x\nv2:/x", "mounted twice"),
        ("a:b:c:d", "too many"),
    ],
)
def test_mounts_reject(text: str, needle: str) -> None:
    with pytest.raises(rs.FieldError, match=needle) as info:
        rs.parse_mounts(text)
    assert info.value.field == rs.VOLUMES


def test_restart_and_command() -> None:
    assert rs.parse_restart("no") == {"Name": ""}
    assert rs.parse_restart("on-failure:3") == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert rs.parse_restart("unless-stopped") == {"Name": "unless-stopped"}
    for bad in ("sometimes", "always:3", "on-failure:x"):
        with pytest.raises(rs.FieldError):
            rs.parse_restart(bad)
    assert rs.parse_command("sh -c 'echo hi there'") == ["sh", "-c", "echo hi there"]
    with pytest.raises(rs.FieldError, match="quotes"):
        rs.parse_command("echo 'unterminated")


def test_build_run_spec_full_config() -> None:
    spec = rs.build_run_spec(
        rs.RunForm(
            image="busybox",
            name="web",
            ports="127.0.0.1:8080:80, 53/udp",
            env="A=1",
            volumes="data:/data\n/anon",
            command="httpd -f -p 80",
            restart="on-failure:2",
        )
    )
    assert spec.name == "web"
    cfg = spec.config
    assert cfg["Image"] == "busybox"
    assert cfg["Cmd"] == ["httpd", "-f", "-p", "80"]
    assert cfg["Env"] == ["A=1"]
    assert cfg["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}}
    hc = cfg["HostConfig"]
    assert hc["PortBindings"] == {
        "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
        "53/udp": [{"HostIp": "", "HostPort": ""}],
    }
    assert hc["Binds"] == ["data:/data"]
    assert cfg["Volumes"] == {"/anon": {}}
    assert hc["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    assert hc["AutoRemove"] is False


def test_build_run_spec_collects_every_error() -> None:
    with pytest.raises(rs.RunFormErrors) as info:
        rs.build_run_spec(
            rs.RunForm(
                image="",
                name="-bad",
                ports="x",
                env="NOEQ",
                volumes="rel:rel",
                command="'",
                restart="always",
                auto_remove=True,
            )
        )
    assert set(info.value.errors) == {
        rs.IMAGE,
        rs.NAME,
        rs.PORTS,
        rs.ENV,
        rs.VOLUMES,
        rs.COMMAND,
        rs.RESTART,
    }


def test_engine_errors_map_to_fields() -> None:
    assert (
        rs.field_for_engine_error(
            "driver failed programming external connectivity on endpoint x: Bind for "
            "0.0.0.0:8080 failed: port is already allocated"
        )
        == rs.PORTS
    )
    assert rs.field_for_engine_error("listen tcp4 127.0.0.1:80: bind: address already in use") == (
        rs.PORTS
    )
    assert (
        rs.field_for_engine_error(
            'Conflict. The container name "/web" is already in use by container "abc".'
        )
        == rs.NAME
    )
    assert (
        rs.field_for_engine_error('exec: "nope": executable file not found in $PATH: unknown')
        == rs.COMMAND
    )
    assert rs.field_for_engine_error("something else entirely") is None


# ---- progress folding -----------------------------------------------------------------------


def test_pull_progress_folds_layers() -> None:
    fold = ProgressFold()
    fold.update("latest", "Pulling from library/busybox", None, None)
    assert fold.fraction is None and fold.layers_seen == 0
    fold.update("a", "Pulling fs layer", None, None)
    fold.update("b", "Already exists", None, None)
    fold.update("c", "Pulling fs layer", None, None)
    assert fold.fraction is None  # nothing measurable yet
    fold.update("a", "Downloading", 25, 100)
    fold.update("c", "Downloading", 100, 300)
    assert fold.current == 125 and fold.total == 400
    assert fold.fraction == pytest.approx(125 / 400)
    fold.update("a", "Download complete", None, None)
    assert fold.current == 200
    fold.update("a", "Extracting", 10, 100)  # extraction doesn't move the download bar back
    assert fold.current == 200
    fold.update("a", "Pull complete", None, None)
    fold.update("c", "Pull complete", None, None)
    assert fold.layers_done == 3 and fold.complete and fold.fraction == 1.0
    fold.update(None, "Digest: sha256:abc", None, None)
    fold.update(None, "Status: Downloaded newer image for busybox:latest", None, None)
    assert fold.messages[-1].startswith("Status: Downloaded")


def test_push_progress_folds_layers() -> None:
    fold = ProgressFold()
    fold.update("x", "Preparing", None, None)
    fold.update("y", "Preparing", None, None)
    fold.update("x", "Pushing", 50, 200)
    fold.update("y", "Layer already exists", None, None)
    assert fold.fraction == pytest.approx(0.25)
    fold.update("x", "Pushed", None, None)
    assert fold.complete and fold.fraction == 1.0


# ---- build context --------------------------------------------------------------------------


def test_dockerignore_matching() -> None:
    m = IgnoreMatcher.from_text("# c\n*.log\n/build\n**/node_modules\n!keep.log\nsecret?.txt\n")
    assert m.ignored("a.log") and not m.ignored("keep.log")
    assert m.ignored("build/x/y.o") and not m.ignored("src/build.c")
    assert m.ignored("pkg/deep/node_modules/x.js") and m.ignored("node_modules")
    assert m.ignored("secret1.txt") and not m.ignored("secret12.txt")
    assert not m.ignored("sub/a.log")  # '*' doesn't cross '/'


def test_context_tar_honours_dockerignore(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY . /\n")
    (tmp_path / ".dockerignore").write_text("*.tmp\nskipdir\nDockerfile\n")
    (tmp_path / "keep.txt").write_text("k")
    (tmp_path / "x.tmp").write_text("t")
    (tmp_path / "skipdir").mkdir()
    (tmp_path / "skipdir" / "f").write_text("f")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "g.txt").write_text("g")
    files = context_files(tmp_path)
    assert files == [".dockerignore", "Dockerfile", "keep.txt", "sub", "sub/g.txt"]
    data = make_context_tar(tmp_path)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert sorted(tar.getnames()) == files
        member = tar.extractfile("sub/g.txt")
        assert member is not None and member.read() == b"g"


def test_context_errors(tmp_path: Path) -> None:
    with pytest.raises(BuildContextError, match="no Dockerfile"):
        context_files(tmp_path)
    with pytest.raises(BuildContextError, match="not a folder"):
        context_files(tmp_path / "missing")
    with pytest.raises(BuildContextError, match="inside the build folder"):
        context_files(tmp_path, "../Dockerfile")


# ---- misc validation ------------------------------------------------------------------------


def test_sizes_and_subnets() -> None:
    assert human_size(0) == "0 B"
    assert human_size(1_234_567) == "1.23 MB"
    assert human_size(None) == "—"
    assert validate_subnet("10.9.8.0/24") == "10.9.8.0/24"
    assert validate_subnet("") is None
    with pytest.raises(ValueError, match=r"did you mean 10\.9\.8\.0/24"):
        validate_subnet("10.9.8.1/24")
    with pytest.raises(ValueError, match="prefix length"):
        validate_subnet("10.9.8.0")
    with pytest.raises(ValueError, match="not a valid subnet"):
        validate_subnet("300.1.1.0/24")
    assert validate_gateway("10.9.8.1", "10.9.8.0/24") == "10.9.8.1"
    with pytest.raises(ValueError, match="not inside"):
        validate_gateway("10.9.9.1", "10.9.8.0/24")
    assert validate_resource_name("my-vol_1", "volume") == "my-vol_1"
    with pytest.raises(ValueError, match="not a valid volume name"):
        validate_resource_name("bad name", "volume")


def test_auth_error_detection() -> None:
    assert is_auth_error(AuthRequired(401, "unauthorized"))
    assert is_auth_error(StreamError("unauthorized: authentication required"))
    assert is_auth_error(EngineAPIError(500, "Head x: no basic auth credentials"))
    assert not is_auth_error(NotFound(404, "manifest unknown"))
    assert not is_auth_error(RuntimeError("unauthorized"))


def test_reference_validation() -> None:
    assert "busybox" in validate_reference("busybox")
    for bad in ("", "UPPER/case", "bad ref", "x:"):
        with pytest.raises(ValueError):
            validate_reference(bad)
    assert validate_tag_target("localhost:5000/team/app:v2") == ("localhost:5000/team/app", "v2")
    assert validate_tag_target("team/app") == ("team/app", None)
    with pytest.raises(ValueError, match="digest"):
        validate_tag_target("app@sha256:" + "a" * 64)


def test_network_labels_and_limits_parse() -> None:
    assert rs.parse_network("") == "bridge" and rs.parse_network(" backend ") == "backend"
    with pytest.raises(rs.FieldError, match="not a network name"):
        rs.parse_network("no spaces please")
    assert rs.parse_labels("team=a\n# comment\n\ntier = web ") == {"team": "a", "tier": "web"}
    with pytest.raises(rs.FieldError, match="key=value"):
        rs.parse_labels("team")
    assert rs.parse_memory("") == 0
    assert rs.parse_memory("512m") == 512 * 1024**2
    assert rs.parse_memory("1.5g") == int(1.5 * 1024**3)
    assert rs.parse_memory("2GiB") == 2 * 1024**3 and rs.parse_memory("8388608") == 8388608
    with pytest.raises(rs.FieldError, match="at least 6m"):
        rs.parse_memory("5m")
    with pytest.raises(rs.FieldError, match="not a memory size"):
        rs.parse_memory("lots")
    assert rs.parse_cpus("") == 0 and rs.parse_cpus("0.5") == 500_000_000
    assert rs.parse_cpus("2", available=4) == 2_000_000_000
    with pytest.raises(rs.FieldError, match="only 4 CPUs"):
        rs.parse_cpus("6", available=4)
    with pytest.raises(rs.FieldError, match=r"at least 0\.01"):
        rs.parse_cpus("0")


def test_run_spec_network_labels_limits_and_ports_on_host() -> None:
    spec = rs.build_run_spec(
        rs.RunForm(image="busybox", network="backend", labels="a=1", memory="64m", cpus="1.5",
                   ports="8080:80")
    )
    host = spec.config["HostConfig"]
    assert host["NetworkMode"] == "backend" and host["Memory"] == 64 * 1024**2
    assert host["NanoCpus"] == 1_500_000_000 and spec.config["Labels"] == {"a": "1"}
    # The default bridge is left to the engine (no NetworkMode), like `docker run`.
    assert "NetworkMode" not in rs.build_run_spec(rs.RunForm(image="busybox")).config["HostConfig"]
    for network in ("host", "none"):
        with pytest.raises(rs.RunFormErrors) as caught:
            rs.build_run_spec(rs.RunForm(image="busybox", network=network, ports="80"))
        assert f"“{network}” network" in caught.value.errors[rs.PORTS]
    # On host/none without ports: fine.
    assert rs.build_run_spec(rs.RunForm(image="busybox", network="host")).config["HostConfig"][
        "NetworkMode"
    ] == "host"


def test_engine_errors_for_network_and_limits_map_to_fields() -> None:
    assert rs.field_for_engine_error("network pst-nope not found") == rs.NETWORK
    assert rs.field_for_engine_error("Minimum memory limit allowed is 6MB") == rs.MEMORY
    assert rs.field_for_engine_error("Range of CPUs is from 0.01 to 2.00") == rs.CPUS
    assert rs.field_for_engine_error("the network is unreachable") is None
