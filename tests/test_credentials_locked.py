"""A really locked keyring: the helper and the app refuse plainly and store nothing.

Locking the session's keyring would break every other keyring test, so this runs in a nested
``dbus-run-session`` with its own throw-away gnome-keyring (``scripts/with-keyring.sh``). The
inner script stores a login, locks the default collection through the Secret Service ``Lock``
call (secretstorage's ``Collection.lock``), then drives ``docker-credential-portside`` and the
app's ``CredentialStore`` and reports what happened as JSON; the assertions are here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from engine.credentials.secretservice import LOCKED_HINT

pytestmark = pytest.mark.keyring

ROOT = Path(__file__).resolve().parents[1]
CONSOLE_SCRIPT = str(Path(sys.executable).parent / "docker-credential-portside")

INNER = r"""
import json, os, subprocess, sys
import secretstorage
from engine.credentials.install import install_helper
from engine.credentials.secretservice import SCHEMA
from engine.credentials.store import CredentialStore
from engine.errors import KeyringUnavailable

console, work = sys.argv[1], sys.argv[2]
launcher = install_helper(os.path.join(work, "bin"), path_env=os.path.join(work, "bin")).path
out = {}

def helper(program, verb, stdin):
    p = subprocess.run([program, verb], input=stdin, capture_output=True, text=True, timeout=30)
    return {"rc": p.returncode, "stdout": p.stdout, "stderr": p.stderr}

def items(conn, server):
    return len(list(secretstorage.search_items(conn, {"xdg:schema": SCHEMA, "server": server})))

stored = json.dumps({"ServerURL": "locked.test:5000", "Username": "kim", "Secret": "pw-before"})
out["store_unlocked"] = helper(launcher, "store", stored)
conn = secretstorage.dbus_init()
collection = secretstorage.get_default_collection(conn)
collection.lock()
out["is_locked"] = collection.is_locked()
index_path = os.path.join(os.environ["PORTSIDE_CONFIG_DIR"], "credentials.json")
out["list_good_index"] = helper(launcher, "list", "")
os.rename(index_path, index_path + ".saved")
out["list_no_index"] = helper(launcher, "list", "")
out["no_index_after"] = os.path.exists(index_path)
with open(index_path, "w") as fh:
    fh.write("{corrupt")
out["list_corrupt_index"] = helper(launcher, "list", "")
out["corrupt_after"] = open(index_path).read()
os.replace(index_path + ".saved", index_path)
new = json.dumps({"ServerURL": "new.test:5000", "Username": "lee", "Secret": "pw-new"})
replace = json.dumps({"ServerURL": "locked.test:5000", "Username": "kim", "Secret": "pw-after"})
for name, program in (("console", console), ("launcher", launcher)):
    out[name] = {
        "get": helper(program, "get", "locked.test:5000"),
        "store_new": helper(program, "store", new),
        "store_replace": helper(program, "store", replace),
        "erase": helper(program, "erase", "locked.test:5000"),
    }
try:
    CredentialStore().put("new.test:5000", "lee", "pw-new")
    out["app_put"] = "stored"
except KeyringUnavailable as exc:
    out["app_put"] = "KeyringUnavailable: " + str(exc)
try:
    CredentialStore().get("locked.test:5000")
    out["app_get"] = "read"
except KeyringUnavailable as exc:
    out["app_get"] = "KeyringUnavailable: " + str(exc)
out["items_new"] = items(conn, "new.test:5000")
out["items_old"] = items(conn, "locked.test:5000")
out["index"] = open(os.path.join(os.environ["PORTSIDE_CONFIG_DIR"], "credentials.json")).read()
print("RESULT " + json.dumps(out))
"""


@pytest.fixture(scope="module")
def locked_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if shutil.which("dbus-run-session") is None:
        pytest.fail("dbus-run-session is missing: apt-get install dbus", pytrace=False)
    work = tmp_path_factory.mktemp("locked")
    env = {k: v for k, v in os.environ.items()
           if k not in ("DBUS_SESSION_BUS_ADDRESS", "GNOME_KEYRING_CONTROL")}
    env["PORTSIDE_CONFIG_DIR"] = str(work / "portside")
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        ["dbus-run-session", "--", "bash", str(ROOT / "scripts" / "with-keyring.sh"),
         sys.executable, "-c", INNER, CONSOLE_SCRIPT, str(work)],
        capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, (proc.stdout, proc.stderr[-3000:])
    result: dict[str, Any] = json.loads(lines[-1][len("RESULT "):])
    return result


def test_the_collection_really_is_locked(locked_run: dict[str, Any]) -> None:
    assert locked_run["store_unlocked"] == {"rc": 0, "stdout": "", "stderr": ""}
    assert locked_run["is_locked"] is True


@pytest.mark.parametrize("program", ["console", "launcher"])
@pytest.mark.parametrize("verb", ["get", "store_new", "store_replace", "erase"])
def test_helper_says_locked_plainly(locked_run: dict[str, Any], program: str,
                                    verb: str) -> None:
    result = locked_run[program][verb]
    assert result["rc"] == 1
    assert result["stdout"] == LOCKED_HINT + "\n"  # the plain sentence, nothing else
    assert result["stderr"] == ""  # no traceback
    assert "pw-" not in result["stdout"]


def test_nothing_is_stored_or_forgotten_while_locked(locked_run: dict[str, Any]) -> None:
    assert locked_run["items_new"] == 0  # no item for the new server, locked or not
    assert locked_run["items_old"] == 1  # the old login neither erased nor duplicated
    assert json.loads(locked_run["index"]) == {"locked.test:5000": "kim"}


def test_app_store_raises_keyring_unavailable(locked_run: dict[str, Any]) -> None:
    assert locked_run["app_put"] == f"KeyringUnavailable: {LOCKED_HINT}"
    assert locked_run["app_get"] == f"KeyringUnavailable: {LOCKED_HINT}"


def test_list_with_a_locked_keyring_never_overwrites_the_index(locked_run: dict[str, Any]) -> None:
    # A valid index is the best list there is while the keyring is locked.
    assert locked_run["list_good_index"]["rc"] == 0
    assert json.loads(locked_run["list_good_index"]["stdout"]) == {"locked.test:5000": "kim"}
    # No index, or a corrupt one: say the keyring is locked; never save "{}" for good.
    for case in ("list_no_index", "list_corrupt_index"):
        assert locked_run[case] == {"rc": 1, "stdout": LOCKED_HINT + "\n", "stderr": ""}, case
    assert locked_run["no_index_after"] is False
    assert locked_run["corrupt_after"] == "{corrupt"
