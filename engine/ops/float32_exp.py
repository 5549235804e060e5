"""e^x for float32 values inside compiled kernels (numba), in a form LLVM vectorises: Cephes' expf polynomial after
a reduction by ln 2, its power of two read from a table (numba has no bit casts). A call to libm's expf in a loop
keeps it scalar (numba has no vector math library here), about ten times slower than NumPy's own vectorised exp."""

import functools

import numpy as np

from . import jit


@functools.cache
def exp_function():
    """The compiled ``exp(x)`` of a float32 value, inlined where a kernel calls it: within 2 ulp, 0 below -87, inf
    above 88, NaN for NaN (whose clamp, first, gives -87: the table is read in range)."""
    f32 = np.float32
    one, half, zero = f32(1), f32(0.5), f32(0)
    expf = tuple(f32(c) for c in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2,
                                  1.6666665459e-1, 5.0000001201e-1))
    log2e, ln2_high, ln2_low = f32(1.4426950408889634), f32(0.693359375), f32(-2.12194440e-4)
    lowest, highest, offset = f32(-87), f32(88), f32(127)  # exp's range with a normal result; 2^-127 in row 0
    powers = np.array([2.0 ** k for k in range(-127, 128)], np.float32)

    @jit.njit(inline="always", nogil=True, cache=True, fastmath=set(jit.FLAGS), error_model="numpy")
    def exp(x):
        c = min(highest, max(lowest, x))
        n = np.floor(c * log2e + half)
        r = c - n * ln2_high - n * ln2_low
        p = (((((expf[0] * r + expf[1]) * r + expf[2]) * r + expf[3]) * r + expf[4]) * r + expf[5]) * r * r + r + one
        e = p * powers[np.uint64(n + offset)]
        return e if lowest <= x <= highest else (zero if x < lowest else (np.inf if x > highest else x))

    return exp
