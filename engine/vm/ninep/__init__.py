"""Portside's own 9P2000.L file server: a host folder shared into the VM without QEMU's ``-virtfs``.

QEMU for Windows has no ``-virtfs``, so in the VM's ``tls`` API mode (Windows always; Linux on
request) each share is a virtio-serial port on a pipe chardev, and this package serves it::

    guest v9fs (mount -t 9p -o trans=fd,... 3<>/dev/vportNpM)
      ─► virtio-serial port org.portside.9p.<tag> ─► QEMU pipe chardev
      ─► (POSIX: FIFOs <run>/share-<tag>.pipe.in/.out; Windows: a named pipe)
      ─► transport.ShareServer (one thread per share: read a whole T-message, answer, next)
      ─► server.FileServer.handle(bytes) ─► fids.FidTable (paths that never leave the folder)
                                        ─► os / pathlib on the host folder

Modules: ``proto`` (message numbers, encoding, the Linux errno map), ``fids`` (the fid table
and the confinement of paths to the shared folder), ``server`` (the T-message handlers, pure
apart from the file system calls), ``transport`` (the pipe and the thread). Everything is
``os``/``pathlib`` only, so it runs on Windows too.
"""

from engine.vm.ninep.server import FileServer
from engine.vm.ninep.transport import ShareServer

__all__ = ["FileServer", "ShareServer"]
