"""The evaluation view: test accuracy, per-class accuracy, a confusion matrix heat map with counts, and error
analysis below them (a gallery of test images; a click on a matrix cell shows that cell's images).

Both charts are tall enough to name every class (the panel scrolls when the view is taller than its room);
the counts in the matrix take the largest font that fits a cell, and are hidden when none does."""

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics
from PySide6.QtWidgets import QGraphicsRectItem, QLabel, QScrollArea, QSplitter, QVBoxLayout, QWidget

from . import style
from .error_analysis import CELL_HINT, ErrorAnalysis

MAX_LABELLED_CLASSES = 20  # beyond this the matrix cells are too small for their counts
CLASS_ROW = 14  # pixels per class on a class axis: room for a name in the axis font
CHART_FRAME = 70  # pixels of a chart that are not class rows: title, bottom axis and its label
AXIS_POINT_SIZE = 8
INSIDE_BAR = 70  # per cent: a bar longer than this shows its value inside
COUNT_POINT_SIZES = (8, 7, 6)  # the counts' font, largest first, for smaller and smaller cells
HEAT = pg.ColorMap([0.0, 0.5, 1.0], [QColor("#f7fbff"), QColor("#6baed6"), QColor("#08306b")])
SELECTED_CELL = style.TRAIN  # the outline of the clicked cell: the accent the plots use for training


class MatrixImage(pg.ImageItem):
    """The confusion matrix's heat map; a left click on a cell emits ``cellClicked(true, predicted)``."""

    cellClicked = Signal(int, int)

    def mouseClickEvent(self, event):
        if event.button() != Qt.MouseButton.LeftButton or self.image is None:
            return
        position = event.pos()  # in the image's pixels: x the column (predicted), y the row (true)
        row, column = math.floor(position.y()), math.floor(position.x())
        rows, columns = self.image.shape[:2]
        if 0 <= row < rows and 0 <= column < columns:
            event.accept()
            self.cellClicked.emit(row, column)


class ClassAxis(pg.AxisItem):
    """A tick at each class index, labelled with the class name; below a plot, names are shortened with an
    ellipsis to the room each class has, however wide the plot is."""

    def __init__(self, orientation):
        super().__init__(orientation)
        self.names = ()
        font = QFont()
        font.setPointSizeF(AXIS_POINT_SIZE)
        self.setStyle(hideOverlappingLabels=False, tickFont=font, tickLength=4)  # ticks outside the cells

    def set_names(self, names):
        self.names = tuple(names)
        self.picture = None  # pyqtgraph's cached drawing of the axis
        self.update()

    def tickValues(self, minVal, maxVal, size):
        """Every class, or on a short side axis every second (third, ...) one, so that names never overlap."""
        low, high = sorted((minVal, maxVal))  # an inverted view gives them the other way round
        every = 1
        if self.orientation in ("left", "right") and size > 0:
            every = max(1, math.ceil(CLASS_ROW * (high - low) / size))
        return [(float(every), [k for k in range(0, len(self.names), every) if low - 0.5 <= k <= high + 0.5])]

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
    widget, plot = styler.widget(title, left, bottom, axes={k: v for k, v in axes.items() if v}, grid=False,
                                 axis_width=None)  # the left axis as wide as the longest class name
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()
    widget.setMinimumHeight(CHART_FRAME + 4 * CLASS_ROW)
    return widget, plot


def _fit_height(widget, classes):
    """Room for every class's name on the side axis (a long list of classes stops at twenty rows)."""
    widget.setMinimumHeight(CHART_FRAME + CLASS_ROW * min(max(classes, 4), MAX_LABELLED_CLASSES))


