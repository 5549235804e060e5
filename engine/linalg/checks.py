"""What every ``engine.linalg`` function checks first (square batches, floating dtypes), ``LinAlgError``, and
how a failed LAPACK call becomes PyTorch's message.

NumPy raises ``numpy.linalg.LinAlgError`` on a singular or non-positive-definite matrix; CuPy by default
returns what cuSOLVER left (inf or NaN from a zero pivot, a non-positive pivot on the Cholesky diagonal), so
such results are treated as the same failure.
"""

import numpy as np

from ..dtypes import legacy_name
from ..threads import cpu_batched


class LinAlgError(RuntimeError):
    """A matrix the decomposition cannot handle (singular, not positive-definite), as ``torch.linalg.LinAlgError``."""


def check_float(name, input):
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got "
                           f"{legacy_name(input._data.dtype)}")


def check_matrix(name, input, square=True, floating=True):
    """PyTorch's checks of ``A``: at least 2-D, square where asked, floating where asked."""
    shape = input._data.shape
    if len(shape) < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if square and shape[-1] != shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are {shape[-2]} by "
                           f"{shape[-1]} matrices")
    if floating:
        check_float(name, input)


def batch_prefix(index, batch_shape):
    if not batch_shape:
        return ""
    return f"(Batch element {int(np.ravel_multi_index(index, batch_shape))}): "


def _zero_pivot(a):
    """The 1-based column where LU with partial pivoting of host matrix ``a`` meets a zero pivot, or 0."""
    a = a.astype(np.float64)
    n = a.shape[0]
    for k in range(n):
        p = k + int(np.argmax(np.abs(a[k:, k])))
        if a[p, k] == 0:
            return k + 1
        a[[k, p]] = a[[p, k]]
        a[k + 1:] -= np.outer(a[k + 1:, k] / a[k, k], a[k])
    return 0


def _not_positive_definite(a):
    """The order of the first leading minor of host matrix ``a`` that is not positive-definite, or 0."""
    for k in range(1, a.shape[0] + 1):
        try:
            pivots = np.diagonal(np.linalg.cholesky(a[:k, :k]))
        except np.linalg.LinAlgError:
            return k
        if not (pivots > 0).all():  # a NaN pivot: LAPACK's potrf refuses it too
            return k
    return 0


def _first_failure(host, find):
    """(batch index, detail) of the first matrix of ``host`` that ``find`` flags."""
    for index in np.ndindex(host.shape[:-2]):
        detail = find(host[index])
        if detail:
            return index, detail
    return None, 0


def _lapack(fn, a, *args):
    """``fn(a, *args)``, or None when it fails (NumPy's exception, or CuPy's NaN for finite ``a``)."""
    try:
        out = cpu_batched(fn, a, *args)
    except np.linalg.LinAlgError:
        return None
    first = out[0] if isinstance(out, tuple) else out
    if not bool(np.isfinite(first).all()) and bool(np.isfinite(a).all()):
        return None
    return out


def to_host(a):
    return a.get() if hasattr(a, "get") else np.asarray(a)


def singular_inverse(index, batch_shape, k):
    """PyTorch's error for an inverse whose LU met a zero pivot in column ``k`` of batch element ``index``."""
    return LinAlgError(f"linalg.inv: {batch_prefix(index, batch_shape) if k else ''}The diagonal element {k} is "
                       f"zero, the inversion could not be completed because the input matrix is singular.")


SINGULAR_SOLVE = "torch.linalg.solve: The solver failed because the input matrix is singular."


def inv_or_raise(xp, a):
    out = _lapack(xp.linalg.inv, a)
    if out is None:
        host = to_host(a)
        index, k = _first_failure(host, _zero_pivot)
        raise singular_inverse(index, host.shape[:-2], k)
    return out


def solve_or_raise(xp, a, b):
    out = _lapack(xp.linalg.solve, a, b)
    if out is None:
        raise LinAlgError(SINGULAR_SOLVE)
    return out


def cholesky_or_raise(xp, a):
    """The lower factor; a diagonal that is not all positive (CuPy leaves the failing minor's non-positive pivot
    there) is a failure too."""
    out = _lapack(xp.linalg.cholesky, a)
    if out is None or not bool((xp.diagonal(out, axis1=-2, axis2=-1) > 0).all()):
        host = to_host(a)
        index, k = _first_failure(host, _not_positive_definite)
        raise LinAlgError(f"linalg.cholesky: {batch_prefix(index, host.shape[:-2]) if k else ''}The factorization "
                          f"could not be completed because the input is not positive-definite (the leading minor of "
                          f"order {k} is not positive-definite).")
    return out
