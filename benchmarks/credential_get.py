"""``get`` latency: docker-credential-portside vs Debian's docker-credential-secretservice.

Both helpers read the same login from the same gnome-keyring, alternating call by call, so
machine noise hits both alike. Two Portside variants: the fast launcher that Portside puts on
PATH (``python -IS``), and the pip console script in ``.venv/bin`` (runs ``site``).

Run (starts its own D-Bus session and throw-away keyring when none is running)::

    .venv/bin/python benchmarks/credential_get.py [--runs 200] [--write]

``--write`` replaces the "Credential helper" section of docs/benchmarks.md with the results.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.support import write_doc_section

ROOT = Path(__file__).resolve().parents[1]
SERVER = "bench-registry.test:5000"
PEER = "docker-credential-secretservice"
SECTION = "## Credential helper"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()

    if "PORTSIDE_BENCH_INNER" not in os.environ:  # private D-Bus session + throw-away keyring
        os.environ["PORTSIDE_BENCH_INNER"] = "1"
        cmd = ["dbus-run-session", "--", "bash", str(ROOT / "scripts" / "with-keyring.sh"),
               sys.executable, *sys.argv]
        return subprocess.run(cmd).returncode

    if shutil.which(PEER) is None:
        print(f"{PEER} is missing: apt-get install golang-docker-credential-helpers")
        return 1
    from engine.credentials.install import install_helper

    work = Path(tempfile.mkdtemp(prefix="portside-bench-"))
    os.environ["PORTSIDE_CONFIG_DIR"] = str(work / "config")
    launcher = install_helper(work / "bin", path_env=str(work / "bin")).path
    console = str(Path(sys.executable).parent / "docker-credential-portside")
    payload = json.dumps({"ServerURL": SERVER, "Username": "bench", "Secret": "s3cret"})
    contenders = {
        "portside (launcher on PATH, python -IS)": [launcher, "get"],
        "portside (pip console script)": [console, "get"],
        f"{PEER} (Go, libsecret)": [PEER, "get"],
    }
    for argv in ([launcher, "store"], [PEER, "store"]):
        subprocess.run(argv, input=payload.encode(), check=True, capture_output=True)
    try:
        for argv in contenders.values():  # warm-up, and check each answers correctly
            out = subprocess.run(argv, input=SERVER.encode(), capture_output=True, check=True)
            assert json.loads(out.stdout)["Secret"] == "s3cret", out.stdout
        samples: dict[str, list[float]] = {name: [] for name in contenders}
        for _ in range(args.runs):
            for name, argv in contenders.items():
                start = time.perf_counter()
                subprocess.run(argv, input=SERVER.encode(), capture_output=True, check=True)
                samples[name].append((time.perf_counter() - start) * 1000)
    finally:
        for argv in ([launcher, "erase"], [PEER, "erase"]):
            subprocess.run(argv, input=SERVER.encode(), capture_output=True)
        shutil.rmtree(work, ignore_errors=True)

    peer = statistics.median(samples[f"{PEER} (Go, libsecret)"])
    rows = []
    for name, values in samples.items():
        values.sort()
        med = statistics.median(values)
        p95 = values[int(len(values) * 0.95) - 1]
        rows.append(f"| {name} | {statistics.mean(values):.1f} | {med:.1f} | {p95:.1f} | "
                    f"{med / peer:.2f}x |")
    table = "\n".join(["| helper `get` | mean ms | median ms | p95 ms | median vs Go |",
                       "|---|---|---|---|---|", *rows])
    print(table)
    if args.write:
        write_doc_section(SECTION, section_body(table, args.runs))
    return 0


def section_body(table: str, runs: int) -> str:
    return (
        "`docker-credential-portside get` against Debian's `docker-credential-secretservice get`, "
        "same login in the same gnome-keyring, alternating call by call "
        f"({runs} calls each, wall time of the whole process including fork/exec).\n\n"
        "Command: `.venv/bin/python benchmarks/credential_get.py --runs "
        f"{runs} --write`\n\n{table}\n\n"
        "Goal: within 2.5x of the Go helper. The launcher Portside installs on PATH runs "
        "`python -IS` and talks D-Bus itself (no jeepney/keyring imports); the pip console "
        "script pays for `site` and setuptools' editable-install finder.\n\n"
        "Where the console script's extra time goes (`echo h:1 | .venv/bin/python -X importtime "
        ".venv/bin/docker-credential-portside get`, 3 runs): `site` 24-29 ms, of which the "
        "editable-install finder (`__editable___portside_0_1_0_finder`: pathlib, importlib.util, "
        "re …) is 20-24 ms; everything the entry point `engine.credentials.helper:main` imports "
        "after that is 4.7 ms (only `engine.*` and C built-ins; "
        "`tests/test_credentials_core.py` keeps it so). That cost is paid before `main` runs, "
        "so the entry point cannot avoid it. Consequences: the docker CLI should find the "
        "launcher, not `.venv/bin/docker-credential-portside`. Portside judges PATH as the "
        "user's login shell sees it (not its own PATH, which `scripts/run.sh` prefixes with "
        "`.venv/bin`), and the Accounts view says so when PATH finds the console script before "
        "the launcher (e.g. a venv activated in `~/.profile`): put `~/.local/bin` first. An "
        "installation made with `pip install -e . --config-settings editable_mode=compat` or "
        "a regular (non-editable) install would not load the finder at all (not measured "
        "here).\n"
    )


if __name__ == "__main__":
    sys.exit(main())
