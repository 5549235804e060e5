"""Compiled CPU kernels (numba) for ReLU on float arrays: one pass each way, shared over numba's threads.
PyTorch's semantics: NaN passes forward, and where the output is NaN the gradient passes too.
Measurements: bench/NOTES.md.
"""

import functools

import numpy as np

from . import dense, jit


@functools.cache
def _kernels():
    njit = jit.njit

    @njit(nogil=True, cache=True)
    def forward(x, y, i0, i1):
        xs, ys = x[i0:i1], y[i0:i1]
        zero = x.dtype.type(0)
        for i in range(xs.size):
            v = xs[i]
            ys[i] = zero if v <= zero else v  # NaN <= 0 is false: NaN passes

    @njit(nogil=True, cache=True)
    def backward(y, g, gx, i0, i1):
        """A ``g`` of one value is every position's."""
        ys, gxs = y[i0:i1], gx[i0:i1]
        zero = y.dtype.type(0)
        if g.size == 1 and y.size > 1:
            v = g[0]
            for i in range(ys.size):
                gxs[i] = zero if ys[i] <= zero else v
        else:
            gs = g[i0:i1]
            for i in range(ys.size):
                gxs[i] = zero if ys[i] <= zero else gs[i]

    return jit.RangeKernel(forward, nogil=True, cache=True), jit.RangeKernel(backward, nogil=True, cache=True)


def forward(x):
    x = x if x.flags.c_contiguous else x.copy()  # (not ascontiguousarray, which makes 0-d arrays 1-d)
    y = np.empty_like(x)
    _kernels()[0].run(x.size, x.size, x.reshape(-1), y.reshape(-1))
    return y


def backward(y, g):
    """A gradient broadcast from one value (a sum's) goes in as that value (``dense.rows``)."""
    g = dense.rows(g, 1).reshape(-1)
    g = g if g.dtype == y.dtype else g.astype(y.dtype)
    gx = np.empty_like(y)
    _kernels()[1].run(y.size, y.size, y.reshape(-1), g, gx.reshape(-1))
    return gx
