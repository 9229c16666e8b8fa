"""app/settings.py: versions and migrations, unknown keys, corrupt files moved aside with a notice.

Real files in a temporary folder; no Qt (the window's part of the notice is in
tests/gui/test_settings_window.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.settings import MIGRATIONS, SETTINGS_VERSION, Settings, SettingsFileError, migrate

# settings.json as Portside wrote it before versions existed (commit f1f7329): no "version"
TODAYS_FILE = {
    "close_to_tray": False,
    "engine": "auto",
    "last_view": "images",
    "theme": "dark",
    "window_geometry": "AdnQywADAAA=",
    "future_key": {"kept": [1, 2]},
}


def test_a_version_less_file_is_migrated_to_version_1_and_nothing_is_lost(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    raw = json.dumps(TODAYS_FILE, indent=2)
    path.write_text(raw)
    s = Settings.load(path)
    assert s.version == SETTINGS_VERSION == 1
    # the real change of 0 -> 1: someone who has a settings file used Portside already
    assert s.first_run_done is True
    assert (s.close_to_tray, s.last_view, s.theme) == (False, "images", "dark")
    assert s.window_geometry == "AdnQywADAAA="
    assert s.extra == {"future_key": {"kept": [1, 2]}}
    assert s.notices == []
    # the file as it was is kept next to it, byte for byte
    assert (tmp_path / "settings.v0.json").read_text() == raw
    s.save()
    written = json.loads(path.read_text())
    assert written["version"] == 1 and written["first_run_done"] is True
    assert written["future_key"] == {"kept": [1, 2]}
    # loading a version-1 file runs no migration: a new user keeps first_run_done false
    path.write_text(json.dumps({"version": 1, "theme": "light"}))
    again = Settings.load(path)
    assert again.first_run_done is False and again.theme == "light"


def test_a_brand_new_user_has_no_file_and_gets_the_first_run(tmp_path: Path) -> None:
    s = Settings.load(tmp_path / "none" / "settings.json")
    assert s.first_run_done is False and s.version == SETTINGS_VERSION and s.notices == []
    assert s.open_window_on_start is True and s.start_at_login is False


def test_migrations_form_a_chain_up_to_the_current_version() -> None:
    assert sorted(MIGRATIONS) == list(range(SETTINGS_VERSION))
    data, start = migrate({"theme": "dark"})
    assert start == 0 and data["version"] == SETTINGS_VERSION
    with pytest.raises(SettingsFileError, match="whole number"):
        migrate({"version": "two"})
    with pytest.raises(SettingsFileError, match="whole number"):
        migrate({"version": True})


def test_a_newer_file_is_read_as_is_and_keeps_its_version(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"version": 7, "theme": "dark", "new_thing": "x"}))
    s = Settings.load(path)
    assert s.version == 7 and s.theme == "dark" and s.extra == {"new_thing": "x"}
    s.save()
    assert json.loads(path.read_text())["version"] == 7
    assert not (tmp_path / "settings.v7.json").exists()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"theme": "dark",', "not valid JSON"),
        (b"[1, 2, 3]", "JSON list, not an object"),
        (b"\xff\xfe garbage", "not valid JSON"),
        (b'{"version": -3}', "whole number"),
    ],
)
def test_a_corrupt_file_is_moved_aside_with_a_notice_and_defaults_are_used(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "settings.json"
    other = tmp_path / "logins.json"  # the folder's other files are never touched
    other.write_text('{"a": 1}')
    path.write_bytes(content)
    s = Settings.load(path)
    assert s == Settings(path=path)  # every field at its default
    aside = tmp_path / "settings.json.corrupt"
    assert aside.read_bytes() == content and not path.exists()
    assert len(s.notices) == 1 and str(aside) in s.notices[0] and reason in s.notices[0]
    assert other.read_text() == '{"a": 1}'
    # a second corrupt file does not overwrite the first one moved aside
    path.write_bytes(b"{{{")
    s2 = Settings.load(path)
    assert aside.read_bytes() == content
    second = [p for p in tmp_path.glob("settings.json.corrupt-*")]
    assert len(second) == 1 and second[0].read_bytes() == b"{{{"
    assert str(second[0]) in s2.notices[0]
    # defaults are written back on the next save, and loading is quiet again
    s2.save()
    assert Settings.load(path).notices == []


def test_an_unreadable_file_is_left_alone_with_a_notice(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.mkdir()  # a folder where the file should be: reading fails with an OSError
    s = Settings.load(path)
    assert s.notices and "could not read" in s.notices[0] and path.is_dir()


def test_field_of_the_wrong_type_falls_back_to_its_default_only(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"version": 1, "close_to_tray": "no", "theme": "dark"}))
    s = Settings.load(path)
    assert s.close_to_tray is True and s.theme == "dark" and s.notices == []
