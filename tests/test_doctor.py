"""``engine.doctor`` and ``portside doctor`` on this machine, with real results.

The forced failure hides every ``dockerd`` from a child ``portside doctor``: PATH without it,
an empty bundle folder and, in a private mount namespace (``unshare -m``, root only), /dev/null
bound over the system's dockerd, which the engine's own look-up would otherwise still find.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from engine import doctor
from engine.lifecycle.programs import INSTALL_HINT, SYSTEM_DIRS, find_program

IDS = ["os", "arch", "dockerd", "virtualization", "qemu", "disk", "rootless",
       "existing-engines"]


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("DOCKER_") and k != "PORTSIDE_BUNDLE_DIR"}
    env.update(HOME=str(tmp_path / "home"), XDG_DATA_HOME=str(tmp_path / "data"),
               DOCKER_CONFIG=str(tmp_path / "docker"), PORTSIDE_CONFIG_DIR=str(tmp_path / "cfg"))
    env.update(extra)
    return env


def _doctor(env: dict[str, str], *args: str, wrap: list[str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    argv = [*(wrap or []), sys.executable, "-m", "app", "doctor", *args]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60,
                          cwd=Path(__file__).resolve().parent.parent)


def test_the_checks_on_this_machine_are_real_and_fast() -> None:
    doctor.run_checks()  # warm the imports, as the app and the CLI have them loaded
    started = time.perf_counter()
    checks = doctor.run_checks()
    elapsed = time.perf_counter() - started
    assert [c.id for c in checks] == IDS
    by_id = {c.id: c for c in checks}
    dockerd = find_program("dockerd")
    assert dockerd and by_id["dockerd"].ok and dockerd in by_id["dockerd"].detail
    free_gib = shutil.disk_usage("/").free / (1 << 30)
    assert "GiB free in" in by_id["disk"].detail
    assert by_id["disk"].ok == (free_gib >= 10)
    assert by_id["os"].ok and by_id["arch"].ok
    virt = by_id["virtualization"]
    assert "TCG" in virt.detail  # the VM's own accelerator order always ends in TCG
    assert ("KVM" in virt.detail) == os.access("/dev/kvm", os.R_OK | os.W_OK)
    assert all(c.fix == "" for c in checks if c.ok)
    assert all(c.fix for c in checks if not c.ok), [c for c in checks if not c.ok]
    assert doctor.blocking_failures(checks) == []
    assert elapsed < 1.0, f"run_checks took {elapsed:.2f} s"


def test_a_forced_accelerator_is_reported_as_the_users_choice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PORTSIDE_VM_ACCEL=tcg is a choice, not a host without virtualization: no kvm advice."""
    monkeypatch.setenv("PORTSIDE_VM_ACCEL", "tcg")
    virt = doctor.check_virtualization()
    assert virt.ok and virt.fix == ""
    assert "PORTSIDE_VM_ACCEL=tcg chooses TCG" in virt.detail and "unset it" in virt.detail
    assert ("this host also offers KVM" in virt.detail) == os.access("/dev/kvm", os.R_OK | os.W_OK)


def test_portside_doctor_prints_each_check_and_exits_0(tmp_path: Path) -> None:
    result = _doctor(_clean_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"ok    Docker engine (dockerd): found {find_program('dockerd')}" in result.stdout
    assert "Free disk space:" in result.stdout
    assert "Nothing blocks an engine on this machine." in result.stdout
    as_json = json.loads(_doctor(_clean_env(tmp_path), "--json").stdout)
    assert as_json["ok"] is True
    assert [c["id"] for c in as_json["checks"]] == IDS
    # a fresh DOCKER_CONFIG and no DOCKER_HOST: only a system docker's socket can be found
    expected = ["socket"] if os.path.exists("/var/run/docker.sock") else []
    assert [e["source"] for e in as_json["existing_engines"]] == expected


def test_without_dockerd_the_check_fails_with_the_install_hint() -> None:
    check = doctor.check_dockerd(path="/nonexistent", system_dirs=(), platform_name="linux")
    assert (check.ok, check.blocking) == (False, True)
    assert check.fix == INSTALL_HINT
    assert "sudo apt-get install docker.io" in check.fix


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"),
                    reason="hiding the system dockerd needs a private mount namespace (root)")
