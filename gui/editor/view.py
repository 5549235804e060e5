"""The canvas widget: zoom under the cursor, pan with the middle button or Space+drag, fit, box and
Ctrl/Shift-click selection, layers dropped from the palette, the search popup, in-place renaming, and the
start page while the network is empty."""

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QSize, Qt, Signal
from PySide6.QtGui import QMouseEvent, QPainter, QTransform
from PySide6.QtWidgets import QGraphicsView, QLineEdit

from engine.graph.templates import list_templates

from .compatibility import Anchor
from .minimap import Minimap
from .node_item import READABLE_ZOOM, NodeItem
from .search_popup import SearchPopup, node_choices
from .start_page import StartPage
from .user_blocks import BLOCK_MIME

LAYER_MIME = "application/x-layerlab-layer-type"
FIND = "find"  # the search context of Find, instead of an Anchor
MIN_ZOOM, MAX_ZOOM = 0.08, 3.0
FIT_MARGIN = 60.0


def _shift_as_ctrl(event):
    """Shift-click adds to the selection like Ctrl-click (Qt knows only Ctrl)."""
    if not event.modifiers() & Qt.ShiftModifier:
        return event
    return QMouseEvent(event.type(), event.position(), event.globalPosition(), event.button(), event.buttons(),
                       (event.modifiers() & ~Qt.ShiftModifier) | Qt.ControlModifier)


class _RenameField(QLineEdit):
    cancelled = Signal()

    def keyPressEvent(self, event):
        if event.key() == Qt.Key_Escape:
            self.cancelled.emit()
            return
        super().keyPressEvent(event)


