"""Compiled CPU kernels (numba) for GELU, exact and tanh-approximated, on float arrays: one pass each way,
shared over numba's threads.

float32 takes the normal distribution's tail, ``0.5 erfc(|x| / sqrt 2)``, from Abramowitz and Stegun's 7.1.26
(erf within 1.5e-7: the formula PyTorch's vectorised CPU kernel evaluates), and ``exp`` from Cephes' expf
polynomial after a reduction by ln 2, its power of two read from a table (numba has no bit casts): with no
library call in the loop, LLVM vectorises it, about 1 ns a value on one core where NumPy's Cephes erf took 30
(bench/NOTES.md). The CDF of a negative input is that tail itself, so it keeps its digits where ``1 + erf``
would cancel them. float64 calls libm's erfc and exp, one value at a time, to full precision. The tanh form is
computed as ``x sigmoid(2u)``, the same function without ``1 + tanh``'s cancellation.
"""

import functools
import math

import numpy as np

from . import dense, jit

SQRT1_2 = 1 / math.sqrt(2)
INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
K_BETA = math.sqrt(2 / math.pi)
K_KAPPA = 0.044715
_KERNEL_OPTIONS = {"nogil": True, "cache": True, "fastmath": set(jit.FLAGS), "error_model": "numpy"}


@functools.cache
def _float32_kernels():
    njit, f32 = jit.njit, np.float32
    one, two, three, half, zero = f32(1), f32(2), f32(3), f32(0.5), f32(0)
    root_half, pdf_scale, beta, kappa = f32(SQRT1_2), f32(INV_SQRT_2PI), f32(K_BETA), f32(K_KAPPA)
    tail = tuple(f32(c) for c in (0.3275911, 0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429))
    expf = tuple(f32(c) for c in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2,
                                  1.6666665459e-1, 5.0000001201e-1))
    log2e, ln2_high, ln2_low = f32(1.4426950408889634), f32(0.693359375), f32(-2.12194440e-4)
    lowest, highest, offset = f32(-87), f32(88), f32(127)  # exp's range with a normal result; 2^-127 in row 0
    powers = np.array([2.0 ** k for k in range(-127, 128)], np.float32)

    @njit(inline="always", **_KERNEL_OPTIONS)
    def exp(x):
        """e^x within 2 ulp: 0 below -87, inf above 88, NaN for NaN (whose clamp, first, gives -87: the table is
        read in range)."""
        c = min(highest, max(lowest, x))
        n = np.floor(c * log2e + half)
        r = c - n * ln2_high - n * ln2_low
        p = (((((expf[0] * r + expf[1]) * r + expf[2]) * r + expf[3]) * r + expf[4]) * r + expf[5]) * r * r + r + one
        e = p * powers[np.uint64(n + offset)]
        return e if lowest <= x <= highest else (zero if x < lowest else (np.inf if x > highest else x))

    @njit(inline="always", **_KERNEL_OPTIONS)
    def tail_and_density(v):
        """(Phi(-|v|), exp(-v^2 / 2)) of the standard normal distribution."""
        a = abs(v) * root_half
        t = one / (one + tail[0] * a)
        r = ((((tail[5] * t + tail[4]) * t + tail[3]) * t + tail[2]) * t + tail[1]) * t
        e = exp(-(a * a))
        return half * r * e, e

    @njit(**_KERNEL_OPTIONS)
    def exact_forward(x, y, i0, i1):
        xs, ys = x[i0:i1], y[i0:i1]
        for i in range(xs.size):
            v = xs[i]
            h = tail_and_density(v)[0]
            ys[i] = v * (one - h) if v >= zero else v * h  # NaN takes the second: NaN times a number

    @njit(**_KERNEL_OPTIONS)
    def exact_backward(x, g, gx, i0, i1):
        xs, gs, gxs = x[i0:i1], g[i0:i1], gx[i0:i1]
        for i in range(xs.size):
            v = xs[i]
            h, e = tail_and_density(v)
            cdf = one - h if v >= zero else h
            gxs[i] = gs[i] * (cdf + v * e * pdf_scale)

    @njit(**_KERNEL_OPTIONS)
    def tanh_forward(x, y, i0, i1):
        xs, ys = x[i0:i1], y[i0:i1]
        for i in range(xs.size):
            v = xs[i]
            ys[i] = v / (one + exp(-two * beta * (v + kappa * v * v * v)))

    @njit(**_KERNEL_OPTIONS)
    def tanh_backward(x, g, gx, i0, i1):
        xs, gs, gxs = x[i0:i1], g[i0:i1], gx[i0:i1]
        for i in range(xs.size):
            v = xs[i]
            s = one / (one + exp(-two * beta * (v + kappa * v * v * v)))
            gxs[i] = gs[i] * (s + v * s * (one - s) * two * beta * (one + three * kappa * v * v))

    return _range_kernels(exact_forward, exact_backward, tanh_forward, tanh_backward)


