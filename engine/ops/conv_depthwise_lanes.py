"""Depthwise convolution of narrow planes (one filter per channel; ConvNeXt's and MobileNet's late stages),
vectorised across the channels: each image is copied channels-last into a zero-padded buffer, and every tap
is then one multiply-add of a channel vector per output column. Tap rows that fall in the top or bottom padding
are skipped (a 7x7 kernel over a 4x4 plane padded by 3 reads input in 4 of its 7 rows); the padding columns
are read as zeros, since a column range that changes with the output column stops the taps' unrolling.

``conv_depthwise``'s plane kernel vectorises along a plane's rows instead; on an 8x8 plane under a 7x7 kernel
those rows are 14 columns wide, 8 of them kept, and a 4x4 plane keeps 4 of 10, where the channels (64 to 768
of them) fill every lane. The images are split over numba's threads, each with a buffer whose padding is
zeroed once. Measured against the plane kernel in bench/NOTES.md: it wins up to 8 columns.
"""

import functools

import numpy as np

from . import jit


@functools.cache
def _kernel(kw, dw):
    """The kernel for kernel width ``kw`` and column dilation ``dw``, constants in it so that a row's taps
    unroll. Indices are unsigned: numba's wrap-around test of a signed index that may be negative keeps
    LLVM from vectorising (1 against 19 GMAC/s measured)."""
    prange = jit.numba().prange

    def depthwise_lanes(x, taps, bias, out, parts, pt, pl, sh, dh):
        """``out`` (N, C, oh, ow) from ``x`` (N, C, H, W), ``taps`` (kh, kw * C) and ``bias`` (C), unit column
        stride, the images cut into ``parts``; top and left padding ``pt``, ``pl``, row stride ``sh`` and
        row dilation ``dh``."""
        n_img, c_in, h, wd = x.shape
        kh = taps.shape[0]
        oh, ow = out.shape[2], out.shape[3]
        hp, wp = (oh - 1) * sh + (kh - 1) * dh + 1, ow + (kw - 1) * dw
        rows, cols = min(h, hp - pt), min(wd, wp - pl)  # the input rows and columns that some output reads
        lanes, reach = np.uint64(c_in), np.uint64(dw * c_in)
        for part in prange(parts):
            buf = np.zeros((hp, wp * c_in), x.dtype)  # channels last; the padding stays zero
            acc = np.empty(ow * c_in, x.dtype)
            for n in range(n_img * part // parts, n_img * (part + 1) // parts):
                image = x[n]
                for y in range(rows):
                    line = buf[y + pt]
                    for q in range(cols):
                        cell = line[(q + pl) * c_in:(q + pl + 1) * c_in]
                        for c in range(c_in):
                            cell[c] = image[c, y, q]
                for r in range(oh):
                    for q in range(ow):
                        for c in range(c_in):
                            acc[q * c_in + c] = bias[c]
                    top = r * sh - pt  # the input row of tap row 0; rows of the padding add nothing
                    for i in range(max(0, -(top // dh)), min(kh, (h - 1 - top) // dh + 1)):
                        src, weights = buf[r * sh + i * dh], taps[i]
                        for q in range(np.uint64(ow)):
                            first = q * lanes
                            for c in range(lanes):
                                a = acc[first + c]
                                for j in range(np.uint64(kw)):
                                    a += weights[j * lanes + c] * src[first + j * reach + c]
                                acc[first + c] = a
                    for c in range(c_in):
                        line = out[n, c, r]
                        for q in range(ow):
                            line[q] = acc[q * c_in + c]

    return jit.ThreadedKernel(depthwise_lanes, nogil=True, cache=True, fastmath=set(jit.FLAGS))


def forward(x, w, b, stride, pads, dilation, out_hw):
    """The output (N, C, oh, ow) of a depthwise convolution with one filter per channel, ``w`` (C, 1, kh, kw),
    and unit column stride."""
    n, c = x.shape[:2]
    kh, kw = w.shape[2:]
    out = np.empty((n, c, *out_hw), dtype=x.dtype)
    taps = np.ascontiguousarray(w.reshape(c, kh, kw).transpose(1, 2, 0)).reshape(kh, kw * c)
    bias = np.zeros(c, x.dtype) if b is None else np.ascontiguousarray(b)
    threads = jit.kernel_threads(out.size * kh * kw) if n > 1 else 1  # (the images are what is split)
    _kernel(kw, dilation[1])(threads, np.ascontiguousarray(x), taps, bias, out, min(threads, n), pads[0], pads[2],
                             stride[0], dilation[0])
    return out
