"""The layer palette dock: the user's saved blocks ("My blocks", see ``user_blocks``) and the catalogue's layer
types by category, filtered by a fuzzy search; drag one onto the canvas (or double-click it) to add it."""

import html

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.graph import by_category, get_layer_type, layer_types

from .formatting import count
from .fuzzy import fuzzy_score, layer_score, rank_layer_types
from .search_popup import category_icon
from .user_blocks import BLOCK_MIME, UserBlocks
from .view import LAYER_MIME

MY_BLOCKS = "My blocks"
BLOCK_ROLE = Qt.UserRole + 1  # a block item's block name (a layer item's type name is under Qt.UserRole)


def layer_mime(type_name):
    """What a palette drag carries: the layer type's name under LayerLab's MIME type."""
    mime = QMimeData()
    mime.setData(LAYER_MIME, type_name.encode())
    return mime


def block_mime(name):
    """What a drag of a user block carries: the block's name under its own MIME type."""
    mime = QMimeData()
    mime.setData(BLOCK_MIME, name.encode("utf-8"))
    return mime


class _LayerTree(QTreeWidget):
    def mimeTypes(self):
        return [LAYER_MIME, BLOCK_MIME]

    def mimeData(self, items):
        for item in items:
            if item.data(0, Qt.UserRole):
                return layer_mime(item.data(0, Qt.UserRole))
            if item.data(0, BLOCK_ROLE):
                return block_mime(item.data(0, BLOCK_ROLE))
        return QMimeData()


class Palette(QWidget):
    layerActivated = Signal(str)  # double-click or Enter: add at the centre of the canvas
    blockActivated = Signal(str)  # the same for a user block: its name
    blockRemoveRequested = Signal(str)  # "Delete block" in a block's context menu (the window confirms, then
    # calls ``remove_block``)

    def __init__(self, parent=None, blocks=None):
        super().__init__(parent)
        self.store = blocks if blocks is not None else UserBlocks()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.tree = _LayerTree()
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragOnly)
        self.tree.setIndentation(14)
        self.tree.setRootIsDecorated(True)
        self.tree.setContextMenuPolicy(Qt.CustomContextMenu)
        self.items = {}
        self.block_items = {}  # block name -> item
        self.blocks_group = self._category(MY_BLOCKS)
        for category, types in by_category().items():
            group = self._category(category)
            for lt in types:
                item = QTreeWidgetItem(group, [lt.name])
                item.setData(0, Qt.UserRole, lt.name)
                item.setToolTip(0, f"<b>{lt.name}</b><br>{lt.description}")
                item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDragEnabled)
                self.items[lt.name] = item
        self.reload_blocks()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._activate_first)
        self.tree.itemActivated.connect(self._activated)
        self.tree.customContextMenuRequested.connect(self._show_menu)

    def _category(self, name):
        group = QTreeWidgetItem(self.tree, [name])
        group.setFlags(Qt.ItemIsEnabled)
        group.setIcon(0, category_icon(name))
        font = group.font(0)
        font.setBold(True)
        group.setFont(0, font)
        return group

    def sizeHint(self):
        """Wide enough for the longest layer name (AdaptiveMaxPool2d) beside its indentation and the scroll bar,
        so the dock opens with every name whole."""
        widest = max(self.tree.fontMetrics().horizontalAdvance(name) for name in self.items)
        chrome = 2 * self.tree.indentation() + self.tree.verticalScrollBar().sizeHint().width() + 28
        return QSize(widest + chrome, super().sizeHint().height())

    # ----- user blocks -----
    def reload_blocks(self):
        """List the store's blocks again (after one was saved or removed); files that are not valid blocks are
        left out (``store.problems`` says why)."""
        self.blocks_group.takeChildren()
        self.block_items = {}
        for block in self.store.blocks():
            item = QTreeWidgetItem(self.blocks_group, [block.name])
            item.setData(0, BLOCK_ROLE, block.name)
            item.setToolTip(0, _block_tooltip(block))
            item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDragEnabled)
            self.block_items[block.name] = item
        self.filter(self.search.text())

    def remove_block(self, name):
        """Delete a block from the store and the list (``NetworkFileError`` when its file cannot be removed)."""
        try:
            self.store.remove(name)
        finally:
            self.reload_blocks()

    def block_menu(self, item):
        """The context menu of a block item (None for other items); its action asks to delete the block."""
        name = item.data(0, BLOCK_ROLE) if item is not None else None
        if not name:
            return None
        menu = QMenu(self.tree)
        menu.addAction("Delete block", lambda: self.blockRemoveRequested.emit(name))
        return menu

    def _show_menu(self, pos):
        menu = self.block_menu(self.tree.itemAt(pos))
        if menu is not None:
            menu.exec(self.tree.viewport().mapToGlobal(pos))
            menu.deleteLater()

    def visible_blocks(self):
        if self.blocks_group.isHidden():
            return []
        return [name for name, item in self.block_items.items() if not item.isHidden()]

    # ----- search -----
    def filter(self, text):
        """Show the blocks and layer types matching ``text`` (all when empty); a category without any is hidden."""
        for k in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(k)
            shown = 0
            for j in range(group.childCount()):
                child = group.child(j)
                block = child.data(0, BLOCK_ROLE)
                if not text.strip():
                    match = True
                elif block:
                    match = fuzzy_score(text, block) is not None
                else:
                    match = layer_score(text, get_layer_type(child.data(0, Qt.UserRole))) is not None
                child.setHidden(not match)
                shown += match
            group.setHidden(shown == 0)
        self.tree.expandAll()

    def visible_types(self):
        return [name for name, item in self.items.items() if not item.isHidden() and not item.parent().isHidden()]

    def _activate_first(self):
        """Enter in the search box: add the best match, a block when it matches better than every layer type."""
        text = self.search.text()
        ranked = rank_layer_types(text, layer_types())
        layer = layer_score(text, ranked[0]) if ranked else None
        blocks = [(fuzzy_score(text, name), name) for name in self.block_items]
        blocks = sorted(((s, n) for s, n in blocks if s is not None), key=lambda b: -b[0])
        if blocks and (layer is None or blocks[0][0] > layer):
            self.blockActivated.emit(blocks[0][1])
        elif ranked:
            self.layerActivated.emit(ranked[0].name)

    def _activated(self, item):
        name = item.data(0, Qt.UserRole)
        if name:
            self.layerActivated.emit(name)
        elif item.data(0, BLOCK_ROLE):
            self.blockActivated.emit(item.data(0, BLOCK_ROLE))


def _block_tooltip(block):
    layers = f"{block.layers} layer" + ("" if block.layers == 1 else "s")
    if block.params is not None:
        layers += f", {count(block.params)} parameters"
    description = html.escape(block.description).replace("\n", "<br>")
    description = f"<br>{description}" if description else ""
    return f"<b>{html.escape(block.name)}</b> (my block)<br>{layers}{description}"
