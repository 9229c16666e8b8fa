"""Portside's look in one place: two palettes of our own (light, dark), sizes, and the stylesheet.

Data flow: :func:`apply` is called once at start-up (``app.gui``) and again whenever the user
picks Light / Dark / System (the main window's Appearance menu, saved as ``Settings.theme``). It
sets the Fusion style (so the palette is honoured the same way on every platform, plain X
included), our :class:`QPalette`, and one application stylesheet generated from the palette,
then emits :data:`notifier` ``.changed``. Nothing else in ``app/`` calls ``setStyleSheet``:
widgets that need a special look get an ``objectName`` the stylesheet knows (``viewTitle``,
``primaryButton``, ``fieldError``…). Icons re-tint themselves on paint (``app.resources``),
and colours painted by delegates are read from :func:`current` at paint time, so a switch is
live — no widget has to be rebuilt.

"System" follows the platform's colour scheme (``QStyleHints.colorScheme``) while it is the
chosen mode; where the platform has no opinion (plain X) a ``GTK_THEME=…:dark`` says dark,
anything else light.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import ClassVar

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QGuiApplication,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import (
    QApplication,
    QProxyStyle,
    QStyle,
    QStyleFactory,
    QStyleHintReturn,
    QStyleOption,
    QWidget,
)

log = logging.getLogger(__name__)

MODES = ("system", "light", "dark")
MODE_TITLES = {"system": "Follow the system", "light": "Light", "dark": "Dark"}


@dataclass(frozen=True)
class Palette:
    """The colours of one theme (hex strings)."""

    name: str
    window: str
    base: str
    alt_base: str
    sidebar: str
    text: str
    muted: str
    border: str
    hover: str
    accent: str
    accent_hover: str
    accent_text: str
    selection: str
    selection_text: str
    nav_selected: str
    nav_selected_text: str
    danger: str
    # state word ("running", "exited"…) -> colour of its dot and text
    states: dict[str, str] = field(default_factory=dict)


LIGHT = Palette(
    name="light",
    window="#f5f6f8",
    base="#ffffff",
    alt_base="#f8f9fb",
    sidebar="#eceff3",
    text="#1f2328",
    muted="#59636e",
    border="#d5dae0",
    hover="#e2e6eb",
    accent="#2458d3",
    accent_hover="#1d4bb8",
    accent_text="#ffffff",
    selection="#d6e3fb",
    selection_text="#10213f",
    nav_selected="#dbe5f9",
    nav_selected_text="#173c94",
    danger="#c62828",
    states={
        "running": "#1a7f37",
        "paused": "#9a6700",
        "restarting": "#0969da",
        "created": "#0969da",
        "removing": "#9a6700",
        "stopping": "#9a6700",
        "killing": "#9a6700",
        "pausing": "#9a6700",
        "starting": "#0969da",
        "unpausing": "#0969da",
        "exited": "#6e7781",
        "dead": "#cf222e",
    },
)

DARK = Palette(
    name="dark",
    window="#1c1f24",
    base="#23272e",
    alt_base="#272c33",
    sidebar="#16191d",
    text="#e6e9ed",
    muted="#9aa5b1",
    border="#3a414a",
    hover="#2f353d",
    accent="#4d8dff",
    accent_hover="#6aa0ff",
    accent_text="#0b1220",
    selection="#2b4470",
    selection_text="#f0f4ff",
    nav_selected="#283a5c",
    nav_selected_text="#dce7ff",
    danger="#ff6b6b",
    states={
        "running": "#3fb950",
        "paused": "#d29922",
        "restarting": "#58a6ff",
        "created": "#58a6ff",
        "removing": "#d29922",
        "stopping": "#d29922",
        "killing": "#d29922",
        "pausing": "#d29922",
        "starting": "#58a6ff",
        "unpausing": "#58a6ff",
        "exited": "#8b949e",
        "dead": "#f85149",
    },
)


class Sizes:
    """Spacing and type sizes every view uses (pixels; type as a factor of the base font)."""

    MARGIN = 16  # around a view's content
    SPACING = 8  # between controls in a row
    GAP = 12  # between blocks (header, table, status)
    RADIUS = 6
    SIDEBAR_WIDTH = 196
    NAV_ROW = 36
    ICON = 18
    STATE_DOT = 8
    ROW = 30  # table and tree row height
    TITLE_SCALE = 1.5
    SMALL_SCALE = 0.92
    #: the smallest window every layout is checked at (tests/gui/display)
    MIN_WINDOW = (1280, 720)


class ThemeStyle(QProxyStyle):
    """Fusion with our metrics (row height, icon sizes) — the parts a stylesheet cannot set."""

    METRICS: ClassVar[dict[QStyle.PixelMetric, int]] = {
        QStyle.PixelMetric.PM_HeaderDefaultSectionSizeVertical: Sizes.ROW,
        QStyle.PixelMetric.PM_SmallIconSize: 16,
        QStyle.PixelMetric.PM_ToolBarIconSize: Sizes.ICON,
        QStyle.PixelMetric.PM_ButtonIconSize: 16,
    }

    WINDOW_MARGINS: ClassVar[set[QStyle.PixelMetric]] = {
        QStyle.PixelMetric.PM_LayoutLeftMargin,
        QStyle.PixelMetric.PM_LayoutTopMargin,
        QStyle.PixelMetric.PM_LayoutRightMargin,
        QStyle.PixelMetric.PM_LayoutBottomMargin,
    }

    def __init__(self) -> None:
        super().__init__(QStyleFactory.create("Fusion"))
        self.setObjectName("portside")

    def pixelMetric(
        self,
        metric: QStyle.PixelMetric,
        option: QStyleOption | None = None,
        widget: QWidget | None = None,
    ) -> int:
        if metric in self.METRICS:
            return self.METRICS[metric]
        if metric in self.WINDOW_MARGINS and widget is not None and widget.isWindow():
            return Sizes.MARGIN  # dialogs breathe like the views do
        return super().pixelMetric(metric, option, widget)

    def styleHint(
        self,
        hint: QStyle.StyleHint,
        option: QStyleOption | None = None,
        widget: QWidget | None = None,
        return_data: QStyleHintReturn | None = None,
    ) -> int:
        # text-only dialog buttons: the platform's Cancel/Close glyphs are drawn for a light
        # background and vanish on the dark palette
        if hint == QStyle.StyleHint.SH_DialogButtonBox_ButtonsHaveIcons:
            return 0
        return super().styleHint(hint, option, widget, return_data)

    def drawPrimitive(
        self,
        element: QStyle.PrimitiveElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        """Check boxes and radio buttons in our colours (Fusion's outline vanishes on dark)."""
        if element in (
            QStyle.PrimitiveElement.PE_IndicatorCheckBox,
            QStyle.PrimitiveElement.PE_IndicatorRadioButton,
        ):
            _draw_indicator(element, option, painter)
            return
        super().drawPrimitive(element, option, painter, widget)


def _draw_indicator(
    element: QStyle.PrimitiveElement, option: QStyleOption, painter: QPainter
) -> None:
    p = current()
    state = option.state
    on = bool(state & QStyle.StateFlag.State_On)
    enabled = bool(state & QStyle.StateFlag.State_Enabled)
    rect = QRectF(option.rect).adjusted(1.5, 1.5, -1.5, -1.5)
    side = min(rect.width(), rect.height())
    rect = QRectF(rect.center().x() - side / 2, rect.center().y() - side / 2, side, side)
    accent = QColor(p.accent if enabled else p.border)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(accent if on else QColor(p.muted), 1.2))
    radio = element == QStyle.PrimitiveElement.PE_IndicatorRadioButton
    painter.setBrush(QColor(p.base))
    if radio:
        painter.drawEllipse(rect)
        if on:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(accent)
            inner = side * 0.28
            painter.drawEllipse(rect.center(), inner, inner)
    else:
        painter.setBrush(accent if on else QColor(p.base))
        painter.drawRoundedRect(rect, 3, 3)
        if on:
            pen = QPen(QColor(p.accent_text), max(1.5, side / 7))
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            x, y, w = rect.x(), rect.y(), side
            path = QPainterPath(QPointF(x + w * 0.24, y + w * 0.52))
            path.lineTo(QPointF(x + w * 0.43, y + w * 0.70))
            path.lineTo(QPointF(x + w * 0.76, y + w * 0.32))
            painter.drawPath(path)
    painter.restore()


