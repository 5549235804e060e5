"""The Health tab: a table of every layer's latest measures (cells amber or red out of their band, tooltips that
explain), the measure the graph's nodes show, and the distribution over time of the chosen layer's weights,
gradients or activations (TensorBoard's distributions, drawn as one image for one layer, not a wall of charts)."""

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRectF, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.training.health import KINDS
from engine.training.health_measures import KEYS, LEVEL_NAMES, MEASURES
from gui.editor.health_strip import compact

from . import style

EMPTY_TEXT = ("Each layer's health is measured while a run trains (every N steps: the 'health_every' setting): "
              "gradient and weight norms, the update-to-weight ratio of each step, activation statistics, dead and "
              "saturated units. Values out of their band turn amber or red here and on the graph.")
LEVEL_COLOURS = (None, "#ef8f00", "#d32f2f")
DEFAULT_MEASURE = "update_ratio"


class HealthView(QWidget):
    layerActivated = Signal(str)  # a row was clicked: select that layer's node
    measureChanged = Signal(str)  # the measure the graph shows

    def __init__(self, history, parent=None):
        super().__init__(parent)
        self.history = history
        self._shown = None  # the history revision on screen
        self.measure = QComboBox()
        for m in MEASURES:
            self.measure.addItem(m.label, m.key)
        self.measure.setCurrentIndex(KEYS.index(DEFAULT_MEASURE))
        self.measure.setToolTip("The measure each node of the graph shows under it while training")
        self.measure.currentIndexChanged.connect(lambda _: self.measureChanged.emit(self.measure_key))
        self.status = QLabel(EMPTY_TEXT)
        self.status.setWordWrap(True)
        self.status.setStyleSheet(style.MUTED_STYLE)

        self.table = QTableWidget(0, len(MEASURES))
        self.table.setHorizontalHeaderLabels([m.short for m in MEASURES])
        for k, m in enumerate(MEASURES):
            self.table.horizontalHeaderItem(k).setToolTip(f"{m.label}: {m.meaning}")
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setMinimumSectionSize(44)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.itemSelectionChanged.connect(self._row_selected)

        self.kind = QComboBox()
        for kind in KINDS:
            self.kind.addItem(kind, kind)
        self.kind.setCurrentIndex(KINDS.index("activations"))
        self.kind.currentIndexChanged.connect(lambda _: self._draw_histogram())
        self.styler = style.PlotStyler()
        self.plot_widget, self.plot = self.styler.widget("Distribution over time", "value", "step")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.plot.addItem(self.image)
        self.plot_widget.setMinimumHeight(140)

        top = QHBoxLayout()
        top.addWidget(QLabel("Shown on the graph:"))
        top.addWidget(self.measure)
        top.addStretch(1)
        top.addWidget(QLabel("Distribution of"))
        top.addWidget(self.kind)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self.plot_widget)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([520, 360])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(splitter, 1)

    @property
    def measure_key(self):
        return self.measure.currentData()

    @property
    def selected_layer(self):
        rows = self.table.selectionModel().selectedRows()
        return self.history.layers[rows[0].row()] if rows and rows[0].row() < len(self.history.layers) else None

    def select_layer(self, name):
        """Select the row of layer ``name`` (a node's name), if it has one."""
        if name in self.history.layers:
            self.table.selectRow(self.history.layers.index(name))

    def refresh(self):
        """Show the history's latest record, if it changed since the last call."""
        if self._shown == self.history.revision:
            return
        self._shown = self.history.revision
        history = self.history
        if not len(history):
            self.table.setRowCount(0)
            self.status.setText(EMPTY_TEXT)
            self.image.clear()
            return
        step = int(history.steps.column(0)[-1])
        values, levels = history.matrix(), history.levels()
        problems = int((levels > 0).any(axis=1).sum())
        self.status.setText(f"Step {step}: {len(history.layers)} layers measured"
                            + (f", {problems} out of their band" if problems else ", all within their bands")
                            + ". Click a row for its distribution over time; hover a cell for what it means.")
        if self.table.rowCount() != len(history.layers):
            selected = self.selected_layer
            self.table.setRowCount(len(history.layers))
            self.table.setVerticalHeaderLabels(list(history.layers))
            if selected is None and history.layers:
                self.table.selectRow(0)
        for r, layer in enumerate(history.layers):
            for c, measure in enumerate(MEASURES):
                self.table.setItem(r, c, _cell(layer, measure, float(values[r, c]), int(levels[r, c]), step))
        self._draw_histogram()

    def _row_selected(self):
        layer = self.selected_layer
        if layer is not None:
            self._draw_histogram()
            self.layerActivated.emit(layer.split(".", 1)[0])

    def _draw_histogram(self):
        layer, kind = self.selected_layer, self.kind.currentData()
        found = None if layer is None else self.history.histogram_image(layer, kind)
        self.styler.retitle(self.plot, f"Distribution of {kind}: {layer}" if found else
                            "Distribution over time (recorded while training)")
        if found is None:
            self.image.clear()
            return
        image, steps, low, high = found
        image = np.log1p(1000 * image)  # a log scale of the share: the tails stay visible beside the peak
        self.image.setImage(image.T, levels=(0.0, max(float(image.max()), 1e-12)))  # rows: values; columns: steps
        first, last = float(steps[0]), float(steps[-1])
        width = (last - first) * len(steps) / max(len(steps) - 1, 1) if len(steps) > 1 else 1.0
        self.image.setRect(QRectF(first, low, width, high - low))
        self.plot.setXRange(first, first + width, padding=0)
        self.plot.setYRange(low, high, padding=0.02)

    def changeEvent(self, event):
        if event.type() == QEvent.Type.PaletteChange:
            self.styler.apply()
        super().changeEvent(event)


def _cell(layer, measure, value, level, step):
    item = QTableWidgetItem("" if np.isnan(value) else compact(value, measure.share))
    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
    if np.isnan(value):
        item.setToolTip(f"{measure.label} does not apply to '{layer}'")
        return item
    tip = [f"{measure.label} of '{layer}' at step {step}: {compact(value, measure.share)} ({LEVEL_NAMES[level]})",
           measure.meaning]
    if level:
        tip.append(measure.advice(value))
        colour = QColor(LEVEL_COLOURS[level])
        item.setForeground(colour)
        colour.setAlpha(40)
        item.setBackground(colour)
    item.setToolTip("\n".join(tip))
    return item
