"""Depthwise convolution of narrow planes (one filter per channel; ConvNeXt's and MobileNet's late stages),
vectorised across the channels. Each image's channels are gathered into a zero-padded channels-last buffer
(one gather of a channel vector per input pixel, straight from the NCHW input), every tap is then one
multiply-add of a channel vector per output column, and the image's channels-last sums are written back one
output plane at a time (gathers again). Done per image inside the kernel, these moves cost less than half of
what whole-array reorders to channels-last and back (oneDNN's) cost before and after it. Tap rows that fall
in the top or bottom padding are skipped (a 7x7 kernel over a 4x4 plane padded by 3 reads input in 4 of its 7
rows); the padding columns are read as zeros, since a column range that changes with the output column stops
the taps' unrolling.

Eight output columns are summed at a time (``columns8``), then four (``columns4``), then one: each weight is
loaded once for the columns, and the input columns they share once. A buffer column holds ``lanes`` values,
the channel count rounded up to a multiple of ``BLOCK``, compiled in as a constant: with the offsets between
columns known, LLVM vectorises the channel loop; with the channel count as a run-time column stride it needed
more overlap checks than it allows and left the loop scalar. Lanes past the channels have zero weights and are
never written out. Each lane count compiles its own kernel (about 4 s, then numba's cache).

``conv_depthwise``'s plane kernel vectorises along a plane's rows instead; on an 8x8 plane under a 7x7 kernel
those rows are 14 columns wide, 8 of them kept, and a 4x4 plane keeps 4 of 10, where the channels (64 to 768
of them) fill every lane. The images are split over numba's threads, each with a buffer whose padding is
zeroed once. Measured against the plane kernel in bench/NOTES.md.
"""

import functools

import numpy as np

from . import dense, jit

CHANNELS_LAST = (0, 2, 3, 1)
BLOCK = 16  # float32 values in a 512-bit vector: the kernel computes the channels in multiples of it


