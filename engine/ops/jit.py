"""numba, imported on first use, for the engine's compiled CPU kernels (``conv_kernels``, ``pool_kernels``).

numba is a dependency, but a kernel module must still work without it (an environment that could not
install it, a platform without wheels): ``numba()`` is then None and the compiled implementations
do not apply.
Importing numba costs about a third of a second, so processes that never convolve or pool never pay it.

``ThreadedKernel`` runs a kernel's ``prange`` loops on numba's own threads. Those wait for work by spinning
in compiled code, so a hand-off takes microseconds, where ``threads.cpu_map`` wakes a sleeping Python thread
that must then take the GIL (tens of microseconds on a virtual machine that halts idle cores). They are used
only where numba's pool starts on a thread-safe layer (TBB or OpenMP; its workqueue aborts when two threads
launch at once), and never in a child forked after the pool started, whoever started it (GNU OpenMP ends
such a child on its first launch): such calls run the serial twin.
"""

import functools
import importlib
import os
import sys
import types

import numpy as np

from ..backend import is_host
from ..threads import PARALLEL_MIN_SIZE, get_num_threads

# Kernel floating-point flags: reordering sums lets LLVM vectorise reductions, and contracting products
# into fused multiply-adds; inf and NaN keep their IEEE meaning (no "fast" nnan/ninf assumptions).
FLAGS = frozenset({"reassoc", "contract"})


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def takes_floats(x):
    """Whether the kernels compiled for float32 and float64 can take ``x``: a host array of one of those
    dtypes, with numba importable."""
    return is_host(x) and x.dtype in _FLOATS and numba() is not None


@functools.cache
def numba():
    """The numba module, or None when it cannot be imported."""
    try:
        import numba
    except ImportError:
        return None
    return numba


class ThreadedKernel:
    """A kernel whose ``prange`` loops run independent pieces, compiled twice from one Python function: a
    serial kernel and one that runs those loops on numba's threads. ``kernel(threads, *args)`` runs the
    one that ``kernel_threads`` chose."""

    def __init__(self, py_func, **options):
        nb = numba()
        twin = types.FunctionType(py_func.__code__, py_func.__globals__, py_func.__name__,
                                  py_func.__defaults__, py_func.__closure__)
        twin.__qualname__ = f"{py_func.__qualname__}.threaded"  # its own entry in numba's cache
        self.serial = nb.njit(**options)(py_func)
        self.threaded = nb.njit(parallel=True, **options)(twin)

    def __call__(self, threads, *args):
        if threads < 2:
            return self.serial(*args)
        nb = numba()
        if nb.get_num_threads() != threads:  # (numba's count is the calling thread's own)
            nb.set_num_threads(threads)
        return self.threaded(*args)


_forked_child = False  # forked after numba's pool started: its threads must not run here


def _after_fork_in_child():
    global _forked_child
    parallel = sys.modules.get("numba.np.ufunc.parallel")
    if parallel is not None and getattr(parallel, "_is_initialized", True):
        _forked_child = True


os.register_at_fork(after_in_child=_after_fork_in_child)  # (at import: other code may start the pool first)


def kernel_threads(work, min_work=PARALLEL_MIN_SIZE):
    """How many threads a ``ThreadedKernel`` is to run on for ``work`` elements: the engine's threads (at
    most numba's pool) from ``min_work`` on, where the pool runs on a thread-safe layer in this process;
    else 1."""
    threads = get_num_threads()
    if work < min_work or _forked_child or threads < 2:
        return 1
    pool = _thread_safe_pool()
    return 1 if pool is None else min(threads, pool.NUM_THREADS)


@functools.cache
def _thread_safe_pool():
    """numba's thread pool module, its threads started, where they run on TBB or OpenMP; else None."""
    try:
        parallel = importlib.import_module("numba.np.ufunc.parallel")
        parallel._launch_threads()
        layer = numba().threading_layer()
    except (ImportError, AttributeError, ValueError, RuntimeError):  # no layer loads, or another numba
        return None
    return parallel if layer in ("tbb", "omp") else None
