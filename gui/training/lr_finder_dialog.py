"""The learning-rate finder: a short sweep of mini-batches with the learning rate growing exponentially
(``engine.training.lr_finder``), drawn as it runs: the smoothed loss against the learning rate with the suggested
rates marked, and below it each layer's update ratio ‖Δw‖/‖w‖. "Use" puts the suggestion into the training
settings through the same edits as the settings form (one undoable edit in the application window).

The sweep runs in a thread (``jobs.JobRunner``) on a copy of the document, with the settings' model, optimizer,
loss and data, and is drawn as it goes; Stop ends it after the current step, closing the dialog drops it. It saves
and restores the engine's random state, so it does not start while a training run is in progress (``is_busy``).
"""

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from engine.graph import network_from_json, network_to_json
from engine.graph.build import errors_text
from engine.training.lr_finder import (
    DEFAULT_END,
    DEFAULT_START,
    DEFAULT_STEPS,
    METHOD_LABELS,
    METHODS,
    TRIM_END,
    check_range,
    find_lr_for_network,
)
from gui import theme
from gui.widgets import wheel_only_when_focused

from . import style
from .jobs import JobRunner
from .settings_form import DocumentEdits

HEALTHY_RATIO = 1e-3  # the rule of thumb for an update ratio (Karpathy's): about a thousandth per step
LEGEND_LAYERS = 10  # more layers than this go without a legend (it would cover the lines)


def marker_colors():
    """{method: colour} of the suggestions' markers: the suggestion in the learning rate's colour."""
    return {"valley": style.LEARNING_RATE, "steep": style.VALIDATION,
            "minimum": theme.canvas_style(theme.current_theme()).valid.name()}


def _line_edit(value, tip):
    field = QLineEdit(f"{value:g}")
    field.setValidator(QDoubleValidator(0.0, 1e6, 12, field))
    field.setMaximumWidth(80)
    field.setToolTip(tip)
    return field


