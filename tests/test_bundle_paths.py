"""What changes when Portside runs from its bundle (PyInstaller sets ``sys.frozen``).

The bundle itself is built and installed by ``packaging/linux/test-deb.sh``; these tests pin the
code paths that only a frozen ``portside`` takes, so a checkout's suite keeps them honest.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine import selfexec
from engine.credentials import install


@pytest.fixture
def frozen_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A bundle folder with a ``portside`` and an executable helper; sys looks frozen in it."""
    bundle = tmp_path / "opt" / "portside"
    bundle.mkdir(parents=True)
    (bundle / "portside").write_bytes(b"\x7fELF")
    helper = bundle / install.HELPER_NAME
    helper.write_text("#!/bin/sh\necho bundled\n")
    helper.chmod(0o755)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(bundle / "portside"))
    return bundle


def test_child_modules_start_through_the_program_itself_when_frozen(frozen_bundle: Path) -> None:
    argv = selfexec.module_command("engine.lifecycle.supervisor")
    assert argv == [str(frozen_bundle / "portside"), selfexec.RUN_MODULE_FLAG,
                    "engine.lifecycle.supervisor"]
    assert selfexec.app_command() == [str(frozen_bundle / "portside")]


def test_child_modules_start_with_dash_m_from_a_checkout() -> None:
    assert selfexec.module_command("engine.lifecycle.supervisor") == [
        sys.executable, "-m", "engine.lifecycle.supervisor"]


def test_the_run_module_flag_runs_the_supervisor_and_nothing_else() -> None:
    ok = subprocess.run([sys.executable, "-m", "app", selfexec.RUN_MODULE_FLAG,
                         "engine.lifecycle.supervisor", "--help"],
                        capture_output=True, text=True, timeout=60, check=False)
    assert ok.returncode == 0, ok.stderr
    assert "--start-timeout" in ok.stdout
    refused = subprocess.run([sys.executable, "-m", "app", selfexec.RUN_MODULE_FLAG, "os"],
                             capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode == 2
    assert "engine.lifecycle.supervisor" in refused.stderr


def test_a_bundle_links_its_native_helper_instead_of_writing_a_script(
    frozen_bundle: Path, tmp_path: Path
) -> None:
    bin_dir = tmp_path / "home" / ".local" / "bin"
    result = install.install_helper(bin_dir, path_env=str(bin_dir))
    target = bin_dir / install.HELPER_NAME
    assert target.is_symlink()
    assert os.path.realpath(target) == str((frozen_bundle / install.HELPER_NAME).resolve())
    assert result.on_path and result.hint == ""
    status = install.helper_status(str(bin_dir))
    assert status.ours and status.fast, status.message


def test_a_bundle_on_path_already_needs_no_link(frozen_bundle: Path, tmp_path: Path) -> None:
    usr_bin = tmp_path / "usr" / "bin"  # what the .deb puts on PATH: a symlink into /opt
    usr_bin.mkdir(parents=True)
    (usr_bin / install.HELPER_NAME).symlink_to(frozen_bundle / install.HELPER_NAME)
    home_bin = tmp_path / "home" / ".local" / "bin"
    result = install.install_helper(home_bin, path_env=str(usr_bin))
    assert result.path == str(usr_bin / install.HELPER_NAME) and result.on_path
    assert not (home_bin / install.HELPER_NAME).exists()


def test_a_bundle_never_replaces_someone_elses_helper(frozen_bundle: Path, tmp_path: Path) -> None:
    from engine.errors import CredentialsError

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / install.HELPER_NAME).write_text("#!/bin/sh\necho other\n")
    with pytest.raises(CredentialsError, match="not Portside's helper"):
        install.install_helper(bin_dir, path_env=str(tmp_path / "elsewhere"))
    assert (bin_dir / install.HELPER_NAME).read_text() == "#!/bin/sh\necho other\n"
