"""Factorizations: cholesky, qr, svd (and svdvals), eigh (and eigvalsh), with PyTorch's analytic backward; also
the older spellings torch.cholesky, torch.qr and torch.svd.

The SVD and eigh gradients assume distinct singular values / eigenvalues (PyTorch's too); on a real matrix the
sign of each singular or eigen vector is arbitrary, so only functions invariant to those signs have stable
gradients.
"""

import warnings

from .. import return_types
from ..ops.op import Op, xp_of
from ..ops.shape import cat, mT
from ..threads import cpu_matmul
from .checks import check_matrix
from .solvers import SOLVERS
from .triangular import SolveTriangular


def _t(a):
    return a.swapaxes(-1, -2)


def _mm(a, b):
    return cpu_matmul(a, b)


def _diag_embed(xp, v):
    return v[..., :, None] * xp.eye(v.shape[-1], dtype=v.dtype)


class Cholesky(Op):
    __slots__ = ("out", "upper")
    _name = "LinalgCholeskyExBackward0"
    saves = 2
    implementations = SOLVERS

    def forward(self, a, upper=False):
        self.upper = upper
        low = self._impl.cholesky(a)
        self.out = _t(low).copy() if upper else low
        return self.out

    def backward(self, g):
        xp = xp_of(g)
        low = self.out
        if self.upper:
            low, g = _t(low), _t(g)
        phi = xp.tril(_mm(_t(low), g))
        phi = 0.5 * (phi + _t(xp.tril(phi, -1)))
        inv_low = self._impl.inv_lower(low)
        return (_mm(_mm(_t(inv_low), phi), inv_low),)

    def backward_graph(self, g):
        low = self.saved_output(self.out)
        if self.upper:
            low, g = low.mT, g.mT
        phi = (low.mT @ g).tril()
        phi = 0.5 * (phi + phi.tril(-1).mT)
        left = SolveTriangular.apply(low.mT, phi, upper=True)
        return (SolveTriangular.apply(low.mT, left.mT, upper=True).mT,)


def _copyltu(xp, m):
    """The symmetric matrix whose lower triangle is ``m``'s."""
    return xp.tril(m) + _t(xp.tril(m, -1))


class QR(Op):
    __slots__ = ("a", "mode", "q", "r")
    _name = "LinalgQrBackward0"
    saves = 3
    num_outputs = 2

    def forward(self, a, mode="reduced"):
        xp = xp_of(a)
        self.a, self.mode = a, mode
        self.q, self.r = xp.linalg.qr(a, mode="complete" if mode == "complete" else "reduced")
        if mode == "r":
            return xp.empty((0,), dtype=a.dtype), self.r
        return self.q, self.r

    def backward(self, gq, gr):
        self._check_differentiable()
        m, n = self.a.shape[-2:]
        xp = xp_of(self.q)
        q, r = self.q, self.r
        gq = xp.zeros_like(q) if gq is None else gq
        gr = xp.zeros_like(r) if gr is None else gr
        if m >= n:
            return (_qr_square_backward(xp, q, r, gq, gr),)
        # A = Q [X | Y] with X square: X's QR gives Q and R's left block, R's right block is Q^T Y.
        y, gy_r = self.a[..., m:], gr[..., m:]
        gx = _qr_square_backward(xp, q, r[..., :m], gq + _mm(y, _t(gy_r)), gr[..., :m])
        return (xp.concatenate([gx, _mm(q, gy_r)], axis=-1),)

    def backward_graph(self, gq, gr):
        self._check_differentiable()
        m, n = self.a.shape[-2:]
        q, r = self.saved_output(self.q, 0), self.saved_output(self.r, 1)
        gq = q * 0 if gq is None else gq
        gr = r * 0 if gr is None else gr
        if m >= n:
            return (_qr_square_backward_graph(q, r, gq, gr),)
        y, gy_r = self.saved_input(0, self.a)[..., m:], gr[..., m:]
        gx = _qr_square_backward_graph(q, r[..., :m], gq + y @ gy_r.mT, gr[..., :m])
        return (cat([gx, q @ gy_r], -1),)

    def _check_differentiable(self):
        m, n = self.a.shape[-2:]
        if self.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
                               "linalg.qr.")
        if self.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")


