"""Distances between vectors along a dimension, composed of differentiable tensor ops as PyTorch composes
them (so double backward comes with them): ``pairwise_distance``, ``cosine_similarity``, ``normalize``."""

from .. import dtypes
from ..linalg import vector_norm
from ..tensor import wrap_dim
from .convert import promote_pair
from .op import broadcast_shape


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """The ``p``-norm of ``x1 - x2 + eps`` over the last dimension of the broadcast inputs."""
    innermost = max(x1._data.ndim, x2._data.ndim) - 1
    return (x1 - x2 + eps).norm(p, innermost, keepdim)


def floor_value(t, eps):
    """``t`` raised to at least ``eps`` in value only: the gradient passes as if unclamped, as PyTorch's
    in-place clamp (of a clone) under no_grad leaves it."""
    d = t.detach()
    return t + (d.clamp(min=eps) - d)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``<x1, x2> / (||x1|| ||x2||)`` along ``dim``, each input divided by its norm (at least ``eps``) first."""
    x1, x2 = promote_pair(x1, x2)
    if x1._data.dtype.kind not in dtypes.FLOAT_KINDS:
        raise RuntimeError("expected common dtype to be floating point, yet common dtype is "
                           f"{dtypes.legacy_name(x1._data.dtype)}")
    s1, s2 = x1._data.shape, x2._data.shape
    if s1 != s2:
        shape = broadcast_shape(s1, s2)
        x1, x2 = x1.expand(*shape), x2.expand(*shape)
    dim = wrap_dim(dim, x1._data.ndim)
    n1 = floor_value(vector_norm(x1, 2, dim, keepdim=True), eps)
    n2 = floor_value(vector_norm(x2, 2, dim, keepdim=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``input`` divided by its ``p``-norm along ``dim`` (at least ``eps``)."""
    result = input / input.norm(p, dim, keepdim=True).clamp(min=eps)
    if out is None:
        return result
    return out.copy_(result)


__all__ = ["cosine_similarity", "normalize", "pairwise_distance"]
