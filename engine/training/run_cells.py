"""The texts of a runs table's cells (``RunRow``): percentages, speed, duration, the settings that differ. The
report (``run_report``) writes them; they are the command line's ``runs`` formats (``cli/table.percent``,
``cli/runs.duration_text``), kept here so that the engine's report can use them too."""

import math

from ..graph.diff import value_text

MISSING = "—"
RESULT_COLUMNS = ("best val (epoch)", "final val", "test", "img/s", "time")


def known(value):
    return value is not None and not (isinstance(value, float) and not math.isfinite(value))


def percent(value, missing=MISSING):
    """``87.25%``; ``missing`` for None or a value that is not finite."""
    return missing if not known(value) else f"{100 * value:.2f}%"


def duration_text(seconds):
    """``42.0 s``, ``3m 05s``, ``1h 02m``."""
    if not known(seconds):
        return MISSING
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m {rest:02d}s" if minutes < 60 else f"{minutes // 60}h {minutes % 60:02d}m"


def speed_text(images_per_second):
    """``1,234`` images per second."""
    return f"{images_per_second:,.0f}" if known(images_per_second) else MISSING


def best_text(row):
    """``87.25% (3)``: the best validation accuracy and its epoch."""
    return MISSING if row.best_val_accuracy is None else f"{percent(row.best_val_accuracy)} ({row.best_epoch})"


def headers(settings):
    return ["run", "status", *settings, *RESULT_COLUMNS]


def row_cells(row, settings):
    """The texts of one ``RunRow`` in the order of ``headers(settings)``."""
    return [row.label, row.status, *(value_text(row.settings[s]) if s in row.settings else MISSING for s in settings),
            best_text(row), percent(row.final_val_accuracy), percent(row.test_accuracy),
            speed_text(row.images_per_second), duration_text(row.duration)]
