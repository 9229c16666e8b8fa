"""Fix the change and access times of every inode in an ext4 image (run by build.sh after mkfs).

    python3 ext4_times.py IMAGE EPOCH

Why: ``mkfs.ext4 -d`` (e2fsprogs 1.47.0) copies each source file's ctime and atime into its
inode. A ctime cannot be set from user space, so it is the build's wall-clock time, and atimes
move whenever the build reads a file: two builds of the same recipe then differ in every inode
table block (364 blocks for ~5,800 inodes). Data flow: ``dumpe2fs`` lists each group's free
inodes -> every inode in use (2 and 11 onward; 1 and 3-10 are mkfs's own, already at its fake
time) -> one ``debugfs -w -f`` command file sets ``ctime`` and ``atime`` to EPOCH
(SOURCE_DATE_EPOCH). debugfs rewrites the inode checksums itself.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile

FIRST_FILE_INODE = 11  # lost+found; 1 and 3-10 are reserved, 2 is the root folder


def used_inodes(image: str) -> list[int]:
    """Inode numbers in use, from dumpe2fs's per-group free inode ranges."""
    out = subprocess.run(["dumpe2fs", image], capture_output=True, text=True, check=True).stdout
    found = re.search(r"^Inodes per group:\s+(\d+)", out, re.M)
    if found is None:
        sys.exit(f"ext4_times: dumpe2fs shows no 'Inodes per group' for {image}")
    per_group = int(found.group(1))
    groups = re.findall(r"^Group (\d+):.*?^  Free inodes: ?(.*?)$", out, re.M | re.S)
    used: list[int] = []
    for number, free_text in groups:
        first = int(number) * per_group + 1
        free: set[int] = set()
        for part in filter(None, (p.strip() for p in free_text.split(","))):
            low, _, high = part.partition("-")
            free.update(range(int(low), int(high or low) + 1))
        used += [i for i in range(first, first + per_group) if i not in free]
    return [i for i in used if i == 2 or i >= FIRST_FILE_INODE]


def fix_times(image: str, epoch: int) -> int:
    inodes = used_inodes(image)
    with tempfile.NamedTemporaryFile("w", suffix=".debugfs", delete=False) as script:
        for ino in inodes:
            script.write(f"sif <{ino}> ctime @{epoch}\nsif <{ino}> atime @{epoch}\n")
    try:
        env = dict(os.environ, E2FSPROGS_FAKE_TIME=str(epoch))
        done = subprocess.run(
            ["debugfs", "-w", "-f", script.name, image], capture_output=True, text=True, env=env
        )
    finally:
        os.unlink(script.name)
    # debugfs echoes each command on stdout and reports failures on stderr
    errors = [line for line in done.stderr.splitlines() if not line.startswith("debugfs ")]
    if done.returncode != 0 or errors:
        sys.exit(f"ext4_times: debugfs failed on {image}:\n" + "\n".join(errors[:20]))
    return len(inodes)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: ext4_times.py IMAGE EPOCH")
    count = fix_times(sys.argv[1], int(sys.argv[2]))
    print(f"ext4_times: ctime and atime of {count} inodes set to @{sys.argv[2]}")
