"""The runs of the network: a sortable table of its run folders (a column per setting that differs, results, what
changed since), each run's title, tags and note, and, below, the ticked runs compared: any metric overlaid, or
their settings against a result on parallel coordinates. A run can be continued, used for prediction, reopened
(its network and settings as trained, one undoable edit), moved to the trash, and the comparison exported as a
self-contained HTML report."""

import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QTreeWidget,
    QVBoxLayout,
    QWidget,
)

from engine.graph.diff import value_text
from engine.training.run_cells import percent
from engine.training.run_notes import trash_run
from engine.training.run_report import write_report
from engine.training.run_table import DAMAGED, run_row, varying_settings
from engine.utils.files import FileError

from . import style
from .parallel_coordinates import ParallelCoordinates
from .run_items import LEADING_COLUMNS, RunItem, columns
from .run_notes_dialog import RunNotesDialog
from .run_overlay import RunOverlay

# The results a parallel-coordinates chart can colour by: (label, RunRow attribute, a fraction shown as %)
RESULTS = (("Best validation accuracy", "best_val_accuracy", True), ("Final validation accuracy",
           "final_val_accuracy", True), ("Test accuracy", "test_accuracy", True),
           ("Images per second", "images_per_second", False), ("Training time (s)", "duration", False))


def run_matches(row, word):
    """Whether a ``RunRow`` matches one word of the filter: ``name=value`` a setting's value exactly (as shown),
    other words part of its folder name, title, tags, note or status (ignoring case)."""
    name, equals, value = word.partition("=")
    if equals:
        return name in row.settings and value_text(row.settings[name]) == value
    text = " ".join([row.name, row.title, *row.tags, row.note, row.status]).lower()
    return word.lower() in text


def _location_text(location, has_runs, earlier_runs):
    text = f"Runs in {location}" + ("  ·  tick runs to compare them, double-click one for its notes" if has_runs
                                    else " (none yet)")
    if earlier_runs:
        text += f"  ·  runs made before Save As stay with the earlier file, in {earlier_runs}"
    return text


def last_run_text(run):
    """The line that names a file's last run and where its runs are, when the file is opened."""
    accuracy = "" if run.test_accuracy is None else f", test accuracy {percent(run.test_accuracy)}"
    return (f"Last run {run.name}: {run.status}, {run.epochs_completed}/{run.epochs} epochs{accuracy}  ·  runs of "
            f"this network in {os.path.dirname(run.folder)} (Runs tab)")


CONTINUE_TIP = "Continue the selected run from its checkpoint, with the optimizer state"
FINE_TUNE_TIP = ("Train a new run of this network starting from the selected run's weights (an imported model's, "
                 "say) where they fit its layers")
RESTORE_TIP = "Put the selected run's network and settings, as it trained them, in the editor (Undo brings back yours)"


