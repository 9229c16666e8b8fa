"""A share's 9P server on QEMU's pipe chardev: one thread per share, one request at a time.

What runs where::

    VMEngine ─► make_fifos(P) (POSIX) ─► spawn QEMU with share_args(tag, P | windows name)
      ─► ShareServer(P, folder).start() right away (a Windows QEMU waits in its start-up for a
         client on each pipe chardev; the thread opens the pipe, retrying until QEMU has it)
    thread: pipes.Pipe.read ─► buffer ─► a whole T-message (size[4] first)
              ─► server.FileServer.handle ─► pipes.Pipe.write(R-message) ─► next
    stop() ─► Pipe.interrupt (the waiting read raises PipeClosed) ─► join ─► files closed

The guest's v9fs client may send several requests before reading answers; they queue in the
pipe and are answered in order, which it accepts (Tflush has nothing to cancel). The thread ends
when QEMU exits (end of file), when the guest sends a message over ``msize`` (the session is
out of step: nothing sane can follow), or at :meth:`ShareServer.stop`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from engine.vm import pipes
from engine.vm.ninep import proto
from engine.vm.ninep.server import FileServer

log = logging.getLogger(__name__)

#: The virtio-serial port's name prefix in the guest (image contract: portside-init looks for it).
PORT_PREFIX = "org.portside.9p."
#: How long a blocked write waits before it checks whether the server is stopping.
_WAKE = 5.0


def chardev_id(tag: str) -> str:
    return f"share-{tag}"


def share_args(tag: str, target: Path | str) -> list[str]:
    """QEMU's arguments for one share's port on a pipe chardev (``-device virtio-serial-pci``
    must be on the command line once)."""
    path = str(target).replace(",", ",,")
    return [
        "-chardev", f"pipe,id={chardev_id(tag)},path={path}",
        "-device", f"virtserialport,chardev={chardev_id(tag)},name={PORT_PREFIX}{tag}",
    ]  # fmt: skip


class ShareServer:
    """Serves ``folder`` over the pipe chardev ``target`` (FIFOs' path, or a Windows pipe name).

    Args:
        target: what :func:`share_args` was given.
        folder: the host folder served.
        open_timeout: how long the thread waits for QEMU to open its end.
        alive: False once QEMU has exited (then the thread stops waiting for the pipe).
    """

    def __init__(
        self,
        target: Path | str,
        folder: str,
        *,
        open_timeout: float = 60.0,
        alive: Callable[[], bool] | None = None,
    ) -> None:
        self.target = target
        self.server = FileServer(folder)
        self.open_timeout = open_timeout
        self._alive = alive or (lambda: True)
        self._pipe: pipes.Pipe | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        #: why the thread ended ('' while it runs or after a clean end)
        self.problem = ""
        self.requests = 0
        self.connected = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"9p-{Path(str(self.target)).name}", daemon=True
        )
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        """End the thread (a waiting read is interrupted) and close the pipe and the files."""
        self._stop.set()
        with self._lock:
            if self._pipe is not None:
                self._pipe.interrupt()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the 9P server of %s did not end within %.0f s", self.target, timeout)

    # -- the thread -----------------------------------------------------------------------------

    def _open(self) -> pipes.Pipe | None:
        deadline = time.monotonic() + self.open_timeout
        what = "QEMU's share pipe"
        while not self._stop.is_set():
            pipe = pipes.open_pipe(self.target, what)
            if pipe is not None:
                return pipe
            if not self._alive():
                raise pipes.PipeError(f"QEMU exited before it opened {what} {self.target}.")
            if time.monotonic() >= deadline:
                raise pipes.PipeError(
                    f"QEMU did not open {what} {self.target} within {self.open_timeout:.0f} s."
                )
            self._stop.wait(0.02)
        return None

    def _run(self) -> None:
        try:
            pipe = self._open()
            if pipe is None:
                return
            with self._lock:
                self._pipe = pipe
                if self._stop.is_set():
                    pipe.interrupt()
            self.connected.set()
            self._serve(pipe)
        except pipes.PipeClosed:
            pass
        except (pipes.PipeError, OSError, proto.ProtocolError) as exc:
            self.problem = str(exc)
            log.warning("9P share server %s ended: %s", self.target, exc)
        finally:
            with self._lock:
                pipe, self._pipe = self._pipe, None
            if pipe is not None:
                pipe.close()
            self.server.close()

    def _read(self, pipe: pipes.Pipe) -> bytes:
        while True:
            try:
                return pipe.read(time.monotonic() + 3600)
            except TimeoutError:
                continue  # an idle share: reads wait until stop interrupts them

    def _write(self, pipe: pipes.Pipe, data: bytes) -> None:
        while not self._stop.is_set():
            try:
                pipe.write(data, time.monotonic() + _WAKE)
                return
            except TimeoutError:
                continue  # the guest is not reading yet; its answer waits with it
        raise pipes.PipeClosed("stopping")

    def _serve(self, pipe: pipes.Pipe) -> None:
        buffer = bytearray()
        while not self._stop.is_set():
            while len(buffer) >= proto.HEADER.size:
                size = int.from_bytes(buffer[:4], "little")
                if size < proto.HEADER.size or size > self.server.msize + proto.HEADER.size:
                    raise proto.ProtocolError(
                        f"the guest sent a message of {size} bytes (msize {self.server.msize})"
                    )
                if len(buffer) < size:
                    break
                request = bytes(buffer[:size])
                del buffer[:size]
                answer = self.server.handle(request)
                self.requests += 1
                self._write(pipe, answer)
            chunk = self._read(pipe)
            if not chunk:
                return  # QEMU exited
            buffer += chunk