@functools.cache
def _kernel(kw, dw, lanes):
    """The kernel for kernel width ``kw``, column dilation ``dw`` and ``lanes`` values per buffer column,
    constants in it so that a row's taps unroll and the offsets between columns are known. Indices into the
    column sums are unsigned: numba's wrap-around test of a signed index that may be negative keeps LLVM from
    vectorising (1 against 19 GMAC/s measured)."""
    nb = jit.numba()
    prange, flags = nb.prange, set(jit.FLAGS)
    stride = lanes  # the same, for the copies' signed indices
    lanes, reach, wide = np.uint64(lanes), np.uint64(dw * lanes), np.uint64(kw)

    @jit.njit(nogil=True, fastmath=flags, cache=True)
    def columns8(src, weights, acc, first):
        """One tap row's terms of output columns q..q+7 added to ``acc``; ``first = q * lanes``."""
        for c in range(lanes):
            a0 = acc[first + c]
            a1 = acc[first + lanes + c]
            a2 = acc[first + np.uint64(2) * lanes + c]
            a3 = acc[first + np.uint64(3) * lanes + c]
            a4 = acc[first + np.uint64(4) * lanes + c]
            a5 = acc[first + np.uint64(5) * lanes + c]
            a6 = acc[first + np.uint64(6) * lanes + c]
            a7 = acc[first + np.uint64(7) * lanes + c]
            for j in range(wide):
                wj = weights[j * lanes + c]
                s = first + j * reach + c
                a0 += wj * src[s]
                a1 += wj * src[s + lanes]
                a2 += wj * src[s + np.uint64(2) * lanes]
                a3 += wj * src[s + np.uint64(3) * lanes]
                a4 += wj * src[s + np.uint64(4) * lanes]
                a5 += wj * src[s + np.uint64(5) * lanes]
                a6 += wj * src[s + np.uint64(6) * lanes]
                a7 += wj * src[s + np.uint64(7) * lanes]
            acc[first + c] = a0
            acc[first + lanes + c] = a1
            acc[first + np.uint64(2) * lanes + c] = a2
            acc[first + np.uint64(3) * lanes + c] = a3
            acc[first + np.uint64(4) * lanes + c] = a4
            acc[first + np.uint64(5) * lanes + c] = a5
            acc[first + np.uint64(6) * lanes + c] = a6
            acc[first + np.uint64(7) * lanes + c] = a7

    @jit.njit(nogil=True, fastmath=flags, cache=True)
    def columns4(src, weights, acc, first):
        """One tap row's terms of output columns q..q+3 added to ``acc``; ``first = q * lanes``."""
        for c in range(lanes):
            a0 = acc[first + c]
            a1 = acc[first + lanes + c]
            a2 = acc[first + np.uint64(2) * lanes + c]
            a3 = acc[first + np.uint64(3) * lanes + c]
            for j in range(wide):
                wj = weights[j * lanes + c]
                s = first + j * reach + c
                a0 += wj * src[s]
                a1 += wj * src[s + lanes]
                a2 += wj * src[s + np.uint64(2) * lanes]
                a3 += wj * src[s + np.uint64(3) * lanes]
            acc[first + c] = a0
            acc[first + lanes + c] = a1
            acc[first + np.uint64(2) * lanes + c] = a2
            acc[first + np.uint64(3) * lanes + c] = a3

    @jit.njit(nogil=True, fastmath=flags, cache=True)
    def column(src, weights, acc, first):
        """One tap row's terms of output column q added to ``acc``; ``first = q * lanes``."""
        for c in range(lanes):
            a = acc[first + c]
            for j in range(wide):
                a += weights[j * lanes + c] * src[first + j * reach + c]
            acc[first + c] = a

    def depthwise_lanes(x, taps, bias, out, parts, pt, pl, sh, dh, channels_last):
        """``out`` (N, C, oh, ow) from ``x`` (N, C, H, W), both C-contiguous, or (N, oh, ow, C) from (N, H, W, C)
        with ``channels_last``; ``taps`` (kh, kw * lanes, the channels first in each column) and ``bias`` (C),
        unit column stride, the images cut into ``parts``; top and left padding ``pt``, ``pl``, row stride ``sh``
        and row dilation ``dh``."""
        if channels_last:
            n_img, h, wd, c_in = x.shape
            oh, ow = out.shape[1], out.shape[2]
        else:
            n_img, c_in, h, wd = x.shape
            oh, ow = out.shape[2], out.shape[3]
        kh = taps.shape[0]
        hp, wp = (oh - 1) * sh + (kh - 1) * dh + 1, ow + (kw - 1) * dw
        rows, cols = min(h, hp - pt), min(wd, wp - pl)  # the input rows and columns that some output reads
        channels, plane, outputs = np.uint64(c_in), np.uint64(h * wd), np.uint64(oh * ow)
        for part in prange(parts):
            buf = np.zeros((hp, wp * stride), x.dtype)  # channels last; the padding stays zero
            sums = np.empty(oh * ow * stride, x.dtype)  # the image's output, channels last
            for n in range(n_img * part // parts, n_img * (part + 1) // parts):
                image = x[n].ravel()
                for y in range(rows):
                    line = buf[y + pt]
                    for q in range(cols):
                        cell = line[(q + pl) * stride:(q + pl + 1) * stride]
                        at = np.uint64(y * wd + q)
                        if channels_last:
                            pixel = image[at * channels:(at + 1) * channels]
                            for c in range(channels):
                                cell[c] = pixel[c]
                        else:
                            for c in range(channels):
                                cell[c] = image[at + c * plane]
                for r in range(oh):
                    acc = sums[r * ow * stride:(r + 1) * ow * stride]
                    for q in range(ow):
                        for c in range(c_in):
                            acc[q * stride + c] = bias[c]
                    top = r * sh - pt  # the input row of tap row 0; rows of the padding add nothing
                    for i in range(max(0, -(top // dh)), min(kh, (h - 1 - top) // dh + 1)):
                        src, weights = buf[r * sh + i * dh], taps[i]
                        q = 0
                        while q + 8 <= ow:
                            columns8(src, weights, acc, np.uint64(q * stride))
                            q += 8
                        while q + 4 <= ow:
                            columns4(src, weights, acc, np.uint64(q * stride))
                            q += 4
                        while q < ow:
                            column(src, weights, acc, np.uint64(q * stride))
                            q += 1
                if channels_last:
                    pixels = out[n].reshape(oh * ow, c_in)
                    for p in range(outputs):
                        dst = pixels[p]
                        for c in range(channels):
                            dst[c] = sums[p * lanes + c]
                else:
                    planes = out[n].reshape(c_in, oh * ow)
                    for c in range(channels):
                        dst = planes[c]
                        for p in range(outputs):
                            dst[p] = sums[p * lanes + c]

    return jit.ThreadedKernel(depthwise_lanes, nogil=True, cache=True, fastmath=flags)


def forward(x, w, b, stride, pads, dilation, out_hw):
    """The output (N, C, oh, ow) of a depthwise convolution with one filter per channel, ``w`` (C, 1, kh, kw),
    and unit column stride: laid out channels-last where ``x`` is (as PyTorch keeps a channels_last tensor's
    layout), read and written without a move, else C-ordered."""
    n, c = x.shape[:2]
    kh, kw = w.shape[2:]
    lanes = -(-c // BLOCK) * BLOCK
    channels_last = dense.memory_order(x) == CHANNELS_LAST
    if channels_last:
        x, out = x.transpose(CHANNELS_LAST), np.empty((n, *out_hw, c), dtype=x.dtype)
    else:
        x, out = np.ascontiguousarray(x), np.empty((n, c, *out_hw), dtype=x.dtype)
    if lanes == c:
        taps = np.ascontiguousarray(w.reshape(c, kh * kw).T)
    else:
        taps = np.zeros((kh, kw, lanes), x.dtype)
        taps[:, :, :c] = w.reshape(c, kh, kw).transpose(1, 2, 0)
    bias = np.zeros(c, x.dtype) if b is None else np.ascontiguousarray(b)
    threads = jit.kernel_threads(out.size * kh * kw) if n > 1 else 1  # (the images are what is split)
    _kernel(kw, dilation[1], lanes)(threads, x, taps.reshape(kh, kw * lanes), bias, out, min(threads, n), pads[0],
                                    pads[2], stride[0], dilation[0], channels_last)
    return out.transpose(0, 3, 1, 2) if channels_last else out
