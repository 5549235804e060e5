"""Compiled CPU kernels (numba) for softmax over the last axis of float32 rows, and its backward pass: each row is
read for its maximum, its exponentials written, summed and scaled while it sits in cache, where NumPy's softmax
makes five passes over the whole array with temporaries; the backward pass, ``y (g - sum(g y))``, is two passes a
row. ``exp`` is ``float32_exp``'s (vectorised). Sums run in float32 over the row and the result is scaled by the
sum's reciprocal, as PyTorch's vectorised kernels do.

numba leaves a maximum over a row scalar (one chain of compares), so it is taken over eight chains. Each kernel
comes in place and out of place: given one array for both, LLVM's run-time overlap check fails and the loops run
scalar, twice as slow (bench/NOTES.md)."""

import functools

import numpy as np

from . import float32_exp, jit

_OPTIONS = {"nogil": True, "cache": True, "fastmath": set(jit.FLAGS), "error_model": "numpy"}


@functools.cache
def _kernels():
    """{"forward"/"backward": (out of place, in place)} as ``RangeKernel``s over rows."""
    exp = float32_exp.exp_function()
    f32 = np.float32
    zero, one, lowest = f32(0), f32(1), f32(-np.inf)

    @jit.njit(inline="always", **_OPTIONS)
    def row_max(row):
        a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = lowest
        whole = row.size - row.size % 8
        for j in range(0, whole, 8):
            a0 = max(a0, row[j])
            a1 = max(a1, row[j + 1])
            a2 = max(a2, row[j + 2])
            a3 = max(a3, row[j + 3])
            a4 = max(a4, row[j + 4])
            a5 = max(a5, row[j + 5])
            a6 = max(a6, row[j + 6])
            a7 = max(a7, row[j + 7])
        for j in range(whole, row.size):
            a0 = max(a0, row[j])
        return max(max(max(a0, a1), max(a2, a3)), max(max(a4, a5), max(a6, a7)))

    @jit.njit(inline="always", **_OPTIONS)
    def softmax_row(row, out, safe):
        """out = softmax(row), shifted by the row's maximum as PyTorch's: an infinite maximum makes the row NaN,
        and so does a NaN anywhere (through the sum); but where ``safe`` a row of -inf gives zeros (attention's
        safe softmax, for a query whose every key is masked out), as PyTorch's ``_safe_softmax``."""
        top = row_max(row)
        if safe and top == lowest:  # every value -inf, or NaN (which the maximum skips): zeros, or NaN throughout
            fill = zero
            for i in range(row.size):
                if row[i] != lowest:
                    fill = np.nan
            for i in range(row.size):
                out[i] = fill
            return
        for i in range(row.size):
            out[i] = exp(row[i] - top)
        total = zero
        for i in range(out.size):
            total += out[i]
        scale = one / total
        for i in range(out.size):
            out[i] *= scale

    @jit.njit(inline="always", **_OPTIONS)
    def gradient_row(y, g, out):
        """out = y * (g - sum(g * y))."""
        dot = zero
        for i in range(y.size):
            dot += g[i] * y[i]
        for i in range(y.size):
            out[i] = y[i] * (g[i] - dot)

    @jit.njit(**_OPTIONS)
    def forward(x, y, safe, r0, r1):
        for r in range(r0, r1):
            softmax_row(x[r], y[r], safe)

    @jit.njit(**_OPTIONS)
    def forward_in_place(y, safe, r0, r1):
        for r in range(r0, r1):
            row = y[r]
            softmax_row(row, row, safe)

    @jit.njit(**_OPTIONS)
    def backward(y, g, gx, r0, r1):
        for r in range(r0, r1):
            gradient_row(y[r], g[r], gx[r])

    @jit.njit(**_OPTIONS)
    def backward_in_place(y, g, r0, r1):
        for r in range(r0, r1):
            row = g[r]
            gradient_row(y[r], row, row)

    return {name: (jit.RangeKernel(out_of_place, **_OPTIONS), jit.RangeKernel(in_place, **_OPTIONS))
            for name, out_of_place, in_place in (("forward", forward, forward_in_place),
                                                 ("backward", backward, backward_in_place))}


def takes(*arrays):
    """Whether the kernels take these arrays: C-contiguous host float32 arrays with values, numba importable."""
    return jit.numba() is not None and all(a.__class__ is np.ndarray and a.dtype == np.float32 and a.size > 0
                                           and a.flags.c_contiguous for a in arrays)


def _rows(a):
    return a.reshape(-1, a.shape[-1])


def _run(kernel, threaded, rows, *arrays):
    """``kernel`` over ``rows`` rows: on numba's threads where ``threaded`` and the size pays for them; else on this
    thread (as inside a share that is already one thread's)."""
    if threaded:
        kernel.run(rows, arrays[0].size, *arrays)
    else:
        kernel.kernel(*arrays, 0, rows)


def forward(x, safe=False, threaded=True):
    """Softmax over the last axis of ``x`` (``takes``), as a new array."""
    rows = _rows(x)
    y = np.empty(x.shape, np.float32)
    _run(_kernels()["forward"][0], threaded, rows.shape[0], rows, _rows(y), safe)
    return y


def forward_(x, safe=False, threaded=True):
    """Softmax over the last axis of ``x`` (``takes``), in place."""
    rows = _rows(x)
    _run(_kernels()["forward"][1], threaded, rows.shape[0], rows, safe)


def backward(y, g, threaded=True):
    """Softmax's input gradient ``y * (g - sum(g * y))`` over the last axis (``takes``, one shape), as a new
    array."""
    gx = np.empty(y.shape, np.float32)
    _run(_kernels()["backward"][0], threaded, _rows(y).shape[0], _rows(y), _rows(g), _rows(gx))
    return gx


def backward_(y, g, threaded=True):
    """``g`` replaced by softmax's input gradient ``y * (g - sum(g * y))`` over the last axis (``takes``)."""
    _run(_kernels()["backward"][1], threaded, _rows(y).shape[0], _rows(y), _rows(g))
