"""``portside`` with no host: it starts Portside's own engine, and a signal quits it cleanly.

Ctrl+C, ``kill`` or a logout must not orphan dockerd or leave its mounts and bridge behind: the
app turns SIGINT/SIGTERM/SIGHUP into the normal quit path (without the "containers are running"
question) and stops its engine.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.lifecycle.paths import EnginePaths

pytestmark = [pytest.mark.gui, pytest.mark.engine]


def _ping(socket_path: Path) -> bool:
    """One ``GET /_ping`` over the unix socket, on a socket closed whatever happens."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        try:
            sock.connect(str(socket_path))
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: engine\r\n\r\n")
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
        except OSError:
            return False
    return answer.startswith(b"HTTP/1.") and b" 200 " in answer.split(b"\r\n", 1)[0]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_app_runs_its_own_engine_and_a_signal_stops_it_cleanly(
    tmp_path: Path, signum: signal.Signals
) -> None:
    home = Path(f"/tmp/pst-app-{os.getpid()}-{signum}")
    paths = EnginePaths.at(home)
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PORTSIDE_HOME=str(home))
    env["PYTHONPATH"] = str(root) + os.pathsep + env.get("PYTHONPATH", "")
    env["PORTSIDE_CONFIG_DIR"] = str(tmp_path / "config")
    env["PORTSIDE_LOG_DIR"] = str(tmp_path / "log")
    env.pop("DOCKER_HOST", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "app"],
        env=env,
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while not _ping(paths.socket):
            assert proc.poll() is None, proc.communicate()[0][-4000:]
            assert time.monotonic() < deadline, "Portside's own engine never answered /_ping"
            time.sleep(0.2)
        dockerd_pid = int(paths.pidfile.read_text().strip())
        bridge = json.loads(paths.daemon_json.read_text())["bridge"]
        assert _alive(dockerd_pid)

        proc.send_signal(signum)
        output, _ = proc.communicate(timeout=90)
        assert proc.returncode == 0, output[-4000:]
        assert f"signal {int(signum)}: quitting" in output
        assert "Traceback" not in output
        assert not _alive(dockerd_pid)
        assert not paths.socket.exists()
        mounts = Path("/proc/self/mountinfo").read_text()
        assert str(home) not in mounts
        links = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True).stdout
        assert bridge not in links
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        subprocess.run(
            [sys.executable, "-m", "app", "engine", "--home", str(home), "stop"],
            env=env,
            cwd=root,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(["rm", "-rf", str(home)], check=False)
