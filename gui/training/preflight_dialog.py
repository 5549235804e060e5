"""The pre-flight check dialog: one training batch through the network's initial weights, before training. A
table of the layers (activation mean and variance, gradient variance, ratios to the layer before), the cells
that cross a threshold coloured (amber: vanishing, red: exploding), the warnings in words with what people
usually do, and a button that checks the gradients numerically and adds pass/fail per layer to the table.

Both checks run in a thread (``jobs.JobRunner``) on a copy of the document (the user may go on editing); closing
the dialog drops them. They save and restore the engine's random state, so they do not start while a training run
is in progress (``is_busy``). A click on a row emits ``layerActivated(name)`` (the training panel forwards it, and
the editor selects that node).
"""

import functools

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
)

from engine.graph import network_from_json, network_to_json
from engine.training.batch_preview import data_key
from engine.training.gradient_check import check_gradients
from engine.training.preflight import VANISHING, check_signal, first_batch, initial_model
from engine.training.recipe import load_data
from gui import theme

from . import style
from .jobs import JobRunner

COLUMNS = ("Layer", "Type", "Output", "Act. mean", "Act. variance", "vs before", "Grad. variance", "vs before",
           "Gradient check")
ACTIVATION_COLUMNS, GRADIENT_COLUMNS, GRADCHECK_COLUMN = (4, 5), (6, 7), 8


def number(value):
    return "–" if value is None else f"{value:.3g}"


def ratio(value):
    return "–" if value is None else f"×{value:.3g}"


