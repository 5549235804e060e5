"""The Health tab: a table of every layer's latest measures (cells amber or red out of their band, tooltips that
explain), the measure the graph's nodes show, and the distribution over time of the chosen layer's weights,
gradients or activations (TensorBoard's distributions, drawn as one image for one layer, not a wall of charts)."""

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRectF, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QBrush, QColor
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
from engine.training.health_measures import KEYS, MEASURES
from gui import theme
from gui.editor.health_strip import compact, level_colour
from gui.widgets import wheel_only_when_focused

from . import style
from .health_badges import tooltip

EMPTY_TEXT = ("Each layer's health is measured while a run trains (every N steps: the 'health_every' setting): "
              "gradient and weight norms, the update-to-weight ratio of each step, activation statistics, dead and "
              "saturated units. Values out of their band turn amber or red here and on the graph.")
DEFAULT_MEASURE = "update_ratio"


class HealthView(QWidget):
    layerActivated = Signal(str)  # a row was clicked: select that layer's node
    measureChanged = Signal(str)  # the measure the graph shows

    def __init__(self, history, parent=None):
        super().__init__(parent)
        self.history = history
        self._shown = None  # the history revision on screen
        self._labels = ()  # the layer of each table row
        self._title = None
        self.measure = wheel_only_when_focused(QComboBox())
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
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.table.horizontalHeader().setMinimumSectionSize(40)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.cellClicked.connect(self._row_clicked)
        self.table.currentCellChanged.connect(lambda *_: self._draw_histogram())

        self.kind = wheel_only_when_focused(QComboBox())
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
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([600, 300])
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
        row = self.table.currentRow()
        return self._labels[row] if 0 <= row < len(self._labels) else None

    def select_layer(self, name):
        """Select the row of layer ``name`` (a node's name), if it has one, without reporting it back."""
        if name in self._labels:
            with QSignalBlocker(self.table):
                self.table.selectRow(self._labels.index(name))
            self._draw_histogram()

    def refresh(self):
        """Show the history's latest record, if it changed since the last call."""
        if self._shown == self.history.revision:
            return
        self._shown = self.history.revision
        history = self.history
        if not len(history):
            self._set_rows(())
            self.status.setText(EMPTY_TEXT)
            self._draw_histogram()
            return
        step = history.last_step
        values, levels = history.matrix(), history.levels()
        problems = int((levels > 0).any(axis=1).sum())
        self.status.setText(f"Step {step}: {len(history.layers)} layers measured"
                            + (f", {problems} out of their band" if problems else ", all within their bands")
                            + ". Click a row for its distribution over time; hover a cell for what it means.")
        self._set_rows(history.layers)
        colours = theme.canvas_style(theme.current_theme())
        for r, layer in enumerate(history.layers):
            for c, measure in enumerate(MEASURES):
                _show_cell(self.table.item(r, c), layer, measure, float(values[r, c]), int(levels[r, c]), step,
                           colours)
        self._draw_histogram()

    def _set_rows(self, layers):
        """One row per layer, its items made once; the first row selected when none was."""
        if tuple(layers) == self._labels:
            return
        selected = self.selected_layer
        self._labels = tuple(layers)
        with QSignalBlocker(self.table):
            self.table.setRowCount(len(layers))
            self.table.setVerticalHeaderLabels(list(layers))
            for r in range(len(layers)):
                for c in range(len(MEASURES)):
                    item = QTableWidgetItem()
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                    self.table.setItem(r, c, item)
            if layers:
                self.table.selectRow(layers.index(selected) if selected in layers else 0)

    def _row_clicked(self, row, _column):  # the histogram follows the current cell already
        if 0 <= row < len(self._labels):
            self.layerActivated.emit(self._labels[row])

    def _draw_histogram(self):
        layer, kind = self.selected_layer, self.kind.currentData()
        found = None if layer is None else self.history.histogram_image(layer, kind)
        title = f"Distribution of {kind}: {layer}" if found else "Distribution over time (recorded while training)"
        if title != self._title:
            self._title = title
            self.styler.relabel(self.plot, title)
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


def _show_cell(item, layer, measure, value, level, step, colours):
    """``item`` showing ``value`` of ``measure`` for ``layer``: tinted amber or red out of its band."""
    if np.isnan(value):
        item.setText("")
        item.setToolTip(f"{measure.label} does not apply to '{layer}'")
        item.setBackground(QBrush())
        return
    item.setText(compact(value, measure.share))
    item.setToolTip(tooltip([(layer, measure, value, level)], step))
    if level:
        tint = QColor(level_colour(colours, level))
        tint.setAlpha(70)
        item.setBackground(tint)
    else:
        item.setBackground(QBrush())
    font = item.font()
    font.setBold(level == 2)
    item.setFont(font)
