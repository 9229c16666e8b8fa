"""The diagnostics bundle: redaction throughput and ``portside diagnostics`` end to end.

1. ``redact_text`` over a dockerd-style debug log (logfmt lines with socket paths and ids, one
   line in 200 carrying a secret in a header, URL or key=value), in MB/s.
2. ``portside diagnostics --out`` as a user runs it (a fresh Python each time) against a private
   running engine (own ``PORTSIDE_HOME``, started and stopped by this script) whose engine log is
   filled to the bundle's 2 MiB cut, wall time per run; the zip is checked for the planted secret.

No peer is compared: Docker Desktop's ``com.docker.diagnose gather`` is not available on Linux
without Docker Desktop. Run::

    .venv/bin/python benchmarks/diagnostics.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "BenchPLANTEDsecret9"


def dockerd_log(size: int) -> str:
    """About ``size`` bytes of dockerd-like debug output with a few secrets in it."""
    lines = []
    i = 0
    total = 0
    while total < size:
        if i % 200 == 0:
            line = (f'time="2026-11-29T22:40:16.{i:09d}Z" level=debug msg="Calling POST '
                    f'/v1.41/images/create" headers=map[Authorization:[Bearer {SECRET}]]')
        elif i % 200 == 100:
            line = (f'time="2026-11-29T22:40:16.{i:09d}Z" level=error msg="pull '
                    f'https://u:{SECRET}@registry.example/v2/ failed" password={SECRET}')
        else:
            line = (f'time="2026-11-29T22:40:16.{i:09d}Z" level=info msg="[core] Subchannel '
                    'picks a new address \\"unix:///tmp/pst-abc/run/exec/containerd/containerd.'
                    f'sock\\" to connect" module=grpc id={os.urandom(16).hex()}')
        lines.append(line)
        total += len(line) + 1
        i += 1
    return "\n".join(lines) + "\n"


def bench_redaction(runs: int) -> None:
    from engine.diagnostics.redact import redact_text

    text = dockerd_log(4 * 1024 * 1024)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        out = redact_text(text)
        times.append(time.perf_counter() - started)
    assert SECRET not in out
    mb = len(text) / 1e6
    best, median = min(times), statistics.median(times)
    print(f"redaction: {mb:.1f} MB in {median:.2f} s median ({mb / median:.1f} MB/s; best "
          f"{mb / best:.1f} MB/s) over {runs} runs")


def bench_cli(runs: int) -> None:
    home = Path(tempfile.mkdtemp(prefix="pstbd-", dir="/tmp"))
    env = dict(os.environ, PORTSIDE_HOME=str(home), PORTSIDE_CONFIG_DIR=str(home / "config"),
               DOCKER_CONFIG=str(home / "docker"), PORTSIDE_LOG_DIR=str(home / "logs"))
    env.pop("DOCKER_HOST", None)
    portside = [sys.executable, "-m", "app"]
    started = subprocess.run([*portside, "engine", "start"], env=env, capture_output=True,
                             text=True, cwd=ROOT, timeout=120)
    if started.returncode != 0:
        print(f"could not start a private engine: {started.stderr}")
        return
    try:
        with open(home / "engine.log", "a") as log:
            log.write(dockerd_log(2 * 1024 * 1024))
        times = []
        for n in range(runs):
            out = home / f"bundle-{n}.zip"
            began = time.perf_counter()
            done = subprocess.run([*portside, "diagnostics", "--out", str(out)], env=env,
                                  capture_output=True, text=True, cwd=ROOT, timeout=120)
            times.append(time.perf_counter() - began)
            assert done.returncode == 0, done.stderr
            with zipfile.ZipFile(out) as zf:
                assert all(SECRET.encode() not in zf.read(name) for name in zf.namelist())
        size = (home / "bundle-0.zip").stat().st_size
        print(f"portside diagnostics (2 MiB engine log, engine running): "
              f"{statistics.median(times):.2f} s median, {min(times):.2f}-{max(times):.2f} s "
              f"over {runs} runs; zip {size / 1024:.0f} KiB")
    finally:
        subprocess.run([*portside, "engine", "stop"], env=env, capture_output=True, cwd=ROOT,
                       timeout=120)
        shutil.rmtree(home, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    bench_redaction(args.runs)
    bench_cli(args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
