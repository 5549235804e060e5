"""Depthwise convolution of narrow planes (one filter per channel; ConvNeXt's and MobileNet's late stages),
vectorised across the channels: the input is moved channels-last (oneDNN's vectorised reorder for float32, else
a compiled loop), each image's rows are copied into a zero-padded buffer, and every tap is then one
multiply-add of a channel vector per output column; the channels-last output is moved back the same way. Tap
rows that fall in the top or bottom padding are skipped (a 7x7 kernel over a 4x4 plane padded by 3 reads input
in 4 of its 7 rows); the padding columns are read as zeros, since a column range that changes with the output
column stops the taps' unrolling.

Four output columns are summed at a time (``columns4``): each weight is loaded once for the four, and the input
columns they share once. A buffer column holds ``lanes`` values, the channel count rounded up to a multiple of
``BLOCK``, compiled in as a constant: with the offsets between columns known, LLVM vectorises the channel loop;
with the channel count as a run-time column stride it needed more overlap checks than it allows and left the
loop scalar. Lanes past the channels have zero weights and are never written out. Each lane count compiles
its own kernel (about 4 s, then numba's cache).

``conv_depthwise``'s plane kernel vectorises along a plane's rows instead; on an 8x8 plane under a 7x7 kernel
those rows are 14 columns wide, 8 of them kept, and a 4x4 plane keeps 4 of 10, where the channels (64 to 768
of them) fill every lane. The images are split over numba's threads, each with a buffer whose padding is
zeroed once. Measured against the plane kernel in bench/NOTES.md.
"""

import functools

import numpy as np

from . import jit, onednn

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

    def depthwise_lanes(x, taps, bias, out, parts, pt, pl, sh, dh):
        """``out`` (N, oh, ow, C) from ``x`` (N, H, W, C), ``taps`` (kh, kw * lanes, the channels first in each
        column) and ``bias`` (C), unit column stride, the images cut into ``parts``; top and left padding
        ``pt``, ``pl``, row stride ``sh`` and row dilation ``dh``."""
        n_img, h, wd, c_in = x.shape
        kh = taps.shape[0]
        oh, ow = out.shape[1], out.shape[2]
        hp, wp = (oh - 1) * sh + (kh - 1) * dh + 1, ow + (kw - 1) * dw
        rows, cols = min(h, hp - pt), min(wd, wp - pl)  # the input rows and columns that some output reads
        for part in prange(parts):
            buf = np.zeros((hp, wp * stride), x.dtype)  # channels last; the padding stays zero
            acc = np.empty(ow * stride, x.dtype)
            for n in range(n_img * part // parts, n_img * (part + 1) // parts):
                image = x[n]
                for y in range(rows):
                    line = buf[y + pt]
                    for q in range(cols):
                        cell = line[(q + pl) * stride:(q + pl + 1) * stride]
                        pixel = image[y, q]
                        for c in range(c_in):
                            cell[c] = pixel[c]
                for r in range(oh):
                    for q in range(ow):
                        for c in range(c_in):
                            acc[q * stride + c] = bias[c]
                    top = r * sh - pt  # the input row of tap row 0; rows of the padding add nothing
                    for i in range(max(0, -(top // dh)), min(kh, (h - 1 - top) // dh + 1)):
                        src, weights = buf[r * sh + i * dh], taps[i]
                        q = 0
                        while q + 4 <= ow:
                            columns4(src, weights, acc, np.uint64(q * stride))
                            q += 4
                        while q < ow:
                            column(src, weights, acc, np.uint64(q * stride))
                            q += 1
                    for q in range(ow):
                        pixel = out[n, r, q]
                        for c in range(c_in):
                            pixel[c] = acc[q * stride + c]

    return jit.ThreadedKernel(depthwise_lanes, nogil=True, cache=True, fastmath=flags)


@functools.cache
def _transpose():
    prange = jit.numba().prange

    def planes_transposed(x, out, parts):
        """``out`` (N, B, A) = each image of ``x`` (N, A, B) transposed, the images cut into ``parts``."""
        n_img, a_size, b_size = x.shape
        for part in prange(parts):
            for n in range(n_img * part // parts, n_img * (part + 1) // parts):
                for a in range(a_size):
                    line = x[n, a]
                    for b in range(b_size):
                        out[n, b, a] = line[b]

    return jit.ThreadedKernel(planes_transposed, nogil=True, cache=True)


def _channels_last(x):
    """(N, C, H, W) ``x`` as a new (N, H, W, C) array."""
    moved = onednn.channels_last(x)
    if moved is not None:
        return moved
    n, c, h, w = x.shape
    return _transposed(x.reshape(n, c, h * w)).reshape(n, h, w, c)


def _channels_first(y):
    """(N, H, W, C) ``y`` as a new (N, C, H, W) array."""
    moved = onednn.channels_first(y)
    if moved is not None:
        return moved
    n, h, w, c = y.shape
    return _transposed(y.reshape(n, h * w, c)).reshape(n, c, h, w)


def _transposed(x):
    """Each image of ``x`` (N, A, B) transposed into a new (N, B, A) array, by a compiled loop (where oneDNN's
    vectorised reorder does not run)."""
    out = np.empty((x.shape[0], x.shape[2], x.shape[1]), x.dtype)
    threads = min(jit.kernel_threads(x.size), x.shape[0])
    _transpose()(threads, np.ascontiguousarray(x), out, threads)
    return out


def forward(x, w, b, stride, pads, dilation, out_hw):
    """The output (N, C, oh, ow) of a depthwise convolution with one filter per channel, ``w`` (C, 1, kh, kw),
    and unit column stride. The input and output are moved channels-last and back outside the kernel."""
    n, c = x.shape[:2]
    kh, kw = w.shape[2:]
    lanes = -(-c // BLOCK) * BLOCK
    out = np.empty((n, *out_hw, c), dtype=x.dtype)
    if lanes == c:
        taps = np.ascontiguousarray(w.reshape(c, kh * kw).T)
    else:
        taps = np.zeros((kh, kw, lanes), x.dtype)
        taps[:, :, :c] = w.reshape(c, kh, kw).transpose(1, 2, 0)
    bias = np.zeros(c, x.dtype) if b is None else np.ascontiguousarray(b)
    threads = jit.kernel_threads(out.size * kh * kw) if n > 1 else 1  # (the images are what is split)
    _kernel(kw, dilation[1], lanes)(threads, _channels_last(x), taps.reshape(kh, kw * lanes),
                                    bias, out, min(threads, n), pads[0], pads[2], stride[0], dilation[0])
    return _channels_first(out)
