"""Compiled (numba) Cholesky factors and inverses of lower-triangular factors for stacks of small matrices,
the stack split over the CPU threads as in ``lu_kernels`` (whose ``takes`` and ``SMALL`` apply here too):
NumPy's per-matrix LAPACK calls, copies and checks cost more than the arithmetic at order 32.
"""

import functools
import math

import numpy as np

from ..ops import jit
from .lu_kernels import split


@functools.cache
def _kernels():
    njit = jit.njit

    @njit(nogil=True, cache=True, fastmath=set(jit.FLAGS))
    def potrf(a, low, info):
        """Row by row (Cholesky-Banachiewicz): each entry is a dot product of two contiguous row prefixes.
        ``info``: the order of the first leading minor that is not positive-definite (a NaN pivot counts),
        as LAPACK's."""
        n = a.shape[1]
        for q in range(a.shape[0]):
            m, out = a[q], low[q]
            out[:, :] = 0
            info[q] = 0
            for i in range(n):
                for j in range(i + 1):
                    s = m[i, j]
                    for k in range(j):
                        s -= out[i, k] * out[j, k]
                    if i > j:
                        out[i, j] = s / out[j, j]
                    elif s > 0:
                        out[i, i] = np.sqrt(s)
                    else:
                        info[q] = i + 1
                        break
                if info[q]:
                    break

    @njit(nogil=True, cache=True, fastmath=set(jit.FLAGS))
    def lower_inverse(low, out):
        """Forward substitution on the identity: row ``i`` of the inverse takes whole-row multiples of the
        rows above it (zero right of their diagonals), so every loop runs the full, vectorised width."""
        n = low.shape[1]
        for q in range(low.shape[0]):
            m, x = low[q], out[q]
            x[:, :] = 0
            for i in range(n):
                x[i, i] = 1
                for k in range(i):
                    f = m[i, k]
                    for c in range(n):
                        x[i, c] -= f * x[k, c]
                scale = 1 / m[i, i]
                for c in range(n):
                    x[i, c] *= scale

    return potrf, lower_inverse


def _stack(a):
    *batch, n, _ = a.shape
    return np.ascontiguousarray(a).reshape(math.prod(batch), n, n)


def potrf(a):
    """(lower factor, info) of a stack of symmetric positive-definite matrices (read from the lower triangle)."""
    flat = _stack(a)
    low = np.empty_like(flat)
    info = np.empty(flat.shape[0], dtype=np.int32)
    split(_kernels()[0], a.shape[-1], flat, low, info)
    return low.reshape(a.shape), info.reshape(a.shape[:-2])


def lower_inverse(low):
    """The inverses of a stack of invertible lower-triangular matrices (lower-triangular themselves)."""
    flat = _stack(low)
    out = np.empty_like(flat)
    split(_kernels()[1], low.shape[-1], flat, out)
    return out.reshape(low.shape)
