"""Connections on the canvas: the curve of a document edge, the curve that follows the mouse while a
connection is dragged, and the tip that says why a connection is refused."""

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from .hover import HoverHighlight


def curve(start, end):
    """A horizontal S-curve from an output (left) to an input (right)."""
    path = QPainterPath(start)
    dx = max(40.0, abs(end.x() - start.x()) * 0.5)
    path.cubicTo(QPointF(start.x() + dx, start.y()), QPointF(end.x() - dx, end.y()), end)
    return path


class EdgeItem(HoverHighlight, QGraphicsPathItem):
    """One document edge, drawn from its source's output to its slot on the destination."""

    def __init__(self, edge, src_item, dst_item):
        super().__init__()
        self.edge, self.src_item, self.dst_item = edge, src_item, dst_item
        self.highlighted = False  # a node dragged over it would be inserted here
        self.setFlag(QGraphicsItem.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setZValue(0)
        self.update_path()

    def update_path(self):
        self.setPath(curve(self.src_item.output_anchor(), self.dst_item.input_anchor(self.edge.port)))

    def set_highlighted(self, on):
        if on != self.highlighted:
            self.highlighted = on
            self.update()

    def shape(self):
        stroker = QPainterPathStroker()
        stroker.setWidth(12)
        return stroker.createStroke(self.path())

    def boundingRect(self):
        return super().boundingRect().adjusted(-4, -4, 4, 4)

    def paint(self, painter, option, widget=None):
        style = self.scene().style
        if self.highlighted:
            colour, width = style.valid, 3.6
        elif self.isSelected():
            colour, width = style.selection, 3.0
        else:
            colour = QColor(self.src_item.colour) if self._hover else style.edge
            width = 2.6 if self._hover else 2.0
        painter.setPen(QPen(colour, width, Qt.SolidLine, Qt.RoundCap))
        painter.setBrush(Qt.NoBrush)
        painter.drawPath(self.path())


class PendingEdge(QGraphicsPathItem):
    """The curve following the mouse while a connection is dragged: neutral, green on a valid target,
    red on a refused one."""

    def __init__(self):
        super().__init__()
        self.setZValue(5)
        self.state = "none"

    def set_ends(self, start, end, state):
        self.state = state
        self.setPath(curve(start, end))

    def paint(self, painter, option, widget=None):
        style = self.scene().style
        colour = {"valid": style.valid, "refused": style.error}.get(self.state, style.edge)
        pen = QPen(colour, 2.4, Qt.DashLine if self.state == "none" else Qt.SolidLine, Qt.RoundCap)
        painter.setPen(pen)
        painter.drawPath(self.path())


class TipItem(QGraphicsItem):
    """A short message beside the cursor (why a connection is refused), drawn at screen size."""

    def __init__(self):
        super().__init__()
        self.text = ""
        self.setZValue(10)
        self.setFlag(QGraphicsItem.ItemIgnoresTransformations)
        self._font = QFont()
        self._font.setPointSizeF(8.6)

    def set_text(self, text):
        self.prepareGeometryChange()
        self.text = text
        self.setVisible(bool(text))

    def boundingRect(self):
        metrics = QFontMetricsF(self._font)
        rect = metrics.boundingRect(QRectF(0, 0, 320, 200), Qt.TextWordWrap, self.text)
        return QRectF(14, 14, rect.width() + 16, rect.height() + 10)

    def paint(self, painter, option, widget=None):
        style = self.scene().style
        rect = self.boundingRect()
        painter.setPen(QPen(style.error, 1.2))
        painter.setBrush(style.tip_background)
        painter.drawRoundedRect(rect, 5, 5)
        painter.setPen(style.text)
        painter.setFont(self._font)
        painter.drawText(rect.adjusted(8, 5, -8, -5), Qt.TextWordWrap, self.text)
