"""Merging samples into a batch: ``default_collate`` and ``default_convert``, as PyTorch's."""

import collections.abc
import copy

import numpy as np

from ...backend import CPU
from ...creation import tensor as _tensor
from ...ops.shape import stack as _stack
from ...tensor import Tensor, make_tensor


def _cpu_plain(t):
    return t._device is CPU and not t._requires_grad


default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def _is_string_dtype(dtype):
    return dtype.kind in "USOV"


def _stack_tensors(batch):
    if all(isinstance(t, Tensor) and _cpu_plain(t) for t in batch):
        shape = batch[0]._data.shape
        dtype = batch[0]._data.dtype
        if all(t._data.shape == shape and t._data.dtype == dtype for t in batch):
            return make_tensor(np.stack([t._data for t in batch]), CPU)
    return _stack(batch, 0)


def default_collate(batch):
    """Merge a list of samples into a batch, as ``torch.utils.data.default_collate``.

    Tensors are stacked; NumPy arrays and NumPy scalars become tensors; Python floats a float64 tensor,
    ints an int64 tensor (bools a bool tensor); strings stay a list; mappings, namedtuples and
    sequences are collated element-wise (a tuple becomes a list, as in PyTorch).
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack_tensors(batch)
    if isinstance(elem, np.ndarray):
        if _is_string_dtype(elem.dtype):
            raise TypeError(default_collate_err_msg_format.format(elem.dtype))
        if all(isinstance(b, np.ndarray) and b.shape == elem.shape and b.dtype == elem.dtype for b in batch):
            arr = np.stack(batch)
            if arr.dtype.isnative:
                return make_tensor(arr, CPU)
        return default_collate([_tensor(b) for b in batch])
    if isinstance(elem, np.generic):
        if _is_string_dtype(elem.dtype):
            raise TypeError(default_collate_err_msg_format.format(elem.dtype))
        return make_tensor(np.array(batch), CPU)
    if isinstance(elem, float):
        return make_tensor(np.array(batch, dtype=np.float64), CPU)
    if isinstance(elem, bool):
        return _tensor(batch)
    if isinstance(elem, int):
        if all(type(b) is int for b in batch):
            return make_tensor(np.array(batch, dtype=np.int64), CPU)
        return _tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _mapping_like(elem, lambda key: default_collate([d[key] for d in batch]))
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(samples)) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(e) == elem_size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = [list(samples) for samples in zip(*batch)]
        if isinstance(elem, tuple):
            return [default_collate(samples) for samples in transposed]
        return _sequence_like(elem, transposed, default_collate)
    raise TypeError(default_collate_err_msg_format.format(type(elem)))


def default_convert(data):
    """Convert NumPy arrays (not strings) in ``data`` to tensors, recursively; used without batching."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        if _is_string_dtype(data.dtype):
            return data
        return _tensor(data) if not data.dtype.isnative else make_tensor(data, CPU)
    if isinstance(data, np.generic):
        if _is_string_dtype(data.dtype):
            return data
        return make_tensor(np.asarray(data), CPU)
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        return _mapping_like(data, lambda key: default_convert(data[key]))
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence):
        return _sequence_like(data, data, default_convert)
    return data


def _mapping_like(mapping, value_of):
    """``{key: value_of(key)}`` for the keys of ``mapping``, as its own type where that can be built (a copy of
    it, updated, when mutable), else as a dict."""
    try:
        if isinstance(mapping, collections.abc.MutableMapping):
            clone = copy.copy(mapping)
            clone.update({key: value_of(key) for key in mapping})
            return clone
        return type(mapping)({key: value_of(key) for key in mapping})
    except TypeError:
        return {key: value_of(key) for key in mapping}


def _sequence_like(sequence, items, convert):
    """``[convert(item) for item in items]`` as the type of ``sequence`` where that can be built (a copy of it,
    filled in, when mutable), else as a list."""
    try:
        if isinstance(sequence, collections.abc.MutableSequence):
            clone = copy.copy(sequence)
            for i, item in enumerate(items):
                clone[i] = convert(item)
            return clone
        return type(sequence)([convert(item) for item in items])
    except TypeError:
        return [convert(item) for item in items]