class _Notifier(QObject):
    """Emits ``changed(palette name)`` after :func:`apply` switched the look."""

    changed = Signal(str)


_state: dict[str, object] = {
    "palette": LIGHT,
    "mode": "light",
    "notifier": None,
    "hooked": False,
    "original_style": None,
}


def notifier() -> _Notifier:
    """The one object whose ``changed`` signal says the theme was switched."""
    if _state["notifier"] is None:
        _state["notifier"] = _Notifier()
    result = _state["notifier"]
    assert isinstance(result, _Notifier)
    return result


def current() -> Palette:
    """The palette in use (LIGHT until :func:`apply` ran)."""
    palette = _state["palette"]
    assert isinstance(palette, Palette)
    return palette


def current_mode() -> str:
    return str(_state["mode"])


def normalise_mode(mode: str | None) -> str:
    """A known mode for any stored value (unknown values mean "system")."""
    return mode if mode in MODES else "system"


def system_is_dark() -> bool:
    """Whether the platform says it is in dark mode.

    Qt's colour scheme first; where Qt has no opinion (plain X, no platform theme) a
    ``GTK_THEME`` ending in ``:dark`` (what GTK apps follow) counts; otherwise light.
    """
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", None)
    if scheme is not None and scheme() != Qt.ColorScheme.Unknown:
        return bool(scheme() == Qt.ColorScheme.Dark)
    return os.environ.get("GTK_THEME", "").lower().endswith(":dark")


