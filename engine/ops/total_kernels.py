"""A compiled sum of all values of a large float array (``sum()`` and ``mean()`` without dims): lanes of the
array's dtype over chunks of ``CHUNK`` values (vectorised), the chunks added in float64, the chunks shared over
numba's threads. NumPy's pairwise sum reads float32 at about one value a cycle on one core (bench/NOTES.md).
"""

import functools

import numpy as np

from . import jit

CHUNK = 1024
MIN_SIZE = 1 << 15  # below this many values NumPy's call costs less than the kernel's


@functools.cache
def _kernel():
    prange = jit.numba().prange

    def chunk_sums(flat, parts, sums):
        """``sums[p]``: the sum of the chunks of share ``p`` of ``flat``, each chunk in the array's dtype."""
        chunks = (flat.size + CHUNK - 1) // CHUNK
        for part in prange(parts):
            t = 0.0
            for k in range(chunks * part // parts, chunks * (part + 1) // parts):
                chunk = flat[k * CHUNK:(k + 1) * CHUNK]  # a slice: loops over computed offsets do not vectorise
                acc = flat.dtype.type(0)
                for i in range(chunk.size):
                    acc += chunk[i]
                t += acc
            sums[part] = t

    return jit.ThreadedKernel(chunk_sums, nogil=True, fastmath=set(jit.FLAGS), cache=True)


def applies(x):
    """Whether ``total`` takes ``x``: a C-contiguous host float32 or float64 array of at least ``MIN_SIZE``."""
    return x.size >= MIN_SIZE and x.flags.c_contiguous and jit.takes_floats(x)


def total(x):
    """The sum of all values of ``x`` (as ``applies`` allows), as a Python float (the shares added in float64)."""
    threads = jit.kernel_threads(x.size, MIN_SIZE)
    sums = np.empty(threads)
    _kernel()(threads, x.reshape(-1), threads, sums)
    return float(sums.sum())
