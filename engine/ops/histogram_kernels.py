"""Compiled CPU kernel (numba) for histc on float arrays: each value's bin in one pass, with the same
arithmetic in the same dtype as the generic path (so the same bins), each thread counting into its own row."""

import functools

import numpy as np

from ..threads import cpu_map, cpu_shares
from . import jit


@functools.cache
def _kernel():
    @jit.njit(nogil=True, cache=True)
    def count(flat, edges, scale, counts):
        bins = counts.shape[0]
        first, last = edges[0], edges[bins]
        width = last - first
        for k in range(flat.shape[0]):
            v = flat[k]
            if not (v >= first and v <= last):  # outside, or NaN
                continue
            pos = min(int((v - first) * scale / width), bins - 1)
            if v < edges[pos]:
                pos -= 1
            if pos < bins - 1 and v >= edges[pos + 1]:
                pos += 1
            counts[pos] += 1

    return count


def bin_counts(flat, edges, bins):
    """How many values of float ``flat`` fall in each of the ``bins`` bins between ``edges`` (int64)."""
    shares = cpu_shares(flat.size, flat.size)
    kernel, scale = _kernel(), flat.dtype.type(bins)
    if len(shares) == 1:
        counts = np.zeros(bins, dtype=np.int64)
        kernel(flat, edges, scale, counts)
        return counts
    counts = np.zeros((len(shares), bins), dtype=np.int64)
    cpu_map(lambda k: kernel(flat[shares[k][0]:shares[k][1]], edges, scale, counts[k]), range(len(shares)))
    return counts.sum(axis=0)
