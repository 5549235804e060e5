"""Network health, measured every ``every`` steps at a bounded cost: per layer, the gradient and weight norms,
the update-to-weight ratio of the optimizer step, the activation mean and standard deviation, the share of dead
ReLU units and of saturated sigmoid/tanh outputs, the count of non-finite values, and histograms of weights,
gradients and activations.

Nothing is registered between sampled steps: the forward hooks exist only for the forward of a sampled step, so
other steps run exactly as without the monitor. The ``Trainer`` drives it: ``begin(step)`` before the forward,
``after_backward()``, ``before_update()`` and ``after_update()`` around the optimizer step; the last one returns
the step's ``HealthRecord``.

A layer is a module that owns trainable parameters, has no children, or is a direct child of the model (for a
network document, every node). A unit of a ReLU output is its channel (dimension 1: a feature of a Linear, a
channel of a convolution); it is dead when it was zero for every sample of the last ``window`` sampled batches.
"""

import collections
import math
import time
from dataclasses import dataclass, field

import numpy as np

from .. import nn
from ..backend import CPU, device_of, transfer
from ..ops.op import xp_of
from .health_measures import KEYS
from .layer_outputs import first_tensor
from .parameter_layers import UpdateRatios, parameter_layers, square_sum

RECTIFIERS = (nn.ReLU, nn.ReLU6)
SQUASHERS = {nn.Sigmoid: (0.0, 1.0), nn.Tanh: (-1.0, 1.0)}  # the limits each saturates at
SATURATION_MARGIN = 0.01
MIN_DEAD_SAMPLES = 32  # fewer samples in the window say too little about a unit ever firing
HISTOGRAM_BINS = 48
HISTOGRAM_SAMPLE = 65536  # values histogrammed at most (an even stride through larger tensors)
KINDS = ("weights", "gradients", "activations")
_INDEX = {name: k for k, name in enumerate(KEYS)}  # a measure's column in a record
BUDGET = 0.02  # the share of training time that measuring may take, by default (see HealthMonitor)


@dataclass
class Histogram:
    low: float
    high: float
    counts: np.ndarray  # HISTOGRAM_BINS counts over [low, high]


@dataclass
class HealthRecord:
    step: int  # the global step measured (1-based: the step count after its update)
    epoch: int  # 0-based
    layers: tuple  # layer names
    values: np.ndarray  # (layers, len(KEYS)) float64; NaN where a measure does not apply
    histograms: dict = field(default_factory=dict, repr=False)  # {(layer, kind): Histogram}

    def column(self, key):
        return self.values[:, KEYS.index(key)]

    def rows(self):
        """``(layer, {key: value})`` for each layer."""
        for k, layer in enumerate(self.layers):
            yield layer, dict(zip(KEYS, self.values[k].tolist(), strict=True))


