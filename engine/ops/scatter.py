"""Gather and scatter along a dimension: ``gather``, ``scatter`` (src or value, legacy ``reduce=``),
``scatter_add``, ``scatter_reduce`` and ``take_along_dim``, with their in-place variants.

An index tensor addresses ``out[i][index[i][j][k]][k]`` (for ``dim=1``): ``linear_positions`` turns it into
flat positions, so every op is one NumPy/CuPy indexing step or one ``ufunc.at``. A
0-d tensor acts as a 1-d tensor of one element, as in PyTorch. Repeated positions accumulate with
``add.at`` / ``maximum.at`` / ``minimum.at``; products use ``multiply.at`` on the host and rounds of unique
positions elsewhere (CuPy has no ``multiply.at``): ``ScatterReduce``'s two implementations. On host floats
the sums and products at flat positions are one compiled pass (``_at``), and a call that records no graph
runs its compiled kernel without ``Op.apply`` (``untracked``).
"""

import numpy as np

from .. import dtypes
from ..autograd.graph import Node, link
from ..backend import CPU, Implementation, is_host, transfer
from ..creation import tensor
from ..tensor import Tensor, make_tensor, wrap_dim
from . import jit, scatter_kernels
from .index import Index, placed
from .inplace import apply_inplace
from .op import Op, broadcast_shape, untracked, xp_of
from .shape import expand

_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")
_LEGACY_REDUCTIONS = {"add": "sum", "multiply": "prod"}


def index_array(index, x, name, kinds="iu"):
    """The raw array of index tensor ``index`` for an op on ``x``, after PyTorch's dtype and device checks."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    data = index._data
    if data.dtype.kind not in kinds:
        wanted = "int32/int64" if kinds == "iu" else "int64"
        raise RuntimeError(f"{name}(): Expected dtype {wanted} for index")
    return data if index._device is x._device else on_device(index, x._device)._data


def on_device(t, dev):
    """Index or mask tensor ``t`` on ``dev``: a CPU one is copied there (as indexing takes it), others refused."""
    if t._device is dev:
        return t
    if t._device is not CPU:
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                           f"{dev} and {t._device}!")
    return make_tensor(transfer(t._data, CPU, dev), dev)


# Signed index dtypes and the unsigned ones of their size, in which a negative index reads as a huge one.
_UNSIGNED = {np.dtype(f"i{n}"): np.dtype(f"u{n}") for n in (1, 2, 4, 8)}


def out_of_range(index, low, high):
    """An element of ``index`` outside ``[low, high)``, or None: from 0, one pass over the index as unsigned
    finds that all are in range; otherwise one pass for each bound."""
    if index.size == 0:
        return None
    if low == 0:
        unsigned = _UNSIGNED.get(index.dtype)
        if int((index if unsigned is None else index.view(unsigned)).max()) < high:
            return None
    smallest, largest = int(index.min()), int(index.max())
    if smallest < low:
        return smallest
    return largest if largest >= high else None


def check_range(index, size, dim, prefix="", exc=RuntimeError, low=0):
    """PyTorch's error for an index outside ``[low, size)`` along ``dim``."""
    bad = out_of_range(index, low, size)
    if bad is not None:
        raise exc(f"{prefix}index {bad} is out of bounds for dimension {dim} with size {size}")


def check_found(bad, size, dim):
    """``check_range``'s error for the index ``bad`` that a compiled kernel met out of range (None: none)."""
    if bad is not None:
        check_range(np.asarray([bad]), size, dim)


def as_1d(array):
    """A 0-d array as one of one element; others as they are."""
    return array.reshape(1) if array.ndim == 0 else array


