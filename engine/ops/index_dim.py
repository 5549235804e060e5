"""Whole slices chosen by a 1-d index along one dimension: ``index_select``, ``index_add``, ``index_copy``,
``index_fill``, and the in-place variants.

Reading is one ``xp.take``; writing is one assignment into a view with ``dim`` moved to the front (a
slice is one row); accumulating (``index_add``, and ``index_select``'s gradient) is one compiled pass on
host float arrays (``scatter_kernels``), elsewhere one ``add.at`` over flat positions
(``scatter.linear_positions``), several times faster than ``add.at`` along an axis. A 0-d tensor acts as a
1-d tensor of one element. A host float call that records no graph checks its index in the same compiled
pass (``index_add``) or one of its own (``index_select``) and skips ``Op.apply`` (``_direct``).
"""

from .. import dtypes
from ..backend import Implementation, is_host
from ..tensor import make_tensor, wrap_dim
from . import scatter_kernels
from .jit import takes_floats
from .op import Op, untracked, xp_of
from .scatter import (
    as_1d,
    check_range,
    fill_value,
    index_array,
    inplace_with,
    linear_positions,
    out_of_range,
)


def _flat_positions(index, dim, source_shape, shape):
    """The flat positions in an array of ``shape`` that the slices of a source of ``source_shape`` go to."""
    spread = [1] * len(shape)
    spread[dim] = -1
    return linear_positions(xp_of(index).broadcast_to(index.reshape(spread), source_shape), dim, shape)


def _rows(array, dim):
    """``array`` (0-d as 1-d) with ``dim`` first: a view, so writes reach ``array``."""
    return xp_of(array).moveaxis(as_1d(array), dim, 0)


class _SliceSums(Implementation):
    """How slices are added in at an index along ``dim`` (``index_add``, and ``index_select``'s gradient):
    ``add_into`` here with flat positions and one ``add.at``, on NumPy or CuPy."""

    @staticmethod
    def add_into(out, index, source, dim, alpha=1):
        values = as_1d(source).reshape(-1)
        xp_of(out).add.at(out.reshape(-1), _flat_positions(index, dim, as_1d(source).shape, as_1d(out).shape),
                          values * alpha if alpha != 1 else values)

    @staticmethod
    def forward(node, x, source, index=None, dim=0, alpha=1):
        node.index, node.dim, node.alpha = index, dim, alpha
        out = x.copy()
        node._impl.add_into(out, index, source, dim, alpha)
        return out


class _CompiledSliceSums(_SliceSums):
    """``scatter_kernels``: the slices added in one pass, without the flat positions."""

    name = "compiled"
    add_into = staticmethod(scatter_kernels.index_add_into)

    @staticmethod
    def applies(x, *source, **options):
        return takes_floats(x) and x.ndim >= 1 and (not source or source[0].ndim == x.ndim)


class IndexSelect(Op):
    __slots__ = ("dim", "index", "shape")
    _name = "IndexSelectBackward0"
    saves_tensors = False
    implementations = (_CompiledSliceSums, _SliceSums)

    def forward(self, x, index=None, dim=0):
        self.index, self.dim, self.shape = index, dim, x.shape
        if x.ndim == 0:
            return x.reshape(1).take(index).reshape(())
        return x.take(index, axis=dim)

    def backward(self, g):
        gx = xp_of(g).zeros(self.shape, dtype=g.dtype)
        self._impl.add_into(gx, self.index, g, self.dim)
        return (gx,)

    def backward_graph(self, g):
        zeros = g.new_zeros(self.shape)
        return (IndexAdd.apply(zeros, g, index=self.index, dim=self.dim),)


