"""Callbacks for ``Trainer``: console progress, a metrics log, a health log, checkpoints, early stopping.

A callback implements any of ``on_fit_start(trainer)``, ``on_epoch_start(trainer, epoch)``,
``on_step_begin(trainer, global_step)`` (the step about to run, 1-based), ``on_step_end(trainer, StepInfo)``,
``on_gradients(trainer, {layer: norm})``, ``on_health(trainer, HealthRecord)`` (the steps a ``HealthMonitor``
samples), ``on_validation(trainer, EvalResult)`` (each epoch's validation), ``on_epoch_end(trainer, EpochInfo)``,
``on_pause(trainer)`` and ``on_fit_end(trainer, RunInfo)``.
"""

import contextlib
import csv
import io
import json
import math
import os
import time

from tqdm import tqdm

from ..serialization import WeightFileError
from ..utils.files import atomic_write_text
from .checkpoint import CheckpointError
from .health_measures import KEYS
from .run_errors import RunFileError
from .trainer import NonFiniteLossError


class Callback:
    """Base class: every event does nothing."""


class ConsoleProgress(Callback):
    """A tqdm bar per epoch: step, loss, images/s and ETA; a summary line per epoch; the run's end message
    unless ``report_end`` is False (the caller reports the outcome itself)."""

    def __init__(self, file=None, leave=False, report_end=True):
        self.file = file
        self.leave = leave
        self.report_end = report_end
        self.bar = None

    def on_epoch_start(self, trainer, epoch):
        self.bar = tqdm(total=len(trainer.train_loader), initial=trainer.epoch_step, desc=f"epoch {epoch + 1}",
                        unit="step", file=self.file, leave=self.leave, dynamic_ncols=True)

    def on_step_end(self, trainer, info):
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{info.loss:.4f}", img_s=f"{info.images_per_second:,.0f}", refresh=False)
            self.bar.update(1)

    def _close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def on_epoch_end(self, trainer, info):
        self._close()
        val = ""
        if not math.isnan(info.val_loss):
            val = f"  val loss {info.val_loss:.4f}  val acc {100 * info.val_accuracy:.2f}%"
        tqdm.write(f"epoch {info.epoch + 1}: train loss {info.train_loss:.4f}  train acc "
                   f"{100 * info.train_accuracy:.2f}%{val}  ({info.seconds:.1f} s)", file=self.file)

    def on_fit_end(self, trainer, info):
        self._close()
        if info.message and self.report_end:
            tqdm.write(info.message, file=self.file)


class MetricsLog(Callback):
    """Per-epoch metrics as CSV (``metrics.csv``) and per-step records as JSON lines (``steps.jsonl``, a
    ``StepInfo`` a line)."""

    FIELDS = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds")

    def __init__(self, folder):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        self.csv_path = os.path.join(folder, "metrics.csv")
        self.steps_path = os.path.join(folder, "steps.jsonl")
        self._steps = None
        self._flushed = 0.0

    def on_fit_start(self, trainer):
        self._steps = open(self.steps_path, "a")  # noqa: SIM115 - stays open for the run

    def on_step_end(self, trainer, info):
        if self._steps is not None:
            with _naming(self.steps_path):
                self._steps.write(json.dumps(vars(info)) + "\n")
                self._flushed = _flush_now_and_then(self._steps, self._flushed)

    def on_epoch_end(self, trainer, info):
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(self.FIELDS)
        for h in trainer.history:
            writer.writerow([h.epoch + 1, h.train_loss, h.train_accuracy, h.val_loss, h.val_accuracy, h.lr,
                             h.seconds])
        atomic_write_text(self.csv_path, buffer.getvalue(), RunFileError)
        if self._steps is not None:
            with _naming(self.steps_path):
                self._steps.flush()

    def on_fit_end(self, trainer, info):
        steps, self._steps = self._steps, None
        if steps is not None:
            with _naming(self.steps_path):
                steps.close()


