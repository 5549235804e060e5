"""Compiled CPU kernels (numba) for layer and group normalisation: each normalised row (a sample's trailing
values, or a sample's group of channels) is read and written while it sits in cache, so the forward pass
is one read and one write of the data, and the backward pass one read of ``g`` and ``x`` and one write.
Threads take shares of the rows. The moments take one pass, shifted by the row's first value (two where that
value lies far from the mean); sums run in the input's dtype over short spans (vectorised lanes: 1024 values, a
channel's positions, a block of rows) and in float64 across them.
"""

import functools

import numpy as np

from . import dense, jit

LAYER_THREADED_SIZE = 1 << 15


@functools.cache
def _kernels():
    njit = jit.njit
    flags = set(jit.FLAGS)

    @njit(nogil=True, fastmath=flags, error_model="numpy", cache=True, inline="always")
    def moments(row, eps, inv_m):
        """The (mean, invstd) of a row, in its dtype, from the sums of d = row - row[0] and of d^2: one pass, in
        the row's dtype over chunks of 1024 values (vectorised lanes) and in float64 across chunks. Where the shift
        lies more than two deviations from the mean, E[d^2] - E[d]^2 cancels digits (a relative error of 1e-4 to
        7e-4 with an outlier first, against PyTorch's 1e-7), and a second pass sums the squared deviations from
        the mean instead. ``inv_m`` is 1 / row.size: each row's scalars are a chain that the next row waits on,
        and divisions there, and the call, made a quarter of a short row's time (hence also inlined)."""
        shift = row[0]
        t1 = 0.0
        t2 = 0.0
        for lo in range(0, row.size, 1024):
            chunk = row[lo:lo + 1024]  # a slice: loops over computed offsets do not vectorise
            acc = row.dtype.type(0)
            acc2 = row.dtype.type(0)
            for i in range(chunk.size):
                d = chunk[i] - shift
                acc += d
                acc2 += d * d
            t1 += acc
            t2 += acc2
        d = t1 * inv_m
        var = t2 * inv_m - d * d
        mean = row.dtype.type(shift + d)
        if d * d > 4.0 * var:
            t2 = 0.0
            for lo in range(0, row.size, 1024):
                chunk = row[lo:lo + 1024]
                acc2 = row.dtype.type(0)
                for i in range(chunk.size):
                    e = chunk[i] - mean
                    acc2 += e * e
                t2 += acc2
            var = t2 * inv_m
        return mean, row.dtype.type(1 / np.sqrt(max(var, 0.0) + eps))

    @njit(nogil=True, fastmath=flags, error_model="numpy", cache=True)
    def layer_forward(x, w, b, eps, y, stats, r0, r1):
        """Rows r0:r1: y = (x - mean) * invstd * w + b over each row of x (R, M); keeps each row's mean and
        invstd in ``stats`` (2, R)."""
        inv_m = 1.0 / x.shape[1]
        for r in range(r0, r1):
            row, out = x[r], y[r]
            mu, rs = moments(row, eps, inv_m)
            for i in range(row.size):
                out[i] = (row[i] - mu) * (rs * w[i]) + b[i]
            stats[0, r], stats[1, r] = mu, rs

    @njit(nogil=True, fastmath=flags, error_model="numpy", cache=True)
    def layer_backward(g, x, mean, invstd, w, gx, sums, part, r0, r1):
        """Rows r0:r1: gx = invstd * (g w - mean(g w) - xhat mean(g w xhat)) when ``gx`` has rows, and the
        sums of g * xhat and of g over the rows added to ``gw, gb = sums[part]`` (float64) when they have
        values (in the input's dtype over blocks of rows, then in float64). A ``g`` of one row is every row's."""
        m = x.shape[1]
        same_g = g.shape[0] == 1
        gw, gb = sums[part, 0], sums[part, 1]
        summing = gw.size > 0
        bw = np.zeros(m if summing else 0, dtype=x.dtype)
        bb = np.zeros(m if summing else 0, dtype=x.dtype)
        inv_m = x.dtype.type(1) / x.dtype.type(m)
        for r in range(r0, r1):
            grow, row, mu, rs = g[0 if same_g else r], x[r], mean[r], invstd[r]
            a = x.dtype.type(0)
            c = x.dtype.type(0)
            if summing:
                for i in range(m):
                    v = grow[i]
                    xh = (row[i] - mu) * rs
                    gh = v * w[i]
                    a += gh
                    c += gh * xh
                    bw[i] += v * xh
                    bb[i] += v
                if (r - r0) % 64 == 63 or r == r1 - 1:
                    for i in range(m):
                        gw[i] += bw[i]
                        gb[i] += bb[i]
                        bw[i] = 0
                        bb[i] = 0
            else:
                for i in range(m):
                    gh = grow[i] * w[i]
                    a += gh
                    c += gh * ((row[i] - mu) * rs)
            if gx.shape[0] > 0:
                a *= inv_m
                c *= inv_m
                for i in range(m):
                    gx[r, i] = (grow[i] * w[i] - a - (row[i] - mu) * rs * c) * rs

    @njit(nogil=True, fastmath=flags, error_model="numpy", cache=True)
    def group_forward(x, flat, w, b, eps, y, mean, invstd, p0, p1):
        """Rows p0:p1 of ``flat`` (N * G, C / G * L), each a sample's group of channels of x (N, C, L):
        y = (x - mean) * invstd * w[c] + b[c]; keeps each row's statistics."""
        groups = flat.shape[0] // x.shape[0]
        cg = x.shape[1] // groups
        inv_m = 1.0 / flat.shape[1]
        for p in range(p0, p1):
            mu, rs = moments(flat[p], eps, inv_m)
            n, c0 = p // groups, (p % groups) * cg
            for c in range(c0, c0 + cg):
                s, t, xr, out = rs * w[c], b[c], x[n, c], y[n, c]
                for i in range(xr.size):
                    out[i] = (xr[i] - mu) * s + t
            mean[p], invstd[p] = mu, rs

    @njit(nogil=True, fastmath=flags, error_model="numpy", cache=True)
    def group_backward(g, x, mean, invstd, w, gx, gsum, gdot, p0, p1):
        """Rows p0:p1 (sample n, group): per channel the sums of g and of g * (x - mean) into ``gsum`` and
        ``gdot`` (N, C, float64), then, when ``gx`` has values, gx = invstd * (g w - mean(g w) - xhat
        mean(g w xhat)) over the group. ``g`` is (N * C, L), or one row (1, L) that is every channel's."""
        groups = mean.size // x.shape[0]
        channels = x.shape[1]
        same_g = g.shape[0] == 1
        cg = channels // groups
        m = cg * x.shape[2]
        for p in range(p0, p1):
            n, c0, mu, rs = p // groups, (p % groups) * cg, mean[p], invstd[p]
            a = 0.0
            d = 0.0
            for c in range(c0, c0 + cg):
                grow, xr = g[0 if same_g else n * channels + c], x[n, c]
                acc = x.dtype.type(0)
                accd = x.dtype.type(0)
                for i in range(xr.size):
                    v = grow[i]
                    acc += v
                    accd += v * (xr[i] - mu)
                gsum[n, c], gdot[n, c] = acc, accd
                a += w[c] * acc
                d += w[c] * accd
            if gx.size > 0:
                k0 = x.dtype.type(-rs * a / m)
                kx = x.dtype.type(-rs * rs * rs * d / m)
                for c in range(c0, c0 + cg):
                    s, grow, xr, out = rs * w[c], g[0 if same_g else n * channels + c], x[n, c], gx[n, c]
                    for i in range(xr.size):
                        out[i] = grow[i] * s + (xr[i] - mu) * kx + k0

    options = {"nogil": True, "fastmath": flags, "error_model": "numpy", "cache": True}
    return (jit.RangeKernel(layer_forward, **options), jit.RangeKernel(layer_backward, indexed=True, **options),
            jit.RangeKernel(group_forward, **options), jit.RangeKernel(group_backward, **options))


