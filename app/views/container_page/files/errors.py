"""What the Files tab says when a listing or a transfer fails: the cause and what to do.

The engine's archive endpoints answer a read-only root file system, a read-only mount and a
path that is not a folder with HTTP 500 and a fixed message; a missing path with 404. Local
failures (a folder we may not write to, a full disk) are ``OSError``; an archive that wanted to
write outside the chosen folder is :class:`engine.archive.UnsafeArchive`.
"""

from __future__ import annotations

import errno

from app.runner import describe_error
from engine.archive import UnsafeArchive
from engine.errors import EngineAPIError, NotFound
from engine.tarpipe import PipeClosed


def explain(exc: BaseException, what: str) -> str:
    """One message for the tab: what failed (``what``, e.g. "Uploading x into /etc…"), why,
    and what to do."""
    doing = what.rstrip("…. ")
    if isinstance(exc, NotFound):
        return (
            f"{doing} failed: no such file or folder in the container. Check the path; if it "
            "was there a moment ago it was moved or deleted (Refresh, F5, shows what is there)."
        )
    if isinstance(exc, EngineAPIError):
        text = exc.explanation.lower()
        if "rootfs is marked read-only" in text:
            return (
                f"{doing} failed: this container's file system is read-only (it was created "
                "with --read-only). Upload into a writable volume or tmpfs mount instead, or "
                "recreate the container without --read-only."
            )
        if "volume is marked read-only" in text:
            return (
                f"{doing} failed: that folder is a read-only mount (:ro). Upload somewhere "
                "else, or mount it read-write."
            )
        if "not a directory" in text:
            return f"{doing} failed: the target is a file, not a folder. Choose a folder."
        if "permission denied" in text:
            return f"{doing} failed: permission denied inside the container ({exc.explanation})."
        return f"{doing} failed: {exc.explanation or describe_error(exc)}"
    if isinstance(exc, UnsafeArchive):
        return str(exc)
    if isinstance(exc, FileExistsError):
        return f"{doing} stopped: {exc}"
    if isinstance(exc, PermissionError) or (
        isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
    ):
        return (
            f"{doing} failed: permission denied on this computer ({exc}). "
            "Choose a folder you can write to."
        )
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return f"{doing} failed: this computer's disk is full ({exc})."
    if isinstance(exc, PipeClosed):
        return f"{doing} stopped: {exc}"
    return f"{doing} failed: {describe_error(exc)}"