def linear_positions(index, dim, shape):
    """The flat positions, in a C-contiguous array of ``shape``, that ``index`` (along ``dim``) addresses,
    as a 1-d array: one flat index is about twice as fast as a fancy index per dimension."""
    xp = xp_of(index)
    strides = [1] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * shape[d + 1]
    nd = index.ndim
    linear = index.astype(np.int64, copy=False)
    fresh = strides[dim] != 1
    if fresh:
        linear = linear * strides[dim]
    for d, n in enumerate(index.shape):
        if d != dim and n > 1:
            offsets = xp.arange(0, n * strides[d], strides[d]).reshape((n,) + (1,) * (nd - d - 1))
            if fresh:
                linear += offsets
            else:
                linear, fresh = linear + offsets, True
    return linear.reshape(-1)


def _leading(shape):
    """The index of the leading block of ``shape`` (a source is read where the index is, no further)."""
    return tuple(slice(0, n) for n in shape)


def _multiply_in_rounds(out, linear, values):
    """``out[linear] *= values`` (1-d arrays) with repeated positions multiplying in turn: one round per
    repetition."""
    xp = xp_of(out)
    order = xp.argsort(linear)
    linear, values = linear[order], values[order]
    rank = xp.arange(linear.size) - xp.searchsorted(linear, linear, side="left")
    for r in range(int(rank.max()) + 1 if rank.size else 0):
        chosen = rank == r
        out[linear[chosen]] *= values[chosen]


def _at(out, linear, values, product=False):
    """``multiply.at(out, linear, values)`` (``product``) or ``add.at`` (1-d arrays), compiled for host floats
    of one dtype."""
    if jit.takes_floats(out) and values.dtype == out.dtype:
        check_found(scatter_kernels.at(out, linear, values, product), out.size, 0)
    else:
        (xp_of(out).multiply if product else xp_of(out).add).at(out, linear, values)


def _host_multiply_at(out, linear, values):
    _at(out, linear, values, True)


class _Generic(Implementation):
    """Flat positions and one ``ufunc.at`` (or an assignment) for every reduction, on NumPy or CuPy; products
    by the subclass's ``multiply_at``."""

    @staticmethod
    def forward(node, x, src, index=None, dim=0, reduce=None, include_self=True):
        shape = x.shape
        index, x = as_1d(index), as_1d(x)
        check_range(index, x.shape[dim], dim)
        pos = linear_positions(index, dim, x.shape)
        x = x.reshape(-1)
        values = as_1d(src)[_leading(index.shape)].reshape(-1)
        out, count = _reduce_into(x, pos, values, reduce, include_self, node._impl.multiply_at)
        node.pos, node.index_shape, node.src_shape = pos, index.shape, src.shape
        node.index, node.dim = index, dim
        node.reduce, node.include_self, node.count = reduce, include_self, count
        if reduce in ("prod", "amax", "amin"):
            node.x, node.src, node.result = x.copy(), values.copy(), out.copy()
        return out.reshape(shape)

    @staticmethod
    def backward(node, g):
        shape = g.shape
        g = g.reshape(-1)
        pos = node.positions()
        gx, gvalues = node._grads(g, pos)
        if not node.include_self or node.reduce is None:
            gx[pos] = 0
        gsrc = None
        if node._edges[1] is not None:
            gsrc = xp_of(g).zeros(node.src_shape or (1,), dtype=g.dtype)
            gsrc[_leading(node.index_shape)] = gvalues.reshape(node.index_shape)
            gsrc = gsrc.reshape(node.src_shape)
        return gx.reshape(shape), gsrc


class _CompiledSum(Implementation):
    """``scatter_kernels`` for a sum into ``x`` (``scatter_add``) where ``src`` is shaped as the index: the range
    check and the sum in one pass; backward reads ``src``'s gradient in one pass."""

    name = "compiled"

    @staticmethod
    def takes(reduce, include_self):
        return reduce == "sum" and include_self

    @staticmethod
    def applies(x, src, index=None, dim=0, reduce=None, include_self=True):
        return (_CompiledSum.takes(reduce, include_self) and index.shape == src.shape
                and scatter_kernels.fits(x, index, dim))

    @staticmethod
    def forward(node, x, src, index=None, dim=0, reduce=None, include_self=True):
        node.index, node.dim, node.index_shape, node.src_shape = index, dim, index.shape, src.shape
        node.reduce, node.include_self = reduce, include_self
        return _compiled_sum(x, src, index, dim)

    @staticmethod
    def backward(node, g):
        gsrc = None
        if node._edges[1] is not None:
            gsrc = scatter_kernels.gather(g, node.index, node.dim)[0]
        return g, gsrc


