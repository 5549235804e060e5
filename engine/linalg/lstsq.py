"""linalg.lstsq: the least-squares (minimum-norm where underdetermined) solution ``pinv(A) B``.

What else comes back follows the driver as in PyTorch on the CPU: ``rank`` for gelsy (the default), gelsd and
gelss, ``singular_values`` for gelsd and gelss, the squared ``residuals`` for all but gelsy when ``m > n`` and
every matrix has full rank; what a driver does not compute is an empty tensor. The solution's gradient is
PyTorch's (that of ``pinv(A) B``); ``rank``, ``singular_values`` and ``residuals`` carry none.
"""


import numpy as np

from .. import return_types
from ..autograd.grad_mode import no_grad
from ..dtypes import int64, legacy_name
from ..ops.convert import cast
from .factorizations import svdvals
from .pseudo_inverse import pinv

_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def _check(A, B, driver):
    name = "torch.linalg.lstsq"
    if A._data.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if B._data.ndim < 1:
        raise RuntimeError(f"{name}: other must have at least 1 dimension.")
    if not 0 <= A._data.ndim - B._data.ndim <= 1:
        raise RuntimeError(f"{name}: input.dim() must be greater or equal to other.dim() and (input.dim() - "
                           "other.dim()) <= 1")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"{name}: Expected input and other to have the same dtype, but got input's dtype "
                           f"{legacy_name(A._data.dtype)} and other's dtype {legacy_name(B._data.dtype)}")
    if A._data.dtype.kind != "f":
        raise RuntimeError("This function doesn't handle types other than float and double")
    b = B._data.shape
    vector = len(b) == 1 or (len(b) == A._data.ndim - 1 and b == A._data.shape[:-1])
    if A.shape[-2] != B.shape[-1 if vector else -2]:
        raise RuntimeError(f"{name}: input.size(-2) should match other.size({-1 if vector else -2})")
    if driver is not None and driver not in _DRIVERS:
        raise RuntimeError(f"{name}: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    return vector


def lstsq(A, B, rcond=None, *, driver=None):
    driver = "gelsy" if driver is None else driver
    vector = _check(A, B, driver)
    m, n = A.shape[-2:]
    if rcond is None or rcond < 0:
        rcond = float(np.finfo(A._data.dtype).eps) * max(m, n)
    rhs = B.unsqueeze(-1) if vector else B
    solution = pinv(A, rtol=rcond) @ rhs
    empty = A.new_empty(0)
    with no_grad():
        values = svdvals(A) if driver != "gels" else None
        rank = empty.to(int64)
        if values is not None:
            if min(m, n) == 0:
                rank = values.new_zeros(A.shape[:-2], dtype=int64)
            else:
                rank = cast((values > rcond * values.amax(-1, keepdim=True)).sum(-1), int64)
        residuals = empty
        if driver != "gelsy" and m > n and (driver == "gels" or bool((rank == n).all())):
            residuals = (A @ solution - rhs).pow(2).sum(-2)
        singular_values = values if driver in ("gelsd", "gelss") else empty
    return return_types.linalg_lstsq(solution.squeeze(-1) if vector else solution, residuals, rank, singular_values)
