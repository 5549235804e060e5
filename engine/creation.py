"""Creating tensors: ``tensor``, ``from_numpy``, ``zeros``, ``rand``, ``arange``, the ``*_like`` forms, and
the legacy constructors (``Tensor(5, 3)``, ``FloatTensor``, ``LongTensor``, ...).

Factory functions given no ``device`` create on the default device (``set_default_device``), as PyTorch's do;
like PyTorch's, ``normal``, ``from_numpy``, the ``*_like`` and ``new_*`` forms and the legacy constructors do
not consult it."""

import copy as _copy
import math
import numbers
import operator
import warnings

import numpy as np

from . import backend, dtypes
from . import random as _random
from .backend import CPU, array_module, device, device_context, transfer
from .backend import factory_device as _device
from .tensor import Size, Tensor, make_tensor


def _explicit_device(dev):
    """The device of a creator that ignores the default device: ``dev``, else the CPU."""
    return CPU if dev is None else device(dev)


def _data_device(data):
    """Where ``tensor``/``as_tensor`` given no device put ``data``: on the default device, except that a
    tensor stays on its own device while the default is the CPU."""
    default = backend.get_default_device()
    if default is CPU and isinstance(data, Tensor):
        return data._device
    return default


def _on(dev, np_array):
    return np_array if dev is CPU else transfer(np_array, CPU, dev)


def _finish(data, dev, requires_grad):
    t = make_tensor(data, dev)
    if requires_grad:
        t.requires_grad = True
    return t


