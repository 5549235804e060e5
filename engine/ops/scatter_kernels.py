"""Compiled CPU kernels (numba) for gather, scatter, scatter_add, scatter_reduce (prod, amax, amin) and
index_add on host float32/float64 arrays.

The generic path makes three whole-array passes (the index's range check, its flat positions, the fancy index
or ``add.at``); these read each index once, check its range and move the value in the same pass. Arrays are
seen as ``(outer, dim, inner)`` blocks, so the index must span the input's other dimensions
(``fits``); the work is split over the engine's threads by outer rows, or by inner columns when there is one
row, so each thread writes its own part. Sums add in the index's order, as ``add.at`` does: the results are
the generic path's, bit for bit (no fast-math flags); so do the overwrites (the last write of a position
wins) and the products and extremes (as ``multiply.at``/``maximum.at``/``minimum.at``). ``index_add`` has a
kernel of its own for a 1-d index of whole slices (``take_add``, its values scaled by ``alpha``), which checks
the index before it adds anything; ``within`` checks such an index alone.
"""

import functools
import math

import numpy as np

from ..threads import PARALLEL_MIN_SIZE, cpu_map, cpu_shares
from . import jit


@functools.cache
def _kernels():
    """The kernels. Each sweep writes its element's step twice: with one inner column the loop over it goes,
    so that the innermost loop is long (with a loop of one inside, a gather of 1e6 took 1.0 ms, without
    0.62). They are apart because numba types a kernel for all its branches, and an array that one of them
    writes may be read-only where the other reads it."""
    njit = jit.njit

    @njit(nogil=True, cache=True)
    def gather(x, index, out, a0, a1, b0, b1):
        """``out[a, m, b] = x[a, index[a, m, b], b]`` over outer rows ``a0:a1`` and inner columns ``b0:b1``;
        (True, index) at the first index out of range."""
        n = x.shape[1]
        if b1 - b0 == 1:
            b = b0
            for a in range(a0, a1):
                for m in range(index.shape[1]):
                    i = index[a, m, b]
                    if i < 0 or i >= n:
                        return True, i
                    out[a, m, b] = x[a, i, b]
            return False, 0
        for a in range(a0, a1):
            for m in range(index.shape[1]):
                for b in range(b0, b1):
                    i = index[a, m, b]
                    if i < 0 or i >= n:
                        return True, i
                    out[a, m, b] = x[a, i, b]
        return False, 0

    @njit(nogil=True, cache=True)
    def scatter_add(out, index, src, alpha, a0, a1, b0, b1):
        """``out[a, index[a, m, b], b] += src[a, m, b] * alpha``, in the index's order, checked as ``gather``."""
        n = out.shape[1]
        if b1 - b0 == 1:
            b = b0
            for a in range(a0, a1):
                for m in range(index.shape[1]):
                    i = index[a, m, b]
                    if i < 0 or i >= n:
                        return True, i
                    out[a, i, b] += src[a, m, b] * alpha
            return False, 0
        for a in range(a0, a1):
            for m in range(index.shape[1]):
                for b in range(b0, b1):
                    i = index[a, m, b]
                    if i < 0 or i >= n:
                        return True, i
                    out[a, i, b] += src[a, m, b] * alpha
        return False, 0

    @njit(nogil=True, cache=True)
    def combine(o, v, op):
        """``v`` written (``op`` 0), multiplied (1) or kept if larger (2) or smaller (3) into ``o``; a NaN wins
        an extreme, as in ``np.maximum``."""
        if op == 0:
            return v
        if op == 1:
            return o * v
        if op == 2:
            return v if v > o or v != v else o
        return v if v < o or v != v else o

    @njit(nogil=True, cache=True)
    def scatter(out, index, src, op, a0, a1, b0, b1):
        """``out[a, index[a, m, b], b]`` combined with ``src[a, m, b]`` by ``combine``'s ``op``, in the
        index's order, checked as ``gather``."""
        n = out.shape[1]
        if b1 - b0 == 1:
            b = b0
            for a in range(a0, a1):
                for m in range(index.shape[1]):
                    i = index[a, m, b]
                    if i < 0 or i >= n:
                        return True, i
                    out[a, i, b] = combine(out[a, i, b], src[a, m, b], op)
            return False, 0
        for a in range(a0, a1):
            for m in range(index.shape[1]):
                for b in range(b0, b1):
                    i = index[a, m, b]
                    if i < 0 or i >= n:
                        return True, i
                    out[a, i, b] = combine(out[a, i, b], src[a, m, b], op)
        return False, 0

    @njit(nogil=True, cache=True)
    def within(index, n):
        """Whether every element of the 1-d ``index`` is in ``[0, n)``."""
        for m in range(index.shape[0]):
            i = index[m]
            if i < 0 or i >= n:
                return False
        return True

    @njit(nogil=True, cache=True)
    def take_add(out, index, src, alpha, a0, a1, b0, b1):
        """``out[a, index[m], b] += src[a, m, b] * alpha``: whole slices added at a 1-d index, in its order,
        checked (first) as ``gather``."""
        n = out.shape[1]
        for m in range(index.shape[0]):
            i = index[m]
            if i < 0 or i >= n:
                return True, i
        if b1 - b0 == 1:
            b = b0
            for a in range(a0, a1):
                for m in range(index.shape[0]):
                    out[a, index[m], b] += src[a, m, b] * alpha
            return False, 0
        for a in range(a0, a1):
            for m in range(index.shape[0]):
                i = index[m]
                for b in range(b0, b1):
                    out[a, i, b] += src[a, m, b] * alpha
        return False, 0

    @njit(nogil=True, cache=True)
    def at(out, positions, values, product):
        """``out[positions[k]] *= values[k]`` (``product``) or ``+=`` in order (1-d arrays), as
        ``np.multiply.at``/``np.add.at``; (True, the first position out of range), checked before it is
        written."""
        n = out.shape[0]
        for k in range(positions.shape[0]):
            i = positions[k]
            if i < 0 or i >= n:
                return True, i
            if product:
                out[i] *= values[k]
            else:
                out[i] += values[k]
        return False, 0

    @njit(nogil=True, cache=True)
    def product_grads(x, values, result, g, positions, include_self, one):
        """``product_grads``' two gradients, the generic formulas' steps in their order (``one``: 1 in the
        dtype, so that no step widens to float64)."""
        n, count = x.shape[0], positions.shape[0]
        with_x = np.empty_like(x)  # the products with x's zeros taken as ones
        without = x.copy()  # the products without a value that is its position's only zero
        zeros = np.zeros(n, np.int64)
        for p in range(n):
            with_x[p] = one if x[p] == 0 else x[p]
        if not include_self:
            for k in range(count):
                with_x[positions[k]] = one
                without[positions[k]] = one
        for k in range(count):
            p = positions[k]
            with_x[p] *= values[k]
            if values[k] == 0:
                zeros[p] += 1
        gx = np.empty_like(x)
        for p in range(n):
            gx[p] = g[p] * with_x[p] / (one if x[p] == 0 else x[p])
        for k in range(count):
            p = positions[k]
            without[p] *= one if values[k] == 0 and zeros[p] == 1 else values[k]
        gvalues = np.empty_like(values)
        for k in range(count):
            p, v = positions[k], values[k]
            if v == 0 and zeros[p] == 1:
                gvalues[k] = g[p] * without[p]
            else:
                gvalues[k] = g[p] * result[p] / (one if v == 0 else v)
        return gx, gvalues

    # Each kernel over all its rows and columns, for a call that is one share: fewer arguments to type per call.
    @njit(nogil=True, cache=True)
    def gather_whole(x, index, out):
        return gather(x, index, out, 0, x.shape[0], 0, x.shape[2])

    @njit(nogil=True, cache=True)
    def scatter_add_whole(out, index, src, alpha):
        return scatter_add(out, index, src, alpha, 0, out.shape[0], 0, out.shape[2])

    @njit(nogil=True, cache=True)
    def scatter_whole(out, index, src, op):
        return scatter(out, index, src, op, 0, out.shape[0], 0, out.shape[2])

    @njit(nogil=True, cache=True)
    def take_add_whole(out, index, src, alpha):
        return take_add(out, index, src, alpha, 0, out.shape[0], 0, out.shape[2])

    # ... and over the rows of matrices along their last dimension, the blocks made inside (no reshapes).
    @njit(nogil=True, cache=True)
    def gather_rows(x, index, out):
        return gather(x[:, :, None], index[:, :, None], out[:, :, None], 0, x.shape[0], 0, 1)

    @njit(nogil=True, cache=True)
    def scatter_add_rows(out, index, src, alpha):
        return scatter_add(out[:, :, None], index[:, :, None], src[:, :, None], alpha, 0, out.shape[0], 0, 1)

    @njit(nogil=True, cache=True)
    def scatter_rows(out, index, src, op):
        return scatter(out[:, :, None], index[:, :, None], src[:, :, None], op, 0, out.shape[0], 0, 1)

    @njit(nogil=True, cache=True)
    def take_add_rows(out, index, src, alpha):
        return take_add(out[:, :, None], index, src[:, :, None], alpha, 0, out.shape[0], 0, 1)

    return ((gather, gather_whole, gather_rows), (scatter_add, scatter_add_whole, scatter_add_rows),
            (scatter, scatter_whole, scatter_rows), within, (take_add, take_add_whole, take_add_rows), at,
            product_grads)


