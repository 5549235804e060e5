"""Compiled CPU kernel (numba) for cummax/cummin on float arrays: values and indices in one pass over each
row, rows split over the engine's threads. PyTorch's rule: a later element ties in (``>=``/``<=``), and a
NaN wins over every number and over an earlier NaN."""

import functools

import numpy as np

from ..threads import cpu_map, cpu_shares
from . import jit


@functools.cache
def _kernel():
    @jit.numba().njit(nogil=True, cache=True)
    def running_extreme(x, values, indices, is_max):
        for r in range(x.shape[0]):
            best = x[r, 0]
            where = 0
            for i in range(x.shape[1]):
                v = x[r, i]
                if v != v or (best == best and (v >= best if is_max else v <= best)):
                    best = v
                    where = i
                values[r, i] = best
                indices[r, i] = where

    return running_extreme


def running_extreme(x, is_max):
    """``(values, indices)`` of the running maximum (or minimum) along the last axis of float ``x``."""
    n = x.shape[-1]
    values = np.empty(x.shape, dtype=x.dtype)
    indices = np.empty(x.shape, dtype=np.int64)
    if not x.size:
        return values, indices
    rows = np.ascontiguousarray(x).reshape(-1, n)
    flat_values, flat_indices = values.reshape(-1, n), indices.reshape(-1, n)
    kernel = _kernel()
    cpu_map(lambda part: kernel(rows[part[0]:part[1]], flat_values[part[0]:part[1]],
                                flat_indices[part[0]:part[1]], is_max),
            cpu_shares(rows.shape[0], x.size))
    return values, indices
