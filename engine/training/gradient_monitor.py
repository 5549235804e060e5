"""Per-layer gradient norms, captured by tensor hooks on the parameters as backward produces them.

A layer is the module that owns the parameters (``conv1`` for ``conv1.weight`` and ``conv1.bias``); its
norm is the L2 norm over all of its parameters' gradients. Nothing is registered until the monitor is
attached, so training without one pays nothing.
"""

from collections import OrderedDict

import numpy as np

from ..ops.op import xp_of


class GradientMonitor:
    def __init__(self, model=None):
        self.layers = []  # layer names in model order
        self._handles = []
        self._sums = {}
        if model is not None:
            self.attach(model)

    def attach(self, model):
        self.detach()
        order = OrderedDict()
        for name, param in model.named_parameters():
            if not param.requires_grad:
                continue
            layer = name.rpartition(".")[0] or name
            order.setdefault(layer, []).append(param)
        self.layers = list(order)
        for layer, params in order.items():
            for param in params:
                self._handles.append(param.register_hook(self._hook_for(layer)))
        return self

    def _hook_for(self, layer):
        def hook(grad):
            g = grad._data.ravel()
            square = xp_of(g).vdot(g, g)  # one BLAS dot, no squared temporary
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
