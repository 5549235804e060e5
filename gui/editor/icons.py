"""Toolbar icons drawn as simple line glyphs in the theme's text colour, so they read in light and dark."""

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

SIZE = 32  # drawn at 2× for crisp toolbar icons


def _arrow(path, tip, back):
    """A chevron at ``tip`` pointing away from ``back``."""
    d = QPointF(tip.x() - back.x(), tip.y() - back.y())
    length = max((d.x() ** 2 + d.y() ** 2) ** 0.5, 1e-6)
    ux, uy = d.x() / length, d.y() / length
    for sx in (1, -1):
        path.moveTo(tip)
        path.lineTo(tip.x() - 6 * ux + 5 * sx * uy, tip.y() - 6 * uy - 5 * sx * ux)


def _new(p):
    p.drawPolyline([QPointF(19, 4), QPointF(8, 4), QPointF(8, 28), QPointF(24, 28), QPointF(24, 9),
                    QPointF(19, 4), QPointF(19, 9), QPointF(24, 9)])


def _open(p):
    p.drawPolyline([QPointF(4, 26), QPointF(4, 7), QPointF(12, 7), QPointF(15, 10), QPointF(26, 10),
                    QPointF(26, 14)])
    p.drawPolygon([QPointF(4, 26), QPointF(9, 14), QPointF(29, 14), QPointF(24, 26)])


def _save(p):
    p.drawPolygon([QPointF(5, 5), QPointF(23, 5), QPointF(27, 9), QPointF(27, 27), QPointF(5, 27)])
    p.drawRect(QRectF(10, 5, 11, 7))
    p.drawRect(QRectF(9, 17, 14, 10))


def _turn(p, mirror):
    path = QPainterPath(QPointF(16 + 10 * mirror, 24))
    path.cubicTo(QPointF(16 + 12 * mirror, 14), QPointF(16 + 2 * mirror, 8), QPointF(16 - 9 * mirror, 12))
    _arrow(path, QPointF(16 - 9 * mirror, 12), QPointF(16 - 2 * mirror, 9))
    p.drawPath(path)


def _layout(p):
    for x, ys in ((5, (14,)), (14, (7, 21)), (23, (14,))):
        for y in ys:
            p.drawRoundedRect(QRectF(x, y, 6, 6), 1.5, 1.5)
    p.drawLine(QPointF(11, 17), QPointF(14, 10))
    p.drawLine(QPointF(11, 17), QPointF(14, 24))
    p.drawLine(QPointF(20, 10), QPointF(23, 17))
    p.drawLine(QPointF(20, 24), QPointF(23, 17))


def _fit(p):
    for (x, y), (dx, dy) in (((4, 4), (1, 1)), ((28, 4), (-1, 1)), ((4, 28), (1, -1)), ((28, 28), (-1, -1))):
        p.drawPolyline([QPointF(x, y + 7 * dy), QPointF(x, y), QPointF(x + 7 * dx, y)])
    p.drawRoundedRect(QRectF(11, 12, 10, 8), 2, 2)


GLYPHS = {"new": _new, "open": _open, "save": _save, "undo": lambda p: _turn(p, 1), "redo": lambda p: _turn(p, -1),
          "layout": _layout, "fit": _fit}


def glyph_icon(name, colour):
    """The icon ``name`` (see GLYPHS) drawn in ``colour``, with a faded copy for the disabled state."""
    icon = QIcon()
    for mode, alpha in ((QIcon.Normal, 255), (QIcon.Disabled, 90)):
        pixmap = QPixmap(SIZE, SIZE)
        pixmap.fill(Qt.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.Antialiasing)
        pen_colour = QColor(colour)
        pen_colour.setAlpha(alpha)
        painter.setPen(QPen(pen_colour, 2.2, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin))
        painter.setBrush(Qt.NoBrush)
        GLYPHS[name](painter)
        painter.end()
        icon.addPixmap(pixmap, mode)
    return icon
