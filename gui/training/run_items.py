"""The rows of the Runs tab's table: a run's cells (``engine.training.run_cells``, the texts the command line and
the report use) with a sort key behind each, so every column sorts by value (numbers as numbers, a missing value
last in either direction) rather than by its text."""

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTreeWidgetItem

from engine.graph.diff import value_text
from engine.training.run_cells import MISSING, best_text, duration_text, percent, speed_text

RUN_ROLE = Qt.ItemDataRole.UserRole  # column 0: the Run; column 1: its RunRow
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
LEADING_COLUMNS = ("Run", "Tags", "Status")  # then one column for each setting that differs between the runs
TRAILING_COLUMNS = ("Best val (epoch)", "Final val", "Test", "Images/s", "Time", "Changed")
RIGHT_ALIGNED = {"Best val (epoch)", "Final val", "Test", "Images/s", "Time"}


def columns(settings):
    """The header labels for the runs list with ``settings`` (the names of those that differ) between."""
    return [*LEADING_COLUMNS, *settings, *TRAILING_COLUMNS]


def _key(value):
    """A sort key that orders numbers numerically and text alphabetically; None for a missing value."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0.0, value_text(value).lower())


def row_cells(row, settings, order=0):
    """``(text, sort key)`` of each column of ``columns(settings)`` for a ``RunRow``; ``order``: its place among
    the runs, oldest first (the Run column sorts by it, not by the title)."""
    values = [row.settings.get(s) for s in settings]
    return [(row.label, _key(order)), (" ".join(row.tags), _key(" ".join(row.tags) or None)),
            (row.status, _key(row.status)),
            *((MISSING if v is None else value_text(v), _key(v)) for v in values),
            (best_text(row), _key(row.best_val_accuracy)), (percent(row.final_val_accuracy),
                                                          _key(row.final_val_accuracy)),
            (percent(row.test_accuracy), _key(row.test_accuracy)),
            (speed_text(row.images_per_second), _key(row.images_per_second)),
            (duration_text(row.duration), _key(row.duration)),
            (MISSING if row.diff is None else row.diff.summary(most=1), _key(None if row.diff is None else
                                                                               row.diff.count))]


class RunItem(QTreeWidgetItem):
    """One run's row; compares by the sort keys of the column sorted on."""

    def __init__(self, run, row, settings, order=0):
        cells = row_cells(row, settings, order)
        super().__init__([text for text, _key in cells])
        for column, (_text, key) in enumerate(cells):
            self.setData(column, SORT_ROLE, key)
        self.setData(0, RUN_ROLE, run)
        self.setData(1, RUN_ROLE, row)
        labels = columns(settings)
        self.setFlags(self.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        tip = run.folder + (f"\n\n{row.note}" if row.note else "")
        self.setToolTip(0, tip)
        if row.message:
            self.setToolTip(labels.index("Status"), row.message)  # why it failed, stopped or is damaged
        if row.diff is not None:
            self.setToolTip(len(labels) - 1, "\n".join(row.diff.lines()) or "The network as it is now")
        for column, label in enumerate(labels):
            if label in RIGHT_ALIGNED:
                self.setTextAlignment(column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    @property
    def run(self):
        return self.data(0, RUN_ROLE)

    @property
    def row(self):
        return self.data(1, RUN_ROLE)

    def __lt__(self, other):
        """By value; a missing value sorts last in either direction (Qt reverses the whole order for a
        descending sort, so it is 'greatest' then)."""
        tree = self.treeWidget()
        column = tree.sortColumn() if tree is not None else 0
        mine, theirs = self.data(column, SORT_ROLE), other.data(column, SORT_ROLE)
        if mine is None and theirs is None:
            return False
        if mine is None or theirs is None:
            descending = tree is not None and tree.header().sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
            return (mine is None) == descending
        return mine < theirs
