"""Cyclic shifts and rotations: ``roll``, ``rot90``, ``fliplr``, ``flipud``."""

import numpy as np

from ..backend import is_host
from ..tensor import wrap_dim
from ..threads import PARALLEL_MIN_SIZE, cpu_map, cpu_shares
from .convert import clone
from .op import Op, xp_of
from .shape import flip, reversed_view


def _rolled(x, shifts, axes):
    """``xp.roll(x, shifts, axes)``; a shift along one axis as two slice copies, without ``np.roll``'s
    Python-level axis handling (half the call at 1e3 elements)."""
    if axes is None or len(axes) != 1:
        return xp_of(x).roll(x, shifts, axes)
    d = axes[0]
    n = x.shape[d]
    s = shifts[0] % n if n else 0
    if not s:
        return x.copy()
    out = xp_of(x).empty_like(x)
    lead = (slice(None),) * d
    out[(*lead, slice(s, None))] = x[(*lead, slice(None, n - s))]
    out[(*lead, slice(None, s))] = x[(*lead, slice(n - s, None))]
    return out


class Roll(Op):
    __slots__ = ("axes", "shifts")
    _name = "RollBackward0"
    saves_tensors = False

    def forward(self, x, shifts=(), axes=None):
        self.shifts, self.axes = shifts, axes
        return _rolled(x, shifts, axes)

    def backward(self, g):
        return (_rolled(g, tuple(-s for s in self.shifts), self.axes),)

    def backward_graph(self, g):
        return (Roll.apply(g, shifts=tuple(-s for s in self.shifts), axes=self.axes),)


def roll(input, shifts, dims=None):
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = () if dims is None else (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims) and (dims or len(shifts) != 1):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    ndim = input._data.ndim
    axes = tuple(wrap_dim(d, ndim) for d in dims) if dims else None
    if ndim == 0:
        return clone(input)
    return Roll.apply(input, shifts=tuple(int(s) for s in shifts), axes=axes)


def _copied(view):
    """A C-contiguous copy of ``view``; a large host one copied by blocks of its leading axis over the CPU
    threads, as PyTorch's flip is (NumPy copies on one thread, and a reversed last axis at 1.4x a plain copy)."""
    if view.size < PARALLEL_MIN_SIZE or view.shape[0] < 2 or not is_host(view):
        return view.copy()
    out = np.empty(view.shape, view.dtype)

    def rows(part):
        out[part[0]:part[1]] = view[part[0]:part[1]]

    cpu_map(rows, cpu_shares(view.shape[0], view.size))
    return out


def _rotated(a, k, d0, d1, copy=False):
    """Array ``a`` turned ``k`` (0 to 3) quarter turns from ``d0`` towards ``d1``, as PyTorch lays it out: the
    flipped array (copied with ``copy``), transposed for an odd ``k``."""
    out = reversed_view(a, ((), (d1,), (d0, d1), (d0,))[k])
    if copy:
        out = _copied(out)
    return out.swapaxes(d0, d1) if k % 2 else out


class Rot90(Op):
    """One node for PyTorch's flip-and-transpose; backward turns the gradient back."""

    __slots__ = ("dims", "k")
    _name = "Rot90Backward0"
    saves_tensors = False

    def forward(self, x, k=1, dims=(0, 1)):
        self.k, self.dims = k, dims
        return _rotated(x, k, *dims, copy=True)

    def backward(self, g):
        return (_rotated(g, -self.k % 4, *self.dims),)

    def backward_graph(self, g):
        return (Rot90.apply(g, k=-self.k % 4, dims=self.dims),)


def rot90(input, k=1, dims=(0, 1)):
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    ndim = input._data.ndim
    if ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {ndim}")
    d0, d1 = (wrap_dim(d, ndim) for d in dims)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} and dim1 = {dims[1]}")
    return Rot90.apply(input, k=k % 4, dims=(d0, d1))


def fliplr(input):
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input):
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))
