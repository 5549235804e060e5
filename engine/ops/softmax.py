"""softmax and log_softmax along a dim, numerically stable at any logit magnitude."""

import numpy as np

from .. import dtypes
from ..backend import Implementation
from . import softmax_kernels
from .convert import cast
from .op import Op, xp_of
from .reduce import normalize_dims


def _stable_shift(x, axis):
    """``x`` less its maximum along ``axis``, as PyTorch shifts it: a row whose maximum is infinite becomes NaN."""
    return x - x.max(axis=axis, keepdims=True)


class _CompiledSoftmax(Implementation):
    """``softmax_kernels``: host float32, over the last axis of a C-contiguous array."""

    name = "compiled"

    @staticmethod
    def applies(x, axis=-1):
        return axis is not None and axis == x.ndim - 1 and softmax_kernels.takes(x)

    @staticmethod
    def forward(node, x, axis=-1):
        node.y, node.axis = softmax_kernels.forward(x), axis
        return node.y

    @staticmethod
    def backward(node, g):
        return (softmax_kernels.backward(node.y, np.ascontiguousarray(g, dtype=node.y.dtype)),)


class _GenericSoftmax(Implementation):
    """Array code for NumPy or CuPy, any axis and dtype."""

    @staticmethod
    def forward(node, x, axis=-1):
        e = xp_of(x).exp(_stable_shift(x, axis))
        node.y = y = e / e.sum(axis=axis, keepdims=True)
        node.axis = axis
        return y

    @staticmethod
    def backward(node, g):
        y = node.y
        return (y * (g - (g * y).sum(axis=node.axis, keepdims=True)),)


class Softmax(Op):
    __slots__ = ("axis", "y")
    _name = "SoftmaxBackward0"
    saves = 2
    implementations = (_CompiledSoftmax, _GenericSoftmax)

    def backward_graph(self, g):
        y = self.saved_output(self.y)
        return (y * (g - (g * y).sum(self.axis, keepdim=True)),)


class LogSoftmax(Op):
    __slots__ = ("axis", "y")
    _name = "LogSoftmaxBackward0"
    saves = 2

    def forward(self, x, axis=-1):
        xp = xp_of(x)
        z = _stable_shift(x, axis)
        self.y = y = z - xp.log(xp.exp(z).sum(axis=axis, keepdims=True))
        self.axis = axis
        return y

    def backward(self, g):
        return (g - xp_of(g).exp(self.y) * g.sum(axis=self.axis, keepdims=True),)

    def backward_graph(self, g):
        return (g - self.saved_output(self.y).exp() * g.sum(self.axis, keepdim=True),)


def _prepare(input, dim, dtype):
    if dtype is not None:
        input = cast(input, dtypes.to_dtype(dtype))
    elif input._data.dtype.kind not in dtypes.FLOAT_KINDS:
        raise RuntimeError('"softmax_lastdim_kernel_impl" not implemented for '
                           f"'{dtypes.legacy_name(input._data.dtype)}'")
    if dim is None:
        dim = 0 if input._data.ndim in (0, 1, 3) else 1  # PyTorch's legacy implicit choice
    axis = normalize_dims(dim, input._data.ndim)[0] if input._data.ndim else None
    return input, axis


def softmax(input, dim=None, dtype=None, _stacklevel=3):
    x, axis = _prepare(input, dim, dtype)
    return Softmax.apply(x, axis=axis)


def log_softmax(input, dim=None, dtype=None, _stacklevel=3):
    x, axis = _prepare(input, dim, dtype)
    return LogSoftmax.apply(x, axis=axis)
