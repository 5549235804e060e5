"""A run folder's ``health.csv`` (written by ``HealthLog``) read back as arrays: a row per sampled step, a column
per layer, a plane per measure."""

import math
import os
from dataclasses import dataclass

import numpy as np

from .callbacks import HealthLog
from .health_measures import KEYS
from .run_errors import RunFileError
from .runs import MAX_LOG_BYTES, csv_rows, read_text


@dataclass
class HealthTable:
    """``values[i, j, k]``: measure ``KEYS[k]`` of layer ``layers[j]`` at global step ``steps[i]`` (1-based, as
    ``HealthRecord.step``); NaN where the measure does not apply or the layer was not recorded at that step.
    ``epochs`` is each step's 1-based epoch."""

    steps: np.ndarray
    epochs: np.ndarray
    layers: list
    values: np.ndarray

    def column(self, key):
        """The (steps, layers) values of one measure."""
        return self.values[:, :, KEYS.index(key)]


def _number(text, path, line):
    if text == "":
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise RunFileError(path, f"line {line}: {text!r} is not a number") from None


def _step(text, path, line):
    if not text.isdigit():
        raise RunFileError(path, f"line {line}: {text!r} is not a step number")
    return int(text)


def read_health_csv(path):
    """The ``HealthTable`` of ``path``: steps in increasing order (a step written twice keeps its latest rows),
    layers in the order they first appear. A missing file (health was not measured) gives an empty table, a line
    cut short at the end is left out (the training process writes the log in blocks); a damaged one raises
    ``RunFileError`` naming the file and line."""
    fields = HealthLog.FIELDS
    text = read_text(path, MAX_LOG_BYTES) if os.path.lexists(path) else ""
    complete = text[:text.rfind("\n") + 1]  # a run still writing (or one that crashed) may end in half a line
    if not complete:
        return HealthTable(np.zeros(0, np.int64), np.zeros(0, np.int64), [], np.zeros((0, 0, len(KEYS))))
    records, epochs, layers = {}, {}, {}
    for line, row in csv_rows(complete, fields, path, "health log"):
        step, epoch, layer = _step(row[0], path, line), _step(row[1], path, line), row[2]
        layers.setdefault(layer, len(layers))
        epochs[step] = epoch
        records.setdefault(step, {})[layer] = [_number(v, path, line) for v in row[3:]]
    steps = sorted(records)
    values = np.full((len(steps), len(layers), len(KEYS)), np.nan)
    for i, step in enumerate(steps):
        for layer, measured in records[step].items():
            values[i, layers[layer]] = measured
    return HealthTable(np.asarray(steps, np.int64), np.asarray([epochs[s] for s in steps], np.int64),
                       list(layers), values)