def resolve(mode: str) -> Palette:
    """The palette ``mode`` stands for right now."""
    mode = normalise_mode(mode)
    if mode == "system":
        return DARK if system_is_dark() else LIGHT
    return DARK if mode == "dark" else LIGHT


def state_colour(state: str) -> QColor:
    """The colour for a container state text ("running", "exited (137)", "Up 3 minutes"…)."""
    palette = current()
    word = state.strip().split(" ", 1)[0].lower().rstrip("…") if state else ""
    if word == "up":
        word = "running"
    return QColor(palette.states.get(word, palette.muted))


def qpalette(p: Palette) -> QPalette:
    """A full QPalette (active, inactive and disabled groups) for ``p``."""
    pal = QPalette()
    role = QPalette.ColorRole
    colours = {
        role.Window: p.window,
        role.WindowText: p.text,
        role.Base: p.base,
        role.AlternateBase: p.alt_base,
        role.ToolTipBase: p.base,
        role.ToolTipText: p.text,
        role.PlaceholderText: p.muted,
        role.Text: p.text,
        role.Button: p.base if p.name == "dark" else "#fbfbfc",
        role.ButtonText: p.text,
        role.BrightText: p.danger,
        role.Light: p.hover,
        role.Midlight: p.border,
        role.Mid: p.border,
        role.Dark: p.sidebar,
        role.Shadow: "#000000",
        role.Highlight: p.accent,
        role.HighlightedText: p.accent_text,
        role.Link: p.accent,
        role.LinkVisited: p.accent,
    }
    for r, colour in colours.items():
        pal.setColor(r, QColor(colour))
    disabled = QColor(p.muted)
    disabled.setAlpha(150)
    for r in (role.WindowText, role.Text, role.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, r, disabled)
    pal.setColor(QPalette.ColorGroup.Disabled, role.Highlight, QColor(p.border))
    return pal


def font_pt(scale: float) -> float:
    """The base font's point size times ``scale`` (what the stylesheet and headers use)."""
    base = QApplication.font().pointSizeF()
    return round((base if base > 0 else 10.0) * scale, 1)


