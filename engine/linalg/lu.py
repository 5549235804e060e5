"""LU factorization with partial pivoting: linalg.lu_factor (and lu_factor_ex), linalg.lu, lu_unpack and
linalg.lu_solve.

NumPy has no LU, so ``getrf`` is a column loop over the whole batch (partial pivoting as LAPACK's: the first
largest magnitude, 1-based int32 pivots). Only ``lu_factor`` is an op with its own backward (PyTorch's
``linalg_lu_backward``); unpacking and solving are differentiable ops on the factors, so their gradients and
higher derivatives follow.
"""


import numpy as np

from .. import return_types
from ..backend import Implementation
from ..creation import eye
from ..dtypes import legacy_name
from ..ops.op import Op, xp_of
from ..ops.shape import cat
from ..tensor import make_tensor
from . import lu_kernels
from .checks import LinAlgError, batch_prefix, to_host
from .tensor_backward import array_backward
from .triangular import SolveTriangular


def getrf(xp, a):
    """(LU, pivots, info) of a batch of matrices: ``info`` is the 1-based column of the first zero pivot, or 0."""
    *batch, m, n = a.shape
    k = min(m, n)
    lu = a.reshape(-1, m, n).copy()
    pivots = xp.empty((lu.shape[0], k), dtype=xp.int32)
    info = xp.zeros(lu.shape[0], dtype=xp.int32)
    rows = xp.arange(lu.shape[0])
    for j in range(k):
        p = j + xp.argmax(xp.abs(lu[:, j:, j]), axis=1)
        pivots[:, j] = p + 1
        row = lu[:, j].copy()
        lu[:, j] = lu[rows, p]
        lu[rows, p] = row
        pivot = lu[:, j, j]
        zero = pivot == 0
        info = xp.where((info == 0) & zero, j + 1, info)
        lu[:, j + 1:, j] /= xp.where(zero, 1, pivot)[:, None]
        lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j:j + 1] * lu[:, j:j + 1, j + 1:]
    return lu.reshape(a.shape), pivots.reshape(*batch, k), info.reshape(batch)


def permutation(xp, pivots, m, dtype):
    """The matrix ``P`` of ``A = P L U`` from LAPACK's row interchanges ``pivots``."""
    perm = xp.broadcast_to(xp.arange(m), (*pivots.shape[:-1], m)).copy()
    flat, piv = perm.reshape(-1, m), pivots.reshape(-1, pivots.shape[-1]).astype(xp.int64) - 1
    rows = xp.arange(flat.shape[0])
    for j in range(piv.shape[-1]):
        here = flat[:, j].copy()
        flat[:, j] = flat[rows, piv[:, j]]
        flat[rows, piv[:, j]] = here
    return (xp.arange(m)[:, None] == perm[..., None, :]).astype(dtype)


def _unpack_data(lu):
    """``L`` (unit lower, m x k) and ``U`` (upper, k x n) of a factor tensor, differentiable in it."""
    m, n = lu.shape[-2:]
    k = min(m, n)
    low = lu.tril(-1) if k == n else lu[..., :k].tril(-1)
    up = lu.triu() if k == m else lu[..., :k, :].triu()
    return low + eye(m, k, dtype=lu.dtype, device=lu.device), up


def _lu_backward(p, low, up, g_low, g_up):
    """PyTorch's ``linalg_lu_backward``: the gradient of ``A = P L U`` from those of ``L`` (m x k, strictly lower)
    and ``U`` (k x n, upper), all tensors."""
    m, n = low.shape[-2], up.shape[-1]
    k = min(m, n)
    if m <= n:  # square or wide: A = P L [U1 | U2]
        u1, g_u1 = (up, g_up) if k == n else (up[..., :k], g_up[..., :k])
        g = (low.mT @ g_low - g_up @ up.mT).tril(-1)
        g = _right_solve(u1, g, upper=True) + g_u1
        if k < n:
            g = cat([g, g_up[..., k:]], -1)
        g = SolveTriangular.apply(low.mT, g, upper=True, unit=True)
    else:  # tall: A = P [L1; L2] U
        l1, g_l1 = low[..., :k, :], g_low[..., :k, :]
        g = (g_up @ up.mT - low.mT @ g_low).triu()
        g = SolveTriangular.apply(l1.mT, g, upper=True, unit=True)
        g = _right_solve(up, cat([g + g_l1, g_low[..., k:, :]], -2), upper=True)
    return p @ g


def _right_solve(t, b, upper):
    """``b t^-T`` for triangular ``t``."""
    return SolveTriangular.apply(t, b.mT, upper=upper).mT


class ColumnLoop(Implementation):
    """``getrf`` above, on any device and shape."""

    name = "generic"

    @staticmethod
    def getrf(a):
        return getrf(xp_of(a), a)


class CompiledLU(ColumnLoop):
    """``lu_kernels.getrf`` for host stacks of small square float matrices: one compiled loop over the stack,
    where the column loop makes a few whole-batch passes per column."""

    name = "numba"

    @staticmethod
    def applies(a, **options):
        return lu_kernels.takes(a)

    getrf = staticmethod(lu_kernels.getrf)


