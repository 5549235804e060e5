"""``repeat_interleave``: each element (or slice along ``dim``) repeated, as an index selection, so the
gradient sums the copies back."""

import numbers

from .. import dtypes
from ..tensor import Tensor, make_tensor, wrap_dim
from .index_dim import IndexSelect
from .op import xp_of
from .shape import reshape


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
    index = xp.arange(n).repeat(counts)
    if output_size is not None and output_size != index.size:
        if isinstance(repeats, numbers.Integral):
            raise RuntimeError(f"repeat_interleave: Invalid output_size, expected {index.size} but got {output_size}")
        raise RuntimeError("allocated size does not match required size")
    return IndexSelect.apply(input, index=index, dim=axis)  # in range by construction: no checks
