"""The engine's proxies reach the VM's dockerd: Settings > Proxies -> <vm folder>/proxies.json ->
the guest config the VM's init sources and exports -> dockerd's environment, as ``/info`` shows.

The unit part checks the guest config with a real ``sh`` (the way portside-init reads it); the
vm part boots the built image under TCG in a folder of its own.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from engine.lifecycle import proxies
from engine.vm.engine import VMEngine
from engine.vm.image import VMImage
from engine.vm.layout import VMPaths
from engine.vm.plan import guest_config
from engine.vm.share import Share


def test_a_proxy_on_the_hosts_loopback_is_named_as_the_guest_reaches_it() -> None:
    moved = proxies.for_vm_guest(proxies.Proxies(
        http="http://localhost:3128", https="http://bob@127.0.0.1:8080",
        no_proxy="localhost,.corp",
    ))
    assert moved == proxies.Proxies("http://10.0.2.2:3128", "http://bob@10.0.2.2:8080",
                                    "localhost,.corp")
    other = proxies.Proxies(http="http://proxy.corp:3128")
    assert proxies.for_vm_guest(other) == other
    assert proxies.check_url("http://pro'xy:1", "HTTP proxy")  # never inside the quotes


def test_the_guest_config_exports_the_proxies_to_what_init_starts(tmp_path: Path) -> None:
    env = proxies.environment(proxies.Proxies("http://10.0.2.2:3128", "", "localhost"))
    config = tmp_path / "config"
    config.write_text(guest_config([Share("home", "/home/me")], env=env))
    # what portside-init does: source the file, then start dockerd (here: env) as a child
    out = subprocess.run(
        ["sh", "-c", f". {config}; exec env"], capture_output=True, text=True, check=True,
        env={"PATH": "/usr/bin:/bin"},
    ).stdout.splitlines()
    assert "HTTP_PROXY=http://10.0.2.2:3128" in out and "http_proxy=http://10.0.2.2:3128" in out
    assert "NO_PROXY=localhost" in out
    assert not any(line.startswith("PORTSIDE_SHARES=") for line in out)  # not exported
    assert "export" not in guest_config([])


@pytest.fixture
def own_vm_home() -> Iterator[Path]:
    home = Path(tempfile.mkdtemp(prefix="pvp-", dir="/tmp"))
    yield home
    shutil.rmtree(home, ignore_errors=True)


@pytest.mark.vm
@pytest.mark.timeout(600)
async def test_the_vms_dockerd_uses_the_engines_proxies(
    vm_image_x86: VMImage, own_vm_home: Path
) -> None:
    paths = VMPaths.default(own_vm_home)
    proxies.save(paths.engine, proxies.Proxies(
        http="http://localhost:3128", https="http://proxy.invalid:3129", no_proxy="registry.local",
    ))
    engine = VMEngine(paths, start_timeout=240)
    await engine.start()
    try:
        transport = httpx.AsyncHTTPTransport(uds=str(paths.socket))
        async with httpx.AsyncClient(transport=transport, base_url="http://engine") as client:
            info = (await client.get("/info", timeout=30)).json()
    finally:
        await engine.stop()
    assert info["HttpProxy"] == "http://10.0.2.2:3128"  # the host's localhost, from the guest
    assert info["HttpsProxy"] == "http://proxy.invalid:3129"
    assert info["NoProxy"] == "registry.local"
