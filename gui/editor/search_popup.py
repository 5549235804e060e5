"""The fuzzy search popups: the layer search that opens at the cursor (Tab, double-click on the canvas, or a
connection dropped on empty canvas: type a few letters, Enter adds the best match) and Find (Ctrl+F: the
network's nodes by name or type, Enter shows the best match)."""

from dataclasses import dataclass

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout

from gui.theme import category_colour

from .fuzzy import rank_layer_types, rank_nodes

MAX_SHOWN = 200  # rows of a search (a 10,000-node network lists its best matches)


@dataclass(frozen=True)
class Choice:
    key: str  # what ``chosen`` reports
    text: str
    category: str  # the colour of its swatch
    tooltip: str = ""


def layer_choices(query, layer_types):
    return [Choice(lt.name, f"{lt.name}    ·  {lt.category}", lt.category, lt.description)
            for lt in rank_layer_types(query, layer_types)]


def node_choices(query, nodes):
    return [Choice(node.id, f"{node.name}    ·  {node.type}", node.layer_type.category)
            for node in rank_nodes(query, nodes)[:MAX_SHOWN]]


def category_icon(category, size=12):
    """A round swatch of the category's colour."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.Antialiasing)
    painter.setPen(Qt.NoPen)
    painter.setBrush(category_colour(category))
    painter.drawEllipse(1, 1, size - 2, size - 2)
    painter.end()
    return QIcon(pixmap)


class SearchPopup(QFrame):
    chosen = Signal(str)  # the chosen Choice's key: a layer type name, or a node id

    def __init__(self, parent=None):
        super().__init__(parent, Qt.Popup)
        self.setFrameShape(QFrame.StyledPanel)
        self.setMinimumWidth(260)
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: 600; padding: 2px 2px 0 2px;")
        self.field = QLineEdit()
        self.field.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setUniformItemSizes(True)
        self.list.setMinimumHeight(260)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        for widget in (self.title, self.field, self.list):
            layout.addWidget(widget)
        self._items, self._choices = [], layer_choices
        self.field.textChanged.connect(self._filter)
        self.field.installEventFilter(self)
        self.field.returnPressed.connect(self.accept_current)
        self.list.itemActivated.connect(lambda item: self._choose(item.data(Qt.UserRole)))
        self.list.itemClicked.connect(lambda item: self._choose(item.data(Qt.UserRole)))

    def open_at(self, global_pos, items, title="Add a layer", choices=layer_choices, placeholder="Search layers…"):
        """Show the search at ``global_pos`` over ``items`` (layer types in catalogue order, or nodes), listed
        as ``choices(query, items)`` ranks them."""
        self._items, self._choices = list(items), choices
        self.title.setText(title)
        self.field.setPlaceholderText(placeholder)
        self.field.clear()
        self._filter("")
        self.adjustSize()
        self.move(global_pos)
        self.show()
        self.field.setFocus()

    def shown_types(self):
        """The keys listed, in order (layer type names, or node ids)."""
        return [self.list.item(k).data(Qt.UserRole) for k in range(self.list.count())]

    def _filter(self, text):
        self.list.clear()
        for choice in self._choices(text, self._items):
            item = QListWidgetItem(category_icon(choice.category), choice.text)
            item.setData(Qt.UserRole, choice.key)
            item.setToolTip(choice.tooltip)
            self.list.addItem(item)
        self.list.setCurrentRow(0)

    def eventFilter(self, obj, event):
        if obj is self.field and event.type() == QEvent.KeyPress and event.key() in (Qt.Key_Up, Qt.Key_Down):
            row = self.list.currentRow() + (1 if event.key() == Qt.Key_Down else -1)
            self.list.setCurrentRow(max(0, min(self.list.count() - 1, row)))
            return True
        return super().eventFilter(obj, event)

    def accept_current(self):
        item = self.list.currentItem()
        if item is not None:
            self._choose(item.data(Qt.UserRole))

    def _choose(self, type_name):
        self.hide()
        self.chosen.emit(type_name)
