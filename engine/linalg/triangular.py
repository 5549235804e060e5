"""solve_triangular: ``A X = B`` (or ``X A = B``) for triangular ``A`` by substitution, one row at a time.

Substitution reads only A's triangle and divides by its diagonal, so a zero on the diagonal gives inf/NaN
rather than an error, as PyTorch's (LAPACK's trsm) does.
"""

import numpy as np

from ..ops.op import Op, sum_to, unbroadcast, xp_of
from ..ops.shape import mT
from ..threads import cpu_matmul
from .checks import check_float


def _substitute(xp, a, b, upper, unit):
    n = a.shape[-1]
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    x = xp.zeros((*batch, n, b.shape[-1]), dtype=b.dtype)
    for i in range(n - 1, -1, -1) if upper else range(n):
        done = slice(i + 1, n) if upper else slice(0, i)
        row = b[..., i, :] - cpu_matmul(a[..., i:i + 1, done], x[..., done, :])[..., 0, :]
        x[..., i, :] = row if unit else row / a[..., i, i][..., None]
    return x


class SolveTriangular(Op):
    __slots__ = ("a", "a_shape", "b_shape", "out", "unit", "upper")
    _name = "LinalgSolveTriangularBackward0"
    saves = 3

    def forward(self, a, b, upper=False, unit=False):
        self.a, self.upper, self.unit = a, upper, unit
        self.a_shape, self.b_shape = a.shape, b.shape
        self.out = _substitute(xp_of(a), a, b, upper, unit)
        return self.out

    def backward(self, g):
        xp = xp_of(g)
        ea, eb = self._edges
        gb = _substitute(xp, self.a.swapaxes(-1, -2), g, not self.upper, self.unit)
        ga = None
        if ea is not None:
            full = -cpu_matmul(gb, self.out.swapaxes(-1, -2))
            offset = int(self.unit)
            ga = unbroadcast(xp.triu(full, offset) if self.upper else xp.tril(full, -offset), self.a_shape)
        return ga, None if eb is None else unbroadcast(gb, self.b_shape)

    def backward_graph(self, g):
        ea, eb = self._edges
        gb = SolveTriangular.apply(self.saved_input(0, self.a).mT, g, upper=not self.upper, unit=self.unit)
        ga = None
        if ea is not None:
            full = -(gb @ self.saved_output(self.out).mT)
            offset = int(self.unit)
            ga = sum_to(full.triu(offset) if self.upper else full.tril(-offset), self.a_shape)
        return ga, None if eb is None else sum_to(gb, self.b_shape)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    name = "linalg.solve_triangular"
    for label, t in (("A", A), ("B", B)):
        if t._data.ndim < 2:
            raise RuntimeError(f"{name}: The input tensor {label} must have at least 2 dimensions.")
        check_float(name, t)
    n = A.shape[-1]
    rows = B.shape[-2] if left else B.shape[-1]
    if A.shape[-2] != n or rows != n:
        shape = f"{B.shape[-2]}x{B.shape[-1]}"
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation {'AX' if left else 'XA'} = B "
                           f"({A.shape[-2]}x{n} and {shape})")
    if not left:
        return mT(SolveTriangular.apply(mT(A), mT(B), upper=not upper, unit=unitriangular))
    return SolveTriangular.apply(A, B, upper=upper, unit=unitriangular)
