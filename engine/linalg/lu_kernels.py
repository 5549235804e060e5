"""Compiled (numba) LU with partial pivoting and LU solves for stacks of small square matrices.

NumPy's ``linalg`` calls LAPACK once per matrix, copying each into Fortran order and back (and ``inv`` solves
against an identity it builds per matrix): at order 32 that overhead is most of the time. Here one compiled
loop takes the whole stack, each matrix in place in row-major order (the row updates vectorise), the stack
split over the CPU threads. LAPACK's blocked algorithms win on large matrices, hence ``SMALL``. The factors
are LAPACK's: 1-based int32 pivots (``getrf``'s row interchanges), ``info`` the first zero pivot's column.
"""

import functools
import math

import numpy as np

from ..ops import jit
from ..threads import cpu_map, cpu_shares

SMALL = 64  # the largest order taken here (at 128 OpenBLAS's blocked getrf is faster)


def takes(a):
    """Whether ``a`` is a host float32/float64 stack of square matrices no larger than ``SMALL``."""
    return a.ndim >= 2 and a.shape[-1] == a.shape[-2] and a.shape[-1] <= SMALL and jit.takes_floats(a)


@functools.cache
def _kernels():
    njit = jit.njit

    @njit(nogil=True, cache=True, fastmath=set(jit.FLAGS))
    def factor(lu, pivots, info):
        """Each elimination step subtracts multiples of the pivot row, zero up to the pivot column, from
        whole rows: full-width loops vectorise, where loops from the pivot column on run short and scalar
        (2.4x faster at order 32 for half again the arithmetic)."""
        n = lu.shape[1]
        row = np.empty(n, dtype=lu.dtype)
        for q in range(lu.shape[0]):
            a = lu[q]
            info[q] = 0
            for k in range(n):
                p, best = k, abs(a[k, k])
                for i in range(k + 1, n):
                    if abs(a[i, k]) > best:
                        p, best = i, abs(a[i, k])
                pivots[q, k] = p + 1
                if p != k:
                    for j in range(n):
                        a[k, j], a[p, j] = a[p, j], a[k, j]
                if a[k, k] == 0:
                    if info[q] == 0:
                        info[q] = k + 1
                    continue
                scale = 1 / a[k, k]
                for j in range(n):
                    row[j] = a[k, j] if j > k else 0
                for i in range(k + 1, n):
                    f = a[i, k] * scale
                    for j in range(n):
                        a[i, j] -= f * row[j]
                    a[i, k] = f

    @njit(inline="always")
    def subtract(y, i, j, f):
        for c in range(y.shape[1]):
            y[i, c] -= f * y[j, c]

    @njit(nogil=True, cache=True, fastmath=set(jit.FLAGS))
    def solve(lu, pivots, x, transpose):
        """``A X = B`` (or ``A^T X = B``) in place on ``x`` = B, for ``P A = L U``; ``A^T = U^T L^T P``."""
        n = lu.shape[1]
        for q in range(lu.shape[0]):
            a, y, piv = lu[q], x[q], pivots[q]
            if not transpose:
                for k in range(n):
                    p = piv[k] - 1
                    if p != k:
                        for c in range(y.shape[1]):
                            y[k, c], y[p, c] = y[p, c], y[k, c]
                for i in range(1, n):
                    for j in range(i):
                        subtract(y, i, j, a[i, j])
                for i in range(n - 1, -1, -1):
                    for j in range(i + 1, n):
                        subtract(y, i, j, a[i, j])
                    scale = 1 / a[i, i]
                    for c in range(y.shape[1]):
                        y[i, c] *= scale
            else:
                for i in range(n):
                    for j in range(i):
                        subtract(y, i, j, a[j, i])
                    scale = 1 / a[i, i]
                    for c in range(y.shape[1]):
                        y[i, c] *= scale
                for i in range(n - 1, -1, -1):
                    for j in range(i + 1, n):
                        subtract(y, i, j, a[j, i])
                for k in range(n - 1, -1, -1):
                    p = piv[k] - 1
                    if p != k:
                        for c in range(y.shape[1]):
                            y[k, c], y[p, c] = y[p, c], y[k, c]

    return factor, solve


def split(kernel, n, *stacks):
    """``kernel(*stacks, ...)`` over shares of the stacks' leading axis, one per CPU thread when the work
    (about ``n**3`` multiply-adds a matrix) is enough."""
    shares = cpu_shares(stacks[0].shape[0], stacks[0].shape[0] * n ** 3)
    if len(shares) == 1:
        kernel(*stacks)
    else:
        cpu_map(lambda s: kernel(*(a[s[0]:s[1]] for a in stacks)), shares)


def getrf(a):
    """(LU, pivots, info) of a stack of square matrices, as ``lu.getrf`` gives them."""
    *batch, n, _ = a.shape
    lu = a.reshape(math.prod(batch), n, n).copy()  # (not -1: 0 x 0 matrices)
    pivots = np.empty((lu.shape[0], n), dtype=np.int32)
    info = np.empty(lu.shape[0], dtype=np.int32)
    factor = _kernels()[0]
    split(factor, n, lu, pivots, info)
    return lu.reshape(a.shape), pivots.reshape(*batch, n), info.reshape(batch)


def getrs(lu, pivots, b, transpose=False):
    """``X`` with ``A X = B`` (``A^T X = B`` with ``transpose``) from ``getrf``'s factors of ``A``, for ``B``
    a stack of matrices with ``A``'s batch shape."""
    *batch, n, m = b.shape
    count = math.prod(batch)
    x = np.array(b, dtype=lu.dtype, order="C").reshape(count, n, m)
    solve = _kernels()[1]
    split(lambda f, p, y: solve(f, p, y, transpose), n, lu.reshape(count, n, n), pivots.reshape(count, n), x)
    return x.reshape(b.shape)
