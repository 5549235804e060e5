"""The one place that knows NumPy from CuPy: devices, their array modules, and transfers between them.

A ``device`` is interned: ``device('cuda:0') is device('cuda', 0)``, so ops compare devices by
identity. The CUDA array module is CuPy when it imports and sees a GPU; tests may install a stand-in
module with :func:`install_cuda_module` to exercise the device plumbing on a machine without one.
"""

import ctypes
import itertools
import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import threadpoolctl

_DEVICE_RE = re.compile(r"^(cpu|cuda)(?::(0|[1-9]\d*))?$")
_devices = {}


class device:
    __slots__ = ("index", "type")

    def __new__(cls, type_or_str, index=None):
        if isinstance(type_or_str, device):
            return type_or_str
        if isinstance(type_or_str, int) and index is None:
            type_or_str, index = "cuda", type_or_str
        m = _DEVICE_RE.match(str(type_or_str)) if isinstance(type_or_str, str) else None
        if m is None:
            raise RuntimeError(
                f"Expected one of cpu, cuda device type at start of device string: {type_or_str}"
            )
        kind, idx = m.group(1), m.group(2)
        if idx is not None:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed "
                                   f"explicitly: {type_or_str}")
            index = int(idx)
        if kind == "cpu":
            index = None
        elif index is None:
            index = 0  # a bare 'cuda' means the current device, which we keep at 0
        key = (kind, index)
        dev = _devices.get(key)
        if dev is None:
            dev = object.__new__(cls)
            object.__setattr__(dev, "type", kind)
            object.__setattr__(dev, "index", index)
            _devices[key] = dev
        return dev

    def __setattr__(self, name, value):
        raise AttributeError("device is immutable")

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return self is other

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (str(self),))


CPU = device("cpu")

_cuda_module = None  # CuPy, or a stand-in installed by tests
_cuda_probe_done = False


def _probe_cupy():
    global _cuda_module, _cuda_probe_done
    _cuda_probe_done = True
    try:
        import cupy
    except Exception:  # CuPy absent or broken: no CUDA device
        return
    try:
        if cupy.cuda.runtime.getDeviceCount() > 0:
            _cuda_module = cupy
    except Exception:  # CuPy installed, but no driver or no GPU
        return


def cuda_module():
    """The CUDA array module (CuPy or the installed stand-in), or None."""
    if not _cuda_probe_done:
        _probe_cupy()
    return _cuda_module


def install_cuda_module(module):
    """Use ``module`` as the CUDA array module (a CuPy-compatible stand-in for tests); None removes it."""
    global _cuda_module, _cuda_probe_done
    _cuda_module = module
    _cuda_probe_done = module is not None


def cuda_device_count():
    mod = cuda_module()
    return 0 if mod is None else int(mod.cuda.runtime.getDeviceCount())


def array_module(dev):
    """``numpy`` for the CPU, CuPy (or its stand-in) for CUDA devices."""
    if dev is CPU:
        return np
    mod = cuda_module()
    if mod is None:
        raise RuntimeError(
            "Torch not compiled with CUDA enabled" if "cupy" not in sys.modules else
            "CUDA is not available: CuPy is installed but found no usable GPU"
        )
    if dev.index >= cuda_device_count():
        raise RuntimeError(f"CUDA error: invalid device ordinal (asked for {dev}, "
                           f"{cuda_device_count()} device(s) present)")
    return mod


class _NullContext:
    __slots__ = ()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


_NULL = _NullContext()


def device_context(dev):
    """A context manager that makes ``dev`` current for array allocation (a no-op on the CPU)."""
    if dev is CPU:
        return _NULL
    return array_module(dev).cuda.Device(dev.index)


def device_of(array):
    """The device an array of either module lives on."""
    where = getattr(array, "device", "cpu")  # NumPy 2 arrays say "cpu"; CuPy's carry a Device
    if isinstance(where, str):
        return CPU
    return device("cuda", int(where.id))


def transfer(array, src, dst):
    """Copy ``array`` from device ``src`` to ``dst`` (returns it unchanged when they are the same)."""
    if src is dst:
        return array
    if dst is CPU:
        return array_module(src).asnumpy(array)
    mod = array_module(dst)
    with mod.cuda.Device(dst.index):
        if src is CPU:
            return mod.asarray(array)
        return mod.array(array, copy=True)  # device to device, made on the current (target) device


# ----- CPU threads for large elementwise work -----
_num_threads = os.cpu_count() or 1
_pool = None
PARALLEL_MIN_SIZE = 1 << 17  # below this, handing work to threads costs more than it saves
PRODUCT_MIN_MACS = 1 << 21  # likewise for a matrix product (about 50 us of one core)


def get_num_threads():
    return _num_threads