def _size_args(size):
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` alike."""
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s)
        if not isinstance(s, numbers.Integral) or isinstance(s, bool):
            raise TypeError(f"size must be a tuple of ints, but got an element of type {type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(int(s))
    return tuple(out)


def _infer_np_dtype(obj):
    """The dtype PyTorch infers for nested Python data: bool < int64 < default float."""
    category = -1
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor):
            dt = dtypes.from_numpy(item._data.dtype)
            category = max(category, 3 + dt.category) if dt.category == 2 else max(category, dt.category)
            if dt.category == 2 and item._data.dtype != dtypes.get_default_dtype().np:
                return None  # let NumPy promote the float tensors' own dtypes
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, (bool, np.bool_)):
            category = max(category, 0)
        elif isinstance(item, (numbers.Integral,)):
            category = max(category, 1)
        elif isinstance(item, numbers.Real):
            category = max(category, 2)
        elif isinstance(item, np.ndarray):
            return None
        else:
            raise TypeError(f"Could not infer dtype of {type(item).__name__}")
    if category < 0:
        return dtypes.get_default_dtype().np  # an empty list
    return (np.bool_, np.int64, dtypes.get_default_dtype().np, dtypes.get_default_dtype().np)[min(category, 3)]


def _to_host_nested(obj):
    if isinstance(obj, Tensor):
        return obj._host()
    if isinstance(obj, (list, tuple)):
        return [_to_host_nested(o) for o in obj]
    return obj


def _array_from_data(data, dtype):
    """A fresh host array of ``data`` (nested lists, scalars, arrays, tensors) in PyTorch's dtype."""
    if isinstance(data, np.ndarray):
        dtypes.from_numpy(data.dtype)  # rejects unsupported dtypes with PyTorch's message
        arr = np.array(data, dtype=None if dtype is None else dtype.np, copy=True)
    else:
        np_dt = dtype.np if dtype is not None else _infer_np_dtype(data)
        try:
            arr = np.array(_to_host_nested(data), dtype=np_dt)
        except ValueError as e:
            raise ValueError(f"expected sequence of equal-length sequences to build a tensor ({e})") from None
    if arr.dtype == object:
        raise TypeError("can't convert the given data into a tensor of numbers")
    if dtype is None and arr.dtype.kind == "f" and not isinstance(data, np.ndarray) and \
            _infer_np_dtype(data) is not None:
        arr = arr.astype(dtypes.get_default_dtype().np, copy=False)
    dtypes.from_numpy(arr.dtype)
    return arr


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data``."""
    if isinstance(data, Tensor):
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
            "sourceTensor.detach().clone().requires_grad_(True), rather than torch.tensor(sourceTensor).",
            UserWarning, stacklevel=2)
    dt = None if dtype is None else dtypes.to_dtype(dtype)
    dev = _device(device) if device is not None else _data_device(data)
    arr = _array_from_data(data, dt)
    if dev is not CPU:
        dtypes.check_device(dtypes.from_numpy(arr.dtype), dev)
    return _finish(_on(dev, arr), dev, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with a NumPy array or tensor when it can."""
    dt = None if dtype is None else dtypes.to_dtype(dtype)
    dev = _device(device) if device is not None else _data_device(data)
    if isinstance(data, Tensor):
        return data.to(device=dev, dtype=dt)
    if isinstance(data, np.ndarray) and (dt is None or dt.np == data.dtype) and dev is CPU:
        return from_numpy(data)
    return tensor(data, dtype=dt, device=dev)


def from_numpy(ndarray):
    """A CPU tensor that shares ``ndarray``'s memory."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    dtypes.from_numpy(ndarray.dtype)
    if not ndarray.dtype.isnative:
        raise ValueError("given numpy array has byte order different from the native byte order. "
                         "Conversion between byte orders is currently not supported.")
    return make_tensor(ndarray, CPU)


def _fill(shape, value, dtype, dev, requires_grad):
    dt = dtypes.to_dtype(dtype) if dtype is not None else None
    if dt is None:
        dt = dtypes.default_for_category(dtypes.scalar_category(value)) if not isinstance(value, float) \
            else dtypes.get_default_dtype()
    dtypes.check_device(dt, dev)
    with device_context(dev):
        data = array_module(dev).full(shape, value, dtype=dt.np)
    return _finish(data, dev, requires_grad)


def _creator(value):
    def create(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
        dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        return _fill(_size_args(size), value, dt, _device(device), requires_grad)

    return create


zeros = _creator(0)
ones = _creator(1)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None):
    dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    dev = _device(device)
    dtypes.check_device(dt, dev)
    with device_context(dev):
        data = array_module(dev).empty(_size_args(size), dtype=dt.np)
    return _finish(data, dev, requires_grad)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _fill(_size_args((size,)), fill_value, dtype, _device(device), requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    dev = _device(device)
    dtypes.check_device(dt, dev)
    with device_context(dev):
        data = array_module(dev).eye(n, n if m is None else m, dtype=dt.np)
    return _finish(data, dev, requires_grad)


def _random_creator(draw):
    def create(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
               pin_memory=False):
        dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        if not dt.is_floating_point:
            raise RuntimeError(f"\"{draw.__name__}\" not implemented for '{dt.name}'")
        dev = _device(device)
        dtypes.check_device(dt, dev)
        data = draw(_size_args(size), 0.0, 1.0, dev, generator, dt.np)
        return _finish(data, dev, requires_grad)

    return create


rand = _random_creator(_random.uniform_array)
randn = _random_creator(_random.normal_array)


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    if size is None and isinstance(high, (tuple, list, Size)):
        low, high, size = 0, low, high  # randint(high, size)
    elif high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.int64
    dev = _device(device)
    data = _random.integers_array(_size_args((size,)), low, high, dev, generator, dt.np)
    return _finish(data, dev, requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    if isinstance(n, (bool, float)):
        raise TypeError(f"randperm(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    n = operator.index(n)
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.int64
    dev = _device(device)
    data = _random.permutation_array(n, dev, generator).astype(dt.np, copy=False)
    return _finish(data, dev, requires_grad)


def normal(mean, std, size=None, *, generator=None, dtype=None, device=None):
    """The draws of every ``normal`` overload (tensor or float ``mean`` and ``std``; floats need ``size``), with no
    graph: ``engine.ops.sampling.normal`` adds the node that gives the parameters PyTorch's zero gradients."""
    params = [t for t in (mean, std) if isinstance(t, Tensor)]
    if not params:
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
        if size is None:
            raise TypeError("normal() missing required argument 'size'")
        dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        dev = _explicit_device(device)
        return make_tensor(_random.normal_array(_size_args((size,)), mean, std, dev, generator, dt.np), dev)
    arrays = [t._data for t in params]
    for a in arrays:
        if a.dtype.kind not in dtypes.FLOAT_KINDS:
            raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for '{dtypes.legacy_name(a.dtype)}'")
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    if s is std:
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    elif s.size and not s.min() >= 0:  # a NaN fails too
        raise RuntimeError("normal expects all elements of std >= 0.0")
    a, b = arrays[0], arrays[-1]
    np_dtype = a.dtype if a.dtype == b.dtype else np.result_type(a.dtype, b.dtype)
    shape = a.shape if a.shape == b.shape else _broadcast_shape(a.shape, b.shape)
    z = _random.paired_normal_array(shape, params[0]._device, generator, np_dtype)
    z *= s  # in place: the parameters' dtypes are at most the draw's
    z += m
    return make_tensor(z, params[0]._device)


def _broadcast_shape(*shapes):
    """NumPy's broadcast shape, refused with PyTorch's message."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        a, b = shapes
        for i, (x, y) in enumerate(zip(reversed(a), reversed(b)), 1):  # ``range`` here is torch.range
            if x != y and 1 not in (x, y):
                raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) "
                                   f"at non-singleton dimension {max(len(a), len(b)) - i}") from None
        raise


def _is_float_arg(*values):
    return any(isinstance(v, float) or (isinstance(v, Tensor) and v.is_floating_point()) for v in values)


def arange(start=0, end=None, step=1, *, out=None, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    dt = dtypes.to_dtype(dtype) if dtype is not None else (
        dtypes.get_default_dtype() if _is_float_arg(start, end, step) else dtypes.int64)
    n = max(math.ceil((end - start) / step), 0)
    dev = _device(device)
    data = (np.arange(n, dtype=np.float64) * step + start).astype(dt.np)
    return _finish(_on(dev, data), dev, requires_grad)


def range(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Deprecated in PyTorch: like ``arange`` but includes ``end``, and gives floats by default."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because its behavior "
                  "is inconsistent with Python's range builtin. Instead, use torch.arange, which produces "
                  "values in [start, end).", UserWarning, stacklevel=2)
    if end is None:
        start, end = 0, start
    dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    n = math.floor((end - start) / step) + 1
    dev = _device(device)
    data = (np.arange(max(n, 0), dtype=np.float64) * step + start).astype(dt.np)
    return _finish(_on(dev, data), dev, requires_grad)


def linspace(start, end, steps, *, out=None, dtype=None, device=None, requires_grad=False):
    dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    dev = _device(device)
    data = np.linspace(float(start), float(end), int(steps)).astype(dt.np)
    return _finish(_on(dev, data), dev, requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    dev = _device(device)
    data = np.logspace(float(start), float(end), int(steps), base=base).astype(dt.np)
    return _finish(_on(dev, data), dev, requires_grad)


def _like(fn):
    def create(input, *, dtype=None, device=None, requires_grad=False, memory_format=None, **kw):
        return fn(tuple(input.shape), dtype=dtype if dtype is not None else input.dtype,
                  device=device if device is not None else input._device, requires_grad=requires_grad, **kw)

    return create


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)
rand_like = _like(rand)
randn_like = _like(randn)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    return full(tuple(input.shape), fill_value, dtype=dtype if dtype is not None else input.dtype,
                device=device if device is not None else input._device, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False):
    return randint(low, high, tuple(input.shape), dtype=dtype if dtype is not None else input.dtype,
                   device=device if device is not None else input._device)


# ----- legacy constructors -----
def legacy_construct(args, dt, dev):
    """``Tensor(5, 3)`` (uninitialised), ``Tensor([1, 2])`` (data), ``Tensor(ndarray)``, ``Tensor(Size)``."""
    dev = _explicit_device(dev)
    if not args:
        return make_tensor(_on(dev, np.empty((0,), dtype=dt.np)), dev)
    if len(args) == 1:
        a = args[0]
        if isinstance(a, Size):
            return empty(*a, dtype=dt, device=dev)
        if isinstance(a, np.ndarray):
            if a.dtype == dt.np and dev is CPU:
                return from_numpy(a)
            return tensor(a, dtype=dt, device=dev)
        if isinstance(a, Tensor):
            return a.to(dtype=dt)
        if isinstance(a, (list, tuple)):
            return tensor(a, dtype=dt, device=dev)
    if all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args):
        return empty(*args, dtype=dt, device=dev)
    raise TypeError(f"new() received an invalid combination of arguments - got {tuple(type(a).__name__ for a in args)}")


_LEGACY = {
    "FloatTensor": dtypes.float32, "DoubleTensor": dtypes.float64, "HalfTensor": dtypes.float16,
    "LongTensor": dtypes.int64, "IntTensor": dtypes.int32, "ShortTensor": dtypes.int16,
    "CharTensor": dtypes.int8, "ByteTensor": dtypes.uint8, "BoolTensor": dtypes.bool_,
    "BFloat16Tensor": dtypes.bfloat16,
}
_LEGACY_BY_DTYPE = {dt.name: name for name, dt in _LEGACY.items()}


class _LegacyTypeMeta(type):
    """``isinstance(t, FloatTensor)`` checks dtype and device, as PyTorch's legacy types do."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj._data.dtype == cls.dtype.np and \
            (obj._device.type == "cuda") == cls.is_cuda

    def __call__(cls, *args, device=None):
        return legacy_construct(args, cls.dtype, device or ("cuda" if cls.is_cuda else None))


def _legacy_class(name, dt, is_cuda):
    return _LegacyTypeMeta(name, (), {"dtype": dt, "is_cuda": is_cuda})


FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor, ShortTensor, CharTensor, ByteTensor, \
    BoolTensor, BFloat16Tensor = (_legacy_class(name, dt, False) for name, dt in _LEGACY.items())
cuda_legacy_types = {name: _legacy_class(name, dt, True) for name, dt in _LEGACY.items()}


def legacy_type_name(t):
    prefix = "torch.cuda." if t._device.type == "cuda" else "torch."
    return prefix + _LEGACY_BY_DTYPE[t._data.dtype.name]


def legacy_type_dtype(spec):
    if isinstance(spec, str):
        name = spec.split(".")[-1]
        if name in _LEGACY:
            return _LEGACY[name]
        return dtypes.to_dtype(spec)
    if isinstance(spec, _LegacyTypeMeta):
        return spec.dtype
    return dtypes.to_dtype(spec)


def tensor_deepcopy(t, memo):
    """``copy.deepcopy`` of a leaf tensor: data, grad and attributes copied, graph state not."""
    if not t.is_leaf:
        raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                           "protocol at the moment.  If you were attempting to deepcopy a module, this may "
                           "be because of a torch.nn.utils.weight_norm usage, see "
                           "https://github.com/pytorch/pytorch/pull/103001")
    new = make_tensor(t._data.copy(), t._device)
    new.__class__ = t.__class__
    for key, value in t.__dict__.items():
        if key not in ("_data", "_device", "_grad", "_version_counter", "_base", "_view_fn", "_hooks",
                       "_grad_accumulator"):
            new.__dict__[key] = _copy.deepcopy(value, memo)
    if t._grad is not None:
        new._grad = tensor_deepcopy(t._grad, memo)
    memo[id(t)] = new
    return new


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(input):
    return input.numel()


# ----- Tensor methods (attached by engine._methods) -----
def tensor_init(self, *args, dtype=None, device=None):
    """``Tensor(5, 3)``, the legacy constructor."""
    src = legacy_construct(args, dtype or dtypes.get_default_dtype(), device)
    self._data = src._data
    self._device = src._device


def tensor_reduce_ex(self, protocol):
    return (tensor, (self._host().copy(),), None)


def tensor_type(self, dtype=None, non_blocking=False):
    if dtype is None:
        return legacy_type_name(self)
    return self.to(legacy_type_dtype(dtype))


def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    return tensor(data, dtype=dtype or self.dtype, device=device or self._device, requires_grad=requires_grad)


def _new_filled(self, fill, size, dtype, device, requires_grad):
    return full(_size_args(size), fill, dtype=dtype or self.dtype, device=device or self._device,
                requires_grad=requires_grad)


def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
    return _new_filled(self, 1, size, dtype, device, requires_grad)


def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
    return _new_filled(self, 0, size, dtype, device, requires_grad)


def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
    return _new_filled(self, fill_value, (size,), dtype, device, requires_grad)


def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
    return _new_filled(self, 0, size, dtype, device, requires_grad)
