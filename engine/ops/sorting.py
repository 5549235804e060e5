"""Sorting and selection: sort, argsort, msort, topk, kthvalue, median, nanmedian, mode, unique,
unique_consecutive, searchsorted, bucketize, isin.

Sorting is one stable argsort along an axis (NaN sorts as the largest value, as in PyTorch), so ties keep
their input order; topk, kthvalue and median select in linear time (an argpartition), taking any one of
equal values, where PyTorch too leaves the index of a tie to the implementation. ``mode`` picks the most
frequent value (NaNs counting as one), the smallest of equally frequent ones, as PyTorch does, at its last
occurrence (PyTorch leaves the occurrence open; its CPU kernel takes the last on short lines). Each
selecting op is one graph node whose gradient goes back to the selected places.
"""

import math

import numpy as np

from .. import dtypes, return_types
from ..backend import Implementation, choose, is_host
from ..tensor import Tensor, make_tensor, wrap_dim
from ..threads import cpu_map, cpu_shares
from . import jit, scatter_kernels, select_kernels
from .direct import new_pair, run
from .op import Op, compute, untracked, xp_of
from .reduce import constant
from .scatter import scatter
from .search_kernels import search_lines
from .shape import reversed_view


def _argsort(x, axis, descending=False):
    """A stable argsort along ``axis``; descending keeps ties in input order too (and NaN first)."""
    n = x.shape[axis]
    if x.size >= _KEYED_FROM and n < 2**32 and x.dtype.itemsize <= 4:
        return _keyed_argsort(x, axis, descending)
    if not descending:
        return x.argsort(axis=axis, kind="stable")
    return n - 1 - reversed_view(reversed_view(x, (axis,)).argsort(axis=axis, kind="stable"), (axis,))


# Elements in all, not per line: below, the keys' fixed cost (~15 us) outweighs what the faster sort saves
# (NumPy's stable argsort of a 2-D array slows down sharply past one line: 10 lines of 100 take 10 us, 100 take
# 240 us, against 95 us keyed).
_KEYED_FROM = 2048


def _keyed_argsort(x, axis, descending):
    """The stable argsort of a dtype of at most 32 bits as a plain sort of 64-bit keys, the value's ordered
    bits over the position: the keys are distinct, so NumPy's fast unstable sort gives the stable order
    (3x faster than its stable sort of the values on long lines)."""
    xp = xp_of(x)
    moved = xp.moveaxis(x, axis, -1)
    bits = _ordered_bits(moved).astype(np.uint64)
    if descending:
        bits = np.uint64(2**32 - 1) - bits
    keys = (bits << np.uint64(32)) | xp.arange(moved.shape[-1], dtype=np.uint64)
    order = (xp.sort(keys, axis=-1) & np.uint64(2**32 - 1)).astype(np.int64)
    return xp.moveaxis(order, -1, axis)


def _ordered_bits(x):
    """The bits of ``x`` as unsigned integers that order as the values do (NaN largest, -0.0 equal to 0)."""
    xp = xp_of(x)
    unsigned = np.dtype(f"u{x.dtype.itemsize}")
    if x.dtype.kind in "bu":
        return x.view(unsigned)
    sign = unsigned.type(1 << (8 * x.dtype.itemsize - 1))
    if x.dtype.kind == "i":
        return x.view(unsigned) ^ sign
    bits = xp.where(x != x, np.nan, x + 0).astype(x.dtype, copy=False).view(unsigned)
    return xp.where(bits & sign, ~bits, bits | sign)


def _take_along(a, indices, axis):
    """``take_along_axis``, through the compiled gather where it takes ``a`` (host floats): NumPy's
    Python-level index building costs more than the gather itself at 1e3 elements."""
    if scatter_kernels.fits(a, indices, axis):
        return scatter_kernels.gather(a, indices, axis)[0]
    return xp_of(a).take_along_axis(a, indices, axis=axis)


def _with_values(indices, x, axis):
    """``indices`` and the values of ``x`` there."""
    return indices, _take_along(x, indices, axis)


def _at(order, axis, positions):
    """``order``'s entries at ``positions`` (one per line along ``axis``), the axis kept with size 1."""
    xp = xp_of(order)
    return xp.take_along_axis(order, xp.expand_dims(positions, axis), axis=axis)