def _qr_square_backward(xp, q, r, gq, gr):
    m = _mm(r, _t(gr)) - _mm(_t(gq), q)
    b = gq + _mm(q, _copyltu(xp, m))
    return _t(xp.linalg.solve(r, _t(b)))


def _qr_square_backward_graph(q, r, gq, gr):
    m = r @ gr.mT - gq.mT @ q
    b = gq + q @ (m.tril() + m.tril(-1).mT)
    return SolveTriangular.apply(r, b.mT, upper=True).mT


class SVD(Op):
    """The gradient ignores the columns of ``U`` and rows of ``Vh`` beyond ``min(m, n)`` (``full_matrices``), as
    PyTorch's does."""

    __slots__ = ("s", "u", "vh")
    _name = "LinalgSvdBackward0"
    saves = 2
    num_outputs = 3

    def forward(self, a, full_matrices=True):
        self.u, self.s, self.vh = xp_of(a).linalg.svd(a, full_matrices=full_matrices)
        return self.u, self.s, self.vh

    def backward(self, gu, gs, gvh):
        return (svd_backward(self.u, self.s, self.vh, gu, gs, gvh),)

    def backward_graph(self, gu, gs, gvh):
        u, s, vh = (self.saved_output(x, i) for i, x in enumerate((self.u, self.s, self.vh)))
        return (svd_backward_graph(u, s, vh, gu, gs, gvh),)


def svd_backward(u, s, vh, gu, gs, gvh):
    """The gradient of the reduced SVD ``A = U diag(S) Vh`` (PyTorch's formula, real case)."""
    xp = xp_of(s)
    k = s.shape[-1]
    u, vh = u[..., :k], vh[..., :k, :]
    if gu is None and gvh is None:
        return _mm(u * gs[..., None, :], vh) if gs is not None else xp.zeros((*u.shape[:-1], vh.shape[-1]), s.dtype)
    gu = None if gu is None else gu[..., :k]
    gvh = None if gvh is None else gvh[..., :k, :]
    v = _t(vh)
    s2 = s * s
    e = s2[..., None, :] - s2[..., :, None]
    e = e + xp.eye(k, dtype=s.dtype)
    inner = xp.zeros(e.shape, dtype=s.dtype)
    if gu is not None:
        uhgu = _mm(_t(u), gu)
        inner = inner + (uhgu - _t(uhgu)) / e * s[..., None, :]
    if gvh is not None:
        gv = _t(gvh)
        vhgv = _mm(vh, gv)
        inner = inner + s[..., :, None] * (vhgv - _t(vhgv)) / e
    if gs is not None:
        inner = inner + _diag_embed(xp, gs)
    ga = _mm(_mm(u, inner), vh)
    if gu is not None and u.shape[-2] > k:
        ga = ga + _mm((gu - _mm(u, uhgu)) / s[..., None, :], vh)
    if gvh is not None and vh.shape[-1] > k:
        ga = ga + _mm(u, _t((gv - _mm(v, vhgv)) / s[..., None, :]))
    return ga


def svd_backward_graph(u, s, vh, gu, gs, gvh):
    """``svd_backward`` in differentiable tensor ops."""
    k = s.shape[-1]
    if u.shape[-1] != k:
        u, gu = u[..., :k], None if gu is None else gu[..., :k]
    if vh.shape[-2] != k:
        vh, gvh = vh[..., :k, :], None if gvh is None else gvh[..., :k, :]
    if gu is None and gvh is None:
        return None if gs is None else (u * gs.unsqueeze(-2)) @ vh
    eye = _eye_like(s)
    s2 = s * s
    e = s2.unsqueeze(-2) - s2.unsqueeze(-1) + eye
    inner = 0 if gs is None else gs.unsqueeze(-1) * eye
    if gu is not None:
        uhgu = u.mT @ gu
        inner = inner + (uhgu - uhgu.mT) / e * s.unsqueeze(-2)
    if gvh is not None:
        vhgv = vh @ gvh.mT
        inner = inner + s.unsqueeze(-1) * (vhgv - vhgv.mT) / e
    ga = u @ inner @ vh
    if gu is not None and u.shape[-2] > k:
        ga = ga + ((gu - u @ uhgu) / s.unsqueeze(-2)) @ vh
    if gvh is not None and vh.shape[-1] > k:
        ga = ga + u @ ((gvh - vhgv.mT @ vh) / s.unsqueeze(-1))
    return ga


