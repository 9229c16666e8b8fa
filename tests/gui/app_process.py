"""The real app in a subprocess: ``run_gui`` until the window is connected, then a clean quit.

Data flow: :func:`run_app` writes a driver script into the test's folder and runs it with this
Python (offscreen Qt, the repository on ``PYTHONPATH``, the app's log in the test's folder). The
driver calls :func:`app.gui.run_gui` with the given arguments and, on a Qt timer inside the
app's own qasync loop, waits until the main window's footer shows the engine's version ("Docker
…"). A test may give a ``step`` (the source of ``def step(w, report)``) that runs on every poll
while the window is there, before the footer is looked at, and may act on the window (press a
key) and note what it saw in ``report``; a poll in which it returns true does not finish. The
driver then evaluates the test's ``fields`` (Python expressions on the window ``w`` and
``started``, the driver's start on the monotonic clock), closes the window — without a tray that
quits the app — and prints each field and the exit code as ``name=value`` lines. A window that
never connects ends the driver after 60 s with exit code 3.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: The driver's ``step`` when the test gives none: it never acts.
NO_STEP = "def step(w, report):\n    return False\n"

DRIVER = textwrap.dedent(
    """
    import sys, time
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from app.gui import run_gui
    from app.main_window import MainWindow

    started = time.monotonic()
    report = {}

    def poll():
        wins = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        acted = bool(wins) and step(wins[0], report)
        if wins and not acted and "Docker" in wins[0].footer.state_label.text():
            w = wins[0]
            report["footer"] = w.footer.state_label.text()
            for name, expression in FIELDS.items():
                report[name] = eval(expression)
            w.close()
            return
        if time.monotonic() - started > 60:
            print("TIMEOUT", report, flush=True)
            sys.exit(3)
        QTimer.singleShot(50, poll)

    QTimer.singleShot(0, poll)
    code = run_gui(sys.argv[1:])
    for k, v in report.items():
        print(f"{k}={v}")
    print(f"exit={code}")
    """
)


def run_app(
    folder: Path,
    args: list[str],
    fields: dict[str, str],
    env: dict[str, str],
    unset: tuple[str, ...] = (),
    step: str = NO_STEP,
) -> dict[str, str]:
    """Run the app with ``args`` until connected; the window's ``footer`` and ``fields``.

    ``env`` is added to this process's environment and ``unset`` taken out of it; ``step``
    (module-level source defining ``step(w, report)``, with its own imports) runs on each poll
    before the footer is looked at. Fails unless the app quit with 0 and wrote no traceback.
    """
    script = folder / "drive.py"
    script.write_text(f"FIELDS = {fields!r}\n{step}\n{DRIVER}")
    child_env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONFAULTHANDLER="1")
    child_env["PYTHONPATH"] = str(ROOT) + os.pathsep + child_env.get("PYTHONPATH", "")
    child_env["PORTSIDE_LOG_DIR"] = str(folder / "log")
    child_env.update(env)
    for var in unset:
        child_env.pop(var, None)
    result = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=child_env,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-4000:]
    lines = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert lines["exit"] == "0"
    assert "Traceback" not in result.stderr, result.stderr[-4000:]
    return lines
