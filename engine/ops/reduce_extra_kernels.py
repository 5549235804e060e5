"""CPU kernels for nansum and aminmax on float arrays, each one compiled (numba) pass over pieces of the lines
that are reduced: every line, or parts of one long line, run on numba's threads where that pays.

nansum skips NaNs where NumPy needs a ``where`` over a random mask (about 20x a plain sum at 10% NaNs); sums
accumulate in float64 over blocks summed in the input's dtype. aminmax finds the extremes of the floats' bits
read as integers, from which the floats' follow (see ``extremes``)."""

import functools
import math

import numpy as np

from ..threads import PARALLEL_MIN_SIZE
from . import jit

_BLOCK = 512  # nansum's partial sums in the input's dtype, each short enough to round little


@functools.cache
def _sum_kernel():
    prange = jit.numba().prange

    def nan_skipping_sums(x, parts, out):
        """The sum of each of the ``out.shape[0]`` lines of C-contiguous ``x`` with NaNs left out into ``out``,
        each line cut into ``parts`` pieces."""
        lines = x.reshape((out.shape[0], x.size // out.shape[0]))
        zero = lines.dtype.type(0)
        sums = np.empty(lines.shape[0] * parts)
        for k in prange(sums.shape[0]):
            whole, part = lines[k // parts], k % parts
            line = whole[whole.shape[0] * part // parts:whole.shape[0] * (part + 1) // parts]
            n = line.shape[0]
            full = n - n % _BLOCK
            total = 0.0
            for first in range(0, full, _BLOCK):  # whole blocks summed in the input's dtype: full SIMD width
                block = zero
                for i in range(_BLOCK):
                    v = line[first + i]
                    block += v if v == v else zero  # a select, which vectorises where an ``if`` does not
                total += block
            for i in range(full, n):
                v = np.float64(line[i])
                total += v if v == v else 0.0
            sums[k] = total
        for r in range(out.shape[0]):
            out[r] = sums[r * parts:(r + 1) * parts].sum()

    return jit.ThreadedKernel(nan_skipping_sums, nogil=True, cache=True, fastmath=set(jit.FLAGS))


@functools.cache
def _extremes_kernel(dtype):
    """The kernel for float ``dtype``: its bits' integer types and those of inf, -inf and NaN are constants
    in it (numba's cache keeps each dtype's apart by the lines' type)."""
    prange = jit.numba().prange
    signed, unsigned = np.dtype(f"i{dtype.itemsize}").type, np.dtype(f"u{dtype.itemsize}").type
    inf, minus_inf, nan = (int(b) for b in np.array([np.inf, -np.inf, np.nan], dtype).view(unsigned))
    sign_bit = dtype.itemsize * 8 - 1

    def extremes_by_bits(x, parts, out):
        """The least and greatest float of each of the ``out.shape[1]`` lines of C-contiguous ``x`` into
        ``out[0]`` and ``out[1]`` (see ``extremes``), each line cut into ``parts`` pieces."""
        lines = x.reshape((out.shape[1], x.size // out.shape[1]))
        ints_of, uints_of = lines.view(signed), lines.view(unsigned)
        pieces = lines.shape[0] * parts
        signed_lo, signed_hi = np.empty(pieces, signed), np.empty(pieces, signed)
        unsigned_lo, unsigned_hi = np.empty(pieces, unsigned), np.empty(pieces, unsigned)
        for k in prange(pieces):  # four integer extremes, which vectorise (a float select does not, NaN aside)
            whole, part = ints_of[k // parts], k % parts
            start, stop = whole.shape[0] * part // parts, whole.shape[0] * (part + 1) // parts
            ints, uints = whole[start:stop], uints_of[k // parts][start:stop]
            a, b, c, d = ints[0], ints[0], uints[0], uints[0]
            for i in range(ints.shape[0]):
                a, b = min(a, ints[i]), max(b, ints[i])
                c, d = min(c, uints[i]), max(d, uints[i])
            signed_lo[k], signed_hi[k], unsigned_lo[k], unsigned_hi[k] = a, b, c, d
        bits = out.view(unsigned)
        for r in range(lines.shape[0]):
            own = slice(r * parts, (r + 1) * parts)
            a, b = signed_lo[own].min(), signed_hi[own].max()
            c, d = unsigned_lo[own].min(), unsigned_hi[own].max()
            if b > inf or d > minus_inf:
                bits[0, r] = bits[1, r] = nan
            else:
                bits[0, r] = d if d >> sign_bit else unsigned(a)
                bits[1, r] = unsigned(b) if b >= 0 else c

    return jit.ThreadedKernel(extremes_by_bits, nogil=True, cache=True)


def _reduction(x, axes, keepdim):
    """``x`` as a C-contiguous 2-d array, the axes ``axes`` (a tuple, or None for all) along its lines; the
    threads for a kernel over it and the pieces each line is cut into (several only where one line is all the
    work); and the shape of the result."""
    if axes is None:
        lines = (x if x.flags.c_contiguous else np.ascontiguousarray(x)).reshape(1, -1)
        shape = (1,) * x.ndim if keepdim else ()
    else:
        shape = [1 if i in axes else s for i, s in enumerate(x.shape)] if keepdim else [
            s for i, s in enumerate(x.shape) if i not in axes]
        if sorted(axes) != list(range(x.ndim - len(axes), x.ndim)):  # (moveaxis costs microseconds)
            x = np.moveaxis(x, axes, range(x.ndim - len(axes), x.ndim))
        lines = np.ascontiguousarray(x).reshape(math.prod(shape), -1)
    threads = jit.kernel_threads(lines.size)
    return lines, threads, threads if len(lines) == 1 else 1, shape


def _small_whole(x, axis):
    """Whether a reduction of ``x`` over the axes ``axis`` is the usual small call, over all of a C-contiguous
    array too small for threads: the kernel then takes ``x`` as it is, with the least Python around it."""
    return axis is None and x.size < PARALLEL_MIN_SIZE and x.flags.c_contiguous


def nan_skipping_sum(x, axis, keepdim):
    """The sum of float ``x`` over the axes ``axis`` (a tuple, or None for all) with NaNs left out."""
    if _small_whole(x, axis):
        out = np.empty(1, x.dtype)
        _sum_kernel().serial(x, 1, out)
        return out.reshape((1,) * x.ndim if keepdim else ())
    lines, threads, parts, shape = _reduction(x, axis, keepdim)
    out = np.empty(len(lines), x.dtype)
    _sum_kernel()(threads, lines, parts, out)
    return out.reshape(shape)


def extremes(x, axis, keepdim):
    """The least and the greatest of non-empty float ``x`` over the axes ``axis`` (a tuple, or None for all),
    NaN for both where a NaN is among them.

    From the extremes of the bits as integers: a float's bits order like the float among the non-negative
    ones read as signed integers, and in reverse among the negative ones (sign bit set) read as unsigned. So
    the least float is the greatest unsigned where a negative float is, else the least signed; the greatest
    float the greatest signed where a non-negative float is, else the least unsigned. NaNs lie beyond the
    infinities' bits."""
    if _small_whole(x, axis):
        out = np.empty((2, 1), x.dtype)
        _extremes_kernel(x.dtype).serial(x, 1, out)
        if keepdim:
            return out[0].reshape((1,) * x.ndim), out[1].reshape((1,) * x.ndim)
        return out[0, 0, ...], out[1, 0, ...]
    lines, threads, parts, shape = _reduction(x, axis, keepdim)
    out = np.empty((2, len(lines)), x.dtype)
    _extremes_kernel(x.dtype)(threads, lines, parts, out)
    return out[0].reshape(shape), out[1].reshape(shape)