def _count_font(cell_width, cell_height, widest_text):
    """The largest ``COUNT_POINT_SIZES`` font in which ``widest_text`` fits a cell, or None."""
    for size in COUNT_POINT_SIZES:
        font = QFont()
        font.setPointSizeF(size)
        metrics = QFontMetrics(font)
        if metrics.horizontalAdvance(widest_text) + 4 <= cell_width and metrics.height() <= cell_height:
            return font
    return None


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
        self.outside_labels = []  # the bar labels drawn on the background, in the theme's text colour

        self.matrix_widget, self.matrix_plot = _plot(self.styler, "Confusion matrix", "true class",
                                                       "predicted class")
        self.matrix_plot.getViewBox().invertY(True)
        self.matrix = MatrixImage(axisOrder="row-major")
        self.matrix.setColorMap(HEAT)
        self.matrix.setCursor(Qt.CursorShape.PointingHandCursor)
        self.matrix.setToolTip(CELL_HINT)
        self.matrix.cellClicked.connect(self.show_cell)
        self.matrix_plot.addItem(self.matrix)
        self.selected_cell = QGraphicsRectItem()
        self.selected_cell.setPen(pg.mkPen(SELECTED_CELL, width=3))
        self.selected_cell.setZValue(10)  # above the counts
        self.selected_cell.hide()
        self.matrix_plot.addItem(self.selected_cell)
        self.cell_labels = []
        self.matrix_plot.getViewBox().sigResized.connect(self._fit_cell_labels)

        self.analysis = ErrorAnalysis()
        self.gallery = self.analysis.gallery

        charts = QSplitter(Qt.Orientation.Horizontal)
        charts.addWidget(self.per_class_widget)
        charts.addWidget(self.matrix_widget)
        charts.setSizes([380, 520])
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(charts)
        body.addWidget(self.analysis)
        body.setSizes([420, 260])
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(self.details)
        layout.addWidget(body, 1)

    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # the application's theme changed
            self.styler.apply()
            for label in self.outside_labels:
                label.setColor(style.scheme().foreground)

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
        self.selected_cell.hide()
        self.analysis.show_evaluation(data)

    def show_cell(self, true, predicted):
        """Outline the matrix cell (``true``, ``predicted``) and show its test images, highest loss first."""
        if self.result is None or self.result.losses is None:
            return
        self.selected_cell.setRect(QRectF(predicted - 0.5, true - 0.5, 1.0, 1.0))
        self.selected_cell.show()
        self.analysis.show_cell(true, predicted)
        self._bring_into_view(self.analysis)

    def _bring_into_view(self, widget):
        """Scroll the panel that holds this view (in a short dock) until ``widget`` shows: what a click changed."""
        parent = self.parentWidget()
        while parent is not None and not isinstance(parent, QScrollArea):
            parent = parent.parentWidget()
        if parent is not None:
            parent.ensureWidgetVisible(widget, 0, 0)

    def _show_per_class(self, accuracy, classes):
        n = len(classes)
        values = np.nan_to_num(100 * np.asarray(accuracy, float))
        self.bars.setOpts(x0=np.zeros(n), y=np.arange(n), width=values, height=0.62)
        for k, value in enumerate(values):
            inside = value > INSIDE_BAR  # a long bar carries its value, in white, at its end
            label = pg.TextItem(f"{value:.0f} %", color="#ffffff" if inside else style.scheme().foreground,
                                anchor=(1 if inside else 0, 0.5))
            label.setPos(value - 1.5 if inside else value + 1.5, k)
            self.per_class_plot.addItem(label)
            self.bar_labels.append(label)
            if not inside:
                self.outside_labels.append(label)
        self.per_class_plot.getAxis("left").set_names(classes)
        _fit_height(self.per_class_widget, n)
        self.per_class_plot.setXRange(0, 104, padding=0)
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
        _fit_height(self.matrix_widget, n)
        self.matrix_plot.setRange(xRange=(-0.5, n - 0.5), yRange=(-0.5, n - 0.5), padding=0)
        self._fit_cell_labels()

    def _fit_cell_labels(self):
        """Counts in the largest font that fits the cells as drawn now; none when even the smallest would
        overlap its neighbours."""
        if not self.cell_labels:
            return
        n = len(self.classes)
        box = self.matrix_plot.getViewBox().boundingRect()
        widest = max((label.textItem.toPlainText() for label in self.cell_labels), key=len)
        font = _count_font(box.width() / n, box.height() / n, widest)
        for label in self.cell_labels:
            label.setVisible(font is not None)
            if font is not None:
                label.setFont(font)

    def _remove_labels(self):
        for plot, labels in ((self.per_class_plot, self.bar_labels), (self.matrix_plot, self.cell_labels)):
            for label in labels:
                plot.removeItem(label)
            labels.clear()
        self.outside_labels.clear()

    def clear(self):
        self.result, self.classes = None, ()
        self.headline.setText("Train a network to see how it does on the test images.")
        self.details.setText("")
        self.bars.setOpts(x0=[], y=[], width=[])
        self.matrix.clear()
        self.selected_cell.hide()
        self._remove_labels()
        for axis in (self.per_class_plot.getAxis("left"), *map(self.matrix_plot.getAxis, ("left", "bottom"))):
            axis.set_names(())
        self.analysis.clear()
