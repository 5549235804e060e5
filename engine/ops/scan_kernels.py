"""Compiled CPU kernels (numba) for the scans of float arrays, rows split over the engine's threads.

cummax/cummin: values and indices in one pass over each row, and the gradient in one more. PyTorch's rule:
a later element ties in (``>=``/``<=``), and a NaN wins over every number and over an earlier NaN.
cumsum/cumprod (forwards or from the end): NumPy's ``accumulate`` is a serial loop with strided access, one
dependent addition after another; here four rows advance together, so four independent chains hide each
addition's latency (3-8x NumPy on rows of 1000). The order of operations is NumPy's, so the results are
the same bits."""

import functools

import numpy as np

from ..threads import PARALLEL_MIN_SIZE, cpu_map, cpu_shares
from . import jit


def _running_extreme_kernel(is_max):
    """The running maximum's kernel (or the minimum's): one compiled function for each, as a flag read in the
    loop costs a tenth of a call at 1e3 elements. No jitted helper is called: a closure over one would keep
    numba's cache from serving it, and every process would compile it again (0.8 s)."""

    @jit.njit(nogil=True, cache=True)
    def running_extreme(x, values, indices):
        rows, n = x.shape
        r = 0
        while r + 4 <= rows:  # four rows together: four independent chains of comparisons
            b0, b1, b2, b3 = x[r, 0], x[r + 1, 0], x[r + 2, 0], x[r + 3, 0]
            w0 = w1 = w2 = w3 = 0
            for i in range(n):
                v0, v1, v2, v3 = x[r, i], x[r + 1, i], x[r + 2, i], x[r + 3, i]
                if v0 != v0 or (b0 == b0 and (v0 >= b0 if is_max else v0 <= b0)):
                    b0, w0 = v0, i
                if v1 != v1 or (b1 == b1 and (v1 >= b1 if is_max else v1 <= b1)):
                    b1, w1 = v1, i
                if v2 != v2 or (b2 == b2 and (v2 >= b2 if is_max else v2 <= b2)):
                    b2, w2 = v2, i
                if v3 != v3 or (b3 == b3 and (v3 >= b3 if is_max else v3 <= b3)):
                    b3, w3 = v3, i
                values[r, i], values[r + 1, i], values[r + 2, i], values[r + 3, i] = b0, b1, b2, b3
                indices[r, i], indices[r + 1, i], indices[r + 2, i], indices[r + 3, i] = w0, w1, w2, w3
            r += 4
        for q in range(r, rows):
            best, where = x[q, 0], 0
            for i in range(n):
                v = x[q, i]
                if v != v or (best == best and (v >= best if is_max else v <= best)):
                    best, where = v, i
                values[q, i] = best
                indices[q, i] = where

    return running_extreme


@functools.cache
def _kernels():
    njit = jit.njit

    @njit(nogil=True, cache=True)
    def extremes_grad(g, indices, out):
        """The indices of a row never decrease, so each one's run of gradients is summed in a register."""
        for r in range(g.shape[0]):
            at = indices[r, 0]
            total = 0.0
            for i in range(g.shape[1]):
                out[r, i] = 0
                if indices[r, i] != at:
                    out[r, at] = total
                    at = indices[r, i]
                    total = 0.0
                total += g[r, i]
            out[r, at] = total

    return _running_extreme_kernel(True), _running_extreme_kernel(False), extremes_grad


def _rows(a, n):
    return np.ascontiguousarray(a).reshape(-1, n)


def running_extreme(x, is_max):
    """``(values, indices)`` of the running maximum (or minimum) along the last axis of float ``x``."""
    return _row_scan(_kernels()[0 if is_max else 1], x, indices=True)


def running_extreme_grad(g, indices):
    """cummax/cummin's gradient along the last axis: each of ``g``'s entries added at its index."""
    n = g.shape[-1]
    out = np.empty(g.shape, dtype=g.dtype)
    if not g.size:
        return out
    rows, flat_indices, flat = _rows(g, n), _rows(indices, n), out.reshape(-1, n)
    kernel = _kernels()[2]
    cpu_map(lambda part: kernel(rows[part[0]:part[1]], flat_indices[part[0]:part[1]], flat[part[0]:part[1]]),
            cpu_shares(rows.shape[0], g.size))
    return out


