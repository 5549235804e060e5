"""Copies between dtypes and devices (``to``, ``cuda``, ``cpu``, ``float()`` ...) and ``clone``."""

from .. import dtypes
from ..autograd.grad_mode import state as _grad_state
from ..backend import transfer
from .op import Op, link, make_tensor


class ToCopy(Op):
    __slots__ = ("src_device", "src_dtype")
    _name = "ToCopyBackward0"
    saves_tensors = False

    def forward(self, x):
        raise AssertionError("ToCopy is applied by to_copy()")

    def backward(self, g):
        if self.src_dtype is not None:
            g = g.astype(self.src_dtype)
        return (transfer(g, self._dst_device(g), self.src_device),)

    @staticmethod
    def _dst_device(g):
        from ..backend import device_of

        return device_of(g)


def to_copy(t, dev=None, dt=None, copy=False):
    """``t`` on device ``dev`` with dtype ``dt``; ``t`` itself when nothing changes and no copy is asked."""
    src_dev = t._device
    dev = src_dev if dev is None else dev
    np_dt = t._data.dtype if dt is None else dt.np
    if dev is src_dev and np_dt == t._data.dtype and not copy:
        return t
    data = transfer(t._data, src_dev, dev)
    if np_dt != data.dtype:
        data = data.astype(np_dt)
    elif copy and data is t._data:
        data = data.copy()
    if t._requires_grad and _grad_state.enabled and np_dt.kind == "f":
        node = object.__new__(ToCopy)
        node.src_device = src_dev
        node.src_dtype = t._data.dtype if np_dt != t._data.dtype else None
        return link(node, (t,), data, dev)
    return make_tensor(data, dev)


def cast(t, dt):
    """``t`` as dtype ``dt`` (an engine dtype), recorded in the graph when ``t`` needs a gradient."""
    return to_copy(t, None, dt)


def _caster(dt):
    def fn(self, memory_format=None):
        return to_copy(self, None, dt)

    return fn


float = _caster(dtypes.float32)
double = _caster(dtypes.float64)
half = _caster(dtypes.float16)
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


def clone(input, memory_format=None):
    return Clone.apply(input)


def type_as(input, other):
    return to_copy(input, None, other.dtype)
