"""Compiled CPU kernels (numba) for GELU, exact and tanh-approximated, on float arrays: one pass each way,
shared over numba's threads.

float32 takes the normal distribution's tail, ``0.5 erfc(|x| / sqrt 2)``, from Abramowitz and Stegun's 7.1.26
(erf within 1.5e-7: the formula PyTorch's vectorised CPU kernel evaluates), and ``exp`` from ``float32_exp``:
with no library call in the loop, LLVM vectorises it, about 1 ns a value on one core where NumPy's Cephes erf took
30 (bench/NOTES.md). The CDF of a negative input is that tail itself, so it keeps its digits where ``1 + erf``
would cancel them. float64 calls libm's erfc and exp, one value at a time, to full precision. The tanh form is
computed as ``x sigmoid(2u)``, the same function without ``1 + tanh``'s cancellation.
"""

import functools
import math

import numpy as np

from . import dense, float32_exp, jit

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
    exp = float32_exp.exp_function()

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
