"""Portside's Linux VM: QEMU running the Docker engine, for hosts without a native one.

One module per concern, composed by :class:`engine.vm.engine.VMEngine`:

- ``image``  the VM image on disk (kernel, initramfs, root file system; built by packaging/vm)
- ``layout`` where one VM keeps its files (disks, keys, sockets, log, settings)
- ``qemu``   QEMU's command line and the accelerator choice (kvm, hvf, whpx, tcg)
- ``qmp``    a small asyncio QMP client (power button, quit, monitor commands, events)
- ``qmp_pipe`` the same calls over QEMU's pipe chardev (no unix sockets on the host: Windows)
- ``ssh``    the engine API forward: ``ssh -L <dir>/docker.sock:/var/run/docker.sock``
- ``ports``  published container ports forwarded to the host's 127.0.0.1, driven by events
- ``share``  the user's home folder shared into the VM (9p)
- ``disk``   the root overlay and the data disk (``qemu-img``)
- ``choice`` which engine kind (native or VM) an OS gets by default, and the API transport
- ``plan``   what one start needs, checked before anything is written; QEMU's spec from it
- ``ready``  the guest's readiness lines (init, sshd, ready) and the boot's phases

Nothing here imports Qt; nothing on the start-up path assumes Linux.
"""
