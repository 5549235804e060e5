"""A node on the canvas: its name and layer type in a header coloured by category, its key parameters,
output shape and parameter count, an error badge, and its ports.

The item shows what the document and its inference say (``sync``); it never changes the document
itself. Painting is cached per item (DeviceCoordinateCache), so panning over hundreds of nodes stays cheap.

Level of detail: text is sized in scene pixels, so its size on screen is its pixel size times the zoom.
From ``READABLE_ZOOM`` up every text is at least ``READABLE_PX`` on screen and the node shows all it has;
below it the node shows its name and output shape in letters scaled up to stay readable, then its name
alone, then only its coloured box.
"""

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem

from gui.theme import category_colour

from . import formatting
from .health_strip import GAP as HEALTH_GAP
from .health_strip import HealthStrip, level_colour
from .port_item import RADIUS as PORT_RADIUS
from .port_item import PortItem

WIDTH = 184.0
HEADER = 26.0
ROW = 19.0
PAD = 7.0
SLOT_SPACING = 22.0
RADIUS = 7.0
TITLE_PX, BASE_PX, SMALL_PX, MONO_PX = 12, 12, 11, 11  # text sizes in scene pixels
READABLE_PX = 9.0  # the smallest text size on screen that people read without effort
READABLE_ZOOM = READABLE_PX / min(TITLE_PX, BASE_PX, SMALL_PX, MONO_PX)
FULL, OVERVIEW, BOXES = "full", "overview", "boxes"
OVERVIEW_LINE = 1.2  # line height of the zoomed-out overview's letters, in font sizes


@dataclass(frozen=True)
class NodeFace:
    """Everything a node draws, derived from the document and its inference."""

    name: str
    type_name: str
    category: str
    summary: str
    shape: str
    params: str
    error: str | None
    warning: str | None
    blocked: bool
    description: str  # shown where a layer has no key parameters (ReLU: "max(0, x)")
    slots: tuple  # input slots: connection port numbers, None for a free slot
    outputs: tuple  # one tooltip per output port: "output 1: 4×4×5" (none for the Output)
    tooltip: str

    @property
    def has_output(self):
        return bool(self.outputs)


def node_face(node, info, connected):
    """``connected``: the port numbers of the node's input connections, in order."""
    lt = node.layer_type
    connected = tuple(connected)
    free = (None,) if lt.max_inputs != 0 and lt.accepts_more_inputs(len(connected)) else ()
    shape = formatting.outputs(info) if info and info.shape is not None else ""
    params = f"{formatting.short_count(info.params)} params" if info and info.shape is not None and info.params else ""
    if node.frozen:
        params = "frozen"  # its count is in the tooltip and the summary
    tip = [f"<b>{node.name}</b> · {lt.name}" + (" · frozen: its parameters take no updates" if node.frozen else ""),
           lt.description]
    if info and info.in_shapes:
        tip.append("in: " + ", ".join(formatting.shape(s) for s in info.in_shapes))
    if info and info.shape is not None:
        tip.append(f"out: {formatting.outputs(info)} · {formatting.count(info.params)} parameters · "
                   f"{formatting.count(info.macs)} MACs")
    key_params = lt.describe(node.params, info.in_shapes if info else ())
    return NodeFace(node.name, lt.name, lt.category, key_params, shape, params,
                    info.error if info else None, info.warning if info else None, bool(info and info.blocked),
                    lt.description, connected + free, _output_tips(lt, node.params, info), "<br>".join(tip))


def _output_tips(lt, params, info):
    """The tooltip of each output port; a layer with several outputs numbers them, as connections do."""
    count = lt.output_count(params)
    shapes = [formatting.shape(s) for s in info.outputs] if info and len(info.outputs) == count else [""] * count
    if not lt.multi_output:
        return tuple(f"output: {s}" if s else "output" for s in shapes)
    return tuple(f"output {k}: {s}" if s else f"output {k}" for k, s in enumerate(shapes))


SHADOW = QColor(0, 0, 0, 38)
HEADER_TEXT = {"header": QColor("white"), "header_dim": QColor(255, 255, 255, 200)}
BASE, TITLE, SMALL, MONO = range(4)
LEFT, RIGHT = Qt.AlignLeft | Qt.AlignVCenter, Qt.AlignRight | Qt.AlignVCenter


