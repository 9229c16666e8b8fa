"""The installable app: bundle and package sizes, start to a shown window, the helper's ``get``.

Three measurements, each side by side in one run:

1. sizes of the bundle folder, the ``.deb`` and the ``.tar.gz`` (``packaging/linux/build-deb.sh``
   builds them; this script never builds);
2. process start to a visible "Portside" window (found with ``xdotool`` on the X display), for
   the bundle's ``portside``, the README's ``bash scripts/run.sh`` (set-up checks included) and
   the venv's ``portside`` alone, alternating round by round, all attached with ``--host`` to one
   private engine so that engine start-up is not measured; ``--cold`` adds rounds that drop the
   page cache before every start (root; slows everything else on the machine for a moment);
3. ``get`` of the bundle's native ``docker-credential-portside`` against Go's
   ``docker-credential-secretservice``, same login in the same keyring, alternating call by call.

Run (starts its own D-Bus session, throw-away keyring and Xvfb)::

    bash packaging/linux/build-deb.sh
    .venv/bin/python benchmarks/package.py [--starts 5] [--runs 100] [--cold] [--write]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.support import write_doc_section

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Installable app (bundle, package)"
PEER = "docker-credential-secretservice"
SERVER = "bench-registry.test:5000"
SIZE_NOTE = (
    "Where the bundle's size goes (`du -sh build/bundle/portside/_internal/*`, this build): "
    "PySide6 (Qt) 96 MiB, numpy and its libraries 42 MiB (pyqtgraph's, for the Stats charts), "
    "the helper's own Python and standard library 33 MiB, cryptography 14 MiB (keyring's "
    "SecretStorage), GTK 3 8 MiB (Qt's platform theme plugin), libpython 7 MiB.\n"
)


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def mib(n: int) -> str:
    return f"{n / 2**20:.0f} MiB"


def window_up(timeout: float = 120.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^Portside$"],
                               capture_output=True, text=True, check=False)
        if found.stdout.strip():
            return True
        time.sleep(0.02)
    return False


def start_to_window(argv: list[str], env: dict[str, str], cold: bool) -> float:
    if cold:
        subprocess.run(["sync"], check=True)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        if not window_up():
            raise SystemExit(f"no Portside window from {argv[0]} in 120 s")
        return time.perf_counter() - t0
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
        while subprocess.run(["xdotool", "search", "--name", "^Portside$"], capture_output=True,
                             check=False).stdout.strip():
            time.sleep(0.05)


def helper_gets(helper: str, runs: int) -> dict[str, list[float]]:
    payload = json.dumps({"ServerURL": SERVER, "Username": "bench", "Secret": "s3cret"})
    contenders = {"bundle's docker-credential-portside (native launcher)": helper,
                  f"{PEER} (Go, libsecret)": PEER}
    for exe in contenders.values():
        subprocess.run([exe, "store"], input=payload.encode(), check=True, capture_output=True)
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    try:
        for exe in contenders.values():  # warm-up, and check each answers correctly
            out = subprocess.run([exe, "get"], input=SERVER.encode(), capture_output=True,
                                 check=True)
            assert json.loads(out.stdout)["Secret"] == "s3cret", out.stdout
        for _ in range(runs):
            for name, exe in contenders.items():
                t0 = time.perf_counter()
                subprocess.run([exe, "get"], input=SERVER.encode(), capture_output=True,
                               check=True)
                samples[name].append((time.perf_counter() - t0) * 1000)
    finally:
        for exe in contenders.values():
            subprocess.run([exe, "erase"], input=SERVER.encode(), capture_output=True,
                           check=False)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "build" / "bundle" / "portside")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--cold", action="store_true", help="drop the page cache before starts")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()

    if "PORTSIDE_BENCH_INNER" not in os.environ:  # D-Bus session, keyring, X display
        os.environ["PORTSIDE_BENCH_INNER"] = "1"
        return subprocess.run(["dbus-run-session", "--", "bash",
                               str(ROOT / "scripts" / "with-keyring.sh"), "xvfb-run", "-a",
                               "-s", "-screen 0 1280x800x24", sys.executable,
                               *sys.argv]).returncode
    app = args.bundle / "portside"
    if not app.is_file():
        print(f"no bundle at {args.bundle}: run `bash packaging/linux/build-deb.sh` first")
        return 1
    for tool in ("xdotool", PEER):
        if shutil.which(tool) is None:
            print(f"{tool} is missing (apt-get install xdotool golang-docker-credential-helpers)")
            return 1
    version = subprocess.run([str(app), "--version"], capture_output=True, text=True,
                             check=True).stdout.split()[-1]
    debs = sorted(args.dist.glob(f"portside_{version}_*.deb"))
    tars = sorted(args.dist.glob(f"portside-{version}-linux-*.tar.gz"))
    sizes = [("bundle folder (unpacked)", mib(du(args.bundle)))]
    sizes += [(f"`{p.name}`", mib(p.stat().st_size)) for p in [*debs, *tars]]

    work = Path(tempfile.mkdtemp(prefix="pstpk-", dir="/tmp"))
    venv_portside = str(ROOT / ".venv" / "bin" / "portside")
    env = dict(os.environ, PORTSIDE_HOME=str(work / "engine"),
               PORTSIDE_CONFIG_DIR=str(work / "config"), PORTSIDE_LOG_DIR=str(work / "logs"))
    (work / "config").mkdir()
    (work / "config" / "settings.json").write_text('{"version": 1, "first_run_done": true}')
    endpoint = subprocess.run([venv_portside, "engine", "start"], env=env, capture_output=True,
                              text=True, check=True).stdout.strip()
    contenders = {
        "bundle: `/opt/portside/portside` (as the .deb installs it)": [str(app)],
        "`bash scripts/run.sh` (the README's run command)": ["bash",
                                                             str(ROOT / "scripts" / "run.sh")],
        "`.venv/bin/portside` alone": [venv_portside],
    }
    caches = ["warm", "cold"] if args.cold else ["warm"]
    starts = {(name, c): [] for c in caches for name in contenders}  # type: ignore[var-annotated]
    try:
        for argv in contenders.values():  # warm-up (also proves each one starts)
            start_to_window([*argv, "--host", endpoint], env, cold=False)
        for _ in range(args.starts):
            for cache in caches:
                for name, argv in contenders.items():
                    starts[name, cache].append(
                        start_to_window([*argv, "--host", endpoint], env, cache == "cold"))
        gets = helper_gets(str(args.bundle / "docker-credential-portside"), args.runs)
    finally:
        subprocess.run([venv_portside, "engine", "stop"], env=env, capture_output=True,
                       check=False)
        shutil.rmtree(work, ignore_errors=True)

    run_sh = "`bash scripts/run.sh` (the README's run command)"
    peer = statistics.median(gets[f"{PEER} (Go, libsecret)"])
    lines = ["| what | size |", "|---|---|", *[f"| {a} | {b} |" for a, b in sizes], "",
             "| start to a shown window | page cache | median s | min-max s | vs run.sh |",
             "|---|---|---|---|---|"]
    for (name, cache), values in starts.items():
        med = statistics.median(values)
        base = statistics.median(starts[run_sh, cache])
        lines.append(f"| {name} | {cache} | {med:.2f} | {min(values):.2f}-{max(values):.2f} | "
                     f"{med / base:.2f}x |")
    lines += ["", "| helper `get` | median ms | p95 ms | vs Go |", "|---|---|---|---|"]
    for name, values in gets.items():
        values.sort()
        med = statistics.median(values)
        lines.append(f"| {name} | {med:.1f} | {values[int(len(values) * 0.95) - 1]:.1f} | "
                     f"{med / peer:.2f}x |")
    table = "\n".join(lines)
    print(table)
    if args.write:
        write_doc_section(SECTION, section_body(table, args))
    return 0


def section_body(table: str, args: argparse.Namespace) -> str:
    flags = f"--starts {args.starts} --runs {args.runs}{' --cold' if args.cold else ''}"
    return (
        "Built by `bash packaging/linux/build-deb.sh`; measured by "
        f"`.venv/bin/python benchmarks/package.py {flags} --write` (starts alternate round by "
        "round, attached with `--host` to one private engine, on Xvfb; `get` alternates call by "
        "call with the Go helper in the same keyring).\n\n"
        f"{table}\n\n"
        "Goal for the helper: no slower than the Go helper. The bundle's helper is a 40-line C "
        "launcher that execs the bundle's own `python3 -IS` on `engine.credentials.helper` "
        "(packaging/bundle/launcher.c); a PyInstaller-built helper measured 41-55 ms here "
        "(its bootloader's runtime hooks import inspect, zipfile, pkgutil and multiprocessing).\n\n"
        f"{SIZE_NOTE}"
    )


if __name__ == "__main__":
    sys.exit(main())