def title_font() -> QFont:
    font = QFont(QApplication.font())
    font.setPointSizeF(font_pt(Sizes.TITLE_SCALE))
    font.setWeight(QFont.Weight.DemiBold)
    return font


def stylesheet(p: Palette) -> str:
    """The one application stylesheet, generated from ``p``."""
    r = Sizes.RADIUS
    # A disabled button's text: half the muted colour, so it reads as off next to muted labels
    # (in plain muted, "Sign out" with no login looked like a live button).
    off = QColor(p.muted)
    faint = f"rgba({off.red()}, {off.green()}, {off.blue()}, 0.5)"
    return f"""
QToolTip {{ color: {p.text}; background: {p.base}; border: 1px solid {p.border}; padding: 4px; }}
QWidget#sidebarPanel {{ background: {p.sidebar}; border-right: 1px solid {p.border}; }}
QLabel#brand {{ font-size: {font_pt(1.25)}pt; font-weight: 600; }}
QWidget#viewHeader {{ background: transparent; }}
QLabel#viewTitle {{ font-size: {font_pt(Sizes.TITLE_SCALE)}pt; font-weight: 600; }}
QLabel#viewCount {{ color: {p.muted}; font-size: {font_pt(1.0)}pt; }}
QLabel#muted, QLabel#viewSubtitle {{ color: {p.muted}; }}
QLabel#fieldError {{ color: {p.danger}; }}
QLabel#sectionTitle {{ font-weight: 600; }}
QPushButton {{
    border: 1px solid {p.border}; border-radius: {r}px; padding: 5px 12px;
    background: {p.base}; color: {p.text};
}}
QPushButton:hover {{ background: {p.hover}; }}
QPushButton:pressed {{ background: {p.border}; }}
QPushButton:disabled {{ color: {faint}; background: {p.window}; }}
QPushButton:default {{ border-color: {p.accent}; }}
QPushButton:focus {{ border: 2px solid {p.accent}; padding: 4px 11px; }}
QPushButton:flat {{ border: none; background: transparent; }}
QPushButton:flat:hover {{ background: {p.hover}; }}
QPushButton#primaryButton {{
    background: {p.accent}; color: {p.accent_text}; border: 1px solid {p.accent};
    font-weight: 600; padding: 6px 16px;
}}
QPushButton#primaryButton:hover {{ background: {p.accent_hover}; }}
QPushButton#primaryButton:focus {{ border: 2px solid {p.text}; padding: 5px 15px; }}
QPushButton#primaryButton:disabled {{ background: {p.border}; border-color: {p.border}; }}
QLineEdit, QPlainTextEdit, QTextEdit {{
    border: 1px solid {p.border}; border-radius: {r}px; background: {p.base};
    color: {p.text}; selection-background-color: {p.accent}; selection-color: {p.accent_text};
}}
QLineEdit {{ padding: 4px 6px; }}
QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus {{ border-color: {p.accent}; }}
QTableView, QTreeView, QListView {{
    background: {p.base}; alternate-background-color: {p.alt_base};
    border: 1px solid {p.border}; border-radius: {r}px; gridline-color: {p.alt_base};
    selection-background-color: {p.selection}; selection-color: {p.selection_text};
}}
QTableView:focus, QTreeView:focus {{ border-color: {p.accent}; }}
QTreeView::item {{ padding: 5px 4px; }}
QTableView::item {{ padding: 0 4px; }}
QHeaderView {{ background: {p.base}; border: none; }}
QHeaderView::section {{
    background: {p.base}; color: {p.muted}; border: none;
    border-bottom: 1px solid {p.border}; padding: 6px 8px; font-weight: 600;
}}
QToolBar {{ border: none; background: transparent; spacing: 2px; }}
QToolButton {{ border: 1px solid transparent; border-radius: {r}px; padding: 4px 6px; }}
QToolButton:hover {{ background: {p.hover}; border-color: {p.border}; }}
QToolButton:checked {{ background: {p.nav_selected}; }}
QToolButton:focus {{ border-color: {p.accent}; }}
QToolButton#themeButton, QToolButton#settingsButton, QToolButton#helpButton {{
    padding: 6px 12px; color: {p.muted}; }}
QToolButton#themeButton::menu-indicator, QToolButton#helpButton::menu-indicator {{
    subcontrol-position: right center; right: 4px; }}
QPushButton#accountButton {{ text-align: left; padding: 6px 12px; }}
QTabWidget::pane {{ border: 1px solid {p.border}; border-radius: {r}px; top: -1px; }}
QTabBar::tab {{
    padding: 6px 14px; border: none; border-bottom: 2px solid transparent; color: {p.muted};
}}
QTabBar::tab:selected {{ color: {p.text}; border-bottom: 2px solid {p.accent}; }}
QTabBar::tab:hover {{ color: {p.text}; }}
QStatusBar {{ background: {p.sidebar}; border-top: 1px solid {p.border}; }}
QStatusBar::item {{ border: none; }}
QSplitter::handle {{ background: {p.border}; }}
QSplitter::handle:vertical {{ height: 1px; }}
QProgressBar {{
    border: 1px solid {p.border}; border-radius: {r}px; background: {p.base};
    text-align: center; color: {p.text};
}}
QProgressBar::chunk {{ background: {p.accent}; border-radius: {r - 1}px; }}
QMenu {{ background: {p.base}; color: {p.text}; border: 1px solid {p.border}; }}
QMenu::item {{ padding: 5px 24px 5px 24px; }}
QMenu::item:selected {{ background: {p.selection}; color: {p.selection_text}; }}
QMenu::item:disabled {{ color: {p.muted}; }}
QMenu::separator {{ height: 1px; background: {p.border}; margin: 4px 8px; }}
/* the sidebar last: it overrides the item-view rules above */
QListWidget#sidebar {{ background: transparent; border: none; outline: none; padding: 6px; }}
QListWidget#sidebar::item {{ color: {p.text}; padding: 0 10px; border-radius: {r}px; }}
QListWidget#sidebar::item:hover {{ background: {p.hover}; }}
QListWidget#sidebar::item:selected {{ background: {p.nav_selected}; color: {p.nav_selected_text}; }}
QListWidget#sidebar::item:selected:focus {{ border: 1px solid {p.accent}; }}
"""


