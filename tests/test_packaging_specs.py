"""The bundle recipes name everything the app loads at run time (issue: an installable app).

The macOS and Windows bundles cannot be built here, so each PyInstaller spec is executed with
recording stand-ins for PyInstaller's classes (``Analysis``, ``EXE``, ``COLLECT``, ``BUNDLE``,
``copy_metadata``) and what it would feed PyInstaller is checked against the checkout itself:
every module the app may import by name, every icon the code asks for, every run-time
dependency's metadata, QEMU and the VM image where ``engine/vm`` looks for them, and the version
from ``engine/__init__.py``. The Linux bundle is built for real by ``packaging/linux/test-deb.sh``.
"""

from __future__ import annotations

import ast
import os
import plistlib
import re
import sys
import tomllib
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from engine import __version__
from engine.vm.image import IMAGE_FILES, IMAGE_VERSION
from engine.vm.qemu import qemu_binary

ROOT = Path(__file__).resolve().parent.parent
SPECS = {
    "linux": ROOT / "packaging" / "bundle" / "portside.spec",
    "macos": ROOT / "packaging" / "macos" / "portside.spec",
    "windows": ROOT / "packaging" / "windows" / "portside.spec",
}
SHARE = "share/portside"  # relative to sys.prefix, i.e. the bundle's _internal


@dataclass
class Recorded:
    analyses: list[dict[str, Any]] = field(default_factory=list)
    exes: list[dict[str, Any]] = field(default_factory=list)
    bundles: list[dict[str, Any]] = field(default_factory=list)
    metadata: list[str] = field(default_factory=list)


