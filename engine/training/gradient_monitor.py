"""Per-layer gradient norms of every step, read from the parameters' gradients after backward.

A layer is as ``parameter_layers`` says; its norm is the L2 norm over all of its parameters' gradients (a
parameter shared by several layers counts its whole gradient). Nothing is registered: training without a
monitor pays nothing, and one with it pays a dot product per parameter per step.
"""

from collections import OrderedDict

import numpy as np

from .parameter_layers import parameter_layers, square_sum


class GradientMonitor:
    def __init__(self, model=None):
        self.layers = []  # layer names in model order
        self._params = {}
        if model is not None:
            self.attach(model)

    def attach(self, model):
        self._params = parameter_layers(model)
        self.layers = list(self._params)
        return self

    def detach(self):
        self._params = {}

    def collect(self):
        """``{layer: norm}`` of the gradients the parameters hold (the last backward pass's, usually); NaN for
        a layer none of whose parameters has one."""
        norms = OrderedDict()
        for layer in self.layers:
            grads = [p.grad._data for p in self._params.get(layer, ()) if p.grad is not None]
            norms[layer] = float(np.sqrt(sum(square_sum(g) for g in grads))) if grads else float("nan")
        return norms