class _HostProducts(_Generic):
    name = "multiply.at"
    multiply_at = staticmethod(_host_multiply_at)

    @staticmethod
    def applies(x, src, **options):
        return is_host(x)


class _CompiledScatter(_HostProducts):
    """``scatter_kernels`` for an overwrite, a product or an extreme that includes ``x``: the range check and
    the writes in one pass, no flat positions until a gradient that needs them. An overwrite's backward is
    one pass for each gradient; the others' is the generic one."""

    name = "compiled"

    @staticmethod
    def takes(reduce, include_self):
        return reduce in scatter_kernels.REDUCTIONS and (include_self or reduce is None)

    @staticmethod
    def applies(x, src, index=None, dim=0, reduce=None, include_self=True):
        return (_CompiledScatter.takes(reduce, include_self) and src.ndim == index.ndim
                and scatter_kernels.fits(x, index, dim))

    @staticmethod
    def forward(node, x, src, index=None, dim=0, reduce=None, include_self=True):
        values = src if src.shape == index.shape else src[_leading(index.shape)]
        out = _compiled_scatter(x, values, index, dim, reduce)
        node.pos, node.shape, node.index_shape, node.src_shape = None, x.shape, index.shape, src.shape
        node.index, node.dim, node.reduce, node.include_self, node.count = index, dim, reduce, include_self, None
        if reduce is not None:
            node.x, node.src, node.result = x.reshape(-1).copy(), values.reshape(-1).copy(), out.reshape(-1).copy()
        return out

    @staticmethod
    def backward(node, g):
        if node.reduce is not None:
            return _Generic.backward(node, g)
        gx = g.copy()
        scatter_kernels.scatter_into(gx, node.index, g.dtype.type(0), node.dim)
        gsrc = None
        if node._edges[1] is not None:
            gsrc = scatter_kernels.gather(g, node.index, node.dim)[0]
            if node.index_shape != node.src_shape:
                gvalues, gsrc = gsrc, np.zeros(node.src_shape, dtype=g.dtype)
                gsrc[_leading(node.index_shape)] = gvalues
        return gx, gsrc


def _compiled_sum(x, src, index, dim):
    """``x`` with ``src`` added in at ``index`` along ``dim`` by the compiled kernel (``_CompiledSum``)."""
    out = x.copy()
    check_found(scatter_kernels.scatter_add_into(out, index, src, dim), x.shape[dim], dim)
    return out


def _compiled_scatter(x, values, index, dim, reduce):
    """``x`` with ``values`` (shaped as ``index``) written or reduced in by the compiled kernel
    (``_CompiledScatter``)."""
    out = x.copy()
    check_found(scatter_kernels.scatter_into(out, index, values, dim, reduce), x.shape[dim], dim)
    return out


class _ProductRounds(_Generic):
    name = "rounds"
    multiply_at = staticmethod(_multiply_in_rounds)


def _reduce_into(x, pos, values, reduce, include_self, multiply_at):
    """``x`` with ``values`` reduced into positions ``pos`` (all 1-d), products by ``multiply_at``; and the
    count per position for ``mean``."""
    xp = xp_of(x)
    out = x.copy()
    count = None
    if reduce is None:
        out[pos] = values
    elif reduce in ("sum", "mean"):
        if not include_self:
            out[pos] = 0
        xp.add.at(out, pos, values)
        if reduce == "mean":
            count = xp.full(x.shape, 1 if include_self else 0, dtype=x.dtype)
            xp.add.at(count, pos, 1)
            count[count == 0] = 1
            out = out / count if x.dtype.kind in dtypes.FLOAT_KINDS else out // count
    elif reduce == "prod":
        if not include_self:
            out[pos] = 1
        multiply_at(out, pos, values)
    else:
        if not include_self:
            out[pos] = values  # any value of each group, which the group's extreme then replaces
        (xp.maximum if reduce == "amax" else xp.minimum).at(out, pos, values)
    return out, count


