"""Per-layer gradient norms of every step, captured by tensor hooks on the parameters as backward produces them.

A layer is as ``parameter_layers`` says; its norm is the L2 norm over all of its parameters' gradients. Nothing
is registered until the monitor is attached, so training without one pays nothing.
"""

from collections import OrderedDict

import numpy as np

from .parameter_layers import parameter_layers, square_sum


class GradientMonitor:
    def __init__(self, model=None):
        self.layers = []  # layer names in model order
        self._handles = []
        self._sums = {}
        if model is not None:
            self.attach(model)

    def attach(self, model):
        self.detach()
        layers = parameter_layers(model)
        self.layers = list(layers)
        for layer, params in layers.items():
            for param in params:
                self._handles.append(param.register_hook(self._hook_for(layer)))
        return self

    def _hook_for(self, layer):
        def hook(grad):
            square = square_sum(grad._data)
            previous = self._sums.get(layer)
            self._sums[layer] = square if previous is None else previous + square

        return hook

    def detach(self):
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._sums = {}

    def collect(self):
        """``{layer: norm}`` for the gradients seen since the last call (one backward pass, usually)."""
        norms = OrderedDict()
        for layer in self.layers:
            value = self._sums.get(layer)
            norms[layer] = float("nan") if value is None else float(np.sqrt(float(value)))
        self._sums = {}
        return norms