def strided_sample(array, total=None):
    """At most about ``HISTOGRAM_SAMPLE`` evenly strided values of ``array`` (of ``total`` values shared by
    several arrays), flat, on its device. The stride is prime to the size of one sample, so that it walks through
    every channel and position rather than landing on the same pixel of each map ((128, 512, 4, 4) with stride 16
    would read pixel (0, 0) only)."""
    stride = max(1, -(-(total or array.size) // HISTOGRAM_SAMPLE))
    inner = array.size // array.shape[0] if array.ndim > 1 and array.shape[0] else array.size
    while stride > 1 and math.gcd(stride, inner) != 1:
        stride += 1
    return array.ravel()[::stride]


def histogram(arrays):
    """A ``Histogram`` of the finite values of ``arrays`` (about ``HISTOGRAM_SAMPLE`` of them, evenly strided
    through each array before they are joined on the host), or None. (``np.histogram`` costs ~100 µs a call on
    small arrays; a scaled ``bincount`` a third of that.)"""
    total = sum(a.size for a in arrays)
    values = np.concatenate([host(strided_sample(a, total)) for a in arrays])
    low, high = float(values.min()), float(values.max())
    if not (math.isfinite(low) and math.isfinite(high)):
        values = values[np.isfinite(values)]
        if values.size == 0:
            return None
        low, high = float(values.min()), float(values.max())
    if high <= low:
        high = low + max(abs(low), 1.0) * 1e-6
    bins = ((values - np.float32(low)) * np.float32(HISTOGRAM_BINS / (high - low))).astype(np.intp)
    np.clip(bins, 0, HISTOGRAM_BINS - 1, out=bins)
    return Histogram(low, high, np.bincount(bins, minlength=HISTOGRAM_BINS).astype(np.float32))


def host(array):
    return transfer(array, device_of(array), CPU)


def _nonfinite(array):
    xp = xp_of(array)
    return int(array.size - xp.count_nonzero(xp.isfinite(array)))


def layer_modules(model):
    """``{name: module}`` of the layers the monitor measures, in the model's order."""
    owners = set(parameter_layers(model))
    children = {name for name, _ in model.named_children()}
    return {name: module for name, module in model.named_modules()
            if name and (name in owners or name in children or next(module.children(), None) is None)}


class _Activations:
    """What the forward hooks of one sampled step saw, and the dead-unit window across sampled steps."""

    def __init__(self, window, histograms):
        self.with_histograms = histograms
        self.stats = {}  # layer -> (mean, std, nonfinite, dead, saturated)
        self.histograms = {}
        self.seconds = 0.0  # spent in the hooks of the running sampled step
        self._active = collections.defaultdict(lambda: collections.deque(maxlen=window))  # layer -> (mask, n)

    def hook_for(self, layer, module):
        kind = type(module)
        limits = SQUASHERS.get(kind)
        rectifier = isinstance(module, RECTIFIERS)

        def hook(_module, _args, output):
            if layer in self.stats:  # a module called twice in one forward: its first call is measured
                return
            start = time.perf_counter()
            data = getattr(first_tensor(output), "_data", None)
            if data is None or data.dtype.kind != "f" or data.size == 0:
                return
            xp = xp_of(data)
            mean, bad = float(data.mean()), 0
            spread = strided_sample(data)  # the spread from up to HISTOGRAM_SAMPLE evenly spaced values: one pass less
            std = float(spread.std())
            if not math.isfinite(mean):  # the statistics of the finite values, and how many are not
                finite = data[xp.isfinite(data)]
                bad = data.size - finite.size
                mean, std = (float(finite.mean()), float(finite.std())) if finite.size else (math.inf, math.inf)
            dead = saturated = math.nan
            if rectifier and data.ndim >= 2:
                dead = self._dead(layer, data)
            if limits is not None:
                near = (data <= limits[0] + SATURATION_MARGIN) | (data >= limits[1] - SATURATION_MARGIN)
                saturated = float(xp.count_nonzero(near)) / data.size
            self.stats[layer] = (mean, std, bad, dead, saturated)
            if self.with_histograms:
                self.histograms[(layer, "activations")] = histogram([data])
            self.seconds += time.perf_counter() - start

        return hook

    def _dead(self, layer, data):
        axes = (0, *range(2, data.ndim))
        active = (data > 0).any(axis=axes)
        window = self._active[layer]
        if window and window[-1][0].shape != active.shape:  # another width (a module reused elsewhere)
            window.clear()
        window.append((host(active), data.shape[0]))
        if sum(n for _, n in window) < MIN_DEAD_SAMPLES:
            return math.nan
        ever = np.logical_or.reduce([mask for mask, _ in window])
        return float(1.0 - ever.mean())


class HealthMonitor:
    """Health of every layer every ``every`` steps (``every`` ≥ 1), starting with the first step; see the module
    docstring. With a ``budget`` (a share of the training time, such as ``BUDGET``) the samples are spaced further
    apart where measuring one would take more than that share of the steps between them (tiny steps, big
    activations), so that monitoring never slows training by more than about the budget."""

    def __init__(self, every=10, window=8, histograms=True, budget=None):
        if int(every) < 1:
            raise ValueError(f"health is measured every N steps with N ≥ 1, got {every!r}")
        self.every = int(every)
        self.window = int(window)
        self.histograms = histograms
        self.budget = budget
        self._next = 0  # the global step (0-based) to sample next
        self._period = None  # the running average of an unmeasured step's duration, in seconds
        self._last_begin = None
        self._cost = 0.0  # seconds spent measuring the running sampled step, outside the hooks
        self._last_cost = 0.0  # seconds spent measuring the last sampled step, in all
        self.layers = ()
        self._modules = {}
        self._params = {}
        self._updates = None
        self._activations = None
        self._handles = []
        self._sampled = False
        self._grads = {}

    def attach(self, model):
        """Measure ``model`` from now on (the dead-unit window starts again)."""
        self._remove_hooks()
        self._modules = layer_modules(model)
        self._params = parameter_layers(model)
        names = list(self._modules)
        names += [name for name in self._params if name not in self._modules]
        self.layers = tuple(names)
        self._updates = UpdateRatios(self._params)
        self._activations = _Activations(self.window, self.histograms)
        self._next, self._period, self._last_begin = 0, None, None
        return self

    def detach(self):
        self._remove_hooks()
        self._sampled = False

    def _remove_hooks(self):
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def begin(self, global_step):
        """Before the forward of the step after ``global_step`` completed steps: hooks on when it is sampled."""
        now = time.perf_counter()
        if self._last_begin is not None:  # the step since the last call, less its measuring
            took = now - self._last_begin - (self._last_cost if self._sampled else 0.0)
            self._period = took if self._period is None else 0.9 * self._period + 0.1 * min(took, 4 * self._period)
        self._last_begin = now
        self._sampled = global_step >= self._next
        if self._sampled:
            acts = self._activations
            acts.stats, acts.histograms, acts.seconds = {}, {}, 0.0
            self._handles = [m.register_forward_hook(acts.hook_for(name, m)) for name, m in self._modules.items()]
            self._cost = time.perf_counter() - now
        return self._sampled

    def after_backward(self):
        """The forward is over: hooks off; the gradients' norms and non-finite counts are read."""
        self._remove_hooks()
        if not self._sampled:
            return
        start = time.perf_counter()
        self._grads = {}
        for layer, params in self._params.items():
            grads = [p.grad._data for p in params if p.grad is not None]
            if not grads:  # an unused branch: no gradient to measure
                continue
            total = sum(square_sum(g) for g in grads)
            bad = 0 if math.isfinite(total) else sum(_nonfinite(g) for g in grads)
            self._grads[layer] = (math.sqrt(total) if math.isfinite(total) else math.inf, bad)
            if self.histograms:
                self._activations.histograms[(layer, "gradients")] = histogram(grads)
        self._cost += time.perf_counter() - start

    def before_update(self):
        if self._sampled:
            start = time.perf_counter()
            self._updates.before()
            self._cost += time.perf_counter() - start

    def after_update(self, step, epoch):
        """The ``HealthRecord`` of the sampled step that just updated the weights (None for other steps)."""
        if not self._sampled:
            return None
        start = time.perf_counter()
        record = self._record(step, epoch, self._updates.ratios())
        self._last_cost = self._cost + self._activations.seconds + time.perf_counter() - start
        self._schedule(step, self._last_cost)
        return record

    def failed(self, step, epoch):
        """The ``HealthRecord`` of a sampled step that ended without an update (its loss or gradients were not
        finite): what its forward and backward saw, no update ratio. None when the step was not sampled."""
        if not self._sampled:
            return None
        self._sampled = False
        return self._record(step, epoch, {})

    def _record(self, step, epoch, ratios):
        acts = self._activations
        index = _INDEX
        values = np.full((len(self.layers), len(KEYS)), np.nan)
        histograms = acts.histograms if self.histograms else {}
        for row, layer in enumerate(self.layers):
            out = values[row]
            bad = 0
            if layer in self._params:
                norm, bad = self._grads.get(layer, (math.nan, 0))
                out[index["grad_norm"]] = norm
                if layer in self._grads:  # NaN for all-zero weights (no ratio) and for a step without update
                    out[index["update_ratio"]] = ratios.get(layer, math.nan)
                out[index["weight_norm"]] = _finite_or_inf(math.sqrt(sum(square_sum(p._data)
                                                                         for p in self._params[layer])))
                if self.histograms:
                    histograms[(layer, "weights")] = histogram([p._data for p in self._params[layer]])
            stats = acts.stats.get(layer)
            if stats is not None:
                mean, std, act_bad, dead, saturated = stats
                out[index["act_mean"]], out[index["act_std"]] = mean, std
                out[index["dead_fraction"]], out[index["saturated_fraction"]] = dead, saturated
                bad += act_bad
            if layer in self._params or stats is not None:
                out[index["nonfinite"]] = bad
        histograms = {key: h for key, h in histograms.items() if h is not None}
        return HealthRecord(step, epoch, self.layers, values, histograms)

    def charge(self, step, seconds):
        """Count ``seconds`` the training thread spent on the record of ``step`` outside the monitor (writing
        health.csv, queueing it for the GUI) towards its cost, and space the next sample accordingly."""
        self._last_cost += seconds
        self._schedule(step, self._last_cost)

    def _schedule(self, step, cost):
        """The next sample after the one of ``step`` (1-based), which took ``cost`` seconds to measure."""
        gap = self.every
        if self.budget and self._period:
            gap = max(gap, math.ceil(cost / (self.budget * self._period)))
        self._next = step - 1 + gap


def _finite_or_inf(value):
    """A measured value, with NaN (from non-finite data) as inf: NaN means 'does not apply'."""
    return math.inf if math.isnan(value) else value
