"""Compiled elementwise arithmetic (numba) on two float arrays of one shape and dtype, shared over numba's spinning
threads: ``threads.cpu_binary`` hands row blocks of NumPy's loops to the engine's Python workers, whose wake-up on a
virtual machine that halts idle cores cost more than a ResNet's residual add at batch 32 (bench/NOTES.md).
"""

import functools

import numpy as np

from ..threads import PARALLEL_MIN_SIZE
from . import dense, jit

UFUNCS = frozenset({np.add, np.subtract, np.multiply, np.true_divide})


@functools.cache
def _kernel(ufunc):
    def apply(a, b, out, i0, i1):
        ufunc(a[i0:i1], b[i0:i1], out[i0:i1])

    return jit.RangeKernel(jit.njit(apply, nogil=True, cache=True), nogil=True, cache=True)


def applies(ufunc, a, b):
    """Whether ``compute`` takes ``ufunc(a, b)``: one of ``UFUNCS`` on host float32 or float64 arrays of one shape,
    dtype and dense layout (both C-ordered, or both channels-last, ...), large enough for threads, where numba's
    threads can run."""
    return (a.size >= PARALLEL_MIN_SIZE and ufunc in UFUNCS and b.__class__ is np.ndarray and a.shape == b.shape
            and a.dtype == b.dtype and jit.takes_floats(a) and jit.kernel_threads(a.size) > 1
            and (order := dense.memory_order(a)) is not None and order == dense.memory_order(b))


def compute(ufunc, a, b):
    """``ufunc(a, b)``, laid out as ``a`` and ``b`` are."""
    order = dense.memory_order(a)
    out = dense.like(a, order)
    _kernel(ufunc).run(a.size, a.size, dense.flat(a, order), dense.flat(b, order), dense.flat(out, order))
    return out


@functools.cache
def _row_adder():
    def add(out, row, r0, r1):
        for r in range(r0, r1):
            line = out[r]
            for i in range(row.size):
                line[i] += row[i]

    return jit.RangeKernel(jit.njit(add, nogil=True, cache=True), nogil=True, cache=True)


def add_row_(out, row):
    """``out + row`` (a layer's bias added to its output), in place where ``out`` is an array: over ``out``'s rows
    of its last axis on numba's threads where it is a large C-contiguous host float array and ``row`` a vector of
    that axis's length and dtype, else NumPy's one-threaded loop with its broadcasting (which also takes a NumPy
    scalar ``out``, hence the result is returned)."""
    if (out.__class__ is np.ndarray and out.ndim and row.__class__ is np.ndarray and row.shape == out.shape[-1:]
            and out.size >= PARALLEL_MIN_SIZE and row.dtype == out.dtype and out.flags.c_contiguous
            and jit.takes_floats(out)):
        rows = out.reshape(-1, out.shape[-1])
        _row_adder().run(rows.shape[0], out.size, rows, np.ascontiguousarray(row))
        return out
    out += row
    return out
