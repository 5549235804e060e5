"""Compiled CPU kernels (numba) for ReLU on float arrays: one pass each way, split over the engine's threads.
PyTorch's semantics: NaN passes forward, and where the output is NaN the gradient passes too.
Measurements: bench/NOTES.md.
"""

import functools

import numpy as np

from ..threads import cpu_map, cpu_shares
from . import jit


@functools.cache
def _kernels():
    njit = jit.njit

    @njit(nogil=True, cache=True)
    def forward(x, y):
        zero = x.dtype.type(0)
        for i in range(x.size):
            v = x[i]
            y[i] = zero if v <= zero else v  # NaN <= 0 is false: NaN passes

    @njit(nogil=True, cache=True)
    def backward(y, g, gx):
        zero = y.dtype.type(0)
        for i in range(y.size):
            gx[i] = zero if y[i] <= zero else g[i]

    return forward, backward


def _each_share(fn, *arrays):
    """``fn`` on matching slices of the flat ``arrays``, one slice per thread (one when they are small)."""
    size = arrays[0].size
    cpu_map(lambda part: fn(*(a[part[0]:part[1]] for a in arrays)), cpu_shares(size, size))


def forward(x):
    x = x if x.flags.c_contiguous else x.copy()  # (not ascontiguousarray, which makes 0-d arrays 1-d)
    y = np.empty_like(x)
    _each_share(_kernels()[0], x.reshape(-1), y.reshape(-1))
    return y


def backward(y, g):
    g = g if g.flags.c_contiguous and g.dtype == y.dtype else g.astype(y.dtype, order="C")
    gx = np.empty_like(y)
    _each_share(_kernels()[1], y.reshape(-1), g.reshape(-1), gx.reshape(-1))
    return gx
