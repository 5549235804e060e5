"""Runs side by side: any metric of a run as a curve on a shared x axis (optimisation steps, epochs or training
time), optionally smoothed, and runs that differ only in their seed grouped and averaged. The GUI's runs view
and the HTML report (``run_report``) draw from these.

The x of a point, by alignment:

* ``step``: the global optimisation step (1-based). A per-epoch value sits at the last step of its epoch in the
  step log; where the log has no step of that epoch (no ``steps.jsonl``), at ``epoch × steps per epoch``, the
  steps per epoch taken from the log, else from ``run.json`` (global step / epochs completed).
* ``epoch``: epochs as a continuous number: a step's value at ``epoch + step / steps_per_epoch`` (0-based epoch,
  1-based step: the last step of the first epoch is at 1.0), a per-epoch value at its 1-based epoch number.
* ``time``: training seconds since the run began. Per step: the running sum of ``batch_size / images_per_second``
  (training steps only); per epoch: the running sum of ``metrics.csv``'s ``seconds`` (which includes the
  evaluation after each epoch, so per-epoch points sit slightly right of the steps of their epoch).

Health measures (``health.csv``) are placed by their global step, through the step log for ``epoch`` and
``time`` (through the per-epoch anchors when there is no step log).

Values that are not finite stay NaN (a plot breaks its line there); nothing is dropped silently.
"""

import math
import warnings
from dataclasses import dataclass

import numpy as np

from ..graph.fileformat import network_to_json
from ..utils.files import FileError
from .health_csv import read_health_csv
from .health_measures import MEASURES
from .run_table import DAMAGED
from .smoothing import smooth

ALIGNMENTS = ("step", "epoch", "time")
HEALTH_PREFIX = "health:"
AXIS_LABELS = {"step": "step", "epoch": "epoch", "time": "training time (s)"}
STEP_SMOOTHING = 0.9  # per-step curves (loss, lr, speed) are noisy: drawn smoothed, as TensorBoard does by default


@dataclass(frozen=True)
class Metric:
    """A quantity a run records: ``source`` is ``epoch`` (``metrics.csv``), ``step`` (``steps.jsonl``) or
    ``health`` (``health.csv``), ``field`` its column there; ``percent``: a fraction shown as a percentage."""

    key: str
    label: str
    unit: str  # the y axis label
    source: str
    field: str
    percent: bool = False
    log_scale: bool = False


def _metrics():
    plain = [Metric("loss", "training loss (per step)", "loss", "step", "loss"),
             Metric("train_loss", "training loss (per epoch)", "loss", "epoch", "train_loss"),
             Metric("val_loss", "validation loss", "loss", "epoch", "val_loss"),
             Metric("train_accuracy", "training accuracy", "accuracy (%)", "epoch", "train_accuracy", True),
             Metric("val_accuracy", "validation accuracy", "accuracy (%)", "epoch", "val_accuracy", True),
             Metric("lr", "learning rate", "learning rate", "step", "lr"),
             Metric("images_per_second", "images per second", "images/s", "step", "images_per_second")]
    health = [Metric(HEALTH_PREFIX + m.key, f"{m.label} (median over layers)", m.label, "health", m.key, m.share,
                     m.log_scale) for m in MEASURES]
    return {m.key: m for m in plain + health}


METRICS = _metrics()  # key -> Metric, in menu order


@dataclass
class Curve:
    name: str
    x: np.ndarray  # float64
    y: np.ndarray  # float64, NaN where the value is not finite


def _choice(value, choices, what):
    if value not in choices:
        raise ValueError(f"unknown {what} {value!r}; choose one of {', '.join(choices)}")
    return value


def metric_of(key):
    """The ``Metric`` of ``key``; ``ValueError`` naming it and the keys there are."""
    return METRICS[_choice(key, METRICS, "metric")]


def check_alignment(align):
    """``align`` when it is one of ``ALIGNMENTS``, else ``ValueError`` naming it and them."""
    return _choice(align, ALIGNMENTS, "alignment")


def _steps_per_epoch(run, steps):
    known = steps["steps_per_epoch"][steps["steps_per_epoch"] > 0]
    if known.size:
        return float(known[-1])
    return run.global_step / run.epochs_completed if run.global_step > 0 and run.epochs_completed > 0 else math.nan