class RunsView(QWidget):
    continueRequested = Signal(object)  # Run
    predictRequested = Signal(object)  # Run
    restoreRequested = Signal(object)  # Run: its network into the editor

    def __init__(self, runs_provider, current_document=lambda: None, is_live=lambda folder: False, parent=None):
        super().__init__(parent)
        self.runs_provider = runs_provider  # () -> [Run], oldest first
        self.current_document = current_document  # () -> the Network each run's document is diffed against
        self.is_live = is_live  # (folder) -> whether this window is training in it now
        self.runs = []
        self.rows = []  # their RunRows, in the same order
        self.location = QLabel()
        self.location.setStyleSheet(style.MUTED_STYLE)
        self.location.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(columns([]))
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSortingEnabled(True)
        self.tree.sortByColumn(0, Qt.SortOrder.DescendingOrder)  # newest first
        self.tree.itemChanged.connect(lambda *_: self.update_comparison())
        self.tree.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.tree.itemDoubleClicked.connect(lambda *_: self.edit_notes())
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)

        self.buttons = {}
        for key, text, slot in (("continue", "Continue training", lambda: self._emit_selected(self.continueRequested)),
                                ("predict", "Use for prediction", lambda: self._emit_selected(self.predictRequested)),
                                ("restore", "Open network", lambda: self._emit_selected(self.restoreRequested)),
                                ("notes", "Notes…", self.edit_notes), ("trash", "Trash", self.trash_selected),
                                ("report", "Report…", self.export_report), ("refresh", "Refresh", self.refresh)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            self.buttons[key] = button
        self.continue_button, self.predict_button = self.buttons["continue"], self.buttons["predict"]
        self.continue_button.setToolTip(CONTINUE_TIP)
        self.buttons["restore"].setToolTip(RESTORE_TIP)
        self.buttons["notes"].setToolTip("Give the run a title, tags and a note (or double-click it)")
        self.buttons["trash"].setToolTip("Move the run's folder to the desktop's trash, from where it can be restored")
        self.buttons["report"].setToolTip("Save the ticked runs' table and curves (or all runs') as one HTML page")

        self.overlay = RunOverlay()
        self.coordinates = ParallelCoordinates()
        self.coordinates.runClicked.connect(self.select)
        self.result_combo = QComboBox()
        for label, attribute, _percent in RESULTS:
            self.result_combo.addItem(label, attribute)
        self.result_combo.currentIndexChanged.connect(lambda *_: self._update_coordinates())
        self.comparison = QTabWidget()
        self.comparison.addTab(self.overlay, "Curves")
        self.comparison.addTab(self.coordinates, "Parallel coordinates")
        controls = QStackedWidget()  # each page's controls beside the tabs, where they cost no height
        controls.addWidget(self.overlay.controls)
        controls.addWidget(self._coordinates_controls())
        self.comparison.setCornerWidget(controls, Qt.Corner.TopRightCorner)
        self.comparison.currentChanged.connect(controls.setCurrentIndex)

        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter runs")
        self.filter_edit.setToolTip("Show only the runs whose name, title, tags, note or status hold each word; "
                                    "setting=value (lr=0.01) picks a setting's value")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(lambda *_: self._apply_filter())
        buttons = QHBoxLayout()
        for button in self.buttons.values():
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.filter_edit)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.location)
        top_layout.addLayout(buttons)
        top_layout.addWidget(self.tree, 1)
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(top)
        body.addWidget(self.comparison)
        body.setStretchFactor(0, 2)
        body.setStretchFactor(1, 3)
        self.tree.setMinimumHeight(7 * self.tree.fontMetrics().height())  # a few runs, whatever the space
        layout = QVBoxLayout(self)
        layout.addWidget(body)
        self._update_buttons()

    def _coordinates_controls(self):
        controls = QWidget()
        layout = QHBoxLayout(controls)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Settings against"))
        layout.addWidget(self.result_combo)
        return controls

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
        if location:
            self.location.setText(_location_text(location, bool(self.runs), earlier_runs))
        self.tree.blockSignals(True)
        self.tree.setSortingEnabled(False)  # added rows would be sorted one by one
        self.tree.clear()
        self.tree.setHeaderLabels(columns(settings))
        for order, (run, row) in enumerate(zip(self.runs, self.rows)):
            item = RunItem(run, row, settings, order)
            item.setCheckState(0, Qt.CheckState.Checked if run.name in checked else Qt.CheckState.Unchecked)
            self.tree.addTopLevelItem(item)
            if run.name == current:
                self.tree.setCurrentItem(item)
        self.tree.setSortingEnabled(True)
        self.tree.setColumnHidden(LEADING_COLUMNS.index("Tags"), not any(row.tags for row in self.rows))
        self._apply_filter()
        for column in range(self.tree.columnCount()):
            self.tree.resizeColumnToContents(column)
        self.tree.blockSignals(False)
        self._update_buttons()
        self.update_comparison()

    def _items(self):
        return [self.tree.topLevelItem(k) for k in range(self.tree.topLevelItemCount())]

    def _apply_filter(self):
        words = self.filter_edit.text().split()
        for item in self._items():
            item.setHidden(not all(run_matches(item.row, word) for word in words))

    def checked_names(self):
        """The folder names of the ticked runs, as the table shows them (top first)."""
        return [item.run.name for item in self._items() if item.checkState(0) == Qt.CheckState.Checked]

    def set_checked(self, names):
        for item in self._items():
            item.setCheckState(0, Qt.CheckState.Checked if item.run.name in names else Qt.CheckState.Unchecked)

    def item_of(self, name):
        return next((item for item in self._items() if item.run.name == name), None)

    def selected_run(self):
        item = self.tree.currentItem()
        return None if item is None else item.run

    def selected_row(self):
        item = self.tree.currentItem()
        return None if item is None else item.row

    def select(self, name):
        item = self.item_of(name)
        if item is not None:
            self.tree.setCurrentItem(item)

    def _update_buttons(self):
        run, row = self.selected_run(), self.selected_row()
        usable = run is not None and row.status != DAMAGED
        fine_tune = usable and not run.has_checkpoint and run.trained_weights_path is not None
        self.continue_button.setText("Fine-tune from this run" if fine_tune else "Continue training")
        self.continue_button.setToolTip(FINE_TUNE_TIP if fine_tune else CONTINUE_TIP)
        self.continue_button.setEnabled(usable and (run.has_checkpoint or fine_tune))
        self.predict_button.setEnabled(usable and run.trained_weights_path is not None)
        self.buttons["restore"].setEnabled(usable)
        self.buttons["notes"].setEnabled(run is not None)
        self.buttons["trash"].setEnabled(run is not None and not self.is_live(run.folder))
        self.buttons["report"].setEnabled(bool(self.runs))

    def _emit_selected(self, signal):
        run = self.selected_run()
        if run is not None:
            signal.emit(run)

    def _context_menu(self, position):
        item = self.tree.itemAt(position)
        if item is None:
            return
        self.tree.setCurrentItem(item)
        menu = QMenu(self)
        for key in ("continue", "predict", "restore", "notes", "trash"):
            button = self.buttons[key]
            action = menu.addAction(button.text(), button.click)
            action.setEnabled(button.isEnabled() and button.isVisible())
        menu.addSeparator()
        menu.addAction("Copy folder path", lambda: self._copy(item.run.folder))
        menu.popup(self.tree.viewport().mapToGlobal(position))

    @staticmethod
    def _copy(text):
        QGuiApplication.clipboard().setText(text)

    # ----- notes and the trash -----
    def notes_dialog(self, run):
        """The dialog that edits ``run``'s notes (a method, so tests can drive it without a modal loop)."""
        return RunNotesDialog(run.folder, run.name, self)

    def edit_notes(self):
        run = self.selected_run()
        if run is None:
            return
        dialog = self.notes_dialog(run)
        dialog.accepted.connect(self.refresh)
        dialog.open()

    def confirm_trash(self, run, running):
        warning = (" It says it is still running: move it only if the process that trained it has ended."
                   if running else "")
        answer = QMessageBox.question(self, "Move run to trash",
                                      f"Move run {run.name} and all its files to the trash?{warning}")
        return answer == QMessageBox.StandardButton.Yes

    def trash_selected(self):
        run = self.selected_run()
        if run is None or self.is_live(run.folder):
            return
        if not self.confirm_trash(run, self.selected_row().status == "running"):
            return
        try:
            trash_run(run.folder)
        except (FileError, OSError) as e:
            QMessageBox.warning(self, "Cannot move the run to the trash", str(e))
            return
        self.refresh()

    # ----- the comparison -----
    def compared_runs(self):
        """The ticked runs that can be read, oldest first, with their labels and colour indices."""
        checked = set(self.checked_names())
        return [(run, row.label, k) for k, (run, row) in enumerate(zip(self.runs, self.rows))
                if run.name in checked and row.status != DAMAGED]

    def update_comparison(self):
        compared = self.compared_runs()
        self.overlay.show_runs(compared)
        self._update_coordinates()
        self._show_colours({run.name: colour for run, _label, colour in compared})

    def _show_colours(self, colours):
        """Each ticked run's line colour beside its name, so the table is the curves' key."""
        self.tree.blockSignals(True)
        for item in self._items():
            colour = colours.get(item.run.name)
            item.setData(0, Qt.ItemDataRole.DecorationRole,
                         None if colour is None else QColor(style.layer_color(colour)))
        self.tree.resizeColumnToContents(0)
        self.tree.blockSignals(False)

    def _update_coordinates(self):
        label, attribute, as_percent = RESULTS[self.result_combo.currentIndex()]
        names = {run.name for run, _label, _colour in self.compared_runs()}
        rows = [row for row in self.rows if row.name in names]
        self.coordinates.set_runs(rows, varying_settings(rows), attribute, label, as_percent)

    def ask_report_path(self):
        path, _ = QFileDialog.getSaveFileName(self, "Export comparison report", "runs-report.html",
                                              "HTML page (*.html)")
        return path

    def export_report(self):
        """Write the ticked runs (all, when none is ticked) with the curves' chosen metric and alignment."""
        compared = [run for run, _label, _colour in self.compared_runs()]
        runs = compared or [run for run, row in zip(self.runs, self.rows) if row.status != DAMAGED]
        if not runs:
            return None
        path = self.ask_report_path()
        if not path:
            return None
        try:
            write_report(path, runs, metric=self.overlay.metric_keys()[0], align=self.overlay.alignment,
                         group_seeds=self.overlay.seeds_box.isChecked())
        except (FileError, OSError, ValueError) as e:
            QMessageBox.warning(self, "Cannot write the report", str(e))
            return None
        return path
