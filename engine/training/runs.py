"""Run folders: everything one training run leaves behind, in one place the command line and the GUI share.

A run folder is ``<network stem>.runs/<YYYYmmdd-HHMMSS>[-n]/`` next to the network file (or any folder
given) and holds::

    network.llnet        the document as trained (settings included)
    metrics.csv          per-epoch metrics      } written by MetricsLog
    steps.jsonl          per-step StepInfo      }
    checkpoint.llw       model, optimizer, scheduler and progress (Checkpoint), to resume from
    weights.safetensors  the final weights
    run.json             status, epochs, global step, test accuracy, images/s, start and end times, message,
                         unreadable images skipped (count and the first one's path)

``run.json`` is rewritten atomically at the start, after every epoch and at the end of a run, so another
process (the GUI watching a command-line run) always reads a whole file. A run that raised ends ``failed``
with the message, never left ``running``.
"""

import csv
import errno
import io
import json
import os
import shutil
from dataclasses import dataclass, field, fields
from datetime import datetime

import numpy as np

from ..graph.fileformat import load_network, save_network
from ..serialization import save_safetensors
from ..utils.files import atomic_write_text, read_limited
from ..utils.json_text import check_depth, check_record, loads, parse_json
from .callbacks import Callback, Checkpoint, HealthLog, MetricsLog
from .run_errors import RunFileError
from .trainer import StepInfo

FORMAT = "layerlab.run"
VERSION = 1
RUNS_SUFFIX = ".runs"
MAX_RECORD_BYTES = 16 << 20  # run.json: a few hundred bytes, plus the class names
MAX_LOG_BYTES = 1 << 30  # metrics.csv and steps.jsonl: about 200 bytes a step
STATUSES = ("created", "running", "finished", "stopped", "failed")


def timestamp():
    return datetime.now().astimezone().isoformat(timespec="seconds")


def default_runs_folder():
    """Where runs of a network that was never saved go: ``$LAYERLAB_RUNS`` or ``~/.cache/layerlab/runs``."""
    return os.path.expanduser(os.environ.get("LAYERLAB_RUNS") or "~/.cache/layerlab/runs")


def runs_folder(network_path=None):
    """``<dir>/<stem>.runs`` for a network file; the default runs folder without one."""
    if network_path is None:
        return default_runs_folder()
    directory, name = os.path.split(os.path.abspath(os.fspath(network_path)))
    return os.path.join(directory, os.path.splitext(name)[0] + RUNS_SUFFIX)


@dataclass
class RunMetrics:
    """A run's history as NumPy arrays: ``epochs[field]`` per epoch (fields of ``MetricsLog.FIELDS``,
    ``epoch`` 1-based) and ``steps[field]`` per optimisation step (the fields of ``StepInfo``)."""

    epochs: dict
    steps: dict


_GLOBAL_STEP = [f.name for f in fields(StepInfo)].index("global_step")
# Lines of the first step log: the global step as 'step', a 1-based 'epoch', loss, lr and images/s only.
_FIRST_FORMAT = {"step": 0, "steps_per_epoch": 0, "batch_size": 0}


