"""BLAS-style products with a scaled accumulator (addmm, addmv, addbmm, baddbmm, and in place), pairwise
distances (cdist) and the cross product, built on matmul's ops."""

import warnings

import numpy as np

from ..backend import CPU, Implementation, choose, is_host
from ..creation import ones_like
from ..dtypes import FLOAT_KINDS, bool_, legacy_name
from ..tensor import Tensor, wrap_dim
from ..threads import PRODUCT_MIN_MACS, cpu_map, cpu_shares
from . import gemm
from .elementwise import where
from .inplace import apply_inplace
from .matmul import bmm, matmul, mm, mv
from .op import Op, autocast_inputs, sum_to, unbroadcast, untracked, xp_of
from .reduce import Norm, constant
from .shape import cat

_new = object.__new__


def _accumulate(input, product, beta, alpha, mat):
    """``beta * input + alpha * product``, ``input`` broadcast to the product; with ``beta == 0`` it is ignored
    (its NaN and inf do not propagate; its gradient is zero), as PyTorch."""
    if input._data.dtype != mat._data.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {legacy_name(input._data.dtype)} and "
                           f"{legacy_name(mat._data.dtype)}")
    base = input.expand(*product.shape)
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        return where(input.new_zeros((), dtype=bool_), base, product)
    return product + (base if beta == 1 else base * beta)


def _scale_add(out, input, beta, alpha):
    """``out = alpha * out + beta * input`` in place; with ``beta == 0`` the input is ignored, NaN and inf
    included."""
    if alpha != 1:
        out *= alpha
    if beta == 1:
        out += input
    elif beta != 0:
        out += input * beta


class _Product(Implementation):
    """The product (threaded by rows for large host matrices), then the scaled input added in place."""

    name = "generic"

    @staticmethod
    def accumulate(input, m1, m2, beta, alpha):
        out = gemm.matmul(m1, m2)
        _scale_add(out, input, beta, alpha)
        return out


class _StackShares(_Product):
    """Host stacks of matrices (baddbmm): NumPy multiplies a stack's matrices one after another on one core,
    so the stack is split over the CPU threads, each share also scaling and adding its part of the input."""

    name = "threads"

    @staticmethod
    def applies(input, m1, m2, **options):
        return m1.ndim == 3 and m1.shape[0] > 1 and is_host(m1)

    @staticmethod
    def accumulate(input, m1, m2, beta, alpha):
        out = np.empty((m1.shape[0], m1.shape[1], m2.shape[2]), dtype=m1.dtype)

        def share(bounds):
            lo, hi = bounds
            part = out[lo:hi]
            np.matmul(m1[lo:hi], m2[lo:hi], out=part)
            _scale_add(part, input[lo:hi], beta, alpha)

        cpu_map(share, cpu_shares(m1.shape[0], out.size * m1.shape[2], PRODUCT_MIN_MACS))
        return out


class Addmm(Op):
    """``beta * input + alpha * (mat1 @ mat2)`` as one node, for a float ``input`` of the product's shape: the
    product's fresh array takes the scaling and the sum in place (three graph nodes and two temporaries
    fewer than the composition, which serves the other cases)."""

    __slots__ = ("alpha", "beta", "m1", "m2")
    _name = "AddmmBackward0"
    saves = 1
    implementations = (_StackShares, _Product)

    def forward(self, input, m1, m2, beta=1, alpha=1):
        self.m1, self.m2, self.beta, self.alpha = m1, m2, beta, alpha
        return self._impl.accumulate(input, m1, m2, beta, alpha)

    def backward(self, g):
        e0, e1, e2 = self._edges
        gi = None
        if e0 is not None:
            gi = g if self.beta == 1 else xp_of(g).zeros_like(g) if self.beta == 0 else g * self.beta
        scaled = g if self.alpha == 1 else g * self.alpha
        g1 = None if e1 is None else gemm.matmul(scaled, self.m2.swapaxes(-1, -2))
        g2 = None if e2 is None else gemm.matmul(self.m1.swapaxes(-1, -2), scaled)
        return gi, g1, g2

    def backward_graph(self, g):
        e0, e1, e2 = self._edges
        gi = None if e0 is None else g if self.beta == 1 else g * self.beta
        scaled = g if self.alpha == 1 else g * self.alpha
        g1 = None if e1 is None else scaled.matmul(self.saved_input(2, self.m2).mT)
        g2 = None if e2 is None else self.saved_input(1, self.m1).mT.matmul(scaled)
        return gi, g1, g2


class Baddbmm(Addmm):
    __slots__ = ()
    _name = "BaddbmmBackward0"


