"""A ``portside`` subcommand whose stdout reader went away (``| head -1``) exits quietly.

``engine/cli_stdout.py`` is the one place that handles it; ``portside engine`` is checked in
``tests/test_engine_faults.py`` (exit 141), ``portside credentials`` here (exit 0), both run as
a user would: ``python -m app …`` writing into a pipe whose read end is already closed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _into_closed_pipe(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head -1` after its line: nobody reads any more
    try:
        return subprocess.run(
            argv, stdout=write_end, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
            timeout=60,
        )
    finally:
        os.close(write_end)


def test_credentials_status_into_a_closed_pipe(tmp_path: Path) -> None:
    (tmp_path / "docker").mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
    env.update(HOME=str(tmp_path), DOCKER_CONFIG=str(tmp_path / "docker"),
               PORTSIDE_CONFIG_DIR=str(tmp_path / "portside"), PYTHONPATH=str(ROOT))
    for extra in ([], ["--json"]):
        result = _into_closed_pipe(
            [sys.executable, "-m", "app", "credentials", "status", *extra], env
        )
        assert result.stderr == "", extra
        assert result.returncode == 0, extra


def test_run_command_returns_the_code_asked_for_and_quiets_the_last_flush() -> None:
    probe = (
        "import sys\n"
        "from engine.cli_stdout import run_command\n"
        "def command():\n"
        "    print('x' * 200000)\n"  # more than a pipe holds: the write itself fails
        "    return 5\n"
        "sys.exit(run_command(command, reader_gone=7))\n"
    )
    result = _into_closed_pipe([sys.executable, "-c", probe], dict(os.environ))
    assert result.stderr == ""
    assert result.returncode == 7
