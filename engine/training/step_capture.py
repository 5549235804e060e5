"""The step inspector's data: while armed, every training step records each layer's output and the gradient of
the loss with respect to it (its statistics and histogram over the whole batch, and the first few samples as
host arrays for feature maps), replacing the step before. Disarmed, it registers nothing and keeps nothing, so
normal runs pay one flag test per step.

It is a ``Trainer`` callback: ``on_step_begin`` hooks the layers (those ``health.layer_modules`` measures) when
armed, ``on_step_end`` unhooks them and publishes the ``StepSnapshot``. ``arm`` may be called from any thread.
"""

import math
import threading
from dataclasses import dataclass, field

import numpy as np

from ..nn import Conv2d
from ..ops.op import xp_of
from .health import Histogram, histogram, host, layer_modules
from .layer_outputs import first_tensor

SAMPLES = 8  # the samples of a batch whose tensors are kept (for feature maps)


@dataclass
class TensorSummary:
    """One tensor of a step: its shape over the batch, statistics, histogram and its first ``SAMPLES`` samples."""

    shape: tuple
    mean: float
    std: float
    low: float
    high: float
    zeros: float  # the share of exact zeros
    nonfinite: int
    histogram: Histogram | None
    samples: np.ndarray = field(repr=False)


@dataclass
class StepSnapshot:
    step: int  # the global step (1-based) the tensors are of
    outputs: dict  # layer -> TensorSummary of its output
    gradients: dict  # layer -> TensorSummary of d loss / d output (missing where none flowed back)
    filters: dict = field(default_factory=dict, repr=False)  # convolution layer -> its weight after the step
    failed: bool = False  # the step's values went non-finite: it made no update


def summarise(array):
    """A ``TensorSummary`` of ``array`` (NumPy or CuPy), or None for one without a batch of values."""
    if array.ndim == 0 or array.size == 0:
        return None
    xp = xp_of(array)
    finite = array[xp.isfinite(array)]
    bad = int(array.size - finite.size)
    stats = (float(finite.mean()), float(finite.std()), float(finite.min()), float(finite.max())) if finite.size \
        else (math.nan,) * 4
    zeros = float(xp.count_nonzero(array == 0)) / array.size
    return TensorSummary(tuple(array.shape), *stats, zeros, bad, histogram([array]),
                         host(array[:SAMPLES]).astype(np.float32, copy=True))


class StepCapture:
    """Records the tensors of each step while armed; ``latest`` is the last step's ``StepSnapshot``."""

    def __init__(self, publish=None):
        self.publish = publish  # called with each new snapshot (from the training thread), if given
        self.latest = None
        self._armed = threading.Event()
        self._handles = []
        self._layers, self._convolutions = {}, {}
        self._outputs, self._gradients = {}, {}

    @property
    def armed(self):
        return self._armed.is_set()

    def arm(self, armed=True):
        """Record from the next step on (``armed``), or stop and forget what was recorded."""
        if armed:
            self._armed.set()
        else:
            self._armed.clear()
            self.latest = None

    def on_fit_start(self, trainer):
        self._layers = layer_modules(trainer.model)  # the model's layers do not change during a fit
        self._convolutions = {name: m for name, m in self._layers.items() if isinstance(m, Conv2d)}

    def on_step_begin(self, trainer, global_step):
        if not self._armed.is_set():
            return
        self._outputs, self._gradients = {}, {}
        self._handles = [module.register_forward_hook(self._hook_for(name)) for name, module in self._layers.items()]

    def _hook_for(self, layer):
        def hook(_module, _args, output):
            output = first_tensor(output)
            data = getattr(output, "_data", None)
            if layer in self._outputs or data is None or data.dtype.kind != "f":
                return
            summary = summarise(data)
            if summary is None:
                return
            self._outputs[layer] = summary
            if output.requires_grad:
                output.register_hook(gradient_hook)

        def gradient_hook(grad):
            if layer not in self._gradients:
                summary = summarise(grad._data)
                if summary is not None:
                    self._gradients[layer] = summary

        return hook

    def on_step_end(self, trainer, info):
        self._unhook()
        self._finish(info.global_step, False)

    def on_fit_end(self, trainer, info):
        """A step that failed (its values went non-finite) never ended: what it recorded is its snapshot."""
        self._unhook()
        if self._outputs:
            self._finish(trainer.global_step + 1, True)

    def _finish(self, step, failed):
        if not self._armed.is_set() or not self._outputs:
            return
        filters = {name: host(m.weight._data).copy() for name, m in self._convolutions.items()}
        snapshot = StepSnapshot(step, self._outputs, self._gradients, filters, failed)
        self._outputs, self._gradients = {}, {}
        if not self._armed.is_set():  # disarmed meanwhile (the inspector closed): nothing is kept
            return
        self.latest = snapshot
        if self.publish is not None:
            self.publish(snapshot)

    def _unhook(self):
        for handle in self._handles:
            handle.remove()
        self._handles = []
