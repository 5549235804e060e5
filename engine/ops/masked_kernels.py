"""A compiled (numba) ``nonzero`` for host arrays: the (count, ndim) int64 positions written in one pass.

NumPy's ``nonzero`` gives one index array per dim, which ``stack`` then interleaves: a second pass and a
temporary per dim. Here each element writes its position and advances the output row by ``element != 0``
(no branch on the data, so a random mask costs no mispredictions); rows are split over the CPU threads,
each share starting at the row its predecessors' counts give.
"""

import functools

import numpy as np

from ..backend import is_host
from ..threads import PARALLEL_MIN_SIZE, cpu_map, cpu_shares
from . import jit

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


@functools.cache
def _kernel():
    @jit.njit(nogil=True, cache=True)
    def positions(a, lead_shape, first_row, out):
        """``a`` (rows, last): its rows are the leading dims, ``first_row``'s multi-index being where this
        share starts; ``out`` has exactly one row per nonzero element."""
        lead = lead_shape.size
        index = np.zeros(lead, dtype=np.int64)
        rest = first_row
        for q in range(lead - 1, -1, -1):
            index[q] = rest % lead_shape[q]
            rest //= lead_shape[q]
        cap = out.shape[0]
        k = 0
        for i in range(a.shape[0]):
            for j in range(a.shape[1]):
                if k < cap:  # true until the share's last nonzero element: predicted
                    for q in range(lead):
                        out[k, q] = index[q]
                    out[k, lead] = j
                    k += a[i, j] != 0
            q = lead - 1
            while q >= 0:
                index[q] += 1
                if index[q] < lead_shape[q]:
                    break
                index[q] = 0
                q -= 1

    return positions


def takes(a):
    """Whether the kernel takes ``a``: a host array of at least one dim of a dtype numba compiles for (bool,
    integers, float32, float64; not float16 or bfloat16), with numba importable."""
    return (a.ndim >= 1 and (a.dtype.kind in "biu" or a.dtype in _FLOATS) and is_host(a)
            and jit.numba() is not None)


def nonzero_rows(a):
    """``torch.nonzero(a)``: the (count, a.ndim) int64 positions of ``a``'s nonzero elements, in order."""
    if not a.size:
        return np.empty((0, a.ndim), dtype=np.int64)
    rows = np.ascontiguousarray(a).reshape(-1, a.shape[-1])
    lead_shape = np.array(a.shape[:-1], dtype=np.int64)
    kernel = _kernel()
    shares = cpu_shares(rows.shape[0], a.size) if a.size >= PARALLEL_MIN_SIZE else ()
    if len(shares) < 2:  # small: no per-share bookkeeping
        out = np.empty((np.count_nonzero(rows), a.ndim), dtype=np.int64)
        kernel(rows, lead_shape, 0, out)
        return out
    counts = [int(np.count_nonzero(rows[lo:hi])) for lo, hi in shares]
    out = np.empty((sum(counts), a.ndim), dtype=np.int64)
    starts = np.cumsum([0, *counts])
    jobs = [(lo, hi, starts[s], starts[s + 1]) for s, (lo, hi) in enumerate(shares)]
    cpu_map(lambda job: kernel(rows[job[0]:job[1]], lead_shape, job[0], out[job[2]:job[3]]), jobs)
    return out
