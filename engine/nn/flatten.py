"""``Flatten`` and ``Unflatten``."""

from .module import Module


class Flatten(Module):
    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    def __init__(self, dim, unflattened_size):
        super().__init__()
        _require_tuple_int(unflattened_size)
        self.dim = dim
        self.unflattened_size = unflattened_size  # kept as given (a list prints as one), as PyTorch does

    def forward(self, input):
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


def _require_tuple_int(value):
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"unflattened_size must be a tuple of ints, but found type {type(value).__name__}")
    for idx, elem in enumerate(value):
        if not isinstance(elem, int):
            raise TypeError("unflattened_size must be tuple of ints, "
                            f"but found element of type {type(elem).__name__} at pos {idx}")