class _CompiledGather(Implementation):
    """``scatter_kernels``: the range check, the read and, backward, the sum in one pass each."""

    name = "compiled"

    @staticmethod
    def applies(x, index=None, dim=0):
        return scatter_kernels.fits(x, index, dim)

    @staticmethod
    def forward(node, x, index=None, dim=0):
        node.index, node.dim, node.shape = index, dim, x.shape
        return _compiled_gather(x, index, dim)

    @staticmethod
    def backward(node, g):
        gx = np.zeros(node.shape, dtype=g.dtype)
        scatter_kernels.scatter_add_into(gx, node.index, g, node.dim)
        return (gx,)


def _compiled_gather(x, index, dim):
    """``x``'s values at ``index`` along ``dim`` by the compiled kernel (``_CompiledGather``)."""
    out, bad = scatter_kernels.gather(x, index, dim)
    check_found(bad, x.shape[dim], dim)
    return out


class _GenericGather(Implementation):
    """A range check, the flat positions, one fancy index (and ``add.at`` backward): NumPy or CuPy."""

    @staticmethod
    def forward(node, x, index=None, dim=0):
        node.index, node.dim, node.shape = index, dim, x.shape
        x = as_1d(x)
        check_range(index, x.shape[dim], dim)
        return x.reshape(-1)[linear_positions(as_1d(index), dim, x.shape)].reshape(index.shape)

    @staticmethod
    def backward(node, g):
        index = as_1d(node.index)
        gx = xp_of(g).zeros(node.shape or (1,), dtype=g.dtype)
        xp_of(g).add.at(gx.reshape(-1), linear_positions(index, node.dim, gx.shape), g.reshape(-1))
        return (gx.reshape(node.shape),)


class Gather(Op):
    __slots__ = ("dim", "index", "shape")
    _name = "GatherBackward0"
    saves_tensors = False
    implementations = (_CompiledGather, _GenericGather)

    def backward_graph(self, g):
        zeros = g.new_zeros(self.shape)
        return (ScatterReduce.apply(zeros, g, index=self.index, dim=self.dim, reduce="sum"),)


