"""The step inspector: pause (or step) a run, click a connection or a layer, and see what flowed through it at
the last step — the layer's output and the gradient of the loss with respect to it: statistics, a histogram, and
for image-shaped tensors the feature maps of a chosen sample; a convolution's filters as images. While the
inspector is open every step records its tensors (``engine.training.step_capture``); closed, nothing is recorded
or kept."""

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QDialog, QGridLayout, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from gui.editor.health_strip import compact
from gui.widgets import wheel_only_when_focused

from . import style

GAP = 1  # pixels between the tiles of a mosaic
MAX_TILES = 64
EMPTY = ("Open while training, then pause or step: click a connection or a layer on the graph to see its output and "
         "gradient at the last step.")


def mosaic(maps, columns=None):
    """The (C, H, W) ``maps`` (or (C, H, W, 3) colour tiles) side by side in a grid with ``GAP``-pixel gaps, each
    scaled to [0, 1] on its own; NaN in the gaps. At most ``MAX_TILES`` tiles."""
    maps = np.asarray(maps, np.float32)[:MAX_TILES]
    count, h, w = maps.shape[:3]
    columns = columns or math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    image = np.full((rows * (h + GAP) - GAP, columns * (w + GAP) - GAP, *maps.shape[3:]), np.nan, np.float32)
    for k, tile in enumerate(maps):
        low, high = np.nanmin(tile), np.nanmax(tile)
        r, c = divmod(k, columns)
        image[r * (h + GAP):r * (h + GAP) + h, c * (w + GAP):c * (w + GAP) + w] = \
            (tile - low) / (high - low) if high > low else 0.5
    return image


def filter_tiles(weight, channel):
    """A convolution's (out, in, kh, kw) ``weight`` as tiles: RGB images when it reads 3 channels, else the
    slice of input ``channel``."""
    weight = np.asarray(weight, np.float32)
    if weight.shape[1] == 3:
        return weight.transpose(0, 2, 3, 1)
    return weight[:, min(channel, weight.shape[1] - 1)]


class _TensorView(QWidget):
    """One tensor of the step: its statistics, histogram and (image-shaped) feature maps of one sample."""

    def __init__(self, title, styler):
        super().__init__()
        self.title = title
        self.stats = QLabel()
        self.stats.setWordWrap(True)
        self.stats.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hist_widget, self.hist_plot = styler.widget(title, "count", "value")
        self.hist_curve = self.hist_plot.plot(stepMode="center", fillLevel=0, brush=(30, 136, 229, 110),
                                              pen=pg.mkPen(style.VALIDATION))
        self.maps_widget = pg.GraphicsLayoutWidget()
        styler.view(self.maps_widget)
        self.maps_view = self.maps_widget.addViewBox(lockAspect=True, invertY=True)
        self.maps = pg.ImageItem(axisOrder="row-major")
        self.maps.setColorMap(pg.colormap.get("viridis"))
        self.maps_view.addItem(self.maps)
        self.maps_widget.setMinimumHeight(150)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stats)
        layout.addWidget(self.hist_widget, 1)
        layout.addWidget(self.maps_widget, 2)

    def show_tensor(self, summary, sample):
        if summary is None:
            self.stats.setText(f"<b>{self.title}</b>: none at this step (no gradient flowed back here)")
            self.hist_curve.setData([], [])
            self.maps.clear()
            return
        shape = "×".join(map(str, summary.shape))
        self.stats.setText(f"<b>{self.title}</b> [{shape}]: mean {compact(summary.mean)}, std {compact(summary.std)}, "
                           f"min {compact(summary.low)}, max {compact(summary.high)}, "
                           f"zeros {100 * summary.zeros:.1f}%" + (f", <b>{summary.nonfinite} not finite</b>"
                                                                  if summary.nonfinite else ""))
        h = summary.histogram
        if h is not None:
            self.hist_curve.setData(np.linspace(h.low, h.high, len(h.counts) + 1), h.counts)
        if summary.samples.ndim == 4:  # (samples, C, H, W): the channels of the chosen sample
            self.maps.setImage(mosaic(summary.samples[min(sample, len(summary.samples) - 1)]))
            self.maps_view.autoRange(padding=0.02)
        else:
            self.maps.clear()


