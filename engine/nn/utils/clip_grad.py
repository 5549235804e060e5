"""Gradient clipping, in place on the parameters' ``.grad`` arrays."""

import math

from ...creation import tensor
from ...tensor import Tensor


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients together so that their total ``norm_type`` norm is at most ``max_norm``; return
    the total norm before clipping (as a tensor)."""
    grads = _grads(parameters)
    norm_type = float(norm_type)
    if not grads:
        return tensor(0.0)
    xp = grads[0].xp
    if norm_type == math.inf:
        norms = [float(xp.abs(g._data).max()) if g._data.size else 0.0 for g in grads]
        total = max(norms)
    else:
        # per-tensor norms in the gradients' own dtype, then the norm of those norms, as PyTorch does
        norms = [float(xp.linalg.norm(g._data.reshape(-1), ord=norm_type)) for g in grads]
        total = sum(n ** norm_type for n in norms) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
                           "it cannot be clipped. To disable this error and scale the gradients by the non-finite "
                           "norm anyway, set `error_if_nonfinite=False`")
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for g in grads:
            g._data *= g._data.dtype.type(coef)
            g._bump_version()
    return tensor(total, dtype=grads[0].dtype, device=grads[0].device)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into ``[-clip_value, clip_value]``."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        g.xp.clip(g._data, -clip_value, clip_value, out=g._data)
        g._bump_version()
