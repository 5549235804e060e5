"""The engine's CPU threads: a team of workers, the shares work is split into, and threaded products and
elementwise ops built on them.

The engine owns the CPU threads (``set_num_threads``, PyTorch's name), and NumPy's BLAS runs one thread
per call: OpenBLAS's idle workers spin for a while after each call, and on a 2-core machine that
spinning took a core from the engine's convolution kernels running next (LeNet's training step ran
30-40% slower with BLAS on two threads). Products outside the engine thus run single-threaded in a
process that imports it.

Work is handed to the team by ``cpu_map``: two lock operations per worker, about 16 microseconds a
hand-off with the thread's wake-up (a ThreadPoolExecutor takes 20) where idle cores poll, and about 70 on a
virtual machine that halts them. Compiled kernels that cannot pay that run their loops on numba's spinning
threads instead (``ops.jit.ThreadedKernel``). A call made while the team is busy,
from another thread or from inside a job, runs its items itself rather than queue behind the team (a
job waiting on its own pool would deadlock it). The work must release the GIL (compiled kernels, large
NumPy calls) for the threads to run together.
"""

import itertools
import os
import threading

import numpy as np
import threadpoolctl

from .backend import is_host

# The OpenMP runtime (libgomp, shared by numba's threading layer and oneDNN) reads these when it starts. Its idle
# workers spin GOMP_SPINCOUNT turns before they sleep: libgomp's default (300,000) kept them spinning long enough to
# take the cores from the engine's own threads running the next op, and never (OMP_WAIT_POLICY=PASSIVE) made every
# oneDNN call wake them; 20,000 keeps them through the short gaps between the calls of one convolution
# (bench/NOTES.md, issue 20). Settings the user made are kept.
if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", "20000")


def usable_cpus():
    """The CPUs this process may run on (its affinity mask, as ``taskset`` or a container's cpuset limit it), as
    PyTorch's OpenMP counts them; all of the machine's where the platform does not say."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def default_threads():
    """The engine's threads at start, as PyTorch 2.13 chooses them: every usable CPU, or fewer where
    ``OMP_NUM_THREADS`` is a positive whole number below that (``python -m engine.distributed.run`` sets it to
    share a machine out among its processes)."""
    cpus = usable_cpus()
    value = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if value.isdigit() and int(value) > 0:
        return min(int(value), cpus)
    return cpus


_num_threads = default_threads()
PARALLEL_MIN_SIZE = 1 << 17  # below this many elements, handing work to threads costs more than it saves
PRODUCT_MIN_MACS = 1 << 21  # likewise for the multiply-adds of a product or a convolution (~50 us of one core)


def get_num_threads():
    return _num_threads


def set_num_threads(n):
    """Threads for the engine's CPU work: compiled convolution kernels, large products and elementwise ops."""
    global _num_threads
    if int(n) < 1:
        raise RuntimeError(f"Number of threads must be positive, got {n}")
    _num_threads = int(n)
    _Team.replace()


class _Worker:
    """A daemon thread that runs one job per ``start`` and signals ``done``; a job of None ends it."""

    def __init__(self, name):
        self.start, self.done = threading.Lock(), threading.Lock()
        self.start.acquire()
        self.done.acquire()
        self.job = self.result = self.error = None
        threading.Thread(target=self._loop, name=name, daemon=True).start()

    def _loop(self):
        while True:
            self.start.acquire()
            if self.job is None:
                return
            fn, items = self.job
            try:
                self.result = [fn(item) for item in items]
            except BaseException as e:  # handed to the caller, which re-raises it
                self.error = e
            # Hold nothing of a finished job: its arrays would stay alive until the next one, and a gradient
            # still referenced here cannot be taken over by a leaf's .grad (autograd copies it instead).
            fn = items = self.job = None
            self.done.release()

    def run(self, fn, items):
        self.job = (fn, items)
        self.start.release()

    def wait(self):
        """The job's results, once it has finished; raises what it raised."""
        self.done.acquire()
        error, self.error = self.error, None
        if error is not None:
            raise error
        result, self.result = self.result, None
        return result

    def stop(self):
        self.job = None
        self.start.release()


