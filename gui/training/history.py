"""The metrics of the run on screen, in full: per-step records (a column per ``StepInfo`` field), per-step
gradient norms of every layer, per-epoch results. Fed by the controller from the worker's messages (or from a run
folder), read by the plots and written out as CSV."""

import csv
import io
import math
from dataclasses import fields
from operator import attrgetter

import numpy as np

from engine.training import StepInfo
from engine.training.smoothing import Smoother
from engine.utils.files import atomic_write_text

from .buffers import GrowableArray

STEP_FIELDS = tuple(f.name for f in fields(StepInfo))
_INTEGER_FIELDS = [f.type is int for f in fields(StepInfo)]
EPOCH_FIELDS = ("epoch", "end_step", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds")
STEP, EPOCH, LOSS = (STEP_FIELDS.index(name) for name in ("global_step", "epoch", "loss"))
_values = attrgetter(*STEP_FIELDS)


def step_rows(infos):
    """An (n, len(STEP_FIELDS)) array of ``StepInfo`` records."""
    return np.array([_values(info) for info in infos], np.float64).reshape(-1, len(STEP_FIELDS))


class TrainingHistory:
    def __init__(self, smoothing=0.9):
        self._smoother = Smoother(smoothing)
        self.revision = 0  # bumped by every change: the plots redraw only when it moved
        self.reset()

    def reset(self, layers=()):
        self.steps = GrowableArray(len(STEP_FIELDS))
        self.smoothed = GrowableArray(1)
        self.set_layers(layers)
        self.epochs = GrowableArray(len(EPOCH_FIELDS))
        self.epoch_starts = []  # (1-based epoch, its first global step)
        self._smoother.reset()
        self.revision += 1

    def set_layers(self, layers):
        """Name the layers of the gradient norms; steps already recorded (a continued run) get none."""
        self.layers = list(layers)
        self.gradients = GrowableArray(max(len(self.layers), 1), dtype=np.float32)
        if len(self.steps) and self.layers:
            self.gradients.append(np.full((len(self.steps), len(self.layers)), np.nan, np.float32))
        self.revision += 1

    # ----- feeding -----
    def add_steps(self, rows, gradients=None):
        """``rows``: an (n, len(STEP_FIELDS)) array (``step_rows``); ``gradients``: (n, layers) norms or None."""
        rows = np.asarray(rows, np.float64).reshape(-1, len(STEP_FIELDS))
        if not len(rows):
            return
        if len(self.steps) and self.steps.column(STEP)[-1] >= rows[0, STEP]:
            self._drop_from(rows[0, STEP])
        last_epoch = self.epoch_starts[-1][0] if self.epoch_starts else None
        for epoch, step in rows[:, [EPOCH, STEP]].tolist():
            epoch = int(epoch) + 1
            if epoch != last_epoch:
                self.epoch_starts.append((epoch, step))
                last_epoch = epoch
        self.steps.append(rows)
        self.smoothed.append(self._smoother.feed(rows[:, LOSS])[:, None])
        if self.layers:
            if gradients is None:
                gradients = np.full((len(rows), len(self.layers)), np.nan, np.float32)
            self.gradients.append(gradients)
        self.revision += 1

    def _drop_from(self, step):
        """Forget the steps from ``step`` on: a run continued from an earlier checkpoint trains them again (a
        recovery from divergence rewinds past the failed attempt's last steps)."""
        kept = int(np.searchsorted(self.steps.column(STEP), step))
        for buffer in (self.steps, self.smoothed, self.gradients):
            buffer.truncate(kept)
        self.epoch_starts = [(epoch, start) for epoch, start in self.epoch_starts if start < step]

    def add_epoch(self, info, end_step):
        """``info``: an ``EpochInfo`` (0-based epoch) that ended at global step ``end_step``."""
        self.epochs.append([info.epoch + 1, end_step, info.train_loss, info.train_accuracy, info.val_loss,
                            info.val_accuracy, info.lr, info.seconds])
        self.revision += 1

    def load_metrics(self, metrics):
        """Start from a run folder's ``RunMetrics`` (a continued run shows what came before it)."""
        self.reset()
        steps = metrics.steps
        if len(steps["global_step"]):
            self.add_steps(np.stack([steps[k] for k in STEP_FIELDS], 1))
        epochs = metrics.epochs
        ends = self._epoch_end_steps(epochs["epoch"])
        for k in range(len(epochs["epoch"])):
            row = [epochs["epoch"][k], ends[k]] + [epochs[f][k] for f in EPOCH_FIELDS[2:]]
            self.epochs.append(row)
        self.revision += 1

    def _epoch_end_steps(self, epochs):
        step, epoch = self.steps.column(STEP), self.steps.column(EPOCH) + 1
        return [float(step[epoch == e].max()) if (epoch == e).any() else math.nan for e in epochs]

    # ----- smoothing -----
    @property
    def smoothing(self):
        return self._smoother.weight

    def set_smoothing(self, weight):
        self._smoother.weight = float(weight)
        self._smoother.reset()
        smoothed = self._smoother.feed(self.steps.column(LOSS))
        self.smoothed.clear()
        self.smoothed.append(smoothed[:, None])
        self.revision += 1

    # ----- reading -----
    def __len__(self):
        return len(self.steps)

    def column(self, field):
        return self.steps.column(STEP_FIELDS.index(field))

    def epoch_column(self, field):
        return self.epochs.column(EPOCH_FIELDS.index(field))

    @property
    def last_step(self):
        return int(self.steps.data[-1, STEP]) if len(self.steps) else 0

    def write_csv(self, path):
        """One row per step, written atomically: the step's values (epochs counted from 1, as metrics.csv and
        the screen count them), each layer's gradient norm, and the epoch's results on the epoch's last step."""
        epoch_rows = {int(row[1]): row for row in self.epochs.data.tolist() if not math.isnan(row[1])}
        text = io.StringIO(newline="")
        writer = csv.writer(text)
        writer.writerow([*STEP_FIELDS, "smoothed_loss", *(f"grad_norm_{n}" for n in self.layers),
                         *EPOCH_FIELDS[2:6]])
        grads = self.gradients.data if self.layers else np.zeros((len(self.steps), 0))
        for k, row in enumerate(self.steps.data.tolist()):
            epoch = epoch_rows.get(int(row[STEP]))
            row[EPOCH] += 1
            writer.writerow([*map(_cell, row, _INTEGER_FIELDS), _num(self.smoothed.data[k, 0]),
                             *map(_num, grads[k].tolist()), *(map(_num, epoch[2:6]) if epoch else ("",) * 4)])
        atomic_write_text(path, text.getvalue())


def _cell(value, integer):
    return int(value) if integer else _num(value)


def _num(value):
    return "" if value != value else repr(float(value))
