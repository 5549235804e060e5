"""linalg.matrix_exp: the degree-13 Pade approximant with scaling and squaring (Higham 2005), per matrix of a
batch; its gradient is the upper-right block of the exponential of ``[[A^T, G], [0, A^T]]`` (PyTorch's), an
exponential again, so higher derivatives follow."""

import numpy as np

from ..ops.op import Op, xp_of
from ..ops.shape import cat
from ..threads import cpu_matmul
from .checks import check_matrix

_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0, 129060195264000.0,
           10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0,
           1.0)
_THETA13 = 5.371920351148152  # the largest 1-norm for which the degree-13 approximant is accurate in float64


def expm(xp, a):
    """``exp(a)`` for a batch of square matrices: scaled to 1-norm at most theta, approximated, squared back."""
    n = a.shape[-1]
    if n == 0 or a.size == 0:
        return a.copy()
    norm = xp.abs(a).sum(axis=-2).max(axis=-1)
    squarings = xp.maximum(0, xp.ceil(xp.log2(xp.maximum(norm, 1e-300) / _THETA13))).astype(np.int64)
    a = a / (2.0 ** squarings).astype(a.dtype)[..., None, None]
    b = _PADE13
    ident = xp.eye(n, dtype=a.dtype)
    a2 = cpu_matmul(a, a)
    a4 = cpu_matmul(a2, a2)
    a6 = cpu_matmul(a4, a2)
    u = cpu_matmul(a, cpu_matmul(a6, b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2
                   + b[1] * ident)
    v = cpu_matmul(a6, b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * ident
    out = xp.linalg.solve(v - u, v + u)
    for i in range(int(squarings.max()) if squarings.size else 0):
        out = xp.where((squarings > i)[..., None, None], cpu_matmul(out, out), out)
    return out


class MatrixExp(Op):
    __slots__ = ("a",)
    _name = "LinalgMatrixExpBackward0"
    saves = 1

    def forward(self, a):
        self.a = a
        return expm(xp_of(a), a)

    def backward(self, g):
        xp = xp_of(g)
        at = self.a.swapaxes(-1, -2)
        n = at.shape[-1]
        block = xp.concatenate([xp.concatenate([at, g], axis=-1),
                                xp.concatenate([xp.zeros_like(at), at], axis=-1)], axis=-2)
        return (expm(xp, block)[..., :n, n:],)

    def backward_graph(self, g):
        at = self.saved_input(0, self.a).mT
        n = at.shape[-1]
        block = cat([cat([at, g], -1), cat([at.new_zeros(at.shape), at], -1)], -2)
        return (MatrixExp.apply(block)[..., :n, n:],)


def matrix_exp(A):
    check_matrix("linalg.matrix_exp", A)
    return MatrixExp.apply(A)
