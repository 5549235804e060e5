"""Per-channel reductions over every axis but 1 of (N, C, ...) arrays, as ``einsum`` over an (N, C, rest) view.

Three times faster on the CPU than ``sum(axis=(0, 2, 3))`` (which reduces over strided axes), and as
accurate (measured against float64 sums); ``einsum`` is also CuPy's.
"""

import numpy as np

from .op import xp_of


def _rows(a):
    return a.reshape(a.shape[0], a.shape[1], -1)


def channel_sum(a):
    """Per-channel sum of ``a``. Along an axis where ``a`` repeats its values (stride 0: a gradient broadcast from
    a sum), one slice is summed and multiplied by the axis's length, where ``einsum`` read every repeat."""
    repeats, index = 1, [slice(None)] * a.ndim
    for axis, (size, stride) in enumerate(zip(a.shape, a.strides, strict=True)):
        if axis != 1 and stride == 0 and size > 1:
            repeats *= size
            index[axis] = slice(0, 1)
    if repeats == 1:
        return xp_of(a).einsum("nci->c", _rows(a))
    once = xp_of(a).einsum("nci->c", _rows(a[tuple(index)]))
    if once.dtype.itemsize >= 4:
        return once * repeats
    return (once.astype(np.float32) * repeats).astype(once.dtype)  # a count past 65,504 is inf in float16


def channel_dot(a, b):
    """Per-channel sum of ``a * b`` (same shapes), without the product's temporary."""
    return xp_of(a).einsum("nci,nci->c", _rows(a), _rows(b))