class PreflightDialog(QDialog):
    layerActivated = Signal(str)  # a row was clicked

    def __init__(self, document, is_busy=lambda: False, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Pre-flight check")
        self.document = document
        self.is_busy = is_busy  # a training run shares the engine's random state: no check while one runs
        self.jobs = JobRunner("layerlab-preflight", "check", self)
        self.report = self.gradients = None
        self._signal_text = ""
        self._checked = None  # (network, model, batch) of the report on show, for the gradient check
        self._data = None  # (data_key, DataSplits): loaded once while the dataset settings stay the same
        self.resize(980, 620)

        intro = QLabel("One training batch through the initial weights, forward and backward, before training: does "
                       "the signal keep its scale through the layers?")
        intro.setWordWrap(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.cellClicked.connect(self._row_clicked)
        self.warnings = QTextBrowser()
        self.warnings.setMaximumHeight(150)
        self.warnings.setOpenLinks(False)
        self.recheck_button = QPushButton("Check again")
        self.recheck_button.setToolTip("Run the check again on the network as it is now")
        self.recheck_button.clicked.connect(self.run_check)
        self.gradcheck_button = QPushButton("Check gradients numerically")
        self.gradcheck_button.setToolTip("Compare the engine's gradients (autograd) with central differences on a "
                                         "float64 copy and two images, for a sample of each layer's weights")
        self.gradcheck_button.clicked.connect(self.run_gradient_check)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.recheck_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.gradcheck_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.warnings)
        layout.addWidget(buttons)

    # ----- running -----
    def showEvent(self, event):
        super().showEvent(event)
        if not event.spontaneous():  # shown (again), not restored from minimised: check the network as it is now
            self.run_check()

    @property
    def running(self):
        """Whether a check's result is still to come."""
        return self.jobs.active

    def _start(self, work, on_done, message):
        if self.running:
            return
        if self.is_busy():
            self.status.setText("A training run is in progress: the check can run once it has ended.")
            return
        self.status.setText(message)
        self.jobs.start(work, functools.partial(self._ended, on_done))
        self._update_buttons()

    def run_check(self):
        """Check the network as it is now (in a thread)."""
        network = network_from_json(network_to_json(self.document))
        inference = network.infer()
        if not inference.ok:
            self.status.setText("The network has errors; fix them first:\n"
                                + "\n".join(p.message for p in inference.errors))
            return
        key = data_key(network)
        cached = self._data[1] if self._data is not None and self._data[0] == key else None

        def work(stop):
            data = cached or load_data(network)
            if stop():  # the dialog was closed while the data loaded
                return None
            model = initial_model(network)
            batch = first_batch(network, data)
            return key, data, network, model, batch, check_signal(network, model, batch)

        self._start(work, self._signal_checked, "Checking one batch…")

    def run_gradient_check(self):
        """Check the gradients of the model of the last check numerically (in a thread)."""
        if self._checked is None:
            return
        network, model, batch = self._checked
        self._start(lambda stop: check_gradients(network, model, batch, stop=stop), self._gradients_checked,
                    "Checking the gradients numerically (a few seconds for a large network)…")

    def _ended(self, on_done, result, error):
        if error is not None:
            self.status.setText(error)
        else:
            on_done(result)
        self._update_buttons()

    def _update_buttons(self):
        self.recheck_button.setEnabled(not self.running)
        self.gradcheck_button.setEnabled(not self.running and self._checked is not None)

    # ----- showing -----
    def _signal_checked(self, result):
        key, data, network, model, batch, report = result
        self._data = (key, data)
        self._checked = (network, model, batch)
        self.report, self.gradients = report, None
        self._signal_text = (f"One training batch of {report.batch_size} images, loss {report.loss:.4f}. "
                             + ("No warnings." if report.healthy else f"{len(report.warnings)} warning"
                                f"{'s' if len(report.warnings) != 1 else ''}: see below the table."))
        self.status.setText(self._signal_text)
        self._fill_table()
        self._show_warnings()

    def _gradients_checked(self, gradients):
        self.gradients = gradients
        failed = len(gradients.failed)
        self.status.setText(
            f"{self._signal_text}\nGradient check on {gradients.samples} images in float64 "
            f"({gradients.seconds:.1f} s): "
            + ("autograd agrees with the numerical gradients in every layer." if not failed else
               f"{failed} layer{'s' if failed != 1 else ''} FAILED: autograd disagrees with the numerical "
               "gradients (the first failing layer from the output back points at the culprit)."))
        self._fill_gradcheck()

    def _fill_table(self):
        layers = self.report.layers
        self.table.setRowCount(len(layers))
        for row, layer in enumerate(layers):
            cells = (layer.name, layer.type, "×".join(map(str, layer.shape)), number(layer.activation_mean),
                     number(layer.activation_var), ratio(layer.activation_ratio), number(layer.gradient_var),
                     ratio(layer.gradient_ratio), "")
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column >= 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
            self._flag(row, ACTIVATION_COLUMNS, layer.activation_flag, "activations")
            self._flag(row, GRADIENT_COLUMNS, layer.gradient_flag, "gradient")

    def _flag(self, row, columns, flag, what):
        if flag is None:
            return
        colours = theme.canvas_style(theme.current_theme())
        colour = colours.warning if flag == VANISHING else colours.error
        for column in columns:
            item = self.table.item(row, column)
            item.setBackground(QBrush(style.faint(colour, 90)))
            item.setToolTip(f"{what} {flag} here (see the warnings below)")

    def _fill_gradcheck(self):
        by_name = {layer.name: layer for layer in self.gradients.layers}
        colours = theme.canvas_style(theme.current_theme())
        for row in range(self.table.rowCount()):
            layer = by_name.get(self.table.item(row, 0).text())
            item = QTableWidgetItem("" if layer is None else gradcheck_text(layer))
            if layer is not None:
                colour = {True: colours.valid, False: colours.error, None: colours.text_dim}[layer.passed]
                item.setForeground(QBrush(QColor(colour)))
                item.setToolTip(f"{layer.checked} of {layer.total:,} entries compared"
                                + (f", {layer.skipped} where the loss is not smooth within the step" if layer.skipped
                                   else "") + f"; tolerance {layer.tolerance:g} on the relative error")
            self.table.setItem(row, GRADCHECK_COLUMN, item)

    def _show_warnings(self):
        colours = theme.canvas_style(theme.current_theme())
        if self.report.healthy:
            self.warnings.setHtml(f"<p style='color:{colours.valid.name()}'>No warnings: activations and gradients "
                                  "keep their scale through the layers.</p>")
            return
        items = []
        for warning in self.report.warnings:
            colour = colours.warning if warning.kind == VANISHING else colours.error
            items.append(f"<li><b style='color:{colour.name()}'>{warning.message}</b> {warning.advice}</li>")
        self.warnings.setHtml("<ul style='margin-left:-20px'>" + "".join(items) + "</ul>")

    def _row_clicked(self, row, _column):
        self.layerActivated.emit(self.table.item(row, 0).text())

    # ----- closing -----
    def shutdown(self):
        """Drop a check in progress and wait for its thread to end (the application is quitting). Safe to call
        more than once."""
        self.jobs.join()

    def done(self, result):
        self.jobs.drop()
        self._update_buttons()
        super().done(result)


def gradcheck_text(layer):
    if layer.passed is None:
        return "not smooth here"
    return f"{'pass' if layer.passed else 'FAIL'}  (error {layer.max_error:.1e})"


def open_preflight_dialog(panel, on_jobs_changed=None):
    """Show the training panel's pre-flight dialog (made once, checking again when shown again); its row clicks
    go out as the panel's ``layerActivated``; ``on_jobs_changed(running)`` when a check's thread starts or ends."""
    dialog = panel.findChild(PreflightDialog)
    if dialog is None:
        dialog = PreflightDialog(panel.document, lambda: panel.controller.busy, parent=panel)
        dialog.layerActivated.connect(panel.layerActivated)
        if on_jobs_changed is not None:
            dialog.jobs.runningChanged.connect(on_jobs_changed)
    dialog.show()
    dialog.raise_()
    return dialog
