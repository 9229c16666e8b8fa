"""The set-up scripts: who may install Debian packages, and the README's lists of them.

``scripts/packages.sh`` (sourced by ``scripts/setup.sh``) runs here with fake ``dpkg-query``,
``id``, ``sudo`` and ``apt-get`` first on an otherwise bare PATH, so each case (root, password-less
sudo, neither, ``PORTSIDE_NO_APT=1``, a failing apt-get) runs the real script without touching the
machine. The fake ``sudo`` resets the environment as the real one does (``env_reset``). That a real
fresh machine installs them is ``scripts/fresh-machine.sh``'s job.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES_SH = REPO / "scripts" / "packages.sh"
SETUP_SH = REPO / "scripts" / "setup.sh"
README = REPO / "README.md"
BASH = shutil.which("bash") or "/bin/bash"

FAKES = {
    # dpkg-query -W -f='${Status}' PKG: installed when PKG is in $FAKE_INSTALLED
    "dpkg-query": """#!/bin/sh
for p; do :; done
case " $FAKE_INSTALLED " in *" $p "*) printf 'install ok installed' ;; *) exit 1 ;; esac
""",
    "id": '#!/bin/sh\necho "$FAKE_UID"\n',
    # the real sudo drops the caller's environment (env_reset): so does this one
    "sudo": """#!/bin/sh
[ "$FAKE_SUDO_OK" = 1 ] || exit 1
[ "$1" = -n ] && shift
exec env -i PATH="$PATH" FAKE_LOG="$FAKE_LOG" FAKE_APT_RC="$FAKE_APT_RC" VIA_SUDO=1 "$@"
""",
    "apt-get": """#!/bin/sh
echo "via_sudo=${VIA_SUDO:-0} frontend=${DEBIAN_FRONTEND:--} $*" >>"$FAKE_LOG"
exit "${FAKE_APT_RC:-0}"
""",
}
REAL_TOOLS = ("grep", "env", "cat", "sh", "true")


@pytest.fixture
def fake_bin(tmp_path: Path) -> Path:
    """A PATH folder with the fakes and just the real tools the script needs."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name, text in FAKES.items():
        (folder / name).write_text(text, encoding="utf-8")
        (folder / name).chmod(0o755)
    for name in REAL_TOOLS:
        real = shutil.which(name)
        assert real is not None, name
        (folder / name).symlink_to(real)
    return folder