class LRFinderDialog(QDialog):
    """Sweeps ``document``'s learning rate (from ``run()``, which showing the dialog calls) and offers the
    suggestion; ``edits``: as the settings form's (``set_settings`` returning a refusal or None); ``is_busy()``:
    whether a training run is in progress."""

    def __init__(self, document, edits=None, is_busy=lambda: False, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Find a learning rate")
        self.document = document
        self.edits = edits or DocumentEdits(document)
        self.is_busy = is_busy
        self.jobs = JobRunner("layerlab-lr-finder", "sweep", self)
        self.steps = []  # LRStep of the sweep on show, appended by its thread
        self.result = None
        self._shown_steps = 0
        self._layers = ()
        self._range = (DEFAULT_START, DEFAULT_END)
        self.resize(980, 680)

        self.start_field = _line_edit(DEFAULT_START, "The first learning rate of the sweep")
        self.end_field = _line_edit(DEFAULT_END, "The last learning rate (the sweep stops earlier when the loss "
                                                 "blows up)")
        self.steps_field = wheel_only_when_focused(QSpinBox())
        self.steps_field.setRange(2, 1000)
        self.steps_field.setValue(DEFAULT_STEPS)
        self.steps_field.setToolTip("Mini-batches in the sweep (the training data is cycled when it has fewer)")
        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(self._run_clicked)
        controls = QHBoxLayout()
        for widget in (QLabel("Learning rate from"), self.start_field, QLabel("to"), self.end_field,
                       QLabel("over"), self.steps_field, QLabel("mini-batches"), self.run_button):
            controls.addWidget(widget)
        controls.addStretch(1)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.styler = style.PlotStyler()
        self.loss_widget, self.loss_plot = self.styler.widget(
            "Loss during the sweep", "loss", "learning rate", axes={"bottom": style.LogAxis("bottom")})
        self.ratio_widget, self.ratio_plot = self.styler.widget(
            "Update ratio ‖Δw‖/‖w‖ per layer", "ratio (log)", "learning rate",
            axes={"bottom": style.LogAxis("bottom"), "left": style.LogAxis("left")})
        self.loss_plot.setLogMode(True, False)
        self.ratio_plot.setLogMode(True, True)
        self.ratio_plot.getAxis("left").enableAutoSIPrefix(False)
        self.ratio_plot.setXLink(self.loss_plot)
        for plot in (self.loss_plot, self.ratio_plot):
            plot.hideButtons()
        self.loss_raw = self.loss_plot.plot(pen=pg.mkPen(style.faint(style.TRAIN, 80), width=1), connect="finite")
        self.loss_smooth = self.loss_plot.plot(pen=pg.mkPen(style.TRAIN, width=2.2), connect="finite")
        self.suggestion_line = pg.InfiniteLine(angle=90)
        self.suggestion_line.setVisible(False)
        self.loss_plot.addItem(self.suggestion_line)
        legend = style.legend(self.loss_plot)
        self.markers = {}
        for method in METHODS:
            marker = self.loss_plot.plot(pen=None, symbol="o", symbolSize=12 if method == METHODS[0] else 8)
            legend.addItem(marker, METHOD_LABELS[method])
            self.markers[method] = marker
        self.healthy_line = pg.InfiniteLine(math.log10(HEALTHY_RATIO), angle=0)
        self._color_markers()
        self.healthy_line.setToolTip("A ratio of about 1e-3 per step is the usual rule of thumb")
        self.ratio_plot.addItem(self.healthy_line)
        self.ratio_legend = style.legend(self.ratio_plot)
        self.ratio_curves = []

        self.use_button = QPushButton("Use")
        self.use_button.setEnabled(False)
        self.use_button.setToolTip("Set the training settings' learning rate to the suggestion")
        self.use_button.clicked.connect(self.use_suggestion)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.use_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(self.loss_widget, 3)
        layout.addWidget(self.ratio_widget, 2)
        layout.addLayout(buttons)

    # ----- running -----
    def showEvent(self, event):
        super().showEvent(event)
        if not event.spontaneous():  # shown, not restored from minimised
            self.run()

    def run(self):
        """Start a sweep with the fields' range on a copy of the document (dropping one that runs)."""
        if self.is_busy():
            self._show_status("A training run is in progress: the sweep can run once it has ended.", error=True)
            return
        try:
            start, end = float(self.start_field.text()), float(self.end_field.text())
            check_range(start, end, self.steps_field.value())
        except ValueError as e:
            self._show_status(str(e), error=True)
            return
        inference = self.document.infer()
        if not inference.ok:
            self._show_status("Cannot sweep: " + errors_text(inference, self.document), error=True)
            return
        self.result = None
        self._range = (start, end)
        self._clear_result()
        self._show_status("Loading the data…")
        network = network_from_json(network_to_json(self.document))  # the thread's own copy
        steps, count = [], self.steps_field.value()
        self.steps = steps
        self.jobs.start(lambda stop: find_lr_for_network(network, start=start, end=end, steps=count, stop=stop,
                                                         on_step=steps.append),
                        self._sweep_ended, self._sweep_progress)
        self.run_button.setText("Stop")
        self._draw([])

    def _run_clicked(self):
        if self.jobs.active:
            self.stop()
        else:
            self.run()

    def stop(self):
        """End the sweep after its current step; what it found so far is shown."""
        self.jobs.stop()
        self.run_button.setText("Stopping…")
        self.run_button.setEnabled(False)

    def shutdown(self):
        """Drop a running sweep and wait for its thread to end (the application is quitting). Safe to call
        again."""
        self.jobs.join()

    def done(self, result):
        self.jobs.drop()
        self.run_button.setText("Run again")
        self.run_button.setEnabled(True)
        super().done(result)

    def _sweep_progress(self):
        steps = self.steps[:]
        if len(steps) != self._shown_steps:
            self._draw(steps)
        if steps:
            self._show_status(f"Step {len(steps)} of {self.steps_field.value()}: loss {steps[-1].loss:.4g}, "
                              f"learning rate {steps[-1].lr:.3g}")

    def _sweep_ended(self, result, error):
        self._draw(self.steps[:])
        self.run_button.setText("Run again")
        self.run_button.setEnabled(True)
        if error is not None:
            self._show_status(error, error=True)
        else:
            self._show_result(result)

    # ----- drawing -----
    def _clear_result(self):
        """Forget the last sweep's curves, suggestions and Use button."""
        self._shown_steps = 0
        self._set_layers(())
        for marker in self.markers.values():
            marker.setData([], [])
        self.suggestion_line.setVisible(False)
        self.use_button.setEnabled(False)
        self.use_button.setText("Use")

    def _color_markers(self):
        colors = marker_colors()
        for method, marker in self.markers.items():
            marker.setSymbolBrush(colors[method])
            marker.setSymbolPen(pg.mkPen(style.scheme().background))
        self.suggestion_line.setPen(pg.mkPen(colors[METHODS[0]], width=1.2, style=Qt.PenStyle.DashLine))
        self.healthy_line.setPen(pg.mkPen(theme.canvas_style(theme.current_theme()).text_dim, width=1,
                                          style=Qt.PenStyle.DotLine))

    def _set_layers(self, layers):
        if layers == self._layers:
            return
        for curve in self.ratio_curves:
            self.ratio_plot.removeItem(curve)
        self.ratio_legend.clear()
        self.ratio_curves = []
        for k, name in enumerate(layers):
            curve = self.ratio_plot.plot(pen=pg.mkPen(style.layer_color(k), width=1.4), connect="finite")
            if len(layers) <= LEGEND_LAYERS:
                self.ratio_legend.addItem(curve, name)
            self.ratio_curves.append(curve)
        self._layers = layers

    def _draw(self, steps):
        self._shown_steps = len(steps)
        lrs = np.array([s.lr for s in steps], np.float64)
        raw = np.array([s.loss for s in steps], np.float64)
        smoothed = np.array([s.smoothed_loss for s in steps], np.float64)
        self.loss_raw.setData(lrs, raw)
        self.loss_smooth.setData(lrs, smoothed)
        self._set_layers(steps[0].layers if steps else ())
        ratios = np.stack([s.ratios for s in steps], 1) if steps else np.zeros((0, 0))
        for curve, row in zip(self.ratio_curves, ratios, strict=True):
            shown = row > 0  # a log axis cannot show 0 (a step too small to change float32 weights)
            curve.setData(lrs[shown], row[shown])
        self._fit_loss_range(smoothed)

    def _fit_loss_range(self, smoothed):
        """The x axis spans the sweep's range; the y axis the smoothed loss but for its last ``TRIM_END`` steps
        (where it blows up, as fastai's plot leaves them out): the noisier raw loss may leave it."""
        start, end = self._range
        self.loss_plot.setXRange(math.log10(start), math.log10(end), padding=0.02)
        shown = smoothed[:-TRIM_END] if len(smoothed) > 2 * TRIM_END else smoothed
        finite = shown[np.isfinite(shown)]
        if len(finite) < 2:
            return
        low, high = finite.min(), finite.max()
        self.loss_plot.setYRange(low, max(high, low + 1e-3), padding=0.08)

    def _show_result(self, result):
        self.result = result
        for method, marker in self.markers.items():
            lr = result.suggestions[method]
            shown = math.isfinite(lr)
            marker.setData([lr] if shown else [], [result.smoothed_loss_at(lr)] if shown else [])
        suggestion = result.suggestion
        steps = f"{len(result.lrs)} of {result.planned_steps} steps: {result.stop_text}."
        if not math.isfinite(suggestion):
            self.suggestion_line.setVisible(False)
            self._show_status(f"No suggestion: the smoothed loss did not fall. {steps}", error=True)
            return
        self.suggestion_line.setValue(math.log10(suggestion))
        self.suggestion_line.setVisible(True)
        others = ", ".join(f"{METHOD_LABELS[m]} {result.suggestions[m]:.3g}" for m in METHODS[1:])
        self._show_status(f"<b>Suggested learning rate: {suggestion:.3g}</b> ({METHOD_LABELS[METHODS[0]]}; also "
                          f"{others}). {steps}")
        self.use_button.setText(f"Use {self.suggested_lr():g}")
        self.use_button.setEnabled(True)

    def _show_status(self, text, error=False):
        self.status.setText(text)
        self.status.setStyleSheet(style.WARNING_STYLE if error else "")

    # ----- using the suggestion -----
    def suggested_lr(self):
        """The suggestion to three significant digits (the value the Use button sets), or None."""
        if self.result is None or not math.isfinite(self.result.suggestion):
            return None
        return float(f"{self.result.suggestion:.3g}")

    def use_suggestion(self):
        lr = self.suggested_lr()
        if lr is None:
            return
        refusal = self.edits.set_settings({"lr": lr})
        if refusal:
            self._show_status(refusal, error=True)
        else:
            self._show_status(f"The learning rate in the training settings is now {lr:g}.")

    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # the application's theme changed
            self.styler.apply()
            self._color_markers()
