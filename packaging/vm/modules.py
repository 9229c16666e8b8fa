"""Pick the kernel modules of the VM image from an unpacked Debian kernel package (build time).

Reads ``modules.txt`` (beside this file) and the kernel's ``modules.dep`` / ``modules.alias``, and
writes three lists into OUT_DIR that build.sh uses:

- ``initrd.order``: module files (relative to /lib/modules/<kver>/) for the initramfs, each after
  its dependencies, so /init can ``insmod`` them in that order without modprobe;
- ``early.names`` / ``net.names`` / ``boot.names``: module names /sbin/portside-init loads with
  one ``modprobe -a`` each: before dockerd starts / right after, for the network and shares / in
  the background (only the ones this kernel has: e.g. ``button`` is x86, ``gpio_pl061`` is arm);
- ``ship.files``: every module file the root file system keeps (boot + ship + their dependencies).

Usage: python3 modules.py MODULES_TXT KERNEL_MODULE_DIR OUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path


def read_dep(moddir: Path) -> dict[str, list[str]]:
    deps: dict[str, list[str]] = {}
    for line in (moddir / "modules.dep").read_text().splitlines():
        name, _, rest = line.partition(":")
        deps[name] = rest.split()
    return deps


def by_name(deps: dict[str, list[str]]) -> dict[str, str]:
    names: dict[str, str] = {}
    for path in deps:
        stem = Path(path).name.removesuffix(".ko").replace("-", "_")
        names[stem] = path
    return names


def closure(paths: list[str], deps: dict[str, list[str]]) -> list[str]:
    """``paths`` with their dependencies, each dependency before its user."""
    done: list[str] = []
    seen: set[str] = set()

    def visit(path: str) -> None:
        if path in seen:
            return
        seen.add(path)
        # modules.dep lists the full dependency set, deepest last: load in reverse
        for dep in reversed(deps[path]):
            visit(dep)
        done.append(path)

    for path in paths:
        visit(path)
    return done


def main(argv: list[str]) -> int:
    spec, moddir, out = Path(argv[1]), Path(argv[2]), Path(argv[3])
    deps = read_dep(moddir)
    names = by_name(deps)
    initrd: list[str] = []
    early: list[str] = []
    net: list[str] = []
    boot: list[str] = []
    ship: list[str] = []
    for raw in spec.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        kind, item = line.split()
        if kind in ("initrd", "early", "net", "boot"):
            path = names.get(item.replace("-", "_"))
            if path is None:
                print(f"modules: {item} is built in or absent in this kernel; skipped")
                continue
            {"initrd": initrd, "early": early, "net": net, "boot": boot}[kind].append(path)
        elif kind == "ship":
            prefix = f"kernel/{item}"
            found = [p for p in deps if p == prefix or p.startswith(prefix.rstrip("/") + "/")]
            if not found:
                print(f"modules: nothing under {prefix} in this kernel; skipped")
            ship.extend(sorted(found))
        else:
            raise SystemExit(f"modules.txt: unknown kind {kind!r} in line {raw!r}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "initrd.order").write_text("".join(f"{p}\n" for p in closure(initrd, deps)))
    for name, paths in (("early", early), ("net", net), ("boot", boot)):
        names = [Path(p).name.removesuffix(".ko") for p in paths]
        (out / f"{name}.names").write_text("".join(f"{n}\n" for n in names))
    shipped = sorted(set(closure(initrd + early + net + boot + ship, deps)))
    (out / "ship.files").write_text("".join(f"{p}\n" for p in shipped))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
