"""Writes the diagnostics zip: collect (``collect.py``) -> redact (``redact.py``) -> zip.

Every member's bytes pass through :func:`engine.diagnostics.redact.redact_member` right before
they are written, in :func:`write_bundle` only — there is no other path into the zip. The zip is
written next to its destination under a temporary name (mode 0600) and moved into place once
complete, so a failed or interrupted build never leaves half a bundle under the chosen name. A
``README.txt`` member lists what the bundle holds.

Runs synchronously (file reads, the docker CLI, one short engine request): the GUI calls it on a
worker thread, ``portside diagnostics`` directly.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from engine import __version__
from engine.diagnostics.collect import Member, Progress, Sources, collect
from engine.diagnostics.redact import redact_member


@dataclass(frozen=True)
class BundleEntry:
    """What one member of a written bundle holds (after redaction)."""

    name: str
    size: int
    what: str


@dataclass(frozen=True)
class BundleReport:
    """A written bundle: where, what it holds, how long it took."""

    path: Path
    entries: tuple[BundleEntry, ...]
    seconds: float

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    def describe(self) -> str:
        """The lines ``portside diagnostics`` prints."""
        lines = [f"Wrote {self.path} ({self.size} bytes, {len(self.entries)} files, "
                 "secrets replaced by <redacted>):"]
        width = max(len(e.name) for e in self.entries)
        lines += [f"  {e.name:<{width}}  {e.size:>9}  {e.what}" for e in self.entries]
        return "\n".join(lines)


def _readme(entries: list[BundleEntry]) -> str:
    lines = [
        f"Portside {__version__} diagnostics, made {time.strftime('%Y-%m-%d %H:%M:%S %z')}.",
        "Passwords, tokens, registry logins, credentials in URLs and private keys are replaced",
        "by <redacted>. Files:",
        "",
    ]
    lines += [f"  {e.name}: {e.what}" for e in entries]
    return "\n".join(lines) + "\n"


def write_bundle(out: Path, members: list[Member]) -> list[BundleEntry]:
    """Zip ``members`` (each through the one redaction step) into ``out`` atomically."""
    out = Path(out).expanduser().absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}-", suffix=".part", dir=out.parent)
    entries: list[BundleEntry] = []
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as zf:
            for member in members:
                data = redact_member(member.name, member.data)
                zf.writestr(member.name, data)
                entries.append(BundleEntry(member.name, len(data), member.what))
            readme = redact_member("README.txt", _readme(entries))
            zf.writestr("README.txt", readme)
            entries.insert(0, BundleEntry("README.txt", len(readme), "what this bundle holds"))
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return entries


def build_bundle(out: Path, sources: Sources, progress: Progress | None = None) -> BundleReport:
    """Collect everything ``sources`` names and write the redacted zip to ``out``."""
    started = time.monotonic()
    members = collect(sources, progress)
    if progress is not None:
        progress("Writing the zip")
    entries = write_bundle(out, members)
    return BundleReport(Path(out).expanduser().absolute(), tuple(entries),
                        time.monotonic() - started)
