"""Compiled CPU kernels (numba) for the scans of float arrays, rows split over the engine's threads.

cummax/cummin: values and indices in one pass over each row. PyTorch's rule: a later element ties in
(``>=``/``<=``), and a NaN wins over every number and over an earlier NaN.
cumsum/cumprod (forwards or from the end): NumPy's ``accumulate`` is a serial loop with strided access, one
dependent addition after another; here four rows advance together, so four independent chains hide each
addition's latency (3-8x NumPy on rows of 1000). The order of operations is NumPy's, so the results are
the same bits."""

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


@functools.cache
def _running_kernel():
    @jit.numba().njit(nogil=True, cache=True)
    def running(x, out, product, reverse):
        rows, n = x.shape
        last = n - 1
        r = 0
        while r + 4 <= rows:
            c = last if reverse else 0
            a0, a1, a2, a3 = x[r, c], x[r + 1, c], x[r + 2, c], x[r + 3, c]
            out[r, c], out[r + 1, c], out[r + 2, c], out[r + 3, c] = a0, a1, a2, a3
            for i in range(1, n):
                c = last - i if reverse else i
                if product:
                    a0, a1, a2, a3 = a0 * x[r, c], a1 * x[r + 1, c], a2 * x[r + 2, c], a3 * x[r + 3, c]
                else:
                    a0, a1, a2, a3 = a0 + x[r, c], a1 + x[r + 1, c], a2 + x[r + 2, c], a3 + x[r + 3, c]
                out[r, c], out[r + 1, c], out[r + 2, c], out[r + 3, c] = a0, a1, a2, a3
            r += 4
        for q in range(r, rows):
            c = last if reverse else 0
            a = x[q, c]
            out[q, c] = a
            for i in range(1, n):
                c = last - i if reverse else i
                a = a * x[q, c] if product else a + x[q, c]
                out[q, c] = a

    return running


def running(x, product, reverse=False):
    """The cumulative sum (or product) along the last axis of float ``x``; ``reverse`` runs from the end."""
    n = x.shape[-1]
    out = np.empty(x.shape, dtype=x.dtype)
    if not x.size:
        return out
    rows = np.ascontiguousarray(x).reshape(-1, n)
    flat = out.reshape(-1, n)
    kernel = _running_kernel()
    shares = cpu_shares(rows.shape[0], x.size)
    if len(shares) == 1:  # small: no closure, no thread team (a third of the call's cost at 1e3 elements)
        kernel(rows, flat, product, reverse)
    else:
        cpu_map(lambda part: kernel(rows[part[0]:part[1]], flat[part[0]:part[1]], product, reverse), shares)
    return out