def _contiguous(a):
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def _vector(p, n, dtype, fill):
    """An affine parameter (of the input's dtype) flattened to ``n`` values, or ``fill`` (0 or 1) where it is
    absent."""
    if p is None:
        return np.full(n, fill, dtype=dtype)
    if p.ndim == 1 and p.flags.c_contiguous:  # a layer's own weight or bias, as it is
        return p
    return _contiguous(p).reshape(n)


def layer_forward(x, w, b, m, eps):
    """Layer norm of ``x`` over rows of its last ``m`` values: (y shaped like x, row means, row invstds)."""
    n, dt = x.size // m, x.dtype
    rows = _contiguous(x).reshape(n, m)
    y = np.empty(x.shape, dtype=dt)  # the output owns its memory (not a view of a (rows, m) array)
    stats = np.empty((2, n), dtype=dt)
    _kernels()[0].run(n, x.size, rows, _vector(w, m, dt, 1), _vector(b, m, dt, 0), dt.type(eps), y.reshape(n, m),
                      stats, min_work=LAYER_THREADED_SIZE)
    return y, stats[0], stats[1]


def layer_backward(g, x, mean, invstd, w, need_x, need_params):
    """(gx shaped like x or None, float64 sums over rows of g * xhat and of g, or None) of layer norm."""
    m = x.size // mean.size if mean.size else 1
    rows, grows = _contiguous(x).reshape(-1, m), dense.rows(g, m)
    dt = x.dtype
    gx = np.empty(x.shape, dtype=dt) if need_x else None  # owning its memory, autograd's .grad can take it
    out = gx.reshape(rows.shape) if need_x else np.empty((0, m), dtype=dt)
    shares = jit.RangeKernel.shares(rows.shape[0], x.size, LAYER_THREADED_SIZE)
    sums = np.zeros((shares, 2, m if need_params else 0))
    _kernels()[1].run(rows.shape[0], x.size, grows, rows, mean, invstd, _vector(w, m, dt, 1), out, sums,
                      min_work=LAYER_THREADED_SIZE, shares=shares)
    return gx, ((sums[0] if shares == 1 else sums.sum(0)) if need_params else None)


