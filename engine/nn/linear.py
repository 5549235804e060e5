"""``Linear`` and ``Identity``."""

from .. import creation
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


class Identity(Module):
    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class _WeightAndBias(Module):
    """A layer with a ``weight`` and an optional ``bias`` (one per output), with PyTorch's default initialisation."""

    def _make_weight_and_bias(self, weight_shape, bias, device, dtype):
        self.weight = Parameter(creation.empty(*weight_shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(weight_shape[0], device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.default_layer_init_(self.weight, self.bias)


class Linear(_WeightAndBias):
    """``y = x W^T + b`` with PyTorch's default initialisation."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self._make_weight_and_bias((out_features, in_features), bias, device, dtype)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
