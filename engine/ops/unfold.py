"""``Tensor.unfold``: sliding windows along one dimension, as a strided view of the input."""

from ..tensor import wrap_dim
from .op import Op, xp_of
from .shape import mark_view
from .strides import as_strided


def windows(a, axis, size, step):
    """Windows of ``size`` every ``step`` along ``axis`` of array ``a``, the window as a new last axis."""
    if a.ndim == 0:
        return a.reshape(1)[:size]
    count = (a.shape[axis] - size) // step + 1
    shape = (*a.shape[:axis], count, *a.shape[axis + 1:], size)
    strides = (*a.strides[:axis], a.strides[axis] * step, *a.strides[axis + 1:], a.strides[axis])
    return as_strided(xp_of(a), a, shape, strides)


class Unfold(Op):
    __slots__ = ("axis", "in_shape", "size", "step")
    _name = "UnfoldBackward0"
    saves_tensors = False

    def forward(self, x, axis=0, size=1, step=1):
        self.axis, self.size, self.step, self.in_shape = axis, size, step, x.shape
        return windows(x, axis, size, step)

    def backward(self, g):
        return (fold(g, self.in_shape, self.axis, self.size, self.step),)

    def backward_graph(self, g):
        return (Fold.apply(g, in_shape=self.in_shape, axis=self.axis, size=self.size, step=self.step),)


def fold(g, in_shape, axis, size, step):
    """The windows ``g`` added back into an array of ``in_shape`` (the gradient of ``windows``)."""
    if not in_shape:
        return g.sum(keepdims=True).reshape(())
    out = xp_of(g).zeros(in_shape, dtype=g.dtype)
    count = g.shape[axis]
    lead = (slice(None),) * axis
    for k in range(size):
        out[(*lead, slice(k, k + step * (count - 1) + 1, step))] += g[..., k]
    return out


class Fold(Op):
    """``fold`` as an op, for double backward: its gradient reads the windows again."""

    __slots__ = ("axis", "size", "step")
    _name = "UnfoldBackwardBackward0"
    saves_tensors = False

    def forward(self, g, in_shape=(), axis=0, size=1, step=1):
        self.axis, self.size, self.step = axis, size, step
        return fold(g, in_shape, axis, size, step)

    def backward(self, gg):
        return (windows(gg, self.axis, self.size, self.step).copy(),)

    def backward_graph(self, gg):
        return (Unfold.apply(gg, axis=self.axis, size=self.size, step=self.step),)


def unfold(input, dimension, size, step):
    shape = input._data.shape
    axis = wrap_dim(dimension, len(shape))
    n = shape[axis] if shape else 1
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {axis} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    out = Unfold.apply(input, axis=axis, size=int(size), step=int(step))
    return mark_view(out, input, lambda a: windows(a, axis, size, step))
