"""The minimap: the whole network in the canvas's corner, each node a swatch of its category's colour, with the
part on screen outlined. Clicking or dragging on it moves the canvas there. It shows while the network does
not fit on screen (View ▸ Minimap turns it off). The nodes are drawn into a pixmap once per edit, so panning
and zooming only draw the pixmap and the outline."""

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QWidget

from gui.theme import category_colour

MAX_SIZE = QSize(220, 140)
MIN_HEIGHT = 36
SHARE = 0.3  # of the canvas's width, at most
MARGIN = 12  # from the canvas's corner
PAD = 6  # inside the minimap, around the network
MIN_OUTLINE = 6.0  # pixels: the part on screen stays visible in a very long network


class Minimap(QWidget):
    def __init__(self, view):
        super().__init__(view)
        self.view = view
        self.enabled = True
        self._pixmap = None
        self._bounds = None  # the scene rectangle the minimap shows (the nodes'), None until measured
        self.setFixedSize(MAX_SIZE)
        self.setCursor(Qt.PointingHandCursor)
        self.setToolTip("The whole network: click or drag to move the canvas there")
        view.scene().document.subscribe(self._on_document_event)

    def _on_document_event(self, event, payload):
        if event in ("changed", "reset"):
            self.invalidate()

    def invalidate(self):
        """Measure and draw the nodes again (the network or the theme changed)."""
        self._pixmap, self._bounds = None, None
        self.follow_view()

    def _nodes_rect(self):
        if self._bounds is None:
            self._bounds = self.view.scene().nodes_rect()
        return self._bounds

    def set_enabled(self, on):
        self.enabled = bool(on)
        self.follow_view()

    def follow_view(self):
        """Show (in the corner) while the network does not fit the canvas; repaint the outline."""
        scene = self.view.scene()
        if scene is None:  # the window is closing
            return
        visible = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        nodes = self._nodes_rect()
        wanted = self.enabled and bool(scene.node_items) and not visible.contains(nodes)
        self.setVisible(wanted)
        if wanted:
            port = self.view.viewport().geometry()
            width = min(MAX_SIZE.width(), max(80, round(port.width() * SHARE)))
            aspect = nodes.height() / max(nodes.width(), 1.0)
            size = QSize(width, min(MAX_SIZE.height(), max(MIN_HEIGHT, round((width - 2 * PAD) * aspect) + 2 * PAD)))
            if size != self.size():
                self.setFixedSize(size)
                self._pixmap = None
            self.move(port.right() - size.width() - MARGIN, port.bottom() - size.height() - MARGIN)
            self.update()

    # ----- drawing -----
    def _transform(self):
        """``(scale, offset)`` mapping scene points into the minimap."""
        bounds, width, height = self._nodes_rect(), self.width(), self.height()
        scale = min((width - 2 * PAD) / max(bounds.width(), 1.0), (height - 2 * PAD) / max(bounds.height(), 1.0))
        offset = QPointF(PAD + (width - 2 * PAD - bounds.width() * scale) / 2,
                         PAD + (height - 2 * PAD - bounds.height() * scale) / 2)
        return scale, offset

    def _to_map(self, rect):
        scale, offset = self._transform()
        return QRectF(offset + (rect.topLeft() - self._nodes_rect().topLeft()) * scale, rect.size() * scale)

    def _render_nodes(self):
        scene = self.view.scene()
        pixmap = QPixmap(self.size() * self.devicePixelRatioF())
        pixmap.setDevicePixelRatio(self.devicePixelRatioF())
        pixmap.fill(Qt.transparent)
        painter = QPainter(pixmap)
        style = scene.style
        background = QColor(style.background)
        background.setAlpha(225)
        painter.setPen(QPen(style.node_border, 1))
        painter.setBrush(background)
        painter.drawRoundedRect(QRectF(0.5, 0.5, self.width() - 1, self.height() - 1), 6, 6)
        painter.setPen(Qt.NoPen)
        by_colour = {}
        for item in scene.shown_items():
            category = item.face.category if item.face else ""
            by_colour.setdefault(category, []).append(self._to_map(item.body_rect()))
        for category, rects in by_colour.items():
            painter.setBrush(category_colour(category) if category else style.node_border)
            for rect in rects:  # at least a pixel, however large the network
                painter.drawRect(QRectF(rect.topLeft(), rect.size().expandedTo(QSize(1, 1))))
        painter.end()
        self._pixmap = pixmap

    def paintEvent(self, event):
        if self._pixmap is None:
            self._render_nodes()
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._pixmap)
        visible = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        painter.setPen(QPen(self.view.scene().style.selection, 1.5))
        painter.setBrush(Qt.NoBrush)
        outline = self._to_map(visible)
        grow_x, grow_y = max(0.0, MIN_OUTLINE - outline.width()) / 2, max(0.0, MIN_OUTLINE - outline.height()) / 2
        outline = outline.adjusted(-grow_x, -grow_y, grow_x, grow_y)
        painter.drawRect(outline.intersected(QRectF(1, 1, self.width() - 2, self.height() - 2)))

    # ----- moving the canvas -----
    def _centre_at(self, pos):
        scale, offset = self._transform()
        self.view.centerOn(self._nodes_rect().topLeft() + (QPointF(pos) - offset) / scale)

    def mousePressEvent(self, event):
        if event.button() == Qt.LeftButton:
            self._centre_at(event.position())
            event.accept()

    def mouseMoveEvent(self, event):
        if event.buttons() & Qt.LeftButton:
            self._centre_at(event.position())
            event.accept()