class _Select(Op):
    """Values taken along one axis at the indices ``select`` chooses; the gradient goes back to those places.
    A 0-d input is treated as one element along axis 0."""

    __slots__ = ("axis", "indices", "keepdim", "shape")
    num_outputs = 2

    def forward(self, x, axis=0, keepdim=True, **options):
        self.shape = x.shape
        scalar = x.ndim == 0
        if scalar:
            x = x.reshape(1)
        indices, values = self.select(x, axis, **options)
        self.axis, self.keepdim, self.indices = axis, keepdim, indices
        if scalar:
            values, indices = values.reshape(()), indices.reshape(())
        elif not keepdim:
            values, indices = values.squeeze(axis), indices.squeeze(axis)
        return values, indices.astype(np.int64)

    def select(self, x, axis, **options):
        """The indices chosen and the values there: by the op's implementation where it lists several,
        else by its ``pick``."""
        if self._impl is not None:
            return self._impl.select(x, axis, **options)
        return _with_values(self.pick(x, axis, **options), x, axis)

    def backward(self, g, g_idx=None):
        xp = xp_of(g)
        out = xp.zeros(self.shape or (1,), dtype=g.dtype)
        g = g.reshape(self.indices.shape)
        if scatter_kernels.fits(out, self.indices, self.axis):
            scatter_kernels.scatter_into(out, self.indices, g, self.axis)
        else:
            xp.put_along_axis(out, self.indices, g, axis=self.axis)
        return (out.reshape(self.shape),)

    def backward_graph(self, g, g_idx=None):
        data = g._data
        zeros = constant(xp_of(data).zeros(self.shape or (1,), dtype=data.dtype), g)
        out = scatter(zeros, self.axis, constant(self.indices, g), g.reshape(self.indices.shape))
        return (out.reshape(self.shape),)


class Sort(_Select):
    __slots__ = ()
    _name = "SortBackward0"

    def pick(self, x, axis, descending=False):
        return _argsort(x, axis, descending)


def _part(a, axis, start, stop):
    """``a[start:stop]`` along ``axis``."""
    return a[(slice(None),) * axis + (slice(start, stop),)]


def _partition(x, axis, kth):
    """An argpartition at ``kth`` (NaN counts as the largest value): a selection in linear time, where the
    element taken among equal ones is left open, as PyTorch leaves it."""
    return x.argpartition(kth, axis=axis)


def _split_lines(fn, x, axis):
    """``fn(x)`` for a function of lines along ``axis``, on CPU arrays split over the threads along another
    axis (NumPy's partitions and sorts leave the GIL, but take one line after another)."""
    across = 1 if axis == 0 else 0
    if not is_host(x) or x.ndim < 2:
        return fn(x)
    shares = cpu_shares(x.shape[across], x.size)
    if len(shares) < 2:
        return fn(x)
    return np.concatenate(cpu_map(lambda s: fn(_part(x, across, *s)), shares), axis=across)


class _PartitionTopK(Implementation):
    """An argpartition, then a stable sort of the chosen, lines split over the threads: NumPy or CuPy."""

    @staticmethod
    def select(x, axis, k=1, largest=True):
        return _with_values(_split_lines(lambda part: _PartitionTopK.pick(part, axis, k, largest), x, axis), x, axis)

    @staticmethod
    def pick(x, axis, k, largest):
        n = x.shape[axis]
        if k in (0, n):
            return _part(_argsort(x, axis, largest), axis, 0, k)
        chosen = _part(_partition(x, axis, n - k), axis, n - k, n) if largest else \
            _part(_partition(x, axis, k - 1), axis, 0, k)
        xp = xp_of(x)
        return xp.take_along_axis(chosen, _argsort(_take_along(x, chosen, axis), axis, largest), axis=axis)


class _CompiledTopK(Implementation):
    """``select_kernels``: one pass over each line keeping its best ``k`` (a small ``k``, host floats)."""

    name = "compiled"

    @staticmethod
    def applies(x, axis=0, k=1, largest=True):
        return (0 < k <= select_kernels.MAX_K and x.size <= select_kernels.MAX_SIZE and x.ndim >= 1
                and jit.takes_floats(x))

    @staticmethod
    def select(x, axis, k=1, largest=True):
        return select_kernels.topk(x, axis, k, largest)


class TopK(_Select):
    __slots__ = ()
    _name = "TopkBackward0"
    implementations = (_CompiledTopK, _PartitionTopK)