def set_num_threads(n):
    """Threads for the engine's CPU work: compiled convolution kernels, large products and elementwise ops."""
    global _num_threads, _pool
    if int(n) < 1:
        raise RuntimeError(f"Number of threads must be positive, got {n}")
    _num_threads = int(n)
    if _pool is not None:
        _pool.shutdown(wait=False)
        _pool = None


def cpu_shares(n, work=None, min_work=PARALLEL_MIN_SIZE):
    """Contiguous (start, stop) shares of ``range(n)``, one per CPU thread (fewer when ``n`` is small, and one
    when the ``work`` it stands for, in elements or multiply-adds, is below ``min_work``)."""
    parts = max(1, min(n, _num_threads if work is None or work >= min_work else 1))
    bounds = [n * p // parts for p in range(parts + 1)]
    return list(itertools.pairwise(bounds))


def cpu_matmul(a, b):
    """``a @ b``, where two NumPy matrices with enough work are split over the CPU threads: by rows of ``a``,
    or by columns of ``b`` when it has more of them. BLAS itself runs one thread (``_one_blas_thread``)."""
    if (_num_threads < 2 or type(a) is not np.ndarray or type(b) is not np.ndarray or a.ndim != 2 or b.ndim != 2
            or a.shape[0] * a.shape[1] * b.shape[1] < PRODUCT_MIN_MACS):
        return a @ b
    m, p = a.shape[0], b.shape[1]
    out = np.empty((m, p), dtype=np.result_type(a, b))
    if m >= p:
        cpu_map(lambda s: np.matmul(a[s[0]:s[1]], b, out=out[s[0]:s[1]]), cpu_shares(m))
    else:
        def columns(s):
            out[:, s[0]:s[1]] = a @ b[:, s[0]:s[1]]

        cpu_map(columns, cpu_shares(p))
    return out


def _thread_pool():
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=max(1, _num_threads - 1), thread_name_prefix="engine-cpu")
    return _pool


def cpu_map(fn, items):
    """``[fn(item) for item in items]`` with the items run on the CPU threads, the calling thread taking the
    first; for work that releases the GIL (compiled kernels, large NumPy calls)."""
    if len(items) < 2:
        return [fn(item) for item in items]
    futures = [_thread_pool().submit(fn, item) for item in items[1:]]
    return [fn(items[0])] + [f.result() for f in futures]


def cpu_binary(ufunc, a, b):
    """``ufunc(a, b)`` on NumPy arrays, split across threads when it is large enough to pay.

    NumPy's loops release the GIL, so row blocks of the output fill in parallel. Only the plain case is
    split: ``a`` C-contiguous and at least 1-D, ``b`` of the same shape or a scalar (or broadcast along
    the leading axis); anything else runs as a single call.
    """
    n = _num_threads
    if n < 2 or a.size < PARALLEL_MIN_SIZE or a.ndim == 0 or not a.flags.c_contiguous:
        return ufunc(a, b)
    b_rows = isinstance(b, np.ndarray) and b.shape == a.shape
    if not b_rows and isinstance(b, np.ndarray) and b.size > 1 and (
            b.ndim >= a.ndim or np.broadcast_shapes(a.shape, b.shape) != a.shape):
        return ufunc(a, b)
    rows = a.shape[0]
    if rows < n:
        return ufunc(a, b)
    out = np.empty(a.shape, dtype=np.result_type(a, b))
    # The calling thread starts at once while workers must wake up first, so it takes a larger share.
    first = min(rows, int(rows * 1.1 / n))
    step = -(-(rows - first) // (n - 1))
    futures = []
    for lo in range(first, rows, step):
        part = slice(lo, lo + step)
        futures.append(_thread_pool().submit(ufunc, a[part], b[part] if b_rows else b, out=out[part]))
    ufunc(a[:first], b[:first] if b_rows else b, out=out[:first])
    for f in futures:
        f.result()
    return out


def _tune_allocator():
    """Keep freed large blocks in glibc's heap instead of returning them to the OS.

    Every op allocates its result; without this each multi-megabyte result is a fresh mmap whose pages
    fault in on first touch, which costs as much as the arithmetic on it.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    libc.mallopt(m_mmap_threshold, 1 << 30)
    libc.mallopt(m_trim_threshold, (1 << 31) - 1)


def _one_blas_thread():
    """Run NumPy's BLAS on one thread per call; the engine spreads work over its own threads instead.

    OpenBLAS's idle workers spin for a while after each call, and on a 2-core machine that spinning
    took a core from the engine's convolution kernels running next: LeNet's training step ran 30-40%
    slower with BLAS on two threads than on one. Like PyTorch, which runs its BLAS on its own thread
    pool, the engine thus owns the CPU threads (``set_num_threads``); NumPy products outside the engine
    run single-threaded in a process that imports it.
    """
    threadpoolctl.ThreadpoolController().select(user_api="blas").limit(limits=1)


_tune_allocator()
_one_blas_thread()
