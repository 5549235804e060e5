"""``Op``: the base of every built-in differentiable operation, and how one is applied to tensors.

An op's ``forward`` and ``backward`` work on raw arrays of the tensors' device (NumPy or CuPy), so one
body serves both. ``forward`` runs on the node instance itself and keeps on it what ``backward``
needs; when no input requires grad the node is simply dropped. ``to_copy`` (the graph-recorded copy
between dtypes and devices) lives here too, because ``Op.apply`` uses it to bring a CPU scalar to the
device of the other inputs.
"""

import numpy as np

from .. import backend, dtypes
from ..autocast_state import state as _autocast
from ..autograd.anomaly import check_forward
from ..autograd.anomaly import state as _anomaly
from ..autograd.grad_mode import state as _grad_state
from ..autograd.graph import Node, link
from ..backend import CPU, array_module, choose, device_context, device_of, is_host, transfer
from ..tensor import Tensor, make_tensor
from ..threads import cpu_binary
from . import binary_kernels

_new = object.__new__
_release_names = {}
# op class -> its subclass that computes bfloat16 in float32 and rounds (filled by ``engine.amp.opmath``, which
# ``Op.apply`` cannot import: the amp package imports the ops)
in_float32 = {}


class Op(Node):
    __slots__ = ()
    # Which tensors backward reads back, for the in-place check: 1 inputs, 2 output, 3 both.
    saves = 0
    # An op with several implementations (``backend.Implementation``) lists them here, fastest first;
    # ``apply`` records the one that runs a call as ``_impl``, whose forward and backward then serve it.
    implementations = ()
    _impl = None

    def forward(self, *arrays, **options):
        return self._impl.forward(self, *arrays, **options)

    def backward(self, *grads):
        return self._impl.backward(self, *grads)

    def release(self):
        """Free saved arrays: an op keeps what backward needs in its public slots, which we clear."""
        if self.saves_tensors:
            cls = type(self)
            names = _release_names.get(cls)
            if names is None:
                names = _release_names[cls] = tuple(
                    slot for klass in cls.__mro__ for slot in klass.__dict__.get("__slots__", ())
                    if not slot.startswith("_"))
            for name in names:
                setattr(self, name, None)
            self._freed = True

    @classmethod
    def apply(cls, *inputs, **options):
        """Run the op on tensors ``inputs`` (all on one device); ``options`` go to forward as is."""
        if _autocast.active:
            inputs = _autocast.cast_inputs(cls, inputs)
        node = _new(cls)
        x = inputs[0]
        dev = x._device
        needs_grad = x._requires_grad
        if len(inputs) == 1:
            arrays = (x._data,)
        else:
            mixed = False
            for t in inputs:
                if t._device is not dev:
                    mixed = True
                if t._requires_grad:
                    needs_grad = True
            if mixed:
                dev = common_device(inputs)
                inputs = [t if t._device is dev else _moved(t, dev) for t in inputs]
                arrays = [t._data for t in inputs]
            else:
                arrays = [t._data for t in inputs]
        if cls in in_float32 and arrays[0].dtype.kind == "V":  # bfloat16 into an accumulating op
            node = _new(in_float32[cls])
        if cls.implementations:
            node._impl = choose(cls.implementations, arrays, options)
        try:
            if dev is CPU:
                out = node.forward(*arrays, **options)
            else:
                with device_context(dev):
                    out = node.forward(*arrays, **options)
        except ValueError as e:
            raise translate_array_error(e, arrays) from None
        if _anomaly.enabled:
            check_forward(node, inputs, out)
        if needs_grad and _grad_state.enabled:
            return link(node, inputs, out, dev)
        if is_host(out):
            t = _new(Tensor)
            t._data = out
            t._device = dev
            return t
        if out.__class__ is tuple:
            return tuple([make_tensor(o, dev) for o in out])
        return make_tensor(out, dev)


def untracked(*tensors):
    """Whether an op on ``tensors`` may compute its result straight away, without a node and ``Op.apply`` (about
    a microsecond, half of a small call): all on the CPU, no gradient recorded, autocast off, and no implementation
    preferred or disabled (tests and benchmarks steer implementations through ``backend``). Such a shortcut must
    compute what the node's forward would, with the implementation ``backend.choose`` would pick; dtypes that an
    op computes otherwise (bfloat16 widened to float32) are the caller's to leave out."""
    if _autocast.active or backend._preferred or backend._disabled or _anomaly.enabled:
        return False
    recording = _grad_state.enabled
    for t in tensors:  # noqa: SIM110 (all() over a generator costs more than these checks)
        if t._device is not CPU or (recording and t._requires_grad):
            return False
    return True


def autocast_inputs(cls, *tensors):
    """``tensors`` as autocast will run op ``cls`` on them, for a wrapper that checks dtypes before
    ``cls.apply`` (which casts them again, at no cost): PyTorch casts before its kernels check."""
    return _autocast.cast_inputs(cls, tensors) if _autocast.active else tensors


def _moved(t, dev):
    """A CPU scalar tensor joining an op on another device, copied there in the graph (so its gradient
    comes back to the CPU)."""
    return to_copy(t, dev)


class ToCopy(Op):
    """The node of a copy to another dtype or device (made by ``to_copy``, not ``apply``): backward casts
    and moves the gradient back."""

    __slots__ = ("src_device", "src_dtype")
    _name = "ToCopyBackward0"
    saves_tensors = False

    def backward(self, g):
        if self.src_dtype is not None:
            g = g.astype(self.src_dtype)
        return (transfer(g, device_of(g), self.src_device),)

    def backward_graph(self, g):
        return (to_copy(g, self.src_device, None if self.src_dtype is None else dtypes.from_numpy(self.src_dtype)),)


