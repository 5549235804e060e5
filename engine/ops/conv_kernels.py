"""Compiled CPU kernels (numba) for the common convolution: float32, stride 1, no dilation, one group.

They convolve directly, with no column matrix: each image is zero-padded and flattened (``conv_wide``'s
"wide" layout), and output rows are computed on the full padded width, so that every kernel tap reads
at a fixed offset and LLVM vectorises the pass; the ``kw - 1`` wrapped columns per row are dropped. The
input gradient is the forward kernel on the padded output gradient with the flipped, transposed weight.
The batch is split over numba's threads. Measurements: bench/NOTES.md.
"""

import functools

import numpy as np

from ..threads import PRODUCT_MIN_MACS
from . import jit


@functools.cache
def _kernels(kh, kw):
    """(forward, weight_grad) compiled for a kh x kw kernel (numba takes the sizes as constants)."""
    njit = jit.njit

    @njit(nogil=True, fastmath=set(jit.FLAGS), cache=True)
    def forward(xf, w, bias, out, n0, n1, wp, plane):
        """out[n0:n1] (N, K, oh, ow) from the flat padded input ``xf``; ``plane`` = Hp * Wp."""
        k_out, c_in = w.shape[0], w.shape[1]
        oh, ow = out.shape[2], out.shape[3]
        length = oh * wp
        acc0 = np.empty(length, np.float32)
        acc1 = np.empty(length, np.float32)
        for n in range(n0, n1):
            for k0 in range(0, k_out, 2):
                k1 = min(k0 + 1, k_out - 1)
                acc0[:] = bias[k0]
                acc1[:] = bias[k1]
                for c in range(c_in):
                    base = (n * c_in + c) * plane
                    for i in range(kh):
                        w0 = w[k0, c, i]
                        w1 = w[k1, c, i]
                        start = base + i * wp
                        xr = xf[start:start + length + kw - 1]
                        for q in range(length):
                            a = acc0[q]
                            b = acc1[q]
                            for j in range(kw):
                                v = xr[q + j]
                                a += w0[j] * v
                                b += w1[j] * v
                            acc0[q] = a
                            acc1[q] = b
                for r in range(oh):
                    for s in range(ow):
                        out[n, k0, r, s] = acc0[r * wp + s]
                        out[n, k1, r, s] = acc1[r * wp + s]

    @njit(nogil=True, fastmath=set(jit.FLAGS), cache=True)
    def weight_grad(xf, gwide, gw, n0, n1, wp, plane):
        """gw (K, C, kh, kw) += the weight gradient of images n0:n1; ``gwide`` (N, K, oh * Wp), 0 where dropped."""
        k_out, c_in = gw.shape[0], gw.shape[1]
        length = gwide.shape[2]
        for n in range(n0, n1):
            for k0 in range(0, k_out, 2):
                k1 = min(k0 + 1, k_out - 1)
                g0 = gwide[n, k0]
                g1 = gwide[n, k1]
                for c in range(c_in):
                    base = (n * c_in + c) * plane
                    for i in range(kh):
                        start = base + i * wp
                        xr = xf[start:start + length + kw - 1]
                        for j0 in range(0, kw, 2):
                            j1 = min(j0 + 1, kw - 1)
                            a00 = np.float32(0)
                            a10 = np.float32(0)
                            a01 = np.float32(0)
                            a11 = np.float32(0)
                            for q in range(length):
                                u = xr[q + j0]
                                v = xr[q + j1]
                                p0 = g0[q]
                                p1 = g1[q]
                                a00 += p0 * u
                                a10 += p1 * u
                                a01 += p0 * v
                                a11 += p1 * v
                            gw[k0, c, i, j0] += a00
                            if j1 != j0:
                                gw[k0, c, i, j1] += a01
                            if k1 != k0:
                                gw[k1, c, i, j0] += a10
                                if j1 != j0:
                                    gw[k1, c, i, j1] += a11

    return forward, weight_grad


@functools.cache
def _pad_kernel():
    @jit.njit(nogil=True, fastmath=set(jit.FLAGS), cache=True)
    def pad(x, flat, n0, n1, pt, pl, hp, wp):
        """Images n0:n1 of the C-contiguous x (N, C, H, W) into ``flat`` as zero-padded hp x wp planes (pt
        rows above, pl columns left); returns the per-channel sums of the values copied (float64), inf or
        NaN where one is. Loops run over slices: indexing ``flat`` at computed offsets instead kept LLVM
        from vectorising them (four times slower)."""
        c_in, h, w = x.shape[1], x.shape[2], x.shape[3]
        source = x.reshape(-1)
        sums = np.zeros(c_in)
        for n in range(n0, n1):
            for c in range(c_in):
                plane = source[(n * c_in + c) * h * w:(n * c_in + c + 1) * h * w]
                padded = flat[(n * c_in + c) * hp * wp:(n * c_in + c + 1) * hp * wp]
                total = np.float32(0)
                if hp == h and wp == w:
                    for i in range(h * w):
                        v = plane[i]
                        padded[i] = v
                        total += v
                else:
                    padded[:] = 0
                    for r in range(h):
                        line = plane[r * w:(r + 1) * w]
                        row = padded[(pt + r) * wp + pl:(pt + r) * wp + pl + w]
                        for s in range(w):
                            v = line[s]
                            row[s] = v
                            total += v
                sums[c] += total
        return sums

    return pad


