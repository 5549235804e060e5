"""Compiled CPU kernel (numba) for searchsorted with one sorted line per line of values: a binary search
for each value, where the NumPy path sorts each sequence and its values together (``sorting._search_lines``).
Comparisons as PyTorch's CPU kernel makes them (so NaNs land where its binary search puts them); lines are
split over the threads."""

import functools
import math

import numpy as np

from ..threads import cpu_map, cpu_shares
from . import jit


@functools.cache
def _kernel():
    @jit.njit(nogil=True, cache=True)
    def search_lines(seq, values, right, out):
        n = seq.shape[1]
        for r in range(seq.shape[0]):
            for j in range(values.shape[1]):
                v = values[r, j]
                lo, hi = 0, n
                while lo < hi:
                    mid = (lo + hi) >> 1
                    s = seq[r, mid]
                    # PyTorch's comparisons, so NaNs land where its binary search puts them
                    if not (s > v if right else s >= v):
                        lo = mid + 1
                    else:
                        hi = mid
                out[r, j] = lo

    return search_lines


def search_lines(seq, values, right):
    """The insertion places of each line of ``values`` in the same line of ``seq`` (2-d or more, float)."""
    lead, lines = seq.shape[:-1], math.prod(seq.shape[:-1])
    seq2 = np.ascontiguousarray(seq).reshape(lines, seq.shape[-1])
    values2 = np.ascontiguousarray(values, dtype=seq.dtype).reshape(lines, values.shape[-1])
    out = np.empty(values2.shape, np.int64)
    kernel = _kernel()
    shares = cpu_shares(len(seq2), values2.size * 16)
    if len(shares) == 1:
        kernel(seq2, values2, right, out)
    else:
        cpu_map(lambda p: kernel(seq2[p[0]:p[1]], values2[p[0]:p[1]], right, out[p[0]:p[1]]), shares)
    return out.reshape(*lead, values2.shape[1])
