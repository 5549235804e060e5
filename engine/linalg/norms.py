"""Norms: vector_norm, matrix_norm (including the spectral and nuclear norms) and linalg.norm choosing between them."""

import math

import numpy as np

from ..backend import CPU
from ..dtypes import to_dtype
from ..ops.convert import cast
from ..ops.op import untracked
from ..ops.reduce import Norm, _flat_sum_of_squares, amax, amin, normalize_dims
from ..ops.shape import movedim
from ..tensor import Tensor, wrap_dim
from .checks import check_float, check_matrix
from .factorizations import svdvals

_new = object.__new__
# The dtypes whose whole-array 2-norm skips the node when no gradient is recorded (autocast leaves them alone).
_WHOLE_NORM_DTYPES = frozenset({np.dtype(np.float32), np.dtype(np.float64)})


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    a = x._data
    if (ord == 2 and dim is None and not keepdim and dtype is None and a.dtype in _WHOLE_NORM_DTYPES
            and untracked(x)):
        # The default call, computed here without ``Norm.apply``'s round (half of it at 1e3 elements)
        t = _new(Tensor)
        t._data = np.asarray(np.sqrt(_flat_sum_of_squares(np, a.reshape(-1))))
        t._device = CPU
        return t
    if dtype is not None:
        x = cast(x, to_dtype(dtype))
    check_float("linalg.vector_norm", x)
    if isinstance(ord, str):
        raise TypeError("linalg_vector_norm(): argument 'ord' (position 2) must be Number, not str")
    return Norm.apply(x, p=float(ord), dims=normalize_dims(dim, x._data.ndim), keepdim=keepdim)


def _unsqueeze_all(out, dims):
    for d in sorted(dims):
        out = out.unsqueeze(d)
    return out


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    if dtype is not None:
        A = cast(A, to_dtype(dtype))
    check_matrix("linalg.matrix_norm", A, square=False)
    ndim = A._data.ndim
    if len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(str(d) for d in dim)}")
    rows, cols = (wrap_dim(d, ndim) for d in dim)
    if rows == cols:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({rows}, {cols})")
    if ord == "fro":
        return vector_norm(A, 2, (rows, cols), keepdim)
    if ord in ("nuc", 2, -2):
        values = svdvals(movedim(A, (rows, cols), (-2, -1)))
        out = values.sum(-1) if ord == "nuc" else (amax if ord == 2 else amin)(values, -1)
        return _unsqueeze_all(out, (rows, cols)) if keepdim else out
    if ord not in (1, -1, math.inf, -math.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    summed, kept = (rows, cols) if abs(ord) == 1 else (cols, rows)
    out = (amax if ord > 0 else amin)(A.abs().sum(summed, keepdim=True), kept, keepdim=True)
    return out if keepdim else out.squeeze((rows, cols))


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """A vector norm over one dim (or all, when neither ``ord`` nor ``dim`` is given), a matrix norm over two."""
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None and len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    if dim is None and ord is not None:
        if A._data.ndim == 2:
            return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
        if A._data.ndim != 1:
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
                               f"{A._data.ndim}D.")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
