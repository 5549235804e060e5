"""Gradient clipping, in place on the parameters' ``.grad`` arrays."""

import math

from ...creation import tensor
from ...tensor import Tensor


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def total_norm(tensors, norm_type=2.0):
    """The ``norm_type`` norm of ``tensors`` taken together as a Python float: the norm of the per-tensor norms,
    each computed in its tensor's dtype, combined in double precision (so a total beyond float32's range stays
    finite, and scaling by it stays exact)."""
    tensors = [tensors] if isinstance(tensors, Tensor) else [t for t in tensors if t is not None]
    norm_type = float(norm_type)
    if not tensors:
        return 0.0
    xp = tensors[0].xp
    if norm_type == math.inf:
        return max(float(xp.abs(t._data).max()) if t._data.size else 0.0 for t in tensors)
    norms = [float(xp.linalg.norm(t._data.reshape(-1), ord=norm_type)) for t in tensors]
    return sum(n ** norm_type for n in norms) ** (1.0 / norm_type)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type`` norm of ``tensors`` (usually gradients) taken together, as a tensor of their dtype, as
    PyTorch computes it."""
    tensors = [tensors] if isinstance(tensors, Tensor) else [t for t in tensors if t is not None]
    if not tensors:
        return tensor(0.0)
    total = total_norm(tensors, norm_type)
    _check_finite(total, norm_type, error_if_nonfinite)
    return tensor(total, dtype=tensors[0].dtype, device=tensors[0].device)


def _check_finite(total, norm_type, error_if_nonfinite):
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
                           "it cannot be clipped. To disable this error and scale the gradients by the non-finite "
                           "norm anyway, set `error_if_nonfinite=False`")


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients of ``parameters`` by ``max_norm / total_norm`` where that is below 1 (``total_norm``
    as ``get_total_norm`` gives it)."""
    coef = max_norm / (float(total_norm) + 1e-6)
    if coef < 1:
        for g in _grads(parameters):
            g._data *= g._data.dtype.type(coef)
            g._bump_version()


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients together so that their total ``norm_type`` norm is at most ``max_norm``; return
    the total norm before clipping (as a tensor)."""
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    grads = _grads(parameters)
    if not grads:
        return tensor(0.0)
    total = total_norm(grads, norm_type)
    _check_finite(total, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return tensor(total, dtype=grads[0].dtype, device=grads[0].device)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into ``[-clip_value, clip_value]``."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        g.xp.clip(g._data, -clip_value, clip_value, out=g._data)
        g._bump_version()
