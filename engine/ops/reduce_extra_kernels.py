"""CPU kernels for nansum and aminmax on float arrays. nansum: one compiled (numba) pass that skips NaNs,
where NumPy needs a ``where`` over a random mask (about 20x a plain sum at 10% NaNs); sums accumulate in
float64 over blocks summed in the input's dtype. aminmax: NumPy's min and max. Lines (or parts of one long
line) are split over the engine's threads."""

import functools
import math

import numpy as np

from ..threads import PARALLEL_MIN_SIZE, cpu_map, cpu_shares
from . import jit

_BLOCK = 512  # nansum's partial sums in the input's dtype, each short enough to round little


@functools.cache
def _sum_kernel():
    @jit.numba().njit(nogil=True, cache=True, fastmath=set(jit.FLAGS))
    def nan_skipping_sums(lines, out):
        """The sum of each row of ``lines`` into ``out`` (rows past its end only totalled), and the total of
        them all returned. One kernel serves both: numba's cache cannot serve a kernel that calls a jitted
        helper made in this factory, so every process would compile it again."""
        n = lines.shape[1]
        full = n - n % _BLOCK
        zero = lines.dtype.type(0)
        everything = 0.0
        for r in range(lines.shape[0]):
            line = lines[r]
            total = 0.0
            for start in range(0, full, _BLOCK):  # whole blocks summed in the input's dtype: full SIMD width
                block = zero
                for i in range(_BLOCK):
                    v = line[start + i]
                    block += v if v == v else zero  # a select, which vectorises where an ``if`` does not
                total += block
            for i in range(full, n):
                v = np.float64(line[i])
                total += v if v == v else 0.0
            if r < out.shape[0]:
                out[r] = total
            everything += total
        return everything

    return nan_skipping_sums


_NO_ROWS = np.empty(0)  # an ``out`` for the total alone


@functools.cache
def _extremes_kernel():
    @jit.numba().njit(nogil=True, cache=True)
    def extremes_of(x, out):
        """The least and the greatest element into ``out[0]`` and ``out[1]``, NaN for both where one is. The
        NaN check is its own vectorised pass; the extremes advance in four independent chains of selects (half
        the time of one chain of branches)."""
        flat = x.ravel()  # a view of a contiguous array of any dims (no NumPy reshape call before)
        nan = False
        for i in range(flat.shape[0]):
            nan |= flat[i] != flat[i]
        if nan:
            out[0] = out[1] = np.nan
            return
        n = flat.shape[0]
        lo0 = lo1 = lo2 = lo3 = hi0 = hi1 = hi2 = hi3 = flat[0]
        for s in range(0, n - n % 4, 4):
            v0, v1, v2, v3 = flat[s], flat[s + 1], flat[s + 2], flat[s + 3]
            lo0, lo1 = v0 if v0 < lo0 else lo0, v1 if v1 < lo1 else lo1
            lo2, lo3 = v2 if v2 < lo2 else lo2, v3 if v3 < lo3 else lo3
            hi0, hi1 = v0 if v0 > hi0 else hi0, v1 if v1 > hi1 else hi1
            hi2, hi3 = v2 if v2 > hi2 else hi2, v3 if v3 > hi3 else hi3
        for i in range(n - n % 4, n):
            v = flat[i]
            lo0, hi0 = v if v < lo0 else lo0, v if v > hi0 else hi0
        out[0], out[1] = min(min(lo0, lo1), min(lo2, lo3)), max(max(hi0, hi1), max(hi2, hi3))

    return extremes_of


def all_extremes(x, axis, keepdim):
    """The least and the greatest of all of non-empty float ``x`` (``axis`` None: all of them; NaN where a NaN
    is) in one pass, the reduced dims kept with ``keepdim``: NumPy's min and max are two calls of ~0.8 us.
    Both are views of one buffer."""
    if keepdim:
        out = np.empty((2, *(1,) * x.ndim), dtype=x.dtype)
        _extremes_kernel()(x, out.reshape(2))
    else:
        out = np.empty(2, dtype=x.dtype)
        _extremes_kernel()(x, out)
    return out[0, ...], out[1, ...]


def _line_extremes(lines, lo, hi):
    """NumPy's SIMD min and max of each line (a compiled select loop does not vectorise without assuming
    no NaN); they leave the GIL, so threads run them side by side."""
    lines.min(axis=1, out=lo)
    lines.max(axis=1, out=hi)


def _lines(x, axes):
    """``x`` as a C-contiguous 2-d array, the axes ``axes`` (a tuple, or None for all) along its lines, and
    the shape of what is kept."""
    axes = tuple(range(x.ndim)) if axes is None else axes
    kept = [s for i, s in enumerate(x.shape) if i not in axes]
    moved = np.moveaxis(x, axes, range(x.ndim - len(axes), x.ndim))
    return np.ascontiguousarray(moved).reshape(math.prod(kept), -1), axes, kept


def _per_line(kernel, lines, dtypes):
    """``kernel(lines, *outs)`` with one output of each of ``dtypes`` per line, the lines split over the
    threads; one long line is cut into parts, giving one row of outputs per part."""
    if len(lines) == 1:
        flat = lines[0]
        lines = [flat[a:b].reshape(1, -1) for a, b in cpu_shares(flat.size, flat.size)]
        outs = [np.empty(len(lines), dtype) for dtype in dtypes]
        cpu_map(lambda k: kernel(lines[k], *[o[k:k + 1] for o in outs]), range(len(lines)))
    else:
        outs = [np.empty(len(lines), dtype) for dtype in dtypes]
        cpu_map(lambda part: kernel(lines[part[0]:part[1]], *[o[part[0]:part[1]] for o in outs]),
                cpu_shares(len(lines), lines.size))
    return outs


def _shaped(out, x, axes, kept, keepdim):
    out = out.reshape(kept)
    return out.reshape([1 if i in axes else s for i, s in enumerate(x.shape)]) if keepdim else out


def nan_skipping_sum(x, axis, keepdim):
    """The sum of float ``x`` over the axes ``axis`` (a tuple, or None for all) with NaNs left out."""
    if axis is None and x.size < PARALLEL_MIN_SIZE:  # one share of one line: the sum alone (a tenth of the cost)
        out = np.asarray(x.dtype.type(_sum_kernel()(x.reshape(1, -1), _NO_ROWS)))
        return out.reshape((1,) * x.ndim) if keepdim else out
    lines, axes, kept = _lines(x, axis)
    (sums,) = _per_line(_sum_kernel(), lines, [np.float64])
    if len(lines) == 1:
        sums = np.asarray(sums.sum()).reshape(1)
    return _shaped(sums.astype(x.dtype), x, axes, kept, keepdim)


def extremes(x, axis, keepdim):
    """The least and the greatest of float ``x`` over the axes ``axis`` (a tuple, or None for all), NaN
    where a NaN is among them."""
    lines, axes, kept = _lines(x, axis)
    lo, hi = _per_line(_line_extremes, lines, [x.dtype, x.dtype])
    if len(lines) == 1:
        lo, hi = np.asarray(lo.min()).reshape(1), np.asarray(hi.max()).reshape(1)
    return _shaped(lo, x, axes, kept, keepdim), _shaped(hi, x, axes, kept, keepdim)
