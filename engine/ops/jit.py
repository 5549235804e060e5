"""numba, imported on first use, for the engine's compiled CPU kernels (``conv_kernels``, ``pool_kernels``).

numba is a dependency, but a kernel module must still work without it (an environment that could not
install it, a platform without wheels): ``numba()`` is then None and the compiled implementations
do not apply.
Importing numba costs about a third of a second, so processes that never run a compiled kernel (a convolution,
pooling, a norm, a large full sum or elementwise product, ...) never pay it.
Kernels are compiled with ``njit`` (not numba's own), which makes numba's on-disk cache work for kernels made in
factories.

``ThreadedKernel`` runs a kernel's ``prange`` loops on numba's own threads. Those wait for work by spinning
in compiled code, so a hand-off takes microseconds, where ``threads.cpu_map`` wakes a sleeping Python thread
that must then take the GIL (tens of microseconds on a virtual machine that halts idle cores). They are used
only where numba's pool starts on a thread-safe layer (TBB or OpenMP; its workqueue aborts when two threads
launch at once), and never in a child forked after the pool started, whoever started it (GNU OpenMP ends
such a child on its first launch): such calls run the serial twin. ``RangeKernel`` shares a kernel's range
(of rows, channels, images or values) over those threads: batch and group norm, ReLU, the compiled convolution,
max pooling and large arithmetic, whose ``cpu_map`` hand-offs cost more than their kernels at a ResNet's batch
of 32 on a virtual machine, and whose Python workers took the cores of the spinning threads.
"""

import functools
import hashlib
import importlib
import os
import sys
import threading
import types

import numpy as np

from ..backend import is_host
from ..threads import PARALLEL_MIN_SIZE, cpu_map, get_num_threads

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


def njit(py_func=None, **options):
    """``numba.njit`` for the engine's kernels, as a decorator with or without options. A kernel made in a
    factory (a closure over the factory's arguments and the kernels it calls) is compiled as a copy named after a
    hash of its closure, and numba's on-disk cache keys it by that hash (``_StableKeyCache``): numba's own key
    pickles the kernels in a closure, which differs in every process, so such a kernel was compiled again and
    saved again in each one; and two variants compiled by different processes could carry the same symbol
    name, so that one loaded beside the other ran the other's code."""
    if py_func is None:
        return lambda f: njit(f, **options)
    cache = options.pop("cache", False)
    if py_func.__closure__:
        py_func = _renamed(py_func, f"{py_func.__qualname__}.{_closure_key(py_func)[:12]}")
    dispatcher = numba().njit(**options)(py_func)
    if cache:
        dispatcher._cache = _stable_key_cache()(py_func)
    return dispatcher


def _renamed(py_func, qualname):
    """A copy of ``py_func`` under another qualified name (numba names its cache files and symbols after it)."""
    copy = types.FunctionType(py_func.__code__, py_func.__globals__, py_func.__name__, py_func.__defaults__,
                              py_func.__closure__)
    copy.__kwdefaults__ = py_func.__kwdefaults__
    copy.__qualname__ = qualname
    return copy


def _closure_key(py_func):
    """A hash of ``py_func``'s code and closure that is the same in every process: a jitted function in the
    closure enters by its own code, closure and options, other values as numba pickles them (a cell still empty,
    a function defined after this one, by a mark)."""
    dumps = importlib.import_module("numba.core.serialize").dumps
    digest = hashlib.sha256(_code_key(py_func.__code__).encode())
    digest.update(repr(py_func.__defaults__).encode())
    for cell in py_func.__closure__ or ():
        try:
            value = cell.cell_contents
        except ValueError:
            digest.update(b"(empty)")
            continue
        inner = getattr(value, "py_func", None)
        if inner is None:
            digest.update(dumps(value))
        else:
            options = sorted((k, sorted(v) if isinstance(v, (set, frozenset)) else v)
                             for k, v in value.targetoptions.items())
            digest.update(f"{_closure_key(inner)}{options!r}".encode())
    return digest.hexdigest()


