"""Icons: SVG files in ``resources/icons`` loaded as QIcons that follow light/dark mode.

Monochrome icons draw with ``currentColor``. :func:`icon` returns a QIcon backed by
:class:`TintedIconEngine`, which substitutes the application palette's text colour (a muted one
for disabled icons) each time a pixmap is asked for, so an icon made before a theme switch
(``app.theme.apply``) re-tints itself on its next paint. Rendered pixmaps are cached per (name,
colour, size). Coloured icons (engine state, app icon) have fixed colours and render as they are.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QGuiApplication,
    QIcon,
    QIconEngine,
    QImage,
    QPainter,
    QPalette,
    QPixmap,
)
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


def _text_colour(disabled: bool = False) -> str:
    qt_app = QGuiApplication.instance()
    if isinstance(qt_app, QGuiApplication):
        palette = qt_app.palette()
        if disabled:
            return str(palette.color(QPalette.ColorRole.PlaceholderText).name())
        return str(palette.color(QPalette.ColorRole.WindowText).name())
    return "#444444"


@cache
def _svg(name: str) -> str:
    return icon_path(name).read_text(encoding="utf-8")


@cache
def _pixmap(name: str, colour: str, width: int, height: int) -> QPixmap:
    renderer = QSvgRenderer(QByteArray(_svg(name).replace("currentColor", colour).encode("utf-8")))
    image = QImage(max(width, 1), max(height, 1), QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    if not renderer.isValid():
        log.error("icon %s is not a valid SVG", name)
        return QPixmap.fromImage(image)
    side = min(width, height)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF((width - side) / 2, (height - side) / 2, side, side))
    painter.end()
    return QPixmap.fromImage(image)


class TintedIconEngine(QIconEngine):
    """Renders ``resources/icons/<name>.svg`` in the palette's colour at paint time."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        colour = _text_colour(disabled=mode == QIcon.Mode.Disabled)
        return _pixmap(self.name, colour, size.width(), size.height())

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        painter.drawPixmap(rect, self.pixmap(rect.size(), mode, state))

    def availableSizes(
        self, mode: QIcon.Mode = QIcon.Mode.Normal, state: QIcon.State = QIcon.State.Off
    ) -> list[QSize]:
        return [QSize(s, s) for s in SIZES]

    def clone(self) -> QIconEngine:
        return TintedIconEngine(self.name)

    def key(self) -> str:
        return "portside-tinted"


def icon(name: str) -> QIcon:
    """A QIcon for ``resources/icons/<name>.svg`` that follows the palette (see module doc).

    Raises FileNotFoundError (naming the folders searched) when there is no such SVG.
    """
    _svg(name)
    return QIcon(TintedIconEngine(name))


def clear_cache() -> None:
    """Forget rendered pixmaps (``app.theme.apply`` calls this after a switch)."""
    _pixmap.cache_clear()
