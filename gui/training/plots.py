"""The live plots of a run: loss, accuracy, learning rate and per-layer gradient norms.

Every plot item is created once and fed with ``setData``. The history keeps every point; what is drawn is
the visible part of it, decimated to about a point per pixel (the raw loss and the learning rate keep
each bucket's minimum and maximum, so spikes show; the smoothed loss and the gradient norms its mean, so
trends show), so a long run costs the same to draw as a short one and zooming in shows the raw steps.
Step-based plots share their x axis (zoom one, the others follow) and shade every other epoch. NaN values
are drawn as gaps.

Drawing competes with training for the interpreter, so the plots are cheap to redraw: while following a
run the x axes span the whole run from the start and the y axes change only when the data leave them
(unchanged axes are blitted from a cache); zooming or panning stops following until "Follow run" is
pressed again.

Before the first run a short message stands in for the empty axes. The plots keep a minimum height (the
panel scrolls rather than squash them) and label fewer ticks when short; one key above them says which colour
is training and which validation, so no legend covers the data.
"""

import functools
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from gui.widgets import size_to_current_page, wheel_only_when_focused

from . import style
from .buffers import finite_bounds, mean_decimate, minmax_decimate, sticky_range, visible_slice

PLOT_MIN_HEIGHT = 115  # pixels per row of plots: title, about 70 of data, tick labels
KEY = (f"<span style='color:{style.TRAIN}'>━ training</span>&nbsp;&nbsp;"  # one legend for all plots, over none
       f"<span style='color:{style.VALIDATION}'>● validation</span>")
EMPTY_TEXT = ("The loss, the accuracy, the learning rate and each layer's gradient norm are drawn here while the "
              "network trains.\n\nPress Start (Ctrl+Enter) to train it.")


class _TimedLayout(pg.GraphicsLayoutWidget):
    """Remembers how long its last paint took: the panel paces redraws by it."""

    paint_seconds = 0.0

    def paintEvent(self, event):
        start = time.perf_counter()
        super().paintEvent(event)
        self.paint_seconds = time.perf_counter() - start


def _curve(plot, color, width=1.0, **kwargs):
    item = pg.PlotDataItem(pen=pg.mkPen(color, width=width), connect="finite", **kwargs)
    plot.addItem(item)
    return item


def _dots(plot, color):
    return _curve(plot, color, 2.0, symbol="o", symbolSize=6, symbolBrush=color, symbolPen=None)


