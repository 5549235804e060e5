"""Products of torch.linalg: multi_dot (a chain of matmuls), vecdot (a dot product along a dim), matrix_rank."""

import numpy as np

from ..dtypes import int64, legacy_name
from ..ops.convert import cast
from ..ops.matmul import matmul
from ..ops.reduce import amax
from ..ops.reduce import sum as reduce_sum
from .factorizations import eigvalsh, svdvals


def multi_dot(tensors):
    """``tensors[0] @ tensors[1] @ ...``; the first may be a vector (a row), the last a vector (a column).
    Multiplied left to right (PyTorch picks the cheapest order: the values agree up to rounding)."""
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    first, last = tensors[0]._data.ndim, tensors[-1]._data.ndim
    if first not in (1, 2):
        raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {first}D")
    if last not in (1, 2):
        raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {last}D")
    for i, t in enumerate(tensors[1:-1], 1):
        if t._data.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t._data.ndim}D")
    out = tensors[0]
    for i, t in enumerate(tensors[1:], 1):
        a, b = out.shape, t.shape
        if a[-1] != b[0]:
            raise RuntimeError(f"multi_dot(): tensors {i - 1} and {i} with shapes {list(tensors[i - 1].shape)} and "
                               f"{list(b)} cannot be multiplied")
        out = matmul(out, t)
    return out


def vecdot(x, y, *, dim=-1):
    if x._data.dtype != y._data.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type "
                           f"{legacy_name(x._data.dtype)} and y of type {legacy_name(y._data.dtype)} instead")
    return reduce_sum(x * y, dim)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    """The number of singular values (|eigenvalues| when ``hermitian``) above ``max(atol, rtol * largest)``;
    ``rtol`` defaults to ``eps * max(m, n)`` when ``atol`` is not given, as in ``pinv``."""
    if A._data.ndim < 2:
        raise RuntimeError("torch.linalg.matrix_rank: The input tensor input must have at least 2 dimensions.")
    m, n = A.shape[-2:]
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else float(np.finfo(A._data.dtype).eps) * max(m, n)
    values = eigvalsh(A).abs() if hermitian else svdvals(A)
    if min(m, n) == 0:
        return cast(reduce_sum(values, -1), int64)
    tol = (rtol * amax(values, -1, keepdim=True)).clamp(min=0.0 if atol is None else atol)
    return cast(reduce_sum(values > tol, -1), int64)