@dataclass
class Run:
    """One run folder and the contents of its ``run.json``.

    ``epochs`` is the number of epochs the run was asked for and ``epochs_completed`` how many it has;
    ``classes`` (set by whoever loads the data) names the model's outputs for later prediction.
    """

    folder: str
    status: str = "created"
    epochs: int = 0
    epochs_completed: int = 0
    global_step: int = 0
    test_accuracy: float | None = None
    images_per_second: float | None = None
    started: str | None = None
    finished: str | None = None
    message: str = ""
    classes: list = field(default_factory=list)
    skipped: int = 0  # unreadable samples skipped (image folders with skip_bad_samples)
    first_skipped: str | None = None

    @property
    def name(self):
        return os.path.basename(os.path.normpath(self.folder))

    def path(self, filename):
        return os.path.join(self.folder, filename)

    @property
    def info_path(self):
        return self.path("run.json")

    @property
    def network_path(self):
        return self.path("network.llnet")

    @property
    def checkpoint_path(self):
        return self.path("checkpoint.llw")

    @property
    def weights_path(self):
        return self.path("weights.safetensors")

    @property
    def metrics_path(self):
        return self.path("metrics.csv")

    @property
    def health_path(self):
        return self.path("health.csv")

    @property
    def steps_path(self):
        return self.path("steps.jsonl")

    # ----- writing -----
    def save(self):
        """Write ``run.json`` atomically."""
        data = {"format": FORMAT, "version": VERSION, "status": self.status, "epochs": self.epochs,
                "epochs_completed": self.epochs_completed, "global_step": self.global_step,
                "test_accuracy": self.test_accuracy, "images_per_second": self.images_per_second,
                "started": self.started, "finished": self.finished, "message": self.message,
                "classes": list(self.classes), "skipped": self.skipped, "first_skipped": self.first_skipped}
        atomic_write_text(self.info_path, json.dumps(data, indent=2, ensure_ascii=False) + "\n", RunFileError)

    def save_network(self, network):
        """Keep a copy of the document as trained; the target epoch count comes from its settings."""
        save_network(network, self.network_path)
        self.epochs = int(network.settings["epochs"])
        self.save()

    def callbacks(self):
        """The Trainer callbacks that fill this folder: metrics log, checkpoints and ``run.json``."""
        return [MetricsLog(self.folder), HealthLog(self.folder), Checkpoint(self.folder), RunRecorder(self)]

    def record_skipped(self, *sources):
        """Note the unreadable samples the datasets behind ``sources`` skipped (written with ``run.json``)."""
        self.skipped, self.first_skipped = skipped_samples(*sources)

    def save_weights(self, model):
        save_safetensors(model.state_dict(), self.weights_path)

    def finish(self, test_accuracy=None, message=None):
        """Record what is known once training is over (the test accuracy) and write ``run.json``."""
        if test_accuracy is not None:
            self.test_accuracy = float(test_accuracy)
        if message is not None:
            self.message = message
        self.finished = timestamp()
        self.save()

    # ----- reading -----
    @property
    def has_checkpoint(self):
        return os.path.isfile(self.checkpoint_path)

    @property
    def trained_weights_path(self):
        """The weights to predict with: the final ones, else the checkpoint's (a run cut short); None when the
        run has neither."""
        for path in (self.weights_path, self.checkpoint_path):
            if os.path.isfile(path):
                return path
        return None

    def network(self):
        """The document as trained (``engine.graph.Network``)."""
        return load_network(self.network_path)

    def metrics(self):
        return RunMetrics(_read_epochs(self.metrics_path), _read_steps(self.steps_path))

    def epoch_metrics(self):
        """The per-epoch columns of ``metrics.csv`` alone (no per-step log is read: cheap to poll)."""
        return _read_epochs(self.metrics_path)


class RunRecorder(Callback):
    """Keeps ``run.json`` up to date: running at the start, progress after each epoch, the outcome at the end.
    Images/s counts training steps only (not evaluation)."""

    def __init__(self, run):
        self.run = run
        self._images = 0
        self._seconds = 0.0

    def _progress(self, trainer):
        self.run.epochs_completed = trainer.epoch
        self.run.global_step = trainer.global_step
        if self._seconds > 0:
            self.run.images_per_second = self._images / self._seconds

    def on_fit_start(self, trainer):
        run = self.run
        run.status, run.message, run.finished = "running", "", None
        run.started = run.started or timestamp()
        self._progress(trainer)
        run.save()

    def on_step_end(self, trainer, info):
        self._images += info.batch_size
        self._seconds += info.batch_size / max(info.images_per_second, 1e-9)

    def on_epoch_end(self, trainer, info):
        self._progress(trainer)
        self.run.save()

    def on_fit_end(self, trainer, info):
        self._progress(trainer)
        self.run.record_skipped(trainer.train_loader, trainer.val_loader)
        self.run.status, self.run.message, self.run.finished = info.status, info.message, timestamp()
        self.run.save()


def _dataset_of(source):
    """The dataset behind a loader or a ``Subset``: the object that counts what it skipped."""
    while not hasattr(source, "skipped") and hasattr(source, "dataset"):
        source = source.dataset
    return source


