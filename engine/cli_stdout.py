"""A CLI command's stdout when its reader goes away (``portside engine status | head -1``).

Data flow: a ``portside …`` subcommand's ``main`` runs its command through :func:`run_command`,
which flushes stdout while a closed pipe (``BrokenPipeError``) can still be handled, and then
points stdout at ``/dev/null`` so the interpreter's own last flush at exit cannot fail again (which
would print a traceback and exit 120). Every other error goes on to the caller's handlers.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable


def run_command(command: Callable[[], int], *, reader_gone: int) -> int:
    """``command()``'s exit code, or ``reader_gone`` when stdout's reader went away meanwhile."""
    try:
        code = command()
        sys.stdout.flush()  # here, where a closed pipe can still be handled
        return code
    except BrokenPipeError:
        # the reader has what it wanted; the interpreter's last flush must not fail again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return reader_gone
