"""``repeat_interleave``: each element (or slice along ``dim``) repeated, as an index selection, so the
gradient sums the copies back."""

import math
import numbers

from .. import dtypes
from ..backend import is_host
from ..tensor import Tensor, make_tensor, wrap_dim
from ..threads import PARALLEL_MIN_SIZE, cpu_map, cpu_shares
from .index_dim import IndexSelect
from .op import Op, xp_of
from .reduce import sum as sum_
from .shape import reshape

# Up to this many copies, the gradient adds them slice by slice; more are summed in one call.
_ADDED_SLICES = 8


def _split(shape, axis, repeats):
    """``shape`` with each slice along ``axis`` followed by an axis of its ``repeats`` copies, the ones before
    ``axis`` merged: (outer, n, repeats, inner)."""
    return math.prod(shape[:axis]), shape[axis], repeats, math.prod(shape[axis + 1:])


def _by_outer_blocks(fn, outer, size):
    """``fn(lo, hi)`` over blocks of the outer axis, one per CPU thread when ``size`` elements pay for it."""
    if outer < 2 or size < PARALLEL_MIN_SIZE:
        fn(0, outer)
    else:
        cpu_map(lambda part: fn(*part), cpu_shares(outer, size))


class RepeatSlices(Op):
    """``repeat_interleave`` by one count: each slice along ``axis`` copied ``repeats`` times in a row, as
    ``repeats`` strided copies (PyTorch's expand-and-flatten; an index selection reads through an index array
    and sums its gradient by scattering). The gradient adds each slice's copies."""

    __slots__ = ("axis", "repeats", "shape")
    _name = "IndexSelectBackward0"
    saves_tensors = False

    def forward(self, x, repeats=1, axis=0):
        self.repeats, self.axis, self.shape = repeats, axis, x.shape
        outer, n, r, inner = _split(x.shape, axis, repeats)
        xp = xp_of(x)
        out = xp.empty((outer, n, r, inner), dtype=x.dtype)
        src = x.reshape(outer, n, inner)

        def copies(lo, hi):
            for k in range(r):
                out[lo:hi, :, k] = src[lo:hi]

        _by_outer_blocks(copies, outer, out.size if is_host(x) else 0)
        return out.reshape((*x.shape[:axis], n * r, *x.shape[axis + 1:]))

    def backward(self, g):
        outer, n, r, inner = _split(self.shape, self.axis, self.repeats)
        g = g.reshape(outer, n, r, inner)
        xp = xp_of(g)
        if r > _ADDED_SLICES or r == 0:
            return (g.sum(axis=2).reshape(self.shape),)
        gx = xp.empty((outer, n, inner), dtype=g.dtype)

        def sums(lo, hi):
            part = gx[lo:hi]
            xp.copyto(part, g[lo:hi, :, 0])
            for k in range(1, r):
                xp.add(part, g[lo:hi, :, k], out=part)

        _by_outer_blocks(sums, outer, g.size if is_host(g) else 0)
        return (gx.reshape(self.shape),)

    def backward_graph(self, g):
        return (reshape(sum_(reshape(g, _split(self.shape, self.axis, self.repeats)), 2), self.shape),)


def _counts(repeats, xp):
    """The repeats as an int64 array of the input's module, checked as PyTorch does."""
    if isinstance(repeats, Tensor):
        if repeats._data.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        if repeats._data.dtype.kind not in "iu":
            raise NotImplementedError(f"\"repeat_interleave_cpu\" not implemented for "
                                      f"'{dtypes.legacy_name(repeats._data.dtype)}'")
        counts = xp.asarray(repeats.tolist(), dtype="int64").reshape(-1)
        if (counts < 0).any():
            raise RuntimeError("repeats can not be negative")
        return counts
    if repeats < 0:
        raise RuntimeError("Repeats must be non-negative")
    return xp.asarray([int(repeats)], dtype="int64")


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    if repeats is None:
        counts = _counts(input, xp_of(input._data))
        return make_tensor(xp_of(counts).repeat(xp_of(counts).arange(counts.size), counts), input._device)
    if dim is None:
        input, axis = reshape(input, (-1,)), 0
    elif input._data.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    else:
        axis = wrap_dim(dim, input._data.ndim)
    xp = xp_of(input._data)
    counts = _counts(repeats, xp)
    n = input._data.shape[axis]
    if counts.size == 1:
        counts = int(counts[0])
    elif counts.size != n:
        raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                           f"{counts.size} and input.size({axis}) = {n}")
    index = None if isinstance(counts, int) else xp.arange(n).repeat(counts)
    size = n * counts if index is None else index.size
    if output_size is not None and output_size != size:
        if isinstance(repeats, numbers.Integral):
            raise RuntimeError(f"repeat_interleave: Invalid output_size, expected {size} but got {output_size}")
        raise RuntimeError("allocated size does not match required size")
    if index is None:
        return RepeatSlices.apply(input, repeats=counts, axis=axis)
    return IndexSelect.apply(input, index=index, dim=axis)  # in range by construction: no checks
