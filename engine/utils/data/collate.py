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
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update({key: default_collate([d[key] for d in batch]) for key in elem})
                return clone
            return type(elem)({key: default_collate([d[key] for d in batch]) for key in elem})
        except TypeError:
            return {key: default_collate([d[key] for d in batch]) for key in elem}
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
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, samples in enumerate(transposed):
                    clone[i] = default_collate(samples)
                return clone
            return type(elem)([default_collate(samples) for samples in transposed])
        except TypeError:
            return [default_collate(samples) for samples in transposed]
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
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update({key: default_convert(data[key]) for key in data})
                return clone
            return type(data)({key: default_convert(data[key]) for key in data})
        except TypeError:
            return {key: default_convert(data[key]) for key in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