class IndexAdd(Op):
    __slots__ = ("alpha", "dim", "index")
    _name = "IndexAddBackward0"
    saves_tensors = False
    implementations = (_CompiledSliceSums, _SliceSums)

    def backward(self, g):  # one ``take`` on either path
        gs = None
        if self._edges[1] is not None:
            gs = xp_of(g).take(as_1d(g), self.index, axis=self.dim).reshape(self._source_shape(g))
            if self.alpha != 1:
                gs = gs * self.alpha
        return g, gs

    def backward_graph(self, g):
        return g, self._source_grad(g)

    def _source_grad(self, g):
        """The gradient of ``source``: the slices of ``g`` at the index, as a graph."""
        if self._edges[1] is None:
            return None
        gs = IndexSelect.apply(g, index=self.index, dim=self.dim)
        return gs * self.alpha if self.alpha != 1 else gs

    def _source_shape(self, g):
        shape = list(as_1d(g).shape)
        shape[self.dim] = self.index.size
        return tuple(shape) if g.ndim else ()


class IndexCopy(IndexAdd):
    __slots__ = ()
    _name = "IndexCopyBackward0"
    implementations = ()

    def forward(self, x, source, index=None, dim=0):
        self.index, self.dim, self.alpha = index, dim, 1
        out = x.copy()
        _rows(out, dim)[index] = _rows(source, dim)
        return out

    def backward(self, g):
        gx = g.copy()
        _rows(gx, self.dim)[self.index] = 0
        return gx, super().backward(g)[1]

    def backward_graph(self, g):
        return g * _kept(g._data, self.index, self.dim), self._source_grad(g)


class IndexFill(Op):
    """``x`` with the slices at ``index`` set to a value: a number, or a 0-d tensor that gets the gradient
    of each filled element once (repeated indices fill once)."""

    __slots__ = ("dim", "index")
    _name = "IndexFillBackward0"
    saves_tensors = False

    def forward(self, x, value, index=None, dim=0):
        self.index, self.dim = index, dim
        out = x.copy()
        _rows(out, dim)[index] = value
        return out

    def backward(self, g):
        xp = xp_of(g)
        gx = g.copy()
        _rows(gx, self.dim)[self.index] = 0
        gv = None
        if self._edges[1] is not None:
            chosen = xp.zeros(as_1d(g).shape[self.dim], dtype=bool)
            chosen[self.index] = True
            gv = xp.sum(_rows(g, self.dim)[chosen], keepdims=True).reshape(())
        return gx, gv

    def backward_graph(self, g):
        keep = _kept(g._data, self.index, self.dim)
        gv = None
        if self._edges[1] is not None:
            gv = (g * (1 - keep)).sum()
        return g * keep, gv


def _kept(g, index, dim):
    """1 where a slice of ``g``'s shape is not at ``index`` along ``dim``, 0 where it is (g's dtype)."""
    keep = xp_of(g).ones(g.shape, dtype=g.dtype)
    _rows(keep, dim)[index] = 0
    return keep


def _index(index, x, name, kinds="iu"):
    idx = index_array(index, x, name, kinds)
    if idx.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    return idx if idx.ndim == 1 else idx.reshape(-1)


def _direct(x, idx, input, other=None):
    """Whether ``x`` and ``idx`` may go to ``scatter_kernels`` without ``Op.apply``: a host float array of at
    least one dimension, a signed index, no graph (``untracked``)."""
    return (x.ndim and idx.dtype.kind == "i" and takes_floats(x)
            and (untracked(input) if other is None else untracked(input, other)))


def index_select(input, dim, index):
    x = input._data
    dim = wrap_dim(dim, x.ndim)
    if index._data.dtype.kind not in "iu":
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    idx = _index(index, input, "index_select")
    if x.ndim == 0 and idx.size != 1:
        raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {idx.size} value(s)")
    if _direct(x, idx, input) and scatter_kernels.within(idx, x.shape[dim]):
        return make_tensor(x.take(idx, axis=dim))
    size = as_1d(x).shape[dim]
    bad = out_of_range(idx, 0, size)
    if bad is not None:
        raise RuntimeError(f"INDICES element is out of DATA bounds, id={bad} axis_dim={size}")
    return IndexSelect.apply(input, index=idx, dim=dim)


