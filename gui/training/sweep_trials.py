"""The sweep dialog's table of trials: one row per trial of a sweep's record (``engine.training.sweep_record``):
its number, state, the value of each varied setting, its score (best validation accuracy), test accuracy and run
folder; the best trial (``Sweep.best``) bold and starred. Sorting goes through ``SORT_ROLE`` (numbers sort as
numbers, a missing score last)."""

import math
import os

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from engine.training.run_cells import MISSING, percent
from engine.training.sweep_space import format_value
from gui import theme

SORT_ROLE = Qt.ItemDataRole.UserRole
STAR = "★"
LEADING = ("Trial", "Status")
TRAILING = ("Val acc", "Test acc", "Run")
NUMERIC_TRAILING = ("Val acc", "Test acc")


def _missing_last(value):
    return -math.inf if value is None or not math.isfinite(value) else value


class TrialTableModel(QAbstractTableModel):
    """The trials of one sweep; ``set_sweep(sweep)`` again as its record changes (rows added, cells updated, the
    selection kept while the varied settings stay the same)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.varied = []
        self.trials = []
        self.best = None
        self.live = False

    def set_sweep(self, sweep, live=False):
        """Show ``sweep`` (a ``Sweep``, or None for none); ``live``: its coordinator runs (else a trial recorded as
        running was interrupted)."""
        self.live = live
        varied = sweep.varied() if sweep is not None else []
        trials = list(sweep.trials) if sweep is not None else []
        best = sweep.best() if sweep is not None else None
        if varied != self.varied or len(trials) < len(self.trials):
            self.beginResetModel()
            self.varied, self.trials, self.best = varied, trials, best
            self.endResetModel()
            return
        old = len(self.trials)
        self.best = best
        if len(trials) > old:
            self.beginInsertRows(QModelIndex(), old, len(trials) - 1)
            self.trials = trials
            self.endInsertRows()
        self.trials = trials
        if old:
            self.dataChanged.emit(self.index(0, 0), self.index(old - 1, self.columnCount() - 1))

    @property
    def headers(self):
        return [*LEADING, *self.varied, *TRAILING]

    def rowCount(self, parent=None):
        return 0 if parent is not None and parent.isValid() else len(self.trials)

    def columnCount(self, parent=None):
        return 0 if parent is not None and parent.isValid() else len(self.headers)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.headers[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        trial, column = self.trials[index.row()], self.headers[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(trial, column)
        if role == SORT_ROLE:
            return self._sort_key(trial, column)
        if role == Qt.ItemDataRole.FontRole and trial is self.best:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and (column == "Trial" or column in NUMERIC_TRAILING
                                                          or isinstance(trial.settings.get(column), (int, float))):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and column == "Status":
            return self._state_brush(trial.state)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tip(trial, column)
        return None

    def _text(self, trial, column):
        if column == "Trial":
            return f"{STAR} {trial.number}" if trial is self.best else str(trial.number)
        if column == "Status":
            if trial.state == "running" and not self.live:
                return "interrupted"
            epochs = len(trial.scores)
            return f"running, epoch {epochs}" if trial.state == "running" and epochs else trial.state
        if column == "Val acc":
            return percent(trial.score)
        if column == "Test acc":
            return percent(trial.test_accuracy)
        if column == "Run":
            return os.path.basename(trial.run)
        value = trial.settings.get(column)
        return MISSING if value is None else format_value(value)

    def _sort_key(self, trial, column):
        if column == "Trial":
            return trial.number
        if column == "Val acc":
            return _missing_last(trial.score)
        if column == "Test acc":
            return _missing_last(trial.test_accuracy)
        if column in self.varied:
            value = trial.settings.get(column)
            return value if isinstance(value, (int, float)) else str(value)
        return self._text(trial, column)

    def _state_brush(self, state):
        colours = theme.canvas_style(theme.current_theme())
        colour = {"finished": colours.valid, "failed": colours.error, "stopped": colours.warning,
                  "pruned": colours.text_dim, "pending": colours.text_dim}.get(state)
        if state == "running" and not self.live:
            colour = colours.warning
        return None if colour is None else QBrush(colour)

    def _tip(self, trial, column):
        if column == "Status" and trial.message:
            return trial.message
        if column == "Run":
            return trial.run
        if column == "Trial" and trial is self.best:
            return "The best trial: the highest validation accuracy"
        if column == "Val acc" and trial.scores:
            return "Validation accuracy by epoch: " + ", ".join(percent(s) for s in trial.scores)
        return None


def trial_view(model):
    """A table of ``model``'s trials, sorted by ``SORT_ROLE`` when a header is clicked (by trial first)."""
    proxy = QSortFilterProxyModel(model)
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    table = QTableView()
    table.setModel(proxy)
    table.setSortingEnabled(True)
    table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.verticalHeader().hide()
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table