class _CompiledKth(Implementation):
    """``select_kernels``: each line copied and the element selected in one compiled pass (host floats)."""

    name = "compiled"

    @staticmethod
    def applies(x, axis=0, keepdim=True, **options):
        return x.size <= select_kernels.MAX_SIZE and x.ndim >= 1 and jit.takes_floats(x)


class _CompiledKthValue(_CompiledKth):
    @staticmethod
    def select(x, axis, k=1):
        return select_kernels.kth(x, axis, k - 1)


class _PartitionKthValue(Implementation):
    @staticmethod
    def select(x, axis, k=1):
        return _with_values(_part(_partition(x, axis, k - 1), axis, k - 1, k), x, axis)


class KthValue(_Select):
    __slots__ = ()
    _name = "KthvalueBackward0"
    implementations = (_CompiledKthValue, _PartitionKthValue)


def _first_nan(x, axis):
    """Per line along ``axis`` (kept): whether it holds a NaN, and the index of its first one."""
    nan = x != x
    return nan.any(axis=axis, keepdims=True), nan.argmax(axis=axis, keepdims=True)


class _CompiledMedian(_CompiledKth):
    @staticmethod
    def select(x, axis):
        return select_kernels.kth(x, axis, (x.shape[axis] - 1) // 2, nan_wins=True)


class _PartitionMedian(Implementation):
    @staticmethod
    def select(x, axis):
        mid = (x.shape[axis] - 1) // 2
        chosen = _part(_partition(x, axis, mid), axis, mid, mid + 1)
        if (x != x).any():  # one reduction spares the lines' NaN search in the common case
            has_nan, first_nan = _first_nan(x, axis)
            chosen = xp_of(x).where(has_nan, first_nan, chosen)
        return _with_values(chosen, x, axis)


class MedianDim(_Select):
    """The lower median along an axis, NaN where the line holds one."""

    __slots__ = ()
    _name = "MedianBackward1"
    implementations = (_CompiledMedian, _PartitionMedian)


class NanMedianDim(_Select):
    """The lower median of the values that are not NaN along an axis (NaN where all are)."""

    __slots__ = ()
    _name = "NanmedianBackward1"

    def pick(self, x, axis):
        valid = x.shape[axis] - (x != x).sum(axis=axis)
        return _at(_argsort(x, axis), axis, xp_of(x).maximum((valid - 1) // 2, 0))


class _CompiledMode(Implementation):
    """``select_kernels``: each line sorted and its runs walked in one compiled pass (host floats)."""

    name = "compiled"

    @staticmethod
    def applies(x, axis=0, keepdim=True):
        return x.size <= select_kernels.MAX_SIZE and x.ndim >= 1 and jit.takes_floats(x)

    @staticmethod
    def select(x, axis):
        return select_kernels.mode(x, axis)


class _SortedRuns(Implementation):
    """A stable sort, then the run lengths of the sorted lines, all lines at once: NumPy or CuPy."""

    @staticmethod
    def select(x, axis):
        xp = xp_of(x)
        order = _argsort(x, axis)
        ordered = xp.moveaxis(_take_along(x, order, axis), axis, -1)
        lines = ordered.reshape(-1, ordered.shape[-1])
        new = xp.ones(lines.shape, dtype=bool)
        after, before = lines[:, 1:], lines[:, :-1]
        new[:, 1:] = (after != before) & ((after == after) | (before == before))  # NaNs count as one value
        starts = xp.nonzero(new.reshape(-1))[0]
        run_length = xp.zeros(lines.size, dtype=np.int64)
        run_length[starts] = xp.diff(starts, append=lines.size)
        run_length = run_length.reshape(lines.shape)
        best = run_length.argmax(axis=1)  # the first longest run: the smallest of the most frequent values
        last = best + run_length[xp.arange(len(lines)), best] - 1  # the stable order puts its last index last
        return _with_values(_at(order, axis, last.reshape(ordered.shape[:-1])), x, axis)


class Mode(_Select):
    __slots__ = ()
    _name = "ModeBackward0"
    implementations = (_CompiledMode, _SortedRuns)


class MedianAll(Op):
    """The lower median of all elements, NaN if one is; the gradient is shared evenly by the elements equal
    to it, as PyTorch does."""

    __slots__ = ("mask",)
    _name = "MedianBackward0"

    def forward(self, x):
        flat = x.reshape(-1)
        if flat.size == 0:
            self.mask = flat != flat
            return xp_of(x).full((), np.nan, dtype=x.dtype)
        value = self.median(flat)
        self.mask = (x == value) | ((x != x) & (value != value))
        return value

    def median(self, flat):
        xp = xp_of(flat)
        mid = (flat.size - 1) // 2
        has_nan, first_nan = _first_nan(flat, 0)
        return xp.where(has_nan, flat[first_nan], xp.partition(flat, mid)[mid:mid + 1]).reshape(())

    def backward(self, g):
        return (g * self._shares(g.dtype),)

    def backward_graph(self, g):
        return (g * constant(self._shares(g._data.dtype), g),)

    def _shares(self, dtype):
        """Each element's share of the gradient: an even split between those equal to the median."""
        mask = self.mask
        return mask / xp_of(mask).maximum(mask.sum(), 1).astype(dtype)


class NanMedianAll(MedianAll):
    """The lower median of the elements that are not NaN (NaN if all are)."""

    __slots__ = ()
    _name = "NanmedianBackward0"

    def median(self, flat):
        xp = xp_of(flat)
        valid = flat.size - (flat != flat).sum()
        return xp.asarray(xp.take(xp.sort(flat), xp.maximum((valid - 1) // 2, 0)))


def _size(input, axis):
    return input._data.shape[axis] if input._data.ndim else 1


def _nonempty(name, input, axis):
    if _size(input, axis) == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")


def _selected(op, result, input, **options):
    """``result(*op.apply(input, **options))``, the node left out where ``untracked`` allows."""
    if untracked(input):
        values, indices = run(op, input._data, options)
        return new_pair(result, (make_tensor(values), make_tensor(indices)))
    return result(*op.apply(input, **options))


def sort(input, dim=-1, descending=False, *, stable=False):
    """Always stable (``stable`` changes nothing): equal values keep their input order."""
    values, indices = Sort.apply(input, axis=wrap_dim(dim, input._data.ndim), descending=descending)
    return return_types.sort(values, indices)


def argsort(input, dim=-1, descending=False, stable=False):
    axis = wrap_dim(dim, input._data.ndim)

    def indices(x):
        if x.ndim == 0:
            return xp_of(x).zeros((), dtype=np.int64)
        return _argsort(x, axis, descending).astype(np.int64)

    return compute(indices, input)


def msort(input):
    return sort(input, 0).values


def topk(input, k, dim=-1, largest=True, sorted=True):
    """Always sorted (``sorted=False`` leaves the order to us, as it does to PyTorch)."""
    axis = wrap_dim(dim, input._data.ndim)
    if not 0 <= k <= _size(input, axis):
        raise RuntimeError("selected index k out of range")
    x = input._data
    if x.ndim and untracked(input):  # the implementation's own call: _Select.forward's work is for 0-d and the graph
        impl = choose(TopK.implementations, (x,), {"axis": axis, "k": k, "largest": largest})
        indices, values = impl.select(x, axis, k=k, largest=largest)
        return new_pair(return_types.topk, (make_tensor(values), make_tensor(indices.astype(np.int64, copy=False))))
    return _selected(TopK, return_types.topk, input, axis=axis, k=k, largest=largest)


def kthvalue(input, k, dim=-1, keepdim=False):
    axis = wrap_dim(dim, input._data.ndim)
    _nonempty("kthvalue", input, axis)
    if not 1 <= k <= _size(input, axis):
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {axis}")
    values, indices = KthValue.apply(input, axis=axis, keepdim=keepdim, k=k)
    return return_types.kthvalue(values, indices)


def _median(all_op, dim_op, result, input, dim, keepdim):
    if dim is None:
        return all_op.apply(input)
    axis = wrap_dim(dim, input._data.ndim)
    _nonempty("median", input, axis)  # nanmedian's message too, as in PyTorch
    values, indices = dim_op.apply(input, axis=axis, keepdim=keepdim)
    return result(values, indices)


def median(input, dim=None, keepdim=False):
    return _median(MedianAll, MedianDim, return_types.median, input, dim, keepdim)


def nanmedian(input, dim=None, keepdim=False):
    return _median(NanMedianAll, NanMedianDim, return_types.nanmedian, input, dim, keepdim)


def mode(input, dim=-1, keepdim=False):
    axis = wrap_dim(dim, input._data.ndim)
    _nonempty("mode", input, axis)
    return _selected(Mode, return_types.mode, input, axis=axis, keepdim=keepdim)


def _lexical_order(lines):
    """An order of the rows of a 2-D array compared column by column (a radix sort: by the last column,
    then stably by each column before it)."""
    xp = xp_of(lines)
    if not lines.shape[1]:
        return xp.arange(len(lines))
    order = xp.argsort(lines[:, -1])
    for j in reversed(range(lines.shape[1] - 1)):
        order = order[xp.argsort(lines[order, j], kind="stable")]
    return order


def _runs(x, axis, in_order):
    """(values, inverse, counts) of the runs of equal slices along ``axis`` (all elements when None),
    sorted first unless ``in_order``. NaN equals nothing, so every NaN is a value of its own."""
    xp = xp_of(x)
    n = x.size if axis is None else x.shape[axis]
    if axis is None:  # one column: no row comparisons, the order by one sort
        order = xp.arange(n) if in_order else x.reshape(-1).argsort()
        lines = x.reshape(-1)[order]
        differs = lines[1:] != lines[:-1]
    else:
        moved = xp.moveaxis(x, axis, 0)
        lines = moved.reshape(n, math.prod(moved.shape[1:]))
        order = xp.arange(n) if in_order else _lexical_order(lines)
        lines = lines[order]
        differs = (lines[1:] != lines[:-1]).any(axis=1)
    new = xp.ones(n, dtype=bool)
    new[1:] = differs
    starts = new.nonzero()[0]
    inverse = xp.empty(n, dtype=np.int64)
    inverse[order] = new.cumsum() - 1
    counts = xp.empty(starts.size, dtype=np.int64)
    counts[:-1] = starts[1:] - starts[:-1]
    counts[-1:] = n - starts[-1:]
    if axis is None:
        return lines[starts], inverse.reshape(x.shape), counts
    return xp.moveaxis(moved[order[starts]], 0, axis), inverse, counts


class _SortedUnique(Implementation):
    """The runs of the sorted elements or slices (``_runs``): NumPy or CuPy."""

    runs = staticmethod(_runs)


class _CountedUnique(Implementation):
    """All the host integers (or bools) at once, their values spanning no more than twice their count (as a
    class's labels or a small image's pixels do): counted (``bincount``) rather than sorted, in a few linear
    passes. Wider spans are sorted."""

    name = "counted"

    @staticmethod
    def applies(x, axis=None, in_order=False):
        return axis is None and not in_order and x.size > 0 and x.dtype.kind in "biu" and is_host(x)

    @staticmethod
    def runs(x, axis, in_order):
        flat = x.reshape(-1).view(np.uint8) if x.dtype.kind == "b" else x.reshape(-1)
        lo, hi = int(flat.min()), int(flat.max())
        span = 2 * x.size + 64
        if hi - lo >= span:
            return _runs(x, axis, in_order)
        base = 0 if lo >= 0 and hi < span else lo  # counted from 0 where that costs no wider a tally
        offsets = flat.astype(np.intp, copy=False) if base == 0 else np.subtract(flat, base, dtype=np.intp)
        tally = np.bincount(offsets)
        present = tally.nonzero()[0]
        rank = np.cumsum(tally > 0) - 1
        return (present + base).astype(x.dtype), rank[offsets].reshape(x.shape), tally[present]


class _Unique(Op):
    """unique and unique_consecutive: in the graph only so that the values require grad, as in PyTorch,
    whose backward refuses too."""

    __slots__ = ()
    num_outputs = 3
    saves_tensors = False
    implementations = (_CountedUnique, _SortedUnique)

    def forward(self, x, axis=None, in_order=False):
        return self._impl.runs(x, axis, in_order)

    def backward(self, *grads):
        raise NotImplementedError(f"the derivative for '{self.derivative}' is not implemented.")


class Unique2(_Unique):
    __slots__ = ()
    _name, derivative = "Unique2Backward0", "_unique2"


class UniqueDim(_Unique):
    __slots__ = ()
    _name, derivative = "UniqueDimBackward0", "unique_dim"


class UniqueConsecutive(_Unique):
    __slots__ = ()
    _name, derivative = "UniqueConsecutiveBackward0", "unique_consecutive"


def _unique(op, input, return_inverse, return_counts, dim, in_order):
    shape = input._data.shape
    axis = None
    if dim is not None:
        if not shape:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        axis = wrap_dim(dim, len(shape))
        if 0 in shape[:axis] + shape[axis + 1:]:
            raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique cannot be applied")
    values, inverse, counts = op.apply(input, axis=axis, in_order=in_order)
    extra = [t for t, wanted in ((inverse, return_inverse), (counts, return_counts)) if wanted]
    return (values, *extra) if extra else values


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """Always sorted, as PyTorch's CPU kernel is whatever ``sorted`` says."""
    return _unique(Unique2 if dim is None else UniqueDim, input, return_inverse, return_counts, dim, in_order=False)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    return _unique(UniqueConsecutive, input, return_inverse, return_counts, dim, in_order=True)


def _search_lines(seq, values, right):
    """searchsorted for each line of ``seq`` (last axis) with the same line of ``values``: one stable sort
    of both together, ties putting the sequence first (right) or the values first (left)."""
    xp = xp_of(seq)
    n, m = seq.shape[-1], values.shape[-1]
    order = xp.argsort(xp.concatenate([seq, values] if right else [values, seq], axis=-1), axis=-1, kind="stable")
    from_seq = (order < n) if right else (order >= m)
    before = xp.cumsum(from_seq, axis=-1)  # sequence entries up to each place of the merged order
    place = xp.argsort(order, axis=-1)  # where each entry went
    return xp.take_along_axis(before, place[..., n:] if right else place[..., :m], axis=-1)


def _search(seq, values, right, out_int32, sorter=None):
    xp = xp_of(seq)
    if sorter is not None:
        seq = xp.take_along_axis(seq, sorter, axis=-1)
    values = xp.asarray(values)
    if seq.ndim == 1:
        out = xp.asarray(xp.searchsorted(seq, values, side="right" if right else "left"))
    elif jit.takes_floats(seq) and values.dtype == seq.dtype:
        out = search_lines(seq, values, right)
    else:
        out = _search_lines(seq, values, right)
    return out.astype(np.int32 if out_int32 else np.int64, copy=False)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of "
                               "left while right was True")
        right = side == "right"
    _check_search(sorted_sequence._data.shape, input, sorter)
    return _on_arrays(_search, sorted_sequence, input, right, out_int32, sorter)


def _check_search(seq_shape, input, sorter):
    """PyTorch's refusals of a sorter or values that do not fit the sequence."""
    if sorter is not None:
        if sorter._data.dtype != np.int64:
            raise RuntimeError("torch.searchsorted(): sorter must be a tensor of long dtype but got dtype "
                               f"{dtypes.legacy_name(sorter._data.dtype)}")
        if sorter._data.shape != seq_shape:
            raise RuntimeError("torch.searchsorted(): boundary and sorter must have the same size, but got "
                               f"boundary tensor {list(seq_shape)}and got sorter tensor {list(sorter._data.shape)}")
    if len(seq_shape) == 1:
        return
    if not isinstance(input, Tensor):
        raise RuntimeError("torch.searchsorted(): input value can be a scalar only when boundaries tensor "
                           f"dimension is 1, but we got boundaries tensor dim({len(seq_shape)}) and input value's "
                           "dim(0) numel(1)")
    if seq_shape[:-1] != input._data.shape[:-1]:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           "dimensions of boundaries tensor and input value tensor must match, but we got "
                           f"boundaries tensor {list(seq_shape)} and input value tensor {list(input._data.shape)}")


def bucketize(input, boundaries, *, out_int32=False, right=False):
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries._data.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError(f"isin() received an invalid combination of arguments - got ({type(elements).__name__}, "
                        f"{type(test_elements).__name__}), but expected at least one tensor")
    def test(e, t):
        xp = xp_of(e if hasattr(e, "ndim") else t)
        return xp.asarray(xp.isin(xp.asarray(e), xp.asarray(t), assume_unique=assume_unique, invert=invert))

    return _on_arrays(test, elements, test_elements)


def _on_arrays(fn, *args):
    """``fn(*args)`` through ``compute``, the tensors among ``args`` given as arrays, the rest as they are."""

    def on_arrays(*arrays):
        given = iter(arrays)
        return fn(*(next(given) if isinstance(a, Tensor) else a for a in args))

    return compute(on_arrays, *[a for a in args if isinstance(a, Tensor)])
