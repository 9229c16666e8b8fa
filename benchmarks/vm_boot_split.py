"""Where the VM image's boot goes under QEMU: firmware, kernel, initramfs, init, engine.

Boots the built image (``packaging/vm/build.sh``) with the tests' minimal QEMU command line
(``tests/vm/guest.py``: direct kernel boot, TCG) on a fresh root overlay and data disk: a first
boot (which formats the data disk), the power button, a second boot. Prints one line per boot
with the split from ``ready_split`` (host clock for QEMU start -> readiness lines, the guest's
uptime for the phases). Run as root from the repository:

    .venv/bin/python benchmarks/vm_boot_split.py [--arch x86_64|arm64] [--dockerd-args ARGS]
        [--rounds N] [--cpus N] [--image-dir DIR --image-dir DIR ...]

``--image-dir`` (repeatable) names folders laid out like ``PORTSIDE_VM_IMAGE_DIR`` (holding
``<IMAGE_VERSION>/<arch>/``): each round boots every image in turn, so a before/after pair is
measured side by side under the same load of the machine. Default: the built image.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.vm.image import IMAGE_DIR_ENV, VMImage, build_hint, find_image
from tests.vm.guest import booted, ready_split, workdir


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="x86_64", choices=("x86_64", "arm64"))
    parser.add_argument("--dockerd-args", default="")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--image-dir", action="append", default=[])
    args = parser.parse_args()
    images: dict[str, VMImage] = {}
    for folder in args.image_dir or [os.environ.get(IMAGE_DIR_ENV, "")]:
        if folder:
            os.environ[IMAGE_DIR_ENV] = folder
        image = find_image(args.arch)
        if image is None:
            print(f"no {args.arch} image in {folder or 'the cache'}: {build_hint(args.arch)}",
                  file=sys.stderr)  # fmt: skip
            return 1
        images[folder or "built"] = image
    for _ in range(args.rounds):
        for name, image in images.items():
            work = workdir("pvb-")
            try:
                for boot in ("first", "second"):
                    with booted(
                        image, work, dockerd_args=args.dockerd_args, cpus=args.cpus
                    ) as guest:
                        guest.wait_line("ready", "failed", timeout=600)
                        split = ready_split(guest)
                        if boot == "first":
                            split["powerdown_s"] = round(guest.powerdown(timeout=120), 2)
                    head = {"image": name, "arch": args.arch, "cpus": args.cpus, "boot": boot}
                    extra = {"dockerd_args": args.dockerd_args}
                    print(json.dumps({**head, **extra, **split}), flush=True)
            finally:
                shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