def test_portside_doctor_exits_1_when_no_dockerd_can_be_found(tmp_path: Path) -> None:
    path_dirs = [d for d in os.environ["PATH"].split(os.pathsep)
                 if d and not (Path(d) / "dockerd").exists()]
    hits = {os.path.realpath(p) for d in (*os.environ["PATH"].split(os.pathsep), *SYSTEM_DIRS)
            if d and os.path.exists(p := os.path.join(d, "dockerd"))}
    assert hits, "this machine has no dockerd to hide"
    masks = " && ".join(f"mount --bind /dev/null {h}" for h in sorted(hits))
    wrap = ["unshare", "-m", "sh", "-c", f'{masks} && exec "$@"', "sh"]
    env = _clean_env(tmp_path, PATH=os.pathsep.join(path_dirs))
    result = _doctor(env, wrap=wrap)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL  Docker engine (dockerd): no dockerd" in result.stdout
    assert "fix: Install a Docker engine: on Debian/Ubuntu `sudo apt-get install docker.io`" \
        in result.stdout
    assert "An engine cannot run here until this is fixed: Docker engine (dockerd)." \
        in result.stdout
    data = json.loads(_doctor(env, "--json", wrap=wrap).stdout)
    assert data["ok"] is False
    failed = [c for c in data["checks"] if not c["ok"]]
    assert [c["id"] for c in failed if c["blocking"]] == ["dockerd"]


def test_rootless_prerequisites_name_each_fix(tmp_path: Path) -> None:
    subuid = tmp_path / "subuid"
    subuid.write_text("alice:100000:65536\nbob:165536:1000\n")
    assert doctor.free_subid_start(str(tmp_path / "none")) == 100000
    ready = doctor.check_rootless(uid=1000, user="alice", env={}, subuid=str(subuid))
    if not os.access("/dev/net/tun", os.R_OK | os.W_OK):
        pytest.skip("/dev/net/tun is not usable here; covered by the failure case below")
    assert ready.ok, ready.fix
    short = doctor.check_rootless(uid=1001, user="bob", env={}, subuid=str(subuid),
                                  path="", system_dirs=())
    assert (short.ok, short.blocking) == (False, True)
    assert "`sudo usermod --add-subuids 166536-232071 --add-subgids 166536-232071 bob`" \
        in short.fix  # after every range already given out
    assert "rootlesskit: `sudo apt-get install rootlesskit`" in short.fix  # programs.py's line
    assert "slirp4netns: `sudo apt-get install slirp4netns`" in short.fix
    assert doctor.check_rootless(uid=0).ok