class LUFactor(Op):
    """``(LU, pivots, info)``; the gradient of ``LU`` is that of its parts ``L`` and ``U``."""

    __slots__ = ("lu", "pivots")
    _name = "LinalgLuFactorExBackward0"
    saves = 2
    num_outputs = 3
    implementations = (CompiledLU, ColumnLoop)

    def forward(self, a):
        self.lu, self.pivots, info = self._impl.getrf(a)
        return self.lu, self.pivots, info

    def backward(self, g, g_pivots=None, g_info=None):
        return array_backward(self, (g,))

    def backward_graph(self, g, g_pivots=None, g_info=None):
        lu = self.saved_output(self.lu)
        m, n = lu.shape[-2:]
        k = min(m, n)
        low, up = _unpack_data(lu)
        g_low = g.tril(-1) if k == n else g[..., :k].tril(-1)
        g_up = g.triu() if k == m else g[..., :k, :].triu()
        p = make_tensor(permutation(xp_of(self.pivots), self.pivots, m, self.lu.dtype), lu.device)
        return (_lu_backward(p, low, up, g_low, g_up),)


def _check_lu_input(name, A, pivot):
    if A._data.ndim < 2:
        prefix = "linalg.lu" if name == "linalg.lu" else "torch.lu_factor"
        raise RuntimeError(f"{prefix}: Expected tensor with 2 or more dimensions. Got size: {list(A.shape)} "
                           "instead")
    if A._data.dtype.kind != "f":
        raise NotImplementedError(f'"lu_cpu" not implemented for \'{legacy_name(A._data.dtype)}\'')
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    _check_lu_input("linalg.lu_factor", A, pivot)
    lu, pivots, info = LUFactor.apply(A)
    if check_errors:
        _raise_singular("torch.linalg.lu_factor_ex", info)
    return return_types.linalg_lu_factor_ex(lu, pivots, info)


def lu_factor(A, *, pivot=True):
    """``(LU, pivots)``; a matrix with a zero pivot is refused, as PyTorch (``lu_factor_ex`` returns it)."""
    _check_lu_input("linalg.lu_factor", A, pivot)
    lu, pivots, info = LUFactor.apply(A)
    _raise_singular("torch.linalg.lu_factor", info)
    return return_types.linalg_lu_factor(lu, pivots)


def _raise_singular(name, info):
    host = to_host(info._data)
    if host.any():
        index = np.unravel_index(int(np.argmax(host != 0)), host.shape)
        k = int(host[index])
        raise LinAlgError(f"{name}: {batch_prefix(index, host.shape)}U[{k},{k}] is zero and using it on lu_solve "
                          "would result in a division by zero. If you still want to perform the factorization, "
                          "consider calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """``(P, L, U)`` of ``A = P L U`` from ``lu_factor``'s result; what is not unpacked comes back empty."""
    empty = LU_data.reshape(-1)[:0]  # in LU_data's graph, as PyTorch's
    low, up = _unpack_data(LU_data) if unpack_data else (empty, empty)
    p = LU_data.new_empty(0)
    if unpack_pivots:
        pivots = LU_pivots._data
        p = make_tensor(permutation(xp_of(pivots), pivots, LU_data.shape[-2], LU_data._data.dtype), LU_data.device)
    return return_types.lu_unpack(p, low, up)


def lu(A, *, pivot=True):
    """``(P, L, U)`` with ``A = P L U``; singular matrices are factorized too."""
    _check_lu_input("linalg.lu", A, pivot)
    lu_data, pivots, _ = LUFactor.apply(A)
    return return_types.linalg_lu(*lu_unpack(lu_data, pivots))


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """``A X = B`` (``X A = B`` when not ``left``, ``A^T`` for ``A`` when ``adjoint``) from ``A``'s LU factors,
    through two triangular solves: differentiable in ``LU`` and ``B``."""
    name = "linalg.lu_solve"
    if LU._data.ndim < 2 or LU.shape[-1] != LU.shape[-2]:
        raise RuntimeError(f"torch.{name}: A must be batches of square matrices, but they are "
                           f"{LU.shape[-2]} by {LU.shape[-1]} matrices")
    if B._data.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor B must have at least 2 dimensions.")
    n = LU.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation {'AX' if left else 'XA'} = B "
                           f"({n}x{n} and {B.shape[-2]}x{B.shape[-1]})")
    if LU._data.dtype != B._data.dtype:
        raise RuntimeError(f"{name}: Expected LU and B to have the same dtype, but found LU of type "
                           f"{legacy_name(LU._data.dtype)} and B of type {legacy_name(B._data.dtype)} instead")
    if not left:
        return lu_solve(LU, pivots, B.mT, adjoint=not adjoint).mT
    p, low, up = lu_unpack(LU, pivots)
    if adjoint:  # A^T = U^T L^T P^T
        x = SolveTriangular.apply(up.mT, B, upper=False)
        return p @ SolveTriangular.apply(low.mT, x, upper=True, unit=True)
    x = SolveTriangular.apply(low, p.mT @ B, upper=False, unit=True)
    return SolveTriangular.apply(up, x, upper=True)
