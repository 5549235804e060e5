"""``pad`` over any number of trailing dimensions: constant, reflect, replicate and circular modes.

The pad tuple is PyTorch's: (left, right) of the last dimension first, then of the one before, and so
on; negative amounts crop. Constant padding is one fill and one slice assignment (backward: a slice).
The other modes gather each padded axis through an index array (forward) and scatter the gradient back
through the transposed one-hot matrix of that index (backward: one small matrix product per axis).
With ``create_graph`` the constant mode's gradient is the opposite padding, the others' a ``LinearMap``.
"""

import functools

import numpy as np

from .linear_map import input_gradient
from .op import Op, xp_of


def _dims(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _regions(shape, pairs):
    """Slices of the output and of the input that overlap, for (left, right) amounts per trailing axis."""
    nd = len(shape)
    out_shape, dst, src = list(shape), [slice(None)] * nd, [slice(None)] * nd
    for k, (lo, hi) in enumerate(pairs):
        axis = nd - 1 - k
        size = shape[axis]
        out_shape[axis] = size + lo + hi
        dst[axis] = slice(max(lo, 0), max(lo, 0) + max(size - max(-lo, 0) - max(-hi, 0), 0))
        src[axis] = slice(max(-lo, 0), max(size - max(-hi, 0), max(-lo, 0)))
    return tuple(out_shape), tuple(dst), tuple(src)


class ConstantPad(Op):
    __slots__ = ("dst", "pairs", "shape", "src")
    _name = "ConstantPadNdBackward0"
    saves_tensors = False

    def forward(self, x, pairs=(), value=0):
        xp = xp_of(x)
        out_shape, dst, src = _regions(x.shape, pairs)
        out = xp.full(out_shape, value, dtype=x.dtype)
        out[dst] = x[src]
        self.dst, self.src, self.shape, self.pairs = dst, src, x.shape, pairs
        return out

    def backward(self, g):
        xp = xp_of(g)
        gx = xp.zeros(self.shape, dtype=g.dtype)
        gx[self.src] = g[self.dst]
        return (gx,)

    def backward_graph(self, g):
        """The gradient is ``g`` padded by the opposite amounts: crop where forward padded, zeros where it cropped."""
        return (ConstantPad.apply(g, pairs=tuple((-lo, -hi) for lo, hi in self.pairs), value=0),)


def _index(size, lo, hi, mode):
    """Which input position each output position of one axis reads."""
    pos = np.arange(-lo, size + hi)
    if mode == "reflect":
        pos = np.abs(pos)
        return np.where(pos >= size, 2 * (size - 1) - pos, pos)
    if mode == "replicate":
        return np.clip(pos, 0, size - 1)
    # circular: negative amounts crop first, then the kept part wraps around (as PyTorch does)
    start, stop = max(-lo, 0), size - max(-hi, 0)
    return start + np.arange(-max(lo, 0), stop - start + max(hi, 0)) % (stop - start)


def _take_axes(x, axes):
    """``x`` gathered along each (axis, index) of ``axes`` in turn."""
    xp = xp_of(x)
    for axis, idx in axes:
        x = xp.take(x, xp.asarray(idx), axis=axis)
    return x if axes else x.copy()


def _scatter_axes(g, axes, shape):
    """The adjoint of ``_take_axes`` back to ``shape``: per axis, a product with the index's one-hot matrix."""
    xp = xp_of(g)
    for axis, idx in reversed(axes):
        size = shape[axis]
        onehot = np.zeros((idx.size, size), dtype=g.dtype)
        onehot[np.arange(idx.size), idx] = 1
        onehot = xp.asarray(onehot)
        moved = xp.moveaxis(g, axis, -1)
        lead = moved.shape[:-1]
        g = xp.moveaxis((moved.reshape(-1, idx.size) @ onehot).reshape(*lead, size), -1, axis)
    return g


class IndexPad(Op):
    __slots__ = ("axes", "shape")
    _name = "ReflectionPad2DBackward0"
    saves_tensors = False
    grad_reads_input = True  # PyTorch's reflection and replication gradients take the input; circular's not

    def forward(self, x, pairs=(), mode="reflect"):
        self.shape = x.shape
        self.axes = [(x.ndim - 1 - k, _index(x.shape[x.ndim - 1 - k], lo, hi, mode))
                     for k, (lo, hi) in enumerate(pairs) if lo or hi]
        return _take_axes(x, self.axes)

    def backward(self, g):
        return (_scatter_axes(g, self.axes, self.shape),)

    def backward_graph(self, g):
        axes, shape = self.axes, self.shape
        return (input_gradient(self, g, functools.partial(_scatter_axes, axes=axes, shape=shape),
                               functools.partial(_take_axes, axes=axes), shape if self.grad_reads_input else None),)


def _named(mode, k):
    if mode == "circular":
        name = "CopySlices"
    else:
        name = f"{'Reflection' if mode == 'reflect' else 'Replication'}Pad{k}DBackward0"
    cls = _pad_classes.get(name)
    if cls is None:
        cls = _pad_classes[name] = type(f"IndexPad_{name}", (IndexPad,), {
            "__slots__": (), "_name": name, "grad_reads_input": mode != "circular"})
    return cls


_pad_classes = {}


def pad(input, pad, mode="constant", value=None):
    """``torch.nn.functional.pad``."""
    x = input._data
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    k = len(pad) // 2
    if k > x.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {x.ndim}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    pairs = tuple((pad[2 * i], pad[2 * i + 1]) for i in range(k))
    if mode == "constant":
        for i, (lo, hi) in enumerate(pairs):
            size = x.shape[x.ndim - 1 - i]
            if size + lo + hi < 0:
                raise RuntimeError("narrow(): length must be non-negative.")
        return ConstantPad.apply(input, pairs=pairs, value=0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if k not in (1, 2, 3) or x.ndim not in (k + 1, k + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {x.ndim}D input tensor.")
    for i, (lo, hi) in enumerate(pairs):
        axis = x.ndim - 1 - i
        size = x.shape[axis]
        if mode == "reflect" and (lo >= size or hi >= size):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({lo}, {hi}) at dimension {axis} of input {_dims(x.shape)}")
        if mode == "circular" and (lo > size or hi > size or size + min(lo, 0) + min(hi, 0) <= 0):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if mode == "replicate" and size == 0:
            raise RuntimeError(f"Expected input to have non-zero size at dimension {axis}")
        if size + lo + hi <= 0:
            raise RuntimeError(f"input tensor of size {_dims(x.shape)} is too small for padding {list(pad)}")
    return _named(mode, k).apply(input, pairs=pairs, mode=mode)


__all__ = ["ConstantPad", "IndexPad", "pad"]
