"""Per-channel reductions over every axis but 1 of (N, C, ...) arrays, as ``einsum`` over an (N, C, rest) view.

Three times faster on the CPU than ``sum(axis=(0, 2, 3))`` (which reduces over strided axes), and as
accurate (measured against float64 sums); ``einsum`` is also CuPy's.
"""

from .op import xp_of


def _rows(a):
    return a.reshape(a.shape[0], a.shape[1], -1)


def channel_sum(a):
    """Per-channel sum of ``a``."""
    return xp_of(a).einsum("nci->c", _rows(a))


def channel_dot(a, b):
    """Per-channel sum of ``a * b`` (same shapes), without the product's temporary."""
    return xp_of(a).einsum("nci,nci->c", _rows(a), _rows(b))
