"""An image that is in the tests' password-protected registry but not in the engine.

Data flow: :func:`publish_remote_image` writes a build context (``FROM`` the test image plus a
layer of random bytes, so a pull really downloads something), builds it in the session's engine
under a fresh tag of the registry, pushes it there with the registry's login, and removes it
from the engine again. The caller pulls (or runs) it and removes whatever it pulled; when it
signed in on the way, :func:`assert_signed_in` checks the sign-in dialog is gone and the login
is in the keyring.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import shiboken6

from app.dialogs.build_context import make_context_tar
from engine.registry import AuthConfig
from tests.gui.conftest import run_async, wait_for


def publish_remote_image(
    qtbot: Any, client: Any, registry: Any, base: str, folder: Path, repo: str, size: int
) -> tuple[str, AuthConfig]:
    """Push a new ``<registry>/<repo>/busybox:<random>`` with a ``size``-byte layer of its own.

    ``folder`` (made here) holds the build context. Returns the reference and the login.
    """
    auth = AuthConfig(
        username=registry.username, password=registry.password, serveraddress=registry.host
    )
    ref = f"{registry.host}/{repo}/busybox:{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    (folder / "Dockerfile").write_text(f"FROM {base}\nCOPY blob /blob\n")
    (folder / "blob").write_bytes(os.urandom(size))

    async def publish() -> None:
        async for _ in client.images.build(make_context_tar(folder), tag=ref):
            pass
        async for _ in client.images.push(ref, auth=auth):
            pass
        await client.images.remove(ref)

    run_async(qtbot, publish(), timeout=60)
    return ref, auth


def assert_signed_in(qtbot: Any, signin: Any, store: Any, registry: Any) -> None:
    """The closed sign-in dialog is deleted (no hidden window stays behind), the login stored."""
    wait_for(qtbot, lambda: not shiboken6.isValid(signin))
    login = store.get(registry.host)
    assert login is not None and login.secret == registry.password
