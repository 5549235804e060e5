"""The layer palette dock: the catalogue's layer types by category, filtered by a fuzzy search; drag one
onto the canvas (or double-click it) to add it."""

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from engine.graph import by_category, get_layer_type, layer_types

from .fuzzy import layer_score, rank_layer_types
from .search_popup import category_icon
from .view import LAYER_MIME


def layer_mime(type_name):
    """What a palette drag carries: the layer type's name under LayerLab's MIME type."""
    mime = QMimeData()
    mime.setData(LAYER_MIME, type_name.encode())
    return mime


class _LayerTree(QTreeWidget):
    def mimeTypes(self):
        return [LAYER_MIME]

    def mimeData(self, items):
        names = [i.data(0, Qt.UserRole) for i in items if i.data(0, Qt.UserRole)]
        return layer_mime(names[0]) if names else QMimeData()


class Palette(QWidget):
    layerActivated = Signal(str)  # double-click or Enter: add at the centre of the canvas

    def __init__(self, parent=None):
        super().__init__(parent)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.tree = _LayerTree()
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragOnly)
        self.tree.setIndentation(14)
        self.tree.setRootIsDecorated(True)
        self.items = {}
        for category, types in by_category().items():
            group = QTreeWidgetItem(self.tree, [category])
            group.setFlags(Qt.ItemIsEnabled)
            group.setIcon(0, category_icon(category))
            font = group.font(0)
            font.setBold(True)
            group.setFont(0, font)
            for lt in types:
                item = QTreeWidgetItem(group, [lt.name])
                item.setData(0, Qt.UserRole, lt.name)
                item.setToolTip(0, f"<b>{lt.name}</b><br>{lt.description}")
                item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDragEnabled)
                self.items[lt.name] = item
        self.tree.expandAll()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._activate_first)
        self.tree.itemActivated.connect(self._activated)

    def sizeHint(self):
        """Wide enough for the longest layer name (AdaptiveMaxPool2d) beside its indentation and the scroll bar,
        so the dock opens with every name whole."""
        widest = max(self.tree.fontMetrics().horizontalAdvance(name) for name in self.items)
        chrome = 2 * self.tree.indentation() + self.tree.verticalScrollBar().sizeHint().width() + 28
        return QSize(widest + chrome, super().sizeHint().height())

    def filter(self, text):
        """Show the layer types matching ``text`` (all when empty)."""
        for k in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(k)
            shown = 0
            for j in range(group.childCount()):
                child = group.child(j)
                match = not text.strip() or layer_score(text, get_layer_type(child.data(0, Qt.UserRole))) is not None
                child.setHidden(not match)
                shown += match
            group.setHidden(shown == 0)
        self.tree.expandAll()

    def visible_types(self):
        return [name for name, item in self.items.items() if not item.isHidden() and not item.parent().isHidden()]

    def _activate_first(self):
        ranked = rank_layer_types(self.search.text(), layer_types())
        if ranked:
            self.layerActivated.emit(ranked[0].name)

    def _activated(self, item):
        name = item.data(0, Qt.UserRole)
        if name:
            self.layerActivated.emit(name)

