"""Boolean masks: ``masked_fill``, ``masked_select``, ``masked_scatter`` (with in-place variants), and
where a mask is true: ``nonzero`` and ``argwhere``.

Out-of-place forms broadcast the tensor and its mask together; in-place ones only the mask, to the
tensor's shape. ``masked_fill`` is ``where`` with the value in the tensor's dtype, and ``masked_select``
boolean indexing, so they share those ops' gradients.
"""

import numpy as np

from .. import dtypes
from ..backend import CPU
from ..tensor import make_tensor
from . import masked_kernels
from .elementwise import Where, where
from .index import Index, getitem, placed
from .op import Op, broadcast_shape, check_in_place_broadcast, compute, unbroadcast, xp_of
from .scatter import fill_value, inplace_with, on_device
from .shape import expand


def _expanded(t, shape):
    return t if tuple(t._data.shape) == shape else expand(t, shape)


def _mask(mask, input, message, lower=False):
    """``mask`` on ``input``'s device, after PyTorch's dtype check (``message`` names the wrong dtype)."""
    if mask._data.dtype.kind != "b":
        name = dtypes.legacy_name(mask._data.dtype)
        raise RuntimeError(message.format(name.lower() if lower else name))
    return on_device(mask, input._device)


class MaskedFill(Where):
    """``where(mask, value, input)`` under PyTorch's name, whose backward computes only the gradients asked
    for: a fill value without one (a Python number, the usual case) skips a masked pass and a reduction over
    the whole output."""

    __slots__ = ()
    _name = "MaskedFillBackward0"

    def backward(self, g):
        ev, ex = self._edges
        cond, zero, xp = self.cond, g.dtype.type(0), xp_of(g)
        return (None if ev is None else unbroadcast(xp.where(cond, g, zero), self.sa),
                None if ex is None else unbroadcast(xp.where(cond, zero, g), self.sb))


def masked_fill(input, mask, value):
    mask = _mask(mask, input, "masked_fill_ only supports boolean masks, but got mask with dtype {}", lower=True)
    value = fill_value(value, input, "masked_fill_")
    if value._device is not input._device:  # where() takes a CPU value to the input's device
        return where(mask, value, input)
    return MaskedFill.apply(value, input, cond=mask._data)


def masked_fill_(self, mask, value):
    check_in_place_broadcast(self._data.shape, mask._data.shape)
    return inplace_with(self, lambda s, v: masked_fill(s, mask, v), value)


def masked_select(input, mask):
    mask = _mask(mask, input, "masked_select: expected BoolTensor for mask")
    if input._data.shape == mask._data.shape:  # boolean indexing without getitem's parsing of the index
        return Index.apply(input, index=((mask._data,),), basic=False)
    shape = broadcast_shape(input._data.shape, mask._data.shape)
    return getitem(_expanded(input, shape), _expanded(mask, shape))


class MaskedScatter(Op):
    __slots__ = ("count", "mask", "source_shape")
    _name = "MaskedScatterBackward0"
    saves_tensors = False

    def forward(self, x, source, mask=None):
        count = int(mask.sum())
        if count > source.size:
            raise RuntimeError("Number of elements of source < number of ones in mask")
        self.mask, self.count, self.source_shape = mask, count, source.shape
        out = x.copy()
        out[mask] = source.reshape(-1)[:count]
        return out

    def backward(self, g):
        xp = xp_of(g)
        gx = xp.where(self.mask, 0, g).astype(g.dtype)
        gs = None
        if self._edges[1] is not None:
            gs = xp.zeros(int(np.prod(self.source_shape)), dtype=g.dtype)
            gs[:self.count] = g[self.mask]
            gs = gs.reshape(self.source_shape)
        return gx, gs

    def backward_graph(self, g):
        data = g._data
        gx = g * (~self.mask).astype(data.dtype)
        gs = None
        if self._edges[1] is not None:
            gs = Index.apply(g, index=((self.mask,),), basic=False)
            size = int(np.prod(self.source_shape))
            if self.count < size:
                gs = placed(gs, (size,), ((slice(0, self.count),),), True)
            gs = gs.reshape(self.source_shape)
        return gx, gs


def masked_scatter(input, mask, source):
    mask = _mask(mask, input, "masked_scatter_ only supports boolean masks, but got mask with dtype {}")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got"
                           f"{dtypes.legacy_name(input._data.dtype)} and {dtypes.legacy_name(source._data.dtype)}")
    shape = broadcast_shape(input._data.shape, mask._data.shape)
    mask = _expanded(mask, shape)
    return MaskedScatter.apply(_expanded(input, shape), source, mask=mask._data)


def masked_scatter_(self, mask, source):
    check_in_place_broadcast(self._data.shape, mask._data.shape)
    return inplace_with(self, lambda s, t: masked_scatter(s, mask, t), source)


def _nonzero_rows(a):
    xp = xp_of(a)
    if a.ndim == 0:
        return xp.zeros((int(a != 0), 0), dtype=np.int64)
    if masked_kernels.takes(a):
        return masked_kernels.nonzero_rows(a)
    return xp.stack(xp.nonzero(a), axis=1).astype(np.int64, copy=False)


def _nonzero_columns(a):
    return tuple(i.astype(np.int64, copy=False) for i in xp_of(a).nonzero(a.reshape(-1) if a.ndim == 0 else a))


def nonzero(input, *, as_tuple=False):
    if input._device is CPU and not as_tuple:  # no device to enter: ``compute``'s checks cost a tenth at 1e3
        return make_tensor(_nonzero_rows(input._data))
    return compute(_nonzero_columns if as_tuple else _nonzero_rows, input)


def argwhere(input):
    return compute(_nonzero_rows, input)