# ``scatter_into``'s reductions: their ``op`` codes in the ``scatter`` kernel.
REDUCTIONS = {None: 0, "prod": 1, "amax": 2, "amin": 3}
# The scale of a plain sum, of each dtype the kernels take (``dtype.type(1)`` costs a fifth of a small call).
_ONES = {np.dtype(np.float32): np.float32(1), np.dtype(np.float64): np.float64(1)}


def fits(x, index, dim):
    """Whether the kernels take ``x`` with ``index`` along ``dim``: a host float array of at least one
    dimension, and an index of its rank with its sizes outside ``dim``."""
    return (x.ndim >= 1 and index.dtype.kind == "i" and jit.takes_floats(x)
            and (index.shape == x.shape
                 or (index.ndim == x.ndim and index.shape[:dim] == x.shape[:dim]
                     and index.shape[dim + 1:] == x.shape[dim + 1:])))


def _sweep(kernels, target, index, values, dim, *extra, sliced=False):
    """A kernel (``kernels``: it, its whole-array form, its form for the rows of matrices) over ``target``
    (the input read, or the output added into) with ``index`` and ``values`` shaped alike (``sliced``:
    ``index`` 1-d, one entry per slice of ``values`` along ``dim``), all seen as blocks around ``dim``, split
    over the CPU threads when the work pays for it; the first index out of range, or None."""
    shape = values.shape
    size = values.size
    kernel, whole, rows = kernels
    if dim == 1 and len(shape) == 2 and size < PARALLEL_MIN_SIZE:
        failed, bad = rows(target, index, values, *extra)
        return int(bad) if failed else None
    if not size:
        return None
    inner = 1 if dim == len(shape) - 1 else math.prod(shape[dim + 1:])
    outer = size // (shape[dim] * inner)
    blocks = (outer, shape[dim], inner)
    target = target.reshape(outer, target.shape[dim], inner)
    values = values.reshape(blocks)
    if not sliced:
        index = index.reshape(blocks)
    if size < PARALLEL_MIN_SIZE:
        failed, bad = whole(target, index, values, *extra)
        return int(bad) if failed else None
    if outer > 1 or inner == 1:
        shares = [(a0, a1, 0, inner) for a0, a1 in cpu_shares(outer)]
    else:
        shares = [(0, 1, b0, b1) for b0, b1 in cpu_shares(inner)]
    results = cpu_map(lambda s: kernel(target, index, values, *extra, *s), shares)
    return next((int(bad) for failed, bad in results if failed), None)


