"""Compiled CPU kernels (numba) for max pooling: the maximum and its index in one pass, and a backward that
adds each window's gradient at that index (one scatter, as PyTorch does). PyTorch's rule: a window's index
is its first maximum in scan order, except that a NaN always takes it, and a window of -inf keeps its first
element; padding and ceil-mode windows skip positions outside the input. Measurements: bench/NOTES.md.
"""

import functools

import numpy as np

from . import jit


@functools.cache
def _kernel(kh, kw, nan_aware):
    """The forward kernel compiled for a kh x kw window (the sizes are constants, so the loops unroll).

    Checking every element for NaN in the comparison makes the loop eight times slower, so the plain kernel
    compares with ``>`` alone and only reports whether it saw a NaN; the caller then reruns those images
    with ``nan_aware``, which applies PyTorch's rule.
    """
    njit = jit.njit

    @njit(nogil=True, cache=True)
    def forward(x, h_in, w_in, out, index, n0, n1, sh, sw, ph, pw, dh, dw):
        """out and index (N, C, oh, ow) of images n0:n1 of x (N, C, H*W), index flat over H*W; returns
        whether a NaN was seen."""
        c_in = x.shape[1]
        oh, ow = out.shape[2], out.shape[3]
        seen_nan = False
        for n in range(n0, n1):
            for c in range(c_in):
                plane = x[n, c]
                for r in range(oh):
                    top = r * sh - ph
                    rows_inside = top >= 0 and top + (kh - 1) * dh < h_in
                    for s in range(ow):
                        left = s * sw - pw
                        if rows_inside and left >= 0 and left + (kw - 1) * dw < w_in:
                            at = top * w_in + left  # the whole window is inside: no bounds checks
                            best = plane[at]
                            for i in range(kh):
                                for j in range(kw):
                                    p = (top + i * dh) * w_in + left + j * dw
                                    v = plane[p]
                                    if nan_aware:
                                        if v > best or v != v:
                                            best = v
                                            at = p
                                    else:
                                        seen_nan |= v != v
                                        if v > best:
                                            best = v
                                            at = p
                        else:
                            at = -1
                            best = plane[0]
                            for i in range(kh):
                                h = top + i * dh
                                if 0 <= h < h_in:
                                    for j in range(kw):
                                        w = left + j * dw
                                        if 0 <= w < w_in:
                                            v = plane[h * w_in + w]
                                            seen_nan |= v != v
                                            if at < 0 or v > best or (nan_aware and v != v):
                                                best = v
                                                at = h * w_in + w
                        out[n, c, r, s] = best
                        index[n, c, r, s] = at
        return seen_nan

    return forward


@functools.cache
def _shared_forward(kh, kw):
    """The forward for images n0:n1 (last, as ``jit.RangeKernel`` passes them), rerun NaN-aware where it saw a
    NaN, on numba's threads."""
    plain, nan_aware = _kernel(kh, kw, False), _kernel(kh, kw, True)

    def forward(x, h_in, w_in, out, index, sh, sw, ph, pw, dh, dw, n0, n1):
        if plain(x, h_in, w_in, out, index, n0, n1, sh, sw, ph, pw, dh, dw):
            nan_aware(x, h_in, w_in, out, index, n0, n1, sh, sw, ph, pw, dh, dw)

    return jit.RangeKernel(jit.njit(forward, nogil=True, cache=True), nogil=True, cache=True)


@functools.cache
def _scatter():
    @jit.njit(nogil=True, cache=True)
    def scatter(g, index, gx, n0, n1):
        """gx (N, C, H*W), zeroed, += g at index, for images n0:n1."""
        c_in, oh, ow = g.shape[1], g.shape[2], g.shape[3]
        for n in range(n0, n1):
            for c in range(c_in):
                for r in range(oh):
                    for s in range(ow):
                        gx[n, c, index[n, c, r, s]] += g[n, c, r, s]

    return jit.RangeKernel(scatter, nogil=True, cache=True)


def forward(x, kernel, stride, padding, dilation, out_size):
    """(output, int64 index of each window's maximum, flat over the input's H*W); ``x`` is (N, C, H, W)."""
    x = np.ascontiguousarray(x)
    shape = (*x.shape[:2], *out_size)
    out = np.empty(shape, dtype=x.dtype)
    index = np.empty(shape, dtype=np.int64)
    flat = x.reshape(*x.shape[:2], -1)
    h, w = x.shape[2:]
    _shared_forward(*kernel).run(x.shape[0], out.size * kernel[0] * kernel[1], flat, h, w, out, index, *stride,
                                 *padding, *dilation)
    return out, index


def backward(g, index, shape):
    """The input's gradient (``shape``, (N, C, H, W)) from the output's and ``forward``'s index."""
    g = np.ascontiguousarray(g)
    gx = np.zeros((shape[0], shape[1], shape[2] * shape[3]), dtype=g.dtype)
    _scatter().run(shape[0], g.size, g, index, gx)
    return gx.reshape(shape)
