"""Following a run that another process trains (``main.py train --processes N``): what its folder's logs gained
since the last look, as the objects the training loop reports in process (``StepInfo``, ``EpochInfo``,
``HealthRecord``).

The training process flushes its logs every half second (``callbacks.FLUSH_SECONDS``), so only complete lines
are read, a log found shorter than before (a resumed run rewrites it without the steps it trains again) is read
again from its start, and what may still be half written is held back: the rows of the newest health step, and an epoch
until a step of the next one (or the end of the run) says which step ended it. ``metrics.csv`` is rewritten
whole at each epoch and is small: it is read whole.
"""

import json
import math
import os
from dataclasses import fields

import numpy as np

from .health import HealthRecord
from .health_measures import KEYS
from .runs import Run, step_record
from .trainer import EpochInfo, StepInfo

_INTEGER = [f.type is int for f in fields(StepInfo)]


class _Log:
    """The complete lines appended to a file since the last read."""

    def __init__(self, path, from_end):
        self.path = path
        self.offset = os.path.getsize(path) if from_end and os.path.exists(path) else 0

    def new_lines(self):
        try:
            if os.path.getsize(self.path) < self.offset:  # rewritten shorter: a resumed run dropped the rows of
                self.offset = 0  # the steps it trains again; read it again (the readers replace what they had)
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n") + 1
        self.offset += end
        return data[:end].decode("utf-8", "replace").splitlines()


class RunFollower:
    """``poll()`` the run in ``folder``; ``layers`` orders the health records' rows (others are added as they
    come). ``from_end``: report only what is logged from now on (a continued run whose earlier records are
    shown already)."""

    def __init__(self, folder, layers, from_end=False):
        self.folder = folder
        self.layers = list(layers)
        self._steps = _Log(os.path.join(folder, "steps.jsonl"), from_end)
        self._health = _Log(os.path.join(folder, "health.csv"), from_end)
        self._run = Run(folder)
        self._epochs_reported = len(self._run.epoch_metrics()["epoch"]) if from_end else 0
        self._pending_health = {}  # step -> (epoch, {layer: values}) not yet reported
        self._last_step_of_epoch = {}  # 0-based epoch -> the largest global step seen in it
        self.last_step = None  # the newest StepInfo read

    def poll(self, final=False):
        """``(steps, health records, epochs)`` logged since the last call: ``StepInfo``s, ``HealthRecord``s and
        ``(EpochInfo, global step it ended at)``. ``final``: the run has ended, report everything held back."""
        steps = [self._step(line) for line in self._steps.new_lines() if line.strip()]
        for info in steps:
            self._last_step_of_epoch[info.epoch] = max(info.global_step, self._last_step_of_epoch.get(info.epoch, 0))
            self.last_step = info
        return steps, self._health_records(final), self._epochs(final)

    @staticmethod
    def _step(line):
        record = step_record(json.loads(line))  # as the run's own reader takes a line (older formats too)
        return StepInfo(*(int(v) if integer else v for v, integer in zip(record, _INTEGER)))

    def _health_records(self, final):
        for line in self._health.new_lines():
            row = line.split(",")
            if not row[0].isdigit() or len(row) != 3 + len(KEYS):
                continue  # the header
            step, epoch, layer = int(row[0]), int(row[1]) - 1, row[2]
            values = [float(v) if v else math.nan for v in row[3:]]
            self._pending_health.setdefault(step, (epoch, {}))[1][layer] = values
            if layer not in self.layers:
                self.layers.append(layer)
        ready = sorted(self._pending_health) if final else sorted(self._pending_health)[:-1]
        records = []
        for step in ready:
            epoch, rows = self._pending_health.pop(step)
            values = np.full((len(self.layers), len(KEYS)), np.nan)
            for layer, measured in rows.items():
                values[self.layers.index(layer)] = measured
            records.append(HealthRecord(step, epoch, tuple(self.layers), values))
        return records

    def _epochs(self, final):
        table = self._run.epoch_metrics()
        self._epochs_reported = min(self._epochs_reported, len(table["epoch"]))  # rewritten shorter on a resume
        epochs = []
        while self._epochs_reported < len(table["epoch"]):
            k = self._epochs_reported
            epoch = int(table["epoch"][k]) - 1
            newest = self.last_step.epoch if self.last_step is not None else -1
            if not final and newest <= epoch:
                break  # which step ended it is known once a later epoch's step is read
            info = EpochInfo(epoch, float(table["train_loss"][k]), float(table["train_accuracy"][k]),
                             float(table["val_loss"][k]), float(table["val_accuracy"][k]),
                             float(table["seconds"][k]), float(table["lr"][k]))
            epochs.append((info, self._last_step_of_epoch.get(epoch, 0)))
            self._epochs_reported += 1
        return epochs