class _Team:
    """``get_num_threads() - 1`` workers, used by one ``cpu_map`` at a time (another thread calling in
    meanwhile, or a job calling ``cpu_map`` itself, runs its items on its own)."""

    _current = None
    _lock = threading.Lock()

    def __init__(self, size):
        self.pid = os.getpid()
        self.busy = threading.Lock()
        self.workers = [_Worker(f"engine-cpu-{k}") for k in range(size)]

    @classmethod
    def get(cls):
        with cls._lock:
            team = cls._current
            if team is None or team.pid != os.getpid() or len(team.workers) != _num_threads - 1:
                cls._current = team = cls(_num_threads - 1)  # (a forked child has none of the parent's threads)
            return team

    @classmethod
    def replace(cls):
        """Let the workers go; the next ``cpu_map`` starts a team of the current size."""
        with cls._lock:
            team, cls._current = cls._current, None
        if team is not None and team.pid == os.getpid():
            with team.busy:
                for worker in team.workers:
                    worker.stop()


def cpu_map(fn, items):
    """``[fn(item) for item in items]``, item ``k`` run by thread ``k % get_num_threads()``, the calling
    thread taking item 0 (and every ``get_num_threads()``-th after it)."""
    if len(items) < 2 or _num_threads < 2:
        return [fn(item) for item in items]
    team = _Team.get()
    if not team.busy.acquire(blocking=False):
        return [fn(item) for item in items]
    try:
        stride = len(team.workers) + 1
        running = []
        for k, worker in enumerate(team.workers, start=1):
            if k < len(items):
                worker.run(fn, items[k::stride])
                running.append((k, worker))
        results = [None] * len(items)
        try:
            results[::stride] = [fn(item) for item in items[::stride]]
        finally:
            errors = []
            for k, worker in running:  # every worker is waited for, so the team is idle when released
                try:
                    results[k::stride] = worker.wait()
                except BaseException as e:
                    errors.append(e)
        if errors:
            raise errors[0]
        return results
    finally:
        team.busy.release()


def cpu_shares(n, work=None, min_work=PARALLEL_MIN_SIZE):
    """Contiguous (start, stop) shares of ``range(n)``, one per CPU thread (fewer when ``n`` is small, and one
    when the ``work`` it stands for, in elements or multiply-adds, is below ``min_work``)."""
    parts = max(1, min(n, _num_threads if work is None or work >= min_work else 1))
    bounds = [n * p // parts for p in range(parts + 1)]
    return list(itertools.pairwise(bounds))


def cpu_batched(fn, a, *rest):
    """``fn(a, *rest)`` for a NumPy stack of matrices ``a`` (LAPACK through ``np.linalg``), its leading batch
    split over the CPU threads: NumPy's linalg loops release the GIL but take one matrix after another.
    Arguments of ``rest`` with the same leading batch are split with it; others go whole to every share."""
    n = a.shape[0] if a.ndim >= 3 else 0
    if _num_threads < 2 or n < 2 or not is_host(a) or a.size < PARALLEL_MIN_SIZE:
        return fn(a, *rest)

    def share(bounds):
        lo, hi = bounds
        return fn(a[lo:hi], *(r[lo:hi] if is_host(r) and r.ndim == a.ndim and r.shape[0] == n else r
                               for r in rest))

    parts = cpu_map(share, cpu_shares(n))
    if isinstance(parts[0], tuple):
        return tuple(np.concatenate(outs) for outs in zip(*parts))
    return np.concatenate(parts)


def cpu_matmul(a, b):
    """``a @ b``, where two NumPy matrices with enough work are split over the CPU threads: by rows of ``a``,
    or by columns of ``b`` when it has more of them. bfloat16 (NumPy kind "V") is multiplied in float32 and
    rounded, as PyTorch does on CPUs without bfloat16 arithmetic."""
    if a.dtype.kind == "V":
        return cpu_matmul(a.astype(np.float32), b.astype(np.float32)).astype(a.dtype)
    if (a.ndim != 2 or b.ndim != 2 or _num_threads < 2 or not is_host(a) or not is_host(b)
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

    def rows_of(part):
        lo, hi = part
        ufunc(a[lo:hi], b[lo:hi] if b_rows else b, out=out[lo:hi])

    cpu_map(rows_of, cpu_shares(rows))
    return out


def _one_blas_thread():
    """NumPy's BLAS, one thread per call (see the module's note)."""
    threadpoolctl.ThreadpoolController().select(user_api="blas").limit(limits=1)


_one_blas_thread()
