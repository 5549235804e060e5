"""The runs of the network: a list of its run folders, and the curves of the checked ones overlaid."""

import math
import os

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.graph import NetworkFileError
from engine.training.runs import RunFileError

from . import style
from .buffers import Smoother

COLUMNS = ("Run", "Status", "Epochs", "Test accuracy", "Images/s", "Settings")


def _percent(value):
    return "—" if value is None or not math.isfinite(value) else f"{100 * value:.2f} %"


def _settings(run):
    """What tells runs of one network apart: optimizer, learning rate, schedule, batch size."""
    try:
        s = run.network().settings
    except (NetworkFileError, OSError):
        return "—"
    schedule = "" if s["scheduler"] == "none" else f", {s['scheduler']}"
    return f"{s['optimizer']} lr {s['lr']:g}{schedule}, batch {s['batch_size']}"


def _location_text(location, has_runs, earlier_runs):
    text = f"Runs in {location}" + ("" if has_runs else " (none yet)")
    if earlier_runs:
        text += f"  ·  runs made before Save As stay with the earlier file, in {earlier_runs}"
    return text


def last_run_text(run):
    """The line that names a file's last run and where its runs are, when the file is opened."""
    accuracy = "" if run.test_accuracy is None else f", test accuracy {_percent(run.test_accuracy)}"
    return (f"Last run {run.name}: {run.status}, {run.epochs_completed}/{run.epochs} epochs{accuracy}  ·  runs of "
            f"this network in {os.path.dirname(run.folder)} (Runs tab)")


CONTINUE_TIP = "Continue the selected run from its checkpoint, with the optimizer state"
FINE_TUNE_TIP = ("Train a new run of this network starting from the selected run's weights (an imported model's, "
                 "say) where they fit its layers")


class RunsView(QWidget):
    continueRequested = Signal(object)  # Run
    predictRequested = Signal(object)  # Run

    def __init__(self, runs_provider, parent=None):
        super().__init__(parent)
        self.runs_provider = runs_provider  # () -> [Run], oldest first
        self.runs = []
        self.location = QLabel()
        self.location.setStyleSheet(style.MUTED_STYLE)
        self.location.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.itemChanged.connect(lambda *_: self.update_overlay())
        self.tree.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.continue_button = QPushButton("Continue training")
        self.continue_button.setToolTip(CONTINUE_TIP)
        self.continue_button.clicked.connect(lambda: self._emit_selected(self.continueRequested))
        self.predict_button = QPushButton("Use for prediction")
        self.predict_button.clicked.connect(lambda: self._emit_selected(self.predictRequested))

        self.styler = style.PlotStyler()
        self.loss_widget, self.loss_plot = self.styler.widget("Loss (smoothed)", "loss", "step")
        style.legend(self.loss_plot)
        self.acc_widget, self.acc_plot = self.styler.widget("Validation accuracy", "accuracy (%)", "epoch")
        style.legend(self.acc_plot, offset=(-8, -8))
        self.overlaid = []  # names of the runs drawn

        buttons = QHBoxLayout()
        for button in (self.refresh_button, self.continue_button, self.predict_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        hint = QLabel("Tick runs to overlay their curves")
        hint.setStyleSheet(style.MUTED_STYLE)
        buttons.addWidget(hint)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.location)
        top_layout.addLayout(buttons)
        top_layout.addWidget(self.tree, 1)
        plots = QSplitter(Qt.Orientation.Horizontal)
        plots.addWidget(self.loss_widget)
        plots.addWidget(self.acc_widget)
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(top)
        body.addWidget(plots)
        body.setSizes([170, 430])
        layout = QVBoxLayout(self)
        layout.addWidget(body)
        self._update_buttons()

    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # the application's theme changed
            self.styler.apply()

    # ----- the list -----
    def refresh(self, location="", earlier_runs=None):
        """List the runs again; ``location``: the folder they are in, ``earlier_runs``: the runs folder of the
        file the network was saved from under another name (its runs stay there)."""
        checked = set(self.checked_names())
        current = self.selected_run().name if self.selected_run() else None
        self.runs = list(self.runs_provider())
        if location:
            self.location.setText(_location_text(location, bool(self.runs), earlier_runs))
        self.tree.blockSignals(True)
        self.tree.clear()
        for run in reversed(self.runs):  # newest first
            item = QTreeWidgetItem([run.name, run.status, f"{run.epochs_completed}/{run.epochs}",
                                    _percent(run.test_accuracy),
                                    f"{run.images_per_second:,.0f}" if run.images_per_second else "—",
                                    _settings(run)])
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Checked if run.name in checked else Qt.CheckState.Unchecked)
            item.setData(0, Qt.ItemDataRole.UserRole, run)
            item.setToolTip(0, run.folder + (f"\n{run.message}" if run.message else ""))
            self.tree.addTopLevelItem(item)
            if run.name == current:
                self.tree.setCurrentItem(item)
        for column in range(len(COLUMNS)):
            self.tree.resizeColumnToContents(column)
        self.tree.blockSignals(False)
        self._update_buttons()
        self.update_overlay()

    def _items(self):
        return [self.tree.topLevelItem(k) for k in range(self.tree.topLevelItemCount())]

    def checked_names(self):
        return [item.text(0) for item in self._items() if item.checkState(0) == Qt.CheckState.Checked]

    def set_checked(self, names):
        for item in self._items():
            item.setCheckState(0, Qt.CheckState.Checked if item.text(0) in names else Qt.CheckState.Unchecked)

    def selected_run(self):
        item = self.tree.currentItem()
        return None if item is None else item.data(0, Qt.ItemDataRole.UserRole)

    def _update_buttons(self):
        run = self.selected_run()
        usable = run is not None and run.status != "damaged"
        fine_tune = usable and not run.has_checkpoint and run.trained_weights_path is not None
        self.continue_button.setText("Fine-tune from this run" if fine_tune else "Continue training")
        self.continue_button.setToolTip(FINE_TUNE_TIP if fine_tune else CONTINUE_TIP)
        self.continue_button.setEnabled(usable and (run.has_checkpoint or fine_tune))
        self.predict_button.setEnabled(run is not None and run.status != "damaged"
                                       and run.trained_weights_path is not None)

    def _emit_selected(self, signal):
        run = self.selected_run()
        if run is not None:
            signal.emit(run)

    # ----- the overlay -----
    def update_overlay(self):
        for plot in (self.loss_plot, self.acc_plot):
            plot.clear()  # a handful of finished curves, redrawn only when the ticks change
        self.overlaid = []
        most_epochs = 1
        by_name = {run.name: run for run in self.runs}
        for k, name in enumerate(sorted(self.checked_names())):
            run = by_name.get(name)
            if run is None or run.status == "damaged":
                continue
            try:
                metrics = run.metrics()
            except RunFileError:
                continue
            color = style.layer_color(k)
            steps = metrics.steps
            if len(steps["global_step"]):
                smooth = Smoother(0.9).feed(np.asarray(steps["loss"], float))
                self.loss_plot.plot(steps["global_step"], smooth, pen=pg.mkPen(color, width=2), name=name,
                                    connect="finite")
            epochs = metrics.epochs
            most_epochs = max(most_epochs, len(epochs["epoch"]))
            if len(epochs["epoch"]):
                self.acc_plot.plot(epochs["epoch"], 100 * epochs["val_accuracy"], pen=pg.mkPen(color, width=2),
                                   symbol="o", symbolSize=6, symbolBrush=color, symbolPen=None, name=name)
            self.overlaid.append(name)
        style.integer_ticks(self.acc_plot.getAxis("bottom"), most_epochs)
