"""The learning-rate finder (fastai's ``lr_find``, Leslie Smith's range test): a short run of mini-batches with
the learning rate growing exponentially from ``start`` to ``end``, recording the loss, its exponentially smoothed
value and each layer's update ratio ‖Δw‖/‖w‖ at every step, stopping once the smoothed loss passes four times its
best or is not finite. The suggested learning rate is fastai's "valley" (its default); its older "steep" (where the
loss falls fastest) and "minimum" (a tenth of the lowest loss's) come with it.

The sweep trains as a run would: every param group's learning rate keeps its ratio to the first group's (the
first is swept from ``start`` to ``end``) and the gradients are clipped as the settings' ``clip_grad_norm`` asks.
It then puts everything back: weights, gradients, buffers (BatchNorm statistics), the optimizer's state and
learning rates, each module's train/eval mode and the engine's random generators (CPU and CUDA), so a run
started afterwards is exactly the one it would have been.
"""

import copy
import math
from contextlib import closing, contextmanager
from dataclasses import dataclass, field

import numpy as np

from .. import random as engine_random
from ..backend import device as as_device
from ..utils.files import write_csv
from .divergence import clip_gradients
from .model_state import in_mode, kept_state
from .parameter_layers import UpdateRatios, parameter_layers
from .recipe import prepare_training

DEFAULT_START, DEFAULT_END, DEFAULT_STEPS = 1e-7, 10.0, 100
SMOOTHING = 0.98  # beta of the exponential moving average of the loss
DIVERGENCE = 4.0  # the sweep stops when the smoothed loss exceeds this many times its best
TRIM_END = 5  # steps left out at the end of the curve before suggesting (fastai's), as is the first tenth
METHODS = ("valley", "steep", "minimum")  # the first is the suggestion
METHOD_LABELS = {"valley": "valley", "steep": "steepest", "minimum": "minimum/10"}
STOP_REASONS = {"finished": "the sweep reached the end learning rate",
                "diverged": f"the smoothed loss passed {DIVERGENCE:g}× its best",
                "not finite": "the loss was not finite",
                "stopped": "the sweep was stopped"}