class ScatterReduce(Op):
    """``x`` with ``src`` (read where the index is) written or reduced in at the index's positions. The
    extremes and products keep copies of what their gradients read, so later in-place changes cannot
    alter them."""

    __slots__ = ("count", "dim", "include_self", "index", "index_shape", "pos", "reduce", "result", "shape", "src",
                 "src_shape", "x")
    _name = "ScatterReduceBackward0"
    saves_tensors = True
    implementations = (_CompiledSum, _CompiledScatter, _HostProducts, _ProductRounds)

    def positions(self):
        """The index's flat positions in ``x`` (the compiled path finds them only when a gradient needs them)."""
        if self.pos is None:
            self.pos = linear_positions(self.index, self.dim, self.shape)
        return self.pos

    def _grads(self, g, pos):
        """The gradient of ``x`` (before zeroing what was overwritten) and of the values read from ``src``,
        as PyTorch computes them: extremes share the gradient among the elements that reach them."""
        xp = xp_of(g)
        reduce = self.reduce
        if reduce is None or reduce == "sum":
            return g.copy(), g[pos]
        if reduce == "mean":
            gx = g / self.count
            return gx, gx[pos]
        x, values, result = self.x, self.src, self.result
        if reduce == "prod":
            if self._impl.multiply_at is _host_multiply_at and jit.takes_floats(x) and g.dtype == x.dtype:
                return scatter_kernels.product_grads(x, values, result, g, pos, self.include_self)
            masked_x = xp.where(x == 0, 1, x).astype(x.dtype, copy=False)
            multiply_at = self._impl.multiply_at
            gx = g * _reduce_into(masked_x, pos, values, "prod", self.include_self, multiply_at)[0] / masked_x
            zero, zeros_per_position = self._zeros()
            single_zero = zero & (zeros_per_position[pos] == 1)
            masked_values = xp.where(single_zero, 1, values).astype(x.dtype, copy=False)
            without_zero = _reduce_into(x, pos, masked_values, "prod", self.include_self, multiply_at)[0]
            gvalues = xp.where(single_zero, (g * without_zero)[pos],
                               (g * result)[pos] / xp.where(zero, 1, values).astype(x.dtype, copy=False))
            return gx, gvalues
        x_is_result, value_is_result, n = self._extremes(g.dtype)
        shared = g / n
        return x_is_result * shared, value_is_result * shared[pos]

    def _zeros(self):
        """Where the values read from ``src`` are 0, and how many zeros reach each position of a product."""
        zero = self.src == 0
        zeros_per_position = xp_of(zero).zeros(self.x.shape, dtype=self.x.dtype)
        _at(zeros_per_position, self.positions(), zero.astype(self.x.dtype))
        return zero, zeros_per_position

    def _extremes(self, dtype):
        """Where ``x`` and the values read from ``src`` reach the extreme of their position (1 or 0), and how
        many elements reach each position's extreme (they share its gradient)."""
        result = self.result
        x_is_result = (self.x == result).astype(dtype)
        pos = self.positions()
        value_is_result = (self.src == result[pos]).astype(dtype)
        n = x_is_result.copy()
        _at(n, pos, value_is_result)
        return x_is_result, value_is_result, n

    def backward_graph(self, g):
        """Linear in ``g`` with constant weights, products excepted: which elements reach an extreme, and the
        counts of a mean, are piecewise constant."""
        if self.reduce == "prod":
            gx, gvalues = self._product_grads(g)
        else:
            wx, wv = self._weights(g._data)
            gx = g if wx is None else g * wx.reshape(g.shape)
            gvalues = None
            if self._edges[1] is not None:
                gvalues = Gather.apply(g, index=self.index, dim=self.dim)
                if wv is not None:
                    gvalues = gvalues * wv.reshape(gvalues.shape)
        gsrc = None
        if self._edges[1] is not None:
            gvalues = gvalues.reshape(self.index_shape)
            src_shape = self.src_shape or (1,)
            if self.index_shape != src_shape:  # the values come from the leading block of src
                gvalues = placed(gvalues, src_shape, (_leading(self.index_shape),), True)
            gsrc = gvalues.reshape(self.src_shape)
        return gx, gsrc

    def _product_grads(self, g):
        """``_grads`` of a product as a graph, flat: the products without ``x``'s zeros (and without a value
        that is its position's only zero) are products of the saved input and values, and the result is
        this node's output."""
        xp, dtype, pos, shape = xp_of(self.x), self.x.dtype, self.positions(), g.shape
        g = g.reshape(-1)
        x = self.saved_input(0, self.x.reshape(shape)).reshape(-1)
        src = xp.zeros(self.src_shape or (1,), dtype=dtype)
        src[_leading(self.index_shape)] = self.src.reshape(self.index_shape)
        src = self.saved_input(1, src.reshape(self.src_shape))
        values = src.reshape(self.src_shape or (1,))[_leading(self.index_shape)].reshape(-1)
        x_zero = (self.x == 0).astype(dtype)
        masked_x = x * (1 - x_zero) + x_zero
        gx = g * self._product(masked_x, values) / masked_x
        if not self.include_self:
            keep = xp.ones(self.x.shape, dtype=dtype)
            keep[pos] = 0
            gx = gx * keep
        zero, zeros_per_position = self._zeros()
        single = (zero & (zeros_per_position[pos] == 1)).astype(dtype)
        without_zero = self._product(x, values * (1 - single) + single)
        result = self.saved_output(self.result.reshape(shape)).reshape(-1)
        zero = zero.astype(dtype)
        at = ((pos,),)
        gvalues = (Index.apply(g * without_zero, index=at, basic=False) * single
                   + Index.apply(g * result, index=at, basic=False) / (values * (1 - zero) + zero) * (1 - single))
        if (zeros_per_position > 1).any():
            gvalues = _refused(gvalues, "scatter_reduce(): Double backward is unsupported for src when >1 zeros in "
                                        "src are scattered to the same position in self")
        return gx.reshape(shape), gvalues

    def _product(self, x, values):
        """Tensor ``x`` (flat) with tensor ``values`` multiplied in at the saved positions, as a graph."""
        return ScatterReduce.apply(x, values, index=self.positions(), dim=0, reduce="prod",
                                   include_self=self.include_self)

    def _weights(self, g):
        """The flat weights of gradient array ``g`` in ``x``'s gradient and, at the index's positions, in the
        values' (None for all ones: a sum into ``x``, whose compiled path keeps no flat positions)."""
        reduce = self.reduce
        if reduce == "sum" and self.include_self:
            return None, None
        pos = self.positions()
        wx = wv = None
        if reduce == "mean":
            wx = (1 / self.count).astype(g.dtype, copy=False)
            wv = wx[pos]
        elif reduce in ("amax", "amin"):
            x_is_result, value_is_result, n = self._extremes(g.dtype)
            wx, wv = x_is_result / n, value_is_result / n[pos]
        if not self.include_self or reduce is None:
            wx = xp_of(g).ones(g.size, dtype=g.dtype) if wx is None else wx.copy()
            wx[pos] = 0
        return wx, wv


