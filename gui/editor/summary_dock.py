"""The summary dock: every layer's output shape, parameters and MACs in execution order, the totals, and
the list of problems; clicking a row or a problem selects its node."""

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from . import formatting

COLUMNS = ("Name", "Type", "Output shape", "Parameters", "MACs")
ERROR = QColor("#d32f2f")


def _cell(text, node_id, align=Qt.AlignLeft):
    item = QTableWidgetItem(text)
    item.setToolTip(text)  # the whole text where the column elides it (a Split's several shapes)
    item.setData(Qt.UserRole, node_id)
    item.setTextAlignment(align | Qt.AlignVCenter)
    item.setFlags(Qt.ItemIsSelectable | Qt.ItemIsEnabled)
    return item


class SummaryWidget(QWidget):
    nodeActivated = Signal(str)

    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.document = document
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.Interactive)
        header.setSectionResizeMode(0, QHeaderView.Stretch)
        for column, width in enumerate((150, 130, 120, 100, 110)):
            self.table.setColumnWidth(column, width)
        self.totals = QLabel()
        self.totals.setTextFormat(Qt.RichText)
        self.problems = QListWidget()
        self.problems.setWordWrap(True)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.table)
        left_layout.addWidget(self.totals)
        split = QSplitter(Qt.Horizontal)
        split.addWidget(left)
        split.addWidget(self.problems)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([700, 300])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)
        self.table.itemClicked.connect(self._activate)
        self.problems.itemClicked.connect(self._activate)

    def _activate(self, item):
        node_id = item.data(Qt.UserRole)
        if node_id:
            self.nodeActivated.emit(node_id)

    def refresh(self, inference):
        doc = self.document
        order = doc.topological_order()
        self.table.setRowCount(len(order))
        for row, node_id in enumerate(order):
            node, info = doc.nodes[node_id], inference.nodes[node_id]
            used = node_id in inference.used
            shape = "error" if info.error else formatting.outputs(info)
            group = doc.group_of(node_id)
            copies = len(inference.groups[group.id].copies.get(node_id, ())) if group is not None else 0
            name = f"{group.name} › {node.name}" if group is not None else node.name
            cells = (_cell(name + (f"  (×{copies + 1})" if copies else ""), node_id), _cell(node.type, node_id),
                     _cell(shape, node_id),
                     _cell(formatting.count(info.params) + (" frozen" if info.frozen else ""), node_id, Qt.AlignRight),
                     _cell(formatting.count(info.macs), node_id, Qt.AlignRight))
            for column, cell in enumerate(cells):
                if info.error:
                    cell.setForeground(QBrush(ERROR))
                elif not used:
                    cell.setForeground(QBrush(self.palette().placeholderText().color()))
                self.table.setItem(row, column, cell)
        frozen = inference.frozen_params
        frozen_text = f" ({formatting.count(frozen)} frozen)" if frozen else ""
        layers = len(inference.flat.nodes) if inference.flat is not None else len(doc.nodes)
        self.totals.setText(f"<b>{layers}</b> layers · <b>{formatting.count(inference.total_params)}</b> "
                            f"parameters{frozen_text} · <b>{formatting.count(inference.total_macs)}</b> MACs per image")
        self.problems.clear()
        style = self.style()
        if not doc.nodes:
            self.problems.addItem(QListWidgetItem(style.standardIcon(QStyle.SP_MessageBoxInformation),
                                                  formatting.EMPTY_NETWORK))
            return
        for problem in inference.problems:
            icon = style.standardIcon(QStyle.SP_MessageBoxCritical if problem.severity == "error"
                                      else QStyle.SP_MessageBoxWarning)
            item = QListWidgetItem(icon, problem.message)
            item.setData(Qt.UserRole, problem.node_id)
            self.problems.addItem(item)
        if not inference.problems:
            item = QListWidgetItem(style.standardIcon(QStyle.SP_DialogApplyButton), "No problems")
            self.problems.addItem(item)
