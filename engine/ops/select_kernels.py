"""Compiled CPU kernels (numba) for ``topk`` with a small ``k``, ``kthvalue``, ``median`` with a dim and
``mode``, on small host float32/float64 arrays (``MAX_SIZE``), where NumPy's Python-level calls cost more
than the work.

One pass over each line keeps its ``k`` best elements in order by insertion: on most data an element is one
comparison with the worst kept, so a line costs about its length, where the partition path makes an
argpartition, two gathers and a sort of the chosen (NumPy's Python-level cost dominates at 1e3 elements).
Only a strictly better element enters, so equal values keep their input order, as the stable sorts do, and
NaN counts as the largest value.

``kthvalue`` and ``median`` copy each line with its positions and quickselect the ``k``-th (NaN largest; a
median line holding a NaN gives its first NaN), as the argpartition path does, any one of equal values.

``mode`` sorts the values by NumPy's vectorised sort (NaN last; no positions: equal values are
interchangeable), walks each sorted line's runs and finds the chosen value's last index in the line, where
the NumPy path builds run lengths over the whole array in a dozen Python-level calls.
"""

import functools
import math

import numpy as np

from . import jit

# Largest ``k``, and largest input of either kernel. topk: an insertion shifts up to ``k`` kept elements, so
# lines whose values keep improving (sorted input) cost ``k`` times their length; up to this size that worst
# case stays below the partition path's fixed cost (at 1e6 it is 3x that path's time, random data 0.6x).
MAX_K = 8
MAX_SIZE = 16384


@functools.cache
def _kernel():
    njit = jit.njit

    @njit(nogil=True, cache=True)
    def topk(x, k, largest, values, indices):
        """The ``k`` best of each line ``x[a, :, b]``, best first, into ``values`` and ``indices``
        (``(outer, k, inner)``). ``v`` goes before ``w`` where it is larger (or smaller), NaN counting as the
        largest value (written out twice: a jitted helper made in this factory would keep numba's cache from
        serving the kernel)."""
        n = x.shape[1]
        for a in range(x.shape[0]):
            for b in range(x.shape[2]):
                kept = 0
                for j in range(n):
                    v = x[a, j, b]
                    if kept == k:
                        w = values[a, k - 1, b]
                        if not ((v > w or (v != v and w == w)) if largest else (v < w or (w != w and v == v))):
                            continue
                    p = kept if kept < k else k - 1
                    while p > 0:
                        w = values[a, p - 1, b]
                        if not ((v > w or (v != v and w == w)) if largest else (v < w or (w != w and v == v))):
                            break
                        values[a, p, b] = values[a, p - 1, b]
                        indices[a, p, b] = indices[a, p - 1, b]
                        p -= 1
                    values[a, p, b] = v
                    indices[a, p, b] = j
                    if kept < k:
                        kept += 1

    @njit(nogil=True, cache=True)
    def mode(x, ordered, values, indices):
        """The most frequent value of each line ``x[a, :, b]`` (NaNs counting as one value; the smallest of
        equally frequent ones) and the index of its last occurrence, from the lines sorted (``ordered``): equal
        values are interchangeable, so the chosen value's last index is then looked up in the line."""
        n = x.shape[1]
        for a in range(x.shape[0]):
            for b in range(x.shape[2]):
                best, longest, start = 0, 0, 0
                for j in range(1, n + 1):
                    if j < n:
                        after, before = ordered[a, j, b], ordered[a, j - 1, b]
                        if after == before or (after != after and before != before):
                            continue
                    if j - start > longest:
                        best, longest = start, j - start
                    start = j
                value = ordered[a, best, b]
                j = n - 1
                while not (x[a, j, b] == value or (value != value and x[a, j, b] != x[a, j, b])):
                    j -= 1
                values[a, b], indices[a, b] = x[a, j, b], j  # the line's own value (of -0.0 and 0.0)

    @njit(nogil=True, cache=True)
    def kth(x, k, nan_wins, values, indices):
        """The ``k``-th smallest (from 0) of each line ``x[a, :, b]`` and its index into ``values`` and
        ``indices`` (``(outer, inner)``); with ``nan_wins``, a line's first NaN instead where it has one. NaN
        counts as the largest value (the comparisons written out, as in ``topk``)."""
        n = x.shape[1]
        line = np.empty(n, dtype=x.dtype)
        at = np.empty(n, dtype=np.int64)
        for a in range(x.shape[0]):
            for b in range(x.shape[2]):
                first_nan = -1
                for j in range(n):
                    v = x[a, j, b]
                    line[j] = v
                    at[j] = j
                    if first_nan < 0 and v != v:
                        first_nan = j
                if nan_wins and first_nan >= 0:
                    values[a, b] = line[first_nan]
                    indices[a, b] = first_nan
                    continue
                lo, hi = 0, n - 1
                while lo < hi:  # Hoare's selection: the pivot stops both scans, so they stay in [lo, hi]
                    pivot = line[(lo + hi) >> 1]
                    i, j = lo, hi
                    while i <= j:
                        while line[i] < pivot or (pivot != pivot and line[i] == line[i]):
                            i += 1
                        while pivot < line[j] or (line[j] != line[j] and pivot == pivot):
                            j -= 1
                        if i <= j:
                            line[i], line[j] = line[j], line[i]
                            at[i], at[j] = at[j], at[i]
                            i += 1
                            j -= 1
                    if k <= j:
                        hi = j
                    elif k >= i:
                        lo = i
                    else:
                        break
                values[a, b] = line[k]
                indices[a, b] = at[k]

    return topk, mode, kth


