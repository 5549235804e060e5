"""Compiled CPU kernels (numba) for depthwise convolution: groups == input channels, each input channel
convolved with its own ``multiplier`` filters (MobileNet, ConvNeXt), any kernel, stride, dilation, padding.

im2col per group moves kh*kw copies of every plane to multiply a single row; here each (image, channel)
plane is convolved directly. The padded plane is stored split into its ``sh * sw`` stride phases
(``padded[pr::sh, pc::sw]``, each ``hp2 x wp2``), so that every kernel tap reads one contiguous run of the
phase plane it falls in: output row ``r`` and column ``q`` of tap ``(i, j)`` read phase row ``r + i*dh//sh``
and column ``q + j*dw//sw``. Outputs are computed on the phase width ``wp2`` (the ``wp2 - ow`` wrapped columns
per row are dropped), so each tap is a vectorised pass over ``oh * wp2`` values. The input gradient scatters
each tap back into the phase layout; the weight gradient is one dot product per tap. Planes are split over
the engine's threads. The dropped columns multiply input values by zero in the weight gradient and padding
zeros by the weight in the input gradient: the caller handles a non-finite weight or weight gradient.
"""

import functools

import numpy as np

from ..threads import PRODUCT_MIN_MACS, cpu_map, cpu_shares
from . import conv_depthwise_lanes, jit

LANES_MAX_WIDTH = 8  # output planes up to this wide take ``conv_depthwise_lanes`` (one filter per channel, unit
# column stride); up to LANES_MAX_WIDTH_WIDE where the kernel is LANES_WIDE_KERNEL columns wide or more, whose
# taps per value make up for the channels-last copies on wider planes (bench/NOTES.md)
LANES_MAX_WIDTH_WIDE, LANES_WIDE_KERNEL = 16, 7


