"""``tensor_split`` by sections or by indices, and ``hsplit``/``vsplit``/``dsplit``: views of the input."""

import itertools
import numbers

from ..tensor import Tensor
from . import shape
from .reduce import normalize_dims


def tensor_split(input, indices_or_sections, dim=0):
    ndim = input._data.ndim
    if ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    axis = normalize_dims(dim, ndim)[0]
    split = indices_or_sections
    if isinstance(split, Tensor):
        if split._data.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                               f"one-dimensional tensor, but got a tensor with {split._data.ndim} dims")
        split = int(split.item()) if split._data.ndim == 0 else [int(i) for i in split.tolist()]
    if isinstance(split, numbers.Integral):
        if split <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {split}")
        return shape.tensor_split(input, int(split), axis)
    bounds = [0, *(int(i) for i in split), None]
    lead = (slice(None),) * axis
    return tuple(input[(*lead, slice(lo, hi))] for lo, hi in itertools.pairwise(bounds))


def _split_along(name, input, indices_or_sections, min_ndim, dim):
    ndim = input._data.ndim
    if ndim < min_ndim:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_ndim} dimension, but got a tensor "
                           f"with {ndim} dimensions!")
    if isinstance(indices_or_sections, numbers.Integral):
        size = input._data.shape[dim]
        if indices_or_sections == 0 or size % indices_or_sections:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size of the "
                               f"dimension {size} is not divisible by the split_size {indices_or_sections}!")
    return tensor_split(input, indices_or_sections, dim)


def hsplit(input, indices_or_sections):
    return _split_along("hsplit", input, indices_or_sections, 1, 1 if input._data.ndim > 1 else 0)


def vsplit(input, indices_or_sections):
    return _split_along("vsplit", input, indices_or_sections, 2, 0)


def dsplit(input, indices_or_sections):
    return _split_along("dsplit", input, indices_or_sections, 3, 2)
