"""The evaluation view: test accuracy, per-class accuracy, a confusion matrix heat map with counts, and a
gallery of test images."""

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from . import style
from .gallery import Gallery

MAX_LABELLED_CLASSES = 20  # beyond this the matrix cells are too small for their counts
HEAT = pg.ColorMap([0.0, 0.5, 1.0], [QColor("#f7fbff"), QColor("#6baed6"), QColor("#08306b")])


class ClassAxis(pg.AxisItem):
    """A tick at each class index, labelled with the class name; below a plot, names are shortened with an
    ellipsis to the room each class has, however wide the plot is."""

    def __init__(self, orientation):
        super().__init__(orientation)
        self.names = ()
        self.setStyle(hideOverlappingLabels=False)

    def set_names(self, names):
        self.names = tuple(names)
        self.picture = None  # pyqtgraph's cached drawing of the axis
        self.update()

    def tickValues(self, minVal, maxVal, size):
        low, high = sorted((minVal, maxVal))  # an inverted view gives them the other way round
        return [(1.0, [k for k in range(len(self.names)) if low - 0.5 <= k <= high + 0.5])]

    def tickStrings(self, values, scale, spacing):
        names = [self.names[round(v)] for v in values]
        if self.orientation not in ("top", "bottom"):
            return names
        low, high = self.range
        room = int(spacing * self.geometry().width() / max(high - low, 1e-9)) - 6
        metrics = QFontMetrics(self.style["tickFont"] or QFont())
        return [metrics.elidedText(name, Qt.TextElideMode.ElideRight, max(room, 12)) for name in names]


def _plot(styler, title, left, bottom):
    axes = {"left": ClassAxis("left"), "bottom": ClassAxis("bottom") if bottom == "predicted class" else None}
    widget, plot = styler.widget(title, left, bottom, grid=False, axes={k: v for k, v in axes.items() if v})
    plot.getAxis("left").setWidth(None)  # as wide as the longest class name
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()
    return widget, plot


class EvaluationView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.result = None
        self.classes = ()
        self.headline = QLabel("Train a network to see how it does on the test images.")
        font = self.headline.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setWeight(QFont.Weight.DemiBold)
        self.headline.setFont(font)
        self.details = QLabel()
        self.details.setStyleSheet(style.MUTED_STYLE)

        self.styler = style.PlotStyler()
        self.per_class_widget, self.per_class_plot = _plot(self.styler, "Accuracy per class", "", "accuracy (%)")
        self.per_class_plot.getViewBox().invertY(True)
        self.bars = pg.BarGraphItem(x0=[], y=[], height=0.62, width=[], brush=pg.mkBrush(style.VALIDATION),
                                    pen=pg.mkPen(None))
        self.per_class_plot.addItem(self.bars)
        self.bar_labels = []

        self.matrix_widget, self.matrix_plot = _plot(self.styler, "Confusion matrix", "true class",
                                                       "predicted class")
        self.matrix_plot.getViewBox().invertY(True)
        small = QFont()
        small.setPointSizeF(8)
        for side in ("left", "bottom"):
            self.matrix_plot.getAxis(side).setStyle(tickFont=small)
        self.matrix = pg.ImageItem(axisOrder="row-major")
        self.matrix.setColorMap(HEAT)
        self.matrix_plot.addItem(self.matrix)
        self.cell_labels = []

        self.gallery = Gallery()

        charts = QSplitter(Qt.Orientation.Horizontal)
        charts.addWidget(self.per_class_widget)
        charts.addWidget(self.matrix_widget)
        charts.setSizes([380, 520])
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(charts)
        body.addWidget(self.gallery)
        body.setSizes([420, 260])
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(self.details)
        layout.addWidget(body, 1)

    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # the application's theme changed
            self.styler.apply()

    def show_evaluation(self, data):
        """Fill the view from a worker's ``EvaluationData``."""
        result, classes = data.result, tuple(data.classes) or tuple(str(k) for k in range(len(data.result.confusion)))
        self.result, self.classes = result, classes
        self.headline.setText(f"Test accuracy {100 * result.accuracy:.2f} %")
        worst = int(np.nanargmin(result.per_class_accuracy)) if len(classes) else 0
        self.details.setText(f"{result.count:,} test images  ·  loss {result.loss:.4f}  ·  weakest class: "
                             f"{classes[worst]} ({100 * result.per_class_accuracy[worst]:.0f} %)")
        self._remove_labels()
        self._show_per_class(result.per_class_accuracy, classes)
        self._show_matrix(result.confusion, classes)
        self.gallery.show_results(data.dataset, result.predictions, result.targets, classes)

    def _show_per_class(self, accuracy, classes):
        n = len(classes)
        values = np.nan_to_num(100 * np.asarray(accuracy, float))
        self.bars.setOpts(x0=np.zeros(n), y=np.arange(n), width=values, height=0.62)
        for k, value in enumerate(values):
            label = pg.TextItem(f"{value:.0f} %", color=style.scheme().foreground, anchor=(0, 0.5))
            label.setPos(value + 1.5, k)
            self.per_class_plot.addItem(label)
            self.bar_labels.append(label)
        self.per_class_plot.getAxis("left").set_names(classes)
        self.per_class_plot.setXRange(0, 112, padding=0)
        self.per_class_plot.setYRange(-0.6, n - 0.4, padding=0)

    def _show_matrix(self, cm, classes):
        n = len(classes)
        totals = np.maximum(cm.sum(axis=1, keepdims=True), 1)
        fraction = cm / totals  # colour by the share of each true class, so rare classes read as well
        self.matrix.setImage(fraction.astype(np.float32), levels=(0.0, 1.0))
        self.matrix.setRect(-0.5, -0.5, n, n)
        if n <= MAX_LABELLED_CLASSES:
            for i in range(n):
                for j in range(n):
                    color = "#ffffff" if fraction[i, j] > 0.55 else "#263238"
                    label = pg.TextItem(str(int(cm[i, j])), color=color, anchor=(0.5, 0.5))
                    label.setPos(j, i)
                    self.matrix_plot.addItem(label)
                    self.cell_labels.append(label)
        for side in ("left", "bottom"):
            self.matrix_plot.getAxis(side).set_names(classes)
        self.matrix_plot.setRange(xRange=(-0.5, n - 0.5), yRange=(-0.5, n - 0.5), padding=0)

    def _remove_labels(self):
        for plot, labels in ((self.per_class_plot, self.bar_labels), (self.matrix_plot, self.cell_labels)):
            for label in labels:
                plot.removeItem(label)
            labels.clear()

    def clear(self):
        self.result, self.classes = None, ()
        self.headline.setText("Train a network to see how it does on the test images.")
        self.details.setText("")
        self.bars.setOpts(x0=[], y=[], width=[])
        self.matrix.clear()
        self._remove_labels()
        for axis in (self.per_class_plot.getAxis("left"), *map(self.matrix_plot.getAxis, ("left", "bottom"))):
            axis.set_names(())
        self.gallery.clear()
