"""Inverses and determinants: inv, det, slogdet, solve, matrix_power, with PyTorch's analytic backward."""

import math

import numpy as np

from .. import return_types
from ..creation import eye
from ..dtypes import bool_, legacy_name
from ..ops.elementwise import where
from ..ops.matmul import matmul
from ..ops.op import Op, sum_to, unbroadcast, xp_of
from ..ops.shape import mT, stack
from ..threads import cpu_batched, cpu_matmul
from .checks import check_matrix
from .factorizations import SVD
from .solvers import SOLVERS


def _t(a):
    return a.swapaxes(-1, -2)


class Inv(Op):
    __slots__ = ("out",)
    _name = "LinalgInvExBackward0"
    saves = 2
    implementations = SOLVERS

    def forward(self, a):
        self.out = self._impl.inv(a)
        return self.out

    def backward(self, g):
        y = _t(self.out)
        return (-cpu_matmul(cpu_matmul(y, g), y),)

    def backward_graph(self, g):
        y = self.saved_output(self.out).mT
        return (-(y @ g @ y),)


class Det(Op):
    __slots__ = ("a", "factors", "out")
    _name = "LinalgDetBackward0"
    saves = 3
    implementations = SOLVERS

    def forward(self, a):
        self.a = a
        self.out, self.factors = self._impl.det(a)
        return self.out

    def backward(self, g):
        xp = xp_of(g)
        if bool((self.out == 0).any()):
            return (g[..., None, None] * _adjugate_t(xp, self.a),)
        return ((g * self.out)[..., None, None] * _t(self._impl.inv_of(self.factors)),)

    def backward_graph(self, g):
        a = self.saved_input(0, self.a)
        if bool((self.out == 0).any()):
            return (g[..., None, None] * _adjugate_t_graph(a),)
        return ((g * self.saved_output(self.out))[..., None, None] * Inv.apply(a).mT,)


def _adjugate_t(xp, a):
    """The transposed adjugate, ``d det(A) / dA``, from the SVD ``A = U S Vh`` as ``det(U) det(Vh) U diag(s^) Vh``
    with ``s^_i`` the product of the other singular values: finite for singular matrices too. Only batches with a
    singular matrix take it (an SVD costs 15 times an LU), as in PyTorch; the others use ``det(A) A^-T``."""
    if a.shape[-1] == 0:
        return xp.zeros_like(a)
    u, s, vh = xp.linalg.svd(a)
    ones = xp.ones_like(s[..., :1])
    before = xp.cumprod(xp.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
    after = xp.flip(xp.cumprod(xp.concatenate([ones, xp.flip(s[..., 1:], axis=-1)], axis=-1), axis=-1), axis=-1)
    sign = xp.linalg.det(u) * xp.linalg.det(vh)
    return sign[..., None, None] * cpu_matmul(u * (before * after)[..., None, :], vh)


def _adjugate_t_graph(a):
    """``_adjugate_t`` in differentiable ops, for a double backward at a singular matrix."""
    n = a.shape[-1]
    if n == 0:
        return a * 0
    u, s, vh = SVD.apply(a)
    columns = [s[..., i] for i in range(n)]
    before, after = [s[..., 0] * 0 + 1], [s[..., 0] * 0 + 1]
    for i in range(n - 1):
        before.append(before[-1] * columns[i])
        after.append(after[-1] * columns[n - 1 - i])
    others = stack([b * c for b, c in zip(before, reversed(after))], -1)
    sign = Det.apply(u) * Det.apply(vh)
    return sign[..., None, None] * ((u * others[..., None, :]) @ vh)


class Slogdet(Op):
    __slots__ = ("a",)
    _name = "LinalgSlogdetBackward0"
    saves = 1
    num_outputs = 2
    implementations = SOLVERS

    def forward(self, a):
        self.a = a
        sign, logabs = cpu_batched(xp_of(a).linalg.slogdet, a)
        return sign.astype(a.dtype), logabs.astype(a.dtype)

    def backward(self, g_sign, g_logabs):
        if g_logabs is None:
            return (None,)
        return (g_logabs[..., None, None] * _t(self._impl.inv(self.a)),)

    def backward_graph(self, g_sign, g_logabs):
        if g_logabs is None:
            return (None,)
        return (g_logabs[..., None, None] * Inv.apply(self.saved_input(0, self.a)).mT,)


class Solve(Op):
    """``A X = B`` for B a batch of matrices (vectors arrive here as one-column matrices), batches broadcast."""

    __slots__ = ("a", "b_shape", "factors", "out")
    _name = "LinalgSolveExBackward0"
    saves = 3
    implementations = SOLVERS

    def forward(self, a, b):
        xp = xp_of(a)
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        self.a, self.b_shape = a, b.shape
        self.out, self.factors = self._impl.solve(xp.broadcast_to(a, (*batch, *a.shape[-2:])),
                                                  xp.broadcast_to(b, (*batch, *b.shape[-2:])))
        return self.out

    def backward(self, g):
        ea, eb = self._edges
        gb = self._impl.solve_transposed(self.factors, g)
        ga = None if ea is None else unbroadcast(-cpu_matmul(gb, _t(self.out)), self.a.shape)
        return ga, None if eb is None else unbroadcast(gb, self.b_shape)

    def backward_graph(self, g):
        ea, eb = self._edges
        gb = Solve.apply(self.saved_input(0, self.a).mT, g)
        ga = None if ea is None else sum_to(-(gb @ self.saved_output(self.out).mT), self.a.shape)
        return ga, None if eb is None else sum_to(gb, self.b_shape)


def inv(A):
    check_matrix("linalg.inv", A)
    return Inv.apply(A)


def det(A):
    check_matrix("linalg.det", A)
    return Det.apply(A)


def slogdet(A):
    check_matrix("linalg.slogdet", A)
    return return_types.linalg_slogdet(*Slogdet.apply(A))


def logdet(input):
    """``log(det(A))``: NaN for a negative determinant, as PyTorch."""
    sign, logabs = slogdet(input)
    return logabs.masked_fill(sign < 0, math.nan)


def solve(A, B, *, left=True):
    if not left:
        return mT(solve(mT(A), mT(B)))
    check_matrix("linalg.solve", A)
    a, b = A._data.shape, B._data.shape
    n = a[-1]
    vector = len(b) == 1 or (len(b) == len(a) - 1 and b == a[:-1])
    rows = b[-1] if vector else b[-2]
    if rows != n:
        cols = 1 if vector else b[-1]
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B ({n}x{n} and "
                           f"{rows}x{cols})")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{legacy_name(A._data.dtype)} and B of type {legacy_name(B._data.dtype)} instead")
    if vector:
        return Solve.apply(A, B.unsqueeze(-1)).squeeze(-1)
    return Solve.apply(A, B)


def matrix_power(A, n):
    """``A`` multiplied by itself ``n`` times by repeated squaring; ``inv(A)`` powers for negative ``n``."""
    check_matrix("linalg.matrix_power", A, floating=False)
    if n == 0:  # the identity, still in A's graph (a zero gradient), whatever A holds (inf, NaN)
        return where(A.new_zeros((), dtype=bool_), A, eye(A.shape[-1], dtype=A.dtype, device=A.device))
    if n < 0:
        A, n = inv(A), -n
    if n == 1:
        return A.clone()
    result = None
    while n:
        if n & 1:
            result = A if result is None else matmul(result, A)
        n >>= 1
        if n:
            A = matmul(A, A)
    return result