def _code_key(code):
    """The parts of a code object that make what it computes: its bytecode, names and constants (nested code
    objects by the same parts, sets of constants sorted, since their order changes between processes)."""
    consts = [_code_key(c) if isinstance(c, types.CodeType) else
              repr(sorted(c, key=repr)) if isinstance(c, frozenset) else repr(c) for c in code.co_consts]
    return hashlib.sha256(repr((code.co_code, code.co_names, consts)).encode()).hexdigest()


@functools.cache
def _stable_key_cache():
    class StableKeyCache(importlib.import_module("numba.core.caching").FunctionCache):
        """numba's cache of a function's compiled code, keyed by ``_closure_key`` in place of numba's pickle of
        the closure."""

        def _index_key(self, sig, codegen):
            return sig, codegen.magic_tuple(), _closure_key(self._py_func)

    return StableKeyCache


class ThreadedKernel:
    """A kernel whose ``prange`` loops run independent pieces, compiled twice from one Python function: a
    serial kernel and one that runs those loops on numba's threads. ``kernel(threads, *args)`` runs the
    one that ``kernel_threads`` chose."""

    def __init__(self, py_func, **options):
        self.serial = njit(py_func, **options)
        self.threaded = njit(_renamed(py_func, f"{py_func.__qualname__}.threaded"), parallel=True, **options)

    def __call__(self, threads, *args):
        if threads < 2:
            return self.serial(*args)
        if getattr(_launch_width, "threads", 0) != threads:
            numba().set_num_threads(threads)
            _launch_width.threads = threads
        return self.threaded(*args)


# The thread count this thread last gave numba (numba keeps one per calling thread): asking numba for it costs
# 0.7 us a launch, a tenth of a small kernel's time
_launch_width = threading.local()


class RangeKernel:
    """A compiled ``kernel(*args, start, stop)`` that works on ``range(start, stop)`` of ``range(n)`` (rows,
    channels, images, values), run on shares of ``range(n)``: ``run(n, work, *args)`` splits it when the ``work``
    pays for threads, one share per thread of numba's pool, or per engine thread (``threads.cpu_map``, the kernel
    releasing the GIL) where that pool cannot run (no thread-safe layer, a forked child). With ``indexed`` the
    kernel also takes the share's number before ``start``, for outputs of its own (``shares`` says how many to make).
    The kernel should slice its arrays to its range before looping: LLVM vectorises loops over a slice, not over
    computed offsets."""

    def __init__(self, kernel, indexed=False, **options):
        prange = numba().prange
        self.kernel, self.indexed = kernel, indexed

        if indexed:
            def shares(n, parts, *args):
                for part in prange(parts):
                    kernel(*args, part, n * part // parts, n * (part + 1) // parts)
        else:
            def shares(n, parts, *args):
                for part in prange(parts):
                    kernel(*args, n * part // parts, n * (part + 1) // parts)

        self.threaded = ThreadedKernel(shares, **options)

    @staticmethod
    def shares(n, work, min_work=PARALLEL_MIN_SIZE):
        """How many shares ``run`` cuts ``range(n)`` into for ``work``: one per thread of numba's pool from
        ``min_work``; where that pool cannot run, one per engine thread from ``min_work`` or ``PARALLEL_MIN_SIZE``,
        whichever is more (handing a share to an engine thread costs more)."""
        return _parts(n, work, min_work, kernel_threads(work, min_work))

    def run(self, n, work, *args, min_work=PARALLEL_MIN_SIZE, shares=None):
        threads = kernel_threads(work, min_work)  # (asked once: this runs on every call)
        parts = shares or _parts(n, work, min_work, threads)
        if parts > 1 and threads > 1:
            self.threaded(parts, n, parts, *args)
            return

        def share(k):
            self.kernel(*args, *((k,) if self.indexed else ()), n * k // parts, n * (k + 1) // parts)

        if parts == 1:
            share(0)
        else:
            cpu_map(share, range(parts))


def _parts(n, work, min_work, threads):
    """``RangeKernel.shares`` given ``kernel_threads(work, min_work)``."""
    if threads == 1 and work >= max(min_work, PARALLEL_MIN_SIZE):  # the engine's threads take the shares
        threads = get_num_threads()
    return max(1, min(n, threads))


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
    if work < min_work or _forked_child:
        return 1
    threads = get_num_threads()
    if threads < 2:
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