def skipped_samples(*sources):
    """``(count, first path or None)`` of the unreadable samples the datasets behind ``sources`` (loaders,
    datasets, subsets) skipped; a file is counted once, even when copies of a dataset share its record."""
    paths, unlisted, seen = {}, 0, set()
    for dataset in map(_dataset_of, sources):
        if dataset is None or id(dataset) in seen:
            continue
        seen.add(id(dataset))
        listed = getattr(dataset, "skipped_paths", None)
        if listed is None:
            unlisted += int(getattr(dataset, "skipped", 0) or 0)
        else:
            paths.update(dict.fromkeys(map(str, listed)))
    return len(paths) + unlisted, next(iter(paths), None)


def create_run(network, network_path=None, folder=None):
    """A new run folder holding a copy of ``network``: ``folder`` itself when given (it must not hold a run
    yet), else a fresh time-stamped folder in ``runs_folder(network_path)``."""
    if folder is not None:
        folder = os.path.abspath(os.fspath(folder))
        if os.path.exists(os.path.join(folder, "run.json")):
            raise RunFileError(folder, "already holds a run; resume it or choose another folder")
        os.makedirs(folder, exist_ok=True)
    else:
        folder = new_folder(runs_folder(network_path), datetime.now().strftime("%Y%m%d-%H%M%S"))
    run = Run(folder)
    run.save_network(network)
    return run


def new_folder(parent, name):
    """Create and return a new empty folder ``parent/name``, or ``name-2``, ``name-3``, ... when it is taken."""
    os.makedirs(parent, exist_ok=True)
    for n in range(1, 10_000):
        folder = os.path.join(parent, name if n == 1 else f"{name}-{n}")
        try:
            os.mkdir(folder)
            return folder
        except FileExistsError:
            continue
    raise FileExistsError(f"{parent}: no free folder name for {name}")


def move_run(folder, parent):
    """Move the run folder ``folder`` into ``parent`` (created when missing), under its own name or, when that
    is taken, ``name-2``, ``name-3``, ...; returns the new folder. Within a filesystem this is one rename; across
    filesystems the copy is made whole before the original is deleted, and a failed copy is removed again, so
    an error (``OSError``) leaves the run where it was."""
    folder = os.path.abspath(os.fspath(folder))
    target = new_folder(parent, os.path.basename(folder))
    try:
        os.replace(folder, target)  # POSIX renames a folder over an empty one
    except OSError as e:
        if e.errno != errno.EXDEV:
            os.rmdir(target)
            raise
        _copy_then_delete(folder, target)
    return target


def _copy_then_delete(folder, target):
    try:
        shutil.copytree(folder, target, dirs_exist_ok=True)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    shutil.rmtree(folder)


def _field(data, key, kinds, path, optional=False):
    value = data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, kinds) or isinstance(value, bool):
        raise RunFileError(path, f"'{key}' has a bad value {value!r}")
    return value


def load_run(folder):
    """The run in ``folder``; ``RunFileError`` naming the file when it is missing or damaged."""
    folder = os.path.abspath(os.fspath(folder))
    path = os.path.join(folder, "run.json")
    if not os.path.isdir(folder):
        raise RunFileError(folder, "no such run folder")
    if not os.path.lexists(path):
        raise RunFileError(folder, "not a run folder (it has no run.json)")
    data = parse_json(read_text(path, MAX_RECORD_BYTES), path, RunFileError, max_depth=4)
    check_record(data, path, RunFileError, "run record", FORMAT, VERSION)
    status = data.get("status")
    if status not in STATUSES:
        raise RunFileError(path, f"'status' must be one of {', '.join(STATUSES)}, got {status!r}")
    classes = data.get("classes", [])
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        raise RunFileError(path, "'classes' must be a list of names")
    number = (int, float)
    return Run(folder, status, _field(data, "epochs", int, path), _field(data, "epochs_completed", int, path),
               _field(data, "global_step", int, path), _field(data, "test_accuracy", number, path, True),
               _field(data, "images_per_second", number, path, True), _field(data, "started", str, path, True),
               _field(data, "finished", str, path, True), _field(data, "message", str, path), classes,
               _field(data, "skipped", int, path, True) or 0, _field(data, "first_skipped", str, path, True))


