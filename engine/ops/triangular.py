"""Triangles and diagonals of matrices: ``tril``/``triu`` (and in place), ``tril_indices``/``triu_indices``,
``diagonal``, ``diag_embed``, ``diag``, ``diagflat``, ``trace``.

``diagonal`` is a view, as in PyTorch: the diagonal is read through strides (``diagonal_view``), so writes
through it reach the input; ``diag`` of a matrix is a copy, as in PyTorch.
"""

import functools

import numpy as np

from .. import dtypes
from ..backend import CPU, is_host
from ..creation import tensor
from ..tensor import Tensor, wrap_dim
from .convert import clone
from .inplace import apply_inplace
from .op import Op, untracked, xp_of
from .shape import expand, mark_view, reshape
from .strides import as_strided


def diagonal_view(a, offset, d1, d2):
    """The diagonal of axes ``d1``, ``d2`` of array ``a`` at ``offset``, as a writable strided view whose
    last axis runs along the diagonal (the other axes keep their order)."""
    n1, n2 = a.shape[d1], a.shape[d2]
    if offset >= 0:
        length = max(0, min(n1, n2 - offset))
        start = (d2, min(offset, n2))
    else:
        length = max(0, min(n1 + offset, n2))
        start = (d1, min(-offset, n1))
    index = [slice(None)] * a.ndim
    index[start[0]] = slice(start[1], None)
    a = a[tuple(index)]
    rest = [i for i in range(a.ndim) if i not in (d1, d2)]
    shape = (*[a.shape[i] for i in rest], length)
    strides = (*[a.strides[i] for i in rest], a.strides[d1] + a.strides[d2])
    return as_strided(xp_of(a), a, shape, strides)


def _kept(xp, rows, cols, k, lower):
    """The boolean mask of the triangle that ``tril``/``triu`` keep."""
    mask = xp.tri(rows, cols, k if lower else k - 1, dtype=bool)
    return mask if lower else ~mask


# Host masks are made once per shape: building one costs about a third of the op at 1000x1000. Device masks
# are not cached, as an array cached on one GPU cannot serve another.
_kept_on_host = functools.lru_cache(maxsize=16)(functools.partial(_kept, np))


def _triangle_copy(x, k, lower):
    """One masked copy into zeros (``np.tril`` builds its mask each call and then selects with ``where``)."""
    xp = xp_of(x)
    mask = _kept_on_host(*x.shape[-2:], k, lower) if is_host(x) else _kept(xp, *x.shape[-2:], k, lower)
    out = xp.zeros_like(x)
    xp.copyto(out, x, where=mask)
    return out


class Tril(Op):
    __slots__ = ("k",)
    _name = "TrilBackward0"
    saves_tensors = False
    lower = True

    def forward(self, x, k=0):
        self.k = k
        return _triangle_copy(x, k, self.lower)

    def backward(self, g):
        return (_triangle_copy(g, self.k, self.lower),)

    def backward_graph(self, g):
        return (type(self).apply(g, k=self.k),)


class Triu(Tril):
    __slots__ = ()
    _name = "TriuBackward0"
    lower = False


def _triangle(op, name, input, diagonal):
    if input._data.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    return op.apply(input, k=int(diagonal))


def tril(input, diagonal=0):
    return _triangle(Tril, "tril", input, diagonal)


def triu(input, diagonal=0):
    return _triangle(Triu, "triu", input, diagonal)


def tril_(self, diagonal=0):
    return apply_inplace(self, lambda s: tril(s, diagonal))


def triu_(self, diagonal=0):
    return apply_inplace(self, lambda s: triu(s, diagonal))


def _indices(np_indices, row, col, offset, dtype, device):
    for name, n in (("row", row), ("col", col)):
        if n < 0:
            raise RuntimeError(f"{name} must be non-negative, got{n}")
    rows, cols = np_indices(row, offset, col)
    return tensor(np.stack([rows, cols]), dtype=dtypes.int64 if dtype is None else dtype, device=device)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    return _indices(np.tril_indices, row, col, offset, dtype, device)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    return _indices(np.triu_indices, row, col, offset, dtype, device)


