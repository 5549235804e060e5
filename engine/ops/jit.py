"""numba, imported on first use, for the engine's compiled CPU kernels (``conv_kernels``, ``pool_kernels``).

numba is a dependency, but a kernel module must still work without it (an environment that could not
install it, a platform without wheels): ``numba()`` is then None and the compiled implementations
do not apply.
Importing numba costs about a third of a second, so processes that never convolve or pool never pay it.
"""

import functools

import numpy as np

from ..backend import is_host

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