def test_a_low_disk_warns_and_an_almost_full_one_blocks(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    free = shutil.disk_usage(tmp_path).free
    monkeypatch.setattr(doctor, "DISK_LOW_BYTES", free + (1 << 30))
    low = doctor.check_disk(tmp_path / "not" / "yet")
    assert (low.ok, low.blocking) == (False, False) and "PORTSIDE_HOME" in low.fix
    monkeypatch.setattr(doctor, "DISK_BLOCKING_BYTES", free + (1 << 30))
    assert doctor.check_disk(tmp_path).blocking


def test_a_check_that_raises_is_a_failed_check(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(root: Path | None = None) -> doctor.Check:
        raise PermissionError("no access")

    monkeypatch.setattr(doctor, "check_disk", broken)
    disk = {c.id: c for c in doctor.run_checks()}["disk"]
    assert not disk.ok and "PermissionError('no access')" in disk.detail and disk.fix
    assert disk.blocking  # unchecked is not a pass: a full disk would block


@pytest.mark.engine
def test_existing_engines_and_an_answering_docker_host(engine_endpoint: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from engine import docker_contexts

    folder = tmp_path / "docker"
    docker_contexts.write_context("mine", engine_endpoint, "", folder)
    docker_contexts.write_context("gone", "unix:///nonexistent/docker.sock", "", folder)
    docker_contexts.write_context("far", "ssh://me@example.invalid", "", folder)
    docker_contexts.write_context("portside", engine_endpoint, "", folder)  # Portside's own
    (folder / "config.json").write_text('{"currentContext": "mine"}')
    monkeypatch.setenv("DOCKER_CONFIG", str(folder))
    env = {"DOCKER_HOST": engine_endpoint}
    found = {e.name: e for e in doctor.existing_engines(env)}
    assert found["DOCKER_HOST"].reachable is True and not found["DOCKER_HOST"].current
    assert (found["mine"].reachable, found["mine"].current) == (True, True)
    assert found["gone"].reachable is False and "does not answer" in found["gone"].detail
    assert found["far"].reachable is None
    assert "portside" not in found
    # with DOCKER_HOST answering, a missing dockerd no longer blocks: Portside attaches to it
    checks = doctor._attachable([doctor.check_dockerd(path="", system_dirs=())],
                                list(found.values()), env)
    assert not checks[0].ok and not checks[0].blocking and "DOCKER_HOST answers" in \
        checks[0].detail


def test_a_corrupt_config_json_is_reported_not_raised(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config.json").write_text("{not json")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    engines = doctor.existing_engines({})
    assert any("config.json is not valid" in e.detail for e in engines)
    existing = {c.id: c for c in doctor.run_checks()}["existing-engines"]
    assert "config.json is not valid" in existing.detail


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("runuser"),
                    reason="runs portside doctor as the user nobody (needs root)")
def test_portside_doctor_as_a_user_without_rootless_prerequisites() -> None:
    nobody = pwd.getpwnam("nobody")
    if doctor.subid_range("/etc/subuid", "nobody", nobody.pw_uid):
        pytest.skip("nobody has subordinate ids on this machine")
    home = Path(tempfile.mkdtemp(prefix="pst-doctor-", dir="/tmp"))  # pytest's tmp is 0700
    os.chown(home, nobody.pw_uid, nobody.pw_gid)
    site = next(p for p in sys.path if p.endswith("site-packages") and ".venv" in p)
    python = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        ["runuser", "-u", "nobody", "--", "env", "-i", f"HOME={home}",
         f"PATH={os.environ['PATH']}", "PYTHONDONTWRITEBYTECODE=1",
         f"PYTHONPATH={root}{os.pathsep}{site}", python, "-m", "app", "doctor"],
        capture_output=True, text=True, timeout=60, cwd="/")
    shutil.rmtree(home, ignore_errors=True)
    assert "the check failed" not in result.stdout, result.stdout
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL  Rootless engine prerequisites:" in result.stdout
    start = doctor.free_subid_start("/etc/subuid")
    ids = f"{start}-{start + 65535}"
    flat = " ".join(result.stdout.split())
    assert f"`sudo usermod --add-subuids {ids} --add-subgids {ids} nobody`" in flat
    if not os.access("/dev/net/tun", os.R_OK | os.W_OK, effective_ids=False) or \
            os.stat("/dev/net/tun").st_mode & 0o006 != 0o006:
        assert "`sudo chmod 0666 /dev/net/tun`" in flat
    assert "An engine cannot run here until this is fixed: Rootless engine prerequisites." \
        in result.stdout


def test_a_missing_vm_image_names_the_build_command(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTSIDE_VM_IMAGE_DIR", str(tmp_path / "images"))
    check = doctor.check_qemu("linux")
    if check.detail.startswith("qemu-system") and "was not found" in check.detail:
        pytest.skip("no QEMU here: covered by the install hint")
    assert (check.ok, check.blocking) == (False, False)  # on Linux the VM is optional
    assert "bash packaging/vm/build.sh --arch" in check.fix
    lacking = [t for t in doctor.VM_BUILD_TOOLS if not find_program(t)]
    assert ("sudo apt-get install mmdebstrap" in check.fix) == bool(lacking)
    assert doctor.check_qemu("darwin").blocking  # where the VM is the engine, it blocks


def test_doctor_and_context_commands_load_no_qt(tmp_path: Path) -> None:
    code = (
        "import contextlib, io, sys\n"
        "from app.__main__ import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['doctor', '--json']); main(['context', 'status'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, env=_clean_env(tmp_path),
                            cwd=Path(__file__).resolve().parent.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
