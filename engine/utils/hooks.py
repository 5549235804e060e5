"""``torch.utils.hooks``: ``RemovableHandle``, what every ``register_*_hook`` returns (kept in autograd)."""

from ..autograd.hooks import RemovableHandle

__all__ = ["RemovableHandle"]
