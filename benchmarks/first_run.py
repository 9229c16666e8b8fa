"""First run, end to end: launch with no settings -> running engine -> first container's logs.

Usage (as root, like the tests; inside a keyring session is not needed)::

    .venv/bin/python benchmarks/first_run.py [--rounds 5] [--write]

Each round runs the real app (``app.gui.run_gui``, offscreen Qt) as a new process with an empty
config folder (a first launch) and an empty engine folder of its own (``PORTSIDE_HOME``, with a
``daemon.json`` that turns iptables off, as every test and benchmark engine here does). A driver
inside the app presses the keys a user would, with no think time, as soon as each page is ready:
Enter on welcome, checks, engine (Portside's own) and CLI; Enter on "Start engine", Enter once
it runs; Alt+S on sign-in; Enter on "Run and show logs". The clock starts before the process is
spawned and stops when the Containers view's Logs tab shows the first container's greeting;
the split says when the window and the wizard were up and when the engine ran. The first image
is the offline sample (``PORTSIDE_FIRST_IMAGE`` points at a registry that does not exist), so no
network is measured. ``--write`` replaces the "First run" section of docs/benchmarks.md.
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
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.support import report_section  # noqa: E402

SECTION = "First run"
UNREACHABLE_IMAGE = "127.0.0.1:9/portside-bench/hello:latest"
GREETING = "Hello from Portside!"

#: Runs inside the app: drives the wizard with key presses and prints a JSON line of times.
DRIVER = textwrap.dedent(
    """
    import json, sys, time
    import shiboken6
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QWizard
    from app.gui import run_gui
    from app.main_window import MainWindow

    GREETING = %(greeting)r
    t = {}
    pressed = set()
    first = []

    def key(w, k, mod=Qt.KeyboardModifier.NoModifier):
        target = QApplication.focusWidget()
        if target is None or target.window() is not w:
            target = w
        QTest.keyClick(target, k, mod)

    def poll():
        now = time.time()
        wins = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        win = wins[0] if wins else None
        if win is not None and win.isVisible():
            t.setdefault("window", now)
        wiz = getattr(win, "first_run_wizard", None) if win else None
        if wiz is not None and not shiboken6.isValid(wiz):
            wiz = None  # the guide closed (it deletes itself)
        if wiz is not None and wiz.isVisible():
            t.setdefault("wizard", now)
            page = wiz.page_key()
            if page in ("welcome", "checks", "engine", "cli") and page not in pressed:
                pressed.add(page)
                key(wiz, Qt.Key.Key_Return)
            elif page == "start":
                start = wiz.pages["start"]
                if start.ready():
                    t.setdefault("engine", now)
                    key(wiz, Qt.Key.Key_Return)
                elif "start" not in pressed:
                    pressed.add("start")
                    key(wiz, Qt.Key.Key_Return)
            elif page == "signin" and "signin" not in pressed:
                pressed.add("signin")
                key(wiz, Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)
            elif page == "first" and "first" not in pressed:
                pressed.add("first")
                first.append(wiz.pages["first"])
                key(wiz, Qt.Key.Key_Return)
        if win is not None and "first" in pressed:
            logs = win.views["containers"].details.logs
            if GREETING in logs.toPlainText():
                t["logs"] = now
                t["image"] = first[0].image
                print("TIMES " + json.dumps(t), flush=True)
                win.quit_requested.emit()
                return
        if now - START > 120:
            print("TIMEOUT " + json.dumps(t), flush=True)
            win.quit_requested.emit() if win else sys.exit(3)
            return
        QTimer.singleShot(10, poll)

    START = float(sys.argv[1])
    QTimer.singleShot(0, poll)
    code = run_gui(sys.argv[2:])
    print(f"EXIT {code}", flush=True)
    """
)


def environment(work: Path) -> dict[str, str]:
    """A first launch: empty config and engine folders, iptables off, the offline sample."""
    home = work / "engine"
    home.mkdir(parents=True)
    (home / "daemon.json").write_text(json.dumps({"iptables": False}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env.update(
        QT_QPA_PLATFORM=env.get("QT_QPA_PLATFORM", "offscreen"),
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
        PORTSIDE_CONFIG_DIR=str(work / "config"),
        PORTSIDE_LOG_DIR=str(work / "log"),
        PORTSIDE_HOME=str(home),
        PORTSIDE_FIRST_IMAGE=UNREACHABLE_IMAGE,
        DOCKER_CONFIG=str(work / "docker"),
    )
    env.pop("PORTSIDE_FIRST_RUN", None)  # the test suite's "never" must not leak in here
    return env


def one_round(python: str = sys.executable) -> dict[str, float | str]:
    """One first launch; returns seconds from spawn to each milestone, and the image used."""
    work = Path(tempfile.mkdtemp(prefix="pstfr-", dir="/tmp"))
    try:
        script = work / "drive.py"
        script.write_text(DRIVER % {"greeting": GREETING})
        env = environment(work)
        t0 = time.time()
        result = subprocess.run([python, str(script), repr(t0)], capture_output=True, text=True,
                                timeout=180, env=env, cwd=ROOT)
        line = next((x for x in result.stdout.splitlines() if x.startswith("TIMES ")), "")
        if not line or "EXIT 0" not in result.stdout:
            raise RuntimeError(f"the first run did not reach the logs:\n{result.stdout}\n"
                               f"{result.stderr[-3000:]}")
        times = json.loads(line.removeprefix("TIMES "))
        out: dict[str, float | str] = {
            k: round(float(v) - t0, 3) for k, v in times.items() if k != "image"}
        out["image"] = str(times.get("image", ""))
        settings = json.loads((work / "config" / "settings.json").read_text())
        if settings.get("first_run_done") is not True:
            raise RuntimeError(f"first_run_done was not saved: {settings}")
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(rounds: list[dict[str, float | str]]) -> str:
    def med(key: str) -> float:
        return statistics.median(float(r[key]) for r in rounds)

    def spread(key: str) -> str:
        values = sorted(float(r[key]) for r in rounds)
        return f"{values[0]:.2f}-{values[-1]:.2f}"

    lines = [
        "`.venv/bin/python benchmarks/first_run.py --rounds "
        f"{len(rounds)}` (as root; {time.strftime('%Y-%m-%d')}, this 2-core machine, shared):",
        "the real app launched with no settings (offscreen Qt), its own empty engine folder, the",
        "wizard driven by key presses with no think time, the first container from the offline",
        f"sample image ({rounds[0]['image']}). Seconds from spawning the process, median and",
        f"range of {len(rounds)} launches:",
        "",
        "| milestone | median | range |",
        "|---|---|---|",
        f"| window and wizard shown | {med('wizard'):.2f} s | {spread('wizard')} s |",
        f"| engine running, app connected | {med('engine'):.2f} s | {spread('engine')} s |",
        f"| first container's logs on screen | **{med('logs'):.2f} s** | {spread('logs')} s |",
        "",
        f"Goal: under 5 s on the native engine: {'met' if med('logs') < 5 else 'NOT met'} at the "
        f"median, {sum(float(r['logs']) < 5 for r in rounds)} of {len(rounds)} launches under 5 s "
        f"(1-minute load average {os.getloadavg()[0]:.1f} at the end, 2 cores shared by other",
        "work). About half is the process start, imports and the first paint before the window;",
        "then dockerd's own start and the app connecting (events stream, version); then loading",
        "the 1.9 MiB sample image, creating and starting the container, and the log stream.",
        "",
        "What helped: the engine starts when the user presses Next on the engine page (not only",
        "on the start page's own button), so it is up or nearly so when that page shows, and the",
        "first container runs with no network (no veth pair for a container that only prints).",
        "A single launch before both changes took 8.25 s (at a load average of 11.8; not a",
        "like-for-like comparison).",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    rounds = []
    for i in range(args.rounds):
        r = one_round()
        print(f"round {i + 1}: " + ", ".join(f"{k} {v}" for k, v in r.items()), flush=True)
        rounds.append(r)
    report_section(SECTION, report(rounds), args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