def list_runs(network_path=None):
    """The runs of a network file, oldest first. A damaged run is listed with status ``'damaged'`` and the
    problem as its message, so one bad folder does not hide the others."""
    parent = runs_folder(network_path)
    if not os.path.isdir(parent):
        return []
    runs = []
    for name in os.listdir(parent):
        folder = os.path.join(parent, name)
        if not os.path.isfile(os.path.join(folder, "run.json")):
            continue
        try:
            runs.append(load_run(folder))
        except RunFileError as e:
            runs.append(Run(folder, status="damaged", message=str(e)))
    return sorted(runs, key=lambda r: (r.started or "", r.name))


def read_text(path, limit, error=RunFileError):
    """The UTF-8 text of a run or sweep file, read within ``limit`` bytes (devices and FIFOs refused unread);
    ``error`` (a ``FileError`` class) names the file when it cannot be."""
    try:
        return read_limited(path, limit, error).decode("utf-8")
    except UnicodeDecodeError as e:
        raise error(path, f"not UTF-8 text ({e.reason} at byte {e.start})") from None


def csv_rows(text, fields, path, what):
    """``(line number, row)`` of each row of the CSV log ``text`` (of the file ``path``), whose header must be
    ``fields`` and whose rows must have as many values; ``RunFileError`` naming the file and line otherwise
    (``what``: what the log holds, for the message)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None or tuple(header) != fields:
            raise RunFileError(path, f"the header must be {','.join(fields)}, found {header!r}")
        for line, row in enumerate(reader, 2):
            if len(row) != len(fields):
                raise RunFileError(path, f"line {line} has {len(row)} values, expected {len(fields)}")
            yield line, row
    except csv.Error as e:
        raise RunFileError(path, f"cannot read the {what}: {e}") from None


def _read_epochs(path):
    fields = MetricsLog.FIELDS
    if not os.path.lexists(path):
        return {name: np.zeros(0, np.int64 if name == "epoch" else np.float64) for name in fields}
    columns = {name: [] for name in fields}
    for line, row in csv_rows(read_text(path, MAX_LOG_BYTES), fields, path, "metrics"):
        try:
            for name, value in zip(fields, row):
                columns[name].append(float(value))
        except ValueError:
            raise RunFileError(path, f"line {line}: {value!r} is not a number") from None
    out = {name: np.asarray(values, np.float64) for name, values in columns.items()}
    out["epoch"] = out["epoch"].astype(np.int64)
    return out


def step_record(item):
    """The values of a ``steps.jsonl`` line, in the order of ``StepInfo``'s fields."""
    if "global_step" not in item:
        item = {**item, **_FIRST_FORMAT, "global_step": item["step"], "epoch": item["epoch"] - 1}
    return tuple(float(item[f.name]) for f in fields(StepInfo))


def _read_steps(path):
    """Per-step records; a step logged twice (a run resumed from an earlier checkpoint) keeps its latest
    record, and a final line cut short by a crash is ignored."""
    records = {}
    if os.path.lexists(path):
        text = read_text(path, MAX_LOG_BYTES)
        complete = text.split("\n")[:-1]  # the text after the last newline is empty or an unfinished line
        check_depth("\n".join(complete), 2, path, RunFileError)
        for number, line in enumerate(complete, 1):
            if not line.strip():
                continue
            try:
                record = step_record(loads(line, path, RunFileError, number))
            except (AttributeError, KeyError, OverflowError, TypeError, ValueError):
                raise RunFileError(path, f"line {number} is not a step record: {line[:80]!r}") from None
            records[int(record[_GLOBAL_STEP])] = record
    rows = [records[k] for k in sorted(records)]
    table = np.asarray(rows, np.float64).reshape(len(rows), len(fields(StepInfo)))
    return {f.name: table[:, i].astype(np.int64 if f.type is int else np.float64)
            for i, f in enumerate(fields(StepInfo))}