@functools.cache
def _running_kernel():
    @jit.njit(nogil=True, cache=True)
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


def _row_scan(kernel, x, *options, indices=False):
    """A new array from ``kernel(rows, out, *options)`` over the rows of ``x`` along its last axis (with
    ``indices``, ``(out, indices)`` from ``kernel(rows, out, indices, *options)``, the indices int64), the rows
    split over the CPU threads when there are enough elements."""
    outs = (np.empty(x.shape, dtype=x.dtype), np.empty(x.shape, dtype=np.int64)) if indices else \
        (np.empty(x.shape, dtype=x.dtype),)
    if x.size:
        rows, flat = np.ascontiguousarray(x), outs
        if x.ndim != 2:  # a 2-d array already is its rows (two reshapes are a fifth of a call at 1e3)
            n = x.shape[-1]
            rows, flat = rows.reshape(-1, n), [o.reshape(-1, n) for o in outs]
        if x.size < PARALLEL_MIN_SIZE:  # small: no shares, closure or thread team (half the call's cost at 1e3)
            kernel(rows, *flat, *options)
        else:
            cpu_map(lambda part: kernel(rows[part[0]:part[1]], *[o[part[0]:part[1]] for o in flat], *options),
                    cpu_shares(rows.shape[0], x.size))
    return outs if indices else outs[0]


def running(x, product, reverse=False):
    """The cumulative sum (or product) along the last axis of float ``x``; ``reverse`` runs from the end."""
    return _row_scan(_running_kernel(), x, product, reverse)


@functools.cache
def _log_sum_exp_kernel():
    njit = jit.njit

    @njit(inline="always")
    def step(v, top, total):
        """The running maximum and the sum of exp(x - maximum) after ``v``: the sum is rescaled only when
        the maximum moves; equal values add 1 (so equal infinities give no inf - inf); NaN stays NaN."""
        if v > top:
            return v, total * np.exp(top - v) + 1.0
        if v == top:
            return top, total + 1.0
        return top, total + np.exp(v - top)

    @njit(nogil=True, cache=True)
    def log_sum_exp(x, out, reverse):
        rows, n = x.shape
        last = n - 1
        r = 0
        while r + 4 <= rows:  # four rows together: four independent chains
            c = last if reverse else 0
            m0, m1, m2, m3 = x[r, c], x[r + 1, c], x[r + 2, c], x[r + 3, c]
            s0 = s1 = s2 = s3 = 1.0
            out[r, c], out[r + 1, c], out[r + 2, c], out[r + 3, c] = m0, m1, m2, m3
            for i in range(1, n):
                c = last - i if reverse else i
                m0, s0 = step(x[r, c], m0, s0)
                m1, s1 = step(x[r + 1, c], m1, s1)
                m2, s2 = step(x[r + 2, c], m2, s2)
                m3, s3 = step(x[r + 3, c], m3, s3)
                out[r, c], out[r + 1, c] = m0 + np.log(s0), m1 + np.log(s1)
                out[r + 2, c], out[r + 3, c] = m2 + np.log(s2), m3 + np.log(s3)
            r += 4
        for q in range(r, rows):
            c = last if reverse else 0
            m, s = x[q, c], 1.0
            out[q, c] = m
            for i in range(1, n):
                c = last - i if reverse else i
                m, s = step(x[q, c], m, s)
                out[q, c] = m + np.log(s)

    return log_sum_exp


def log_cum_sum_exp(x, reverse=False):
    """logcumsumexp along the last axis of float ``x`` in one pass (one exp and one log an element, where
    NumPy's ``logaddexp.accumulate`` takes a strided serial loop); ``reverse`` runs from the end."""
    return _row_scan(_log_sum_exp_kernel(), x, reverse)