def ensure(
    fake_bin: Path,
    tmp_path: Path,
    *packages: str,
    uid: int,
    installed: str = "",
    sudo_ok: bool = False,
    apt_rc: int = 0,
    no_apt: bool = False,
    drop: tuple[str, ...] = (),
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run ``ensure_debian_packages PACKAGES`` as setup.sh does; returns it and apt-get's calls."""
    for name in drop:
        (fake_bin / name).unlink()
    log = tmp_path / "apt.log"
    env = {
        "PATH": str(fake_bin),
        "FAKE_UID": str(uid),
        "FAKE_INSTALLED": installed,
        "FAKE_SUDO_OK": "1" if sudo_ok else "0",
        "FAKE_APT_RC": str(apt_rc),
        "FAKE_LOG": str(log),
    }
    if no_apt:
        env["PORTSIDE_NO_APT"] = "1"
    script = 'set -euo pipefail; source "$1"; shift; ensure_debian_packages "$@"; echo done'
    result = subprocess.run(
        [BASH, "-c", script, "bash", str(PACKAGES_SH), *packages],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    calls = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return result, calls


INSTALL = "install -y -q --no-install-recommends"


def test_root_installs_only_the_missing_packages(fake_bin: Path, tmp_path: Path) -> None:
    result, calls = ensure(fake_bin, tmp_path, "a", "b", "c", uid=0, installed="b")
    assert result.returncode == 0 and result.stdout == "done\n", result
    assert calls == [
        "via_sudo=0 frontend=- update -q",
        f"via_sudo=0 frontend=noninteractive {INSTALL} a c",
    ]
    assert "installing Debian packages: a c" in result.stderr


def test_a_user_with_password_less_sudo_installs_through_sudo(
    fake_bin: Path, tmp_path: Path
) -> None:
    result, calls = ensure(fake_bin, tmp_path, "a", "b", uid=1000, sudo_ok=True)
    assert result.returncode == 0 and result.stdout == "done\n", result
    # DEBIAN_FRONTEND survives sudo's env_reset
    assert calls == [
        "via_sudo=1 frontend=- update -q",
        f"via_sudo=1 frontend=noninteractive {INSTALL} a b",
    ]


@pytest.mark.parametrize(
    ("case", "kwargs"),
    [
        ("sudo asks for a password", {"uid": 1000, "sudo_ok": False}),
        ("no sudo at all", {"uid": 1000, "drop": ("sudo",)}),
        ("PORTSIDE_NO_APT=1 as root", {"uid": 0, "no_apt": True}),
        ("no apt-get", {"uid": 0, "drop": ("apt-get",)}),
    ],
)
def test_who_may_not_install_gets_the_exact_line_and_a_clean_stop(
    fake_bin: Path, tmp_path: Path, case: str, kwargs: dict[str, Any]
) -> None:
    result, calls = ensure(fake_bin, tmp_path, "a", "b", "c", installed="b", **kwargs)
    assert result.returncode == 1, (case, result)
    assert result.stdout == ""  # stopped: setup.sh goes no further
    assert calls == []
    lines = result.stderr.splitlines()
    assert "portside: these Debian packages are missing: a c" in lines
    assert "  sudo apt-get install --no-install-recommends a c" in lines


def test_a_failing_apt_get_says_so_and_stops(fake_bin: Path, tmp_path: Path) -> None:
    result, calls = ensure(fake_bin, tmp_path, "a", uid=0, apt_rc=100)
    assert result.returncode == 1 and result.stdout == "", result
    assert calls == ["via_sudo=0 frontend=- update -q"]
    assert "apt-get could not install a" in result.stderr
    assert "  sudo apt-get install --no-install-recommends a" in result.stderr.splitlines()


def test_nothing_missing_runs_no_apt_get(fake_bin: Path, tmp_path: Path) -> None:
    result, calls = ensure(fake_bin, tmp_path, "a", "b", uid=1000, installed="a b")
    assert (result.returncode, result.stdout, result.stderr, calls) == (0, "done\n", "", [])


def test_setup_sh_stops_where_packages_sh_says_so(fake_bin: Path, tmp_path: Path) -> None:
    # The whole of setup.sh: a user without sudo gets the line, and no venv is made.
    env = {
        "PATH": f"{fake_bin}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "FAKE_UID": "1000",
        "FAKE_INSTALLED": "",
        "FAKE_SUDO_OK": "0",
        "FAKE_LOG": str(tmp_path / "apt.log"),
        "PORTSIDE_PYTHON": str(tmp_path / "no-python-here"),
    }
    result = subprocess.run(
        [BASH, "-c", 'source "$1" test', "bash", str(SETUP_SH)],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert result.returncode == 1, result
    assert "  sudo apt-get install --no-install-recommends docker.io " in result.stderr
    assert not (tmp_path / "apt.log").exists()


# -- the README's lists ---------------------------------------------------------------------------


def setup_lists() -> dict[str, list[str]]:
    """``run_pkgs`` and ``test_pkgs`` as bash reads them from setup.sh."""
    text = SETUP_SH.read_text(encoding="utf-8")
    assignments = re.findall(r"^(?:run|test)_pkgs=\([^)]*\)", text, flags=re.MULTILINE)
    assert len(assignments) == 2, assignments
    script = "\n".join(assignments) + '\necho "${run_pkgs[*]}"\necho "${test_pkgs[*]}"\n'
    out = subprocess.run(
        [BASH, "-c", script], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return {"run": out[0].split(), "test": out[1].split()}


def readme_lists() -> dict[str, list[str]]:
    """The names in the README's "`scripts/run.sh`:" and "`scripts/test.sh` adds:" items."""
    found: dict[str, list[str]] = {}
    items = re.findall(r"^- (`scripts/(run|test)\.sh`[^:]*):(.*?)(?=^- |^$)", README.read_text(
        encoding="utf-8"), flags=re.MULTILINE | re.DOTALL)
    for _label, which, body in items:
        found[which] = re.findall(r"`([^`]+)`", body)
    return found


def test_readme_lists_exactly_what_setup_installs() -> None:
    ours, readme = setup_lists(), readme_lists()
    assert sorted(readme) == ["run", "test"], "README lost its package lists"
    for which in ("run", "test"):
        assert sorted(readme[which]) == sorted(ours[which]), (
            f"README's scripts/{which}.sh list differs from setup.sh's {which}_pkgs: "
            f"only in README {sorted(set(readme[which]) - set(ours[which]))}, "
            f"only in setup.sh {sorted(set(ours[which]) - set(readme[which]))}"
        )
        assert len(readme[which]) == len(set(readme[which]))
