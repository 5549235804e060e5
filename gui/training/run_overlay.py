"""Runs overlaid: two plots, each of a metric chosen from ``engine.training.run_compare.METRICS`` (losses,
accuracies, learning rate, speed, health measures), on a shared x (step, epoch or training time); runs that
differ only in their seed can be drawn as their mean with a ±1 standard deviation band."""

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from engine.training.run_compare import (
    ALIGNMENTS,
    AXIS_LABELS,
    METRICS,
    STEP_SMOOTHING,
    curve,
    health_layers,
    mean_spread,
    seed_groups,
)
from engine.utils.files import FileError

from . import style

BAND_ALPHA = 60
DEFAULT_METRICS = ("loss", "val_accuracy")
ALL_LAYERS = "median over layers"


def metric_combo(selected, side):
    combo = QComboBox()
    for key, metric in METRICS.items():
        combo.addItem(metric.label, key)
    combo.setCurrentIndex(combo.findData(selected))
    combo.setToolTip(f"The metric of the {side} plot")
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(16)  # narrow enough to sit beside the tabs; the list shows whole names
    return combo


class RunOverlay(QWidget):
    """Call ``show_runs([(run, label, colour index), ...])`` with the runs to draw."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.entries = []
        self.metric_combos = [metric_combo(key, side) for key, side in zip(DEFAULT_METRICS, ("left", "right"))]
        self.align_combo = QComboBox()
        for align in ALIGNMENTS:
            self.align_combo.addItem(f"by {align}", align)
        self.align_combo.setCurrentIndex(self.align_combo.findData("step"))
        self.layer_combo = QComboBox()
        self.layer_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.layer_combo.setMinimumContentsLength(12)
        self.layer_combo.setToolTip("The layer whose health measure is drawn, or the median over the layers")
        self.layer_combo.currentIndexChanged.connect(lambda *_: self.redraw())
        self.seeds_box = QCheckBox("Average seeds")
        self.seeds_box.setToolTip("Runs with the same network and settings but another seed are drawn as their mean "
                                  "with a band of ±1 standard deviation")
        for widget in (*self.metric_combos, self.align_combo):
            widget.currentIndexChanged.connect(lambda *_: self.redraw())
        self.seeds_box.toggled.connect(lambda *_: self.redraw())
        self.problems = QLabel()
        self.problems.setStyleSheet(style.MUTED_STYLE)
        self.problems.setWordWrap(True)
        self.styler = style.PlotStyler()
        self.plots = []
        for offset, key in zip(((-8, 8), (-8, -8)), DEFAULT_METRICS):
            widget, plot = self.styler.widget(METRICS[key].label, METRICS[key].unit, "step")
            style.legend(plot, offset=offset)
            self.plots.append((widget, plot))
        self.drawn = [[], []]  # per plot: the legend names drawn

        self.controls = QWidget()  # the owner places them (beside the comparison's tabs)
        controls = QHBoxLayout(self.controls)
        controls.setContentsMargins(0, 0, 0, 0)
        self.layer_label = QLabel("Layer")
        for widget in (*self.metric_combos, self.align_combo, self.layer_label, self.layer_combo):
            controls.addWidget(widget)
        controls.addWidget(self.seeds_box)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        for widget, _plot in self.plots:
            splitter.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.problems)

    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.styler.apply()

    @property
    def alignment(self):
        return self.align_combo.currentData()

    def metric_keys(self):
        return [combo.currentData() for combo in self.metric_combos]

    def set_metric(self, side, key):
        self.metric_combos[side].setCurrentIndex(self.metric_combos[side].findData(key))

    @property
    def layer(self):
        """The layer chosen for health measures; None: the median over the layers."""
        return self.layer_combo.currentData()

    def show_runs(self, entries):
        """Draw ``entries``: ``(Run, label, colour index)`` for each run ticked."""
        self.entries = list(entries)
        self._fill_layers()
        self.redraw()

    def _fill_layers(self):
        """Offer the layers of the runs' health logs, keeping the one chosen while a run still has it."""
        chosen, names = self.layer, []
        for run, _label, _colour in self.entries:
            try:
                names += [name for name in health_layers(run) if name not in names]
            except (FileError, OSError):
                continue
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        self.layer_combo.addItem(ALL_LAYERS, None)
        for name in names:
            self.layer_combo.addItem(name, name)
        self.layer_combo.setCurrentIndex(max(0, self.layer_combo.findData(chosen)) if chosen in names else 0)
        self.layer_combo.blockSignals(False)

    def redraw(self):
        health = any(METRICS[key].source == "health" for key in self.metric_keys())
        self.layer_combo.setVisible(health)
        self.layer_label.setVisible(health)
        problems = {}
        for side, ((_widget, plot), key) in enumerate(zip(self.plots, self.metric_keys())):
            self.drawn[side] = self._draw(plot, key, problems)
        self.problems.setText("  ·  ".join(f"{label}: {why}" for label, why in problems.items()))

    def _curves(self, key, problems):
        """``{run name: Curve}`` of the entries that have ``key``; the others' reasons go to ``problems``."""
        metric = METRICS[key]
        smoothing = STEP_SMOOTHING if metric.source == "step" else 0.0
        layer = self.layer if metric.source == "health" else None
        curves = {}
        for run, label, _colour in self.entries:
            try:
                found = curve(run, key, self.alignment, layer, smoothing)
            except (FileError, OSError, ValueError) as e:
                problems[label] = str(e)
                continue
            if np.isfinite(found.x).any() and np.isfinite(found.y).any():
                curves[run.name] = found
            else:
                problems[label] = f"no {metric.label} recorded"
        return curves

    def _groups(self):
        runs = [run for run, _label, _colour in self.entries]
        if not self.seeds_box.isChecked():
            return [[run] for run in runs]
        return seed_groups(runs)

    def _draw(self, plot, key, problems):
        metric = METRICS[key]
        plot.clear()
        layer = self.layer if metric.source == "health" else None
        title = metric.label if layer is None else f"{metric.unit} of {layer}"
        self.styler.relabel(plot, title, metric.unit, AXIS_LABELS[self.alignment])
        plot.setLogMode(y=metric.log_scale)
        scale = 100.0 if metric.percent else 1.0
        curves = self._curves(key, problems)
        by_name = {run.name: (label, colour) for run, label, colour in self.entries}
        drawn = []
        for group in self._groups():
            present = [curves[run.name] for run in group if run.name in curves]
            if not present:
                continue
            label, colour = by_name[group[0].name]
            colour = style.layer_color(colour)
            symbol = {"symbol": "o", "symbolSize": 5, "symbolBrush": colour, "symbolPen": None} \
                if metric.source == "epoch" else {}
            if len(present) == 1:
                c = present[0]
                plot.plot(c.x, scale * c.y, pen=pg.mkPen(colour, width=2), name=label, connect="finite", **symbol)
                drawn.append(label)
                continue
            x, mean, std, count = mean_spread(present)
            name = f"{label} + {count - 1} seed{'s' if count > 2 else ''} (mean ± std)"
            if x.size and x[-1] < max(np.nanmax(c.x) for c in present):
                problems[name] = f"averaged up to {x[-1]:g}, where its shortest run ends"
            lower = plot.plot(x, scale * (mean - std), pen=pg.mkPen(None))
            upper = plot.plot(x, scale * (mean + std), pen=pg.mkPen(None))
            band = pg.QtGui.QColor(colour)
            band.setAlpha(BAND_ALPHA)
            plot.addItem(pg.FillBetweenItem(lower, upper, brush=pg.mkBrush(band)))
            plot.plot(x, scale * mean, pen=pg.mkPen(colour, width=2), name=name, **symbol)
            drawn.append(name)
        if metric.source == "epoch" and self.alignment == "epoch":
            longest = max((len(c.x) for c in curves.values()), default=1)
            style.integer_ticks(plot.getAxis("bottom"), max(1, longest))
        else:
            plot.getAxis("bottom").setTickSpacing()
        return drawn

    def curve_data(self, side):
        """The (x, y) arrays of the data items drawn on plot ``side`` (for tests)."""
        return [item.getData() for item in self.plots[side][1].listDataItems() if item.name()]

    def is_log(self, side):
        return bool(self.plots[side][1].getAxis("left").logMode)