def check_range(start, end, steps):
    """``ValueError`` naming the value when the sweep's range or length is unusable."""
    for name, value in (("start", start), ("end", end)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ValueError(f"the {name} learning rate must be a positive number, got {value}")
    if start >= end:
        raise ValueError(f"the start learning rate ({start:g}) must be below the end ({end:g})")
    if not isinstance(steps, int) or steps < 2:
        raise ValueError(f"the learning-rate finder needs at least 2 steps, got {steps}")


def sweep_lrs(start, end, steps):
    """The ``steps`` learning rates of the sweep: ``start·(end/start)^(i/(steps-1))``, from ``start`` to ``end``."""
    return start * (end / start) ** (np.arange(steps) / (steps - 1))


class SmoothedLoss:
    """The bias-corrected exponential moving average of the losses added so far (fastai's and Adam's)."""

    def __init__(self, beta=SMOOTHING):
        self.beta = beta
        self.average = 0.0
        self.count = 0

    def add(self, loss):
        self.count += 1
        self.average = self.beta * self.average + (1 - self.beta) * loss
        return self.average / (1 - self.beta ** self.count)


@dataclass
class LRStep:
    """One step of the sweep, as it is taken (for a live view)."""
    step: int  # 0-based
    lr: float
    loss: float
    smoothed_loss: float
    ratios: np.ndarray  # per layer, NaN when the step was not taken
    layers: tuple  # the layers of ``ratios``


@dataclass
class LRFinderResult:
    lrs: np.ndarray  # one per step taken
    losses: np.ndarray
    smoothed_losses: np.ndarray
    layers: tuple  # the layers (modules with trainable parameters) of the update ratios' rows
    update_ratios: np.ndarray = field(repr=False)  # layers × steps: ‖Δw‖/‖w‖ of each step
    suggestions: dict  # method (METHODS) -> learning rate, NaN when the curve is too short
    stop_reason: str  # a key of STOP_REASONS
    planned_steps: int

    @property
    def suggestion(self):
        """The suggested learning rate (fastai's valley)."""
        return self.suggestions[METHODS[0]]

    @property
    def stop_text(self):
        return STOP_REASONS[self.stop_reason]

    def smoothed_loss_at(self, lr):
        """The smoothed loss at ``lr``, interpolated on the log learning-rate axis (to mark a suggestion)."""
        finite = np.isfinite(self.smoothed_losses)
        if not finite.any() or not math.isfinite(lr):
            return float("nan")
        return float(np.interp(np.log(lr), np.log(self.lrs[finite]), self.smoothed_losses[finite]))


# ----- suggestions -----
def suggest(lrs, smoothed, planned_steps):
    """``{method: lr}`` from the smoothed curve, leaving out its first tenth, its last ``TRIM_END`` steps (where
    it turns up) and everything from the first non-finite loss on, as fastai does (the whole finite part when
    that leaves too little), and, unlike fastai, everything after the lowest loss: a sweep that ends before
    the loss passes 4× its best may have it fall again after blowing up, which is no learning rate to train at."""
    finite = np.isfinite(smoothed)
    usable = len(smoothed) if finite.all() else int(np.argmin(finite))
    low, high = planned_steps // 10, usable - TRIM_END
    if high - low < 3:
        low, high = 0, usable
    lrs, losses = np.asarray(lrs[low:high], np.float64), np.asarray(smoothed[low:high], np.float64)
    lowest = int(np.argmin(losses)) if len(losses) else 0
    lrs, losses = lrs[:lowest + 1], losses[:lowest + 1]
    if len(losses) < 2:
        return dict.fromkeys(METHODS, float("nan"))
    return {"valley": valley(lrs, losses), "steep": steep(lrs, losses), "minimum": minimum(lrs, losses)}


def valley(lrs, losses):
    """Halfway along the longest valley: the longest run of ever lower losses (a longest decreasing
    subsequence), measured back from where it ends (fastai's default rule)."""
    lengths = np.ones(len(losses), np.int64)
    for i in range(1, len(losses)):
        higher = losses[:i] > losses[i]
        if higher.any():
            lengths[i] = lengths[:i][higher].max() + 1
    end = int(np.argmax(lengths))
    start = max(0, end - int(lengths[end]) + 1)
    return float(lrs[start + (end - start) // 2])


def steep(lrs, losses):
    """Where the loss falls fastest against log(lr)."""
    slopes = np.diff(losses) / np.diff(np.log(lrs))
    return float(lrs[int(np.argmin(slopes))])


def minimum(lrs, losses):
    """A tenth of the learning rate with the lowest loss."""
    return float(lrs[int(np.argmin(losses))] / 10)


# ----- the sweep -----
@contextmanager
def _put_back(model, optimizer):
    """The model in training mode while the block runs; on leaving, everything a sweep changes as it was: the
    model's weights, gradients, buffers and modes, the optimizer's state and learning rates, the random
    generators."""
    saved = copy.deepcopy(optimizer.state_dict())
    with kept_state(model, weights=True), engine_random.fork_rng(), in_mode(model, True):
        try:
            yield
        finally:
            optimizer.load_state_dict(saved)


def _lr_ratios(optimizer):
    """Each param group's learning rate over the first group's (1.0 for every group when the first's is 0)."""
    first = optimizer.param_groups[0]["lr"]
    return [group["lr"] / first if first else 1.0 for group in optimizer.param_groups]


def _cycle(loader):
    """The loader's batches, pass after pass; each pass's iterator is closed when it ends or is left."""
    while True:
        batches = iter(loader)
        try:
            empty = True
            for batch in batches:
                empty = False
                yield batch
            if empty:
                raise ValueError("the training data has no batches")
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()


def find_lr(model, optimizer, loss_fn, loader, *, start=DEFAULT_START, end=DEFAULT_END, steps=DEFAULT_STEPS,
            device="cpu", stop=None, on_step=None, clip_grad_norm=0.0):
    """Sweep the learning rate from ``start`` to ``end`` over ``steps`` mini-batches of ``loader`` (cycled when
    shorter) and return an ``LRFinderResult``; the model, the optimizer and the random generators are then as
    they were. The first param group takes the swept rate, the others theirs times their ratio to it; the
    gradients are clipped to ``clip_grad_norm`` (0: not) as a training step does. ``stop()``: asked before each
    step, True ends the sweep early; ``on_step(LRStep)``: after each step (``LRStep.lr``: the first group's)."""
    check_range(start, end, steps)
    device = as_device(device)
    layers = parameter_layers(model)
    names = tuple(layers)
    ratios = UpdateRatios(layers)
    lrs = sweep_lrs(start, end, steps)
    group_ratios = _lr_ratios(optimizer)
    losses, smoothed, columns = [], [], []
    smoother, best, reason = SmoothedLoss(), math.inf, "finished"
    with _put_back(model, optimizer), closing(_cycle(loader)) as batches:
        for step, lr in enumerate(lrs):
            if stop is not None and stop():
                reason = "stopped"
                break
            for group, ratio in zip(optimizer.param_groups, group_ratios, strict=True):
                group["lr"] = float(lr * ratio)
            inputs, targets = next(batches)
            optimizer.zero_grad()
            loss = loss_fn(model(inputs.to(device)), targets.to(device))
            value = float(loss.item())
            column = np.full(len(layers), np.nan)
            if math.isfinite(value):
                loss.backward()
                clip_gradients(model.parameters(), clip_grad_norm)
                ratios.before()
                optimizer.step()
                column[:] = list(ratios.ratios().values())
            average = smoother.add(value)
            losses.append(value)
            smoothed.append(average)
            columns.append(column)
            if on_step is not None:
                on_step(LRStep(step, float(lr), value, average, column, names))
            if not math.isfinite(average):
                reason = "not finite"
                break
            best = min(best, average)
            if average > DIVERGENCE * best:
                reason = "diverged"
                break
    taken = lrs[:len(losses)]
    smoothed = np.array(smoothed, np.float64)
    update_ratios = np.array(columns, np.float64).T if columns else np.zeros((len(layers), 0))
    return LRFinderResult(taken, np.array(losses, np.float64), smoothed, names, update_ratios,
                          suggest(taken, smoothed, steps), reason, steps)


def find_lr_for_network(network, *, data_dir=None, device=None, data=None, download=False, **options):
    """``find_lr`` on the model, optimizer, loss and training loader the document's settings make (as a run of
    it would start, from its seed), clipping the gradients as its settings ask; ``options``: ``find_lr``'s start,
    end, steps, stop and on_step. The engine's random generators are left as they were."""
    with engine_random.fork_rng():
        setup = prepare_training(network, data_dir=data_dir, device=device, data=data, download=download)
        return find_lr(setup.model, setup.optimizer, setup.loss_fn, setup.train_loader, device=setup.trainer.device,
                       clip_grad_norm=setup.trainer.clip_grad_norm, **options)


# ----- the curve as a file -----
def ratio_column(layer):
    return f"update_ratio:{layer}"


def write_result_csv(result, path):
    """Write the sweep to ``path`` as CSV, atomically (an ``OSError`` names the file): lr, loss, smoothed_loss,
    then one update-ratio column per layer, a row per step."""
    header = ["lr", "loss", "smoothed_loss", *map(ratio_column, result.layers)]
    rows = ([f"{float(v):.9g}" for v in (lr, result.losses[k], result.smoothed_losses[k], *result.update_ratios[:, k])]
            for k, lr in enumerate(result.lrs))
    write_csv(path, header, rows)
