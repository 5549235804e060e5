"""The layers of a model as the monitors see them, and the size of an optimizer step relative to the weights.

A layer is the module that owns parameters (``conv1`` for ``conv1.weight`` and ``conv1.bias``); its norms are
taken over all of its trainable parameters together.
"""

from collections import OrderedDict

import numpy as np

from ..ops.op import xp_of


def parameter_layers(model):
    """``{layer name: [trainable parameters]}`` in the model's order (frozen parameters left out)."""
    layers = OrderedDict()
    for name, param in model.named_parameters():
        if param.requires_grad:
            layers.setdefault(name.rpartition(".")[0] or name, []).append(param)
    return layers


def square_sum(array):
    """The sum of squares of ``array`` as a Python float: one BLAS dot, no squared temporary."""
    flat = array.ravel()
    return float(xp_of(flat).vdot(flat, flat))


class UpdateRatios:
    """‖Δw‖/‖w‖ per layer for one optimizer step: ``before()`` copies the weights, ``ratios()`` (after the step)
    compares. ‖w‖ is the norm before the step; a layer whose weights are all zero gets NaN, one with non-finite
    weights or steps inf."""

    def __init__(self, layers):
        self.layers = layers  # as parameter_layers gives them
        self._saved = None

    def before(self):
        self._saved = {layer: [p._data.copy() for p in params] for layer, params in self.layers.items()}

    def ratios(self):
        """``{layer: ratio}`` for the step since ``before()``; the copies are let go."""
        saved, self._saved = self._saved, None
        result = OrderedDict()
        for layer, params in self.layers.items():
            change = weight = 0.0
            for param, old in zip(params, saved[layer], strict=True):
                weight += square_sum(old)
                old -= param._data  # the copy is ours: reuse it for the difference
                change += square_sum(old)
            if not (np.isfinite(change) and np.isfinite(weight)):
                result[layer] = float("inf")
            else:
                result[layer] = float(np.sqrt(change / weight)) if weight > 0 else float("nan")
        return result
