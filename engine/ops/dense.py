"""Arrays whose values fill one block of memory in some order of their axes: a C-contiguous array, or a
channels-last view of one (``x.permute(0, 2, 3, 1)``'s inverse), as PyTorch's channels_last tensors are. An
elementwise kernel runs on such an array's memory as it lies and gives its result the same layout, where a copy
to C order would cost a pass over the data and hand the next op a layout it did not ask for. ``rows`` is the
other side of that: a broadcast array, whose rows all lie in one place, given to a kernel as that one row; ``once``
cuts such an array down to what it repeats, for array code."""

import numpy as np


def memory_order(a):
    """The axis order, outermost first, in which ``a``'s values lie densely in memory (``tuple(range(ndim))``
    for a C-contiguous array), or None where they do not fill one block."""
    if a.flags.c_contiguous:
        return tuple(range(a.ndim))
    order = tuple(sorted(range(a.ndim), key=lambda axis: -a.strides[axis]))
    return order if a.transpose(order).flags.c_contiguous else None


def flat(a, order):
    """The values of ``a`` in memory order (``order`` from ``memory_order``), as a 1-D view."""
    return a.transpose(order).reshape(-1)


def like(a, order, dtype=None):
    """A new array shaped like ``a`` with its values laid out in ``order``."""
    made = np.empty([a.shape[axis] for axis in order], dtype or a.dtype)
    return made.transpose(np.argsort(order))


def in_order(a, order):
    """``a`` itself where its values lie in ``order``, else a copy laid out so."""
    return a if memory_order(a) == order else np.ascontiguousarray(a.transpose(order)).transpose(np.argsort(order))


def rows(a, m):
    """``a``'s values as C-contiguous rows of ``m`` (a view where one exists); as its one row where every row is the
    same, as in a gradient broadcast from a sum or expanded over leading axes, for kernels that take one row for all:
    copied out whole by one thread, it cost the threads reading it more than their kernels (bench/NOTES.md)."""
    lines = a.reshape(-1, m)  # (a copy where no view has that shape: C-contiguous)
    if lines.shape[0] > 1 and lines.strides[0] == 0:
        return lines[:1].copy()  # (writable: numba compiles read-only arrays again)
    return lines if lines.flags.c_contiguous else np.ascontiguousarray(lines)


def once(a, axes):
    """``a`` cut to its first slice along each of ``axes`` where it repeats its values (stride 0, more than one: a
    gradient broadcast from a sum), and how many times the result repeats; ``a`` itself and 1 where it repeats along
    none. NumPy or CuPy."""
    index, repeats = [slice(None)] * a.ndim, 1
    for axis in axes:
        if a.strides[axis] == 0 and a.shape[axis] > 1:
            index[axis] = slice(0, 1)
            repeats *= a.shape[axis]
    return (a[tuple(index)] if repeats > 1 else a), repeats
