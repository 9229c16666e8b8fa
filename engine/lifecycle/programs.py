"""Finding the programs an engine needs: dockerd (Portside's bundle folder first, then ``PATH``,
then the system folders) and, for a rootless engine, RootlessKit and its helpers; and why
RootlessKit's network cannot come up for this user. Pure look-ups, nothing is started here.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import platformdirs

from engine.lifecycle.paths import APP_NAME, BUNDLE_ENV

#: Always searched after ``PATH``: dockerd lives in sbin, which a user's PATH often lacks.
SYSTEM_DIRS: tuple[str, ...] = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")
#: Where distributions put dockerd-rootless.sh when not on PATH (Debian's docker.io).
ROOTLESS_SCRIPT_DIRS: tuple[str, ...] = (
    "/usr/share/docker.io/contrib",
    "/usr/share/docker/contrib",
)
#: RootlessKit's slirp4netns/vpnkit networking opens this (as the user) to make its tap device.
TUN_DEVICE = "/dev/net/tun"

INSTALL_HINT = (
    "Install a Docker engine: on Debian/Ubuntu `sudo apt-get install docker.io`, on Fedora "
    "`sudo dnf install moby-engine`; or put a dockerd into a folder and point "
    f"{BUNDLE_ENV} at it; or use an engine that already runs by setting DOCKER_HOST."
)


def bundle_dirs() -> list[Path]:
    """Portside's own binary folders, searched before ``PATH``, in order.

    ``$PORTSIDE_BUNDLE_DIR``, then ``<user data>/portside/bundle/bin``, then
    ``<sys.prefix>/share/portside/bin`` (where a packaged Portside ships its engine).
    """
    dirs = []
    if os.environ.get(BUNDLE_ENV):
        dirs.append(Path(os.environ[BUNDLE_ENV]))
    dirs.append(Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "bundle" / "bin")
    dirs.append(Path(sys.prefix) / "share" / APP_NAME / "bin")
    return dirs


def find_program(
    name: str,
    *,
    path: str | None = None,
    system_dirs: Sequence[str] = SYSTEM_DIRS,
    extra_dirs: Sequence[str] = (),
) -> str | None:
    """Full path of ``name``: bundle folders, then ``PATH``, then the system dirs, then extras."""
    for folder in bundle_dirs():
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    path = os.environ.get("PATH", "") if path is None else path
    search = [p for p in path.split(os.pathsep) if p]
    search += [d for d in (*system_dirs, *extra_dirs) if d not in search]
    return shutil.which(name, path=os.pathsep.join(search)) if search else None


def rootless_requirements(
    *, path: str | None = None, system_dirs: Sequence[str] = SYSTEM_DIRS
) -> tuple[dict[str, str], list[str]]:
    """What rootless dockerd needs: (found name -> path, list of "what to install" lines)."""
    found: dict[str, str] = {}
    missing: list[str] = []
    wanted = {
        "dockerd": "dockerd: `sudo apt-get install docker.io` (Fedora: moby-engine)",
        "dockerd-rootless.sh": (
            "dockerd-rootless.sh: ships with Debian/Ubuntu's docker.io package under "
            "/usr/share/docker.io/contrib, or with docker-ce-rootless-extras from Docker's "
            "repository"
        ),
        "rootlesskit": "rootlesskit: `sudo apt-get install rootlesskit`",
        "newuidmap": "newuidmap/newgidmap: `sudo apt-get install uidmap` (and subuid/subgid "
        "ranges for your user in /etc/subuid and /etc/subgid)",
    }
    for name, hint in wanted.items():
        where = find_program(
            name, path=path, system_dirs=system_dirs, extra_dirs=ROOTLESS_SCRIPT_DIRS
        )
        if where:
            found[name] = where
        else:
            missing.append(hint)
    net = find_program("slirp4netns", path=path, system_dirs=system_dirs) or find_program(
        "vpnkit", path=path, system_dirs=system_dirs
    )
    if net:
        found["network"] = net
    else:
        missing.append("slirp4netns: `sudo apt-get install slirp4netns`")
    return found, missing


def rootless_network_problem(env: Mapping[str, str], tun: str = TUN_DEVICE) -> str | None:
    """Why RootlessKit's network cannot come up for this user, or None when it can.

    slirp4netns and vpnkit both need a tap device, made through ``/dev/net/tun``; udev gives it
    mode 0666, but hosts without udev (containers, minimal VMs) often leave it root-only, and
    RootlessKit then fails with a bare "open: Permission denied".
    """
    if env.get("DOCKERD_ROOTLESS_ROOTLESSKIT_NET", "") in ("host", "none"):
        return None
    if os.access(tun, os.R_OK | os.W_OK):
        return None
    try:
        info = os.stat(tun)
    except OSError as exc:
        state = f"is missing ({exc.strerror})"
        fix = "load the tun module: `sudo modprobe tun`"
    else:
        owner = pwd.getpwuid(info.st_uid).pw_name if _has_uid(info.st_uid) else str(info.st_uid)
        state = f"is {stat.filemode(info.st_mode)} {owner}, so you cannot open it"
        fix = (
            f"`sudo chmod 0666 {tun}` (the mode udev gives it on Debian and Fedora; without udev "
            "make it stick, e.g. in the host's start-up script)"
        )
    return (
        f"Rootless dockerd's network (RootlessKit with slirp4netns) needs {tun}, which {state}.\n"
        f"Fix: {fix}; or use an engine that already runs by setting DOCKER_HOST."
    )


def _has_uid(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True


def rootlesskit_errors(log_text: str) -> list[str]:
    """RootlessKit's own error lines in a log (its parent and child processes tag them)."""
    return [
        line.strip()
        for line in log_text.splitlines()
        if line.lstrip().startswith("[rootlesskit:") and "error" in line
    ]