class _Refused(Node):
    """Stands for a second derivative that PyTorch refuses: reaching it in a backward raises its message."""

    saves = 0
    saves_tensors = False
    _name = "DelayedError"

    def __init__(self, message):
        self.message = message

    def backward(self, *grads):
        raise RuntimeError(self.message)

    backward_graph = backward


def _refused(t, message):
    """Gradient tensor ``t``'s values, through a node that raises ``message`` when a backward reaches it."""
    return link(_Refused(message), (t,), t._data, t._device)


def _check_shapes(x, index, dim, src=None):
    """PyTorch's checks of an index's rank and sizes against ``x`` (and ``src``) for gather and scatter."""
    if index.ndim != x.ndim and not (index.ndim <= 1 and x.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as "
                           + ("input tensor" if src is None else "self tensor"))
    i_shape, x_shape = as_1d(index).shape, as_1d(x).shape
    too_big_x = any(i > s for d, (i, s) in enumerate(zip(i_shape, x_shape)) if d != dim)
    if src is None:
        if too_big_x:
            d = next(d for d, (i, s) in enumerate(zip(i_shape, x_shape)) if d != dim and i > s)
            raise RuntimeError(f"Size does not match at dimension {d} expected index {list(index.shape)} to be no "
                               f"larger than self {list(x.shape)} apart from dimension {dim}")
        return
    if too_big_x or any(i > s for i, s in zip(i_shape, as_1d(src).shape)):
        raise RuntimeError(f"Expected index {list(index.shape)} to be no larger than self {list(x.shape)} apart "
                           f"from dimension {dim} and to be no larger size than src {list(src.shape)}")


def gather(input, dim, index, *, sparse_grad=False):
    """``input``'s values at ``index`` along ``dim``; ``sparse_grad`` is accepted, the gradient is dense."""
    x = input._data
    dim = wrap_dim(dim, x.ndim)
    idx = index_array(index, input, "gather")
    if idx.shape != x.shape:  # an index of the input's shape passes every check
        _check_shapes(x, idx, dim)
    if untracked(input) and scatter_kernels.fits(x, idx, dim):
        return make_tensor(_compiled_gather(x, idx, dim))
    return Gather.apply(input, index=idx, dim=dim)


