"""The last pass of a strided transposed convolution computed by output phases: each phase's convolution output
is written into its rows and columns of the result (every ``sh``-th row from its first, every ``sw``-th column)
with the bias added, in one compiled pass per image. NumPy needs a zeroed result, a strided assignment per
phase and a pass for the bias. The strides are constants of the kernel."""

import functools

import numpy as np

from . import jit


@functools.cache
def _kernel(sh, sw):
    prange = jit.numba().prange

    def interleave(stacked, bias, table, out, parts):
        """``out`` (N, K, ho, wo) from ``stacked`` (N, P*K, h', w'), the P phases' outputs one block of K
        channels each; row ``i`` of ``table`` places phase ``i``: its first output row and column, and the
        rows ``q0:q0+nr`` and columns ``p0:p0+nc`` of its output that land in the result."""
        n_img, k = out.shape[0], out.shape[1]
        for part in prange(parts):
            for n in range(n_img * part // parts, n_img * (part + 1) // parts):
                for i in range(table.shape[0]):
                    row, q0, nr, col, p0, nc = table[i, 0], table[i, 1], table[i, 2], table[i, 3], table[i, 4], \
                        table[i, 5]
                    for kk in range(k):
                        b = bias[kk]
                        source, plane = stacked[n, i * k + kk], out[n, kk]
                        for t in range(nr):
                            src, dst = source[q0 + t], plane[row + sh * t]
                            for u in range(nc):
                                dst[col + sw * u] = src[p0 + u] + b

    return jit.ThreadedKernel(interleave, nogil=True, cache=True)


def interleave(stacked, bias, table, out, strides):
    """Fill ``out`` from the phases' outputs ``stacked`` as the kernel above describes (``bias`` (K) or None);
    positions no phase reaches must already hold the bias."""
    k = out.shape[1]
    bias = np.zeros(k, out.dtype) if bias is None else np.ascontiguousarray(bias, out.dtype)
    threads = jit.kernel_threads(out.size) if out.shape[0] > 1 else 1
    _kernel(*strides)(threads, stacked, bias, np.asarray(table, np.int64), out, min(threads, out.shape[0]))
    return out
