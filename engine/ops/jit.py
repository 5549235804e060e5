"""numba, imported on first use, for the engine's compiled CPU kernels (``conv_kernels``, ``pool_kernels``).

numba is a dependency, but a kernel module must still work without it (an environment that could not
install it, a platform without wheels): ``numba()`` is then None and the compiled implementations
do not apply.
Importing numba costs about a third of a second, so processes that never convolve or pool never pay it.

``ThreadedKernel`` runs a kernel's ``prange`` loops on numba's own threads. Those wait for work by spinning
in compiled code, so a hand-off takes microseconds, where ``threads.cpu_map`` wakes a sleeping Python thread
that must then take the GIL (tens of microseconds on a virtual machine that halts idle cores). numba is set
to a thread-safe layer (TBB or OpenMP, never its workqueue, which aborts when two threads launch kernels at
once); GNU OpenMP cannot run in a child forked after its threads started, so such a child runs the serial
twin.
"""

import functools
import importlib
import os
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
    if numba.config.THREADING_LAYER == "default":  # (an explicit NUMBA_THREADING_LAYER is the user's choice)
        numba.config.THREADING_LAYER = "threadsafe"
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


_threads_pid = None  # the process that first chose numba's threads: only it may run them


def kernel_threads(work, min_work=PARALLEL_MIN_SIZE):
    """How many threads a ``ThreadedKernel`` is to run on for ``work`` elements: the engine's threads (at
    most numba's) from ``min_work`` on, where a thread-safe layer loads and this process may run it; else 1."""
    global _threads_pid
    if work < min_work:
        return 1
    threads = min(get_num_threads(), numba().config.NUMBA_NUM_THREADS)
    if threads < 2 or not _threadsafe_layer():
        return 1
    if _threads_pid is None:
        _threads_pid = os.getpid()
    return threads if _threads_pid == os.getpid() else 1


_SAFE_POOLS = {"threadsafe": ("tbbpool", "omppool"), "safe": ("tbbpool",), "tbb": ("tbbpool",), "omp": ("omppool",)}


@functools.cache
def _threadsafe_layer():
    """Whether numba is set to a thread-safe threading layer and one that the setting allows loads here."""
    for pool in _SAFE_POOLS.get(numba().config.THREADING_LAYER, ()):
        try:
            importlib.import_module(f"numba.np.ufunc.{pool}")
        except ImportError:
            continue
        return True
    return False