def _eye_like(s):
    """The identity matrix of ``s``'s last dim, dtype and device, as a constant array."""
    return xp_of(s._data).eye(s.shape[-1], dtype=s._data.dtype)


class Eigh(Op):
    __slots__ = ("values", "vectors")
    _name = "LinalgEighBackward0"
    saves = 2
    num_outputs = 2

    def forward(self, a, UPLO="L"):
        self.values, self.vectors = xp_of(a).linalg.eigh(a, UPLO=UPLO)
        return self.values, self.vectors

    def backward(self, gl, gv):
        xp = xp_of(self.values)
        values, v = self.values, self.vectors
        inner = xp.zeros(v.shape, dtype=v.dtype)
        if gv is not None:
            e = values[..., None, :] - values[..., :, None]
            e = e + xp.eye(e.shape[-1], dtype=e.dtype)
            vhgv = _mm(_t(v), gv)
            inner = 0.5 * (vhgv - _t(vhgv)) / e
        if gl is not None:
            inner = inner + _diag_embed(xp, gl)
        return (_mm(_mm(v, inner), _t(v)),)

    def backward_graph(self, gl, gv):
        values, v = self.saved_output(self.values, 0), self.saved_output(self.vectors, 1)
        eye = _eye_like(values)
        inner = 0
        if gv is not None:
            vhgv = v.mT @ gv
            inner = 0.5 * (vhgv - vhgv.mT) / (values.unsqueeze(-2) - values.unsqueeze(-1) + eye)
        if gl is not None:
            inner = inner + gl.unsqueeze(-1) * eye
        return (v @ inner @ v.mT,)


def cholesky(A, *, upper=False):
    check_matrix("linalg.cholesky", A)
    return Cholesky.apply(A, upper=upper)


def legacy_cholesky(input, upper=False):
    """``torch.cholesky`` and ``Tensor.cholesky``: the older spelling, ``upper`` positional (deprecated in PyTorch,
    which warns)."""
    warnings.warn("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a future "
                  "PyTorch release.", UserWarning, stacklevel=2)
    return cholesky(input, upper=upper)


def qr(A, mode="reduced"):
    if mode not in ("reduced", "r", "complete"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           "or 'complete'")
    check_matrix("linalg.qr", A, square=False)
    return return_types.linalg_qr(*QR.apply(A, mode=mode))


def svd(A, full_matrices=True, *, driver=None):
    check_matrix("linalg.svd", A, square=False)
    return return_types.linalg_svd(*SVD.apply(A, full_matrices=full_matrices))


def svdvals(A, *, driver=None):
    check_matrix("linalg.svdvals", A, square=False)
    return SVD.apply(A, full_matrices=False)[1]


def legacy_svd(input, some=True, compute_uv=True):
    """``torch.svd`` and ``Tensor.svd``: ``V`` rather than ``Vh``; without ``compute_uv``, zero ``U`` and ``V``."""
    if not compute_uv:
        m, n = input.shape[-2:]
        batch = tuple(input.shape[:-2])
        return return_types.svd(input.new_zeros(*batch, m, m), svdvals(input), input.new_zeros(*batch, n, n))
    u, s, vh = svd(input, full_matrices=not some)
    return return_types.svd(u, s, mT(vh))


def legacy_qr(input, some=True):
    """``torch.qr`` and ``Tensor.qr``: ``some`` for linalg.qr's ``mode`` (deprecated in PyTorch, which warns)."""
    warnings.warn("torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future PyTorch "
                  "release.", UserWarning, stacklevel=2)
    return return_types.qr(*qr(input, "reduced" if some else "complete"))


def _check_uplo(UPLO):
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


def eigh(A, UPLO="L"):
    check_matrix("linalg.eigh", A)
    _check_uplo(UPLO)
    return return_types.linalg_eigh(*Eigh.apply(A, UPLO=UPLO))


def eigvalsh(A, UPLO="L"):
    check_matrix("linalg.eigvalsh", A)
    _check_uplo(UPLO)
    return Eigh.apply(A, UPLO=UPLO)[0]
