"""The product of two host matrices, as the ops take it (linear layers, ``matmul``, ``addmm``, the convolutions
that multiply unfolded patches, recurrent steps): oneDNN's sgemm for float32 with enough work, whose kernels use
the machine's widest vectors and whose threads are the OpenMP team the compiled kernels use; else NumPy's BLAS
over the engine's threads (``threads.cpu_matmul``). bench/NOTES.md has the measurements.
"""

import math

import numpy as np

from ..backend import is_host
from ..threads import cpu_matmul
from . import onednn

GEMM_MIN_MACS = 1 << 19  # below this, NumPy's call costs less than sgemm's fixed cost (about 7 us)


def matmul(a, b):
    """``a @ b`` of two host matrices (or anything ``cpu_matmul`` takes). A stack of matrices times one matrix
    (a linear layer on a sequence) is one product of the stack's rows: NumPy's batched product would take one
    matrix after another on one core."""
    if a.ndim > 2 and b.ndim == 2 and is_host(a) and is_host(b):
        rows = a.reshape(math.prod(a.shape[:-1]), a.shape[-1])
        return matmul(rows, b).reshape(*a.shape[:-1], b.shape[1])
    if (a.ndim == 2 and b.ndim == 2 and a.dtype == np.float32 and b.dtype == np.float32
            and a.shape[0] * a.shape[1] * b.shape[1] >= GEMM_MIN_MACS and is_host(a) and is_host(b)):
        out = onednn.sgemm(a, b)
        if out is not None:
            return out
    return cpu_matmul(a, b)
