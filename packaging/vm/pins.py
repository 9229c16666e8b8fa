"""The VM image's package pins: packaging/vm/pins/<debian arch>.txt, one ``name version`` a line.

    python3 pins.py offered PINS     (mmdebstrap extract hook) the archive's candidates = the pins?
    python3 pins.py installed PINS LIST   the built root file system (+ kernel) = the pins?
    python3 pins.py kernel PINS      the pinned kernel package's name (hooks/fetch-kernel.sh)
    python3 pins.py write PINS LIST  write the pins from a build (build.sh --update-pins)

Data flow: build.sh passes the pins file of the arch it builds. Right after mmdebstrap's apt
update (extract hook, ~10 s into a build) ``offered`` asks apt (through mmdebstrap's own apt
config, ``MMDEBSTRAP_APT_CONFIG``) which version of each pinned package the archive would install;
any difference stops the build with the list and the way to update. After the build
``installed`` compares the exact package set (a new dependency shows up here). LIST is
``name<TAB>version`` lines (dpkg-query of the root file system plus the kernel package).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

UPDATE_HINT = (
    "The Debian archive moved on since the pins were written. To build from what it offers now,"
    " update the pins (a new recipe: commit the pins file with a message saying why):\n"
    "    sudo bash packaging/vm/build.sh --arch {arch} --update-pins"
)
HEADER = (
    "# Exact Debian package versions of the VM image ({arch}), checked by build.sh.\n"
    "# Written by: bash packaging/vm/build.sh --arch {arch} --update-pins (docs/vm.md)\n"
)


def arch_of(pins: Path) -> str:
    return {"amd64": "x86_64", "arm64": "arm64"}.get(pins.stem, pins.stem)


def read_pins(pins: Path) -> dict[str, str]:
    if not pins.is_file():
        sys.exit(
            f"build.sh: no package pins in {pins}; write them from what the archive offers with:\n"
            f"    sudo bash packaging/vm/build.sh --arch {arch_of(pins)} --update-pins"
        )
    found: dict[str, str] = {}
    for number, line in enumerate(pins.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2:
            sys.exit(f"build.sh: {pins}:{number}: expected 'name version', got {line!r}")
        found[parts[0]] = parts[1]
    return found


def read_list(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    return dict(line.split("\t", 1) for line in lines if line.strip())


def candidates(names: list[str]) -> dict[str, str]:
    """What apt would install for each name now (absent: the archive does not offer it)."""
    env = dict(os.environ)
    if os.environ.get("MMDEBSTRAP_APT_CONFIG"):
        env["APT_CONFIG"] = os.environ["MMDEBSTRAP_APT_CONFIG"]
    out = subprocess.run(
        ["apt-cache", "policy", *names], capture_output=True, text=True, env=env, check=True
    ).stdout
    found: dict[str, str] = {}
    policy = re.compile(r"^(\S+?)(?::\w+)?:\n\s+Installed:.*\n\s+Candidate: (\S+)", re.M)
    for name, version in policy.findall(out):
        if version != "(none)":
            found[name] = version
    return found


def differences(pins: dict[str, str], actual: dict[str, str], what: str) -> list[str]:
    lines = []
    for name in sorted(set(pins) | set(actual)):
        want, got = pins.get(name), actual.get(name)
        if want == got:
            continue
        if got is None:
            lines.append(f"  {name}: pinned {want}, {what} none")
        elif want is None:
            lines.append(f"  {name}: not pinned, {what} {got}")
        else:
            lines.append(f"  {name}: pinned {want}, {what} {got}")
    return lines


def refuse(pins: Path, lines: list[str], what: str) -> None:
    sys.exit(
        f"build.sh: refusing to build: {len(lines)} package(s) {what} differ from {pins}:\n"
        + "\n".join(lines[:40])
        + ("\n  ..." if len(lines) > 40 else "")
        + "\n"
        + UPDATE_HINT.format(arch=arch_of(pins))
    )


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[0] not in {"offered", "installed", "kernel", "write"}:
        sys.exit(__doc__)
    command, pins = argv[0], Path(argv[1])
    if command == "write":
        listed = read_list(Path(argv[2]))
        body = "".join(f"{name} {listed[name]}\n" for name in sorted(listed))
        tmp = pins.with_suffix(".tmp")
        tmp.write_text(HEADER.format(arch=arch_of(pins)) + body)
        tmp.replace(pins)
        print(f"build.sh: wrote {len(listed)} package pins to {pins}")
        return
    pinned = read_pins(pins)
    if command == "kernel":
        kernels = [name for name in pinned if name.startswith("linux-image-")]
        if len(kernels) != 1:
            sys.exit(f"build.sh: {pins} must pin exactly one linux-image-* package, not {kernels}")
        print(kernels[0])
    elif command == "offered":
        lines = differences(pinned, candidates(sorted(pinned)), "the archive offers")
        # a package the archive offers beyond the pins is caught after the install
        lines = [line for line in lines if "not pinned" not in line]
        if lines:
            refuse(pins, lines, "offered by the archive")
        print(f"build.sh: the archive offers all {len(pinned)} pinned package versions")
    else:
        lines = differences(pinned, read_list(Path(argv[2])), "installed")
        if lines:
            refuse(pins, lines, "installed")
        print(f"build.sh: the image holds exactly the {len(pinned)} pinned package versions")


if __name__ == "__main__":
    main(sys.argv[1:])