def _scatter(name, input, dim, index, src, reduce, include_self=True):
    dim = wrap_dim(dim, input._data.ndim)
    idx = index_array(index, input, name)
    if not isinstance(src, Tensor):
        src = make_tensor(xp_of(idx).full(idx.shape, src, dtype=input._data.dtype), input._device)
    elif src._data.dtype != input._data.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
    x, s = input._data, src._data
    if not idx.shape == x.shape == s.shape:  # equal shapes pass every check
        _check_shapes(x, idx, dim, s)
    if s.shape == idx.shape and is_host(s) and untracked(input, src) and scatter_kernels.fits(x, idx, dim):
        if _CompiledSum.takes(reduce, include_self):
            return make_tensor(_compiled_sum(x, s, idx, dim))
        if _CompiledScatter.takes(reduce, include_self):
            return make_tensor(_compiled_scatter(x, s, idx, dim, reduce))
    return ScatterReduce.apply(input, src, index=idx, dim=dim, reduce=reduce, include_self=include_self)


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """``input`` with ``src`` (a tensor, or the number ``value``) written at ``index`` along ``dim``;
    ``reduce='add'|'multiply'`` accumulates instead (PyTorch gives that form no gradient; we do)."""
    if src is None:
        src = value
    if reduce is not None and reduce not in _LEGACY_REDUCTIONS:
        raise RuntimeError("reduce argument must be either add or multiply.")
    return _scatter("scatter", input, dim, index, src, _LEGACY_REDUCTIONS.get(reduce))


def scatter_add(input, dim, index, src):
    return _scatter("scatter_add", input, dim, index, src, "sum")


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    return _scatter("scatter_reduce", input, dim, index, src, reduce, include_self)


def fill_value(value, input, name):
    """``value`` (a number or a 0-d tensor) as a 0-d tensor of ``input``'s dtype and device, for the ``*_fill``
    ops; a tensor of more dimensions is refused with PyTorch's message naming ``name``."""
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"{name} only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value._data.ndim} dimension(s).")
        return value.to(input.dtype)
    return tensor(value, dtype=input.dtype, device=input._device)


def inplace_with(self, compute, *values):
    """``compute(self, *values)`` in place, the tensors among ``values`` passed on as the op's inputs."""
    tensors = [v for v in values if isinstance(v, Tensor)]

    def run(s, *ts):
        it = iter(ts)
        return compute(s, *[next(it) if isinstance(v, Tensor) else v for v in values])

    return apply_inplace(self, run, *tensors)


def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
    return inplace_with(self, lambda s, t: scatter(s, dim, index, t, reduce=reduce), value if src is None else src)


def scatter_add_(self, dim, index, src):
    return apply_inplace(self, lambda s, t: scatter_add(s, dim, index, t), src)


def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    return apply_inplace(self, lambda s, t: scatter_reduce(s, dim, index, t, reduce, include_self=include_self),
                         src)


def take_along_dim(input, indices, dim=None):
    if indices._data.dtype != dtypes.int64.np:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{dtypes.legacy_name(indices._data.dtype)}")
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    x_shape, i_shape = input._data.shape, indices._data.shape
    if len(x_shape) != len(i_shape):
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {len(x_shape)} dimensions for input, and {len(i_shape)} dimensions for indices")
    dim = wrap_dim(dim, len(x_shape))
    others_x = tuple(1 if d == dim else n for d, n in enumerate(x_shape))
    others_i = tuple(1 if d == dim else n for d, n in enumerate(i_shape))
    common = broadcast_shape(others_x, others_i)
    x_target = tuple(x_shape[d] if d == dim else n for d, n in enumerate(common))
    i_target = tuple(i_shape[d] if d == dim else n for d, n in enumerate(common))
    if x_target != x_shape:
        input = expand(input, x_target)
    if i_target != i_shape:
        indices = make_tensor(xp_of(indices._data).broadcast_to(indices._data, i_target), indices._device)
    return gather(input, dim, indices)