@functools.cache
def _float64_kernels():
    njit = jit.njit
    pdf_scale = INV_SQRT_2PI

    @njit(**_KERNEL_OPTIONS)
    def exact_forward(x, y, i0, i1):
        xs, ys = x[i0:i1], y[i0:i1]
        for i in range(xs.size):
            v = xs[i]
            ys[i] = v * 0.5 * math.erfc(-v * SQRT1_2)

    @njit(**_KERNEL_OPTIONS)
    def exact_backward(x, g, gx, i0, i1):
        xs, gs, gxs = x[i0:i1], g[i0:i1], gx[i0:i1]
        for i in range(xs.size):
            v = xs[i]
            gxs[i] = gs[i] * (0.5 * math.erfc(-v * SQRT1_2) + v * math.exp(-0.5 * v * v) * pdf_scale)

    @njit(**_KERNEL_OPTIONS)
    def tanh_forward(x, y, i0, i1):
        xs, ys = x[i0:i1], y[i0:i1]
        for i in range(xs.size):
            v = xs[i]
            ys[i] = v / (1 + math.exp(-2 * K_BETA * (v + K_KAPPA * v * v * v)))

    @njit(**_KERNEL_OPTIONS)
    def tanh_backward(x, g, gx, i0, i1):
        xs, gs, gxs = x[i0:i1], g[i0:i1], gx[i0:i1]
        for i in range(xs.size):
            v = xs[i]
            s = 1 / (1 + math.exp(-2 * K_BETA * (v + K_KAPPA * v * v * v)))
            gxs[i] = gs[i] * (s + v * s * (1 - s) * 2 * K_BETA * (1 + 3 * K_KAPPA * v * v))

    return _range_kernels(exact_forward, exact_backward, tanh_forward, tanh_backward)


def _range_kernels(exact_forward, exact_backward, tanh_forward, tanh_backward):
    """{approximate: (forward, backward)} as ``RangeKernel``s."""
    options = {"nogil": True, "cache": True}
    return {"none": (jit.RangeKernel(exact_forward, **options), jit.RangeKernel(exact_backward, **options)),
            "tanh": (jit.RangeKernel(tanh_forward, **options), jit.RangeKernel(tanh_backward, **options))}


def _kernels(dtype, approximate):
    return (_float32_kernels() if dtype == np.float32 else _float64_kernels())[approximate]


def forward(x, approximate):
    """GELU of a host float32 or float64 array, laid out as ``x`` where its values fill one block of memory."""
    order = dense.memory_order(x)
    if order is None:
        x, order = x.copy(), tuple(range(x.ndim))
    y = dense.like(x, order)
    kernel = _kernels(x.dtype, approximate)[0]
    kernel.run(x.size, x.size, dense.flat(x, order), dense.flat(y, order))
    return y


def backward(g, x, approximate):
    """GELU's input gradient from the output's, ``g``, and the input ``x`` (laid out as ``x``)."""
    order = dense.memory_order(x)
    if order is None:
        x, order = x.copy(), tuple(range(x.ndim))
    g = dense.in_order(g if g.dtype == x.dtype else g.astype(x.dtype), order)
    gx = dense.like(x, order)
    kernel = _kernels(x.dtype, approximate)[1]
    kernel.run(x.size, x.size, dense.flat(x, order), dense.flat(g, order), dense.flat(gx, order))
    return gx
