"""The engine log view (app/troubleshoot/logview.py): live, bounded, rotation-proof; and reset.

The log is a plain file written by the test the way ``RotatingLogWriter`` does (appends, then a
rotation to ``engine.log.1`` and a fresh file); the view must follow with no call from the test
(the file watcher fires), keep at most ``MAX_LINES`` lines, and never read more than
``MAX_READ`` bytes at once.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from app.settings import Settings
from app.troubleshoot.logview import MAX_LINES, MAX_READ, LogTail, save_log
from app.troubleshoot.reset import backup_path, reset_settings
from engine.lifecycle import logfile
from tests.gui.conftest import wait_for


def test_follows_appends_and_rotation(qtbot: Any, tmp_path: Path) -> None:
    log = tmp_path / "engine.log"
    log.write_text("".join(f"old line {i}\n" for i in range(800)))
    view = LogTail()
    qtbot.addWidget(view)
    view.show()
    view.set_path(log)
    text = view.toPlainText()
    assert text.startswith("old line 300") and text.endswith("old line 799")  # the last 500

    with open(log, "a") as out:
        out.write("new line A\npartial")
    wait_for(qtbot, lambda: "new line A" in view.toPlainText(), 5)
    assert "partial" not in view.toPlainText()  # half a line waits for its end
    with open(log, "a") as out:
        out.write(" end\n")
    wait_for(qtbot, lambda: view.toPlainText().endswith("partial end"), 5)

    logfile.rotate(log)  # engine.log -> engine.log.1, as the writer does at 10 MiB
    log.write_text("after rotation 1\n")
    wait_for(qtbot, lambda: view.toPlainText().endswith("after rotation 1"), 5)
    with open(log, "a") as out:
        out.write("after rotation 2\n")
    wait_for(qtbot, lambda: view.toPlainText().endswith("after rotation 2"), 5)


def test_a_flood_stays_bounded(qtbot: Any, tmp_path: Path) -> None:
    log = tmp_path / "engine.log"
    log.write_text("start\n")
    view = LogTail()
    qtbot.addWidget(view)
    view.set_path(log)
    line = "x" * 90 + "\n"
    count = (3 * MAX_READ) // len(line)
    with open(log, "a") as out:
        out.write(line * count + "last\n")
    started = time.monotonic()
    wait_for(qtbot, lambda: view.toPlainText().endswith("last"), 10)
    took = time.monotonic() - started
    assert view.blockCount() <= MAX_LINES
    assert "bytes not shown" in view.toPlainText()
    assert view.reads <= 3
    assert took < 5, f"{count} lines took {took:.2f} s to show"


def test_no_log_yet_then_one_appears(qtbot: Any, tmp_path: Path) -> None:
    log = tmp_path / "engine.log"
    view = LogTail()
    qtbot.addWidget(view)
    view.set_path(log)
    assert "no engine log yet" in view.toPlainText()
    log.write_text("first start\n")
    wait_for(qtbot, lambda: view.toPlainText() == "first start", 5)


def test_save_log_redacts(tmp_path: Path) -> None:
    log = tmp_path / "engine.log"
    (tmp_path / "engine.log.1").write_text("older password=hunter2\n")
    log.write_text("newer http://u:s3cr3t@proxy:3128\n")
    target = tmp_path / "out.log"
    size = save_log(log, target)
    assert target.read_text() == "older password=<redacted>\nnewer http://<redacted>@proxy:3128\n"
    assert size == target.stat().st_size
    assert oct(target.stat().st_mode & 0o777) == "0o600"


def test_reset_keeps_every_earlier_backup(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    path = tmp_path / "settings.json"
    settings = Settings(path=path)
    settings.first_run_done = True
    settings.extra["future_key"] = 1
    settings.save()
    first = reset_settings(settings)
    settings.theme = "dark"
    settings.save()
    second = reset_settings(settings)
    assert first.backup is not None and second.backup is not None
    assert first.backup != second.backup  # same second: a new name, the first copy kept
    assert json.loads(first.backup.read_text())["future_key"] == 1
    assert json.loads(second.backup.read_text())["theme"] == "dark"
    assert Settings.load(path).first_run_done is False
    assert backup_path(path, os.path.getmtime(path)).name.startswith("settings.before-reset-")


def test_reset_with_no_file(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    settings = Settings(path=tmp_path / "new" / "settings.json")
    result = reset_settings(settings)
    assert result.backup is None
    assert json.loads(settings.path.read_text())["first_run_done"] is False
