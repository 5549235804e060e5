"""Compiled CPU kernels (numba) for ``topk`` with a small ``k`` and for ``mode``, on host float32/float64
arrays.

One pass over each line keeps its ``k`` best elements in order by insertion: on most data an element is one
comparison with the worst kept, so a line costs about its length, where the partition path makes an
argpartition, two gathers and a sort of the chosen (NumPy's Python-level cost dominates at 1e3 elements).
Only a strictly better element enters, so equal values keep their input order, as the stable sorts do, and
NaN counts as the largest value. Small inputs only (``MAX_SIZE``), so one thread.

``mode`` sorts each line stably (numba's mergesort: NaN last, as NumPy's) and walks its runs in the same
pass, where the NumPy path builds run lengths over the whole array in a dozen Python-level calls (on large
inputs NumPy's sort is faster: 1000x1000 took 1.6x the NumPy path's time).
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
    njit = jit.numba().njit

    @njit(nogil=True, cache=True)
    def better(v, w, largest):
        """Whether ``v`` goes before ``w``: larger (or smaller), NaN counting as the largest value."""
        if largest:
            return v > w or (v != v and w == w)
        return v < w or (w != w and v == v)

    @njit(nogil=True, cache=True)
    def topk(x, k, largest, values, indices):
        """The ``k`` best of each line ``x[a, :, b]``, best first, into ``values`` and ``indices``
        (``(outer, k, inner)``)."""
        n = x.shape[1]
        for a in range(x.shape[0]):
            for b in range(x.shape[2]):
                kept = 0
                for j in range(n):
                    v = x[a, j, b]
                    if kept == k and not better(v, values[a, k - 1, b], largest):
                        continue
                    p = kept if kept < k else k - 1
                    while p > 0 and better(v, values[a, p - 1, b], largest):
                        values[a, p, b] = values[a, p - 1, b]
                        indices[a, p, b] = indices[a, p - 1, b]
                        p -= 1
                    values[a, p, b] = v
                    indices[a, p, b] = j
                    if kept < k:
                        kept += 1

    @njit(nogil=True, cache=True)
    def mode(x, out):
        """The index of the most frequent value of each line ``x[a, :, b]`` (NaNs counting as one value; the
        smallest of equally frequent ones) at its last occurrence."""
        n = x.shape[1]
        for a in range(x.shape[0]):
            for b in range(x.shape[2]):
                line = x[a, :, b]
                order = np.argsort(line, kind="mergesort")
                best, longest, start = 0, 0, 0
                for j in range(1, n + 1):
                    if j < n:
                        after, before = line[order[j]], line[order[j - 1]]
                        if after == before or (after != after and before != before):
                            continue
                    if j - start > longest:
                        best, longest = start, j - start
                    start = j
                out[a, b] = order[best + longest - 1]

    return topk, mode


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


def mode(x, axis):
    """The index (int64) of each line's mode along ``axis`` of ``x`` (a line of at least one element), the
    axis kept with size 1."""
    shape = x.shape
    out = np.empty((*shape[:axis], 1, *shape[axis + 1:]), dtype=np.int64)
    if out.size:
        inner = math.prod(shape[axis + 1:])
        outer = x.size // (shape[axis] * inner)
        _kernel()[1](x.reshape(outer, shape[axis], inner), out.reshape(outer, inner))
    return out
