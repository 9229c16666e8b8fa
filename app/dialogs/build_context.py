"""Make a build context tar from a folder, honouring ``.dockerignore`` (pure file I/O, no Qt).

The ``.dockerignore`` rules are the docker CLI's basics: one pattern per line, ``#`` comments,
``*`` and ``?`` match within a path segment, ``**`` matches any number of segments, a leading ``/``
is ignored, ``!pattern`` re-includes, the last matching line wins, and a pattern that matches a
directory excludes everything under it. The Dockerfile and ``.dockerignore`` are always sent (the
engine needs them) even when listed, as the CLI does.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path


class BuildContextError(ValueError):
    """The folder can't be used as a build context; the message says why and what to do."""


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    exclusion: bool  # True for "!pattern" (re-include)
    text: str


def _translate(pattern: str) -> str:
    """Translate one cleaned dockerignore pattern to a regex over '/'-separated paths."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i):
                i += 2
                if pattern.startswith("/", i):  # "**/" : zero or more whole segments
                    i += 1
                    out.append("(?:.*/)?")
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            close = pattern.find("]", i + 1)
            if close < 0:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : close]
                if body.startswith("^") or body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = close
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def parse_dockerignore(text: str) -> list[_Pattern]:
    patterns: list[_Pattern] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
        line = posixpath.normpath(line.replace(os.sep, "/")).lstrip("/")
        if line in ("", "."):
            continue
        patterns.append(_Pattern(re.compile(f"^{_translate(line)}$"), exclusion, raw.strip()))
    return patterns


class IgnoreMatcher:
    """Decides which relative paths ``.dockerignore`` leaves out of the context."""

    def __init__(self, patterns: list[_Pattern]) -> None:
        self.patterns = patterns
        self.has_exclusions = any(p.exclusion for p in patterns)

    @classmethod
    def from_text(cls, text: str) -> IgnoreMatcher:
        return cls(parse_dockerignore(text))

    def ignored(self, rel_path: str) -> bool:
        """True if ``rel_path`` ('/'-separated, relative to the context root) is left out."""
        parts = rel_path.split("/")
        prefixes = ["/".join(parts[: k + 1]) for k in range(len(parts))]
        result = False
        for p in self.patterns:
            # A pattern matching the path or any parent directory applies (moby's parent match).
            if any(p.regex.match(prefix) for prefix in prefixes):
                result = not p.exclusion
        return result


def context_files(folder: Path, dockerfile: str = "Dockerfile") -> list[str]:
    """The '/'-separated relative paths that go into the context, sorted."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BuildContextError(
            f"{folder} is not a folder. Choose the folder with your Dockerfile."
        )
    dockerfile_rel = posixpath.normpath(dockerfile.replace(os.sep, "/"))
    if dockerfile_rel.startswith("../") or posixpath.isabs(dockerfile_rel):
        raise BuildContextError(
            f"The Dockerfile “{dockerfile}” must be inside the build folder {folder}."
        )
    if not (folder / dockerfile_rel).is_file():
        raise BuildContextError(
            f"There is no {dockerfile_rel} in {folder}. Choose a folder that contains one, or "
            "name the Dockerfile to use."
        )
    ignore_file = folder / ".dockerignore"
    try:
        ignore_text = ignore_file.read_text(encoding="utf-8") if ignore_file.is_file() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise BuildContextError(f"Cannot read {ignore_file}: {exc}") from exc
    matcher = IgnoreMatcher.from_text(ignore_text)
    always = {dockerfile_rel, ".dockerignore"}
    files: list[str] = []
    for root, dirs, names in os.walk(folder, onerror=None, followlinks=False):
        rel_root = Path(root).relative_to(folder).as_posix()
        rel_root = "" if rel_root == "." else rel_root
        kept_dirs = []
        for d in sorted(dirs):
            rel = f"{rel_root}/{d}" if rel_root else d
            # Without "!" lines nothing under an ignored directory can come back: skip the walk.
            if matcher.ignored(rel) and not matcher.has_exclusions:
                continue
            kept_dirs.append(d)
            if os.path.islink(os.path.join(root, d)):
                files.append(rel)
        dirs[:] = [d for d in kept_dirs if not os.path.islink(os.path.join(root, d))]
        if rel_root and not matcher.ignored(rel_root):
            files.append(rel_root)
        for name in sorted(names):
            rel = f"{rel_root}/{name}" if rel_root else name
            if rel in always or not matcher.ignored(rel):
                files.append(rel)
    return sorted(set(files))


def make_context_tar(folder: Path, dockerfile: str = "Dockerfile") -> bytes:
    """Tar the context (uncompressed, as the engine accepts) into memory."""
    folder = Path(folder)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel in context_files(folder, dockerfile):
            path = folder / rel
            try:
                info = tar.gettarinfo(str(path), arcname=rel)
            except OSError as exc:
                raise BuildContextError(f"Cannot read {path}: {exc}") from exc
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if info.isfile():
                try:
                    with open(path, "rb") as fh:
                        tar.addfile(info, fh)
                except OSError as exc:
                    raise BuildContextError(f"Cannot read {path}: {exc}") from exc
            elif info.isdir() or info.issym():
                tar.addfile(info)
    return buf.getvalue()