def _text_runs(face):
    """``[(font, colour role, rect, flags, text)]``: the node's text laid out and elided once per face, so
    painting (at every new zoom level) only draws."""
    fonts = NodeItem.FONTS
    metrics = [QFontMetricsF(f) for f in fonts]
    inner = WIDTH - 2 * PAD - 6
    type_width = min(metrics[SMALL].horizontalAdvance(face.type_name), inner * 0.5)
    name_width = inner - type_width - 6
    runs = [(SMALL, "header_dim", QRectF(WIDTH - PAD - 6 - type_width, 0, type_width, HEADER), RIGHT,
             metrics[SMALL].elidedText(face.type_name, Qt.ElideRight, type_width)),
            (TITLE, "header", QRectF(PAD + 3, 0, name_width, HEADER), LEFT,
             metrics[TITLE].elidedText(face.name, Qt.ElideRight, name_width))]
    top = HEADER + PAD - 2
    runs.append((BASE, "text" if face.summary else "text_dim", QRectF(PAD + 6, top, inner, ROW), LEFT,
                 metrics[BASE].elidedText(face.summary or face.description, Qt.ElideRight, inner)))
    row2 = QRectF(PAD + 6, top + ROW, inner, ROW)
    if face.error:
        runs.append((BASE, "error", row2, LEFT, "shape error"))
        return runs
    params_width = metrics[SMALL].horizontalAdvance(face.params)
    runs.append((SMALL, "text_dim", row2, RIGHT, face.params))
    shape = "→ " + face.shape if face.shape else ("waiting for input" if face.blocked else "—")
    width = inner - params_width - 6
    runs.append((MONO, "shape_text" if face.shape else "text_dim", QRectF(row2.x(), row2.y(), width, ROW), LEFT,
                 metrics[MONO].elidedText(shape, Qt.ElideRight, width)))
    return runs


def _header_path():
    """The header band: a rounded rectangle's top part (made once)."""
    global _HEADER_PATH
    if _HEADER_PATH is None:
        rounded, clip = QPainterPath(), QPainterPath()
        rounded.addRoundedRect(QRectF(0, 0, WIDTH, HEADER + RADIUS), RADIUS, RADIUS)
        clip.addRect(QRectF(0, 0, WIDTH, HEADER))
        _HEADER_PATH = rounded.intersected(clip)
    return _HEADER_PATH


_HEADER_PATH = None


def _fonts():
    base = QFont()
    base.setPixelSize(BASE_PX)
    title = QFont(base)
    title.setBold(True)
    title.setPixelSize(TITLE_PX)
    small = QFont(base)
    small.setPixelSize(SMALL_PX)
    mono = QFont("DejaVu Sans Mono")
    mono.setStyleHint(QFont.Monospace)
    mono.setPixelSize(MONO_PX)
    return base, title, small, mono


def detail_level(zoom, body_height=2 * ROW + 2 * PAD - 4):
    """What a node shows at ``zoom``: everything (``FULL``), its name and shape in enlarged letters
    (``OVERVIEW``) while at least one readable line fits its body, or only its box (``BOXES``)."""
    if zoom >= READABLE_ZOOM:
        return FULL
    return OVERVIEW if _overview_px(zoom) * OVERVIEW_LINE <= body_height else BOXES


def _overview_px(zoom):
    """The scene size of letters that are ``READABLE_PX`` on screen at ``zoom``."""
    return READABLE_PX / zoom


class BadgeItem(QGraphicsItem):
    """The error (red) or warning (amber) mark in a node's corner; its tooltip is the message."""

    SIZE = 17.0

    def __init__(self, parent):
        super().__init__(parent)
        self.severity = None
        self.setZValue(3)
        self.setVisible(False)
        self.setCursor(Qt.WhatsThisCursor)

    def show_problem(self, severity, message):
        self.severity = severity
        self.setToolTip(message or "")
        self.setVisible(severity is not None)
        self.update()

    def boundingRect(self):
        return QRectF(-self.SIZE / 2, -self.SIZE / 2, self.SIZE, self.SIZE)

    def paint(self, painter, option, widget=None):
        style = self.scene().style
        colour = style.error if self.severity == "error" else style.warning
        painter.setPen(QPen(style.node_body, 1.8))
        painter.setBrush(colour)
        painter.drawEllipse(self.boundingRect().adjusted(1, 1, -1, -1))
        painter.setPen(QColor("white"))
        font = QFont()
        font.setBold(True)
        font.setPointSizeF(8.5)
        painter.setFont(font)
        painter.drawText(self.boundingRect(), Qt.AlignCenter, "!")