def apply(qt_app: QApplication, mode: str) -> Palette:
    """Switch the whole app to ``mode`` ("system", "light" or "dark"); returns the palette."""
    mode = normalise_mode(mode)
    palette = resolve(mode)
    if not isinstance(qt_app.style(), ThemeStyle):
        if _state["original_style"] is None:
            _state["original_style"] = qt_app.style().name()
        qt_app.setStyle(ThemeStyle())
    _state["palette"] = palette
    _state["mode"] = mode
    qt_app.setPalette(qpalette(palette))
    qt_app.setStyleSheet(stylesheet(palette))
    _hook_system_scheme(qt_app)
    from app.resources import clear_cache

    clear_cache()
    notifier().changed.emit(palette.name)
    log.debug("theme %s (%s)", mode, palette.name)
    return palette


def _hook_system_scheme(qt_app: QApplication) -> None:
    """Follow the platform's scheme while the mode is "system" (connected once)."""
    if _state["hooked"]:
        return
    hints = QGuiApplication.styleHints()
    if hasattr(hints, "colorSchemeChanged"):
        hints.colorSchemeChanged.connect(
            lambda _scheme: apply(qt_app, "system") if current_mode() == "system" else None
        )
    _state["hooked"] = True


def reset(qt_app: QApplication) -> None:
    """Undo :func:`apply`: the style the app had before, its standard palette, no stylesheet.

    For tests that share one QApplication with tests that expect Qt's defaults.
    """
    original = _state["original_style"]
    qt_app.setStyleSheet("")
    if isinstance(original, str):
        style = QStyleFactory.create(original)
        if style is not None:
            qt_app.setStyle(style)
            qt_app.setPalette(style.standardPalette())
    _state["palette"] = LIGHT
    _state["mode"] = "light"
    from app.resources import clear_cache

    clear_cache()
