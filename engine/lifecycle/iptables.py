"""The iptables rules of a rootful engine with ``"iptables"`` on, and the chains engines share.

Every dockerd on a host puts its rules into the same chains: ``DOCKER`` (nat and filter) and
``DOCKER-ISOLATION-STAGE-1/2`` (filter). Two things about dockerd 20.10 break several engines
on one host, and this module works around both:

* At start-up dockerd *flushes* (and, when unreferenced, deletes) those shared chains before it
  sets up its own, wiping the rules of every other engine, and two dockerds doing that at the same
  moment race ("unable to add return rule in DOCKER-ISOLATION-STAGE-2 chain: No chain/target/match
  by that name"). So a start runs inside :class:`SharedChains`: a host-wide lock (one iptables
  set-up at a time) held from before dockerd starts until it answers, a snapshot of the shared
  chains taken before, and every rule of that snapshot that is not this engine's and went missing
  put back after.
* At shutdown dockerd leaves the rules of its default bridge behind (FORWARD, MASQUERADE, the
  isolation rules) though Portside deletes that bridge. :func:`remove_rules_of` deletes every rule
  that names the engine's bridge or an address in its subnet, and nothing else.

Data flow: ``iptables-save`` text -> :func:`parse_save` -> :class:`Rule` list (pure, unit-tested)
-> ``iptables -w -t TABLE -D/-I/-A CHAIN ...`` one rule at a time. Chains are never flushed.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import logging
import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

#: (table, chain) pairs dockerd flushes at start-up although all engines share them.
SHARED_CHAINS: frozenset[tuple[str, str]] = frozenset(
    {
        ("nat", "DOCKER"),
        ("filter", "DOCKER"),
        ("filter", "DOCKER-ISOLATION-STAGE-1"),
        ("filter", "DOCKER-ISOLATION-STAGE-2"),
    }
)
#: Chains that end in a catch-all ``-j RETURN``: rules put back go above it.
_RETURN_ENDED = {"DOCKER-ISOLATION-STAGE-1", "DOCKER-ISOLATION-STAGE-2"}
#: The host-wide lock's folder (root only: only root engines touch iptables).
LOCK_DIRS = (Path("/run/portside"), Path("/tmp/portside-0"))
_SBIN = "/usr/sbin:/sbin:/usr/bin:/bin"

Network = ipaddress.IPv4Network


@dataclass(frozen=True)
class Rule:
    """One rule as ``iptables-save`` prints it: ``-A <chain> <spec...>`` in ``*<table>``."""

    table: str
    chain: str
    spec: tuple[str, ...]

    def interfaces(self) -> set[str]:
        """The interfaces the rule matches on (``-i``/``-o``, negated or not)."""
        return {
            value for flag, value in zip(self.spec, self.spec[1:], strict=False) if flag in _IFACE
        }

    def concerns(self, bridge: str, subnet: Network | None) -> bool:
        """Whether the rule names ``bridge``, or an address or network inside ``subnet``."""
        for flag, value in zip(self.spec, self.spec[1:], strict=False):
            if flag in _IFACE and value == bridge:
                return True
            if subnet is None:
                continue
            if flag in _ADDR or flag == "--to-destination":
                text = value.split(":", 1)[0] if flag == "--to-destination" else value
                with contextlib.suppress(ValueError):
                    if ipaddress.IPv4Network(text, strict=False).subnet_of(subnet):
                        return True
        return False


_IFACE = {"-i", "-o", "--in-interface", "--out-interface"}
_ADDR = {"-s", "-d", "--source", "--destination"}


def parse_save(text: str) -> list[Rule]:
    """The rules in an ``iptables-save`` text, in order."""
    rules, table = [], ""
    for line in text.splitlines():
        if line.startswith("*"):
            table = line[1:].strip()
        elif line.startswith("-A ") and table:
            try:
                words = shlex.split(line)
            except ValueError:
                continue
            if len(words) >= 2:
                rules.append(Rule(table, words[1], tuple(words[2:])))
    return rules


def _program(name: str) -> str | None:
    return shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), _SBIN]))


def available() -> bool:
    """Whether this process can read and change iptables (root with iptables installed)."""
    return os.geteuid() == 0 and bool(_program("iptables") and _program("iptables-save"))


def save() -> list[Rule]:
    """The host's current IPv4 rules (empty when iptables cannot be read)."""
    program = _program("iptables-save")
    if not program:
        return []
    result = subprocess.run([program], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        log.warning("iptables-save failed: %s", result.stderr.strip())
        return []
    return parse_save(result.stdout)


def _iptables(rule: Rule, action: str, *position: str) -> bool:
    program = _program("iptables")
    if not program:
        return False
    argv = [program, "-w", "5", "-t", rule.table, action, rule.chain, *position, *rule.spec]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        log.warning("`%s` failed: %s", shlex.join(argv[1:]), result.stderr.strip())
    return result.returncode == 0


def remove_rules_of(bridge: str, subnet: Network | None, *, lock_timeout: float = 30.0) -> int:
    """Delete every rule naming ``bridge`` or an address in ``subnet``; returns how many.

    Taken under the host lock, so an engine starting meanwhile cannot put them back from its
    snapshot; without the lock after ``lock_timeout`` s (the deletion itself is safe either way).
    """
    if not available():
        return 0
    with host_lock(lock_timeout, required=False):
        gone = 0
        for rule in save():
            if rule.concerns(bridge, subnet) and _iptables(rule, "-D"):
                gone += 1
        return gone


@contextlib.contextmanager
def host_lock(timeout: float, *, required: bool = True) -> Iterator[bool]:
    """Hold the host-wide iptables lock (one engine's iptables set-up at a time).

    Yields whether it is held; with ``required`` a timeout raises :class:`TimeoutError`.
    """
    fd = _open_lock()
    try:
        deadline = time.monotonic() + timeout
        held = False
        while fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = True
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
        if required and not held:
            raise TimeoutError(f"another engine kept the host's iptables lock for {timeout:.0f} s")
        yield held
    finally:
        if fd is not None:
            os.close(fd)


def _open_lock() -> int | None:
    for folder in LOCK_DIRS:
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            return os.open(folder / "iptables.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:
            continue
    return None


class SharedChains:
    """Keeps other engines' rules in the shared chains while one dockerd starts.

    ``begin()`` takes the host lock and snapshots the shared chains; ``restore()`` (once dockerd
    answers, its chains set up) puts back every rule of the snapshot that is not this engine's and
    is missing; ``end()`` releases the lock. Used only when the starting engine has iptables on.
    """

    def __init__(self, bridge: str, subnet: Network | None) -> None:
        self.bridge = bridge
        self.subnet = subnet
        self._lock: contextlib.ExitStack | None = None
        self._before: list[Rule] = []

    def begin(self, timeout: float) -> None:
        """Wait for the host lock (up to ``timeout`` s), then snapshot the shared chains."""
        stack = contextlib.ExitStack()
        stack.enter_context(host_lock(timeout))
        self._lock = stack
        self._before = [
            rule
            for rule in save()
            if (rule.table, rule.chain) in SHARED_CHAINS
            and not rule.concerns(self.bridge, self.subnet)
        ]

    def restore(self) -> int:
        """Put back the snapshot's rules dockerd's start-up removed; returns how many."""
        now = set(save())
        # the catch-all RETURN is dockerd's own to set up, and must stay last
        missing = [r for r in self._before if r not in now and r.spec != ("-j", "RETURN")]
        on_top = [r for r in missing if r.chain in _RETURN_ENDED or r.spec[-2:] == ("-j", "RETURN")]
        for rule in reversed(on_top):  # inserted one by one at the top: keep their order
            _iptables(rule, "-I", "1")
        for rule in missing:
            if rule not in on_top:
                _iptables(rule, "-A")
        if missing:
            log.info("put back %d rules of other engines that dockerd flushed", len(missing))
        return len(missing)

    def end(self) -> None:
        """Release the host lock (idempotent)."""
        stack, self._lock = self._lock, None
        if stack is not None:
            stack.close()