class HealthLog(Callback):
    """The health records of a run as ``health.csv``: a row per sampled step and layer (step, epoch, layer, a
    column per measure; empty where a measure does not apply). The file is made at the first record (none
    without a ``HealthMonitor``); a continued run first drops the rows of the steps it trains again."""

    FIELDS = ("step", "epoch", "layer", *KEYS)

    def __init__(self, folder, filename="health.csv"):
        self.path = os.path.join(folder, filename)
        self._file = None
        self._writer = None
        self._flushed = 0.0

    def _open(self, first_step):
        kept = _rows_before(self.path, first_step)
        if kept is not None:
            atomic_write_text(self.path, kept, RunFileError)
        with _naming(self.path):
            self._file = open(self.path, "a", newline="")  # noqa: SIM115 - stays open for the run
            self._writer = csv.writer(self._file)
            if kept is None:
                self._writer.writerow(self.FIELDS)

    def on_health(self, trainer, record):
        if self._writer is None:
            self._open(record.step)
        with _naming(self.path):
            for layer, values in record.rows():
                self._writer.writerow([record.step, record.epoch + 1, layer,
                                       *("" if math.isnan(v) else f"{v:.6g}" for v in values.values())])
            self._flushed = _flush_now_and_then(self._file, self._flushed)

    def on_epoch_end(self, trainer, info):
        if self._file is not None:
            with _naming(self.path):
                self._file.flush()

    def on_fit_end(self, trainer, info):
        file, self._file, self._writer = self._file, None, None
        if file is not None:
            with _naming(self.path):
                file.close()


FLUSH_SECONDS = 0.5  # a log reaches its file at least this often, for whoever follows a running run's folder


def _flush_now_and_then(file, flushed):
    """Flush ``file`` when it was last flushed (at ``flushed``, ``time.monotonic``) over ``FLUSH_SECONDS`` ago: a
    system call a step would cost little, but nothing when steps are fast. Returns when it was last flushed."""
    now = time.monotonic()
    if now - flushed < FLUSH_SECONDS:
        return flushed
    file.flush()
    return now


def _rows_before(path, step):
    """The text of the health log ``path`` without the rows of ``step`` and later (None when there is no such
    file)."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
    except FileNotFoundError:
        return None
    except OSError as e:
        raise RunFileError(path, f"cannot read the file: {e.strerror or e}") from e
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HealthLog.FIELDS)
    for row in rows[1:]:
        if row and row[0].isdigit() and int(row[0]) < step:
            writer.writerow(row)
    return buffer.getvalue()


@contextlib.contextmanager
def _naming(path):
    """An ``OSError`` (a full disk while writing) as the ``RunFileError`` of ``path``."""
    try:
        yield
    except OSError as e:
        raise RunFileError(path, f"cannot write the file: {e.strerror or e}") from e


class Checkpoint(Callback):
    """Save model, optimizer, scheduler and progress after every ``every`` epochs and when a run stops or
    fails (the state after its last completed step; not for a non-finite loss, which that state meets again), to
    ``folder/checkpoint.llw``, atomically, so a failed write keeps the previous checkpoint whole;
    ``Trainer.load_checkpoint`` continues from it exactly."""

    def __init__(self, folder, every=1, filename="checkpoint.llw"):
        self.path = os.path.join(folder, filename)
        self.every = every
        os.makedirs(folder, exist_ok=True)

    def _save(self, trainer):
        try:
            trainer.save_checkpoint(self.path)
        except WeightFileError as e:  # engine.save's error for a file it cannot write
            reason = getattr(e.__cause__, "strerror", None) or e.problem
            raise CheckpointError(self.path, f"the checkpoint could not be written ({reason}); "
                                             "the previous one is kept") from e

    def on_epoch_end(self, trainer, info):
        if trainer.epoch % self.every == 0:
            self._save(trainer)

    def on_fit_end(self, trainer, info):
        if info.status not in ("stopped", "failed"):
            return
        if isinstance(info.error, NonFiniteLossError):  # its last step fails the same way again when resumed:
            return  # the previous checkpoint is the last good one to rewind to
        if not trainer.resumable:
            raise CheckpointError(self.path, "not written: the run was interrupted in the middle of an update; "
                                             "the previous checkpoint is kept")
        self._save(trainer)


class EarlyStopping(Callback):
    """Stop when ``monitor`` ('val_loss', 'val_accuracy', 'train_loss', ...) stops improving."""

    def __init__(self, monitor="val_loss", patience=3, min_delta=0.0, mode=None):
        self.monitor = monitor
        self.patience = patience
        self.min_delta = min_delta
        self.mode = mode or ("max" if "accuracy" in monitor else "min")
        if self.mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {self.mode!r}")
        self.best = None
        self.bad_epochs = 0
        self.stopped_epoch = None

    def on_epoch_end(self, trainer, info):
        value = getattr(info, self.monitor)
        if math.isnan(value):
            return
        better = self.best is None or (value < self.best - self.min_delta if self.mode == "min"
                                       else value > self.best + self.min_delta)
        if better:
            self.best, self.bad_epochs = value, 0
            return
        self.bad_epochs += 1
        if self.bad_epochs >= self.patience:
            self.stopped_epoch = info.epoch
            trainer.stop()
