"""PyTorch's ``_single``/``_pair``/``_quadruple`` (``torch.nn.modules.utils._ntuple``) for layer arguments."""

from collections.abc import Iterable


def ntuple(value, n):
    """``value`` as a tuple: an iterable as is, anything else repeated ``n`` times."""
    return tuple(value) if isinstance(value, Iterable) else (value,) * n
