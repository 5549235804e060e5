"""The fuzzy layer search that opens at the cursor (Tab, double-click on the canvas, or a connection
dropped on empty canvas): type a few letters, Enter adds the best match."""

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout

from gui.theme import category_colour

from .fuzzy import rank_layer_types


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
    chosen = Signal(str)  # layer type name

    def __init__(self, parent=None):
        super().__init__(parent, Qt.Popup)
        self.setFrameShape(QFrame.StyledPanel)
        self.setMinimumWidth(260)
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: 600; padding: 2px 2px 0 2px;")
        self.field = QLineEdit()
        self.field.setPlaceholderText("Search layers…")
        self.field.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setUniformItemSizes(True)
        self.list.setMinimumHeight(260)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        for widget in (self.title, self.field, self.list):
            layout.addWidget(widget)
        self._types = []
        self.field.textChanged.connect(self._filter)
        self.field.installEventFilter(self)
        self.field.returnPressed.connect(self.accept_current)
        self.list.itemActivated.connect(lambda item: self._choose(item.data(Qt.UserRole)))
        self.list.itemClicked.connect(lambda item: self._choose(item.data(Qt.UserRole)))

    def open_at(self, global_pos, layer_types, title="Add a layer"):
        """Show the search at ``global_pos`` over ``layer_types`` (catalogue order)."""
        self._types = list(layer_types)
        self.title.setText(title)
        self.field.clear()
        self._filter("")
        self.adjustSize()
        self.move(global_pos)
        self.show()
        self.field.setFocus()

    def shown_types(self):
        return [self.list.item(k).data(Qt.UserRole) for k in range(self.list.count())]

    def _filter(self, text):
        self.list.clear()
        for lt in rank_layer_types(text, self._types):
            item = QListWidgetItem(category_icon(lt.category), f"{lt.name}    ·  {lt.category}")
            item.setData(Qt.UserRole, lt.name)
            item.setToolTip(lt.description)
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
