"""Groups on the canvas: a collapsed group is one box with the group's ports, output shapes and parameter sum
(``GroupItem``); an expanded one is a frame behind its members with the same facts in its title band
(``FrameItem``). Both show what the document and its inference say and never edit the document;
double-clicking either asks the scene to fold or unfold the group.
"""

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

from gui.theme import category_colour

from . import formatting
from .node_item import RADIUS, NodeFace, NodeItem

CATEGORY = "Group"
STACK_OFFSET = 5.0  # the cards drawn behind a collapsed group, one more when it repeats
FRAME_MARGIN = 18.0
FRAME_HEADER = 26.0


def group_layers(group):
    """``3 × 7 layers``, or ``7 layers``."""
    return f"{group.repeat} × {len(group.members)} layers" if group.repeat > 1 else f"{len(group.members)} layers"


def group_summary(group, info):
    """``3 × 7 layers · 1.2M params`` (the parameters of every copy together)."""
    return group_layers(group) + (f" · {formatting.short_count(info.params)} params" if info and info.params else "")


def group_problem(info):
    """``(severity, message)`` of a group: its own error, then its layers' errors and warnings."""
    if info is None:
        return None, None
    if info.error:
        return "error", info.error
    if info.member_errors:
        layers = "1 layer inside has" if info.member_errors == 1 else f"{info.member_errors} layers inside have"
        return "error", f"{layers} errors: double-click to open the group"
    if info.member_warnings:
        layers = "1 layer inside does" if info.member_warnings == 1 else f"{info.member_warnings} layers inside do"
        return "warning", f"{layers} not lead to the Output"
    return None, None


def group_face(group, info):
    """The NodeFace of a collapsed group: one input slot per outside value it reads, one output per member
    value read outside."""
    known = info is not None
    outputs = info.outputs if known else ()
    shapes = ", ".join(formatting.shape(s) for s in outputs if s is not None)
    severity, message = group_problem(info)
    tip = [f"<b>{group.name}</b> · group of {group_summary(group, info)}"]
    if known and info.in_shapes:
        tip.append("in: " + ", ".join(formatting.shape(s) for s in info.in_shapes))
    if shapes:
        tip.append(f"out: {shapes} · {formatting.count(info.params)} parameters · {formatting.count(info.macs)} MACs")
    tip.append("Double-click to open it")
    type_name = f"Group ×{group.repeat}" if group.repeat > 1 else "Group"
    out_tips = tuple(f"output {k}: {formatting.shape(s)}" if s is not None else f"output {k}"
                     for k, s in enumerate(outputs))
    return NodeFace(group.name, type_name, CATEGORY, group_layers(group), shapes,
                    f"{formatting.short_count(info.params)} params" if known and info.params else "",
                    message if severity == "error" else None, message if severity == "warning" else None,
                    False, "", tuple(range(len(info.in_shapes))) if known else (), out_tips, "<br>".join(tip))


class GroupItem(NodeItem):
    """A collapsed group: a node-like box on a stack of cards (two when it repeats)."""

    def __init__(self, group_id):
        super().__init__(group_id)
        self.group_id = group_id
        self.repeats = False

    def boundingRect(self):
        return super().boundingRect().adjusted(0, 0, 2 * STACK_OFFSET, 2 * STACK_OFFSET)

    def paint(self, painter, option, widget=None):
        if self.face is None:
            return
        style = self.scene().style
        for k in (2, 1) if self.repeats else (1,):
            card = QRectF(0, 0, self.body_rect().width(), self.height).translated(k * STACK_OFFSET, k * STACK_OFFSET)
            painter.setPen(QPen(style.node_border, 1.0))
            painter.setBrush(style.node_body)
            painter.drawRoundedRect(card, RADIUS, RADIUS)
        super().paint(painter, option, widget)

    def mouseDoubleClickEvent(self, event):
        self.scene().groupFoldRequested.emit(self.group_id)
        event.accept()


class FrameItem(QGraphicsItem):
    """An expanded group: a tinted frame behind its members; the title band selects the group and a
    double-click on it folds the group back into one box."""

    def __init__(self, group_id):
        super().__init__()
        self.group_id = group_id
        self.rect = QRectF()
        self.title = ""
        self.severity = None
        self.setFlag(QGraphicsItem.ItemIsSelectable)
        self.setZValue(-1)
        self._font = QFont()
        self._font.setPixelSize(12)
        self._font.setBold(True)

    def sync(self, group, info, members_rect):
        """Follow the group's name and counts and its members' extent (scene coordinates)."""
        rect = members_rect.adjusted(-FRAME_MARGIN, -FRAME_MARGIN - FRAME_HEADER, FRAME_MARGIN, FRAME_MARGIN)
        title = f"▾ {group.name}  ·  {group_summary(group, info)}"
        severity, message = group_problem(info)
        if (rect, title, severity) != (self.rect, self.title, self.severity):
            self.prepareGeometryChange()
            self.rect, self.title, self.severity = rect, title, severity
            self.setToolTip((message or "") + ("<br>" if message else "") + "Double-click the title to fold the group")
            self.update()

    def header_rect(self):
        return QRectF(self.rect.topLeft(), self.rect.topRight()).adjusted(0, 0, 0, FRAME_HEADER)

    def boundingRect(self):
        return self.rect.adjusted(-2, -2, 2, 2)

    def shape(self):
        path = QPainterPath()
        path.addRoundedRect(self.header_rect(), RADIUS, RADIUS)
        return path

    def paint(self, painter, option, widget=None):
        style = self.scene().style
        colour = category_colour(CATEGORY)
        fill = QColor(colour)
        fill.setAlpha(28)
        border = style.selection if self.isSelected() else (style.error if self.severity == "error" else colour)
        painter.setPen(QPen(border, 2.0 if self.isSelected() else 1.4, Qt.DashLine))
        painter.setBrush(fill)
        painter.drawRoundedRect(self.rect, RADIUS + 3, RADIUS + 3)
        band = QColor(colour)
        band.setAlpha(200)
        painter.setPen(Qt.NoPen)
        painter.setBrush(band)
        painter.drawRoundedRect(self.header_rect(), RADIUS, RADIUS)
        painter.setPen(QColor("white"))
        painter.setFont(self._font)
        text_rect = self.header_rect().adjusted(10, 0, -10, 0)
        painter.drawText(text_rect, Qt.AlignLeft | Qt.AlignVCenter,
                         QFontMetricsF(self._font).elidedText(self.title, Qt.ElideRight, text_rect.width()))

    def mouseDoubleClickEvent(self, event):
        self.scene().groupFoldRequested.emit(self.group_id)
        event.accept()