class NetworkView(QGraphicsView):
    addRequested = Signal(str, QPointF, object)  # layer type, scene position, Anchor or None
    blockDropped = Signal(str, QPointF)  # a palette block's name, scene position
    renameCommitted = Signal(str, str)  # node id, new name
    findChosen = Signal(str)  # node id

    def __init__(self, scene, candidates, parent=None):
        """``candidates(anchor)`` lists the layer types the search offers at an anchor."""
        super().__init__(scene, parent)
        self._candidates = candidates
        self.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing | QPainter.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.IntersectsItemShape)
        self.setTransformationAnchor(QGraphicsView.NoAnchor)
        self.setResizeAnchor(QGraphicsView.AnchorViewCenter)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setViewportUpdateMode(QGraphicsView.SmartViewportUpdate)
        self.setOptimizationFlags(QGraphicsView.DontSavePainterState)
        self.setFrameShape(QGraphicsView.NoFrame)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self._pan_from = None
        self._space = False
        self.search = SearchPopup(self)
        self.search.chosen.connect(self._search_chosen)
        self._search_context = (QPointF(), None)
        self._rename = None
        self.start_page = StartPage(list_templates(), self.viewport())
        scene.inferenceUpdated.connect(self._update_start_page)
        self._update_start_page()
        self.minimap = Minimap(self)

    # ----- zoom and pan -----
    def zoom(self):
        return self.transform().m11()

    def zoom_by(self, factor, view_pos=None):
        """Zoom by ``factor`` keeping the scene point under ``view_pos`` (default: the centre) in place."""
        view_pos = view_pos if view_pos is not None else self.viewport().rect().center()
        factor = max(MIN_ZOOM / self.zoom(), min(MAX_ZOOM / self.zoom(), factor))
        fixed = self.mapToScene(view_pos)
        self.scale(factor, factor)
        moved = self.mapFromScene(fixed) - view_pos
        self.pan_by(moved.x(), moved.y())
        self.minimap.follow_view()

    def wheelEvent(self, event):
        """The wheel zooms; Shift+wheel (or a sideways swipe) scrolls sideways, along a long network."""
        delta = event.angleDelta()
        if event.modifiers() & Qt.ShiftModifier or (delta.x() and not delta.y()):
            self.pan_by(-(delta.x() or delta.y()), 0)
        else:
            self.zoom_by(1.0015 ** delta.y(), event.position().toPoint())
        event.accept()

    def fit(self, rect=None):
        """Show ``rect`` (default: all nodes) with a margin, no larger than 1:1 and never so small that
        the nodes' text is unreadable: what does not fit then is scrolled to, from its start (top left)."""
        rect = rect if rect is not None else self.scene().nodes_rect()
        if rect.isNull():
            self.resetTransform()
            self.centerOn(0, 0)
            return
        framed = rect.adjusted(-FIT_MARGIN, -FIT_MARGIN, FIT_MARGIN, FIT_MARGIN)
        self.fitInView(framed, Qt.KeepAspectRatio)
        zoom = min(max(self.zoom(), READABLE_ZOOM), 1.0)
        self.setTransform(QTransform.fromScale(zoom, zoom))
        seen = self.viewport().rect()
        width, height = seen.width() / zoom, seen.height() / zoom
        x = framed.left() + width / 2 if framed.width() > width else rect.center().x()
        y = framed.top() + height / 2 if framed.height() > height else rect.center().y()
        self.centerOn(x, y)
        self.minimap.follow_view()

    def pan_by(self, dx, dy):
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + round(dx))
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + round(dy))

    def _start_pan(self, pos):
        self._pan_from = pos
        self.viewport().setCursor(Qt.ClosedHandCursor)

    def mousePressEvent(self, event):
        if event.button() == Qt.MiddleButton or (event.button() == Qt.LeftButton and self._space):
            self._start_pan(event.position().toPoint())
            event.accept()
            return
        super().mousePressEvent(_shift_as_ctrl(event))

    def mouseMoveEvent(self, event):
        if self._pan_from is not None:
            pos = event.position().toPoint()
            delta = pos - self._pan_from
            self._pan_from = pos
            self.pan_by(-delta.x(), -delta.y())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event):
        if self._pan_from is not None and event.button() in (Qt.MiddleButton, Qt.LeftButton):
            self._pan_from = None
            self.viewport().setCursor(Qt.OpenHandCursor if self._space else Qt.ArrowCursor)
            event.accept()
            return
        super().mouseReleaseEvent(_shift_as_ctrl(event))

    def keyPressEvent(self, event):
        if not self._space_key(event, True):
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event):
        if not self._space_key(event, False):
            super().keyReleaseEvent(event)

    def _space_key(self, event, down):
        """Take a press or release of the space bar (held, the mouse pans, under an open hand); False for other keys."""
        if event.key() != Qt.Key_Space or event.isAutoRepeat():
            return False
        self._space = down
        self.viewport().setCursor(Qt.OpenHandCursor if down else Qt.ArrowCursor)
        event.accept()
        return True

    def event(self, event):
        if event.type() == QEvent.KeyPress and event.key() == Qt.Key_Tab and self.scene().editable:
            self.open_search(self.cursor_scene_pos() or self.view_centre())
            return True
        return super().event(event)

    def mouseDoubleClickEvent(self, event):
        pos = self.mapToScene(event.position().toPoint())
        if self.itemAt(event.position().toPoint()) is None and event.button() == Qt.LeftButton:
            if self.scene().editable:
                self.open_search(pos)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    # ----- the start page -----
    def _update_start_page(self):
        """The start page shows while the network is empty, and goes as soon as it has a node."""
        self.start_page.setVisible(not self.scene().node_items)
        self._place_start_page()

    def _place_start_page(self):
        if not self.start_page.isHidden():
            self.start_page.place(self.viewport().rect())

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._place_start_page()
        self.minimap.follow_view()

    def scrollContentsBy(self, dx, dy):
        super().scrollContentsBy(dx, dy)  # this moves the viewport's children too: put the start page back
        self._place_start_page()
        self.minimap.follow_view()

    # ----- search -----
    def open_search(self, scene_pos, anchor=None):
        """The layer search at ``scene_pos``; the chosen layer is added there (attached at ``anchor``)."""
        if not self.viewport().rect().contains(self.mapFromScene(scene_pos)):
            scene_pos = self.mapToScene(self.viewport().rect().center())
        self._search_context = (scene_pos, anchor)
        title = {"out": "Add a layer after this one", "in": "Add a layer feeding this input",
                 "edge": "Insert a layer"}.get(anchor.kind if anchor else None, "Add a layer")
        global_pos = self.viewport().mapToGlobal(self.mapFromScene(scene_pos))
        self.search.open_at(global_pos, self._candidates(anchor), title)

    def _search_chosen(self, key):
        scene_pos, anchor = self._search_context
        if anchor == FIND:
            self.findChosen.emit(key)
        else:
            self.addRequested.emit(key, scene_pos, anchor)

    def open_find(self):
        """Find a node by name or type (Ctrl+F), at the top of the canvas; the choice is shown and selected."""
        self._search_context = (QPointF(), FIND)
        top = self.viewport().mapToGlobal(QPoint(max(0, self.viewport().width() // 2 - 150), 12))
        self.search.open_at(top, self.scene().document.nodes.values(), "Find a layer", node_choices,
                            "Name or type…")

    # ----- palette drops -----
    def _layer_drag(self, event):
        mime = event.mimeData()
        return (mime.hasFormat(LAYER_MIME) or mime.hasFormat(BLOCK_MIME)) and self.scene().editable

    def dragEnterEvent(self, event):
        if self._layer_drag(event):
            event.acceptProposedAction()
        else:
            event.ignore()  # files go on to the window, which opens them

    def dragMoveEvent(self, event):
        if not self._layer_drag(event):
            event.ignore()
            return
        event.acceptProposedAction()
        self.scene().highlight_edge(self.scene().edge_at(self.mapToScene(event.position().toPoint())))

    def dragLeaveEvent(self, event):
        self.scene().highlight_edge(None)

    def dropEvent(self, event):
        if not self._layer_drag(event):
            event.ignore()
            return
        self.scene().highlight_edge(None)
        pos = self.mapToScene(event.position().toPoint())
        if event.mimeData().hasFormat(BLOCK_MIME):
            event.acceptProposedAction()
            self.blockDropped.emit(bytes(event.mimeData().data(BLOCK_MIME)).decode("utf-8", "replace"), pos)
            return
        type_name = bytes(event.mimeData().data(LAYER_MIME)).decode()
        edge = self.scene().edge_at(pos)
        event.acceptProposedAction()
        self.addRequested.emit(type_name, pos, Anchor.on_edge(edge) if edge else None)

    # ----- renaming in place -----
    def start_rename(self, node_id):
        item = self.scene().node_items.get(node_id)
        if not isinstance(item, NodeItem):
            return
        self.finish_rename(commit=False)
        header = self.mapFromScene(item.mapToScene(item.header_rect())).boundingRect()
        field = _RenameField(item.face.name, self.viewport())
        size = QSize(max(140, header.width() - 8), max(24, header.height() - 4))
        field.setGeometry(QRect(header.center() - QPoint(size.width() // 2, size.height() // 2), size))
        field.selectAll()
        field.editingFinished.connect(lambda: self.finish_rename(commit=True))
        field.cancelled.connect(lambda: self.finish_rename(commit=False))
        field.setProperty("node_id", node_id)
        field.show()
        field.setFocus()
        self._rename = field

    def finish_rename(self, commit=True):
        field, self._rename = self._rename, None
        if field is None:
            return
        node_id, text = field.property("node_id"), field.text().strip()
        field.hide()
        field.deleteLater()
        self.setFocus()
        if commit and node_id in self.scene().node_items and text != self.scene().node_items[node_id].face.name:
            self.renameCommitted.emit(node_id, text)

    @property
    def rename_field(self):
        return self._rename

    def centre_on_node(self, node_id):
        item = self.scene().node_items.get(node_id)
        if item is not None and not self.mapToScene(self.viewport().rect()).boundingRect().contains(
                item.sceneBoundingRect()):
            self.centerOn(item)

    def view_centre(self):
        return self.mapToScene(self.viewport().rect().center())

    def cursor_scene_pos(self):
        """The cursor's scene position if it is over the canvas, else None."""
        pos = self.viewport().mapFromGlobal(self.cursor().pos())
        return self.mapToScene(pos) if self.viewport().rect().contains(QPoint(pos)) else None
