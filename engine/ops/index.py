"""Indexing: ``t[...]`` (basic indexing gives a view; advanced and boolean indexing copy) and
``t[...] = value``, both differentiable."""

import numbers

import numpy as np

from ..backend import CPU, transfer
from .op import Op, Tensor, xp_of
from .shape import mark_view


def _convert_item(item, dev):
    if isinstance(item, Tensor):
        data = item._data
        if item._device is not dev:
            if item._data.ndim == 0 or item._device is CPU or dev is CPU:
                data = transfer(data, item._device, dev)
            else:
                raise RuntimeError(f"indices should be either on cpu or on the same device as the indexed "
                                   f"tensor ({dev})")
        if data.dtype.kind not in "biu":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return data
    if isinstance(item, (list, np.ndarray)) and not _is_basic(item):
        arr = np.asarray(item)
        if arr.dtype.kind not in "biu":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return arr if dev is CPU else transfer(arr, CPU, dev)
    if isinstance(item, slice):
        if item.step is not None and int(item.step) <= 0:
            raise ValueError("step must be greater than zero")
        return slice(*(None if v is None else _int(v) for v in (item.start, item.stop, item.step)))
    return item


def _int(v):
    return int(v) if isinstance(v, (Tensor, numbers.Integral)) else v


def _is_basic(item):
    return item is None or item is Ellipsis or (isinstance(item, (slice, numbers.Integral)) and \
        not isinstance(item, bool))


def normalize_index(index, dev):
    """An index as NumPy/CuPy understands it, and whether it is basic (so the result is a view)."""
    items = index if isinstance(index, tuple) else (index,)
    basic = all(_is_basic(i) or (isinstance(i, Tensor) and i._data.ndim == 0 and i._data.dtype.kind in "iu")
                for i in items)
    converted = tuple(_int(i) if isinstance(i, Tensor) and basic else _convert_item(i, dev) for i in items)
    return converted, basic


class Index(Op):
    __slots__ = ("basic", "index", "shape")
    _name = "IndexBackward0"
    saves_tensors = False

    def forward(self, x, index=(), basic=False):
        self.index, self.basic, self.shape = index, basic, x.shape
        return x[index]

    def backward(self, g):
        xp = xp_of(g)
        out = xp.zeros(self.shape, dtype=g.dtype)
        if self.basic:
            out[self.index] = g
        else:
            xp.add.at(out, self.index, g)
        return (out,)


class Slice(Index):
    __slots__ = ()
    _name = "SliceBackward0"


class Select(Index):
    __slots__ = ()
    _name = "SelectBackward0"


def getitem(input, index):
    items = index if isinstance(index, tuple) else (index,)
    if input._data.ndim == 0 and not all(i is None or i is Ellipsis for i in items):
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                             "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
    idx, basic = normalize_index(index, input._device)
    try:
        if basic:
            op = Select if any(isinstance(i, numbers.Integral) for i in idx) else Slice
            out = op.apply(input, index=idx, basic=True)
            return mark_view(out, input, lambda a: a[idx])
        return Index.apply(input, index=idx, basic=False)
    except IndexError as e:
        raise IndexError(str(e).replace("out of bounds for axis", "out of bounds for dimension")) from None


class IndexPut(Op):
    """``x[index] = value`` computed out of place: the new ``x`` with the value written in."""

    __slots__ = ("basic", "index", "value_shape")
    _name = "IndexPutBackward0"
    saves_tensors = False

    def forward(self, x, value, index=(), basic=False):
        self.index, self.basic, self.value_shape = index, basic, value.shape
        out = x.copy()
        out[index] = value
        return out

    def backward(self, g):
        ex, ev = self._edges
        gx = gv = None
        if ex is not None:
            gx = g.copy()
            gx[self.index] = 0
        if ev is not None:
            from .op import unbroadcast

            picked = g[self.index]
            gv = unbroadcast(picked, self.value_shape) if picked.shape != self.value_shape else picked
        return gx, gv


class CopySlices(IndexPut):
    __slots__ = ()
    _name = "CopySlices"


def index_put_out_of_place(x, value, index, basic):
    """The tensor ``x`` with ``value`` written at ``index``, as a node of the graph."""
    return (CopySlices if basic else IndexPut).apply(x, value, index=index, basic=basic)