def topk(x, axis, k, largest):
    """The indices (int64) and values of the ``k`` (1 to ``MAX_K``, at most the line's length) best elements
    of each line of ``x`` along ``axis``, best first."""
    shape = x.shape
    out_shape = (*shape[:axis], k, *shape[axis + 1:])
    values = np.empty(out_shape, dtype=x.dtype)
    indices = np.empty(out_shape, dtype=np.int64)
    if values.size:
        inner = math.prod(shape[axis + 1:])
        outer = x.size // (shape[axis] * inner)
        x3 = x.reshape(outer, shape[axis], inner)
        v3, i3 = values.reshape(outer, k, inner), indices.reshape(outer, k, inner)
        _kernel()[0](x3, k, largest, v3, i3)
    return indices, values


def kth(x, axis, k, nan_wins=False):
    """The indices (int64) and values of the ``k``-th smallest (from 0) of each line of ``x`` along ``axis``
    (a line of more than ``k`` elements), the axis kept with size 1; with ``nan_wins`` a line's first NaN
    where it has one."""
    shape = x.shape
    out_shape = (*shape[:axis], 1, *shape[axis + 1:])
    values = np.empty(out_shape, dtype=x.dtype)
    indices = np.empty(out_shape, dtype=np.int64)
    if values.size:
        inner = math.prod(shape[axis + 1:])
        outer = x.size // (shape[axis] * inner)
        _kernel()[2](x.reshape(outer, shape[axis], inner), k, nan_wins, values.reshape(outer, inner),
                     indices.reshape(outer, inner))
    return indices, values


def mode(x, axis):
    """The indices (int64) and values of each line's mode along ``axis`` of ``x`` (a line of at least one
    element), the axis kept with size 1."""
    shape = x.shape
    out_shape = (*shape[:axis], 1, *shape[axis + 1:])
    values = np.empty(out_shape, dtype=x.dtype)
    indices = np.empty(out_shape, dtype=np.int64)
    if values.size:
        inner = math.prod(shape[axis + 1:])
        outer = x.size // (shape[axis] * inner)
        lines = (outer, shape[axis], inner)
        _kernel()[1](x.reshape(lines), np.sort(x, axis=axis).reshape(lines), values.reshape(outer, inner),
                     indices.reshape(outer, inner))
    return indices, values
