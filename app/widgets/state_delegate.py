"""A container state drawn as a coloured pill — dot and text — in a table or tree column.

The model keeps giving plain text ("running", "exited (137)", "Up 3 minutes", "running (2/3)");
screen readers, sorting, search and tooltips use that text unchanged. At paint time the delegate
reads the colour for the state's first word from the current theme (``app.theme.state_colour``),
so a live theme switch recolours every pill on the next repaint.

Use it on any view whose column holds a state text::

    from app.widgets.state_delegate import StateDelegate
    StateDelegate.install(tree_or_table, column)
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from app import theme

AnyIndex = QModelIndex | QPersistentModelIndex

PAD_X = 8  # inside the pill, left and right
GAP = 6  # between dot and text
MARGIN = 4  # between the cell's edge and the pill


class StateDelegate(QStyledItemDelegate):
    """Paints the DisplayRole text of a state column as a tinted pill with a dot."""

    @classmethod
    def install(cls, view: QAbstractItemView, column: int) -> StateDelegate:
        """Make a delegate owned by ``view`` and use it for ``column``; returns it."""
        delegate = cls(view)
        view.setItemDelegateForColumn(column, delegate)
        return delegate

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        # the cell's own background, selection and focus, without the text
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        if not text:
            return
        colour = theme.state_colour(text)
        rect = opt.rect
        metrics = QFontMetrics(opt.font)
        dot = theme.Sizes.STATE_DOT
        room = rect.width() - 2 * MARGIN - 2 * PAD_X - dot - GAP
        shown = metrics.elidedText(text, Qt.TextElideMode.ElideRight, max(room, 0))
        height = min(rect.height() - 4, metrics.height() + 6)
        inner = 2 * PAD_X + dot + GAP + metrics.horizontalAdvance(shown)
        width = min(rect.width() - 2 * MARGIN, inner)
        pill = QRectF(rect.left() + MARGIN, rect.center().y() - height / 2 + 0.5, width, height)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        fill = QColor(colour)
        fill.setAlpha(38)
        painter.setPen(Qt.PenStyle.NoPen)
        if opt.state & QStyle.StateFlag.State_Selected:
            # on the selection colour a tint alone leaves the state's text unreadable (grey on
            # blue): lay the view's own base under the pill so it reads as in an unselected row
            painter.setBrush(opt.palette.color(QPalette.ColorRole.Base))
            painter.drawRoundedRect(pill, height / 2, height / 2)
        painter.setBrush(fill)
        painter.drawRoundedRect(pill, height / 2, height / 2)
        painter.setBrush(colour)
        cy = pill.center().y()
        painter.drawEllipse(QRectF(pill.left() + PAD_X, cy - dot / 2, dot, dot))
        painter.setPen(colour)
        painter.setFont(opt.font)
        text_rect = QRectF(pill.left() + PAD_X + dot + GAP, pill.top(), width, height)
        painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
                         shown)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        base = super().sizeHint(option, index)
        metrics = QFontMetrics(option.font)
        dot = theme.Sizes.STATE_DOT
        width = 2 * MARGIN + 2 * PAD_X + dot + GAP + metrics.horizontalAdvance(text)
        return QSize(max(base.width(), width), max(base.height(), metrics.height() + 10))
