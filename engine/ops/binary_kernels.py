"""Compiled elementwise arithmetic (numba) on two float arrays of one shape and dtype, shared over numba's spinning
threads: ``threads.cpu_binary`` hands row blocks of NumPy's loops to the engine's Python workers, whose wake-up on a
virtual machine that halts idle cores cost more than a ResNet's residual add at batch 32 (bench/NOTES.md).
"""

import functools

import numpy as np

from ..threads import PARALLEL_MIN_SIZE
from . import jit

UFUNCS = frozenset({np.add, np.subtract, np.multiply, np.true_divide})


@functools.cache
def _kernel(ufunc):
    def apply(a, b, out, i0, i1):
        ufunc(a[i0:i1], b[i0:i1], out[i0:i1])

    return jit.RangeKernel(jit.njit(apply, nogil=True, cache=True), nogil=True, cache=True)


def applies(ufunc, a, b):
    """Whether ``compute`` takes ``ufunc(a, b)``: one of ``UFUNCS`` on C-contiguous host float32 or float64 arrays
    of one shape and dtype, large enough for threads, where numba's threads can run."""
    return (a.size >= PARALLEL_MIN_SIZE and ufunc in UFUNCS and b.__class__ is np.ndarray and a.shape == b.shape
            and a.dtype == b.dtype and a.flags.c_contiguous and b.flags.c_contiguous and jit.takes_floats(a)
            and jit.kernel_threads(a.size) > 1)


def compute(ufunc, a, b):
    out = np.empty(a.shape, dtype=a.dtype)
    _kernel(ufunc).run(a.size, a.size, a.reshape(-1), b.reshape(-1), out.reshape(-1))
    return out