def gather(x, index, dim):
    """``x``'s values at ``index`` along ``dim`` (shaped as ``index``), and the first index out of range
    (or None)."""
    out = np.empty(index.shape, dtype=x.dtype)
    return out, _sweep(_kernels()[0], x, index, out, dim)


def scatter_add_into(out, index, src, dim):
    """``src`` added into ``out`` (in place) at ``index`` along ``dim`` (``src`` shaped as ``index``); the
    first index out of range, or None."""
    return _sweep(_kernels()[1], out, index, src, dim, _ONES[out.dtype])


def within(index, n):
    """Whether every element of the 1-d ``index`` is in ``[0, n)``: one compiled pass, a third of NumPy's
    ``max`` and ``min``."""
    return _kernels()[3](index, n)


def index_add_into(out, index, src, dim, alpha=1):
    """``src * alpha`` added into ``out`` (in place) at the slices ``index`` (1-d) along ``dim``; the first
    index out of range, or None."""
    scale = _ONES[out.dtype] if alpha == 1 else out.dtype.type(alpha)
    return _sweep(_kernels()[4], out, index, src, dim, scale, sliced=True)


def at(out, positions, values, product):
    """``np.multiply.at(out, positions, values)`` (``product``) or ``np.add.at`` for 1-d host float arrays of
    one dtype, bit for bit, in one compiled pass (about half the time of NumPy's); the first position out of
    range, or None."""
    failed, bad = _kernels()[5](out, positions, values, product)
    return int(bad) if failed else None


def product_grads(x, values, result, g, positions, include_self):
    """The gradients of ``x`` (before zeroing what was overwritten) and of ``values`` of a product
    ``result`` of ``values`` multiplied into ``x`` at ``positions`` (1-d host float arrays of one dtype), with
    ``g`` the result's gradient, bit for bit as ``ScatterReduce._grads``' array formulas give them: four
    compiled passes instead of some twenty NumPy ones."""
    return _kernels()[6](x, values, result, g, positions, include_self, _ONES[x.dtype])


def scatter_into(out, index, src, dim, reduce=None):
    """``src`` written into ``out`` (in place) at ``index`` along ``dim``, or multiplied in or its extremes
    kept (``reduce`` of ``REDUCTIONS``), ``src`` shaped as ``index`` (a 0-d array: one value everywhere); the
    first index out of range, or None."""
    if src.shape != index.shape:
        src = np.broadcast_to(src, index.shape)
    return _sweep(_kernels()[2], out, index, src, dim, REDUCTIONS[reduce])
