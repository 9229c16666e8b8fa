"""What every Portside bundle must carry, shared by the three PyInstaller specs.

The Linux spec (``packaging/bundle/portside.spec``), the macOS one (``packaging/macos/``) and the
Windows one (``packaging/windows/``) all take their module and data lists from here, and
``tests/test_packaging_specs.py`` runs each spec against recording stand-ins for PyInstaller's
classes to check that nothing the app loads at run time is left out:

- every module under ``app/`` and ``engine/``: views and settings pages are imported by name
  (``importlib.import_module``), which PyInstaller's import scan cannot see;
- the run-time dependencies' metadata (the diagnostics bundle reports their versions through
  ``importlib.metadata``);
- ``resources/`` as it is in the checkout (icons; the sample image when built), at the same
  relative place (``<bundle>/resources/``), where ``app/resources.py`` and the wizard look.

Plain Python without PyInstaller imports, so the test can use it on any machine.
"""

from __future__ import annotations

from pathlib import Path

PACKAGES = ("app", "engine")
#: distributions whose versions the diagnostics bundle reads with importlib.metadata
METADATA = ("portside", "PySide6-Essentials", "shiboken6", "qasync", "httpx", "keyring",
            "platformdirs", "pyte", "pyqtgraph", "cryptography")
#: files under resources/ every bundle needs (the sample image is added when it was built)
REQUIRED_RESOURCES = ("icons",)
SAMPLE_IMAGE = "sample-image.tar"
#: Qt modules Portside never loads: leaving them out saves ~100 MB
EXCLUDED_QT = (
    "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtQuickWidgets", "PySide6.QtPdf",
    "PySide6.QtPdfWidgets", "PySide6.QtWebEngineCore", "PySide6.QtMultimedia", "PySide6.Qt3DCore",
    "PySide6.QtDesigner", "PySide6.QtUiTools", "PySide6.QtSql", "PySide6.QtTest",
    "PySide6.QtOpenGL", "PySide6.QtOpenGLWidgets", "PySide6.QtHelp",
)
EXCLUDES = (*EXCLUDED_QT, "tkinter", "pydoc", "test")


def module_names(root: Path) -> list[str]:
    """Every importable module of Portside's own packages, as dotted names."""
    names = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root).with_suffix("")
            parts = list(rel.parts)
            if "__pycache__" in parts:
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            names.append(".".join(parts))
    return names


def resource_datas(root: Path, *, require_sample: bool = False) -> list[tuple[str, str]]:
    """(source, destination folder) pairs for PyInstaller's ``datas``."""
    resources = root / "resources"
    datas = [(str(resources / name), f"resources/{name}") for name in REQUIRED_RESOURCES]
    sample = resources / SAMPLE_IMAGE
    if sample.is_file():
        datas.append((str(sample), "resources"))
    elif require_sample:
        raise SystemExit(f"{sample} is missing: build it with "
                         "`python3 packaging/sample-image/build.py` first")
    return datas