def run_spec(spec: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Recorded:
    rec = Recorded()

    class Analysis:
        def __init__(self, scripts: list[str], **kw: Any) -> None:
            rec.analyses.append({"scripts": scripts, **kw})
            self.scripts = scripts
            self.pure: list[Any] = []
            self.binaries: list[Any] = []
            self.datas: list[Any] = []

    def EXE(*args: Any, **kw: Any) -> dict[str, Any]:
        rec.exes.append(kw)
        return kw

    def BUNDLE(*args: Any, **kw: Any) -> None:
        rec.bundles.append(kw)

    def copy_metadata(name: str) -> list[tuple[str, str]]:
        rec.metadata.append(name)
        return [(f"{name}.dist-info", f"{name}.dist-info")]

    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.copy_metadata = copy_metadata  # type: ignore[attr-defined]
    for name in ("PyInstaller", "PyInstaller.utils"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "PyInstaller.utils.hooks", hooks)
    monkeypatch.delitem(sys.modules, "manifest", raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the specs put packaging/bundle first
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    namespace = {"Analysis": Analysis, "PYZ": lambda *a, **k: None, "EXE": EXE,
                 "COLLECT": lambda *a, **k: None, "BUNDLE": BUNDLE, "__file__": str(spec)}
    exec(compile(spec.read_text(), str(spec), "exec"), namespace)
    return rec


@pytest.fixture
def fake_inputs(tmp_path: Path) -> dict[str, str]:
    """What a Mac or Windows build machine would have: QEMU and the VM images."""
    qemu = tmp_path / "qemu"
    qemu.mkdir()
    for name in ("qemu-system-aarch64", "qemu-system-x86_64", "qemu-img",
                 "qemu-system-x86_64.exe", "qemu-img.exe", "libglib-2.0-0.dll"):
        (qemu / name).write_bytes(b"")
    images = tmp_path / "images"
    for arch in ("arm64", "x86_64"):
        folder = images / IMAGE_VERSION / arch
        folder.mkdir(parents=True)
        for name in (*IMAGE_FILES, "manifest.json"):
            (folder / name).write_bytes(b"")
    return {"PORTSIDE_SRC": str(ROOT), "PORTSIDE_QEMU_DIR": str(qemu),
            "PORTSIDE_VM_IMAGES": str(images)}


def modules_imported_by_name() -> set[str]:
    """Module names the code hands to importlib.import_module (views, settings pages, lazy
    exports): string constants naming app.* / engine.* modules in tables next to those calls."""
    names: set[str] = set()
    for path in [*ROOT.joinpath("app").rglob("*.py"), *ROOT.joinpath("engine").rglob("*.py")]:
        source = path.read_text(encoding="utf-8")
        if "import_module" not in source:
            continue
        for node in ast.walk(ast.parse(source)):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and re.fullmatch(r"(app|engine)(\.[a-z_0-9]+)+", node.value)):
                names.add(node.value)
    return names


def icons_the_code_asks_for() -> set[str]:
    found: set[str] = set()
    for path in ROOT.joinpath("app").rglob("*.py"):
        found |= set(re.findall(r"\bicon\(\s*\"([a-z0-9-]+)\"", path.read_text("utf-8")))
    return found


def app_analysis(rec: Recorded) -> dict[str, Any]:
    return next(a for a in rec.analyses if a["scripts"][0].endswith("entry_portside.py"))


@pytest.mark.parametrize("platform", sorted(SPECS))
def test_every_spec_carries_every_module_icon_and_metadata(
    platform: str, fake_inputs: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = run_spec(SPECS[platform], fake_inputs, monkeypatch)
    app = app_analysis(rec)
    entry = Path(app["scripts"][0])
    assert "from app.__main__ import main" in entry.read_text()

    hidden = set(app["hiddenimports"])
    by_name = modules_imported_by_name()
    assert by_name, "the scan found no module imported by name: the scan is broken"
    assert by_name <= hidden, f"imported by name but not in the bundle: {by_name - hidden}"
    for path in ROOT.joinpath("app").rglob("*.py"):
        dotted = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        assert dotted in hidden, f"{dotted} is not in the {platform} bundle"

    datas = dict((Path(src).name, dest) for src, dest in app["datas"])
    assert datas["icons"] == "resources/icons"  # app/resources.py: <prefix>/resources/icons
    assert datas.get("sample-image.tar") == "resources"  # app/wizard/first_image.py
    missing = {n for n in icons_the_code_asks_for() if not (ROOT / "resources/icons" /
                                                            f"{n}.svg").is_file()}
    assert not missing, f"icons the code asks for but resources/icons lacks: {missing}"

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[<>=!~; \[]", d, maxsplit=1)[0].lower() for d in deps}
    assert names <= {m.lower() for m in rec.metadata}, (
        f"run-time dependencies whose metadata the {platform} bundle lacks: "
        f"{names - {m.lower() for m in rec.metadata}}")
    assert "portside" in rec.metadata


@pytest.mark.parametrize(("platform", "programs", "arches"), [
    ("macos", ["qemu-system-aarch64", "qemu-system-x86_64", "qemu-img"], ["arm64", "x86_64"]),
    ("windows", ["qemu-system-x86_64.exe", "qemu-img.exe", "libglib-2.0-0.dll"], ["x86_64"]),
])
def test_vm_bundles_put_qemu_and_the_image_where_the_vm_engine_looks(
    platform: str, programs: list[str], arches: list[str], fake_inputs: dict[str, str],
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    from engine.lifecycle.programs import bundle_dirs
    from engine.vm.image import bundled_image_dir

    rec = run_spec(SPECS[platform], fake_inputs, monkeypatch)
    app = app_analysis(rec)
    # the folders engine/ searches, relative to sys.prefix (the bundle's _internal)
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    bin_rel = os.path.relpath(bundle_dirs()[-1], tmp_path)
    shipped = {Path(src).name: dest for src, dest in app["binaries"]}
    for name in programs:
        assert shipped.get(name) == bin_rel == f"{SHARE}/bin", (name, shipped)
    for arch in arches:
        assert qemu_binary(arch) in {Path(n).stem for n in shipped}
        image_rel = os.path.relpath(bundled_image_dir(arch), tmp_path)
        dests = {(Path(src).name, dest) for src, dest in app["datas"]}
        for name in (*IMAGE_FILES, "manifest.json"):
            assert (name, image_rel) in dests, f"{name} for {arch} not at {image_rel}"
    names = {exe["name"] for exe in rec.exes}
    assert names == {"portside", "docker-credential-portside"}


def test_the_mac_app_carries_the_version_and_may_use_the_hypervisor(
    fake_inputs: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = run_spec(SPECS["macos"], fake_inputs, monkeypatch)
    (bundle,) = rec.bundles
    assert bundle["version"] == __version__
    assert bundle["info_plist"]["CFBundleShortVersionString"] == __version__
    app_exe = next(e for e in rec.exes if e["name"] == "portside")
    entitlements = plistlib.loads(Path(app_exe["entitlements_file"]).read_bytes())
    assert entitlements["com.apple.security.hypervisor"] is True  # QEMU's hvf


def test_the_linux_bundle_replaces_the_helper_with_the_native_launcher() -> None:
    script = (ROOT / "packaging/bundle/helper-launcher.sh").read_text()
    assert 'gcc -O2 -Wall -Wextra -o "$bundle/docker-credential-portside"' in script
    launcher = (ROOT / "packaging/bundle/launcher.c").read_text()
    assert '"%s/_internal/helper/bin/python3"' in launcher and '"-IS"' in launcher