def _fused(input, a, b):
    """Whether ``Addmm``'s single node takes the call: float operands of one dtype (after autocast's cast), and
    ``input`` of the product's shape."""
    x, m1, m2 = input._data, a._data, b._data
    return (x.dtype.kind in FLOAT_KINDS and x.dtype == m1.dtype == m2.dtype
            and x.shape == (*m1.shape[:-1], m2.shape[-1]) and m1.shape[-1] == m2.shape[-2]
            and m1.shape[:-2] == m2.shape[:-2])


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    input, mat1, mat2 = autocast_inputs(Addmm, input, mat1, mat2)
    if mat1._data.ndim == 2 and mat2._data.ndim == 2 and _fused(input, mat1, mat2):
        return Addmm.apply(input, mat1, mat2, beta=beta, alpha=alpha)
    return _accumulate(input, mm(mat1, mat2), beta, alpha, mat2)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    return _accumulate(input, mv(mat, vec), beta, alpha, vec)


def _untracked_stacks(input, batch1, batch2):
    """The arrays of a ``baddbmm`` that ``Baddbmm``'s node may skip, else None: host float32/64 stacks of one dtype
    whose product has ``input``'s shape (``_fused``'s test, without its slicing), ``untracked``."""
    x, m1, m2 = input._data, batch1._data, batch2._data
    if m1.ndim != 3 or m2.ndim != 3:
        return None
    dt = x.dtype
    b1, n1, k1 = m1.shape
    b2, k2, p2 = m2.shape
    if (dt in _FLOAT32_64 and dt == m1.dtype == m2.dtype and x.shape == (b1, n1, p2) and k1 == k2 and b1 == b2
            and untracked(input, batch1, batch2)):
        return x, m1, m2
    return None


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    input, batch1, batch2 = autocast_inputs(Baddbmm, input, batch1, batch2)
    arrays = _untracked_stacks(input, batch1, batch2)
    if arrays is not None:
        # The implementation that ``Baddbmm.apply`` would run, without the node (over half the call at 1x32x32)
        t = _new(Tensor)
        t._data = choose(Baddbmm.implementations, arrays, {}).accumulate(*arrays, beta, alpha)
        t._device = CPU
        return t
    if batch1._data.ndim == 3 and batch2._data.ndim == 3 and _fused(input, batch1, batch2):
        return Baddbmm.apply(input, batch1, batch2, beta=beta, alpha=alpha)
    return _accumulate(input, bmm(batch1, batch2), beta, alpha, batch2)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    if batch1._data.ndim == 3 and batch2._data.ndim == 3 and batch1.shape[0] != batch2.shape[0]:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got {batch1.shape[0]} and "
                           f"{batch2.shape[0]}")
    return _accumulate(input, bmm(batch1, batch2).sum(0), beta, alpha, batch2)


def _accumulate_(op, self, a, b, beta, alpha):
    """``op`` in place: PyTorch refuses a ``self`` that would only broadcast to the result."""

    def run(s, x, y):
        out = op(s, x, y, beta=beta, alpha=alpha)
        if out.shape != s.shape:
            raise RuntimeError(f"Bad in-place call: input tensor size {list(s.shape)} and output tensor size "
                               f"{list(out.shape)} should match")
        return out

    return apply_inplace(self, run, a, b)


def addmm_(self, mat1, mat2, *, beta=1, alpha=1):
    return _accumulate_(addmm, self, mat1, mat2, beta, alpha)


def addmv_(self, mat, vec, *, beta=1, alpha=1):
    return _accumulate_(addmv, self, mat, vec, beta, alpha)


def addbmm_(self, batch1, batch2, *, beta=1, alpha=1):
    return _accumulate_(addbmm, self, batch1, batch2, beta, alpha)


def baddbmm_(self, batch1, batch2, *, beta=1, alpha=1):
    return _accumulate_(baddbmm, self, batch1, batch2, beta, alpha)


