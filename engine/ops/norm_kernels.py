"""Compiled CPU kernels (numba) for batch normalisation over (N, C, L) views: the per-channel moments and
gradient sums, and the per-channel affine maps, each of numba's threads taking a share of the channels: four
passes each way. Sums run in float64 across rows; the normalisation is ``(x - mean) * scale + shift``, so a channel
with a large mean keeps its precision, as in PyTorch. Measurements: bench/NOTES.md.
"""

import functools

import numpy as np

from . import jit


@functools.cache
def _kernels():
    njit = jit.njit
    flags = set(jit.FLAGS)

    @njit(nogil=True, fastmath=flags, cache=True)
    def moments(x, mean, var, c0, c1):
        """Per-channel mean and (biased) variance of x (N, C, L), two passes, for channels c0:c1."""
        n_, length = x.shape[0], x.shape[2]
        count = n_ * length
        for c in range(c0, c1):
            total = 0.0
            for n in range(n_):
                row = x[n, c]
                acc = x.dtype.type(0)
                for i in range(length):
                    acc += row[i]
                total += acc
            m = x.dtype.type(total / count)
            total = 0.0
            for n in range(n_):
                row = x[n, c]
                acc = x.dtype.type(0)
                for i in range(length):
                    d = row[i] - m
                    acc += d * d
                total += acc
            mean[c] = m
            var[c] = total / count

    @njit(nogil=True, fastmath=flags, cache=True)
    def normalize(x, mean, scale, shift, y, c0, c1):
        """y = (x - mean) * scale + shift, per channel, for channels c0:c1."""
        for c in range(c0, c1):
            m, s, t = mean[c], scale[c], shift[c]
            for n in range(x.shape[0]):
                row, out = x[n, c], y[n, c]
                for i in range(row.size):
                    out[i] = (row[i] - m) * s + t

    @njit(nogil=True, fastmath=flags, cache=True)
    def grad_sums(g, x, mean, gsum, gdot, c0, c1):
        """Per channel, the sum of g and of g * (x - mean) (float64), for channels c0:c1."""
        for c in range(c0, c1):
            m = mean[c]
            total = 0.0
            dot = 0.0
            for n in range(x.shape[0]):
                grow, row = g[n, c], x[n, c]
                acc = x.dtype.type(0)
                accd = x.dtype.type(0)
                for i in range(row.size):
                    v = grow[i]
                    acc += v
                    accd += v * (row[i] - m)
                total += acc
                dot += accd
            gsum[c] = total
            gdot[c] = dot

    @njit(nogil=True, fastmath=flags, cache=True)
    def grad_input(g, x, mean, k, c_x, c_0, gx, c0, c1):
        """gx = g * k - (x - mean) * c_x - c_0, per channel, for channels c0:c1."""
        for c in range(c0, c1):
            m, a, b, d = mean[c], k[c], c_x[c], c_0[c]
            for n in range(x.shape[0]):
                grow, row, out = g[n, c], x[n, c], gx[n, c]
                for i in range(row.size):
                    out[i] = grow[i] * a - (row[i] - m) * b - d

    return tuple(jit.RangeKernel(k, nogil=True, fastmath=flags, cache=True)
                 for k in (moments, normalize, grad_sums, grad_input))


def _rows(a):
    """The C-contiguous (N, C, L) view of an (N, C, ...) array."""
    a = a if a.flags.c_contiguous else np.ascontiguousarray(a)
    return a.reshape(a.shape[0], a.shape[1], -1)


def _over_channels(kernel, x, *arrays):
    kernel.run(x.shape[1], x.size, *arrays)


def moments(x):
    """Per-channel (mean, biased variance) of ``x`` (N, C, ...), in its dtype."""
    rows = _rows(x)
    mean = np.empty(x.shape[1], dtype=x.dtype)
    var = np.empty(x.shape[1], dtype=x.dtype)
    _over_channels(_kernels()[0], x, rows, mean, var)
    return mean, var


def normalize(x, mean, scale, shift):
    """``(x - mean) * scale + shift`` with per-channel vectors, shaped like ``x``."""
    rows = _rows(x)
    y = np.empty(rows.shape, dtype=x.dtype)
    _over_channels(_kernels()[1], x, rows, mean, scale, shift, y)
    return y.reshape(x.shape)


def grad_sums(g, x, mean):
    """Per-channel (sum of g, sum of g * (x - mean)), in ``x``'s dtype."""
    gsum = np.empty(x.shape[1])
    gdot = np.empty(x.shape[1])
    _over_channels(_kernels()[2], x, _rows(g), _rows(x), mean, gsum, gdot)
    return gsum.astype(x.dtype), gdot.astype(x.dtype)


def grad_input(g, x, mean, k, c_x, c_0):
    """``g * k - (x - mean) * c_x - c_0`` with per-channel vectors, shaped like ``x``."""
    rows = _rows(x)
    gx = np.empty(rows.shape, dtype=x.dtype)
    _over_channels(_kernels()[3], x, _rows(g), rows, mean, k, c_x, c_0, gx)
    return gx.reshape(x.shape)
