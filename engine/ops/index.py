"""Indexing: ``t[...]`` (basic indexing gives a view; advanced and boolean indexing copy) and
``t[...] = value``, both differentiable."""

import numbers

import numpy as np

from ..backend import CPU, transfer
from ..tensor import Tensor
from .op import Op, sum_to, unbroadcast, xp_of
from .shape import mark_view


def _convert_item(item, dev):
    if isinstance(item, Tensor):
        data = item._data
        if item._device is not dev:
            if item._data.ndim == 0 or item._device is CPU:
                data = transfer(data, item._device, dev)
            else:
                raise RuntimeError(f"indices should be either on cpu or on the same device as the indexed "
                                   f"tensor ({dev})")
        if data.dtype.kind not in "biu":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return data
    if isinstance(item, (list, np.ndarray)) and not _is_basic(item):
        arr = np.asarray(item)
        if arr.size == 0 and arr.dtype.kind == "f":
            arr = arr.astype(np.int64)  # x[[]] selects nothing
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


def _dims_used(item):
    if item is None or item is Ellipsis:
        return 0
    if isinstance(item, (np.ndarray,)) or hasattr(item, "dtype"):
        return item.ndim if item.dtype.kind == "b" else 1
    return 1


def _check_index(items, shape):
    """PyTorch's errors for too many indices and for boolean masks of the wrong shape."""
    used = sum(_dims_used(i) for i in items)
    if used > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    dim = 0
    for position, item in enumerate(items):
        if item is Ellipsis:
            dim += len(shape) - used
            continue
        if hasattr(item, "dtype") and item.dtype.kind == "b" and item.ndim:
            target = shape[dim:dim + item.ndim]
            if tuple(item.shape) != tuple(target):
                raise IndexError(f"The shape of the mask {list(item.shape)} at index {position} does not match the "
                                 f"shape of the indexed tensor {list(shape)} at index {dim}")
        dim += _dims_used(item)


def _select_ints_first(items, ndim):
    """PyTorch applies integer indices as selections before advanced indexing (NumPy would treat them as
    advanced indices and move the result's axes): split the index into those two steps."""
    used = sum(_dims_used(i) for i in items)
    expanded = []
    for item in items:
        if item is Ellipsis:
            expanded.extend([slice(None)] * (ndim - used))
        else:
            expanded.append(item)
    first, second = [], []
    for item in expanded:
        if isinstance(item, numbers.Integral):
            first.append(item)
        elif item is None:
            first.append(None)
            second.append(slice(None))
        else:
            n = _dims_used(item)
            first.extend([slice(None)] * n)
            second.append(item)
    return tuple(first), tuple(second)


def normalize_index(index, shape, dev):
    """The index as steps NumPy/CuPy apply in turn, and whether it is basic (so the result is a view)."""
    items = index if isinstance(index, tuple) else (index,)
    items = tuple(None if i is True else i for i in items)  # x[True] adds a dimension, like x[None]
    basic = all(_is_basic(i) or (isinstance(i, Tensor) and i._data.ndim == 0 and i._data.dtype.kind in "iu")
                for i in items)
    converted = tuple(_int(i) if isinstance(i, Tensor) and basic else _convert_item(i, dev) for i in items)
    _check_index(converted, shape)
    if not basic and any(isinstance(i, numbers.Integral) for i in converted):
        return _select_ints_first(converted, len(shape)), basic
    return (converted,), basic


def take(array, steps):
    for step in steps:
        array = array[step]
    return array


def _target(array, steps):
    """A view of ``array`` through every step but the last, and that last step."""
    for step in steps[:-1]:
        array = array[step]
    return array, steps[-1]


def put(array, steps, value):
    target, last = _target(array, steps)
    try:
        target[last] = value
    except ValueError:
        shape = target[last].shape
        vshape = getattr(value, "shape", ())
        lead = len(shape) - len(vshape)
        for i, (s, v) in enumerate(zip(shape[lead:], vshape)):
            if v not in (1, s):
                raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size ({v}) at "
                                   f"non-singleton dimension {i + lead}.  Target sizes: {list(shape)}.  Tensor "
                                   f"sizes: {list(vshape)}") from None
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(vshape)} cannot be broadcast to indexing "
                           f"result of shape {list(shape)}") from None


def add_at(array, steps, values):
    target, last = _target(array, steps)
    xp_of(array).add.at(target, last, values)


class Index(Op):
    __slots__ = ("basic", "index", "shape")
    _name = "IndexBackward0"
    saves_tensors = False

    def forward(self, x, index=(), basic=False):
        self.index, self.basic, self.shape = index, basic, x.shape
        return take(x, index)

    def backward(self, g):
        out = xp_of(g).zeros(self.shape, dtype=g.dtype)
        if self.basic:
            put(out, self.index, g)
        else:
            add_at(out, self.index, g)
        return (out,)

    def backward_graph(self, g):
        return (placed(g, self.shape, self.index, self.basic),)


class Slice(Index):
    __slots__ = ()
    _name = "SliceBackward0"


class Select(Index):
    __slots__ = ()
    _name = "SelectBackward0"


def getitem(input, index):
    items = index if isinstance(index, tuple) else (index,)
    if input._data.ndim == 0 and any(_is_basic(i) and i is not None and i is not Ellipsis for i in items):
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                             "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
    steps, basic = normalize_index(index, input._data.shape, input._device)
    try:
        if basic:
            op = Select if any(isinstance(i, numbers.Integral) for i in steps[0]) else Slice
            out = op.apply(input, index=steps, basic=True)
            return mark_view(out, input, lambda a: take(a, steps))
        return Index.apply(input, index=steps, basic=False)
    except IndexError as e:
        raise IndexError(str(e).replace("out of bounds for axis", "out of bounds for dimension")) from None


class IndexPut(Op):
    """``x[index] = value`` computed out of place: the new ``x`` with the value written in (added in with
    ``accumulate``, repeated positions adding up, as ``index_put(accumulate=True)``)."""

    __slots__ = ("accumulate", "basic", "index", "value_shape")
    _name = "IndexPutBackward0"
    saves_tensors = False

    def forward(self, x, value, index=(), basic=False, accumulate=False):
        self.index, self.basic, self.value_shape, self.accumulate = index, basic, value.shape, accumulate
        out = x.copy()
        (add_at if accumulate else put)(out, index, value)
        return out

    def backward(self, g):
        ex, ev = self._edges
        gx = gv = None
        if ex is not None:
            gx = g.copy()
            if not self.accumulate:
                put(gx, self.index, 0)
        if ev is not None:
            picked = take(g, self.index)
            gv = unbroadcast(picked, self.value_shape) if picked.shape != self.value_shape else picked
        return gx, gv

    def backward_graph(self, g):
        ex, ev = self._edges
        gx = gv = None
        if ex is not None:
            gx = g
            if not self.accumulate:
                zero = g.new_zeros(())
                gx = IndexPut.apply(g, zero, index=self.index, basic=self.basic)
        if ev is not None:
            gv = sum_to(Index.apply(g, index=self.index, basic=self.basic), self.value_shape)
        return gx, gv


def placed(value, shape, steps, basic):
    """Zeros of ``shape`` with tensor ``value`` written at index ``steps`` (added up where an advanced index
    repeats a position): the gradient of reading ``steps``, differentiable."""
    zeros = value.new_zeros(shape)
    return IndexPut.apply(zeros, value, index=steps, basic=basic, accumulate=not basic)


class CopySlices(IndexPut):
    __slots__ = ()
    _name = "CopySlices"
