"""Connections on the canvas: the curve of a document edge, the curve that follows the mouse while a
connection is dragged, and the tip that says why a connection is refused.

A connection that would pass through other nodes (a residual shortcut along its main path) detours
through a lane just below them, so it is never hidden behind the layers it skips.
"""

import functools

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from .hover import HoverHighlight
from .node_item import NodeItem

LANE_GAP = 24.0  # between the nodes a detour passes and its lane
BEND = 70.0  # horizontal run of a detour's bends down to its lane and back up
MAX_DETOURS = 3


def curve(start, end, path=None):
    """A horizontal S-curve from an output (left) to an input (right), appended to ``path`` if given."""
    path = path if path is not None else QPainterPath(start)
    dx = max(40.0, abs(end.x() - start.x()) * 0.5)
    path.cubicTo(QPointF(start.x() + dx, start.y()), QPointF(end.x() - dx, end.y()), end)
    return path


def detour(start, end, lane_y):
    """Down (or up) from ``start`` to a horizontal lane at ``lane_y``, along it, and back to ``end``."""
    down, up = QPointF(start.x() + BEND, lane_y), QPointF(end.x() - BEND, lane_y)
    path = curve(start, down)
    path.lineTo(up)
    return curve(up, end, path)


def routed_curve(start, end, blockers):
    """The curve from ``start`` to ``end``, detouring below the nodes it would cross; ``blockers(path)``
    lists the scene rectangles of the nodes (other than its ends) that ``path`` crosses."""
    path = curve(start, end)
    if end.x() - start.x() <= 2 * BEND:
        return path
    for _ in range(MAX_DETOURS):
        in_way = blockers(path)
        if not in_way:
            break
        lowest = max(rect.bottom() for rect in in_way)
        path = detour(start, end, max(lowest + LANE_GAP, _lane_of(path)))
    return path


def _lane_of(path):
    """The lane of a detour already tried (the bottom of its bounding box), so a new one only goes lower."""
    return path.boundingRect().bottom()


class EdgeItem(HoverHighlight, QGraphicsPathItem):
    """One document edge, drawn from its source's output to its slot on the destination; an end inside a
    collapsed group is drawn at the group's port instead (``retarget``)."""

    def __init__(self, edge, src_item, dst_item):
        super().__init__()
        self.edge, self.src_item, self.dst_item = edge, src_item, dst_item
        self.src_port, self.dst_port = edge.out_port, edge.port  # the ports drawn, on the items drawn
        self.highlighted = False  # a node dragged over it would be inserted here
        self._bounds = None  # boundingRect, until the path changes (Qt asks for it several times a frame)
        self.setFlag(QGraphicsItem.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setZValue(0)

    def retarget(self, src_item, src_port, dst_item, dst_port):
        """Draw from ``src_item``'s output ``src_port`` to ``dst_item``'s slot ``dst_port``; returns whether
        that changed."""
        ends = (src_item, src_port, dst_item, dst_port)
        if ends == (self.src_item, self.src_port, self.dst_item, self.dst_port):
            return False
        self.src_item, self.src_port, self.dst_item, self.dst_port = ends
        return True

    def update_path(self):
        self.setPath(routed_curve(self.src_item.output_anchor(self.src_port),
                                  self.dst_item.input_anchor(self.dst_port), self._nodes_crossed))
        self._bounds = None  # after setPath, which asks for the old one

    def _nodes_crossed(self, path):
        scene = self.scene()
        if scene is None:
            return []
        stroker = QPainterPathStroker()
        stroker.setWidth(4)
        stroke, ends = stroker.createStroke(path), (self.src_item, self.dst_item)
        near = scene.items(stroke.boundingRect(), Qt.IntersectsItemBoundingRect)  # the index's cheap question
        return [item.sceneBoundingRect() for item in near
                if isinstance(item, NodeItem) and item not in ends and item.isVisible()
                and stroke.intersects(item.body_rect())]

    def set_highlighted(self, on):
        if on != self.highlighted:
            self.highlighted = on
            self.update()

    def shape(self):
        stroker = QPainterPathStroker()
        stroker.setWidth(12)
        return stroker.createStroke(self.path())

    def boundingRect(self):
        if self._bounds is None:
            self._bounds = super().boundingRect().adjusted(-4, -4, 4, 4)
        return self._bounds

    def paint(self, painter, option, widget=None):
        style = self.scene().style
        if self.highlighted:
            colour, width = style.valid, 3.6
        elif self.isSelected():
            colour, width = style.selection, 3.0
        else:
            colour = self.src_item.colour if self._hover else style.edge
            width = 2.6 if self._hover else 2.0
        painter.setPen(_pen(colour.rgba(), width))
        painter.setBrush(Qt.NoBrush)
        painter.drawPath(self.path())


@functools.lru_cache(maxsize=256)
def _pen(rgba, width):
    """The round-capped pen of a connection (made once per colour and width: a frame paints every connection)."""
    return QPen(QColor.fromRgba(rgba), width, Qt.SolidLine, Qt.RoundCap)


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
