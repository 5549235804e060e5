"""Copies between dtypes and devices (``to``, ``cuda``, ``cpu``, ``float()`` ...) and ``clone``.

The copy itself is ``op.to_copy``; these are the Tensor methods and argument parsing around it.
"""

import builtins

from .. import dtypes
from ..backend import CPU, device
from ..tensor import Tensor
from .op import Op, to_copy


def to(self, *args, **kwargs):
    """``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(other)``; ``copy=``, ``non_blocking=``."""
    dev, dt, copy = parse_to(args, kwargs)
    return to_copy(self, dev, dt, copy)


def cuda(self, device=None, non_blocking=False):
    return to(self, cuda_device(device))


def cpu(self):
    return to(self, CPU)


def cast(t, dt):
    """``t`` as dtype ``dt`` (an engine dtype), recorded in the graph when ``t`` needs a gradient."""
    return to_copy(t, None, dt)


def promote_pair(a, b):
    """Tensors ``a`` and ``b`` in their common dtype by PyTorch's promotion, as its binary ops take them."""
    ad, bd = a._data.dtype, b._data.dtype
    if ad == bd:
        return a, b
    target = dtypes.result_type(dtypes.from_numpy(ad), a._data.ndim, dtypes.from_numpy(bd), b._data.ndim)
    return cast(a, target), cast(b, target)


def _caster(dt):
    def fn(self, memory_format=None):
        return to_copy(self, None, dt)

    return fn


float = _caster(dtypes.float32)
double = _caster(dtypes.float64)
half = _caster(dtypes.float16)
bfloat16 = _caster(dtypes.bfloat16)
long = _caster(dtypes.int64)
int = _caster(dtypes.int32)
short = _caster(dtypes.int16)
char = _caster(dtypes.int8)
byte = _caster(dtypes.uint8)
bool = _caster(dtypes.bool_)


class Clone(Op):
    __slots__ = ()
    _name = "CloneBackward0"
    saves_tensors = False

    def forward(self, x):
        return x.copy()

    def backward(self, g):
        return (g,)

    backward_graph = backward


def clone(input, memory_format=None):
    return Clone.apply(input)


def type_as(input, other):
    return to_copy(input, None, other.dtype)


def cuda_device(index):
    """The device ``Tensor.cuda(index)`` and ``Module.cuda(index)`` mean."""
    if index is None:
        return device("cuda")  # the current CUDA device
    if isinstance(index, device):
        return index
    if isinstance(index, str):
        return device(index)
    return device("cuda", builtins.int(index))


def parse_to(args, kwargs):
    """``(device, dtype, copy)`` from the arguments of ``Tensor.to`` and ``Module.to``."""
    dev = kwargs.pop("device", None)
    dt = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            dev, dt = a._device, a.dtype
        elif isinstance(a, dtypes.dtype) or a in (builtins.float, builtins.int, builtins.bool):
            dt = a
        elif isinstance(a, (device, str, builtins.int)) and not isinstance(a, builtins.bool):
            dev = a
        elif isinstance(a, builtins.bool):
            kwargs["non_blocking"] = a
        else:
            raise TypeError(f"to() received an invalid combination of arguments: {a!r}")
    if dev is not None:
        dev = cuda_device(dev) if isinstance(dev, builtins.int) else device(dev)
    if dt is not None:
        dt = dtypes.to_dtype(dt)
    return dev, dt, copy