def _step_x(steps):
    """The (step, epoch, time) x of each logged step (epoch and time NaN in logs that lack their fields)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        per_epoch = np.where(steps["steps_per_epoch"] > 0, steps["steps_per_epoch"], np.nan)
        seconds = np.where(steps["batch_size"] > 0, steps["batch_size"] / steps["images_per_second"], np.nan)
    return {"step": steps["global_step"].astype(np.float64), "epoch": steps["epoch"] + steps["step"] / per_epoch,
            "time": np.cumsum(seconds)}


def _epoch_x(run, epochs, steps):
    """The (step, epoch, time) x of each epoch of ``metrics.csv``."""
    numbers = epochs["epoch"]
    ends = np.asarray(numbers, np.float64) * _steps_per_epoch(run, steps)
    logged = steps["epoch"]  # 0-based, increasing with the global step
    last = np.searchsorted(logged, numbers - 1, side="right") - 1
    found = (last >= 0) & (logged[np.maximum(last, 0)] == numbers - 1) if logged.size else np.zeros(len(ends), bool)
    ends[found] = steps["global_step"][last[found]]
    return {"step": ends, "epoch": numbers.astype(np.float64), "time": np.cumsum(epochs["seconds"])}


def _health_x(health_steps, anchors, align):
    """Health steps placed on ``align`` by interpolating between ``anchors`` (``{step, epoch, time}`` arrays)."""
    x = np.asarray(health_steps, np.float64)
    if align == "step":
        return x
    step, value = np.concatenate([[0.0], anchors["step"]]), np.concatenate([[0.0], anchors[align]])
    keep = np.isfinite(step) & np.isfinite(value)
    if not keep.any():
        return np.full(len(x), np.nan)
    return np.interp(x, step[keep], value[keep], left=np.nan, right=np.nan)


def health_layers(run):
    """The layer names of the run's ``health.csv``, in order of first appearance ([] without one)."""
    return read_health_csv(run.health_path).layers


def _health_y(run, metric, layer):
    table = read_health_csv(run.health_path)
    column = table.column(metric.field)
    if layer is not None:
        if layer not in table.layers:
            raise ValueError(f"{run.name}: no layer {layer!r} in its health log; it has "
                             f"{', '.join(table.layers) or 'none'}")
        return table.steps, column[:, table.layers.index(layer)]
    finite = np.where(np.isfinite(column), column, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a step where no layer has the measure: NaN
        return table.steps, np.nanmedian(finite, axis=1) if column.size else np.zeros(len(table.steps))


def curve(run, metric_key, align="step", layer=None, smoothing=0.0):
    """The ``Curve`` of ``metric_key`` (a key of ``METRICS``) of a ``Run`` on ``align`` (one of ``ALIGNMENTS``);
    a health measure is the median over the layers that have a finite value at each step, or ``layer``'s own.
    ``smoothing``: the weight of ``smooth`` (0: none). A damaged file raises its ``RunFileError``."""
    metric = metric_of(metric_key)
    check_alignment(align)
    if layer is not None and metric.source != "health":
        raise ValueError(f"a layer applies to health measures only, not to {metric_key!r}")
    if metric.source == "epoch" and align == "epoch":
        epochs = run.epoch_metrics()
        x, y = epochs["epoch"].astype(np.float64), epochs[metric.field]
    else:
        history = run.metrics()
        if metric.source == "step":
            x, y = _step_x(history.steps)[align], history.steps[metric.field]
        elif metric.source == "epoch":
            x, y = _epoch_x(run, history.epochs, history.steps)[align], history.epochs[metric.field]
        else:
            anchors = _step_x(history.steps) if history.steps["global_step"].size else \
                _epoch_x(run, history.epochs, history.steps)
            steps, y = _health_y(run, metric, layer)
            x = _health_x(steps, anchors, align)
    y = np.where(np.isfinite(y), y, np.nan).astype(np.float64)
    return Curve(run.name, np.asarray(x, np.float64), smooth(y, smoothing))


def _document_without_seed(run):
    """The run's document as JSON with its seed left out, or None when it cannot be read."""
    if run.status == DAMAGED:
        return None
    try:
        document = network_to_json(run.network())
    except (FileError, OSError):
        return None
    document["training"].pop("seed", None)
    return document


def seed_groups(runs):
    """``runs`` grouped by their document with the seed left out (runs that differ only in their seed, or not at
    all, share a group), in the order of each group's first run; a run that cannot be read is a group of its own."""
    groups = []  # (document or None, [runs])
    for run in runs:
        document = _document_without_seed(run)
        group = next((g for d, g in groups if document is not None and d == document), None)
        if group is None:
            groups.append((document, [run]))
        else:
            group.append(run)
    return [group for _, group in groups]


def mean_spread(curves):
    """``(x, mean, std, count)`` of curves on one grid: the x of the curve with the fewest points within the range
    every curve covers, the others linearly interpolated between their finite points there. ``std`` is the sample
    standard deviation (ddof=1; zeros for one curve), so a band of mean ± std is ±1 sample std; ``count`` is the
    number of curves averaged (those with no finite point are left out; all empty: empty arrays and 0)."""
    points, places = [], []  # (x, y) of the finite points of each curve; the x of all its points with a finite x
    for c in curves:
        keep = np.isfinite(c.x) & np.isfinite(c.y)
        if keep.any():
            order = np.argsort(c.x[keep], kind="stable")
            points.append((c.x[keep][order], c.y[keep][order]))
            places.append(np.sort(c.x[np.isfinite(c.x)]))
    empty = np.zeros(0)
    if not points:
        return empty, empty, empty, 0
    low, high = max(x[0] for x, _ in points), min(x[-1] for x, _ in points)
    grid = min((x[(x >= low) & (x <= high)] for x in places), key=len)
    if grid.size == 0:
        return empty, empty, empty, len(points)
    ys = np.stack([np.interp(grid, x, y) for x, y in points])
    std = ys.std(axis=0, ddof=1) if len(points) > 1 else np.zeros(grid.size)
    return grid, ys.mean(axis=0), std, len(points)