class NodeItem(QGraphicsItem):
    FONTS = None

    def __init__(self, node_id):
        super().__init__()
        self.node_id = node_id
        self.face = None
        self._height = self._bounds = None  # the body's height and the bounds, until the ports change
        self._runs = None  # laid-out text of the face
        self.edges = set()  # EdgeItems attached to this node, kept by the scene
        self.input_ports, self.output_ports = [], []
        self.badge = BadgeItem(self)
        self.badge.setPos(WIDTH - 4, 2)
        self.health = HealthStrip(self, WIDTH)
        self.setFlags(QGraphicsItem.ItemIsSelectable | QGraphicsItem.ItemIsMovable
                      | QGraphicsItem.ItemSendsGeometryChanges)
        self.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
        self.setZValue(1)
        if NodeItem.FONTS is None:
            NodeItem.FONTS = _fonts()

    # ----- what it shows -----
    @property
    def colour(self):
        return category_colour(self.face.category) if self.face else QColor("#888")

    @property
    def height(self):
        if self._height is None:  # (Qt asks for the bounds several times a frame)
            ports = max(len(self.face.slots), len(self.face.outputs)) if self.face else 1
            self._height = HEADER + max(2 * ROW + 2 * PAD - 4, ports * SLOT_SPACING + PAD)
        return self._height

    def sync(self, face):
        """Show ``face``; returns whether anything changed."""
        if face == self.face:
            return False
        old = self.face
        if old is None or old.slots != face.slots or len(old.outputs) != len(face.outputs):
            self.prepareGeometryChange()
            self.face, self._height, self._bounds = face, None, None
            self._build_ports()
            self.health.setPos(0, self.height + HEALTH_GAP)
        else:
            self.face = face
        for port, tip in zip(self.output_ports, face.outputs):
            port.setToolTip(tip)
        self._runs = None
        self.setToolTip(face.tooltip)
        if face.error:
            self.badge.show_problem("error", face.error)
        else:
            self.badge.show_problem("warning" if face.warning else None, face.warning)
        self.update()
        return True

    def show_health(self, badge):
        """Show ``badge`` (a ``HealthBadge``) under the node, and frame the node in its level's colour; None hides
        it."""
        level = badge.level if badge is not None else 0
        if level != self.health.level:
            self.update()
        self.health.setPos(0, self.height + HEALTH_GAP)
        self.health.show_badge(badge)

    def _build_ports(self):
        scene = self.scene()
        for port in [*self.input_ports, *self.output_ports]:
            port.setParentItem(None)
            if scene is not None:
                scene.removeItem(port)
        self.input_ports = []
        for k, number in enumerate(self.face.slots):
            port = PortItem(self, "in", number)
            port.connected = number is not None
            port.setPos(0, self._port_y(k, len(self.face.slots)))
            self.input_ports.append(port)
        self.output_ports = []
        for k in range(len(self.face.outputs)):
            port = PortItem(self, "out", k)
            port.setPos(WIDTH, self._port_y(k, len(self.face.outputs)))
            self.output_ports.append(port)

    @property
    def output_port(self):
        """The first output's port (the only one of most layers), or None for the Output."""
        return self.output_ports[0] if self.output_ports else None

    def _port_y(self, k, count):
        """The height of port ``k`` of ``count`` on one side: centred on the body, ``SLOT_SPACING`` apart."""
        return HEADER + (self.height - HEADER - SLOT_SPACING * (count - 1)) / 2 + k * SLOT_SPACING

    def input_anchor(self, port):
        """Scene position of the input slot holding connection ``port``."""
        for item in self.input_ports:
            if item.port == port:
                return item.scenePos()
        return self.mapToScene(QPointF(0, HEADER + (self.height - HEADER) / 2))

    def output_anchor(self, out_port=0):
        """Scene position of output ``out_port``."""
        count = len(self.face.outputs) if self.face else 1
        return self.mapToScene(QPointF(WIDTH, self._port_y(min(out_port, max(count - 1, 0)), max(count, 1))))

    def body_rect(self):
        """The node's rounded body in scene coordinates (without shadow and port dots)."""
        return QRectF(self.scenePos(), QSizeF(WIDTH, self.height))

    def header_rect(self):
        return QRectF(0, 0, WIDTH, HEADER)

    # ----- Qt -----
    def boundingRect(self):  # with the shadow and the port dots on both sides
        if self._bounds is None:
            self._bounds = QRectF(-PORT_RADIUS - 2, -3, WIDTH + 2 * PORT_RADIUS + 4, self.height + 8)
        return self._bounds

    def shape(self):
        path = QPainterPath()
        path.addRoundedRect(QRectF(0, 0, WIDTH, self.height), RADIUS, RADIUS)
        return path

    def paint(self, painter, option, widget=None):
        if self.face is None:
            return
        style = self.scene().style
        face = self.face
        rect = QRectF(0, 0, WIDTH, self.height)
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        colour = self.colour if not face.warning else _muted(self.colour)
        # soft shadow, body with its border, header band, and a highlight outline when selected or wrong
        painter.setPen(Qt.NoPen)
        painter.setBrush(SHADOW)
        painter.drawRoundedRect(rect.translated(0, 3), RADIUS, RADIUS)
        painter.setPen(QPen(style.node_border, 1.0))
        painter.setBrush(style.node_body)
        painter.drawRoundedRect(rect, RADIUS, RADIUS)
        painter.setPen(Qt.NoPen)
        painter.setBrush(colour)
        painter.drawPath(_header_path())
        health = self.health.level
        if self.isSelected() or face.error:
            painter.setPen(QPen(style.selection if self.isSelected() else style.error, 2.4))
            painter.setBrush(Qt.NoBrush)
            painter.drawRoundedRect(rect, RADIUS, RADIUS)
        elif health:  # dashed: a training measure out of its band, not a selection or a build error
            painter.setPen(QPen(level_colour(style, health), 2.4, Qt.DashLine))
            painter.setBrush(Qt.NoBrush)
            painter.drawRoundedRect(rect, RADIUS, RADIUS)
        self._paint_ports(painter, style, colour)
        level = detail_level(lod, self.height - HEADER)
        if level == FULL:
            self._paint_runs(painter, style)
        elif level == OVERVIEW:
            self._paint_overview(painter, lod, style)

    def _paint_ports(self, painter, style, colour):
        r = PORT_RADIUS
        dot = QRectF(-r, -r, 2 * r, 2 * r)
        painter.setPen(QPen(style.node_body, 1.6))
        painter.setBrush(colour)
        for port in self.output_ports:
            painter.drawEllipse(dot.translated(port.pos()))
        for port in self.input_ports:
            if port.connected:
                painter.setPen(QPen(style.node_body, 1.6))
                painter.setBrush(colour)
            else:  # a free slot: a ring
                painter.setPen(QPen(colour, 2.0))
                painter.setBrush(style.node_body)
            painter.drawEllipse(dot.translated(port.pos()))

    def _paint_runs(self, painter, style):
        if self._runs is None:
            self._runs = _text_runs(self.face)
        fonts = self.FONTS
        for font, role, rect, flags, text in self._runs:
            painter.setFont(fonts[font])
            painter.setPen(HEADER_TEXT[role] if role in HEADER_TEXT else getattr(style, role))
            painter.drawText(rect, flags, text)

    def _paint_overview(self, painter, lod, style):
        """Zoomed out: the name, and the output shape where a second line fits, in letters that stay
        readable on screen."""
        font = QFont(self.FONTS[TITLE])
        font.setPixelSize(round(_overview_px(lod)))
        line = font.pixelSize() * OVERVIEW_LINE
        body = QRectF(PAD, HEADER, WIDTH - 2 * PAD, self.height - HEADER)
        lines = [(self.face.name, style.text)]
        if self.face.shape and 2 * line <= body.height():
            lines.append((self.face.shape, style.shape_text))
        metrics = QFontMetricsF(font)
        painter.setFont(font)
        top = body.center().y() - line * len(lines) / 2
        for k, (text, colour) in enumerate(lines):
            painter.setPen(colour)
            painter.drawText(QRectF(body.x(), top + k * line, body.width(), line), Qt.AlignCenter,
                             metrics.elidedText(text, Qt.ElideRight, body.width()))

    def itemChange(self, change, value):
        scene = self.scene()
        if change == QGraphicsItem.ItemPositionHasChanged and scene is not None and not scene.routing_deferred:
            for edge in self.edges:  # dragged: its connections follow at once
                edge.update_path()
        return super().itemChange(change, value)

    def mouseDoubleClickEvent(self, event):
        if self.header_rect().contains(event.pos()) and self.scene().editable:
            self.scene().renameRequested.emit(self.node_id)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)


def _muted(colour):
    """The header colour of a node left out of the model (it does not reach the Output)."""
    muted = QColor(colour)
    muted.setHsvF(muted.hsvHueF(), muted.hsvSaturationF() * 0.35, min(1.0, muted.valueF() * 0.95))
    return muted