def group_forward(x, w, b, groups, eps):
    """Group norm of ``x`` (N, C, ...): (y shaped like x, means and invstds of the N * G rows)."""
    xc = _contiguous(x)
    n, c = x.shape[0], x.shape[1]
    x3, flat = xc.reshape(n, c, -1), xc.reshape(n * groups, -1)
    dt = x.dtype
    y = np.empty(x.shape, dtype=dt)
    mean, invstd = stats = np.empty((2, n * groups), dtype=dt)
    args = (x3, flat, _vector(w, c, dt, 1), _vector(b, c, dt, 0), dt.type(eps), y.reshape(x3.shape), *stats)
    _kernels()[2].run(n * groups, x.size, *args)
    return y, mean, invstd


def group_backward(g, x, mean, invstd, w, groups, need_x):
    """(gx shaped like x or None, per-(sample, channel) float64 sums of g and of g * (x - mean)) of group norm. A
    gradient whose planes are all the same (a sum's) goes in as that one plane (``dense.rows``)."""
    n, c = x.shape[0], x.shape[1]
    x3 = _contiguous(x).reshape(n, c, -1)
    g3 = dense.rows(g, x3.shape[2])
    gx = np.empty(x.shape, dtype=x.dtype) if need_x else None
    out = gx.reshape(x3.shape) if need_x else np.empty((0, 0, 0), dtype=x.dtype)
    gsum, gdot = np.empty((n, c)), np.empty((n, c))
    args = (g3, x3, mean, invstd, _vector(w, c, x.dtype, 1), out, gsum, gdot)
    _kernels()[3].run(mean.size, x.size, *args)
    return gx, gsum, gdot