class Diagonal(Op):
    __slots__ = ("axes", "in_shape", "offset")
    _name = "DiagonalBackward0"
    saves_tensors = False

    def forward(self, x, offset=0, axes=(0, 1)):
        self.offset, self.axes, self.in_shape = offset, axes, x.shape
        return diagonal_view(x, offset, *axes)

    def backward(self, g):
        out = xp_of(g).zeros(self.in_shape, dtype=g.dtype)
        diagonal_view(out, self.offset, *self.axes)[...] = g
        return (out,)

    def backward_graph(self, g):
        return (DiagEmbed.apply(g, offset=self.offset, axes=self.axes, shape=self.in_shape),)


def _two_dims(dim1, dim2, ndim):
    d1, d2 = wrap_dim(dim1, ndim), wrap_dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def diagonal(input, offset=0, dim1=0, dim2=1):
    axes = _two_dims(dim1, dim2, input._data.ndim)
    out = Diagonal.apply(input, offset=int(offset), axes=axes)
    return mark_view(out, input, lambda a: diagonal_view(a, offset, *axes))


_diagonal = diagonal  # for ``diag``, whose argument of that name hides it


class DiagEmbed(Op):
    """``x`` along a diagonal of zeros: a square one by default, or of ``shape`` (the gradient of
    ``diagonal``)."""

    __slots__ = ("axes", "offset")
    _name = "DiagEmbedBackward0"
    saves_tensors = False

    def forward(self, x, offset=0, axes=(0, 1), shape=None):
        self.offset, self.axes = offset, axes
        if shape is None:
            n = x.shape[-1] + abs(offset)
            lead = iter(x.shape[:-1])
            shape = tuple(n if i in axes else next(lead) for i in range(x.ndim + 1))
        out = xp_of(x).zeros(shape, dtype=x.dtype)
        diagonal_view(out, offset, *axes)[...] = x
        return out

    def backward(self, g):
        return (diagonal_view(g, self.offset, *self.axes).copy(),)

    def backward_graph(self, g):
        return (Diagonal.apply(g, offset=self.offset, axes=self.axes),)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    axes = _two_dims(dim1, dim2, input._data.ndim + 1)
    return DiagEmbed.apply(input, offset=int(offset), axes=axes)


def diag(input, diagonal=0):
    ndim = input._data.ndim
    if ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if ndim == 2:
        return clone(_diagonal(input, diagonal))
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {ndim}D")


def diagflat(input, offset=0):
    return diag_embed(reshape(input, (-1,)), offset, 0, 1)


# Integers and bools sum to int64, as PyTorch's trace does.
_INT64 = np.dtype("int64")
_add_reduce = np.add.reduce
_new = object.__new__
# The dtypes whose trace skips the node when nothing needs a gradient (what they sum in: None for their own),
# all of which autocast leaves alone; the others (float16, bfloat16, complex) take ``Trace.apply``.
_FAST_SUM_DTYPE = {np.dtype(np.float32): None, np.dtype(np.float64): None,
                   **dict.fromkeys(map(np.dtype, "?bhilqBHILQ"), _INT64)}
_GENERAL = object()


class Trace(Op):
    __slots__ = ("in_shape",)
    _name = "TraceBackward0"
    saves_tensors = False

    def forward(self, x):
        self.in_shape = x.shape
        return xp_of(x).asarray(x.diagonal().sum(dtype=_INT64 if x.dtype.kind in "biu" else x.dtype))

    def backward(self, g):
        out = xp_of(g).zeros(self.in_shape, dtype=g.dtype)
        xp_of(g).fill_diagonal(out, g)
        return (out,)

    def backward_graph(self, g):
        return (DiagEmbed.apply(expand(g, min(self.in_shape)), shape=self.in_shape),)


def trace(input):
    x = input._data
    if x.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x.ndim}")
    dt = _FAST_SUM_DTYPE.get(x.dtype, _GENERAL)
    if dt is not _GENERAL and untracked(input):
        # No node to record: the diagonal summed here, without ``Trace.apply``'s round (half the call at 1e3)
        t = _new(Tensor)
        t._data = np.asarray(_add_reduce(x.diagonal(), None, dt))
        t._device = CPU
        return t
    return Trace.apply(input)
