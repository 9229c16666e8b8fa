"""The diagnostics bundle end to end: planted secrets never reach the zip; ``portside diagnostics``.

Secrets are planted where users really have them — a proxy URL and a token in settings.json,
dockerd's debug log (Authorization and X-Registry-Auth headers, a URL with a password), the
proxies and a mirror in daemon.json, the docker CLI's config.json (an ``auths`` login, an
``identitytoken``, a ``credHelpers`` entry, an Authorization header, proxy credentials), the VM's
console log (a private key) and the app log — and every member's bytes are searched for each
secret, its base64 and the base64 of ``user:secret``. The engine's ``/version`` comes from the
session's real engine; the docker CLI is the real one on PATH.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from engine.diagnostics.bundle import build_bundle
from engine.diagnostics.collect import Sources
from engine.lifecycle import EnginePaths
from tests.support.engine_fixtures import dockerd_version

ROOT = Path(__file__).resolve().parent.parent
USER = "planteduser"
#: name -> secret; each is planted once, in a different file and shape
SECRETS = {
    "settings-proxy": "Sx1settingsPROXYpw",
    "settings-token": "Sx2settingsTOKENvalue",
    "log-bearer": "Lx1logBEARERtoken",
    "log-registry-auth": "Lx2logREGISTRYpw",
    "log-url": "Lx3logURLpw",
    "daemon-http": "Dx1daemonHTTPpw",
    "daemon-https": "Dx2daemonHTTPSpw",
    "daemon-mirror": "Dx3daemonMIRRORpw",
    "proxies-file": "Px1proxiesFILEpw",
    "vm-proxies": "Px2vmPROXIESpw",
    "config-auth": "Cx1configAUTHpw",
    "config-identity": "Cx2configIDENTITYtok",
    "config-header": "Cx3configHEADERtok",
    "config-proxy": "Cx4configPROXYpw",
    "vm-key": "Vx1vmPRIVATEkeyMaterial",
    "app-log": "Ax1appLOGpw",
}
EXPECTED = {
    "README.txt", "versions.json", "docker/cli.txt", "checks.json", "checks.txt",
    "settings.json", "engine/daemon.json", "engine/proxies.json", "engine/state.json",
    "engine/engine.log",
    "engine/supervisor.log", "vm/vm.json", "vm/state.json", "vm/console.log", "vm/daemon.json",
    "vm/proxies.json",
    "docker/config.json", "app/portside.log",
}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def forbidden() -> dict[str, bytes]:
    """Every form a planted secret could leak in: itself, base64 of it and of user:it."""
    out = {}
    for name, secret in SECRETS.items():
        out[name] = secret.encode()
        out[f"{name} base64"] = b64(secret).rstrip("=").encode()
        out[f"{name} base64 user:pass"] = b64(f"{USER}:{secret}").rstrip("=").encode()
        out[f"{name} urlsafe"] = base64.urlsafe_b64encode(secret.encode()).rstrip(b"=")
    return out


def plant(tmp: Path) -> Sources:
    """A settings file, engine home, VM folder, docker config and app log full of secrets."""
    s = SECRETS
    settings = tmp / "config" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({
        "theme": "dark",
        "https_proxy": f"http://{USER}:{s['settings-proxy']}@proxy.example:3128",
        "registry_token": s["settings-token"],
    }))
    paths = EnginePaths.at(tmp / "home")
    paths.root.mkdir(parents=True)
    paths.daemon_json.write_text(json.dumps({
        "proxies": {
            "http-proxy": f"http://{USER}:{s['daemon-http']}@proxy.example:3128",
            "https-proxy": f"https://{USER}:{s['daemon-https']}@proxy.example:3129",
            "no-proxy": "localhost,127.0.0.1",
        },
        "registry-mirrors": [f"https://{USER}:{s['daemon-mirror']}@mirror.example"],
        "debug": True,
    }))
    # Settings > Proxies refuses passwords; a hand-edited file may still hold one
    (paths.root / "proxies.json").write_text(json.dumps({
        "http": f"http://{USER}:{s['proxies-file']}@proxy.example:3128", "no_proxy": "localhost",
    }))
    registry_auth = b64(json.dumps({"username": USER, "password": s["log-registry-auth"]}))
    paths.log_file.write_text(
        "--- portside engine start\n"
        'time="2026-11-29T22:00:00Z" level=info msg="API listen on /tmp/x/docker.sock"\n'
        'time="2026-11-29T22:00:01Z" level=debug msg="Calling POST /v1.41/images/create" '
        f"headers=map[Authorization:[Bearer {s['log-bearer']}] X-Registry-Auth:[{registry_auth}]]\n"
        f'time="2026-11-29T22:00:02Z" level=error msg="pull from '
        f'https://{USER}:{s["log-url"]}@registry.example/v2/ failed"\n'
    )
    (paths.root / "state.json").write_text('{"state": "stopped"}')
    vm = paths.root / "vm"
    vm.mkdir()
    (vm / "vm.json").write_text('{"cpus": 2, "memory_mib": 2048}')
    (vm / "state.json").write_text('{"state": "stopped", "vm": true}')
    (vm / "daemon.json").write_text("{}")
    (vm / "proxies.json").write_text(json.dumps(
        {"https": f"http://{USER}:{s['vm-proxies']}@10.0.2.2:3128"}))
    (vm / "engine.log").write_text(
        "[    0.000000] Linux version 6.1\n-----BEGIN OPENSSH PRIVATE KEY-----\n"
        f"b3BlbnNzaC1rZXktdjEAAAAA{s['vm-key']}\n-----END OPENSSH PRIVATE KEY-----\nlogin:\n"
    )
    docker = tmp / "docker"
    docker.mkdir()
    (docker / "config.json").write_text(json.dumps({
        "auths": {
            "registry.example": {"auth": b64(f"{USER}:{s['config-auth']}")},
            "https://index.docker.io/v1/": {"identitytoken": s["config-identity"]},
        },
        "credHelpers": {"gcr.io": "gcloud"},
        "HttpHeaders": {"Authorization": f"Bearer {s['config-header']}"},
        "proxies": {"default": {"httpProxy": f"http://{USER}:{s['config-proxy']}@proxy:3128"}},
    }))
    app_log = tmp / "logs" / "portside.log"
    app_log.parent.mkdir()
    app_log.write_text(f"2026-11-29 INFO app: signing in with password={s['app-log']}\n")
    return Sources(settings_file=settings, engine_paths=paths, vm_root=vm,
                   docker_config_dir=docker, app_log=app_log)


def assert_clean(zip_path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(zip_path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    leaks = [
        f"{what} in {name}"
        for name, data in members.items()
        for what, needle in forbidden().items()
        if needle in data
    ]
    assert leaks == []
    return members


def test_planted_secrets_never_reach_the_zip(tmp_path: Path, engine_endpoint: str) -> None:
    from dataclasses import replace

    sources = replace(plant(tmp_path), endpoint=engine_endpoint)
    steps: list[str] = []
    report = build_bundle(tmp_path / "out" / "bundle.zip", sources, steps.append)
    members = assert_clean(report.path)
    assert set(members) == EXPECTED
    assert {e.name for e in report.entries} == EXPECTED
    assert oct(report.path.stat().st_mode & 0o777) == "0o600"
    assert steps[-1] == "Writing the zip" and len(steps) >= 8
    # what a helper needs is still there
    versions = json.loads(members["versions.json"])
    assert versions["engine"]["Version"] == dockerd_version()
    assert versions["python"].startswith(f"{sys.version_info.major}.{sys.version_info.minor}")
    assert versions["qt"]["PySide6"] == "6.11.0"
    assert versions["os"]["release"] == os.uname().release
    settings = json.loads(members["settings.json"])
    assert settings["theme"] == "dark"
    assert settings["https_proxy"] == "http://<redacted>@proxy.example:3128"
    assert settings["registry_token"] == "<redacted>"
    daemon = json.loads(members["engine/daemon.json"])
    assert daemon["proxies"]["no-proxy"] == "localhost,127.0.0.1"
    assert daemon["debug"] is True
    proxies = json.loads(members["engine/proxies.json"])
    assert proxies == {"http": "http://<redacted>@proxy.example:3128", "no_proxy": "localhost"}
    config = json.loads(members["docker/config.json"])
    assert config["credHelpers"] == {"gcr.io": "gcloud"}
    assert set(config["auths"]) == {"registry.example", "https://index.docker.io/v1/"}
    assert config["auths"]["registry.example"] == {"auth": "<redacted>"}
    log = members["engine/engine.log"].decode()
    assert "API listen on /tmp/x/docker.sock" in log and "@registry.example/v2/ failed" in log
    assert "login:" in members["vm/console.log"].decode()
    checks = json.loads(members["checks.json"])
    assert {row["id"] for row in checks if "id" in row} >= {"os", "dockerd", "disk"}
    assert "Free disk space" in members["checks.txt"].decode() or "disk" in members[
        "checks.txt"].decode().lower()
    assert b"Docker version" in members["docker/cli.txt"]
    # the files it read are unchanged (redaction happens in the zip only)
    assert SECRETS["config-auth"] not in (tmp_path / "docker" / "config.json").read_text()
    assert b64(f"{USER}:{SECRETS['config-auth']}") in (
        tmp_path / "docker" / "config.json").read_text()


def test_missing_sources_say_so(tmp_path: Path) -> None:
    sources = Sources(settings_file=tmp_path / "none.json",
                      engine_paths=EnginePaths.at(tmp_path / "nohome"),
                      docker_config_dir=tmp_path / "nodocker",
                      endpoint=f"unix://{tmp_path}/no.sock")
    report = build_bundle(tmp_path / "b.zip", sources)
    with zipfile.ZipFile(report.path) as zf:
        assert zf.read("settings.json").startswith(b"(not present: ")
        assert "error" in json.loads(zf.read("versions.json"))["engine"]
        assert "vm/vm.json" not in zf.namelist()  # no VM folder: no VM members


def _cli(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("DOCKER_HOST", None)
    env.update(
        PORTSIDE_CONFIG_DIR=str(tmp / "config"),
        PORTSIDE_HOME=str(tmp / "home"),
        PORTSIDE_LOG_DIR=str(tmp / "logs"),
        DOCKER_CONFIG=str(tmp / "docker"),
        PYTHONPATH=str(ROOT),
    )
    code = (
        "import sys; from app.__main__ import main; rc = main(sys.argv[1:]); "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'qasync')]; "
        "sys.exit(97 if bad else rc)"
    )
    return subprocess.run([sys.executable, "-c", code, "diagnostics", *args], capture_output=True,
                          text=True, env=env, cwd=tmp, timeout=120)


def test_portside_diagnostics_cli(tmp_path: Path) -> None:
    plant(tmp_path)
    out = tmp_path / "for-support.zip"
    done = _cli(tmp_path, "--out", str(out))
    assert done.returncode == 0, done.stderr  # 97 would mean Qt was imported
    assert f"Wrote {out}" in done.stdout
    for name in EXPECTED:
        assert f"  {name} " in done.stdout, name
    members = assert_clean(out)
    assert set(members) == EXPECTED
    # the settings, logs and config came from the environment's folders
    assert json.loads(members["settings.json"])["theme"] == "dark"
    assert b"signing in with password=<redacted>" in members["app/portside.log"]

    again = _cli(tmp_path, "--out", str(out))
    assert again.returncode == 1
    assert "already exists" in again.stderr and "--force" in again.stderr
    assert _cli(tmp_path, "--out", str(out), "--force").returncode == 0

    (tmp_path / "a-file").write_text("")
    bad = _cli(tmp_path, "--out", str(tmp_path / "a-file" / "x.zip"))
    assert bad.returncode == 1
    assert "Could not write" in bad.stderr and "--out" in bad.stderr
    assert not list(tmp_path.glob("**/*.part"))

    usage = _cli(tmp_path, "--bogus")
    assert usage.returncode == 2 and "usage: portside diagnostics" in usage.stderr


@pytest.mark.parametrize("size", [10, 3 * 1024 * 1024])
def test_long_logs_are_cut_at_a_line(tmp_path: Path, size: int) -> None:
    from engine.diagnostics.collect import LOG_LIMIT, read_tail

    log = tmp_path / "engine.log"
    line = b"x" * 99 + b"\n"
    log.write_bytes(line * (size // 100 + 1))
    data = read_tail(log)
    if log.stat().st_size <= LOG_LIMIT:
        assert data == log.read_bytes()
    else:
        note, rest = data.split(b"\n", 1)
        assert note.startswith(b"[portside: the first ") and rest.startswith(line)
        assert len(rest) <= LOG_LIMIT
