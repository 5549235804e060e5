"""The connection points of a node: its outputs on the right (one, or one per piece of a Split), input
slots on the left.

A port item is the target of the mouse: it starts and ends connection drags (the scene decides what they
mean, see ``NetworkScene.begin_connection``) and rings itself under the cursor. The dots themselves are
drawn by the node, in its cached picture.
"""

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPen
from PySide6.QtWidgets import QGraphicsItem

from .hover import HoverHighlight

RADIUS = 5.5
HIT_RADIUS = 10.0
_HIT_RECT = QRectF(-HIT_RADIUS, -HIT_RADIUS, 2 * HIT_RADIUS, 2 * HIT_RADIUS)


class PortItem(HoverHighlight, QGraphicsItem):
    """``kind`` is ``'in'`` or ``'out'``; an input slot's ``port`` is its connection's port number, or
    None for a free slot (connecting there appends); an output's is the output's number."""

    def __init__(self, parent, kind, port=None):
        super().__init__(parent)
        self.kind, self.port = kind, port
        self.connected = False
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CrossCursor)
        self.setZValue(2)

    @property
    def node_id(self):
        return self.parentItem().node_id

    def boundingRect(self):
        return _HIT_RECT

    def paint(self, painter, option, widget=None):
        """Only the hover ring: the port itself is drawn (and cached) with its node."""
        if self._hover:
            painter.setPen(QPen(self.scene().style.selection, 2.0))
            painter.setBrush(Qt.NoBrush)
            r = RADIUS + 2.5
            painter.drawEllipse(QRectF(-r, -r, 2 * r, 2 * r))

    def mousePressEvent(self, event):
        if event.button() != Qt.LeftButton or not self.scene().editable:
            event.ignore()
            return
        self.scene().begin_connection(self, event.scenePos())
        event.accept()

    def mouseMoveEvent(self, event):
        self.scene().drag_connection(event.scenePos())

    def mouseReleaseEvent(self, event):
        self.scene().finish_connection(event.scenePos())