def _check_source(name, input, dim, idx, source):
    x, s = input._data, source._data
    if s.shape == x.shape and s.dtype == x.dtype and x.ndim and x.shape[dim] == idx.size:
        return  # a source of the input's shape: every check passes
    if s.dtype != x.dtype:
        if name == "index_copy":
            raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, but got (self) "
                               f"{dtypes.legacy_name(x.dtype)} and (source) {dtypes.legacy_name(s.dtype)}")
        raise RuntimeError(f"index_add_(): self ({dtypes.legacy_name(x.dtype)}) and source "
                           f"({dtypes.legacy_name(s.dtype)}) must have the same scalar type")
    x_shape, s_shape = list(as_1d(x).shape), list(as_1d(s).shape)
    same_rank = s.ndim == x.ndim or (x.ndim <= 1 and s.ndim <= 1)
    if not same_rank or any(a != b for d, (a, b) in enumerate(zip(x_shape, s_shape)) if d != dim):
        if name == "index_copy":
            raise RuntimeError("index_copy_(): Source/destination tensor must have same slice shapes.")
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the specified dimension. "
                           f"Got self.shape = {list(x.shape)} source.shape = {list(s.shape)}")
    if s_shape[dim] != idx.size:
        if name == "index_copy":
            raise IndexError(f"index_copy_(): Number of indices ({idx.size}) should be equal to source.size(dim) "
                             f"({s_shape[dim]})")
        raise RuntimeError(f"{name}_(): Number of indices ({idx.size}) should be equal to source.size(dim): "
                           f"({s_shape[dim]}), for dim: {dim}")


def index_add(input, dim, index, source, *, alpha=1):
    dim = wrap_dim(dim, input._data.ndim)
    if index._data.dtype.kind not in "iu":
        raise RuntimeError(f"index_add_(): Expected dtype int32/int64 for index but got: "
                           f"{dtypes.legacy_name(index._data.dtype)}")
    idx = _index(index, input, "index_add")
    _check_source("index_add", input, dim, idx, source)
    x, s = input._data, source._data
    if x.size and s.ndim == x.ndim and is_host(s) and _direct(x, idx, input, source):
        out = x.copy()
        if scatter_kernels.index_add_into(out, idx, s, dim, alpha) is None:
            return make_tensor(out)
    check_range(idx, as_1d(x).shape[dim], dim)
    return IndexAdd.apply(input, source, index=idx, dim=dim, alpha=alpha)


def index_copy(input, dim, index, source):
    dim = wrap_dim(dim, input._data.ndim)
    if index._data.dtype != dtypes.int64.np:
        raise RuntimeError(f"index_copy_(): Expected a long tensor for index, but got "
                           f"{dtypes.legacy_name(index._data.dtype)}")
    idx = _index(index, input, "index_copy")
    _check_source("index_copy", input, dim, idx, source)
    check_range(idx, as_1d(input._data).shape[dim], dim, "index_copy_(): ", IndexError)
    return IndexCopy.apply(input, source, index=idx, dim=dim)


def index_fill(input, dim, index, value):
    dim = wrap_dim(dim, input._data.ndim)
    if index._data.dtype != dtypes.int64.np:
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    idx = _index(index, input, "index_fill")
    size = as_1d(input._data).shape[dim]
    check_range(idx, size, dim, exc=IndexError, low=-size)
    value = fill_value(value, input, "index_fill_")
    return IndexFill.apply(input, value, index=idx % size if size else idx, dim=dim)


def index_add_(self, dim, index, source, *, alpha=1):
    return inplace_with(self, lambda s, t: index_add(s, dim, index, t, alpha=alpha), source)


def index_copy_(self, dim, index, source):
    return inplace_with(self, lambda s, t: index_copy(s, dim, index, t), source)


def index_fill_(self, dim, index, value):
    return inplace_with(self, lambda s, v: index_fill(s, dim, index, v), value)
