"""Icons: SVG files in ``resources/icons`` loaded as QIcons that follow light/dark mode.

Monochrome icons draw with ``currentColor``; :func:`icon` substitutes the palette's text colour
before rendering, so they stay visible in dark mode. Coloured icons (engine state, app icon) have
fixed colours and render as they are.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QGuiApplication, QIcon, QImage, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

log = logging.getLogger(__name__)

ICON_DIRS = (
    Path(__file__).resolve().parent.parent / "resources" / "icons",
    Path(__file__).resolve().parent / "resources" / "icons",
)
SIZES = (16, 20, 24, 32, 48, 64)


def icon_path(name: str) -> Path:
    """The SVG file for ``name``; FileNotFoundError names the folders searched."""
    for folder in ICON_DIRS:
        path = folder / f"{name}.svg"
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"No icon {name!r}: expected {name}.svg in " + " or ".join(str(d) for d in ICON_DIRS)
    )


def _text_colour() -> str:
    qt_app = QGuiApplication.instance()
    if isinstance(qt_app, QGuiApplication):
        return str(qt_app.palette().color(QPalette.ColorRole.WindowText).name())
    return "#444444"


@cache
def _render(name: str, colour: str) -> QIcon:
    svg = icon_path(name).read_text(encoding="utf-8").replace("currentColor", colour)
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    if not renderer.isValid():
        log.error("icon %s is not a valid SVG", name)
        return QIcon()
    result = QIcon()
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        result.addPixmap(QPixmap.fromImage(image))
    return result


def icon(name: str) -> QIcon:
    """A QIcon for ``resources/icons/<name>.svg``, tinted to the current palette."""
    return _render(name, _text_colour())


def clear_cache() -> None:
    """Forget rendered icons (call after the colour scheme changes)."""
    _render.cache_clear()