class _Wide:
    """The wide layout of an (N, C, H, W) array: a flat buffer of its zero-padded images, plus ``slack``
    zeros at the end; the kernels of ``_shared`` pad each share of the images in (each thread its own,
    just before using them)."""

    def __init__(self, a, pads, slack):
        self.a = a if a.flags.c_contiguous else np.ascontiguousarray(a)
        n, c, h, w = a.shape
        pt, pb, pl, pr = pads
        self.top, self.left, self.hp, self.wp = pt, pl, h + pt + pb, w + pl + pr
        size = n * c * self.hp * self.wp
        self.flat = np.empty(size + slack, dtype=a.dtype)
        self.flat[size:] = 0


@functools.cache
def _shared(kh, kw):
    """(forward, weight_grad) over shares of the batch (``jit.RangeKernel``), each share padding its images into
    the wide layout and convolving them, on numba's threads: one team of spinning threads with the norms, ReLU
    and oneDNN, where the engine's Python workers woke a halted core per call (bench/NOTES.md)."""
    forward_images, weight_grad_images = _kernels(kh, kw)
    pad = _pad_kernel()

    def forward(x, flat, top, left, hp, wp, weight, bias, out, n0, n1):
        pad(x, flat, n0, n1, top, left, hp, wp)
        forward_images(flat, weight, bias, out, n0, n1, wp, hp * wp)

    def weight_grad(g, gflat, planes, flat, gw, sums, wp, plane, part, n0, n1):
        """``gw[part]`` and ``sums[part]``: the weight gradient and per-channel sums of ``g`` of images n0:n1."""
        sums[part] = pad(g, gflat, n0, n1, 0, 0, g.shape[2], wp)
        weight_grad_images(flat, planes, gw[part], n0, n1, wp, plane)

    options = {"nogil": True, "fastmath": set(jit.FLAGS), "cache": True}
    return (jit.RangeKernel(jit.njit(forward, **options), **options),
            jit.RangeKernel(jit.njit(weight_grad, **options), indexed=True, **options))


def forward(x, w, b, pads):
    """(output (N, K, oh, ow), the flat padded input kept for ``weight_grad``). The dropped columns multiply
    input values by zero in ``weight_grad`` and padding zeros by the weight in ``input_grad``: the caller
    handles a non-finite weight or weight gradient."""
    n = x.shape[0]
    k, _, kh, kw = w.shape
    wide = _Wide(x, pads, kw - 1)
    wp = wide.wp
    out = np.empty((n, k, wide.hp - kh + 1, wp - kw + 1), dtype=np.float32)
    bias = np.zeros(k, np.float32) if b is None else np.ascontiguousarray(b)
    weight = np.ascontiguousarray(w)
    _shared(kh, kw)[0].run(n, out.size * weight[0].size, wide.a, wide.flat, wide.top, wide.left, wide.hp, wp, weight,
                           bias, out, min_work=PRODUCT_MIN_MACS)
    return out, wide.flat


def weight_grad(g, flat, w_shape, pads, x_shape):
    """The gradients of the weight and of a bias (the per-channel sums of ``g``, which the padding pass over
    ``g`` makes) from the output gradient ``g`` and ``forward``'s padded input."""
    n, k, oh, ow = g.shape
    _, _, kh, kw = w_shape
    wp = x_shape[3] + pads[2] + pads[3]
    plane = (x_shape[2] + pads[0] + pads[1]) * wp
    gwide = _Wide(g, (0, 0, 0, wp - ow), 0)  # zero in the dropped columns
    planes = gwide.flat.reshape(n, k, oh * wp)
    kernel, work = _shared(kh, kw)[1], planes.size * w_shape[1] * kh * kw
    parts = kernel.shares(n, work, PRODUCT_MIN_MACS)
    gw, sums = np.zeros((parts, *w_shape), dtype=np.float32), np.empty((parts, k))
    kernel.run(n, work, gwide.a, gwide.flat, planes, flat, gw, sums, wp, plane, min_work=PRODUCT_MIN_MACS,
               shares=parts)
    return gw.sum(0), sums.sum(0).astype(np.float32)


def input_grad(g, w, pads):
    """The input's gradient: ``g`` convolved with the flipped, transposed weight, padded by ``k - 1 - p``."""
    kh, kw = w.shape[2:]
    pt, pb, pl, pr = pads
    flipped = np.ascontiguousarray(w.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1])
    return forward(g, flipped, None, (kh - 1 - pt, kh - 1 - pb, kw - 1 - pl, kw - 1 - pr))[0]