def to_copy(t, dev=None, dt=None, copy=False):
    """``t`` on device ``dev`` with dtype ``dt``; ``t`` itself when nothing changes and no copy is asked."""
    src_dev = t._device
    dev = src_dev if dev is None else dev
    np_dt = t._data.dtype if dt is None else dt.np
    if dev is src_dev and np_dt == t._data.dtype and not copy:
        return t
    if dev is not CPU:
        dtypes.check_device(dtypes.from_numpy(np_dt), dev)
    data = transfer(t._data, src_dev, dev)
    with device_context(dev):
        if np_dt != data.dtype:
            data = data.astype(np_dt)
        elif copy and data is t._data:
            data = data.copy()
    if t._requires_grad and _grad_state.enabled and np_dt.kind in dtypes.FLOAT_KINDS:
        node = _new(ToCopy)
        node.src_device = src_dev
        node.src_dtype = t._data.dtype if np_dt != t._data.dtype else None
        return link(node, (t,), data, dev)
    return make_tensor(data, dev)


def compute(fn, *tensors, **options):
    """Run a non-differentiable array function on tensors of one device; the result has no graph."""
    dev = tensors[0]._device
    arrays = [t._data for t in tensors]
    for t in tensors:
        if t._device is not dev:
            dev = common_device(tensors)
            arrays = [transfer(t._data, t._device, dev) for t in tensors]
            break
    try:
        if dev is CPU:
            out = fn(*arrays, **options)
        else:
            with device_context(dev):
                out = fn(*arrays, **options)
    except ValueError as e:
        raise translate_array_error(e, arrays) from None
    if isinstance(out, tuple):
        return tuple(make_tensor(o, dev) for o in out)
    return make_tensor(out, dev)


def translate_array_error(err, arrays):
    """NumPy's broadcasting ValueError as PyTorch's RuntimeError, naming the sizes and the dimension."""
    if "broadcast" not in str(err):
        return RuntimeError(str(err))
    shapes = [a.shape for a in arrays if hasattr(a, "shape")]
    if len(shapes) < 2:
        return RuntimeError(str(err))
    return broadcast_mismatch(shapes[0], shapes[1]) or RuntimeError(str(err))


def broadcast_mismatch(a, b):
    """PyTorch's error for shapes ``a`` and ``b`` that do not broadcast, or None when they do."""
    n = max(len(a), len(b))
    for i in range(1, n + 1):
        sa = a[-i] if i <= len(a) else 1
        sb = b[-i] if i <= len(b) else 1
        if sa != sb and sa != 1 and sb != 1:
            return RuntimeError(f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) at "
                                f"non-singleton dimension {n - i}")
    return None


def broadcast_shape(a, b):
    """The shape that shapes ``a`` and ``b`` broadcast to, or PyTorch's error where they do not."""
    error = broadcast_mismatch(a, b)
    if error is not None:
        raise error
    return tuple(np.broadcast_shapes(a, b))


def check_in_place_broadcast(out, other):
    """PyTorch's errors for an in-place op on an output of shape ``out`` with an operand of shape ``other``: shapes
    that do not broadcast, or an operand that would widen the output."""
    wide = broadcast_shape(out, other)
    if wide != tuple(out):
        raise RuntimeError(f"output with shape {list(out)} doesn't match the broadcast shape {list(wide)}")


def common_device(tensors):
    """The device of a mixed list of tensors; CPU 0-dim tensors may join others, as in PyTorch."""
    dev = None
    for t in tensors:
        if t._device is CPU and t._data.ndim == 0:
            continue
        if dev is None:
            dev = t._device
        elif t._device is not dev:
            raise RuntimeError(
                "Expected all tensors to be on the same device, but found at least two devices, "
                f"{dev} and {t._device}!"
            )
    return CPU if dev is None else dev


def binary(ufunc, a, b):
    """``ufunc(a, b)`` for arrays of any device; large CPU work is spread over threads."""
    if is_host(a):
        if binary_kernels.applies(ufunc, a, b):
            return binary_kernels.compute(ufunc, a, b)
        return cpu_binary(ufunc, a, b)
    return ufunc(a, b)


def xp_of(array):
    """The array module (NumPy, CuPy or its stand-in) that ``array`` belongs to."""
    if is_host(array):
        return np
    return array_module(device_of(array))


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``, undoing NumPy broadcasting."""
    if grad.shape == shape:
        return grad
    ndim = len(shape)
    extra = grad.ndim - ndim
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def sum_to(g, shape):
    """``unbroadcast`` for gradient tensors in a double backward: ``g`` summed down to ``shape``."""
    shape = tuple(shape)
    if tuple(g.shape) == shape:
        return g
    extra = g.ndim - len(shape)
    if extra:
        g = g.sum(tuple(range(extra)))
    dims = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    if dims:
        g = g.sum(dims, keepdim=True)
    return g.reshape(shape)


def write_out(result, out, name):
    """``result`` written into ``out`` as PyTorch's ``out=`` does (resized when its shape differs, version
    bumped), or ``result`` itself when ``out`` is None; ``name`` is the op's, for PyTorch's messages."""
    if out is None:
        return result
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if result._requires_grad:
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    if out._data.shape != result._data.shape:
        out._data = result._data.astype(out._data.dtype, copy=True)
    else:
        out._data[...] = result._data
    out._bump_version()
    return out