_FLOAT32_64 = (np.dtype(np.float32), np.dtype(np.float64))
_COMPUTE_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")
_MM_ROWS = 25  # PyTorch's threshold: above it, Euclidean distances come from one matrix product


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The ``p``-norm distance between each row of ``x1`` and each row of ``x2`` (batched). Euclidean distances
    of more than 25 rows (or always, with ``use_mm_for_euclid_dist``) come from a matrix product as in PyTorch,
    ``|a|^2 - 2 a.b + |b|^2``, instead of the (..., n, m, d) difference tensor."""
    if compute_mode not in _COMPUTE_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    for name, x in (("X1", x1), ("X2", x2)):
        if x._data.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {x._data.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if x1._data.dtype.kind != "f" or x2._data.dtype.kind != "f":
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {legacy_name(x1._data.dtype)}")
    rows = max(x1.shape[-2], x2.shape[-2])
    if p == 2 and (compute_mode == "use_mm_for_euclid_dist"
                   or (compute_mode == _COMPUTE_MODES[0] and rows > _MM_ROWS)):
        return _euclidean_by_matmul(x1, x2)
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return Norm.apply(diff, p=float(p), dims=(diff._data.ndim - 1,), keepdim=False)


_FLOOR = 1e-30  # PyTorch's clamp of squared distances before the square root


class EuclideanDistance(Op):
    """``_euclidean_by_matmul`` as one node for float32/float64 rows: the product ``a.b`` takes ``-2``, the
    squared norms and the clamp in place, and the backward is two products (a dozen graph nodes and their
    whole-size temporaries fewer)."""

    __slots__ = ("out", "x1", "x2")
    _name = "CdistBackward0"
    saves = 3

    def forward(self, x1, x2):
        xp = xp_of(x1)
        self.x1, self.x2 = x1, x2
        d2 = xp.matmul(x1, x2.swapaxes(-1, -2))
        d2 *= -2
        d2 += (x1 * x1).sum(-1)[..., :, None]
        d2 += (x2 * x2).sum(-1)[..., None, :]
        xp.maximum(d2, _FLOOR, out=d2)
        self.out = xp.sqrt(d2, out=d2)
        return self.out

    def _unclamped(self):
        """Where the clamp let the squared distance through (its gradient is zero elsewhere)."""
        return self.out > xp_of(self.out).sqrt(self.out.dtype.type(_FLOOR))

    def backward(self, g):
        xp = xp_of(g)
        x1, x2 = self.x1, self.x2
        half = xp.where(self._unclamped(), g / self.out, 0)  # d out / d d2 = 1 / (2 out); d2 brings the 2 back
        e1, e2 = self._edges
        g1 = None if e1 is None else unbroadcast(
            x1 * half.sum(-1)[..., None] - xp.matmul(half, x2), x1.shape)
        g2 = None if e2 is None else unbroadcast(
            x2 * half.sum(-2)[..., None] - xp.matmul(half.swapaxes(-1, -2), x1), x2.shape)
        return g1, g2

    def backward_graph(self, g):
        x1, x2 = self.saved_input(0, self.x1), self.saved_input(1, self.x2)
        half = g * constant(self._unclamped().astype(self.out.dtype), g) / self.saved_output(self.out)
        e1, e2 = self._edges
        g1 = None if e1 is None else sum_to(x1 * half.sum(-1, keepdim=True) - half.matmul(x2), x1.shape)
        g2 = None if e2 is None else sum_to(x2 * half.sum(-2).unsqueeze(-1) - half.mT.matmul(x1), x2.shape)
        return g1, g2


def _euclidean_by_matmul(x1, x2):
    """PyTorch's ``_euclidean_dist``: one product of ``[-2a, |a|^2, 1]`` with ``[b, 1, |b|^2]``, clamped at 1e-30
    before the square root (so the gradient stays finite where two rows coincide)."""
    if x1._data.dtype == x2._data.dtype and x1._data.dtype in _FLOAT32_64:
        return EuclideanDistance.apply(x1, x2)
    n1, n2 = x1.pow(2).sum(-1, keepdim=True), x2.pow(2).sum(-1, keepdim=True)
    left = cat([x1 * -2, n1, ones_like(n1)], dim=-1)
    right = cat([x2, ones_like(n2), n2], dim=-1)
    return matmul(left, right.mT).clamp(min=_FLOOR).sqrt()


class Cross(Op):
    __slots__ = ("a", "a_shape", "axis", "b", "b_shape")
    _name = "LinalgCrossBackward0"
    saves = 1

    def forward(self, a, b, axis=-1):
        self.a, self.b, self.axis = a, b, axis
        self.a_shape, self.b_shape = a.shape, b.shape
        return xp_of(a).cross(a, b, axis=axis)

    def backward(self, g):
        xp = xp_of(g)
        ea, eb = self._edges
        ga = None if ea is None else unbroadcast(xp.cross(self.b, g, axis=self.axis), self.a_shape)
        gb = None if eb is None else unbroadcast(xp.cross(g, self.a, axis=self.axis), self.b_shape)
        return ga, gb

    def backward_graph(self, g):
        ea, eb = self._edges
        ga = None if ea is None else sum_to(Cross.apply(self.saved_input(1, self.b), g, axis=self.axis), self.a_shape)
        gb = None if eb is None else sum_to(Cross.apply(g, self.saved_input(0, self.a), axis=self.axis), self.b_shape)
        return ga, gb


def linalg_cross(input, other, *, dim=-1, name="linalg.cross"):
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"{name}: expected input and other to have the same dtype, but got "
                           f"{legacy_name(input._data.dtype)} and {legacy_name(other._data.dtype)}")
    if input._data.ndim != other._data.ndim:
        raise RuntimeError(f"{name}: inputs must have the same number of dimensions.")
    shape = np.broadcast_shapes(input.shape, other.shape)
    axis = wrap_dim(dim, len(shape))
    if input.shape[axis] != 3 or other.shape[axis] != 3:
        raise RuntimeError(f"{name}: inputs dimension {dim} must have length 3. Got {input.shape[axis]} and "
                           f"{other.shape[axis]}")
    return Cross.apply(input, other, axis=axis)


def cross(input, other, dim=None):
    """``torch.cross``: without ``dim``, the first dimension of size 3 (deprecated in PyTorch, which warns)."""
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.", UserWarning, stacklevel=2)
        shape = np.broadcast_shapes(input.shape, other.shape)
        dim = next((i for i, n in enumerate(shape) if n == 3), -1)
    return linalg_cross(input, other, dim=dim)
