"""Promoting dimensions, stacking along them and broadcasting: ``atleast_1d/2d/3d``, ``dstack``,
``column_stack``, ``row_stack``, ``ravel``, ``tile``, ``broadcast_to``, ``broadcast_shapes``,
``broadcast_tensors``; all built from the views and joins of shape.py."""

from ..tensor import Size, Tensor
from .op import broadcast_mismatch
from .shape import cat, expand, repeat, reshape, vstack


def _at_least(shapes, tensors):
    """Each tensor reshaped by ``shapes[ndim]`` (a function of its shape) where its ndim is listed there."""
    if len(tensors) == 1 and not isinstance(tensors[0], Tensor):
        tensors = tuple(tensors[0])
        single = False
    else:
        single = len(tensors) == 1
    out = tuple(reshape(t, shapes[t._data.ndim](t._data.shape)) if t._data.ndim in shapes else t for t in tensors)
    return out[0] if single else out


_TO_1D = {0: lambda s: (1,)}
_TO_2D = {**_TO_1D, 0: lambda s: (1, 1), 1: lambda s: (1, *s)}
_TO_3D = {0: lambda s: (1, 1, 1), 1: lambda s: (1, *s, 1), 2: lambda s: (*s, 1)}


def atleast_1d(*tensors):
    return _at_least(_TO_1D, tensors)


def atleast_2d(*tensors):
    return _at_least(_TO_2D, tensors)


def atleast_3d(*tensors):
    return _at_least(_TO_3D, tensors)


def dstack(tensors):
    return cat(list(atleast_3d(list(tensors))), 2)


def column_stack(tensors):
    return cat([reshape(t, (-1, 1)) if t._data.ndim < 2 else t for t in tensors], 1)


row_stack = vstack


def ravel(input):
    return reshape(input, (-1,))


def tile(input, dims):
    dims = tuple(dims)
    return repeat(input, (1,) * (input._data.ndim - len(dims)) + dims)


def broadcast_to(input, size):
    return expand(input, tuple(size))


def _broadcast(shapes, mismatch):
    """The broadcast of ``shapes``; ``mismatch(so_far, i, shape, axis)`` makes the error for the first that
    does not fit (``axis`` counted from the end, negative)."""
    out = ()
    for i, shape in enumerate(shapes):
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        n = max(len(out), len(shape))
        a, b = (1,) * (n - len(out)) + out, (1,) * (n - len(shape)) + shape
        for k, (x, y) in enumerate(zip(a, b)):
            if x != y and x != 1 and y != 1:
                raise mismatch(out, i, shape, k - n)
        out = tuple(y if x == 1 else x for x, y in zip(a, b))
    return Size(out)


def broadcast_shapes(*shapes):
    return _broadcast(shapes, lambda out, i, shape, axis: RuntimeError(
        f"Attempting to broadcast a dimension of length {shape[axis]} at {axis}! Mismatching argument at index {i} "
        f"had {shape}; but expected shape should be broadcastable to {list(out)}"))


def broadcast_tensors(*tensors):
    shape = _broadcast([t._data.shape for t in tensors], lambda out, i, shape, axis: broadcast_mismatch(out, shape))
    return tuple(expand(t, shape) for t in tensors)
