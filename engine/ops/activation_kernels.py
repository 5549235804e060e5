"""Compiled CPU kernels (numba) for prelu on float arrays: one pass forward, one backward that gives the
input's gradient and each thread's per-channel sums for the weight's. The input is seen as (N, C, M): batch,
channels (one weight each, or C = 1 for a shared weight), and the positions of each channel."""

import functools

import numpy as np

from ..threads import cpu_map, cpu_shares
from . import jit


@functools.cache
def _kernels():
    njit = jit.njit

    @njit(nogil=True, cache=True)
    def forward(x, w, y, start, stop):
        zero = x.dtype.type(0)
        for n in range(start, stop):
            for c in range(x.shape[1]):
                slope = w[c]
                for m in range(x.shape[2]):
                    v = x[n, c, m]
                    y[n, c, m] = v if v > zero else v * slope

    @njit(nogil=True, cache=True)
    def backward(x, w, g, gx, gw, start, stop):
        zero = x.dtype.type(0)
        for n in range(start, stop):
            for c in range(x.shape[1]):
                slope = w[c]
                total = 0.0
                for m in range(x.shape[2]):
                    v, d = x[n, c, m], g[n, c, m]
                    if v > zero:
                        gx[n, c, m] = d
                    else:
                        gx[n, c, m] = d * slope
                        total += d * v
                gw[c] += total

    return forward, backward


def _as_ncm(a, channels):
    """``a`` (C-contiguous) as (N, C, M) with ``channels`` along axis 1 (1: everything in one channel)."""
    if channels == 1:
        return a.reshape(1, 1, -1)
    return a.reshape(a.shape[0], channels, -1)


def forward(x, w):
    x = np.ascontiguousarray(x)
    y = np.empty_like(x)
    x3, y3 = _as_ncm(x, w.size), _as_ncm(y, w.size)
    kernel = _kernels()[0]
    cpu_map(lambda share: kernel(x3, w, y3, *share), cpu_shares(x3.shape[0], x.size))
    return y


def backward(x, w, g, need_weight):
    """(gradient of the input, of the weight or None)."""
    x = np.ascontiguousarray(x)
    g = np.ascontiguousarray(g, dtype=x.dtype)
    gx = np.empty_like(x)
    x3, g3, gx3 = _as_ncm(x, w.size), _as_ncm(g, w.size), _as_ncm(gx, w.size)
    shares = cpu_shares(x3.shape[0], x.size)
    partial = np.zeros((len(shares), w.size), dtype=np.float64)  # per-thread sums, added in float64
    kernel = _kernels()[1]
    cpu_map(lambda k: kernel(x3, w, g3, gx3, partial[k], *shares[k]), range(len(shares)))
    gw = partial.sum(axis=0).astype(w.dtype).reshape(w.shape) if need_weight else None
    return gx, gw