class TrainingPlots(QWidget):
    layerActivated = Signal(str)  # a gradient-norm line or its legend entry was clicked

    def __init__(self, history, parent=None):
        super().__init__(parent)
        self.history = history
        self.following = True
        self._drawn = None  # (history revision, width) last drawn
        self._refresh_seconds = 0.0
        self._run_steps = None  # (first, last) global step of the run on screen
        self._epochs = 1
        self._y_ranges = {}  # plot -> y range set while following
        self._highlighted = None
        self._shading = {}  # plot -> LinearRegionItems, one per shaded epoch
        self._view_timer = QTimer(self, singleShot=True, interval=30)
        self._view_timer.timeout.connect(self.refresh)

        self.styler = style.PlotStyler()
        self.graphics = self.styler.view(_TimedLayout())
        self.graphics.ci.setSpacing(6)
        self.graphics.setMinimumHeight(2 * PLOT_MIN_HEIGHT)
        self.graphics.setToolTip("Drag to pan, wheel to zoom (either stops following the run)")
        self.loss_plot = self._add_plot(0, 0, "Loss", "loss")
        self.accuracy_plot = self._add_plot(0, 1, "Accuracy per epoch", "accuracy (%)")
        self.lr_plot = self._add_plot(1, 0, "Learning rate", "learning rate")
        self.grad_plot = self._add_plot(1, 1, "Gradient norm per layer", "L2 norm (log)", style.LogAxis("left"))
        self.step_plots = (self.loss_plot, self.lr_plot, self.grad_plot)
        self.plots = (*self.step_plots, self.accuracy_plot)
        for plot in (self.lr_plot, self.grad_plot):  # "(x0.001)" would lengthen the label into the next plot
            plot.getAxis("left").enableAutoSIPrefix(False)
        self.grad_plot.setLogMode(False, True)
        for plot in (self.lr_plot, self.grad_plot):
            plot.setXLink(self.loss_plot)
        for plot in self.plots:
            plot.disableAutoRange()
            plot.hideButtons()
            for side in ("left", "bottom"):  # unchanged axes (and their grid) are blitted, not redrawn
                plot.getAxis(side).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            plot.getViewBox().sigRangeChangedManually.connect(self._zoomed)
        self.accuracy_plot.setYRange(0, 100, padding=0.04)
        self.loss_plot.getViewBox().sigXRangeChanged.connect(self._view_changed)

        self.loss_raw = _curve(self.loss_plot, style.faint(style.TRAIN, 55), 1.0)
        self.loss_smooth = _curve(self.loss_plot, style.TRAIN, 2.2)
        self.val_loss = _dots(self.loss_plot, style.VALIDATION)
        self.train_acc = _dots(self.accuracy_plot, style.TRAIN)
        self.val_acc = _dots(self.accuracy_plot, style.VALIDATION)
        self.lr_curve = _curve(self.lr_plot, style.LEARNING_RATE, 1.6)
        self.grad_curves = {}  # layer name -> PlotDataItem

        self.legend = QListWidget()
        self.legend.setMaximumWidth(170)
        self.legend.setToolTip("Click a layer to highlight its line and select its node in the editor")
        self.legend.itemClicked.connect(lambda item: self._activate(item.text()))
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(style.WARNING_STYLE)
        self.message.hide()
        self.smoothing = wheel_only_when_focused(QSlider(Qt.Orientation.Horizontal))
        self.smoothing.setRange(0, 99)
        self.smoothing.setValue(round(100 * history.smoothing))
        self.smoothing.setMaximumWidth(160)
        self.smoothing.setToolTip("Weight of the exponential moving average of the bold loss curve")
        self.smoothing_value = QLabel(f"{self.smoothing.value() / 100:.2f}")
        self.smoothing.valueChanged.connect(self._smoothing_changed)
        self.follow_button = QPushButton("Follow run")
        self.follow_button.setCheckable(True)
        self.follow_button.setChecked(True)
        self.follow_button.setToolTip("Show the whole run, rescaling as it goes (zooming or panning turns it off)")
        self.follow_button.toggled.connect(self.set_following)

        self.controls = QWidget()  # of the plots on show: hidden until a run starts
        bar = QHBoxLayout(self.controls)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(QLabel("Smoothing"))
        bar.addWidget(self.smoothing)
        bar.addWidget(self.smoothing_value)
        bar.addSpacing(16)
        bar.addWidget(QLabel(KEY))
        bar.addStretch(1)
        bar.addWidget(self.follow_button)
        legend_box = QVBoxLayout()  # beside the gradient-norm plot, in the lower half
        title = QLabel("Layers")
        title.setStyleSheet("font-weight: 600;")
        legend_box.addStretch(1)
        legend_box.addWidget(title)
        legend_box.addWidget(self.legend, 1)
        body = QWidget()
        body_layout = QHBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.addWidget(self.graphics, 1)
        body_layout.addLayout(legend_box)
        self.empty_message = QLabel(EMPTY_TEXT)
        self.empty_message.setWordWrap(True)
        self.empty_message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_message.setStyleSheet(style.MUTED_STYLE + " font-size: 11pt; padding: 12px;")
        self.empty_message.setMinimumHeight(80)  # not the height of its text wrapped at its narrowest
        self.pages = QStackedWidget()
        self.pages.addWidget(self.empty_message)
        self.pages.addWidget(body)
        size_to_current_page(self.pages)  # the invitation alone fits a short panel
        self.controls.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.controls)
        layout.addWidget(self.message)
        layout.addWidget(self.pages, 1)

    def _add_plot(self, row, column, title, left, left_axis=None):
        """A plot in the grid; the x axes go unlabelled (steps, or the epochs the title names) to leave the
        height to the data."""
        axes = {"left": left_axis or style.SparseAxis("left"), "bottom": style.SparseAxis("bottom")}
        return self.styler.plot(self.graphics.addPlot(row, column, axisItems=axes), title, left, "")

    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # the application's theme changed
            self.styler.apply()
            for regions in self._shading.values():
                for region in regions:
                    region.setBrush(pg.mkBrush(*style.scheme().shading))

    # ----- view -----
    def start_run(self, first_step, last_step, epochs):
        """Show the run to come: global steps ``first_step..last_step`` and ``epochs`` epochs. The smoothing stays
        where the user left it: only the user moves the slider."""
        self._run_steps = (first_step, max(last_step, first_step + 1))
        self._epochs = max(1, epochs)
        style.integer_ticks(self.accuracy_plot.getAxis("bottom"), self._epochs)
        self.set_following(True)

    def set_following(self, following):
        self.following = following
        self.follow_button.blockSignals(True)
        self.follow_button.setChecked(following)
        self.follow_button.blockSignals(False)
        if following:
            self._y_ranges = {}
            self._set_x_ranges()
            self.accuracy_plot.setYRange(0, 100, padding=0.04)
        self._drawn = None
        self.refresh()

    def _set_x_ranges(self):
        steps = self.history.column("global_step")
        first, last = self._run_steps or ((steps[0] - 1, steps[-1]) if len(steps) else (0, 1))
        self.loss_plot.setXRange(first, max(last, steps[-1] if len(steps) else last), padding=0.01)
        epochs = max(self._epochs, len(self.history.epochs))
        self.accuracy_plot.setXRange(0.5, epochs + 0.5, padding=0)

    def _zoomed(self, *args):
        if self.following:
            self.set_following(False)

    def _view_changed(self, *args):
        """Panned or zoomed: draw the newly visible part soon (once, however many range events came)."""
        if not self.following:
            self._drawn = None
            if not self._view_timer.isActive():
                self._view_timer.start()

    def _follow_y(self, plot, *arrays, log=False, floor=None):
        bounds = finite_bounds(*arrays, log=log)
        if bounds is None:
            return
        if floor is not None:
            bounds = (min(floor, bounds[0]), bounds[1])
        new = sticky_range(self._y_ranges.get(plot), bounds)
        if new != self._y_ranges.get(plot):
            self._y_ranges[plot] = new
            plot.setYRange(*new, padding=0)

    # ----- drawing -----
    def _smoothing_changed(self, value):
        self.smoothing_value.setText(f"{value / 100:.2f}")
        self.history.set_smoothing(value / 100)
        self.refresh()

    def set_message(self, text):
        """Show (or with an empty text hide) a warning above the plots, e.g. the non-finite stop message."""
        self.message.setText(text)
        self.message.setVisible(bool(text))

    @property
    def frame_seconds(self):
        """What the last redraw cost the GUI thread: updating the items plus painting them."""
        return self._refresh_seconds + self.graphics.paint_seconds

    def refresh(self):
        """Redraw from the history if it changed since the last call (cheap when nothing did)."""
        h = self.history
        key = (h.revision, self.graphics.width())
        if key == self._drawn:
            return
        start = time.perf_counter()
        self._drawn = key
        self._sync_layers()
        steps, loss, lr = h.column("global_step"), h.column("loss"), h.column("lr")
        self._show_plots(bool(len(steps) or len(h.epochs) or h.layers))  # a run has started
        self._draw_steps(self.loss_raw, steps, loss, minmax_decimate)
        self._draw_steps(self.loss_smooth, steps, h.smoothed.column(0), mean_decimate)
        self._draw_steps(self.lr_curve, steps, lr, minmax_decimate)
        grads = [h.gradients.column(k) for k in range(len(self.grad_curves))]
        log_means = functools.partial(mean_decimate, log=True)
        for curve, values in zip(self.grad_curves.values(), grads):
            self._draw_steps(curve, steps, values, log_means)
        epochs, val_loss = h.epoch_column("epoch"), h.epoch_column("val_loss")
        self.val_loss.setData(h.epoch_column("end_step"), val_loss)
        self.train_acc.setData(epochs, 100 * h.epoch_column("train_accuracy"))
        self.val_acc.setData(epochs, 100 * h.epoch_column("val_accuracy"))
        self._shade_epochs()
        if self.following:
            if len(steps) and (self._run_steps is None or steps[-1] > self._run_steps[1]):
                self._set_x_ranges()
            self._follow_y(self.loss_plot, loss, val_loss)
            self._follow_y(self.lr_plot, lr, floor=0.0)
            self._follow_y(self.grad_plot, *grads, log=True)
        self._refresh_seconds = time.perf_counter() - start

    def _show_plots(self, shown):
        """The plots and their controls once a run has started, the invitation to start one before."""
        self.pages.setCurrentIndex(1 if shown else 0)
        self.controls.setVisible(shown)

    def _draw_steps(self, curve, x, y, decimate):
        if not len(x):
            curve.setData([], [])
            return
        vb = self.loss_plot.getViewBox()
        if not self.following:
            a, b = visible_slice(x, *vb.viewRange()[0])
            x, y = x[a:b], y[a:b]
        x, y = decimate(x, y, max(400, int(vb.width())))  # about a point per pixel
        curve.setData(x, y)

    def _shade_epochs(self):
        """Every other epoch gets a light band; the band of the epoch in progress grows with it."""
        starts = self.history.epoch_starts
        end = self.history.last_step + 0.5
        bands = [(s - 0.5, (starts[k + 1][1] - 0.5) if k + 1 < len(starts) else end)
                 for k, (epoch, s) in enumerate(starts) if epoch % 2 == 0]
        for plot in self.step_plots:
            items = self._shading.setdefault(plot, [])
            while len(items) > len(bands):
                plot.removeItem(items.pop())
            while len(items) < len(bands):
                region = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(*style.scheme().shading),
                                             pen=pg.mkPen(None))
                region.setZValue(-100)
                plot.addItem(region, ignoreBounds=True)
                items.append(region)
            for region, band in zip(items, bands):
                if tuple(region.getRegion()) != band:
                    region.setRegion(band)

    # ----- gradient layers -----
    def _sync_layers(self):
        layers = self.history.layers
        if list(self.grad_curves) == layers:
            return
        for curve in self.grad_curves.values():
            self.grad_plot.removeItem(curve)
        self.grad_curves = {}
        self.legend.clear()
        for k, name in enumerate(layers):
            curve = _curve(self.grad_plot, style.layer_color(k), 1.4)
            curve.setCurveClickable(True, width=8)
            curve.sigClicked.connect(lambda _item, _ev, name=name: self._activate(name))
            self.grad_curves[name] = curve
            swatch = QPixmap(12, 12)
            swatch.fill(QColor(style.layer_color(k)))
            self.legend.addItem(QListWidgetItem(QIcon(swatch), name))
        self.highlight_layer(self._highlighted)

    def _activate(self, name):
        self.highlight_layer(name)
        self.layerActivated.emit(name)

    def highlight_layer(self, name):
        """Draw ``name``'s gradient line thick and on top, the others thin and faint (None: all normal)."""
        self._highlighted = name if name in self.grad_curves else None
        for k, (layer, curve) in enumerate(self.grad_curves.items()):
            color = style.layer_color(k)
            if self._highlighted is None:
                curve.setPen(pg.mkPen(color, width=1.4))
                curve.setZValue(0)
            elif layer == self._highlighted:
                curve.setPen(pg.mkPen(color, width=3.2))
                curve.setZValue(10)
            else:
                curve.setPen(pg.mkPen(style.faint(color, 90), width=1.0))
                curve.setZValue(0)
        for row in range(self.legend.count()):
            item = self.legend.item(row)
            item.setSelected(item.text() == self._highlighted)

    @property
    def highlighted_layer(self):
        return self._highlighted

    # ----- export and inspection -----
    def export_png(self, path):
        if not self.grab().save(path, "PNG"):
            raise OSError(f"could not write the image {path}")

    def point_counts(self):
        """How many finite points each curve shows (tests and the screenshot check use it)."""
        def finite(curve):
            _, y = curve.getData()
            return 0 if y is None else int(np.isfinite(y).sum())

        counts = {"loss": finite(self.loss_raw), "smoothed": finite(self.loss_smooth),
                  "val_loss": finite(self.val_loss), "train_accuracy": finite(self.train_acc),
                  "val_accuracy": finite(self.val_acc), "lr": finite(self.lr_curve)}
        counts.update({f"grad:{name}": finite(c) for name, c in self.grad_curves.items()})
        return counts
