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

from engine.graph.diff import value_text
from engine.training.run_table import DAMAGED, run_row, varying_settings
from engine.training.runs import RunFileError

from . import style
from .buffers import Smoother
from .progress import format_duration

MISSING = "—"
LEADING_COLUMNS = ("Run", "Status")  # then one column for each setting that differs between the runs
TRAILING_COLUMNS = ("Best val (epoch)", "Final val", "Test", "Images/s", "Time", "Changed")
RIGHT_ALIGNED = {"Best val (epoch)", "Final val", "Test", "Images/s", "Time"}


def _percent(value):
    return MISSING if value is None or not math.isfinite(value) else f"{100 * value:.2f} %"


def columns(settings):
    """The header labels for the runs list with ``settings`` (the names of those that differ) between."""
    return [*LEADING_COLUMNS, *settings, *TRAILING_COLUMNS]


def row_cells(row, settings):
    """The texts of one ``RunRow`` in the order of ``columns(settings)``."""
    best = MISSING if row.best_val_accuracy is None else f"{_percent(row.best_val_accuracy)} ({row.best_epoch})"
    speed = row.images_per_second
    return [row.name, row.status,
            *(value_text(row.settings[s]) if s in row.settings else MISSING for s in settings),
            best, _percent(row.final_val_accuracy), _percent(row.test_accuracy),
            f"{speed:,.0f}" if speed is not None and math.isfinite(speed) and speed > 0 else MISSING,
            format_duration(row.duration), MISSING if row.diff is None else row.diff.summary(most=1)]


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

    def __init__(self, runs_provider, current_document=lambda: None, parent=None):
        super().__init__(parent)
        self.runs_provider = runs_provider  # () -> [Run], oldest first
        self.current_document = current_document  # () -> the Network each run's document is diffed against
        self.runs = []
        self.rows = []  # their RunRows, in the same order
        self.location = QLabel()
        self.location.setStyleSheet(style.MUTED_STYLE)
        self.location.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(columns([]))
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
        body.setSizes([240, 360])  # the table: room for a few runs above the curves
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
        document = self.current_document()
        self.rows = [run_row(run, document) for run in self.runs]
        settings = varying_settings(self.rows)
        labels = columns(settings)
        if location:
            self.location.setText(_location_text(location, bool(self.runs), earlier_runs))
        self.tree.blockSignals(True)
        self.tree.clear()
        self.tree.setHeaderLabels(labels)
        for run, row in reversed(list(zip(self.runs, self.rows))):  # newest first
            item = self._item(run, row, settings, labels)
            item.setCheckState(0, Qt.CheckState.Checked if run.name in checked else Qt.CheckState.Unchecked)
            self.tree.addTopLevelItem(item)
            if run.name == current:
                self.tree.setCurrentItem(item)
        for column in range(len(labels)):
            self.tree.resizeColumnToContents(column)
        self.tree.blockSignals(False)
        self._update_buttons()
        self.update_overlay()

    @staticmethod
    def _item(run, row, settings, labels):
        item = QTreeWidgetItem(row_cells(row, settings))
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setData(0, Qt.ItemDataRole.UserRole, run)
        item.setData(1, Qt.ItemDataRole.UserRole, row)
        item.setToolTip(0, run.folder + (f"\n{row.message}" if row.message else ""))
        if row.message:
            item.setToolTip(1, row.message)  # why it failed, stopped or is damaged
        if row.diff is not None:
            changed = len(labels) - 1
            item.setToolTip(changed, "\n".join(row.diff.lines()) or "The network as it is now")
        for column, label in enumerate(labels):
            if label in RIGHT_ALIGNED:
                item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return item

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

    def selected_row(self):
        item = self.tree.currentItem()
        return None if item is None else item.data(1, Qt.ItemDataRole.UserRole)

    def _update_buttons(self):
        run, row = self.selected_run(), self.selected_row()
        usable = run is not None and row.status != DAMAGED
        fine_tune = usable and not run.has_checkpoint and run.trained_weights_path is not None
        self.continue_button.setText("Fine-tune from this run" if fine_tune else "Continue training")
        self.continue_button.setToolTip(FINE_TUNE_TIP if fine_tune else CONTINUE_TIP)
        self.continue_button.setEnabled(usable and (run.has_checkpoint or fine_tune))
        self.predict_button.setEnabled(usable and run.trained_weights_path is not None)

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
        by_name = {run.name: (run, row) for run, row in zip(self.runs, self.rows)}
        for k, name in enumerate(sorted(self.checked_names())):
            run, row = by_name.get(name, (None, None))
            if run is None or row.status == DAMAGED:
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
