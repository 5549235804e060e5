"""The pseudo-inverse (pinv, pinverse): forward from the SVD (eigh when hermitian), backward by PyTorch's formula
on A and pinv(A), which stays finite for rank-deficient A (differentiating through the SVD would divide by the
gaps between repeated zero singular values)."""

import numpy as np

from ..dtypes import legacy_name
from ..ops.op import Op, xp_of
from ..ops.shape import mT
from ..threads import cpu_matmul


def _t(a):
    return a.swapaxes(-1, -2)


class Pinv(Op):
    __slots__ = ("a", "out")
    _name = "LinalgPinvBackward0"
    saves = 3

    def forward(self, a, atol=0.0, rtol=0.0, hermitian=False):
        xp = xp_of(a)
        if hermitian:
            values, u = xp.linalg.eigh(a)
            vh = _t(u)
            size = xp.abs(values)
        else:
            u, values, vh = xp.linalg.svd(a, full_matrices=False)
            size = values
        keep = size > xp.maximum(atol, rtol * size.max(axis=-1, keepdims=True))
        inverse = xp.where(keep, 1 / xp.where(keep, values, 1), 0)
        self.a = a
        self.out = cpu_matmul(_t(vh) * inverse[..., None, :], _t(u))
        return self.out

    def backward(self, g):
        a, p = self.a, self.out
        pt, gt = _t(p), _t(g)
        grad = -cpu_matmul(cpu_matmul(pt, g), pt)
        grad = grad + cpu_matmul(gt - cpu_matmul(a, cpu_matmul(p, gt)), cpu_matmul(p, pt))
        return (grad + cpu_matmul(cpu_matmul(pt, p), gt - cpu_matmul(cpu_matmul(gt, p), a)),)

    def backward_graph(self, g):
        a, p = self.saved_input(0, self.a), self.saved_output(self.out)
        pt, gt = p.mT, g.mT
        grad = -(pt @ g @ pt) + (gt - a @ (p @ gt)) @ (p @ pt)
        return (grad + (pt @ p) @ (gt - gt @ p @ a),)


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """Singular values (|eigenvalues| when ``hermitian``) at or below ``max(atol, rtol * largest)`` are dropped;
    ``rtol`` defaults to ``eps * max(m, n)`` when ``atol`` is not given (positive); both are numbers."""
    if A._data.ndim < 2 or A._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.pinv({legacy_name(A._data.dtype)}{{{list(A.shape)}}}): "
                           "expected a tensor with 2 or more dimensions of float, double, cfloat or cdouble types")
    m, n = A.shape[-2:]
    if m == 0 or n == 0:
        return mT(A) * 0
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else float(np.finfo(A._data.dtype).eps) * max(m, n)
    return Pinv.apply(A, atol=0.0 if atol is None else float(atol), rtol=float(rtol), hermitian=hermitian)


def pinverse(input, rcond=1e-15):
    """``torch.pinverse`` and ``Tensor.pinverse``: ``pinv`` with ``rcond`` as its ``rtol``."""
    return pinv(input, rtol=rcond)
