"""The two ways inverses, solves and Cholesky factors run: LAPACK through the backend's ``linalg`` (any
device, any order), and the compiled kernels of ``lu_kernels`` and ``cholesky_kernels`` for host stacks of
small matrices, where NumPy's per-matrix calls cost most. Ops that use them list both in
``implementations``."""

import numpy as np

from ..backend import Implementation
from ..ops.op import xp_of
from ..threads import cpu_batched
from . import cholesky_kernels, lu_kernels
from .checks import SINGULAR_SOLVE, LinAlgError, cholesky_or_raise, inv_or_raise, singular_inverse, solve_or_raise


def _t(a):
    return a.swapaxes(-1, -2)


class Lapack(Implementation):
    """NumPy's or CuPy's ``linalg``, one matrix after another (the batch split over the CPU threads)."""

    name = "lapack"

    @staticmethod
    def inv(a):
        return inv_or_raise(xp_of(a), a)

    @staticmethod
    def cholesky(a):
        """The lower Cholesky factor; PyTorch's error where a leading minor is not positive-definite."""
        return cholesky_or_raise(xp_of(a), a)

    @classmethod
    def inv_lower(cls, low):
        """The inverse of an invertible lower-triangular ``low``."""
        return cls.inv(low)

    @staticmethod
    def det(a):
        """``(det(A), factors)``; ``inv_of(factors)`` is ``A``'s inverse from the same factorization, so
        that a gradient ``det(A) A^-T`` near a singular ``A`` has both factors' rounding in common."""
        return cpu_batched(xp_of(a).linalg.det, a), a

    @classmethod
    def inv_of(cls, factors):
        return cls.inv(factors)

    @staticmethod
    def solve(a, b):
        """``(X, factors)`` with ``A X = B``; ``factors`` is what ``solve_transposed`` takes (here ``A``)."""
        return solve_or_raise(xp_of(a), a, b), a

    @staticmethod
    def solve_transposed(factors, g):
        """``X`` with ``A^T X = G``."""
        return solve_or_raise(xp_of(g), _t(factors), g)


class SmallMatrices(Lapack):
    """The compiled kernels, for float32/float64 host matrices up to ``lu_kernels.SMALL``: a solve keeps its
    LU factors, so the backward's transposed solve costs no second factorization (as PyTorch keeps its LU)."""

    name = "numba"

    @staticmethod
    def applies(a, *rest, **options):
        return lu_kernels.takes(a)

    @staticmethod
    def inv(a):
        lu, pivots, info = lu_kernels.getrf(a)
        if info.any():
            index = np.unravel_index(int(np.argmax(info != 0)), info.shape)
            raise singular_inverse(index, info.shape, int(info[index]))
        return SmallMatrices.inv_of((lu, pivots))

    @staticmethod
    def cholesky(a):
        low, info = cholesky_kernels.potrf(a)
        if info.any():  # LAPACK's check finds the failing minor and raises PyTorch's error
            return Lapack.cholesky(a)
        return low

    @staticmethod
    def inv_lower(low):
        return cholesky_kernels.lower_inverse(low)

    @staticmethod
    def det(a):
        """The product of ``U``'s diagonal, negated for an odd number of row interchanges (as PyTorch)."""
        lu, pivots, _ = lu_kernels.getrf(a)
        n = a.shape[-1]
        swaps = np.count_nonzero(pivots != np.arange(1, n + 1, dtype=pivots.dtype), axis=-1)
        sign = np.where(swaps % 2 == 1, -1, 1).astype(a.dtype)
        return np.diagonal(lu, axis1=-2, axis2=-1).prod(axis=-1) * sign, (lu, pivots)

    @staticmethod
    def inv_of(factors):
        lu, pivots = factors
        n = lu.shape[-1]
        return lu_kernels.getrs(lu, pivots, np.broadcast_to(np.eye(n, dtype=lu.dtype), lu.shape))

    @staticmethod
    def solve(a, b):
        lu, pivots, info = lu_kernels.getrf(a)
        if info.any():
            raise LinAlgError(SINGULAR_SOLVE)
        return lu_kernels.getrs(lu, pivots, b), (lu, pivots)

    @staticmethod
    def solve_transposed(factors, g):
        return lu_kernels.getrs(*factors, g, transpose=True)


SOLVERS = (SmallMatrices, Lapack)