class StepInspector(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Step inspector")
        self.resize(980, 640)
        self.snapshot = None
        self.layer = None  # the layer shown
        self.with_filters = False  # a layer was clicked (not a connection): a convolution's filters show too
        self.styler = style.PlotStyler()
        self.heading = QLabel(EMPTY)
        self.heading.setWordWrap(True)
        self.sample = wheel_only_when_focused(QSpinBox())
        self.sample.setPrefix("sample ")
        self.sample.valueChanged.connect(lambda _: self._redraw())
        self.channel = wheel_only_when_focused(QSpinBox())
        self.channel.setPrefix("input channel ")
        self.channel.valueChanged.connect(lambda _: self._redraw())
        self.forward = _TensorView("Output", self.styler)
        self.gradient = _TensorView("Gradient ∂loss/∂output", self.styler)
        self.filters_label = QLabel()
        self.filters_widget = pg.GraphicsLayoutWidget()
        self.styler.view(self.filters_widget)
        self.filters_view = self.filters_widget.addViewBox(lockAspect=True, invertY=True)
        self.filters = pg.ImageItem(axisOrder="row-major")
        self.filters_view.addItem(self.filters)
        controls = QHBoxLayout()
        controls.addWidget(self.heading, 1)
        controls.addWidget(self.sample)
        controls.addWidget(self.channel)
        grid = QGridLayout()
        grid.addWidget(self.forward, 0, 0)
        grid.addWidget(self.gradient, 0, 1)
        self.filters_box = QWidget()
        filters_layout = QVBoxLayout(self.filters_box)
        filters_layout.setContentsMargins(0, 0, 0, 0)
        filters_layout.addWidget(self.filters_label)
        filters_layout.addWidget(self.filters_widget, 1)
        grid.addWidget(self.filters_box, 0, 2)
        grid.setColumnStretch(0, 2)
        grid.setColumnStretch(1, 2)
        grid.setColumnStretch(2, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addLayout(grid, 1)
        self._redraw()

    def show_snapshot(self, snapshot):
        """A new step's tensors (or None: nothing recorded yet)."""
        self.snapshot = snapshot
        self._redraw()

    def show_layer(self, layer, filters=False):
        """Show ``layer``'s tensors (a layer name), and with ``filters`` its filters if it is a convolution."""
        self.layer, self.with_filters = layer, filters
        self._redraw()

    def clear(self):
        """Forget the step and the layer (another run or network)."""
        self.snapshot, self.layer, self.with_filters = None, None, False
        self._redraw()

    def _redraw(self):
        snapshot, layer = self.snapshot, self.layer
        found = snapshot is not None and layer in snapshot.outputs
        if snapshot is None:
            self.heading.setText(EMPTY)
        elif layer is None:
            self.heading.setText(f"Step {snapshot.step} recorded: click a connection or a layer on the graph.")
        elif not found:
            self.heading.setText(f"Step {snapshot.step}: nothing was recorded for '{layer}' (only layers that are "
                                 "modules are: not Add, Concat or the Input).")
        else:
            failed = " (where the values went non-finite: no update was made)" if snapshot.failed else ""
            self.heading.setText(f"<b>{layer}</b> at step {snapshot.step}{failed}: its output, and the gradient of "
                                 "the loss with respect to it")
        output = snapshot.outputs.get(layer) if found else None
        samples = len(output.samples) if output is not None else 1
        self.sample.setRange(0, max(samples - 1, 0))
        self.sample.setVisible(output is not None and output.samples.ndim == 4)
        self.forward.show_tensor(output, self.sample.value())
        self.gradient.show_tensor(snapshot.gradients.get(layer) if found else None, self.sample.value())
        self._draw_filters()

    @property
    def weight(self):
        """The shown convolution's weight after the step, (out, in, kh, kw), or None."""
        if not self.with_filters or self.snapshot is None:
            return None
        return self.snapshot.filters.get(self.layer)

    def _draw_filters(self):
        weight = self.weight
        self.filters_box.setVisible(weight is not None)
        self.channel.setVisible(weight is not None and weight.shape[1] != 3)
        if weight is None:
            return
        self.channel.setRange(0, weight.shape[1] - 1)
        what = "RGB" if weight.shape[1] == 3 else f"input channel {self.channel.value()}"
        self.filters_label.setText(f"<b>Filters</b> of {self.layer}: {weight.shape[0]} × {weight.shape[2]}×"
                                   f"{weight.shape[3]} ({what}), each scaled to its own range")
        image = mosaic(filter_tiles(weight, self.channel.value()))
        self.filters.setImage(np.nan_to_num(image, nan=0.0) if image.ndim == 3 else image,
                              levels=(0.0, 1.0))
        self.filters_view.autoRange(padding=0.02)

    def changeEvent(self, event):
        if event.type() == QEvent.Type.PaletteChange:
            self.styler.apply()
        super().changeEvent(event)
