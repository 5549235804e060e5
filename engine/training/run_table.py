"""The runs of a network as rows of a table: settings, outcome, speed, accuracies, and what changed between the
document each run trained and the current one. The command line's ``runs`` and the GUI's runs list read these.

A run whose files cannot be read (``run.json``, ``metrics.csv`` or its copy of the document) is a row with
status ``damaged`` and the reason as its message, so that one bad folder never hides the others. A damaged
``notes.json`` only loses the notes (the reason goes in the message); the run stays usable.
"""

import math
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from ..graph.diff import network_diff
from ..utils.files import FileError
from .run_notes import load_notes
from .runs import list_runs

DAMAGED = "damaged"


@dataclass
class RunRow:
    """One run. Accuracies are fractions (0..1) or None; ``best_epoch`` is 1-based; ``duration`` in seconds.
    ``diff`` (a ``NetworkDiff``) is from the run's document to the current one, None when not asked for or the
    run's document cannot be read."""

    name: str
    folder: str
    status: str
    message: str = ""
    started: str | None = None
    finished: str | None = None
    duration: float | None = None
    epochs_completed: int = 0
    epochs: int = 0
    images_per_second: float | None = None
    best_val_accuracy: float | None = None
    best_epoch: int | None = None
    final_val_accuracy: float | None = None
    test_accuracy: float | None = None
    settings: dict = field(default_factory=dict)
    diff: object = None
    title: str = ""
    tags: list = field(default_factory=list)
    note: str = ""

    @property
    def label(self):
        """The name a person sees: the run's title, else its folder's name."""
        return self.title or self.name

    def as_dict(self):
        """Plain data for JSON (the diff in full)."""
        data = {k: v for k, v in vars(self).items() if k != "diff"}
        return {**data, "settings": dict(self.settings), "tags": list(self.tags),
                "diff": None if self.diff is None else self.diff.as_dict()}


def _seconds_between(started, finished):
    try:
        return (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds()
    except (TypeError, ValueError):
        return None


def _accuracies(epochs):
    """``(best, its epoch, final)`` validation accuracy from per-epoch metrics (epochs without one skipped)."""
    accuracy, numbers = epochs["val_accuracy"], epochs["epoch"]
    known = np.flatnonzero(np.isfinite(accuracy))
    if known.size == 0:
        return None, None, None
    best = known[np.argmax(accuracy[known])]  # the first epoch that reached the best
    return float(accuracy[best]), int(numbers[best]), float(accuracy[known[-1]])


def run_row(run, current=None):
    """The ``RunRow`` of a ``Run`` (as ``list_runs`` gives it); ``current``: the document to diff against."""
    row = RunRow(run.name, run.folder, run.status, run.message, run.started, run.finished,
                 epochs_completed=run.epochs_completed, epochs=run.epochs, images_per_second=run.images_per_second,
                 test_accuracy=run.test_accuracy)
    try:
        notes = load_notes(run.folder)
        row.title, row.tags, row.note = notes.title, notes.tags, notes.note
    except (FileError, OSError) as e:
        row.message = "; ".join(filter(None, (row.message, str(e))))
    if run.status == DAMAGED:
        return row
    try:
        epochs = run.epoch_metrics()
        network = run.network()
    except (FileError, OSError) as e:
        row.status, row.message = DAMAGED, str(e)
        return row
    row.best_val_accuracy, row.best_epoch, row.final_val_accuracy = _accuracies(epochs)
    seconds = epochs["seconds"]
    row.duration = float(seconds.sum()) if seconds.size else _seconds_between(run.started, run.finished)
    row.settings = dict(network.settings)
    if current is not None:
        row.diff = network_diff(network, current)
    return row


def run_rows(network_path, current=None):
    """A ``RunRow`` for every run of the network file (oldest first, as ``list_runs``); with ``current`` (the
    document as it is now, an ``engine.graph.Network``) each row has its diff."""
    return [run_row(run, current) for run in list_runs(network_path)]


def _same(a, b):
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def varying_settings(rows):
    """The names of the settings whose values differ among the rows (those with settings), in settings order."""
    known = [row.settings for row in rows if row.settings]
    names = list(dict.fromkeys(name for settings in known for name in settings))
    return [name for name in names
            if any(not _same(settings.get(name), known[0].get(name)) for settings in known[1:])]