class Phases:
    """The phase layout of a call, as the kernels take it: where each input row's phase row starts
    (``rows``), where each kernel row's taps start reading (``taps``), the left padding, the size of a phase
    plane, the phase width and the size of a plane's buffer (its phases, then a row of slack for the wrapped
    reads of the last row)."""

    __slots__ = ("_args", "compiled", "correlation", "geometry", "kernel", "out_hw", "shape")

    def __init__(self, shape, kernel, stride, pads, dilation, out_hw):
        self.geometry = stride, pads, dilation
        self.correlation = _correlation(shape, kernel, stride, pads, dilation, out_hw)
        self.compiled = (kernel[1], stride[1], dilation[1])  # the constants ``_kernels`` compiles for
        self.shape, self.kernel, self.out_hw = shape, kernel, out_hw
        self._args = None

    @property
    def args(self):
        """The plane kernels' layout arguments, made at their first use (the lanes kernel takes most narrow
        calls without them)."""
        if self._args is None:
            (sh, sw), (pt, pb, pl, pr), dilation = self.geometry
            hp2 = -(-(self.shape[2] + pt + pb) // sh)
            wp2 = -(-(self.shape[3] + pl + pr) // sw)
            rows = np.arange(pt, pt + self.shape[2])
            taps = np.arange(self.kernel[0]) * dilation[0]
            self._args = (((rows % sh) * sw * hp2 + rows // sh) * wp2, ((taps % sh) * sw * hp2 + taps // sh) * wp2,
                          pl, hp2 * wp2, wp2, sh * sw * hp2 * wp2 + wp2)
        return self._args


def _correlation(shape, kernel, stride, pads, dilation, out_hw):
    """Where the input gradient is a forward pass (unit stride, padding within the kernel's reach): the
    ``Phases`` arguments of that pass over the output gradient, padded by ``(k-1)*d - p``, else None."""
    flipped = tuple((k - 1) * d - p for k, d, pair in zip(kernel, dilation, (pads[:2], pads[2:])) for p in pair)
    if stride != (1, 1) or min(flipped) < 0:
        return None
    return (shape[0], shape[1], *out_hw), kernel, stride, flipped, dilation, shape[2:]


@functools.cache
def _kernels(kw, sw, dw):
    """(forward, backward) compiled for kernel width ``kw``, column stride ``sw`` and column dilation ``dw``
    (constants, so the taps of a row unroll into reads at fixed offsets)."""
    njit = jit.njit
    flags = set(jit.FLAGS)

    @njit(nogil=True, fastmath=flags, cache=True)
    def fill(plane, buf, rows, pl, ph):
        """``plane`` (H, W) into the interior of phase buffer ``buf``, whose padding is never written (zeroed
        once, it serves every plane); ``rows[y]`` is where row ``y``'s phase row starts. Loops over slices:
        NumPy-style slice assignment costs about 80 ns a row in numba, more than the row's copy."""
        h, wd = plane.shape
        for pc in range(sw):
            x0 = (pc - pl) % sw
            start = pc * ph + (x0 + pl) // sw
            count = (wd - x0 + sw - 1) // sw
            for y in range(h):
                line = plane[y]
                dst = buf[rows[y] + start:rows[y] + start + count]
                for m in range(count):
                    dst[m] = line[x0 + m * sw]

    @njit(nogil=True, fastmath=flags, cache=True)
    def unfill(buf, plane, rows, pl, ph):
        """The inverse of ``fill``: ``plane`` (H, W) from the interior of phase buffer ``buf``."""
        h, wd = plane.shape
        for pc in range(sw):
            x0 = (pc - pl) % sw
            start = pc * ph + (x0 + pl) // sw
            count = (wd - x0 + sw - 1) // sw
            for y in range(h):
                line = plane[y]
                src = buf[rows[y] + start:rows[y] + start + count]
                for m in range(count):
                    line[x0 + m * sw] = src[m]

    @njit(nogil=True, fastmath=flags, cache=True)
    def forward(x, w, bias, out, p0, p1, rows, taps, pl, ph, wp2, size):
        """out (N, C*M, oh, ow) for planes p0:p1 of x (N, C, H, W); w (C*M, kh, kw)."""
        c_in = x.shape[1]
        mult, kh = w.shape[0] // c_in, w.shape[1]
        oh, ow = out.shape[2], out.shape[3]
        length = oh * wp2
        acc = np.empty(length, x.dtype)
        buf = np.zeros(size, x.dtype)
        for p in range(p0, p1):
            n, c = p // c_in, p % c_in
            fill(x[n, c], buf, rows, pl, ph)
            for m in range(mult):
                k = c * mult + m
                bk = bias[k]
                for t in range(length):
                    acc[t] = bk
                for i in range(kh):
                    wr = w[k, i]
                    src = buf[taps[i]:]
                    for t in range(length):
                        a = acc[t]
                        for j in range(kw):
                            a += wr[j] * src[(j * dw) % sw * ph + (j * dw) // sw + t]
                        acc[t] = a
                for r in range(oh):
                    line = out[n, k, r]
                    run = acc[r * wp2:r * wp2 + ow]
                    for q in range(ow):
                        line[q] = run[q]

    @njit(nogil=True, fastmath=flags, cache=True)
    def backward(g, w, x, gx, gw, p0, p1, rows, taps, pl, ph, wp2, size):
        """Planes p0:p1's input gradient into gx (N, C, H, W) and their weight gradient added to gw
        (C*M, kh, kw), from g (N, C*M, oh, ow) and the input x; a gradient array of size 0 is not wanted."""
        c_in = x.shape[1]
        mult, kh = w.shape[0] // c_in, w.shape[1]
        need_x, need_w = gx.size > 0, gw.size > 0
        oh, ow = g.shape[2], g.shape[3]
        length = oh * wp2
        gwide = np.zeros(length, g.dtype)  # the dropped columns stay zero
        buf = np.zeros(size, g.dtype)
        gbuf = np.empty(size, g.dtype)
        zero = gwide[0]
        for p in range(p0, p1):
            n, c = p // c_in, p % c_in
            if need_w:
                fill(x[n, c], buf, rows, pl, ph)
            for q in range(size):
                gbuf[q] = 0
            for m in range(mult):
                k = c * mult + m
                for r in range(oh):
                    line = g[n, k, r]
                    run = gwide[r * wp2:r * wp2 + ow]
                    for q in range(ow):
                        run[q] = line[q]
                for i in range(kh):
                    for j in range(kw):
                        s = taps[i] + (j * dw) % sw * ph + (j * dw) // sw
                        if need_w:
                            src = buf[s:s + length]
                            a = zero
                            for t in range(length):
                                a += gwide[t] * src[t]
                            gw[k, i, j] += a
                        if need_x:
                            dst = gbuf[s:s + length]
                            v = w[k, i, j]
                            for t in range(length):
                                dst[t] += v * gwide[t]
            if need_x:
                unfill(gbuf, gx[n, c], rows, pl, ph)

    return forward, backward


def _shares(planes, macs):
    return cpu_shares(planes, macs, PRODUCT_MIN_MACS)


def forward(x, w, b, phases):
    """The output (N, C*M, oh, ow)."""
    n, c = x.shape[:2]
    k, _, kh, kw = w.shape
    oh, ow = phases.out_hw
    lanes_width = LANES_MAX_WIDTH_WIDE if kw >= LANES_WIDE_KERNEL else LANES_MAX_WIDTH
    if k == c and ow <= lanes_width and phases.geometry[0][1] == 1:
        return conv_depthwise_lanes.forward(x, w, b, *phases.geometry, phases.out_hw)
    x = np.ascontiguousarray(x)
    weight = np.ascontiguousarray(w.reshape(k, kh, kw))
    bias = np.zeros(k, x.dtype) if b is None else np.ascontiguousarray(b)
    out = np.empty((n, k, oh, ow), dtype=x.dtype)
    run = _kernels(*phases.compiled)[0]
    cpu_map(lambda part: run(x, weight, bias, out, *part, *phases.args), _shares(n * c, out.size * kh * kw))
    return out


def _input_grad(g, w, phases):
    """The input gradient of a unit-stride call as forward passes over ``g``, one per channel multiplier ``m``
    (output channels ``m::M``), with the flipped kernel: a gather of all taps at once, where the scatter of
    ``backward``'s kernel takes a pass per tap (about 8x the time for 7x7 taps on 8x8 planes)."""
    layout = Phases(*phases.correlation)
    mult = w.shape[0] // phases.shape[1]
    flipped = w[:, :, ::-1, ::-1]
    return functools.reduce(np.add, (forward(g[:, m::mult], flipped[m::mult], None, layout) for m in range(mult)))


def backward(g, x, w, phases, need_x, need_w):
    """(input gradient or None, weight gradient or None) from the output gradient ``g`` and the input ``x``."""
    n, c = phases.shape[:2]
    k, _, kh, kw = w.shape
    g, x = np.ascontiguousarray(g), np.ascontiguousarray(x)
    gx = None
    if need_x and phases.correlation is not None:
        gx, need_x = _input_grad(g, w, phases), False
    if not (need_x or need_w):
        return gx, None
    weight = np.ascontiguousarray(w.reshape(k, kh, kw))
    grad_x = np.empty(phases.shape if need_x else (0, c, 0, 0), dtype=g.dtype)
    run = _kernels(*phases.compiled)[1]

    def share(part):
        gw = np.zeros((k, kh, kw) if need_w else (0, 0, 0), dtype=g.dtype)
        run(g, weight, x, grad_x, gw, *part, *phases.args)
        return gw

    parts = cpu_map(share, _shares(n * c, g.size * kh * kw * (need_x + need_w)))
    gw = functools.reduce(np.add, parts).reshape(w.shape) if need_w else None
    return grad_x if need_x else gx, gw
